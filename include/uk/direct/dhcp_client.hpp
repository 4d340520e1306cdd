// uk::direct::dhcp_client: the sans-IO core of a DHCP client (RFC 2131),
// with the address check of RFC 5227. It knows nothing of UDP, ARP or a
// clock: messages come in with `now`, messages and ARP probes go out through
// delegates, and poll(now) runs the timers and returns the next deadline.
// uk::direct::dhcp_config (dhcp_config.hpp) plugs it into the direct stack.
//
// States (RFC 2131 4.4, figure 5), and what leaves each:
//
//   INIT        -> sends DHCPDISCOVER (broadcast)                -> SELECTING
//   SELECTING   DHCPOFFER (first acceptable one, 4.4.1)
//               -> DHCPREQUEST (broadcast, server id, requested ip) -> REQUESTING
//   REQUESTING  DHCPACK -> CHECKING; DHCPNAK -> INIT;
//               no answer after request_tries -> INIT (4.4.1)
//   INIT-REBOOT (a remembered address) -> DHCPREQUEST (broadcast,
//               requested ip, no server id)                      -> REBOOTING
//   REBOOTING   DHCPACK -> CHECKING; DHCPNAK or no answer -> INIT (3.2, 4.4.2)
//   CHECKING    ARP probes of the address (RFC 5227 2.1.1): a conflict ->
//               DHCPDECLINE, INIT after decline_wait (RFC 2131 3.1 step 5:
//               "SHOULD wait a minimum of ten seconds"); silence -> BOUND
//   BOUND       T1 -> DHCPREQUEST unicast to the server (ciaddr) -> RENEWING
//   RENEWING    DHCPACK -> BOUND (new times); DHCPNAK -> INIT (lease lost);
//               T2 -> DHCPREQUEST broadcast                      -> REBINDING
//   REBINDING   DHCPACK (any server) -> BOUND; DHCPNAK -> INIT;
//               lease expiry -> INIT (lease lost: the change handler fires
//               with no address, 4.4.5)
//   release()   from BOUND, RENEWING or REBINDING: DHCPRELEASE (4.4.6) -> STOPPED
//
// Retransmission (RFC 2131 4.1): the first after 4 s, doubled up to 64 s,
// each randomized by -1..+1 s ("uniform random number chosen from the range
// -1 to +1"). In RENEWING and REBINDING (4.4.5): half the time left to T2 or
// to the lease's end, "down to a minimum of 60 seconds" (min_renew_retransmit).
//
// The times of a lease are the server's (options 51, 58, 59), not a fixed
// timer; when T1/T2 are absent or inconsistent (not 0 < T1 <= T2 <= lease)
// the defaults of 4.4.5 apply: 0.5 and 0.875 of the lease.
//
// Hostile input: every message that is not a reply to our current
// transaction (xid, chaddr, client id), not valid for the state, or whose
// lease is absurd (missing, 0, shorter than min_lease) is dropped, counted
// in counters() and logged at debug. The parser (uk/wire/dhcp.hpp) already
// rejects bad options and overload loops (an overload option inside an
// overloaded field is ignored, so no area is read twice).
//
// Nothing here allocates after construction, reads a clock or throws once built.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "uk/addr.hpp"
#include "uk/delegate.hpp"
#include "uk/direct/dhcp_lease.hpp"
#include "uk/direct/static_config.hpp"
#include "uk/log.hpp"
#include "uk/time.hpp"
#include "uk/wire/dhcp.hpp"

namespace uk::direct {

enum class dhcp_state : std::uint8_t {
  init,
  selecting,
  requesting,
  init_reboot,
  rebooting,
  checking,
  bound,
  renewing,
  rebinding,
  stopped,
};

constexpr std::string_view to_string(dhcp_state s) noexcept {
  switch (s) {
    case dhcp_state::init: return "INIT";
    case dhcp_state::selecting: return "SELECTING";
    case dhcp_state::requesting: return "REQUESTING";
    case dhcp_state::init_reboot: return "INIT-REBOOT";
    case dhcp_state::rebooting: return "REBOOTING";
    case dhcp_state::checking: return "CHECKING";
    case dhcp_state::bound: return "BOUND";
    case dhcp_state::renewing: return "RENEWING";
    case dhcp_state::rebinding: return "REBINDING";
    case dhcp_state::stopped: return "STOPPED";
  }
  return "?";
}

struct dhcp_client_options {
  /// Our hardware address: chaddr, and the client identifier (RFC 2132 9.14:
  /// type 1, Ethernet, followed by the MAC).
  mac_address mac{};
  /// Option 12 (RFC 2132 3.14); empty: not sent. At most 63 octets
  /// (one DNS label, RFC 1035 2.3.4) of letters, digits and '-'.
  std::string hostname{};
  /// An address we held before: start in INIT-REBOOT and ask for it (RFC 2131 3.2).
  std::optional<ipv4_address> remembered{};
  /// Seeds the transaction ids and the randomized delays.
  std::uint64_t seed = 1;

