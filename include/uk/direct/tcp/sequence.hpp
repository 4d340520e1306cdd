// TCP sequence numbers (RFC 9293 3.4): 32-bit values compared modulo 2^32.
//
// "It is essential to remember that the actual sequence number space is
// finite, though very large ... all arithmetic dealing with sequence numbers
// must be performed modulo 2**32." a < b means a precedes b: their signed
// distance is negative. Comparisons are meaningful only between numbers less
// than 2^31 apart, which every window guarantees (RFC 7323 2.3 caps it at 2^30).
#pragma once

#include <cstdint>

namespace uk::direct::tcp {

struct seq {
  std::uint32_t value = 0;

  /// Advances by n octets (wraps modulo 2^32).
  friend constexpr seq operator+(seq s, std::uint32_t n) noexcept { return seq{s.value + n}; }
  friend constexpr seq operator-(seq s, std::uint32_t n) noexcept { return seq{s.value - n}; }
  constexpr seq& operator+=(std::uint32_t n) noexcept { value += n; return *this; }
  /// The signed distance a - b: how far a is ahead of b.
  friend constexpr std::int32_t operator-(seq a, seq b) noexcept {
    return static_cast<std::int32_t>(a.value - b.value);
  }
  friend constexpr bool operator==(seq, seq) noexcept = default;
  friend constexpr bool operator<(seq a, seq b) noexcept { return (a - b) < 0; }
  friend constexpr bool operator<=(seq a, seq b) noexcept { return (a - b) <= 0; }
  friend constexpr bool operator>(seq a, seq b) noexcept { return (a - b) > 0; }
  friend constexpr bool operator>=(seq a, seq b) noexcept { return (a - b) >= 0; }
};

/// The later of two sequence numbers.
constexpr seq seq_max(seq a, seq b) noexcept { return a < b ? b : a; }
/// The earlier of two sequence numbers.
constexpr seq seq_min(seq a, seq b) noexcept { return a < b ? a : b; }

/// low <= s < high, modulo 2^32 (RFC 9293 3.4's acceptability tests).
constexpr bool in_range(seq low, seq s, seq high) noexcept { return low <= s && s < high; }

}  // namespace uk::direct::tcp
