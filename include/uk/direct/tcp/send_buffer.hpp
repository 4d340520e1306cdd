// The send buffer: bytes the application wrote that the peer has not yet
// acknowledged, in a ring allocated once. Its front is SND.UNA's data; the
// connection reads segments out of it by offset (in up to two pieces where
// the ring wraps) and drops bytes from the front as they are acknowledged.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

namespace uk::direct::tcp {

class send_buffer {
 public:
  explicit send_buffer(std::size_t capacity)
      : storage_(capacity > 0 ? std::make_unique<std::byte[]>(capacity) : nullptr), capacity_(capacity) {}

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t free() const noexcept { return capacity_ - size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Appends as much of `data` as fits; returns the bytes taken.
  std::size_t write(std::span<const std::byte> data) noexcept {
    const std::size_t n = std::min(data.size(), free());
    std::size_t at = (head_ + size_) % (capacity_ == 0 ? 1 : capacity_);
    std::size_t done = 0;
    while (done < n) {
      const std::size_t chunk = std::min(n - done, capacity_ - at);
      std::memcpy(storage_.get() + at, data.data() + done, chunk);
      done += chunk;
      at = 0;
    }
    size_ += n;
    return n;
  }

  /// The bytes [offset, offset + length) from the front, in at most two pieces.
  /// Precondition: offset + length <= size().
  std::array<std::span<const std::byte>, 2> peek(std::size_t offset, std::size_t length) const noexcept {
    std::array<std::span<const std::byte>, 2> out{};
    if (length == 0) return out;
    const std::size_t start = (head_ + offset) % capacity_;
    const std::size_t first = std::min(length, capacity_ - start);
    out[0] = {storage_.get() + start, first};
    if (first < length) out[1] = {storage_.get(), length - first};
    return out;
  }

  /// Drops `n` acknowledged bytes from the front (at most size()).
  void consume(std::size_t n) noexcept {
    n = std::min(n, size_);
    size_ -= n;
    head_ = size_ == 0 ? 0 : (head_ + n) % capacity_;
  }

 private:
  std::unique_ptr<std::byte[]> storage_;
  std::size_t capacity_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace uk::direct::tcp