  /// RFC 2131 4.1: 4 s before the first retransmission, doubled up to 64 s.
  duration retransmit_initial = std::chrono::seconds(4);
  duration retransmit_max = std::chrono::seconds(64);
  /// REQUESTs sent in REQUESTING or REBOOTING before going back to INIT.
  unsigned request_tries = 4;
  /// RFC 2131 4.4.5: retransmissions in RENEWING and REBINDING wait half the
  /// time left, "down to a minimum of 60 seconds".
  duration min_renew_retransmit = std::chrono::seconds(60);
  /// RFC 2131 3.1 step 5: wait after a DHCPDECLINE before restarting.
  duration decline_wait = std::chrono::seconds(10);
  /// Leases shorter than this are absurd: dropped and counted.
  duration min_lease = std::chrono::seconds(10);

  /// RFC 5227 2.1.1: PROBE_NUM probes (0: no check), the first after a random
  /// delay in 0..PROBE_WAIT, then PROBE_MIN..PROBE_MAX apart, then
  /// ANNOUNCE_WAIT of silence before the address is used.
  unsigned probe_count = 3;
  duration probe_wait = std::chrono::seconds(1);
  duration probe_min = std::chrono::seconds(1);
  duration probe_max = std::chrono::seconds(2);
  duration announce_wait = std::chrono::seconds(2);
};

struct dhcp_client_counters {
  std::uint64_t tx_discover = 0, tx_request = 0, tx_decline = 0, tx_release = 0;
  std::uint64_t tx_dropped = 0;  ///< the send delegate refused a message
  std::uint64_t probes_sent = 0;
  std::uint64_t rx_offer = 0, rx_ack = 0, rx_nak = 0;  ///< accepted
  std::uint64_t leases = 0;          ///< leases obtained (BOUND entered from CHECKING)
  std::uint64_t renewals = 0;        ///< leases extended in RENEWING or REBINDING
  std::uint64_t expiries = 0;        ///< leases that ran out
  std::uint64_t conflicts = 0;       ///< addresses declined after an ARP conflict (RFC 5227)
  std::uint64_t request_timeouts = 0;  ///< REQUESTING or REBOOTING gave up: back to INIT
  std::uint64_t bad_times_ignored = 0;  ///< T1/T2 inconsistent with the lease: defaults used

  std::uint64_t rx_malformed = 0;       ///< not a valid DHCP message (wire parser)
  std::uint64_t rx_not_reply = 0;       ///< op is BOOTREQUEST
  std::uint64_t rx_not_dhcp = 0;        ///< no message type: BOOTP (RFC 2131 3)
  std::uint64_t rx_wrong_xid = 0;       ///< not our current transaction
  std::uint64_t rx_wrong_chaddr = 0;    ///< another client's hardware address
  std::uint64_t rx_wrong_client_id = 0; ///< echoes another client identifier (RFC 6842)
  std::uint64_t rx_unexpected = 0;      ///< a type not expected in the state (duplicates too)
  std::uint64_t rx_wrong_server = 0;    ///< from a server we did not choose
  std::uint64_t rx_bad_offer = 0;       ///< no server id, or an address no host can have
  std::uint64_t rx_bad_lease = 0;       ///< ACK without lease time, lease absurd, or bad mask
};

/// A DHCP client: a sans-IO state machine (see the top of this file).
class dhcp_client {
 public:
  /// Sends `message` (a DHCP message, UDP payload) from 0.0.0.0:68 or our
  /// address to `destination`:67; false when it could not be sent.
  using send_handler = delegate<bool(ipv4_address destination, std::span<const std::byte> message)>;
  /// Sends one ARP probe for `address` (RFC 5227 2.1.1).
  using probe_handler = delegate<void(ipv4_address address)>;
  /// Called when the lease's address, prefix or router changes, or is lost.
  using change_handler = delegate<void()>;

