// uk::direct::arp<Eth>: the Address Resolution Protocol (RFC 826) for IPv4
// over an Ethernet layer (Mirage's Arp.Make(Ethernet)). A uk::arp_layer.
//
// The table, its timers and the queue of packets awaiting resolution are
// the sans-IO core uk::direct::arp_cache (arp_cache.hpp documents the entry
// states, bounds and timers); this layer parses and emits the packets,
// reads the clock once per event, and sends what the core decides.
//
// Receive, RFC 826 "Packet Reception", after uk::wire::arp::parse has
// checked ar$hrd (Ethernet), ar$pro (IPv4), the lengths and the opcode:
//   1. Drop a packet whose sender hardware address is a group address: no
//      host has one (IEEE 802.3 3.2.3), and caching it would send unicast
//      traffic to a group.                             rx_dropped_bad_sender_mac
//   2. Sender protocol address = ours, from another MAC: an address conflict
//      (RFC 5227 2.4): counted, logged at warning, never merged; defended by
//      one announcement at most every defend_interval (2.4 (c): a host with
//      a configured address may defend it indefinitely, "but it MUST NOT
//      send more than one defensive ARP Announcement per DEFEND_INTERVAL").
//      From our own MAC: our own packet looped back.   conflicts / rx_dropped_looped
//   3. Sender protocol address 0.0.0.0: an ARP Probe (RFC 5227 2.1.1), whose
//      zero sender is there "to avoid polluting ARP caches": answered when it
//      asks for our address (the prober needs our reply to see the conflict;
//      Linux does the same), never cached.
//   4. A broadcast or multicast sender protocol address is dropped.
//                                                      rx_dropped_bad_sender_ip
//   5. Merge_flag: if the sender's address is in the table, update its MAC.
//   6. "?Am I the target protocol address?" If so, add the sender when
//      Merge_flag is false, and answer a request (swap the fields, put our
//      MAC and address as sender, opcode reply, send it to the requester).
//      If not, and the sender was not in the table, nothing is learnt: a
//      flood of ARP traffic between other hosts does not fill our table
//      (RFC 826 adds entries only for packets whose target is us).
//                                                      rx_ignored_not_for_us
// An unconfigured layer (set_address(0.0.0.0), the initial state) owns no
// address: it answers nothing and learns only by merging.
//
// Address checking (RFC 5227 2.1), for a DHCP client: probe(ip) broadcasts an
// ARP Probe (sender MAC ours, sender IP 0.0.0.0, target ip) and watches ip
// until set_address() is called: any ARP packet from another MAC whose
// sender IP is ip, or any Probe from another MAC for ip (2.1.1: "the host
// MUST treat this address as being in use by some other host"; a
// simultaneous probe "SHOULD similarly" be treated as a conflict), goes to
// the probe conflict handler.                          probe_conflicts
//
// Transmit: transmit(ip, type, size, fill) sends to a resolved address at
// once, with no copy; to an unresolved one, the packet is copied into the
// bounded queue and a request goes out (retried with back-off by poll());
// the reply flushes the queue in order. The limited broadcast address goes
// to the Ethernet broadcast address (RFC 894 "Broadcast Address") and
// multicast groups to their mapped MAC (RFC 1112 6.4), without ARP; a
// subnet's directed broadcast is the IPv4 layer's to map (it knows the prefix).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "uk/addr.hpp"
#include "uk/concepts/arp.hpp"
#include "uk/concepts/ethernet.hpp"
#include "uk/delegate.hpp"
#include "uk/direct/arp_cache.hpp"
#include "uk/log.hpp"
#include "uk/time.hpp"
#include "uk/wire/arp.hpp"
#include "uk/wire/ethernet.hpp"

namespace uk::direct {

struct arp_options {
  arp_cache_options cache{};
  /// ARP Announcements sent when an address is set, announce_interval apart
  /// (RFC 5227 1.1: ANNOUNCE_NUM 2, ANNOUNCE_INTERVAL 2 seconds). 0: none.
  unsigned announcements = 2;
  duration announce_interval = std::chrono::seconds(2);
  /// At most one defending announcement per this interval when another host
  /// claims our address (RFC 5227 1.1: DEFEND_INTERVAL 10 seconds).
  duration defend_interval = std::chrono::seconds(10);
};

/// The ARP layer's counters: its own, and its table's (arp_cache_counters).
struct arp_counters : arp_cache_counters {
  std::uint64_t requests_in = 0, replies_in = 0;    ///< valid Ethernet/IPv4 ARP packets received
  std::uint64_t requests_out = 0, replies_out = 0;  ///< sent (announcements included in requests_out)
  std::uint64_t gratuitous_out = 0;  ///< announcements (RFC 5227 2.3) and defences (2.4)
  std::uint64_t defences = 0;        ///< announcements sent to defend our address
  std::uint64_t conflicts = 0;       ///< packets from another host claiming our address (RFC 5227 2.4)
  std::uint64_t probes_out = 0;        ///< ARP Probes sent (RFC 5227 2.1.1)
  std::uint64_t probe_conflicts = 0;   ///< packets showing a probed address in use

