// uk::direct::ipv4<Eth, Arp, Config>: IPv4 (RFC 791) for a host (RFC 1122
// section 3), over an Ethernet layer and its ARP layer. Satisfies uk::ipv4_layer.
//
//   ipv4<Eth, Arp, Config> ip(eth, arp, config, clock, {.ttl = 64});
//   ip.set_receiver(17, udp_handler);                 // datagrams of protocol 17
//   ip.transmit(dst, 17, size, fill);                 // `fill` writes the payload in place
//
// Sending (RFC 1122 3.3.1.1, the local/remote decision):
//   255.255.255.255, and the subnet broadcast of a prefix of /30 or shorter,
//     go to the Ethernet broadcast address (RFC 1122 3.3.6, RFC 894);
//   multicast goes to its RFC 1112 6.4 group MAC;
//   a destination inside our prefix is its own next hop (resolved by ARP);
//   anything else goes to the gateway, which may lie outside the prefix: a
//     /32 with an on-link gateway is how Qubes configures its VMs (mirage-qubes
//     #3, #5), and the gateway is simply ARPed for;
//   no gateway: dropped and counted (no_route).
// The header gets a fresh identification from a counter (RFC 6864 4: unique per
// source, destination and protocol over the datagram lifetime) and the TTL of the
// options (RFC 1122 3.2.1.7: a fixed default, 64 by RFC 1700). A datagram that
// fits mtu() is written once, in place, in the device's buffer. A larger one is
// fragmented (RFC 791 3.2): the upper filler writes the whole payload once into
// a preallocated 65515-byte buffer, and each fragment (data a multiple of 8
// octets, MF on all but the last, offsets in 8-octet units) copies its piece.
//
// Receiving: the header checksum is verified (RFC 1122 3.2.1.2; mirage-tcpip
// #217 is what happens when it is not); a source that cannot be a host's is
// dropped (RFC 1122 3.2.1.3); only datagrams to our address, to 255.255.255.255
// or to our subnet broadcast are accepted (only 255.255.255.255 before an
// address is configured, as a DHCP client needs); fragments go through
// ipv4_reassembly; the (reassembled) payload goes to the handler registered
// for its protocol. A host does not check the TTL of what it receives (RFC
// 1122 3.2.1.7). Options are not interpreted (RFC 1122 3.2.1.8 lets a host
// ignore the ones it does not implement). Every drop is counted in counters()
// and logged at debug.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "uk/addr.hpp"
#include "uk/concepts/arp.hpp"
#include "uk/concepts/ethernet.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/delegate.hpp"
#include "uk/direct/ipv4_reassembly.hpp"
#include "uk/log.hpp"
#include "uk/time.hpp"
#include "uk/wire/ethernet.hpp"
#include "uk/wire/ipv4.hpp"