  static constexpr std::size_t max_hostname = 63;

  explicit dhcp_client(const dhcp_client_options& options) : options_(options), random_(options.seed) {
    if (options_.hostname.size() > max_hostname ||
        !std::ranges::all_of(options_.hostname, [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        }))
      throw std::invalid_argument("a DHCP hostname is at most 63 letters, digits and '-'");
    client_id_[0] = std::byte{wire::dhcp::htype_ethernet};
    for (std::size_t i = 0; i < 6; ++i) client_id_[1 + i] = std::byte{options_.mac.octets[i]};
  }
  dhcp_client(const dhcp_client&) = delete;
  dhcp_client& operator=(const dhcp_client&) = delete;

  void set_send_handler(send_handler h) noexcept { send_ = h; }
  void set_probe_handler(probe_handler h) noexcept { probe_ = h; }
  void set_change_handler(change_handler h) noexcept { on_change_ = h; }

  /// Starts: INIT-REBOOT with a remembered address, else INIT. Sends at once.
  void start(instant now) {
    if (options_.remembered) {
      state_ = dhcp_state::init_reboot;
      requested_ = *options_.remembered;
    } else {
      state_ = dhcp_state::init;
    }
    deadline_ = now;
    poll(now);
  }

  /// The lease in use (BOUND, RENEWING, REBINDING), or nullopt.
  const std::optional<dhcp_lease>& lease() const noexcept { return lease_; }
  dhcp_state state() const noexcept { return state_; }
  const dhcp_client_counters& counters() const noexcept { return counters_; }
  /// The transaction id of the current exchange (tests forge replies with it).
  std::uint32_t xid() const noexcept { return xid_; }
  /// The address being checked or requested, if any.
  std::optional<ipv4_address> candidate() const noexcept {
    if (state_ == dhcp_state::checking || state_ == dhcp_state::requesting || state_ == dhcp_state::rebooting)
      return requested_;
    return std::nullopt;
  }

  /// Runs the timers due at `now`; returns the next deadline.
  instant poll(instant now) {
    // Each step may set a new deadline that is already due (INIT sends at once).
    for (int guard = 0; guard < 8 && now >= deadline_; ++guard) on_deadline(now);
    return deadline_;
  }

  /// A UDP payload that arrived on port 68 from port 67.
  void receive(std::span<const std::byte> bytes, instant now) {
    const auto parsed = wire::dhcp::parse(bytes);
    if (!parsed) return drop(counters_.rx_malformed, "malformed: {}", wire::to_string(parsed.error()));
    const wire::dhcp::view& m = *parsed;
    if (m.op() != wire::dhcp::opcode::boot_reply) return drop(counters_.rx_not_reply, "not a reply");
    if (m.xid() != xid_ || !awaiting_reply()) return drop(counters_.rx_wrong_xid, "xid {:#010x}", m.xid());
    if (m.client_mac() != options_.mac) return drop(counters_.rx_wrong_chaddr, "another client's chaddr");
    const auto& o = m.options();
    if (!o.message_type) return drop(counters_.rx_not_dhcp, "a BOOTP reply (no message type)");
    // RFC 6842 3: a server that echoes a client identifier echoes ours.
    if (o.client_id && !std::ranges::equal(o.client_id->bytes(), client_id_))
      return drop(counters_.rx_wrong_client_id, "another client identifier");
    switch (*o.message_type) {
      case wire::dhcp::message_type::offer: return on_offer(m, now);
      case wire::dhcp::message_type::ack: return on_ack(m, now);
      case wire::dhcp::message_type::nak: return on_nak(m, now);
      default: return drop(counters_.rx_unexpected, "{} is not for a client", to_string(*o.message_type));
    }
  }

