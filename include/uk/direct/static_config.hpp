// uk::direct::static_config: the IPv4 configuration given on the command
// line (Mirage's static IPv4 configuration, `--ipv4` and `--ipv4-gateway`).
// It satisfies uk::ipv4_config and never changes.
//
// This header stays free of Asio (layers 1-3 never include it), so it does not
// include uk/runtime/device.hpp: uk::device_context is only forward-declared
// (the device constructor takes it by reference and does not use it), and the
// key list is spelled as the boost::hana tuple that uk::key_list names, as
// uk/net/pcap_writer.hpp does.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <fmt/format.h>

#include "uk/addr.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/delegate.hpp"

namespace uk {
struct device_context;  // uk/runtime/device.hpp
}  // namespace uk

namespace uk::direct {

/// --ipv4=ADDRESS/LENGTH: the stack's address and prefix.
struct ipv4_key {
  using value_type = ipv4_prefix;
  static constexpr std::string_view name = "ipv4";
  static constexpr std::string_view group = "ipv4";
  static constexpr std::string_view doc =
      "The IPv4 address of the stack and the length of its network prefix; destinations inside the "
      "prefix are reached directly, others through the gateway.";
  static constexpr std::string_view default_text = "10.0.0.2/24";  // MirageOS's default
};

/// --ipv4-gateway=ADDRESS: the default router.
struct ipv4_gateway_key {
  using value_type = std::optional<ipv4_address>;
  static constexpr std::string_view name = "ipv4-gateway";
  static constexpr std::string_view group = "ipv4";
  static constexpr std::string_view doc =
      "The IPv4 default gateway; without it, only the prefix is reachable. It may lie outside the "
      "prefix (a /32 with an on-link gateway, as on Qubes).";
};

/// Why an address cannot be a host's own (RFC 1122 3.2.1.3), or nullopt when it can.
constexpr std::optional<std::string_view> invalid_host_address(ipv4_address a) noexcept {
  if (a.is_unspecified()) return "0.0.0.0 means \"this host\" before it has an address";  // (a)
  if (a.is_broadcast()) return "it is the limited broadcast address";                     // (c)
  if (a.is_loopback()) return "127.0.0.0/8 is loopback";                                  // (g)
  if (a.is_multicast()) return "224.0.0.0/4 is multicast";                                // RFC 1112 4
  if ((a.value >> 28) == 0xf) return "240.0.0.0/4 is reserved";                           // RFC 1112 4
  return std::nullopt;
}

/// What is wrong with a configuration, or nullopt when nothing is.
inline std::optional<std::string> invalid_configuration(ipv4_prefix address, std::optional<ipv4_address> gateway) {
  if (const auto why = invalid_host_address(address.address))
    return fmt::format("the address {} cannot be a host's: {}", address.address, *why);
  // RFC 1122 3.2.1.3 (b)-(e): host number 0 names the network and -1 is the
  // subnet's broadcast; prefixes /31 (RFC 3021) and /32 have no such numbers.
  if (address.length <= 30 && (address.address == address.network() || address.address == address.subnet_broadcast()))
    return fmt::format("{} is the network or broadcast address of its prefix", address);
  if (gateway) {
    if (const auto why = invalid_host_address(*gateway))
      return fmt::format("the gateway {} cannot be a host: {}", *gateway, *why);
    if (*gateway == address.address) return fmt::format("the gateway {} is our own address", *gateway);
  }
  return std::nullopt;
}

/// An address and gateway fixed at boot. Satisfies uk::ipv4_config.
class static_config {
 public:
  /// uk::key_list<ipv4_key, ipv4_gateway_key>, spelled without uk/runtime/device.hpp.
  using keys = boost::hana::tuple<boost::hana::type<ipv4_key>, boost::hana::type<ipv4_gateway_key>>;
  static constexpr std::string_view device_name = "ipv4 config";

  /// Throws std::invalid_argument, saying what is wrong, for an address that
  /// cannot be a host's or a gateway that cannot be a router's.
  explicit static_config(ipv4_prefix address, std::optional<ipv4_address> gateway = std::nullopt)
      : address_(address), gateway_(gateway) {
    if (auto problem = invalid_configuration(address, gateway)) throw std::invalid_argument(*problem);
  }

  /// As uk::run creates it, from --ipv4 and --ipv4-gateway.
  template <class Keys>
  static_config(device_context&, const Keys& keys)
      : static_config(keys.template get<ipv4_key>(), keys.template get<ipv4_gateway_key>()) {}

  static_config(const static_config&) = delete;
  static_config& operator=(const static_config&) = delete;

  std::optional<ipv4_prefix> address() const noexcept { return address_; }
  std::optional<ipv4_address> gateway() const noexcept { return gateway_; }

  /// A static configuration never changes, so `h` is never called.
  void set_change_handler(delegate<void()> h) noexcept { on_change_ = h; }

 private:
  ipv4_prefix address_;
  std::optional<ipv4_address> gateway_;
  delegate<void()> on_change_;
};

static_assert(ipv4_config<static_config>);

}  // namespace uk::direct