namespace uk::direct {

/// Whether `a` is the directed broadcast address of `prefix`: host part all
/// ones (RFC 919, RFC 1122 3.2.1.3 (d)). A /31 (RFC 3021 2.1) and a /32 have none.
constexpr bool is_subnet_broadcast(ipv4_address a, ipv4_prefix prefix) noexcept {
  return prefix.length <= 30 && a == prefix.subnet_broadcast();
}

/// Whether `a` is a broadcast address for a host configured with `prefix`:
/// 255.255.255.255 or our subnet's broadcast address (RFC 1122 3.3.6).
constexpr bool is_broadcast_for(ipv4_address a, const std::optional<ipv4_prefix>& prefix) noexcept {
  return a.is_broadcast() || (prefix && is_subnet_broadcast(a, *prefix));
}

/// The Ethernet group address of an IPv4 multicast address: 01-00-5E and the
/// low-order 23 bits (RFC 1112 6.4).
constexpr mac_address multicast_mac(ipv4_address group) noexcept {
  return {{0x01, 0x00, 0x5e, static_cast<std::uint8_t>((group.value >> 16) & 0x7f),
           static_cast<std::uint8_t>(group.value >> 8), static_cast<std::uint8_t>(group.value)}};
}

struct ipv4_options {
  /// The TTL of every datagram sent (RFC 1122 3.2.1.7; RFC 1700's 64).
  std::uint8_t ttl = wire::ipv4::default_ttl;
  /// The identification of the first datagram sent; each next one adds 1.
  std::uint16_t first_identification = 0;
  /// Bounds of the reassembly of received fragments.
  ipv4_reassembly_options reassembly{};
};

/// Choices for one datagram (the transmit overload that takes them).
struct ipv4_send_options {
  std::optional<std::uint8_t> ttl{};  ///< nullopt: ipv4_options::ttl. Never 0 (RFC 1122 3.2.1.7)
  bool dont_fragment = false;         ///< DF (RFC 791 3.1): a datagram above mtu() is then refused
  std::uint8_t dscp = 0;              ///< RFC 2474 3
  std::uint8_t ecn = 0;               ///< RFC 3168 5
};

struct ipv4_counters {
  // Receive.
  std::uint64_t rx_datagrams = 0;             ///< delivered to a protocol handler (whole or reassembled)
  std::uint64_t rx_fragments = 0;             ///< fragments for us, given to reassembly
  std::uint64_t rx_reassembled = 0;           ///< datagrams rebuilt from fragments
  std::uint64_t rx_dropped_bad_header = 0;    ///< not a valid IPv4 header (truncated, bad version, lengths...)
  std::uint64_t rx_dropped_bad_checksum = 0;  ///< header checksum did not verify (RFC 1122 3.2.1.2)
  std::uint64_t rx_dropped_bad_source = 0;    ///< broadcast, multicast, reserved or loopback source (RFC 1122 3.2.1.3)
  std::uint64_t rx_dropped_not_for_us = 0;    ///< another destination
  std::uint64_t rx_dropped_no_handler = 0;    ///< no handler for the protocol
  std::uint64_t rx_dropped_reassembly = 0;    ///< fragments reassembly dropped (reasons in `reassembly`)
  // Transmit.
  std::uint64_t tx_datagrams = 0;                ///< datagrams handed to the link (whole or in fragments)
  std::uint64_t tx_fragments = 0;                ///< fragments of datagrams above mtu()
  std::uint64_t tx_dropped_no_route = 0;         ///< off-link destination and no gateway
  std::uint64_t tx_dropped_no_address = 0;       ///< unicast destination before an address is configured
  std::uint64_t tx_dropped_bad_destination = 0;  ///< 0.0.0.0, loopback or our own address
  std::uint64_t tx_dropped_too_big = 0;          ///< above 65515 bytes, or above mtu() with DF
  std::uint64_t tx_dropped_arp = 0;              ///< ARP refused the frame (e.g. its queue is full)
  std::uint64_t tx_dropped_link = 0;             ///< Ethernet refused a broadcast or multicast frame
  /// The reassembly core's own counts (duplicates, expiries, drops by reason).
  ipv4_reassembly_counters reassembly{};
};

/// Called when a datagram's reassembly times out after its first fragment
/// arrived, with that fragment's header (in `info`) and leading data: for
/// ICMP Time Exceeded, code 1 (RFC 1122 3.3.2, RFC 792).
using ipv4_reassembly_timeout_handler = delegate<void(const ipv4_datagram_info&, frame leading_data)>;

template <ethernet_layer Eth, arp_layer Arp, ipv4_config Config>
class ipv4 {
 public:
  /// The largest payload of one datagram: 65535 - 20 (RFC 791 3.1).
  static constexpr std::size_t max_payload = wire::ipv4::max_total_length - wire::ipv4::min_header_length;

  ipv4(Eth& eth, Arp& arp, Config& config, clock_ref clock, const ipv4_options& options = {})
      : eth_(eth),
        arp_(arp),
        config_(config),
        clock_(clock),
        ttl_(options.ttl),
        next_identification_(options.first_identification),
        reassembly_(options.reassembly),
        scratch_(max_payload) {
    // RFC 791 3.2: every internet module must pass 68 octets unfragmented.
    assert(eth_.mtu() >= 68);
    assert(options.ttl != 0);
    eth_.set_receiver(wire::ethernet::ethertype::ipv4, ethernet_handler::bind<&ipv4::on_frame>(*this));
    config_.set_change_handler(delegate<void()>::bind<&ipv4::on_config_change>(*this));
    reassembly_.set_expiry_handler(ipv4_reassembly::expiry_handler::bind<&ipv4::on_reassembly_expiry>(*this));
    on_config_change();
  }

  ipv4(const ipv4&) = delete;
  ipv4& operator=(const ipv4&) = delete;

