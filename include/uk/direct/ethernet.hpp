// uk::direct::ethernet<Netif>: Ethernet II framing over a netif (Mirage's
// Ethernet.Make(Netif)), demultiplexed by ethertype. A uk::ethernet_layer.
//
// Receive: every frame the netif delivers is parsed once (uk::wire::ethernet),
// filtered by destination, and its payload handed to the handler registered
// for its ethertype. Each dropped frame is counted by reason and logged at
// debug:
//   shorter than the 14-byte header ................ rx_dropped_truncated
//   an IEEE 802.3 length field, not a type (LLC) ... rx_dropped_unsupported
//   destination neither our MAC nor broadcast ...... rx_dropped_not_for_us
//   destination a multicast group (no group is
//     subscribed: nothing above us needs one yet) .. rx_dropped_multicast
//   source a group address (IEEE 802.3 3.2.3:
//     the source is always an individual address) .. rx_dropped_bad_source
//   an 802.1Q tag (we are not VLAN-aware) .......... rx_dropped_vlan
//   no handler for the ethertype ................... rx_dropped_unknown_ethertype
// The payload keeps any link padding (IEEE 802.3 4.2.3.3): the upper layer's
// own length field excludes it.
//
// Transmit: `transmit(dst, type, size, fill)` asks the netif for a slot of
// 14 + size bytes, writes the header into it and lets `fill` write the
// payload right after it: one write, in place. Short frames are not padded
// to 60 bytes here: padding is the device's job (uk/wire/ethernet.hpp), and
// Linux TAP and veth devices take 42-byte ARP frames as they are.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "uk/addr.hpp"
#include "uk/concepts/ethernet.hpp"
#include "uk/concepts/netif.hpp"
#include "uk/delegate.hpp"
#include "uk/detail/endian.hpp"
#include "uk/log.hpp"
#include "uk/wire/ethernet.hpp"

namespace uk::direct {

/// What the Ethernet layer counts: frames in and out, drops by reason.
struct ethernet_counters {
  std::uint64_t rx_frames = 0, rx_bytes = 0;  ///< every frame the netif delivered
  std::uint64_t rx_delivered = 0;             ///< frames handed to an upper layer
  std::uint64_t tx_frames = 0, tx_bytes = 0;  ///< frames the netif accepted

  std::uint64_t rx_dropped_truncated = 0;          ///< shorter than the header
  std::uint64_t rx_dropped_unsupported = 0;        ///< IEEE 802.3 length/LLC frames
  std::uint64_t rx_dropped_not_for_us = 0;         ///< unicast to another MAC
  std::uint64_t rx_dropped_multicast = 0;          ///< to a group we did not join
  std::uint64_t rx_dropped_bad_source = 0;         ///< source MAC is a group address
  std::uint64_t rx_dropped_vlan = 0;               ///< 802.1Q-tagged (we are not VLAN-aware)
  std::uint64_t rx_dropped_unknown_ethertype = 0;  ///< no handler registered for the type

  std::uint64_t tx_dropped_oversize = 0;  ///< payload larger than mtu()
  std::uint64_t tx_dropped_refused = 0;   ///< the netif refused (transmit queue full)
};

template <netif Netif>
class ethernet {
 public:
  /// How many ethertypes can have a handler at once (IPv4, ARP, and room to grow).
  static constexpr std::size_t max_receivers = 4;

  /// Registers itself as `device`'s receiver; `device` must outlive it.
  explicit ethernet(Netif& device) : device_(device) {
    device_.set_receiver(frame_handler::bind<&ethernet::on_frame>(*this));
  }
  // The netif holds a delegate to this object.
  ethernet(const ethernet&) = delete;
  ethernet& operator=(const ethernet&) = delete;

  mac_address mac() const { return device_.mac(); }
  /// The largest payload of one frame (the netif's MTU: 1500 on TAP).
  std::size_t mtu() const { return device_.mtu(); }

  Netif& device() noexcept { return device_; }
  const Netif& device() const noexcept { return device_; }

  /// Payloads of frames of ethertype `type` addressed to us go to `h`;
  /// an empty `h` removes the handler. Precondition: `type` is an ethertype
  /// (>= 0x0600, IEEE 802.3 3.2.6) other than the 802.1Q TPID, and at most
  /// max_receivers types are registered.
  void set_receiver(std::uint16_t type, ethernet_handler h) {
    assert(type >= wire::ethernet::min_ethertype && type != wire::ethernet::ethertype::vlan);
    receiver* free = nullptr;
    for (receiver& r : receivers_) {
      if (r.handler && r.type == type) {
        r.handler = h;
        return;
      }
      if (!r.handler && free == nullptr) free = &r;
    }
    if (!h) return;
    assert(free != nullptr && "more than max_receivers ethertypes registered");
    if (free == nullptr) return;
    *free = receiver{type, h};
  }

