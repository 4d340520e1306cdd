// uk::direct::tcp::tuple_table: the layer's demultiplexing table (RFC 9293
// 3.3.1: a connection is named by its 4-tuple), from tuple to slot index.
//
// Open addressing with linear probing over a power-of-two array sized once,
// at construction, for at most `max_entries` (load factor <= 3/4): inserting
// and erasing never allocate, and an entry is 8 bytes (slot index and hash),
// about 13 bytes per connection at the cap. The tuple itself is not stored: the caller
// names the tuple of a slot (`tuple_of`), which is read only when the hashes
// match. Erasing shifts the following entries back (no tombstones), so
// lookups never slow down with churn. The number of entries is bounded by the
// layer's connection cap, which bounds any probe sequence a peer can build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "uk/direct/tcp/four_tuple.hpp"

namespace uk::direct::tcp {

class tuple_table {
 public:
  explicit tuple_table(std::size_t max_entries) {
    std::size_t capacity = 16;
    while (3 * capacity < 4 * max_entries) capacity *= 2;
    entries_ = std::make_unique<entry[]>(capacity);
    mask_ = capacity - 1;
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return mask_ + 1; }

  /// The slot of `tuple`, if present. `tuple_of(slot)` returns a slot's tuple.
  template <class TupleOf>
  std::optional<std::uint32_t> find(const four_tuple& tuple, TupleOf&& tuple_of) const {
    const std::uint32_t h = hash(tuple);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const entry& e = entries_[i];
      if (e.slot_plus_one == 0) return std::nullopt;
      if (e.hash == h && tuple_of(e.slot_plus_one - 1) == tuple) return e.slot_plus_one - 1;
    }
  }

  /// Adds `tuple` -> `slot`. Preconditions: not present, size() < the max_entries given.
  void insert(const four_tuple& tuple, std::uint32_t slot) noexcept {
    const std::uint32_t h = hash(tuple);
    std::size_t i = h & mask_;
    while (entries_[i].slot_plus_one != 0) i = (i + 1) & mask_;
    entries_[i] = {slot + 1, h};
    ++size_;
  }

  /// Removes `tuple` if present; true when it was.
  template <class TupleOf>
  bool erase(const four_tuple& tuple, TupleOf&& tuple_of) noexcept {
    const std::uint32_t h = hash(tuple);
    std::size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      const entry& e = entries_[i];
      if (e.slot_plus_one == 0) return false;
      if (e.hash == h && tuple_of(e.slot_plus_one - 1) == tuple) break;
    }
    // Backward-shift deletion: move each following entry of the run into the
    // hole unless its home lies cyclically in (hole, its position].
    std::size_t hole = i;
    for (std::size_t j = (hole + 1) & mask_; entries_[j].slot_plus_one != 0; j = (j + 1) & mask_) {
      const std::size_t home = entries_[j].hash & mask_;
      const bool home_after_hole = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (home_after_hole) continue;
      entries_[hole] = entries_[j];
      hole = j;
    }
    entries_[hole] = {};
    --size_;
    return true;
  }

 private:
  struct entry {
    std::uint32_t slot_plus_one = 0;  // 0: empty
    std::uint32_t hash = 0;
  };

  static std::uint32_t hash(const four_tuple& t) noexcept {
    return static_cast<std::uint32_t>(four_tuple_hash{}(t));
  }

  std::unique_ptr<entry[]> entries_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace uk::direct::tcp