  std::optional<ipv4_prefix> address() const { return config_.address(); }
  std::optional<ipv4_address> gateway() const { return config_.gateway(); }
  /// The largest payload sent in one unfragmented datagram.
  std::size_t mtu() const { return eth_.mtu() - wire::ipv4::min_header_length; }

  /// Sends a datagram of `size` payload bytes that `fill` writes (it is called
  /// exactly once; it may write fewer). False when dropped (counted).
  bool transmit(ipv4_address destination, std::uint8_t protocol, std::size_t size, frame_filler fill) {
    return transmit(destination, protocol, size, fill, ipv4_send_options{});
  }

  bool transmit(ipv4_address destination, std::uint8_t protocol, std::size_t size, frame_filler fill,
                const ipv4_send_options& options) {
    assert(!options.ttl || *options.ttl != 0);
    const std::optional<ipv4_prefix> me = config_.address();
    const std::optional<next_hop> hop = route(destination, me);
    if (!hop) return false;
    if (size > max_payload) {
      ++counters_.tx_dropped_too_big;
      log::debug(log::source::ipv4, "dropped a {}-byte datagram to {}: above 65515 bytes", size, destination);
      return false;
    }
    wire::ipv4::repr header;
    // RFC 1122 3.2.1.3 (a): 0.0.0.0 is our source only while we have no address.
    header.src = me ? me->address : ipv4_address::any();
    header.dst = destination;
    header.protocol = protocol;
    header.ttl = options.ttl.value_or(ttl_);
    header.dscp = options.dscp;
    header.ecn = options.ecn;
    header.identification = next_identification_++;
    header.dont_fragment = options.dont_fragment;

    if (size <= mtu()) {
      // The common case: the header and the payload written once, in place.
      auto write = [&](std::span<std::byte> out) -> std::size_t {
        if (out.size() < wire::ipv4::min_header_length) return 0;
        const std::span<std::byte> payload = out.subspan(wire::ipv4::min_header_length);
        const std::size_t written = fill(payload.first(std::min(size, payload.size())));
        assert(written <= size);
        header.payload_length = static_cast<std::uint16_t>(std::min(written, size));
        return wire::ipv4::emit(header, out) + header.payload_length;
      };
      if (!send(*hop, wire::ipv4::min_header_length + size, frame_filler(write))) return false;
      ++counters_.tx_datagrams;
      return true;
    }

    if (options.dont_fragment) {
      // RFC 791 3.2: a datagram marked DF is not fragmented; here it cannot be sent.
      ++counters_.tx_dropped_too_big;
      log::debug(log::source::ipv4, "dropped a {}-byte datagram to {}: DF and above the MTU", size, destination);
      return false;
    }
    return transmit_fragments(*hop, header, size, fill);
  }

  /// Datagrams of protocol `protocol` go to `h` (an empty delegate: dropped and counted).
  void set_receiver(std::uint8_t protocol, ipv4_handler h) noexcept { handlers_[protocol] = h; }

  /// Datagrams of a protocol with no handler are counted, then passed to `h`
  /// (ICMP's protocol unreachable, RFC 1122 3.2.2.1).
  void set_unknown_protocol_receiver(ipv4_handler h) noexcept { unknown_protocol_ = h; }

  /// See ipv4_reassembly_timeout_handler.
  void set_reassembly_timeout_handler(ipv4_reassembly_timeout_handler h) noexcept { reassembly_timeout_ = h; }

  /// Expires reassembly buffers; the next deadline or uk::never.
  instant poll(instant now) { return reassembly_.poll(now); }

  ipv4_counters counters() const noexcept {
    ipv4_counters c = counters_;
    c.reassembly = reassembly_.counters();
    return c;
  }

  const ipv4_reassembly& reassembly() const noexcept { return reassembly_; }

 private:
  /// Where a datagram goes on the link: a MAC known without ARP, or an IPv4 next hop to resolve.
  struct next_hop {
    std::optional<mac_address> mac;
    ipv4_address address{};
  };