  /// Sends a frame to `dst` (by reference: copying a 6-byte MAC through an
  /// optional cost arp's fast path half its time) with ethertype `type`; `fill` writes at most
  /// `size` payload bytes after the header. False (and counted) when `size`
  /// exceeds mtu() or the netif refuses the frame. When `fill` writes
  /// nothing, nothing is sent (the netif convention) and true is returned.
  bool transmit(const mac_address& dst, std::uint16_t type, std::size_t size, frame_filler fill) {
    if (size > device_.mtu()) {
      ++counters_.tx_dropped_oversize;
      log::debug(log::source::ethernet, "dropped an outgoing frame of {} bytes: over the MTU of {}", size,
                 device_.mtu());
      return false;
    }
    std::size_t written = 0;
    auto write = [&](std::span<std::byte> slot) -> std::size_t {
      assert(slot.size() >= wire::ethernet::header_length);
      if (slot.size() < wire::ethernet::header_length) return 0;
      // The header first: `dst` may refer to an ARP table entry, read before any upper code runs.
      wire::ethernet::emit({dst, device_.mac(), type, std::nullopt}, slot);
      const std::span<std::byte> payload = slot.subspan(wire::ethernet::header_length);
      const std::size_t length = fill(payload.first(std::min(size, payload.size())));
      if (length == 0) return 0;
      written = wire::ethernet::header_length + length;
      return written;
    };
    if (!device_.transmit(wire::ethernet::header_length + size, frame_filler(write))) {
      ++counters_.tx_dropped_refused;
      log::debug(log::source::ethernet, "the device refused a frame to {} (type {:#06x})", dst, type);
      return false;
    }
    if (written != 0) {
      ++counters_.tx_frames;
      counters_.tx_bytes += written;
    }
    return true;
  }

  const ethernet_counters& counters() const noexcept { return counters_; }

 private:
  struct receiver {
    std::uint16_t type = 0;
    ethernet_handler handler{};
  };

  void on_frame(frame bytes) {
    ++counters_.rx_frames;
    counters_.rx_bytes += bytes.size();
    const auto parsed = wire::ethernet::parse(bytes);
    if (!parsed) {
      drop_unparsed(bytes, parsed.error());
      return;
    }
    // IEEE 802.3 3.2.3: a station takes frames addressed to its own
    // individual address and to the broadcast address; a group address only
    // if it was asked to receive that group (none is, yet).
    const mac_address dst = parsed->dst();
    if (dst != device_.mac() && !dst.is_broadcast()) {
      if (dst.is_multicast()) {
        ++counters_.rx_dropped_multicast;
        log::debug(log::source::ethernet, "dropped a frame to the group {}: not subscribed", dst);
      } else {
        ++counters_.rx_dropped_not_for_us;
        log::debug(log::source::ethernet, "dropped a frame to {}: not for us", dst);
      }
      return;
    }
    const mac_address src = parsed->src();
    if (src.is_multicast()) {
      ++counters_.rx_dropped_bad_source;
      log::debug(log::source::ethernet, "dropped a frame from the group address {}", src);
      return;
    }
    if (parsed->tagged()) {
      ++counters_.rx_dropped_vlan;
      log::debug(log::source::ethernet, "dropped an 802.1Q frame from {} (VLAN {}): not VLAN-aware", src,
                 parsed->vlan_id());
      return;
    }
    const std::uint16_t type = parsed->ethertype();
    for (const receiver& r : receivers_) {
      if (r.type == type && r.handler) {
        ++counters_.rx_delivered;
        r.handler(src, parsed->payload());
        return;
      }
    }
    ++counters_.rx_dropped_unknown_ethertype;
    log::debug(log::source::ethernet, "dropped a frame from {}: no handler for type {:#06x}", src, type);
  }

  void drop_unparsed(frame bytes, wire::error e) {
    // A frame whose type field is the 802.1Q TPID is a VLAN frame, even when
    // its tag is one the parser rejects (reserved VID, stacked tags).
    if (bytes.size() >= wire::ethernet::header_length &&
        uk::detail::load_be16(bytes.data() + 12) == wire::ethernet::ethertype::vlan) {
      ++counters_.rx_dropped_vlan;
    } else if (e == wire::error::truncated) {
      ++counters_.rx_dropped_truncated;
    } else {
      ++counters_.rx_dropped_unsupported;
    }
    log::debug(log::source::ethernet, "dropped a frame of {} bytes: {}", bytes.size(), wire::to_string(e));
  }

  Netif& device_;
  std::array<receiver, max_receivers> receivers_{};
  ethernet_counters counters_;
};

}  // namespace uk::direct
