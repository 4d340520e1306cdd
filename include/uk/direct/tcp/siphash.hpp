// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012): a keyed pseudo-random function of short inputs with a 128-bit key.
// TCP keys its initial sequence numbers (RFC 6528), its SYN cookies (RFC 4987)
// and its ephemeral port offsets (RFC 6056) with it: each of those RFCs asks
// for a PRF whose output a peer cannot predict without the secret.
//
// Written from the paper: section 2 (the algorithm) and appendix A (the test
// vector). Nothing here allocates, reads a clock or throws.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace uk::direct::tcp {

/// The 128-bit secret key, as the paper's two 64-bit little-endian words k0, k1.
struct siphash_key {
  std::uint64_t k0 = 0, k1 = 0;

  /// The key from 16 bytes, read as the paper does (little-endian words).
  static constexpr siphash_key from_bytes(std::span<const std::byte, 16> bytes) noexcept {
    return {load_le64(bytes.data()), load_le64(bytes.data() + 8)};
  }
  static constexpr std::uint64_t load_le64(const std::byte* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
  }
};

/// SipHash-2-4 of `message` under `key` (paper section 2).
constexpr std::uint64_t siphash24(const siphash_key& key, std::span<const std::byte> message) noexcept {
  // Initialization: the key XORed with "somepseudorandomlygeneratedbytes".
  std::uint64_t v0 = key.k0 ^ 0x736f6d6570736575ull;
  std::uint64_t v1 = key.k1 ^ 0x646f72616e646f6dull;
  std::uint64_t v2 = key.k0 ^ 0x6c7967656e657261ull;
  std::uint64_t v3 = key.k1 ^ 0x7465646279746573ull;
  auto sip_round = [&] {
    v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
    v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
  };
  auto compress = [&](std::uint64_t m) {  // c = 2 SipRounds per message word
    v3 ^= m;
    sip_round();
    sip_round();
    v0 ^= m;
  };
  const std::size_t whole = message.size() / 8 * 8;
  for (std::size_t i = 0; i < whole; i += 8) compress(siphash_key::load_le64(message.data() + i));
  // The last word: the remaining bytes, and the message length mod 256 in its top byte.
  std::uint64_t last = static_cast<std::uint64_t>(message.size() & 0xff) << 56;
  for (std::size_t i = whole; i < message.size(); ++i)
    last |= std::to_integer<std::uint64_t>(message[i]) << (8 * (i - whole));
  compress(last);
  // Finalization: d = 4 SipRounds.
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) sip_round();
  return v0 ^ v1 ^ v2 ^ v3;
}

/// Builds a hash input of fixed-width fields, big-endian, without allocating.
template <std::size_t Capacity>
class hash_input {
 public:
  constexpr hash_input& u16(std::uint16_t v) noexcept { return put(v, 2); }
  constexpr hash_input& u32(std::uint32_t v) noexcept { return put(v, 4); }
  constexpr hash_input& u64(std::uint64_t v) noexcept { return put(v, 8); }
  constexpr std::span<const std::byte> bytes() const noexcept { return std::span(bytes_).first(size_); }

 private:
  constexpr hash_input& put(std::uint64_t v, std::size_t width) noexcept {
    for (std::size_t i = 0; i < width; ++i) bytes_[size_ + i] = static_cast<std::byte>(v >> (8 * (width - 1 - i)));
    size_ += width;
    return *this;
  }
  std::array<std::byte, Capacity> bytes_{};
  std::size_t size_ = 0;
};

}  // namespace uk::direct::tcp
