// Big-endian (network order) loads and stores on byte spans.
// Private helper of the wire formats: callers have already checked bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace uk::detail {

inline constexpr std::uint16_t load_be16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                    std::to_integer<unsigned>(p[1]));
}

inline constexpr std::uint32_t load_be32(const std::byte* p) noexcept {
  return (std::uint32_t{std::to_integer<std::uint8_t>(p[0])} << 24) |
         (std::uint32_t{std::to_integer<std::uint8_t>(p[1])} << 16) |
         (std::uint32_t{std::to_integer<std::uint8_t>(p[2])} << 8) |
         std::uint32_t{std::to_integer<std::uint8_t>(p[3])};
}

inline constexpr void store_be16(std::byte* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}

inline constexpr void store_be32(std::byte* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 24);
  p[1] = static_cast<std::byte>(v >> 16);
  p[2] = static_cast<std::byte>(v >> 8);
  p[3] = static_cast<std::byte>(v);
}

/// Little-endian loads and stores: the Qubes protocols (QubesDB, qrexec, GUI)
/// lay their integers out as x86 C structs do.
inline constexpr std::uint32_t load_le32(const std::byte* p) noexcept {
  return std::uint32_t{std::to_integer<std::uint8_t>(p[0])} |
         (std::uint32_t{std::to_integer<std::uint8_t>(p[1])} << 8) |
         (std::uint32_t{std::to_integer<std::uint8_t>(p[2])} << 16) |
         (std::uint32_t{std::to_integer<std::uint8_t>(p[3])} << 24);
}

inline constexpr void store_le32(std::byte* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::byte>(v);
  p[1] = static_cast<std::byte>(v >> 8);
  p[2] = static_cast<std::byte>(v >> 16);
  p[3] = static_cast<std::byte>(v >> 24);
}

}  // namespace uk::detail