  /// RFC 1122 3.3.1.1: the next hop of `destination`, or nullopt (counted).
  std::optional<next_hop> route(ipv4_address destination, const std::optional<ipv4_prefix>& me) {
    if (destination.is_broadcast()) return next_hop{mac_address::broadcast(), destination};  // RFC 894
    if (destination.is_multicast()) return next_hop{multicast_mac(destination), destination};
    if (!me) {
      ++counters_.tx_dropped_no_address;
      log::debug(log::source::ipv4, "no address yet: cannot send to {}", destination);
      return std::nullopt;
    }
    // RFC 1122 3.2.1.3: 0.0.0.0 and 127/8 are never destinations on the wire;
    // our own address would have to loop back, which this stack does not do.
    if (destination.is_unspecified() || destination.is_loopback() || destination == me->address) {
      ++counters_.tx_dropped_bad_destination;
      log::debug(log::source::ipv4, "not sending to {}: not a destination on the link", destination);
      return std::nullopt;
    }
    if (is_subnet_broadcast(destination, *me)) return next_hop{mac_address::broadcast(), destination};
    if (me->contains(destination)) return next_hop{std::nullopt, destination};
    if (const std::optional<ipv4_address> gateway = config_.gateway()) return next_hop{std::nullopt, *gateway};
    ++counters_.tx_dropped_no_route;
    log::debug(log::source::ipv4, "no route to {}: outside {} and no gateway", destination, *me);
    return std::nullopt;
  }

  bool send(const next_hop& hop, std::size_t size, frame_filler fill) {
    if (hop.mac) {
      if (eth_.transmit(*hop.mac, wire::ethernet::ethertype::ipv4, size, fill)) return true;
      ++counters_.tx_dropped_link;
      log::debug(log::source::ipv4, "the link refused a frame to {}", *hop.mac);
      return false;
    }
    if (arp_.transmit(hop.address, wire::ethernet::ethertype::ipv4, size, fill)) return true;
    ++counters_.tx_dropped_arp;
    log::debug(log::source::ipv4, "ARP refused a frame for {}", hop.address);
    return false;
  }

  /// RFC 791 3.2 "Fragmentation": the payload, written once into scratch_,
  /// is cut into pieces of the largest multiple of 8 octets that fits the MTU;
  /// every piece but the last has MF set; the offset counts 8-octet units.
  bool transmit_fragments(const next_hop& hop, wire::ipv4::repr header, std::size_t size, frame_filler fill) {
    const std::size_t total = std::min(fill(std::span<std::byte>(scratch_).first(size)), size);
    const std::size_t piece = mtu() / 8 * 8;
    std::size_t offset = 0;
    do {
      const std::size_t length = std::min(piece, total - offset);
      header.fragment_offset = static_cast<std::uint16_t>(offset);
      header.more_fragments = offset + length < total;
      header.payload_length = static_cast<std::uint16_t>(length);
      auto write = [&](std::span<std::byte> out) -> std::size_t {
        if (out.size() < wire::ipv4::min_header_length + length) return 0;
        wire::ipv4::emit(header, out);
        std::memcpy(out.data() + wire::ipv4::min_header_length, scratch_.data() + offset, length);
        return wire::ipv4::min_header_length + length;
      };
      // A lost fragment loses the datagram: stop at the first refusal.
      if (!send(hop, wire::ipv4::min_header_length + length, frame_filler(write))) return false;
      if (total > piece) ++counters_.tx_fragments;
      offset += length;
    } while (offset < total);
    ++counters_.tx_datagrams;
    return true;
  }

