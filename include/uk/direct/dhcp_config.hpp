// uk::direct::dhcp_config: the IPv4 configuration of a DHCP lease (Mirage's
// DHCP-configured stack). It satisfies uk::ipv4_config: address() and
// gateway() are the lease's, nothing before the first lease and after it is
// lost, and the change handler fires whenever they change (lease gained,
// changed by a renewal, lost by NAK or expiry).
//
// uk::run creates it before the stack (it is the stack's dependency), so it
// cannot hold the stack's layers at construction: the stack calls
//   config.attach(udp, arp, mac, clock, seed)   when it is built,
//   config.poll(now)                              with its other timers,
//   config.detach()                               when it stops (DHCPRELEASE),
// (uk::direct::attachable_ipv4_config in stack.hpp). attach binds UDP port 68
// on the packet layer, registers for ARP probe conflicts, and starts the
// sans-IO core uk::direct::dhcp_client (dhcp_client.hpp: the state machine).
//
// Messages go from port 68 to port 67: broadcast, or unicast to the server
// when renewing (RFC 2131 4.1, 4.4.5). DHCPRELEASE is unicast (4.4.6), but
// when the server's MAC is not in the ARP table it is broadcast instead: the
// stack is stopping, and a release queued behind an ARP request would never
// leave. Replies come to 68 from 67; anything from another port is dropped
// and counted (rx_wrong_port).
//
// No Asio here (layer 3): device_context is only named through a template
// parameter, as static_config avoids including it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "uk/addr.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/delegate.hpp"
#include "uk/direct/arp.hpp"
#include "uk/direct/dhcp_client.hpp"
#include "uk/direct/dhcp_lease.hpp"
#include "uk/direct/udp.hpp"
#include "uk/log.hpp"
#include "uk/time.hpp"
#include "uk/wire/dhcp.hpp"

namespace uk::direct {

/// --dhcp-hostname=NAME: option 12 of our DHCP messages.
struct dhcp_hostname_key {
  using value_type = std::optional<std::string>;
  static constexpr std::string_view name = "dhcp-hostname";
  static constexpr std::string_view group = "dhcp";
  static constexpr std::string_view doc =
      "The host name sent to the DHCP server (option 12: letters, digits and '-', at most 63); "
      "without it, the program's name.";
};

/// --dhcp-address=ADDRESS: an address leased before, asked for again first.
struct dhcp_address_key {
  using value_type = std::optional<ipv4_address>;
  static constexpr std::string_view name = "dhcp-address";
  static constexpr std::string_view group = "dhcp";
  static constexpr std::string_view doc =
      "An address a DHCP server leased to this host before: ask for it again first (INIT-REBOOT, RFC 2131 3.2).";
};

/// The DHCP options of a dhcp_config (the client's, less what the stack gives at attach).
struct dhcp_config_options {
  std::string hostname{};
  std::optional<ipv4_address> remembered{};
  /// The rest of the client's tunables (mac, seed and the two above are overwritten).
  dhcp_client_options client{};
};

struct dhcp_config_counters {
  std::uint64_t rx_wrong_port = 0;  ///< a datagram to port 68 not from port 67
};

/// Turns a program name into a DHCP host name: letters, digits and '-', at most 63.
inline std::string dhcp_hostname_from(std::string_view program) {
  std::string h;
  for (char c : program) {
    if (h.size() == dhcp_client::max_hostname) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    h.push_back(ok ? c : '-');
  }
  return h.empty() ? std::string("uk") : h;
}

class dhcp_config {
 public:
  using keys = boost::hana::tuple<boost::hana::type<dhcp_hostname_key>, boost::hana::type<dhcp_address_key>>;
  static constexpr std::string_view device_name = "ipv4 config (DHCP)";

  explicit dhcp_config(dhcp_config_options options = {}) : options_(std::move(options)) {
    // Check the host name now, at boot, rather than when the stack attaches.
    dhcp_client_options probe = options_.client;
    probe.hostname = options_.hostname;
    (void)dhcp_client(probe);
  }

  /// As uk::run creates it: --dhcp-hostname (default: the program's name), --dhcp-address.
  template <class Context, class Keys>
    requires requires(Context& c) { std::string_view{c.program}; }
  dhcp_config(Context& context, const Keys& keys)
      : dhcp_config(dhcp_config_options{
            .hostname = keys.template get<dhcp_hostname_key>().value_or(dhcp_hostname_from(context.program)),
            .remembered = keys.template get<dhcp_address_key>(),
            .client = {}}) {}

  dhcp_config(const dhcp_config&) = delete;
  dhcp_config& operator=(const dhcp_config&) = delete;
  // No detach() in the destructor: by then the layers it would send through
  // may be gone. Whoever attached detaches, while they exist (the stack does).

  // ---- uk::ipv4_config ------------------------------------------------------------
  std::optional<ipv4_prefix> address() const noexcept {
    if (client_ && client_->lease()) return client_->lease()->address;
    return std::nullopt;
  }
  std::optional<ipv4_address> gateway() const noexcept {
    if (client_ && client_->lease()) return client_->lease()->router;
    return std::nullopt;
  }
  void set_change_handler(delegate<void()> h) noexcept { on_change_ = h; }

  /// The lease in use, if any: address, prefix, router, DNS servers, times, server.
  std::optional<dhcp_lease> lease() const {
    if (client_) return client_->lease();
    return std::nullopt;
  }
  /// The core, for its state and counters (empty until attached).
  const dhcp_client* client() const noexcept { return client_ ? &*client_ : nullptr; }
  const dhcp_config_counters& counters() const noexcept { return counters_; }

