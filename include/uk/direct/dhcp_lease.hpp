// uk::direct::dhcp_lease: what a DHCP server granted (RFC 2131 3.3, RFC 2132),
// as the application reads it from a DHCP-configured stack:
//
//   if (auto lease = net.config().lease())
//     log::info(source::app, "{} via {}, DNS {}", lease->address, *lease->router, lease->dns_servers[0]);
#pragma once

#include <optional>

#include "uk/addr.hpp"
#include "uk/time.hpp"
#include "uk/wire/dhcp_options.hpp"

namespace uk::direct {

struct dhcp_lease {
  ipv4_prefix address{};                  ///< yiaddr and the subnet mask (option 1)
  std::optional<ipv4_address> router{};   ///< the first router of option 3
  wire::dhcp::address_list dns_servers{}; ///< option 6, in order of preference
  ipv4_address server{};                  ///< the server identifier (option 54)
  bool infinite = false;                  ///< lease time 0xffffffff (RFC 2131 3.3): never renewed
  duration lease_time{};                  ///< option 51
  duration renewal_time{};                ///< T1: option 58, or half the lease (RFC 2131 4.4.5)
  duration rebinding_time{};              ///< T2: option 59, or 7/8 of the lease
  instant acquired_at{};                  ///< when the ACK arrived
  instant renew_at = never;               ///< T1, counted from the request (RFC 2131 4.4.1)
  instant rebind_at = never;              ///< T2
  instant expires_at = never;             ///< the end of the lease

  friend bool operator==(const dhcp_lease&, const dhcp_lease&) = default;
};

}  // namespace uk::direct
