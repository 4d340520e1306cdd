// uk::direct::udp<Ip>: UDP (RFC 768) over the direct stack's IPv4 layer.
//
// This is the packet layer (no Asio): ports are bound to delegates, and
// datagrams are written in place through a frame_filler. The application
// API with awaitables (uk::udp_layer) is udp_service.hpp, built on this.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "uk/addr.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/delegate.hpp"
#include "uk/log.hpp"
#include "uk/wire/udp.hpp"

namespace uk::direct {

/// What a bound port learns about a received datagram beside its payload.
struct udp_datagram_info {
  ipv4_endpoint source{};
  ipv4_endpoint destination{};
};

/// Called with each datagram for a bound port; the payload is valid during the call.
using udp_handler = delegate<void(const udp_datagram_info&, frame payload)>;

/// Called with a datagram for a port nobody bound, for ICMP to report
/// (RFC 1122 4.1.3.1: a host SHOULD send port unreachable).
using udp_unreachable_handler = delegate<void(const ipv4_datagram_info&, frame udp_datagram)>;

struct udp_counters {
  std::uint64_t rx_datagrams = 0, tx_datagrams = 0;
  std::uint64_t rx_malformed = 0;      ///< truncated or impossible length
  std::uint64_t rx_bad_checksum = 0;   ///< RFC 768 checksum did not verify (mirage-tcpip #217)
  std::uint64_t rx_no_listener = 0;    ///< no binding for the destination port
  std::uint64_t tx_dropped = 0;        ///< refused by IPv4 (no route, ARP queue full, device full)
  std::uint64_t tx_too_large = 0;      ///< payload over 65507 bytes
};

struct udp_options {
  std::size_t max_bindings = 64;  ///< ports bound at once; bind fails beyond
};

template <ipv4_layer Ip>
class udp {
 public:
  /// The largest payload one IPv4 datagram can carry: 65535 - 20 - 8.
  static constexpr std::size_t max_payload = 65507;
  /// RFC 6335 section 6: the dynamic (ephemeral) port range.
  static constexpr std::uint16_t ephemeral_first = 49152, ephemeral_last = 65535;

  explicit udp(Ip& ip, udp_options options = {}, std::uint32_t port_seed = 0x9e3779b9u)
      : ip_(ip), max_bindings_(std::min(options.max_bindings, bindings_.size())), next_ephemeral_(port_seed) {
    ip_.set_receiver(wire::udp::ip_protocol, ipv4_handler::bind<&udp::on_datagram>(*this));
  }
  udp(const udp&) = delete;
  udp& operator=(const udp&) = delete;

  /// Binds `port` to `handler`; false when the port is taken or the table is full.
  bool bind(std::uint16_t port, udp_handler handler) {
    if (port == 0 || find(port) || count_ >= max_bindings_) return false;
    // Keep the table sorted by port for binary search on receive.
    auto end = bindings_.begin() + static_cast<std::ptrdiff_t>(count_);
    auto at = std::lower_bound(bindings_.begin(), end, port, [](const binding& b, std::uint16_t p) { return b.port < p; });
    std::move_backward(at, end, end + 1);
    *at = binding{port, handler};
    ++count_;
    return true;
  }

  /// Binds a free ephemeral port (RFC 6056 algorithm 1: a pseudo-random start,
  /// then the next free one); returns it, or 0 when none is free.
  std::uint16_t bind_ephemeral(udp_handler handler) {
    constexpr std::uint32_t range = ephemeral_last - ephemeral_first + 1;
    next_ephemeral_ = next_ephemeral_ * 1664525u + 1013904223u;  // LCG step: cheap, not secret
    const std::uint32_t start = next_ephemeral_ % range;
    for (std::uint32_t i = 0; i < range; ++i) {
      const auto port = static_cast<std::uint16_t>(ephemeral_first + (start + i) % range);
      if (bind(port, handler)) return port;
      if (count_ >= max_bindings_) return 0;
    }
    return 0;
  }

  void unbind(std::uint16_t port) {
    auto end = bindings_.begin() + static_cast<std::ptrdiff_t>(count_);
    auto it = std::find_if(bindings_.begin(), end, [&](const binding& b) { return b.port == port; });
    if (it == end) return;
    std::move(it + 1, end, it);
    --count_;
  }

  bool is_bound(std::uint16_t port) const { return find(port) != nullptr; }

  /// Sends a datagram from `source_port` to `to`; `fill` writes `size` payload bytes.
  bool transmit(std::uint16_t source_port, ipv4_endpoint to, std::size_t size, frame_filler fill) {
    if (size > max_payload) {
      ++counters_.tx_too_large;
      return false;
    }
    const ipv4_address source = ip_.address() ? ip_.address()->address : ipv4_address::any();
    auto write = [&](std::span<std::byte> out) -> std::size_t {
      const std::size_t written = fill(out.subspan(wire::udp::header_length, size));
      const wire::udp::repr header{source_port, to.port, written};
      wire::udp::emit(header, out, source, to.address);
      return wire::udp::header_length + written;
    };
    if (!ip_.transmit(to.address, wire::udp::ip_protocol, wire::udp::header_length + size, frame_filler(write))) {
      ++counters_.tx_dropped;
      return false;
    }
    ++counters_.tx_datagrams;
    return true;
  }

  void set_unreachable_handler(udp_unreachable_handler h) { unreachable_ = h; }

  const udp_counters& counters() const noexcept { return counters_; }

 private:
  struct binding {
    std::uint16_t port = 0;
    udp_handler handler;
  };

  const binding* find(std::uint16_t port) const {
    auto end = bindings_.begin() + static_cast<std::ptrdiff_t>(count_);
    auto it = std::lower_bound(bindings_.begin(), end, port, [](const binding& b, std::uint16_t p) { return b.port < p; });
    return it != end && it->port == port ? &*it : nullptr;
  }

  void on_datagram(const ipv4_datagram_info& info, frame payload) {
    auto parsed = wire::udp::parse(payload, info.source, info.destination);
    if (!parsed) {
      if (parsed.error() == wire::error::bad_checksum)
        ++counters_.rx_bad_checksum;
      else
        ++counters_.rx_malformed;
      log::debug(log::source::udp, "dropped a datagram from {}: {}", info.source, wire::to_string(parsed.error()));
      return;
    }
    ++counters_.rx_datagrams;
    const udp_datagram_info udp_info{{info.source, parsed->source_port()}, {info.destination, parsed->destination_port()}};
    if (const binding* b = find(parsed->destination_port())) {
      b->handler(udp_info, parsed->payload());
      return;
    }
    ++counters_.rx_no_listener;
    log::debug(log::source::udp, "no listener on port {} (from {})", parsed->destination_port(), udp_info.source);
    if (unreachable_) unreachable_(info, parsed->bytes());
  }

  Ip& ip_;
  std::array<binding, 1024> bindings_{};
  std::size_t count_ = 0;
  std::size_t max_bindings_;
  std::uint32_t next_ephemeral_;
  udp_unreachable_handler unreachable_;
  udp_counters counters_;
};

}  // namespace uk::direct
