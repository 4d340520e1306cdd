// uk::net::detail::frame_ring: a bounded FIFO of frames held in slots
// preallocated once, at construction. The transmit queue of the TAP device
// and the two directions of memory_link. Frames are written in place into the
// tail slot (frame_filler's zero-copy contract) and read in place at the head.
#pragma once

#include <cassert>
#include <cstddef>
#include <memory>
#include <span>

namespace uk::net::detail {

/// Nothing attached to a frame.
struct no_frame_info {};

/// A FIFO of at most `capacity` frames of at most `slot_size` bytes each,
/// with an `Info` value attached to each frame (memory_link's arrival time).
/// No allocation after construction; not copyable (the slots are large).
template <class Info = no_frame_info>
class frame_ring {
 public:
  frame_ring(std::size_t capacity, std::size_t slot_size)
      : capacity_(capacity),
        slot_size_(slot_size),
        bytes_(std::make_unique_for_overwrite<std::byte[]>(capacity * slot_size)),
        entries_(std::make_unique<entry[]>(capacity)) {
    assert(capacity > 0 && slot_size > 0);
  }
  frame_ring(frame_ring&&) noexcept = default;
  frame_ring& operator=(frame_ring&&) noexcept = default;
  frame_ring(const frame_ring&) = delete;
  frame_ring& operator=(const frame_ring&) = delete;

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t slot_size() const noexcept { return slot_size_; }
  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  bool full() const noexcept { return count_ == capacity_; }

  /// The free slot at the tail, to be written in place and committed with
  /// push(). Precondition: !full().
  std::span<std::byte> tail_slot() noexcept {
    assert(!full());
    return {bytes_.get() + index(count_) * slot_size_, slot_size_};
  }

  /// Commits the first `length` bytes of tail_slot() as the newest frame.
  void push(std::size_t length, Info info = {}) noexcept {
    assert(!full() && length <= slot_size_);
    entries_[index(count_)] = entry{length, info};
    ++count_;
  }

  /// The oldest frame. Precondition: !empty(). Stays valid until pop(),
  /// whatever is pushed meanwhile.
  std::span<std::byte> front() noexcept {
    assert(!empty());
    return {bytes_.get() + head_ * slot_size_, entries_[head_].length};
  }
  const Info& front_info() const noexcept {
    assert(!empty());
    return entries_[head_].info;
  }

  /// Removes the oldest frame. Precondition: !empty().
  void pop() noexcept {
    assert(!empty());
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    --count_;
  }

  void clear() noexcept { head_ = count_ = 0; }

 private:
  struct entry {
    std::size_t length = 0;
    [[no_unique_address]] Info info{};
  };

  std::size_t index(std::size_t offset) const noexcept {
    const std::size_t i = head_ + offset;
    return i >= capacity_ ? i - capacity_ : i;
  }

  std::size_t capacity_;
  std::size_t slot_size_;
  std::unique_ptr<std::byte[]> bytes_;
  std::unique_ptr<entry[]> entries_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

}  // namespace uk::net::detail