  /// ARP saw another host use `address` (RFC 5227 2.1.1), while we check it.
  void conflict(ipv4_address address, instant now) {
    if (state_ != dhcp_state::checking || address != requested_) return;
    ++counters_.conflicts;
    log::warning(log::source::dhcp, "{} is in use by another host: declining it", address);
    // RFC 2131 3.1 step 5 and 4.4.1: DHCPDECLINE, then restart after a wait.
    send_message(wire::dhcp::message_type::decline, now);
    declined_ = address;
    pending_.reset();
    enter(dhcp_state::init, now + options_.decline_wait);
  }

  /// RFC 2131 4.4.6: gives the lease back with DHCPRELEASE and stops.
  void release(instant now) {
    if (lease_) {
      log::info(log::source::dhcp, "releasing {} to {}", lease_->address, lease_->server);
      send_message(wire::dhcp::message_type::release, now);
      lose_lease();
    }
    enter(dhcp_state::stopped, never);
  }

 private:
  // ---- time and randomness ------------------------------------------------------
  std::uint64_t next_random() noexcept {  // splitmix64: small and good enough for xids and jitter
    std::uint64_t z = (random_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi].
  duration random_between(duration lo, duration hi) noexcept {
    if (hi <= lo) return lo;
    const auto span = static_cast<std::uint64_t>((hi - lo).count());
    return lo + duration{static_cast<duration::rep>(next_random() % (span + 1))};
  }
  /// RFC 2131 4.1: the wait before retransmission number `sent` (1 for the first).
  duration retransmit_delay(unsigned sent) noexcept {
    duration d = options_.retransmit_initial;
    for (unsigned i = 1; i < sent && d < options_.retransmit_max; ++i) d *= 2;
    d = std::min(d, options_.retransmit_max);
    return std::max(duration::zero(), d + random_between(-std::chrono::seconds(1), std::chrono::seconds(1)));
  }

  template <class... Args>
  void drop(std::uint64_t& counter, fmt::format_string<Args...> why, Args&&... args) {
    ++counter;
    if (log::enabled(log::source::dhcp, log::level::debug))
      log::debug(log::source::dhcp, "dropped a message in {}: {}", to_string(state_),
                 fmt::format(why, std::forward<Args>(args)...));
  }

  bool awaiting_reply() const noexcept {
    return state_ == dhcp_state::selecting || state_ == dhcp_state::requesting ||
           state_ == dhcp_state::rebooting || state_ == dhcp_state::renewing || state_ == dhcp_state::rebinding ||
           state_ == dhcp_state::checking || state_ == dhcp_state::bound;
  }

  void enter(dhcp_state s, instant deadline) {
    if (s != state_) log::debug(log::source::dhcp, "{} -> {}", to_string(state_), to_string(s));
    state_ = s;
    deadline_ = deadline;
  }

  void new_transaction(instant now) {
    xid_ = static_cast<std::uint32_t>(next_random());
    started_ = now;
    request_sent_at_ = now;
    sent_ = 0;
  }

  // ---- timers -------------------------------------------------------------------
  void on_deadline(instant now) {
    switch (state_) {
      case dhcp_state::init:
        // RFC 2131 4.4.1. (The random 1-10 s wait it suggests before the first
        // DISCOVER spreads out hosts that boot together after a power failure;
        // a uk unikernel's boot waits on this lease, so it starts at once.)
        new_transaction(now);
        enter(dhcp_state::selecting, now);
        [[fallthrough]];
      case dhcp_state::selecting:
        // Retransmitted for ever: with no server there is nothing else to do.
        send_message(wire::dhcp::message_type::discover, now);
        deadline_ = now + retransmit_delay(sent_);
        return;
      case dhcp_state::init_reboot:
        new_transaction(now);
        enter(dhcp_state::rebooting, now);
        [[fallthrough]];
      case dhcp_state::requesting:
      case dhcp_state::rebooting:
        if (sent_ >= options_.request_tries) {
          ++counters_.request_timeouts;
          log::info(log::source::dhcp, "no answer to DHCPREQUEST for {}: starting over", requested_);
          pending_.reset();
          enter(dhcp_state::init, now);
          return;
        }
        send_message(wire::dhcp::message_type::request, now);
        deadline_ = now + retransmit_delay(sent_);
        return;
      case dhcp_state::checking: return on_probe_timer(now);
      case dhcp_state::bound:
        // RFC 2131 4.4.5: at T1, RENEWING, unicast to the server that leased.
        new_transaction(now);
        enter(dhcp_state::renewing, now);
        [[fallthrough]];
      case dhcp_state::renewing:
        if (now >= lease_->rebind_at) {
          // T2: REBINDING, broadcast to any server. Same transaction id? A new
          // exchange: RFC 2131 4.4.5 lets the client choose; a new xid keeps a
          // late answer of the old server from being mistaken.
          new_transaction(now);
          enter(dhcp_state::rebinding, now);
          return on_deadline(now);
        }
        send_message(wire::dhcp::message_type::request, now);
        deadline_ = renew_retransmit_at(now, lease_->rebind_at);
        return;
      case dhcp_state::rebinding:
        if (now >= lease_->expires_at) {
          ++counters_.expiries;
          log::warning(log::source::dhcp, "the lease of {} expired", lease_->address);
          lose_lease();
          enter(dhcp_state::init, now);
          return;
        }
        send_message(wire::dhcp::message_type::request, now);
        deadline_ = renew_retransmit_at(now, lease_->expires_at);
        return;
      case dhcp_state::stopped: deadline_ = never; return;
    }
  }

  /// RFC 2131 4.4.5: "one-half of the remaining time until T2 (in RENEWING
  /// state) and one-half of the remaining lease time (in REBINDING state),
  /// down to a minimum of 60 seconds", and never past `limit`.
  instant renew_retransmit_at(instant now, instant limit) const {
    const duration half = (limit - now) / 2;
    return std::min(limit, now + std::max(half, options_.min_renew_retransmit));
  }

  void on_probe_timer(instant now) {
    if (probes_sent_ < options_.probe_count) {
      ++probes_sent_;
      ++counters_.probes_sent;
      if (probe_) probe_(requested_);
      // RFC 5227 2.1.1: PROBE_MIN..PROBE_MAX between probes, ANNOUNCE_WAIT after the last.
      deadline_ = now + (probes_sent_ < options_.probe_count ? random_between(options_.probe_min, options_.probe_max)
                                                              : options_.announce_wait);
      return;
    }
    bind(now);
  }

  // ---- receiving ----------------------------------------------------------------
  void on_offer(const wire::dhcp::view& m, instant now) {
    if (state_ != dhcp_state::selecting) return drop(counters_.rx_unexpected, "an offer");
    const auto& o = m.options();
    // RFC 2131 table 3: a DHCPOFFER MUST carry the server identifier.
    if (!o.server_id || invalid_host_address(*o.server_id))
      return drop(counters_.rx_bad_offer, "an offer without a usable server identifier");
    if (invalid_host_address(m.yiaddr())) return drop(counters_.rx_bad_offer, "an offer of {}", m.yiaddr());
    if (declined_ && m.yiaddr() == *declined_ && now < declined_until())
      return drop(counters_.rx_bad_offer, "an offer of {}, which we just declined", m.yiaddr());
    ++counters_.rx_offer;
    log::debug(log::source::dhcp, "{} offers {}", *o.server_id, m.yiaddr());
    // RFC 2131 4.4.1: "the client may choose to collect several DHCPOFFER
    // messages"; the first acceptable one is as good as any.
    requested_ = m.yiaddr();
    server_ = *o.server_id;
    request_sent_at_ = now;
    sent_ = 0;
    enter(dhcp_state::requesting, now);
    send_message(wire::dhcp::message_type::request, now);
    deadline_ = now + retransmit_delay(sent_);
  }

  void on_ack(const wire::dhcp::view& m, instant now) {
    const bool acquiring = state_ == dhcp_state::requesting || state_ == dhcp_state::rebooting;
    const bool extending = state_ == dhcp_state::renewing || state_ == dhcp_state::rebinding;
    if (!acquiring && !extending) return drop(counters_.rx_unexpected, "an ack");
    const auto& o = m.options();
    if (state_ == dhcp_state::requesting && o.server_id && *o.server_id != server_)
      return drop(counters_.rx_wrong_server, "an ack from {}, we chose {}", *o.server_id, server_);
    if (state_ == dhcp_state::renewing && o.server_id && *o.server_id != lease_->server)
      return drop(counters_.rx_wrong_server, "an ack from {} while renewing with {}", *o.server_id, lease_->server);
    const ipv4_address address = m.yiaddr();
    if (invalid_host_address(address)) return drop(counters_.rx_bad_offer, "an ack of {}", address);
    if ((state_ == dhcp_state::rebooting || state_ == dhcp_state::requesting) && address != requested_)
      return drop(counters_.rx_bad_offer, "an ack of {}, we asked for {}", address, requested_);
    auto lease = lease_from(m, now);
    if (!lease) return;  // counted
    ++counters_.rx_ack;
    if (acquiring) {
      // RFC 2131 4.4.1: "The client SHOULD perform a check on the suggested
      // address to ensure that the address is not already in use" (RFC 5227).
      pending_ = *lease;
      probes_sent_ = 0;
      enter(dhcp_state::checking, now + random_between(duration::zero(), options_.probe_wait));
      if (options_.probe_count == 0) bind(now);
      return;
    }
    // RENEWING or REBINDING: the lease is extended (perhaps by a new server,
    // perhaps with another address: then the old one is gone, 4.4.5).
    ++counters_.renewals;
    const bool changed = lease->address != lease_->address || lease->router != lease_->router;
    log::info(log::source::dhcp, "{} renewed by {} for {}", lease->address, lease->server, describe(*lease));
    lease_ = *lease;
    enter(dhcp_state::bound, lease_->renew_at);
    if (changed && on_change_) on_change_();
  }

  void on_nak(const wire::dhcp::view& m, instant now) {
    const auto& o = m.options();
    switch (state_) {
      case dhcp_state::requesting:
        if (o.server_id && *o.server_id != server_) return drop(counters_.rx_wrong_server, "a nak from {}", *o.server_id);
        break;
      case dhcp_state::renewing:
        if (o.server_id && *o.server_id != lease_->server)
          return drop(counters_.rx_wrong_server, "a nak from {}", *o.server_id);
        break;
      case dhcp_state::rebooting:
      case dhcp_state::rebinding: break;
      default: return drop(counters_.rx_unexpected, "a nak");
    }
    ++counters_.rx_nak;
    // RFC 2131 3.1 step 5, 3.2 step 4, 4.4.5: "If the client receives a
    // DHCPNAK message, the client restarts the configuration process" and,
    // from RENEWING or REBINDING, "halts network processing" on the address.
    log::info(log::source::dhcp, "DHCPNAK in {}: starting over", to_string(state_));
    if (state_ == dhcp_state::rebooting) options_.remembered.reset();  // the server refused it
    pending_.reset();
    lose_lease();
    enter(dhcp_state::init, now);
    poll(now);  // DHCPDISCOVER at once
  }

  /// The lease an ACK grants, or nullopt (counted) when its times or mask are absurd.
  std::optional<dhcp_lease> lease_from(const wire::dhcp::view& m, instant now) {
    const auto& o = m.options();
    // RFC 2131 table 3: a DHCPACK to a DHCPREQUEST MUST carry the lease time.
    if (!o.lease_time) {
      drop(counters_.rx_bad_lease, "an ack without a lease time");
      return std::nullopt;
    }
    dhcp_lease l;
    l.server = o.server_id.value_or(state_ == dhcp_state::requesting ? server_ : ipv4_address{});
    if (l.server.is_unspecified() && lease_) l.server = lease_->server;
    if (l.server.is_unspecified()) {
      drop(counters_.rx_bad_lease, "an ack without a server identifier");
      return std::nullopt;
    }
    const std::optional<std::uint8_t> length = prefix_length_of(o.subnet_mask, m.yiaddr());
    if (!length) {
      drop(counters_.rx_bad_lease, "a non-contiguous subnet mask");
      return std::nullopt;
    }
    l.address = {m.yiaddr(), *length};
    if (!o.routers.empty() && !invalid_host_address(o.routers[0]) && o.routers[0] != m.yiaddr())
      l.router = o.routers[0];
    for (ipv4_address a : o.dns_servers) l.dns_servers.push_back(a);
    l.acquired_at = now;
    if (*o.lease_time == wire::dhcp::infinite_lease) {
      // RFC 2131 3.3: 0xffffffff is infinity; nothing to renew.
      l.infinite = true;
      l.lease_time = duration::max();
      l.renew_at = l.rebind_at = l.expires_at = never;
      return l;
    }
    const duration lease_time = std::chrono::seconds(*o.lease_time);
    if (lease_time < options_.min_lease) {
      drop(counters_.rx_bad_lease, "an absurd lease of {} s", *o.lease_time);
      return std::nullopt;
    }
    // RFC 2131 4.4.5: "T1 defaults to (0.5 * duration_of_lease). T2 defaults
    // to (0.875 * duration_of_lease)."
    duration t1 = lease_time / 2;
    duration t2 = lease_time - lease_time / 8;  // 7/8, without overflowing for 2^32 - 2 s
    const duration server_t1 = o.renewal_time ? duration{std::chrono::seconds(*o.renewal_time)} : t1;
    const duration server_t2 = o.rebinding_time ? duration{std::chrono::seconds(*o.rebinding_time)} : t2;
    if (server_t1 > duration::zero() && server_t1 <= server_t2 && server_t2 <= lease_time) {
      t1 = server_t1;
      t2 = server_t2;
    } else {
      ++counters_.bad_times_ignored;
      log::debug(log::source::dhcp, "T1 {} s and T2 {} s do not fit a lease of {} s: using the defaults",
                 o.renewal_time.value_or(0), o.rebinding_time.value_or(0), *o.lease_time);
    }
    l.lease_time = lease_time;
    l.renewal_time = t1;
    l.rebinding_time = t2;
    // Times count from when the request was sent (RFC 2131 4.4.1: "the
    // client records the lease expiration time as the sum of the time at
    // which the original request was sent and the duration of the lease").
    const instant base = std::min(request_sent_at_, now);
    l.renew_at = base + t1;
    l.rebind_at = base + t2;
    l.expires_at = base + lease_time;
    return l;
  }

  /// RFC 2132 3.3 subnet mask to a prefix length; without one, the class of
  /// the address (RFC 1122 3.3.1.1's historical default). Nullopt when not contiguous.
  static std::optional<std::uint8_t> prefix_length_of(std::optional<ipv4_address> mask, ipv4_address a) {
    if (!mask) {
      const std::uint32_t top = a.value >> 24;
      return top < 128 ? 8 : top < 192 ? 16 : 24;
    }
    const std::uint32_t m = mask->value;
    const std::uint32_t inverted = ~m;
    if ((inverted & (inverted + 1)) != 0) return std::nullopt;  // ones then zeros only
    std::uint8_t n = 0;
    for (std::uint32_t v = m; v & 0x80000000u; v <<= 1) ++n;
    if (n == 0) return std::nullopt;  // 0.0.0.0 would put the whole Internet on the link
    return n;
  }

  static std::string describe(const dhcp_lease& l) {
    if (l.infinite) return "ever";
    return fmt::format("{} s (T1 {} s, T2 {} s)", std::chrono::duration_cast<std::chrono::seconds>(l.lease_time).count(),
                       std::chrono::duration_cast<std::chrono::seconds>(l.renewal_time).count(),
                       std::chrono::duration_cast<std::chrono::seconds>(l.rebinding_time).count());
  }

  void bind(instant now) {
    lease_ = *pending_;
    pending_.reset();
    declined_.reset();
    ++counters_.leases;
    log::info(log::source::dhcp, "{} leased from {} for {}{}", lease_->address, lease_->server, describe(*lease_),
              lease_->router ? fmt::format(", router {}", *lease_->router) : std::string{});
    enter(dhcp_state::bound, std::max(now, lease_->renew_at));
    if (on_change_) on_change_();
  }

  void lose_lease() {
    if (!lease_) return;
    lease_.reset();
    if (on_change_) on_change_();
  }

  instant declined_until() const noexcept { return declined_at_ + options_.decline_wait * 6; }

  // ---- sending ------------------------------------------------------------------
  /// Builds and sends one message, per RFC 2131 table 5.
  void send_message(wire::dhcp::message_type type, instant now) {
    using wire::dhcp::message_type;
    wire::dhcp::repr r;
    r.op = wire::dhcp::opcode::boot_request;
    r.set_client_mac(options_.mac);
    r.xid = xid_;
    // "secs: seconds elapsed since client began address acquisition or renewal process".
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
    r.secs = static_cast<std::uint16_t>(std::clamp<long long>(secs, 0, 0xffff));
    auto& o = r.options;
    o.message_type = type;
    o.client_id = wire::dhcp::octet_string{client_id_};
    ipv4_address destination = ipv4_address::broadcast();
    const bool has_lease = lease_.has_value();
    switch (type) {
      case message_type::discover:
        if (options_.remembered && !declined_) o.requested_ip = *options_.remembered;  // 4.4.1: MAY
        break;
      case message_type::request:
        if (state_ == dhcp_state::requesting) {
          o.requested_ip = requested_;  // table 5: MUST (SELECTING)
          o.server_id = server_;        // MUST (SELECTING)
        } else if (state_ == dhcp_state::rebooting) {
          o.requested_ip = requested_;  // MUST (INIT-REBOOT); no server id
        } else if (has_lease) {
          r.ciaddr = lease_->address.address;  // RENEWING, REBINDING: ciaddr, no requested ip
          if (state_ == dhcp_state::renewing) destination = lease_->server;
        }
        break;
      case message_type::decline:
        o.requested_ip = requested_;  // table 5: MUST
        o.server_id = pending_ ? pending_->server : server_;
        declined_at_ = now;
        break;
      case message_type::release:
        if (!has_lease) return;
        r.ciaddr = lease_->address.address;
        o.server_id = lease_->server;
        destination = lease_->server;  // 4.4.6: unicast
        break;
      default: return;
    }
    if (type == message_type::discover || type == message_type::request) {
      // RFC 2131 table 5: parameter request list MAY, hostname: RFC 2132 3.14.
      o.parameter_request_list = wire::dhcp::octet_string{parameter_request_list};
      if (!options_.hostname.empty()) o.hostname = std::string_view{options_.hostname};
      // RFC 2131 4.1: a client that cannot receive unicast IP datagrams until
      // its address is configured sets BROADCAST. Our IPv4 layer accepts only
      // 255.255.255.255 while unconfigured (it would otherwise have to take
      // any unicast datagram for any address then), so we set it whenever we
      // have no address; with one (RENEWING, REBINDING) it MUST be zero.
      r.broadcast = !has_lease;
    }
    const std::size_t length = wire::dhcp::emit(r, buffer_);
    if (type == message_type::request) ++counters_.tx_request;
    if (type == message_type::discover) ++counters_.tx_discover;
    if (type == message_type::decline) ++counters_.tx_decline;
    if (type == message_type::release) ++counters_.tx_release;
    ++sent_;
    log::debug(log::source::dhcp, "{} to {} (xid {:#010x})", to_string(type), destination, xid_);
    if (!send_ || !send_(destination, std::span<const std::byte>(buffer_).first(length))) ++counters_.tx_dropped;
  }

  /// Subnet mask, router, DNS servers, lease time, T1, T2 (RFC 2132 9.8).
  static constexpr std::array<std::byte, 6> parameter_request_list{
      std::byte{wire::dhcp::option_code::subnet_mask},   std::byte{wire::dhcp::option_code::router},
      std::byte{wire::dhcp::option_code::dns_server},    std::byte{wire::dhcp::option_code::lease_time},
      std::byte{wire::dhcp::option_code::renewal_time},  std::byte{wire::dhcp::option_code::rebinding_time}};

  dhcp_client_options options_;
  std::uint64_t random_;
  std::array<std::byte, 7> client_id_{};
  std::array<std::byte, wire::dhcp::default_max_message_length> buffer_{};
  send_handler send_;
  probe_handler probe_;
  change_handler on_change_;

  dhcp_state state_ = dhcp_state::init;
  instant deadline_ = never;
  std::uint32_t xid_ = 0;
  instant started_{};          // when this acquisition or renewal began ("secs")
  instant request_sent_at_{};  // when its first DHCPREQUEST went out: the lease counts from it
  unsigned sent_ = 0;               // messages sent in this transaction
  ipv4_address requested_{};        // the address offered, requested or checked
  ipv4_address server_{};           // the server chosen in SELECTING
  std::optional<dhcp_lease> pending_{};  // acked, being checked
  std::optional<dhcp_lease> lease_{};    // in use
  std::optional<ipv4_address> declined_{};
  instant declined_at_{};
  unsigned probes_sent_ = 0;
  dhcp_client_counters counters_{};
};

}  // namespace uk::direct