  std::uint64_t rx_dropped_truncated = 0;       ///< shorter than its 28 bytes
  std::uint64_t rx_dropped_unsupported = 0;     ///< not Ethernet/IPv4, or not a request or reply
  std::uint64_t rx_dropped_bad_sender_mac = 0;  ///< a broadcast or multicast sender MAC
  std::uint64_t rx_dropped_bad_sender_ip = 0;   ///< a broadcast or multicast sender address
  std::uint64_t rx_dropped_looped = 0;          ///< our own packets coming back
  std::uint64_t rx_ignored_not_for_us = 0;      ///< not for us, sender unknown: nothing learnt
  std::uint64_t rx_dropped_no_room = 0;         ///< a sender to add, every entry static

  std::uint64_t tx_dropped_bad_address = 0;  ///< transmit() to 0.0.0.0
  std::uint64_t tx_dropped_oversize = 0;     ///< an unresolved packet larger than the MTU (not queued)
  std::uint64_t tx_dropped_refused = 0;      ///< ARP packets or flushed packets the Ethernet layer refused
  std::uint64_t static_rejected = 0;         ///< add_static() with every entry already static
};

/// Told that the address being probed is in use by another host (RFC 5227 2.1.1).
using arp_probe_conflict_handler = delegate<void(ipv4_address probed)>;

template <ethernet_layer Eth>
class arp {
 public:
  /// Registers itself with `eth` for ethertype 0x0806; `eth` and the clock
  /// must outlive it.
  arp(Eth& eth, clock_ref clock, const arp_options& options = {})
      : eth_(eth), clock_(clock), options_(options), cache_(options.cache) {
    eth_.set_receiver(wire::ethernet::ethertype::arp, ethernet_handler::bind<&arp::on_packet>(*this));
  }
  // The Ethernet layer holds a delegate to this object.
  arp(const arp&) = delete;
  arp& operator=(const arp&) = delete;

  /// The address we answer for; 0.0.0.0 (the initial value) means none.
  /// Setting one announces it (RFC 5227 2.3: "broadcasting ANNOUNCE_NUM ARP
  /// Announcements, spaced ANNOUNCE_INTERVAL seconds apart"; an announcement
  /// is a request whose sender and target addresses are both ours, and
  /// RFC 5227 3 explains why a request and not a reply). We do not probe
  /// first (RFC 5227 2.1): the address is configured, not picked.
  void set_address(ipv4_address ip) {
    address_ = ip;
    probed_.reset();  // the check is over, whatever its outcome
    announcements_left_ = 0;
    next_announcement_ = never;
    if (ip.is_unspecified()) {
      log::debug(log::source::arp, "no address: answering nothing");
      return;
    }
    if (options_.announcements == 0) return;
    log::debug(log::source::arp, "announcing {} at {}", ip, eth_.mac());
    announce();
    announcements_left_ = options_.announcements - 1;
    if (announcements_left_ > 0) next_announcement_ = clock_() + options_.announce_interval;
  }
  ipv4_address address() const noexcept { return address_; }

  /// RFC 5227 2.1.1: broadcasts one ARP Probe for `candidate` ("an ARP
  /// Request constructed with an all-zero 'sender IP address'"), and watches
  /// it for conflicts until set_address() (see the top of this file).
  void probe(ipv4_address candidate) {
    probed_ = candidate;
    log::debug(log::source::arp, "probing {}", candidate);
    if (send_arp(mac_address::broadcast(), wire::arp::repr::request(eth_.mac(), ipv4_address::any(), candidate)))
      ++counters_.probes_out;
  }
  /// Who is told when a probed address turns out to be in use.
  void set_probe_conflict_handler(arp_probe_conflict_handler h) noexcept { on_probe_conflict_ = h; }

  /// The MAC of `ip` if the table has a usable one.
  std::optional<mac_address> lookup(ipv4_address ip) const { return cache_.lookup(ip); }

  /// A permanent entry: never aged, never changed by ARP. Packets queued for
  /// `ip` go out to `mac` now.
  void add_static(ipv4_address ip, mac_address mac) {
    if (!cache_.set_static(ip, mac)) {
      ++counters_.static_rejected;
      log::warning(log::source::arp, "no room for the static entry {} at {}: every entry is static", ip, mac);
      return;
    }
    flush(ip, mac);
  }

