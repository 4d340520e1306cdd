// The identity of a TCP connection (RFC 9293 3.3.1: "a connection is fully
// specified by the pair of sockets at the ends"): local and remote endpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "uk/addr.hpp"

namespace uk::direct::tcp {

struct four_tuple {
  ipv4_endpoint local{};
  ipv4_endpoint remote{};
  friend constexpr bool operator==(const four_tuple&, const four_tuple&) = default;
};

/// A hash for unordered containers. Not keyed: a table that a peer can fill
/// with chosen tuples bounds its size (the layer's connection cap).
struct four_tuple_hash {
  std::size_t operator()(const four_tuple& t) const noexcept {
    // Mix the 96 bits with a 64-bit multiply-xorshift (splitmix64 finaliser).
    std::uint64_t a = (std::uint64_t{t.local.address.value} << 32) | t.remote.address.value;
    std::uint64_t b = (std::uint64_t{t.local.port} << 16) | t.remote.port;
    std::uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ull);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return static_cast<std::size_t>(x);
  }
};

}  // namespace uk::direct::tcp

template <>
struct std::hash<uk::direct::tcp::four_tuple> : uk::direct::tcp::four_tuple_hash {};
