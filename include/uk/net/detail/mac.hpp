// MAC addresses a device makes up for the stack it carries.
#pragma once

#include <array>
#include <cstdint>
#include <random>

#include "uk/addr.hpp"

namespace uk::net::detail {

/// Turns six random octets into a locally administered unicast address:
/// the U/L bit (0x02 of the first octet) set and the I/G bit (0x01) clear
/// (IEEE 802-2014 8.2.2), as Linux's eth_random_addr does.
constexpr mac_address locally_administered_unicast(std::array<std::uint8_t, 6> octets) noexcept {
  octets[0] = static_cast<std::uint8_t>((octets[0] & 0xfc) | 0x02);
  return mac_address{octets};
}

/// A random locally administered unicast address (std::random_device: the kernel's getrandom).
inline mac_address random_local_mac() {
  std::random_device device;
  std::array<std::uint8_t, 6> octets{};
  for (auto& o : octets) o = static_cast<std::uint8_t>(device());
  return locally_administered_unicast(octets);
}

}  // namespace uk::net::detail