  /// Sends a packet of ethertype `type` to the host `ip`: `fill` writes at
  /// most `size` bytes. At once when resolved; else queued while resolving.
  /// False when the packet is dropped (reason counted).
  bool transmit(ipv4_address ip, std::uint16_t type, std::size_t size, frame_filler fill) {
    if (const mac_address* mac = cache_.hit(ip)) return eth_.transmit(*mac, type, size, fill);
    if (ip.is_broadcast()) return eth_.transmit(mac_address::broadcast(), type, size, fill);
    if (ip.is_multicast()) return eth_.transmit(multicast_mac(ip), type, size, fill);
    if (ip.is_unspecified()) {
      ++counters_.tx_dropped_bad_address;
      log::debug(log::source::arp, "dropped a packet to 0.0.0.0");
      return false;
    }
    if (size > eth_.mtu()) {  // the Ethernet layer would refuse it: do not queue it first
      ++counters_.tx_dropped_oversize;
      log::debug(log::source::arp, "dropped a packet of {} bytes to {}: over the MTU", size, ip);
      return false;
    }
    const arp_send_plan plan = cache_.resolve(ip, type, size, fill, clock_());
    bool sent = plan.queued;
    if (plan.send_to) sent = eth_.transmit(*plan.send_to, type, size, fill);
    if (plan.request_to) send_request(ip, *plan.request_to);
    return sent;
  }

  /// Retries, give-ups, ageing and repeated announcements due at `now`;
  /// returns the next deadline (see uk/time.hpp).
  instant poll(instant now) {
    instant next = cache_.poll(now, [this](ipv4_address ip, mac_address to) { send_request(ip, to); });
    if (announcements_left_ > 0 && now >= next_announcement_) {
      announce();
      --announcements_left_;
      next_announcement_ = announcements_left_ > 0 ? now + options_.announce_interval : never;
    }
    return std::min(next, next_announcement_);
  }

  arp_counters counters() const noexcept {
    arp_counters c = counters_;
    static_cast<arp_cache_counters&>(c) = cache_.counters();
    return c;
  }

  /// The table, for inspection.
  const arp_cache& cache() const noexcept { return cache_; }

 private:
  /// RFC 1112 6.4: "an IP host group address is mapped to an Ethernet
  /// multicast address by placing the low-order 23-bits of the IP address
  /// into the low-order 23 bits of the Ethernet multicast address
  /// 01-00-5E-00-00-00".
  static constexpr mac_address multicast_mac(ipv4_address ip) noexcept {
    return {{0x01, 0x00, 0x5e, static_cast<std::uint8_t>((ip.value >> 16) & 0x7f),
             static_cast<std::uint8_t>(ip.value >> 8), static_cast<std::uint8_t>(ip.value)}};
  }

  bool send_arp(mac_address to, const wire::arp::repr& packet) {
    auto write = [&packet](std::span<std::byte> out) { return wire::arp::emit(packet, out); };
    if (!eth_.transmit(to, wire::ethernet::ethertype::arp, wire::arp::packet_length, frame_filler(write))) {
      ++counters_.tx_dropped_refused;
      return false;
    }
    if (packet.operation == wire::arp::operation::request)
      ++counters_.requests_out;
    else
      ++counters_.replies_out;
    return true;
  }

  /// RFC 826 "Packet Generation": who has `target`? Broadcast to resolve,
  /// or unicast to the known MAC for a poll (RFC 1122 2.3.2.1 (2)).
  void send_request(ipv4_address target, mac_address to) {
    log::debug(log::source::arp, "who has {}? tell {} (to {})", target, address_, to);
    send_arp(to, wire::arp::repr::request(eth_.mac(), address_, target));
  }

  /// RFC 5227 2.3: an ARP Announcement, broadcast.
  void announce() {
    if (send_arp(mac_address::broadcast(), wire::arp::repr::request(eth_.mac(), address_, address_)))
      ++counters_.gratuitous_out;
  }

  /// Sends the packets queued for `ip` to `mac`, in order.
  void flush(ipv4_address ip, mac_address mac) {
    cache_.take_pending(ip, [&](std::uint16_t type, std::span<const std::byte> bytes) {
      auto copy = [bytes](std::span<std::byte> out) {
        std::memcpy(out.data(), bytes.data(), bytes.size());
        return bytes.size();
      };
      if (!eth_.transmit(mac, type, bytes.size(), frame_filler(copy))) ++counters_.tx_dropped_refused;
    });
  }

