// Ephemeral ports for active opens (RFC 6056 section 3.3.3, algorithm 3,
// "Simple Hash-Based Port Selection"):
//
//     offset = F(local_IP, remote_IP, remote_port, secret_key)
//     port = min_ephemeral + (next_ephemeral + offset) % num_ephemeral
//     next_ephemeral++, until a port is suitable
//
// A port is suitable when no connection uses the whole 4-tuple it would
// make (RFC 6056 2.2: the tuple, not the port, must be unique). The allocator
// keeps no per-port state: a port is free again the moment its connection
// leaves the layer's table, so it never runs out after 65535 connections
// (mirage-tcpip #462). Different destinations get unrelated sequences, so a
// peer cannot predict the ports used towards another (RFC 6056 3.3.3).
#pragma once

#include <cstdint>
#include <optional>

#include "uk/addr.hpp"
#include "uk/direct/tcp/siphash.hpp"

namespace uk::direct::tcp {

class port_allocator {
 public:
  /// RFC 6335 section 6: the dynamic (ephemeral) port range, as RFC 6056 3.2 recommends.
  static constexpr std::uint16_t default_first = 49152, default_last = 65535;

  explicit constexpr port_allocator(siphash_key secret, std::uint16_t first = default_first,
                                    std::uint16_t last = default_last) noexcept
      : secret_(secret), first_(first), count_(std::uint32_t{last} - first + 1) {}

  /// A port for a connection from `local` to `remote`, for which
  /// `in_use(port)` is false; nullopt when every port of the range is in use.
  template <class InUse>
  std::optional<std::uint16_t> allocate(ipv4_address local, ipv4_endpoint remote, InUse&& in_use) {
    hash_input<10> in;
    in.u32(local.value).u32(remote.address.value).u16(remote.port);
    const auto offset = static_cast<std::uint32_t>(siphash24(secret_, in.bytes()));
    for (std::uint32_t tries = 0; tries < count_; ++tries) {
      const auto port = static_cast<std::uint16_t>(first_ + (next_ + offset) % count_);
      ++next_;
      if (!in_use(port)) return port;
    }
    return std::nullopt;
  }

  std::uint16_t first() const noexcept { return first_; }
  std::uint32_t size() const noexcept { return count_; }

 private:
  siphash_key secret_;
  std::uint16_t first_;
  std::uint32_t count_;
  std::uint32_t next_ = 0;  // next_ephemeral of RFC 6056 3.3.3
};

}  // namespace uk::direct::tcp
