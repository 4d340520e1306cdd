// The Internet checksum: RFC 1071 sum, RFC 1624 incremental update, and the
// UDP/TCP pseudo-header (RFC 768, RFC 9293 section 3.1).
//
// The sum is the one's-complement sum of 16-bit big-endian words. Three
// properties of that sum (RFC 1071 section 2) make it cheap to compute wide:
//   (A) it is commutative and associative, so words may be added in any
//       order and in any grouping (several independent accumulators);
//   (B) it is byte-order independent: summing the words as the machine loads
//       them and swapping the two bytes of the folded result at the end gives
//       the same value as summing big-endian words;
//   (C) carries may be deferred: adding 16-bit words into a wider register
//       and folding the high bits back in at the end ("end-around carry")
//       gives the same result as adding with the carry each time. Since
//       2^16 = 1 (mod 2^16 - 1), so is 2^32 and 2^64: a carry out of a 32- or
//       64-bit register may equally be added back at bit 0.
//
// How partial() adds, fastest first (all give the same sum; the unit tests
// check each against a 16-bit reference loop):
//   - sum_avx2: 32 bytes per vector, on x86-64 CPUs that have AVX2 (checked
//     once at run time; GCC/Clang `target` attribute, no assembly);
//   - sum_vector: 16 bytes per vector with GCC/Clang vector extensions, which
//     compile to SSE2 on x86-64, NEON on AArch64, scalar code elsewhere;
//   - sum_scalar: 8 bytes per 64-bit add with an end-around carry, for short
//     buffers (below 128 bytes its lower start-up cost wins) and the tails.
// The vector kernels keep, per 64-bit lane, the wrapping sum of the 64-bit
// words and the exact sum of their high 32-bit halves, and recover the sum of
// the low halves by subtraction at the end (see sum_vector): three vector
// operations per vector of input and no carry to track in the loop.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "uk/addr.hpp"

// Define UK_WIRE_CHECKSUM_NO_VECTOR to use only the scalar kernel, or
// UK_WIRE_CHECKSUM_NO_AVX2 to leave out the run-time AVX2 kernel.
#if defined(__GNUC__) && !defined(UK_WIRE_CHECKSUM_NO_VECTOR)
#define UK_WIRE_CHECKSUM_VECTOR 1
#else
#define UK_WIRE_CHECKSUM_VECTOR 0
#endif
#if UK_WIRE_CHECKSUM_VECTOR && defined(__x86_64__) && !defined(UK_WIRE_CHECKSUM_NO_AVX2)
#define UK_WIRE_CHECKSUM_AVX2 1
#else
#define UK_WIRE_CHECKSUM_AVX2 0
#endif

namespace uk::wire::checksum {

namespace detail {

/// a + b in one's-complement arithmetic on 64 bits: the carry out of bit 63
/// is added back at bit 0 (RFC 1071 section 2 (C)). The result folds to the
/// same 16-bit sum as a and b folded and added.
constexpr std::uint64_t add_end_around(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t s = a + b;
  return s + (s < b ? 1u : 0u);
}

/// Folds a 64-bit running sum to 16 bits with end-around carries (RFC 1071
/// section 4.1, "Fold 32-bit sum to 16 bits", extended to 64). For s = h * 2^32 + l,
/// the high half of s + rotr(s, 32) is h + l plus the carry out of the low
/// half's h + l: the one's-complement sum of h and l. The same again halves 32 bits.
constexpr std::uint16_t fold64(std::uint64_t s) noexcept {
  s += std::rotr(s, 32);
  std::uint32_t x = static_cast<std::uint32_t>(s >> 32);
  x += std::rotr(x, 16);
  return static_cast<std::uint16_t>(x >> 16);
}

/// The folded big-endian sum of a machine-order running sum. Swapping the
/// bytes of every word swaps the bytes of the sum (RFC 1071 section 2 (B)),
/// and the fold does not depend on the order of the words, so one 64-bit
/// byte swap before folding does it.
constexpr std::uint16_t fold_to_network_order(std::uint64_t native_sum) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
#if defined(__GNUC__)
    native_sum = __builtin_bswap64(native_sum);
#else
    std::uint64_t swapped = 0;
    for (int i = 0; i < 8; ++i) swapped = (swapped << 8) | ((native_sum >> (8 * i)) & 0xff);
    native_sum = swapped;
#endif
  }
  return fold64(native_sum);
}

inline std::uint64_t load64(const std::byte* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

/// Sum of the final n < 8 bytes at p, as machine-order 16-bit words in a
/// 64-bit value. A last odd byte is the high-order (first) byte of a word
/// whose low-order byte is zero (RFC 1071 section 4.1, "Add left-over byte").
inline std::uint64_t sum_tail(const std::byte* p, std::size_t n) noexcept {
  std::uint64_t acc = 0;
  if (n & 4) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    acc += w;
    p += 4;
  }
  if (n & 2) {
    std::uint16_t w;
    std::memcpy(&w, p, 2);
    acc += w;
    p += 2;
  }
  if (n & 1) {
    std::uint16_t w = 0;
    std::memcpy(&w, p, 1);  // the byte lands at the word's first address, as in memory
    acc += w;
  }
  return acc;
}