  void on_packet(mac_address /*source*/, frame payload) {
    const auto parsed = wire::arp::parse(payload);
    if (!parsed) {
      if (parsed.error() == wire::error::truncated)
        ++counters_.rx_dropped_truncated;
      else
        ++counters_.rx_dropped_unsupported;
      log::debug(log::source::arp, "dropped an ARP packet of {} bytes: {}", payload.size(),
                 wire::to_string(parsed.error()));
      return;
    }
    const wire::arp::repr packet = wire::arp::repr::from(*parsed);
    const bool request = packet.operation == wire::arp::operation::request;
    if (request)
      ++counters_.requests_in;
    else
      ++counters_.replies_in;

    if (packet.sender_mac.is_multicast()) {
      ++counters_.rx_dropped_bad_sender_mac;
      log::debug(log::source::arp, "dropped ARP from {}: sender MAC {} is a group address", packet.sender_ip,
                 packet.sender_mac);
      return;
    }
    if (probed_ && packet.sender_mac != eth_.mac() &&
        (packet.sender_ip == *probed_ ||
         (request && packet.sender_ip.is_unspecified() && packet.target_ip == *probed_))) {
      ++counters_.probe_conflicts;
      log::debug(log::source::arp, "{} uses or probes {}, which we are probing", packet.sender_mac, *probed_);
      if (on_probe_conflict_) on_probe_conflict_(*probed_);
    }
    const bool configured = !address_.is_unspecified();
    const bool for_us = configured && packet.target_ip == address_;

    if (configured && packet.sender_ip == address_) {
      if (packet.sender_mac == eth_.mac()) {
        ++counters_.rx_dropped_looped;
        log::debug(log::source::arp, "dropped our own ARP packet, looped back");
        return;
      }
      // RFC 5227 2.4: "a conflicting ARP packet, indicating some other host
      // also thinks it is validly using this address". Never merged.
      ++counters_.conflicts;
      log::warning(log::source::arp, "address conflict: {} claims our address {}", packet.sender_mac, address_);
      defend();
      return;
    }
    if (packet.sender_ip.is_unspecified()) {
      // RFC 5227 2.1.1: an ARP Probe. Answer it if it asks for our address.
      if (request && for_us) {
        log::debug(log::source::arp, "{} probes for our address {}: answering", packet.sender_mac, address_);
        send_arp(packet.sender_mac, wire::arp::repr::reply_to(packet, eth_.mac()));
      } else {
        ++counters_.rx_ignored_not_for_us;
      }
      return;
    }
    if (packet.sender_ip.is_broadcast() || packet.sender_ip.is_multicast()) {
      ++counters_.rx_dropped_bad_sender_ip;
      log::debug(log::source::arp, "dropped ARP from {}: sender address {} is not a host", packet.sender_mac,
                 packet.sender_ip);
      return;
    }

    const instant now = clock_();
    // RFC 826: "Merge_flag := false. If the pair <protocol type, sender
    // protocol address> is already in my translation table, update the
    // sender hardware address field of the entry with the new information
    // in the packet and set Merge_flag to true."
    const arp_merge merged = cache_.merge(packet.sender_ip, packet.sender_mac, now);
    if (merged == arp_merge::updated) flush(packet.sender_ip, packet.sender_mac);

    // "?Am I the target protocol address?"
    if (!for_us) {
      if (merged == arp_merge::absent) {
        ++counters_.rx_ignored_not_for_us;
        log::debug(log::source::arp, "ignored ARP from {} for {}: not for us", packet.sender_ip, packet.target_ip);
      }
      return;
    }
    // "Yes: If Merge_flag is false, add the triplet <protocol type, sender
    // protocol address, sender hardware address> to the translation table."
    if (merged == arp_merge::absent && !cache_.add(packet.sender_ip, packet.sender_mac, now)) {
      ++counters_.rx_dropped_no_room;
      log::debug(log::source::arp, "no room to learn {}: every entry is static", packet.sender_ip);
    }
    // "?Is the opcode ares_op$REQUEST? (NOW look at the opcode!!) Yes: Swap
    // hardware and protocol fields, putting the local hardware and protocol
    // addresses in the sender fields. Set the ar$op field to ares_op$REPLY.
    // Send the packet to the (new) target hardware address on the same
    // hardware on which the request was received."
    if (request) {
      log::debug(log::source::arp, "{} is at {}: telling {}", address_, eth_.mac(), packet.sender_ip);
      send_arp(packet.sender_mac, wire::arp::repr::reply_to(packet, eth_.mac()));
    }
  }

  /// RFC 5227 2.4 (c): a configured address is defended indefinitely, with
  /// one ARP Announcement, but never twice within DEFEND_INTERVAL.
  void defend() {
    const instant now = clock_();
    if (last_defence_ && now < *last_defence_ + options_.defend_interval) return;
    last_defence_ = now;
    ++counters_.defences;
    announce();
  }

  Eth& eth_;
  clock_ref clock_;
  arp_options options_;
  arp_cache cache_;
  ipv4_address address_{};
  unsigned announcements_left_ = 0;
  instant next_announcement_ = never;
  std::optional<instant> last_defence_{};
  std::optional<ipv4_address> probed_{};
  arp_probe_conflict_handler on_probe_conflict_;
  arp_counters counters_{};
};

}  // namespace uk::direct
