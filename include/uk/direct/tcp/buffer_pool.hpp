// uk::direct::tcp::buffer_pool: the storage of the connections' send and
// receive buffers, lent while data is queued and given back when a buffer
// drains, so an idle connection holds no buffer at all.
//
// Blocks are whole buffers of one exact size (a connection's capacity). A
// returned block is kept on a free list of its size, up to `max_cached`
// blocks over all sizes; beyond that it is freed, so what the pool keeps is
// bounded whatever the peers do. A block is never larger than the capacity
// the connection was configured with, so no peer makes a connection hold
// more than its two buffers. Single-threaded, like the layer that owns it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace uk::direct::tcp {

/// What a buffer pool counts.
struct buffer_pool_counters {
  std::uint64_t allocations = 0;   ///< blocks taken from the heap
  std::uint64_t reuses = 0;        ///< blocks lent again from a free list
  std::uint64_t releases = 0;      ///< blocks given back
  std::uint64_t freed = 0;         ///< bound hit: given back with the cache full (or no size list free)
  std::uint64_t bytes_lent = 0;    ///< bytes held by buffers now
  std::uint64_t bytes_cached = 0;  ///< bytes on the free lists now
};

class buffer_pool {
 public:
  /// Distinct block sizes with a free list (a layer uses one or two: send and receive capacity).
  static constexpr std::size_t size_classes = 4;

  explicit buffer_pool(std::size_t max_cached = 16) noexcept : max_cached_(max_cached) {}
  buffer_pool(const buffer_pool&) = delete;
  buffer_pool& operator=(const buffer_pool&) = delete;
  ~buffer_pool() { trim(0); }

  /// A block of exactly `size` bytes (size > 0), from a free list when one is cached.
  std::byte* acquire(std::size_t size) {
    counters_.bytes_lent += size;
    for (auto& c : classes_) {
      if (c.size == size && c.head) {
        std::byte* block = c.head;
        std::memcpy(&c.head, block, sizeof c.head);  // the next free block, stored in the block
        --c.count;
        --cached_;
        counters_.bytes_cached -= size;
        ++counters_.reuses;
        return block;
      }
    }
    ++counters_.allocations;
    return static_cast<std::byte*>(::operator new(size));
  }

  /// Gives back a block `acquire(size)` returned.
  void release(std::byte* block, std::size_t size) noexcept {
    ++counters_.releases;
    counters_.bytes_lent -= size;
    if (cached_ < max_cached_ && size >= sizeof(std::byte*)) {
      if (size_class* c = class_for(size)) {
        std::memcpy(block, &c->head, sizeof c->head);
        c->head = block;
        ++c->count;
        ++cached_;
        counters_.bytes_cached += size;
        return;
      }
    }
    ++counters_.freed;
    ::operator delete(block);  // unsized: clang 14 has sized delete only with -fsized-deallocation
  }

  /// Frees cached blocks until at most `keep` remain.
  void trim(std::size_t keep) noexcept {
    for (auto& c : classes_) {
      while (cached_ > keep && c.head) {
        std::byte* block = c.head;
        std::memcpy(&c.head, block, sizeof c.head);
        --c.count;
        --cached_;
        counters_.bytes_cached -= c.size;
        ::operator delete(block);
      }
    }
  }

  std::size_t cached() const noexcept { return cached_; }
  std::size_t max_cached() const noexcept { return max_cached_; }
  const buffer_pool_counters& counters() const noexcept { return counters_; }

 private:
  struct size_class {
    std::size_t size = 0;
    std::byte* head = nullptr;  // free blocks linked through their first bytes
    std::size_t count = 0;
  };

  // The list for `size`: its own, or an empty one it may claim.
  size_class* class_for(std::size_t size) noexcept {
    size_class* empty = nullptr;
    for (auto& c : classes_) {
      if (c.size == size) return &c;
      if (!empty && c.count == 0) empty = &c;
    }
    if (empty) empty->size = size;
    return empty;
  }

  std::size_t max_cached_;
  std::size_t cached_ = 0;
  std::array<size_class, size_classes> classes_{};
  buffer_pool_counters counters_;
};

/// A buffer's storage of `capacity` bytes, held or not: from a pool when it
/// has one, from the heap otherwise. `extra` bytes after the data (8-byte
/// aligned, at tail()) hold bookkeeping that only matters while data is
/// held, such as the receive buffer's out-of-order ranges.
class buffer_storage {
 public:
  /// RFC 7323 2.3: a window never exceeds 2^30 bytes, so neither does a buffer.
  static constexpr std::size_t max_capacity = std::size_t{1} << 30;

  buffer_storage(std::size_t capacity, buffer_pool* pool, std::uint32_t extra = 0) noexcept
      : pool_(pool),
        capacity_(static_cast<std::uint32_t>(capacity < max_capacity ? capacity : max_capacity)),
        extra_(extra) {}
  buffer_storage(const buffer_storage&) = delete;
  buffer_storage& operator=(const buffer_storage&) = delete;
  ~buffer_storage() { reset(); }

  std::size_t capacity() const noexcept { return capacity_; }
  bool held() const noexcept { return data_ != nullptr; }
  std::byte* get() const noexcept { return data_; }
  /// The `extra` bytes after the data, 8-byte aligned. Precondition: held().
  std::byte* tail() const noexcept { return data_ + tail_offset(); }

  /// Takes the storage if not held yet. Precondition: capacity() > 0.
  void take() {
    if (data_) return;
    data_ = pool_ ? pool_->acquire(block_size()) : static_cast<std::byte*>(::operator new(block_size()));
  }
  /// Gives the storage back, if held.
  void reset() noexcept {
    if (!data_) return;
    if (pool_) pool_->release(data_, block_size());
    else ::operator delete(data_);
    data_ = nullptr;
  }

 private:
  std::size_t tail_offset() const noexcept { return (std::size_t{capacity_} + 7) & ~std::size_t{7}; }
  std::size_t block_size() const noexcept { return extra_ == 0 ? capacity_ : tail_offset() + extra_; }

  std::byte* data_ = nullptr;
  buffer_pool* pool_;
  std::uint32_t capacity_;
  std::uint32_t extra_;
};

}  // namespace uk::direct::tcp