/// Sum of n bytes at p as machine-order 16-bit words, 8 bytes at a time with
/// an end-around carry. The result folds (fold64) to the machine-order sum.
inline std::uint64_t sum_scalar(const std::byte* p, std::size_t n) noexcept {
  // Two accumulators so the two carry chains overlap.
  std::uint64_t a = 0, b = 0;
  for (; n >= 16; p += 16, n -= 16) {
    a = add_end_around(a, load64(p));
    b = add_end_around(b, load64(p + 8));
  }
  if (n >= 8) {
    a = add_end_around(a, load64(p));
    p += 8;
    n -= 8;
  }
  return add_end_around(add_end_around(a, b), sum_tail(p, n));
}

#if UK_WIRE_CHECKSUM_VECTOR
/// Two 64-bit lanes: SSE2 on x86-64, NEON on AArch64, a pair of registers elsewhere.
typedef std::uint64_t u64x2 __attribute__((vector_size(16)));

inline u64x2 load128(const std::byte* p) noexcept {
  u64x2 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Sum of n bytes at p as machine-order 16-bit words; folds like sum_scalar.
/// At least as fast as sum_scalar from about 128 bytes on.
///
/// Each 64-bit lane word w is h * 2^32 + l (h, l its 32-bit halves). Per
/// lane the loop keeps `all`, the sum of the w modulo 2^64, and `high`, the
/// exact sum of the h (each h < 2^32, and a block of 2^30 bytes holds 2^26
/// words per lane, so the sum stays below 2^58). Then all - high * 2^32 is
/// the sum of the l modulo 2^64, which is exact as that sum is below 2^58 too. The
/// wanted sum of the 32-bit halves is (sum of l) + (sum of h): two additions
/// and one shift per 16 bytes, and no carry in the loop.
inline std::uint64_t sum_vector(const std::byte* p, std::size_t n) noexcept {
  constexpr std::size_t block = std::size_t{1} << 30;  // bytes; a multiple of 64
  std::uint64_t total = 0;
  while (n >= 16) {
    const std::size_t chunk = n < block ? n : block;
    std::size_t left = chunk;
    u64x2 all0{}, high0{}, all1{}, high1{};
    for (; left >= 64; p += 64, left -= 64) {
      const u64x2 w0 = load128(p), w1 = load128(p + 16), w2 = load128(p + 32), w3 = load128(p + 48);
      all0 += w0 + w1;
      high0 += (w0 >> 32) + (w1 >> 32);
      all1 += w2 + w3;
      high1 += (w2 >> 32) + (w3 >> 32);
    }
    if (left >= 32) {
      const u64x2 w0 = load128(p), w1 = load128(p + 16);
      all0 += w0 + w1;
      high0 += (w0 >> 32) + (w1 >> 32);
      p += 32;
      left -= 32;
    }
    if (left >= 16) {
      const u64x2 w0 = load128(p);
      all1 += w0;
      high1 += w0 >> 32;
      p += 16;
      left -= 16;
    }
    const u64x2 high = high0 + high1;
    const u64x2 low = (all0 + all1) - (high << 32);
    // Each of the four terms is below 2^58: their sum cannot wrap.
    total = add_end_around(total, low[0] + low[1] + high[0] + high[1]);
    n -= chunk - left;  // a whole block leaves left == 0 and loops; a last chunk leaves n < 16
  }
  return add_end_around(total, sum_scalar(p, n));
}
#endif

#if UK_WIRE_CHECKSUM_AVX2
/// sum_vector with four 64-bit lanes per vector; call only if cpu_has_avx2().
[[gnu::noinline, gnu::target("avx2")]] inline std::uint64_t sum_avx2(const std::byte* p, std::size_t n) noexcept {
  typedef std::uint64_t u64x4 __attribute__((vector_size(32)));
  constexpr std::size_t block = std::size_t{1} << 30;  // bytes: 2^25 words per lane, a multiple of 128
  std::uint64_t total = 0;
  while (n >= 32) {
    const std::size_t chunk = n < block ? n : block;
    std::size_t left = chunk;
    u64x4 all0{}, high0{}, all1{}, high1{};
    for (; left >= 128; p += 128, left -= 128) {
      u64x4 w0, w1, w2, w3;
      std::memcpy(&w0, p, 32);
      std::memcpy(&w1, p + 32, 32);
      std::memcpy(&w2, p + 64, 32);
      std::memcpy(&w3, p + 96, 32);
      all0 += w0 + w1;
      high0 += (w0 >> 32) + (w1 >> 32);
      all1 += w2 + w3;
      high1 += (w2 >> 32) + (w3 >> 32);
    }
    for (; left >= 32; p += 32, left -= 32) {
      u64x4 w0;
      std::memcpy(&w0, p, 32);
      all0 += w0;
      high0 += w0 >> 32;
    }
    const u64x4 high = high0 + high1;
    const u64x4 both = ((all0 + all1) - (high << 32)) + high;  // per lane: low + high < 2^59
    total = add_end_around(total, both[0] + both[1] + both[2] + both[3]);
    n -= chunk - left;
  }
  return add_end_around(total, sum_scalar(p, n));
}

/// Whether this CPU runs sum_avx2; asked once.
inline bool cpu_has_avx2() noexcept {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
}
#endif

/// Below this many bytes sum_scalar is faster than the vector kernels.
inline constexpr std::size_t vector_threshold = 128;

#if UK_WIRE_CHECKSUM_VECTOR
/// The machine-order sum of n >= vector_threshold bytes at p. Not inlined,
/// so that the short-buffer path inlined into callers stays small.
[[gnu::noinline]] inline std::uint64_t sum_long(const std::byte* p, std::size_t n) noexcept {
#if UK_WIRE_CHECKSUM_AVX2
  if (cpu_has_avx2()) return sum_avx2(p, n);
#endif
  return sum_vector(p, n);
}
#endif

/// The machine-order sum of n bytes at p, by the fastest kernel for n.
inline std::uint64_t sum(const std::byte* p, std::size_t n) noexcept {
#if UK_WIRE_CHECKSUM_VECTOR
  if (n >= vector_threshold) return sum_long(p, n);
#endif
  return sum_scalar(p, n);
}

/// The checksum sum of `data`, by byte loop: usable in constant expressions.
constexpr std::uint64_t sum_constexpr(std::span<const std::byte> data) noexcept {
  std::uint64_t acc = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2)
    acc += (std::to_integer<std::uint64_t>(data[i]) << 8) | std::to_integer<std::uint64_t>(data[i + 1]);
  if (i < data.size()) acc += std::to_integer<std::uint64_t>(data[i]) << 8;
  return acc;
}

}  // namespace detail

