// The receive buffer: a ring holding the bytes received in order and not yet
// read (the "readable" part), followed by space for
// segments that arrived out of order (RFC 9293 3.10.7.4 seventh: "segments
// with higher beginning sequence numbers ... may be held for later
// processing"). Out-of-order data is tracked as at most `max_ranges`
// disjoint ranges, offsets counted from RCV.NXT (the end of the readable part);
// a segment that would need one more range is refused (the caller counts it).
// The ring's storage is taken (from the layer's buffer_pool.hpp) when the
// first byte arrives and given back once everything was read and nothing is
// held out of order: an idle connection holds none. The ranges live in the
// same block, after the ring: they exist only while data is held, so the
// bound can be generous (a window of losses after a slow-start overshoot
// leaves many holes) at no cost to an idle connection.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "uk/direct/tcp/buffer_pool.hpp"

namespace uk::direct::tcp {

class receive_buffer {
 public:
  /// The out-of-order ranges held at once (holes are one fewer).
  static constexpr std::size_t max_ranges = 32;

  /// `pool`: where the storage comes from (nullptr: the heap). Capacity is capped at 2^30.
  explicit receive_buffer(std::size_t capacity, buffer_pool* pool = nullptr) noexcept
      : storage_(capacity, pool, static_cast<std::uint32_t>(max_ranges * sizeof(range))) {}

  std::size_t capacity() const noexcept { return storage_.capacity(); }
  /// Bytes received in order and not yet read.
  std::size_t readable() const noexcept { return readable_; }
  /// Room after the readable bytes: the most the receive window may offer.
  std::size_t free() const noexcept { return capacity() - readable_; }
  /// Out-of-order ranges held.
  std::size_t ranges() const noexcept { return range_count_; }
  /// True when nothing is held out of order.
  bool in_order() const noexcept { return range_count_ == 0; }
  /// True while the ring's storage is held (data readable or held out of order).
  bool holds_storage() const noexcept { return storage_.held(); }

  /// An out-of-order range held: [begin, end) in bytes after RCV.NXT
  /// (offsets below capacity() <= 2^30).
  struct range {
    std::uint32_t begin, end;
  };
  static_assert(alignof(range) <= 8);
  /// The i-th held range, lowest first (i < ranges()); the SACK blocks of RFC 2018 4.
  range held_range(std::size_t i) const noexcept { return list()[i]; }

  enum class insert_result { stored, no_range_left };

  /// Stores `data` received `offset` bytes after RCV.NXT. Bytes beyond free()
  /// are dropped (the caller trimmed the segment to the window already).
  /// On `stored`, `advanced` is how far the in-order part grew (RCV.NXT moves by it).
  insert_result insert(std::size_t offset, std::span<const std::byte> data, std::size_t& advanced) {
    advanced = 0;
    if (offset >= free()) return insert_result::stored;
    data = data.first(std::min(data.size(), free() - offset));
    if (data.empty()) return insert_result::stored;
    const std::size_t begin = offset, end = offset + data.size();
    storage_.take();  // the ranges live in the storage too
    if (!add_range(begin, end)) {
      give_back_if_drained();
      return insert_result::no_range_left;
    }
    copy_in(readable_ + offset, data);
    range* const ranges = list();
    if (range_count_ > 0 && ranges[0].begin == 0) {
      advanced = ranges[0].end;
      readable_ += static_cast<std::uint32_t>(advanced);
      std::move(ranges + 1, ranges + range_count_, ranges);
      --range_count_;
      for (std::size_t i = 0; i < range_count_; ++i) {
        ranges[i].begin -= static_cast<std::uint32_t>(advanced);
        ranges[i].end -= static_cast<std::uint32_t>(advanced);
      }
    }
    return insert_result::stored;
  }

  /// Copies up to out.size() readable bytes out and frees their space.
  std::size_t read(std::span<std::byte> out) noexcept {
    const std::size_t n = std::min<std::size_t>(out.size(), readable_);
    const std::size_t cap = capacity();
    std::size_t done = 0;
    while (done < n) {
      const std::size_t chunk = std::min<std::size_t>(n - done, cap - head_);
      std::memcpy(out.data() + done, storage_.get() + head_, chunk);
      done += chunk;
      head_ = static_cast<std::uint32_t>((head_ + chunk) % cap);
    }
    readable_ -= static_cast<std::uint32_t>(n);
    give_back_if_drained();
    return n;
  }

  /// Forgets everything held out of order (used when the connection closes).
  void drop_out_of_order() noexcept {
    range_count_ = 0;
    give_back_if_drained();
  }

 private:
  // The ranges, after the ring in the held storage (created there implicitly:
  // operator new's storage, C++20 [intro.object]). Only read while held.
  range* list() const noexcept { return reinterpret_cast<range*>(storage_.tail()); }

  void give_back_if_drained() noexcept {
    if (readable_ != 0 || range_count_ != 0) return;
    head_ = 0;
    storage_.reset();
  }

  // Merges [begin, end) into the sorted, disjoint range list.
  bool add_range(std::size_t begin, std::size_t end) noexcept {
    range* const ranges = list();
    std::size_t first = 0;
    while (first < range_count_ && ranges[first].end < begin) ++first;
    std::size_t last = first;  // ranges [first, last) touch or overlap the new one
    while (last < range_count_ && ranges[last].begin <= end) ++last;
    if (first == last) {
      if (range_count_ == max_ranges) return false;
      std::move_backward(ranges + first, ranges + range_count_, ranges + range_count_ + 1);
      ranges[first] = {static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end)};
      ++range_count_;
      return true;
    }
    const range merged{std::min(static_cast<std::uint32_t>(begin), ranges[first].begin),
                       std::max(static_cast<std::uint32_t>(end), ranges[last - 1].end)};
    ranges[first] = merged;
    std::move(ranges + last, ranges + range_count_, ranges + first + 1);
    range_count_ -= last - first - 1;
    return true;
  }

  void copy_in(std::size_t position, std::span<const std::byte> data) noexcept {
    const std::size_t cap = capacity();
    std::size_t at = (head_ + position) % cap;
    std::size_t done = 0;
    while (done < data.size()) {
      const std::size_t chunk = std::min(data.size() - done, cap - at);
      std::memcpy(storage_.get() + at, data.data() + done, chunk);
      done += chunk;
      at = 0;
    }
  }

  buffer_storage storage_;
  std::uint32_t head_ = 0;
  std::uint32_t readable_ = 0;
  std::uint32_t range_count_ = 0;
};

}  // namespace uk::direct::tcp
