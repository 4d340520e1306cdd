// The send buffer: bytes the application wrote that the peer has not yet
// acknowledged, in a ring. Its front is SND.UNA's data; the connection reads
// segments out of it by offset (in up to two pieces where the ring wraps) and
// drops bytes from the front as they are acknowledged. The ring's storage is
// taken (from the layer's buffer_pool.hpp) when the first byte is written and
// given back when everything written has been acknowledged: an idle
// connection holds none.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "uk/direct/tcp/buffer_pool.hpp"

namespace uk::direct::tcp {

class send_buffer {
 public:
  /// `pool`: where the storage comes from (nullptr: the heap). Capacity is capped at 2^30.
  explicit send_buffer(std::size_t capacity, buffer_pool* pool = nullptr) noexcept : storage_(capacity, pool) {}

  std::size_t capacity() const noexcept { return storage_.capacity(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t free() const noexcept { return capacity() - size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// True while the ring's storage is held (data queued).
  bool holds_storage() const noexcept { return storage_.held(); }

  /// Appends as much of `data` as fits; returns the bytes taken.
  std::size_t write(std::span<const std::byte> data) {
    const std::size_t n = std::min(data.size(), free());
    if (n == 0) return 0;
    storage_.take();
    const std::size_t cap = capacity();
    std::size_t at = (head_ + size_) % cap;
    std::size_t done = 0;
    while (done < n) {
      const std::size_t chunk = std::min(n - done, cap - at);
      std::memcpy(storage_.get() + at, data.data() + done, chunk);
      done += chunk;
      at = 0;
    }
    size_ += static_cast<std::uint32_t>(n);
    return n;
  }

  /// The bytes [offset, offset + length) from the front, in at most two pieces.
  /// Precondition: offset + length <= size().
  std::array<std::span<const std::byte>, 2> peek(std::size_t offset, std::size_t length) const noexcept {
    std::array<std::span<const std::byte>, 2> out{};
    if (length == 0) return out;
    const std::size_t cap = capacity();
    const std::size_t start = (head_ + offset) % cap;
    const std::size_t first = std::min(length, cap - start);
    out[0] = {storage_.get() + start, first};
    if (first < length) out[1] = {storage_.get(), length - first};
    return out;
  }

  /// Drops `n` acknowledged bytes from the front (at most size()); the
  /// storage goes back once nothing is left.
  void consume(std::size_t n) noexcept {
    n = std::min<std::size_t>(n, size_);
    size_ -= static_cast<std::uint32_t>(n);
    if (size_ == 0) {
      head_ = 0;
      storage_.reset();
    } else {
      head_ = static_cast<std::uint32_t>((head_ + n) % capacity());
    }
  }

 private:
  buffer_storage storage_;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
};

}  // namespace uk::direct::tcp