/// Adds `data` into a running one's-complement sum. The result is "unfolded":
/// pass it to the next partial() call or to finish(). `data` may have any
/// length and alignment; an odd trailing byte is padded with zero, so only the
/// last chunk of a message may have odd length.
constexpr std::uint64_t partial(std::span<const std::byte> data, std::uint64_t sum = 0) noexcept {
  if (std::is_constant_evaluated())
    return detail::add_end_around(sum, detail::sum_constexpr(data));
  const std::uint64_t native = detail::sum(data.data(), data.size());
  return detail::add_end_around(sum, detail::fold_to_network_order(native));
}

/// Adds a 16-bit value (host order) into a running sum.
constexpr std::uint64_t add16(std::uint64_t sum, std::uint16_t v) noexcept { return sum + v; }

/// Adds a 32-bit value (host order) as two 16-bit words.
constexpr std::uint64_t add32(std::uint64_t sum, std::uint32_t v) noexcept {
  return sum + (v >> 16) + (v & 0xffff);
}

/// Folds a running sum to 16 bits (end-around carry) without complementing.
constexpr std::uint16_t fold(std::uint64_t sum) noexcept { return detail::fold64(sum); }

/// The checksum field value for a running sum: the one's complement of the folded sum.
constexpr std::uint16_t finish(std::uint64_t sum) noexcept {
  return static_cast<std::uint16_t>(~fold(sum));
}

/// The checksum of one buffer (host-order value to store big-endian).
constexpr std::uint16_t compute(std::span<const std::byte> data) noexcept {
  if (std::is_constant_evaluated()) return finish(partial(data));
  // finish(partial(data)) without folding twice: the folded sum is already 16 bits.
  return static_cast<std::uint16_t>(
      ~detail::fold_to_network_order(detail::sum(data.data(), data.size())));
}

/// A received header or segment verifies when the sum over it, checksum
/// field included, folds to 0xffff (RFC 1071 section 1 (3)).
constexpr bool verifies(std::span<const std::byte> data, std::uint64_t sum = 0) noexcept {
  return fold(partial(data, sum)) == 0xffff;
}

/// The IPv4 pseudo-header sum for UDP and TCP: source, destination, zero,
/// protocol and the transport length (RFC 768; RFC 9293 section 3.1).
constexpr std::uint64_t pseudo_header(ipv4_address src, ipv4_address dst, std::uint8_t protocol,
                                      std::uint16_t length) noexcept {
  std::uint64_t sum = 0;
  sum = add32(sum, src.value);
  sum = add32(sum, dst.value);
  sum = add16(sum, protocol);
  sum = add16(sum, length);
  return sum;
}

/// RFC 1624 equation 3: HC' = ~(~HC + ~m + m'), the checksum after one 16-bit
/// word of the covered data changes from `old_word` to `new_word`. Unlike
/// RFC 1141's HC + m + ~m' (equation 2), it never yields 0xffff (-0) where a
/// computation from scratch gives 0x0000 (RFC 1624 sections 3 and 4).
constexpr std::uint16_t update(std::uint16_t old_checksum, std::uint16_t old_word,
                               std::uint16_t new_word) noexcept {
  std::uint64_t sum = static_cast<std::uint16_t>(~old_checksum);
  sum += static_cast<std::uint16_t>(~old_word);
  sum += new_word;
  return finish(sum);
}

}  // namespace uk::wire::checksum
