// uk::direct::default_config: the IPv4 configuration of unix/direct. DHCP,
// unless --ipv4 is given (as Mirage does since 4.10.5: "the stack uses DHCP
// unless --ipv4 is given"); then the static address and --ipv4-gateway.
//
// It owns one of the two (a std::optional each: both are neither copyable
// nor movable) and forwards to it, so the stack sees one configuration type.
// With a static address, attach/poll/detach do nothing and lease() is empty.
#pragma once

#include <optional>
#include <string_view>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "uk/addr.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/delegate.hpp"
#include "uk/direct/dhcp_config.hpp"
#include "uk/direct/static_config.hpp"
#include "uk/log.hpp"

namespace uk::direct {

/// --ipv4=ADDRESS/LENGTH, with no default: without it, DHCP.
struct ipv4_or_dhcp_key {
  using value_type = std::optional<ipv4_prefix>;
  static constexpr std::string_view name = "ipv4";
  static constexpr std::string_view group = "ipv4";
  static constexpr std::string_view doc =
      "The IPv4 address of the stack and the length of its network prefix (e.g. 10.0.0.2/24); "
      "without it, the address, prefix and gateway come from DHCP.";
};

class default_config {
 public:
  using keys = boost::hana::tuple<boost::hana::type<ipv4_or_dhcp_key>, boost::hana::type<ipv4_gateway_key>,
                                  boost::hana::type<dhcp_hostname_key>, boost::hana::type<dhcp_address_key>>;
  static constexpr std::string_view device_name = "ipv4 config";

  /// A static configuration.
  explicit default_config(ipv4_prefix address, std::optional<ipv4_address> gateway = std::nullopt) {
    static_.emplace(address, gateway);
  }
  /// A DHCP configuration.
  explicit default_config(dhcp_config_options options) { dhcp_.emplace(std::move(options)); }

  /// As uk::run creates it: static when --ipv4 is given, else DHCP.
  template <class Context, class Keys>
    requires requires(Context& c) { std::string_view{c.program}; }
  default_config(Context& context, const Keys& keys) {
    if (const auto& address = keys.template get<ipv4_or_dhcp_key>()) {
      static_.emplace(*address, keys.template get<ipv4_gateway_key>());
      return;
    }
    if (keys.template get<ipv4_gateway_key>())
      log::warning(log::source::dhcp, "--ipv4-gateway is ignored without --ipv4: the gateway comes from DHCP");
    dhcp_.emplace(context, keys);
  }

  default_config(const default_config&) = delete;
  default_config& operator=(const default_config&) = delete;

  bool uses_dhcp() const noexcept { return dhcp_.has_value(); }

  // ---- uk::ipv4_config ------------------------------------------------------------
  std::optional<ipv4_prefix> address() const noexcept { return dhcp_ ? dhcp_->address() : static_->address(); }
  std::optional<ipv4_address> gateway() const noexcept { return dhcp_ ? dhcp_->gateway() : static_->gateway(); }
  void set_change_handler(delegate<void()> h) noexcept {
    if (dhcp_)
      dhcp_->set_change_handler(h);
    else
      static_->set_change_handler(h);
  }

  /// The DHCP lease, if DHCP is in use and has one.
  std::optional<dhcp_lease> lease() const { return dhcp_ ? dhcp_->lease() : std::nullopt; }
  /// The DHCP configuration, or nullptr with a static address.
  const dhcp_config* dhcp() const noexcept { return dhcp_ ? &*dhcp_ : nullptr; }

  void log_counters() const {
    if (dhcp_) dhcp_->log_counters();
  }

  // ---- uk::direct::attachable_ipv4_config ----------------------------------------------
  template <class Udp, class Arp>
  void attach(Udp& udp, Arp& arp, mac_address mac, clock_ref clock, std::uint64_t seed) {
    if (dhcp_) dhcp_->attach(udp, arp, mac, clock, seed);
  }
  instant poll(instant now) { return dhcp_ ? dhcp_->poll(now) : never; }
  void detach() {
    if (dhcp_) dhcp_->detach();
  }

 private:
  std::optional<static_config> static_;
  std::optional<dhcp_config> dhcp_;
};

static_assert(ipv4_config<default_config>);

}  // namespace uk::direct