  void on_frame(mac_address, frame bytes) {
    const auto parsed = wire::ipv4::parse(bytes);
    if (!parsed) {
      if (parsed.error() == wire::error::bad_checksum) ++counters_.rx_dropped_bad_checksum;
      else ++counters_.rx_dropped_bad_header;
      log::debug(log::source::ipv4, "dropped a datagram: {}", wire::to_string(parsed.error()));
      return;
    }
    const wire::ipv4::view& datagram = *parsed;
    const std::optional<ipv4_prefix> me = config_.address();
    // RFC 1122 3.2.1.3: a source that is not one host's address is discarded
    // (0.0.0.0 is allowed: a host without an address yet, e.g. a DHCP client).
    const ipv4_address source = datagram.src();
    if (source.is_multicast() || (source.value >> 28) == 0xf || source.is_loopback() ||
        (me && is_subnet_broadcast(source, *me))) {
      ++counters_.rx_dropped_bad_source;
      log::debug(log::source::ipv4, "dropped a datagram from {}: not a host's address", source);
      return;
    }
    if (!accepts(datagram.dst(), me)) {
      ++counters_.rx_dropped_not_for_us;
      log::debug(log::source::ipv4, "dropped a datagram to {}: not for us", datagram.dst());
      return;
    }
    if (!datagram.is_fragment()) {
      deliver(info_of(datagram), datagram.payload());
      return;
    }
    ++counters_.rx_fragments;
    const ipv4_reassembly::add_result r = reassembly_.add(clock_(), datagram);
    switch (r.state) {
      case ipv4_reassembly::status::complete: {
        ++counters_.rx_reassembled;
        // The info comes from the first fragment's header, which was valid when it arrived.
        const auto first = wire::ipv4::parse_quoted(r.header, wire::ipv4::checksum_check::skip);
        if (first) deliver(info_of(*first), r.payload);
        return;
      }
      case ipv4_reassembly::status::dropped:
        ++counters_.rx_dropped_reassembly;
        log::debug(log::source::ipv4, "dropped a fragment of {} from {} (id {}): {}", datagram.dst(), source,
                   datagram.identification(), to_string(r.reason));
        return;
      case ipv4_reassembly::status::incomplete:
      case ipv4_reassembly::status::duplicate:
        return;
    }
  }

  /// Our address, 255.255.255.255 and our subnet broadcast; only
  /// 255.255.255.255 while unconfigured (a DHCP client's offer, RFC 2131 4.1).
  static bool accepts(ipv4_address destination, const std::optional<ipv4_prefix>& me) noexcept {
    return (me && destination == me->address) || is_broadcast_for(destination, me);
  }

  /// What a handler learns from `header`: the datagram's, or its first fragment's.
  static ipv4_datagram_info info_of(const wire::ipv4::view& header) noexcept {
    ipv4_datagram_info info;
    info.source = header.src();
    info.destination = header.dst();
    info.protocol = header.protocol();
    info.ttl = header.ttl();
    info.header = header.header();
    return info;
  }

  void deliver(const ipv4_datagram_info& info, frame payload) {
    const ipv4_handler& handler = handlers_[info.protocol];
    if (!handler) {
      ++counters_.rx_dropped_no_handler;
      log::debug(log::source::ipv4, "dropped a datagram from {}: no handler for protocol {}", info.source,
                 info.protocol);
      if (unknown_protocol_) unknown_protocol_(info, payload);
      return;
    }
    ++counters_.rx_datagrams;
    handler(info, payload);
  }

  void on_reassembly_expiry(const ipv4_reassembly::expired_datagram& expired) {
    log::debug(log::source::ipv4, "a datagram's reassembly timed out");
    if (!reassembly_timeout_) return;
    // The header was validated when its fragment arrived.
    const auto header = wire::ipv4::parse_quoted(expired.header, wire::ipv4::checksum_check::skip);
    if (!header) return;
    reassembly_timeout_(info_of(*header), expired.leading_data);
  }

  /// The configuration changed (a DHCP lease gained, changed or lost). Sends
  /// read the address anew each time, so nothing leaves from an old address;
  /// ARP answers for the new one only, or for none.
  void on_config_change() {
    if (const std::optional<ipv4_prefix> me = config_.address()) {
      if (arp_address_ != me->address) {
        arp_address_ = me->address;
        arp_.set_address(me->address);
      }
      if (const std::optional<ipv4_address> gateway = config_.gateway())
        log::debug(log::source::ipv4, "address {}, gateway {}", *me, *gateway);
      else
        log::debug(log::source::ipv4, "address {}, no gateway", *me);
    } else if (!arp_address_.is_unspecified()) {
      arp_address_ = ipv4_address::any();
      arp_.set_address(arp_address_);
      log::debug(log::source::ipv4, "no address");
    }
  }

  Eth& eth_;
  Arp& arp_;
  Config& config_;
  ipv4_address arp_address_{};  // what ARP answers for: the configured address, or 0.0.0.0
  clock_ref clock_;
  std::uint8_t ttl_;
  std::uint16_t next_identification_;
  ipv4_reassembly reassembly_;
  std::vector<std::byte> scratch_;  // the payload of a datagram being fragmented
  std::array<ipv4_handler, 256> handlers_{};
  ipv4_handler unknown_protocol_;
  ipv4_reassembly_timeout_handler reassembly_timeout_;
  ipv4_counters counters_;
};

}  // namespace uk::direct