  /// Logs the client's counters at debug (the stack does so when it stops).
  void log_counters() const {
    if (!client_ || !log::enabled(log::source::dhcp, log::level::debug)) return;
    const auto& c = client_->counters();
    log::debug(log::source::dhcp,
               "counters: state={} leases={} renewals={} expiries={} conflicts={} request_timeouts={} "
               "tx: discover={} request={} decline={} release={} dropped={} probes={} rx: offer={} ack={} nak={} "
               "dropped: malformed={} not_reply={} not_dhcp={} wrong_xid={} wrong_chaddr={} wrong_client_id={} "
               "unexpected={} wrong_server={} bad_offer={} bad_lease={} wrong_port={} bad_times_ignored={}",
               to_string(client_->state()), c.leases, c.renewals, c.expiries, c.conflicts, c.request_timeouts,
               c.tx_discover, c.tx_request, c.tx_decline, c.tx_release, c.tx_dropped, c.probes_sent, c.rx_offer,
               c.rx_ack, c.rx_nak, c.rx_malformed, c.rx_not_reply, c.rx_not_dhcp, c.rx_wrong_xid, c.rx_wrong_chaddr,
               c.rx_wrong_client_id, c.rx_unexpected, c.rx_wrong_server, c.rx_bad_offer, c.rx_bad_lease,
               counters_.rx_wrong_port, c.bad_times_ignored);
  }

  // ---- what the stack calls ----------------------------------------------------------
  /// Plugs the client into the stack's UDP packet layer and ARP layer and
  /// sends the first message. `mac` is the interface's, `seed` randomizes
  /// the transaction ids and delays.
  template <class Udp, class Arp>
  void attach(Udp& udp, Arp& arp, mac_address mac, clock_ref clock, std::uint64_t seed) {
    detach();
    dhcp_client_options o = options_.client;
    o.mac = mac;
    o.seed = seed;
    o.hostname = options_.hostname;
    o.remembered = options_.remembered;
    client_.emplace(o);
    clock_ = clock;
    transmit_ = transmit_handler::bind<&dhcp_config::transmit_via<Udp>>(udp);
    unbind_ = delegate<void()>::bind<&dhcp_config::unbind_from<Udp>>(udp);
    unhook_arp_ = delegate<void()>::bind<&dhcp_config::unhook<Arp>>(arp);
    mac_known_ = delegate<bool(ipv4_address)>::bind<&dhcp_config::knows<Arp>>(arp);
    if (!udp.bind(wire::dhcp::client_port, udp_handler::bind<&dhcp_config::on_datagram>(*this)))
      log::error(log::source::dhcp, "UDP port 68 is taken: no DHCP replies will be seen");
    arp.set_probe_conflict_handler(arp_probe_conflict_handler::bind<&dhcp_config::on_conflict>(*this));
    client_->set_send_handler(dhcp_client::send_handler::bind<&dhcp_config::send>(*this));
    client_->set_probe_handler(dhcp_client::probe_handler::bind<&dhcp_config::probe_via<Arp>>(arp));
    client_->set_change_handler(delegate<void()>::bind<&dhcp_config::on_lease_change>(*this));
    client_->start(clock_());
  }

  /// The client's timers; the next deadline.
  instant poll(instant now) { return client_ ? client_->poll(now) : never; }

  /// RFC 2131 4.4.6: releases the lease (when there is one) and lets go of
  /// the stack's layers. The stack calls it while its layers still exist.
  void detach() {
    if (!client_) return;
    stopping_ = true;
    client_->release(clock_());
    stopping_ = false;
    unbind_();
    unhook_arp_();
    client_.reset();
  }

 private:
  using transmit_handler = delegate<bool(ipv4_address, std::span<const std::byte>)>;

  template <class Udp>
  static bool transmit_via(Udp& udp, ipv4_address to, std::span<const std::byte> message) {
    auto copy = [message](std::span<std::byte> out) {
      std::copy(message.begin(), message.end(), out.begin());
      return message.size();
    };
    return udp.transmit(wire::dhcp::client_port, {to, wire::dhcp::server_port}, message.size(), frame_filler(copy));
  }
  template <class Udp>
  static void unbind_from(Udp& udp) { udp.unbind(wire::dhcp::client_port); }
  template <class Arp>
  static void unhook(Arp& arp) { arp.set_probe_conflict_handler({}); }
  template <class Arp>
  static void probe_via(Arp& arp, ipv4_address candidate) { arp.probe(candidate); }
  template <class Arp>
  static bool knows(Arp& arp, ipv4_address a) { return arp.lookup(a).has_value(); }

  bool send(ipv4_address to, std::span<const std::byte> message) {
    if (stopping_ && !to.is_broadcast() && !mac_known_(to)) to = ipv4_address::broadcast();
    return transmit_(to, message);
  }

  void on_datagram(const udp_datagram_info& info, frame payload) {
    if (info.source.port != wire::dhcp::server_port) {
      ++counters_.rx_wrong_port;
      log::debug(log::source::dhcp, "dropped a datagram to port 68 from {}: not from port 67", info.source);
      return;
    }
    client_->receive(payload, clock_());
  }

  void on_conflict(ipv4_address probed) { client_->conflict(probed, clock_()); }

  void on_lease_change() {
    if (on_change_) on_change_();
  }

  dhcp_config_options options_;
  std::optional<dhcp_client> client_;
  clock_ref clock_;
  transmit_handler transmit_;
  delegate<void()> unbind_;
  delegate<void()> unhook_arp_;
  delegate<bool(ipv4_address)> mac_known_;
  delegate<void()> on_change_;
  dhcp_config_counters counters_{};
  bool stopping_ = false;
};

static_assert(ipv4_config<dhcp_config>);

}  // namespace uk::direct
