// Loads and stores of a MAC address in a packet (six octets, transmission
// order). Private helper of the wire formats: callers have checked bounds.
#pragma once

#include <cstddef>
#include <cstdint>

#include "uk/addr.hpp"

namespace uk::detail {

constexpr mac_address load_mac(const std::byte* p) noexcept {
  mac_address m;
  for (std::size_t i = 0; i < 6; ++i) m.octets[i] = std::to_integer<std::uint8_t>(p[i]);
  return m;
}

constexpr void store_mac(std::byte* p, const mac_address& m) noexcept {
  for (std::size_t i = 0; i < 6; ++i) p[i] = static_cast<std::byte>(m.octets[i]);
}

}  // namespace uk::detail
