// Module type RANDOM (Mirage_random.S): a source of random bytes for
// initial sequence numbers, ephemeral ports, DHCP transaction ids.
#pragma once

#include <concepts>
#include <cstddef>
#include <random>
#include <span>

namespace uk {

/// A random source. It is also a UniformRandomBitGenerator, so the standard
/// distributions work on it.
///   r.fill(bytes)  fills `bytes` with random bytes
///   r()            a random 64-bit value
template <class R>
concept random_source = std::uniform_random_bit_generator<R> && requires(R& r, std::span<std::byte> bytes) {
  { r.fill(bytes) } -> std::same_as<void>;
};

}  // namespace uk
