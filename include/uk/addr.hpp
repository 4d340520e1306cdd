// Link and IPv4 addresses: mac_address, ipv4_address, ipv4_prefix, ipv4_endpoint.
//
// Plain value types shared by every layer, with text parsers (used by the
// runtime keys) and fmt formatters (used by logging). No allocation.
#pragma once

#include <array>
#include <charconv>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace uk {

/// A 48-bit IEEE 802 MAC address.
struct mac_address {
  std::array<std::uint8_t, 6> octets{};

  static constexpr mac_address broadcast() noexcept { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  constexpr bool is_broadcast() const noexcept { return *this == broadcast(); }
  /// The group bit: the least significant bit of the first octet (IEEE 802-2014 8.2).
  constexpr bool is_multicast() const noexcept { return (octets[0] & 0x01) != 0; }
  constexpr bool is_unicast() const noexcept { return !is_multicast(); }

  /// Parses "02:00:00:00:00:01" (colons or dashes, hex digits of either case).
  static constexpr std::optional<mac_address> parse(std::string_view text) noexcept;

  friend constexpr auto operator<=>(const mac_address&, const mac_address&) = default;
};

/// An IPv4 address, held in host order (RFC 791 section 3.2).
struct ipv4_address {
  std::uint32_t value = 0;  // host order: 10.0.0.1 is 0x0a000001

  static constexpr ipv4_address any() noexcept { return {0}; }
  static constexpr ipv4_address broadcast() noexcept { return {0xffffffffu}; }
  static constexpr ipv4_address from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                            std::uint8_t d) noexcept {
    return {(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d};
  }
  constexpr std::array<std::uint8_t, 4> octets() const noexcept {
    return {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
            static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
  }
  constexpr bool is_unspecified() const noexcept { return value == 0; }
  constexpr bool is_broadcast() const noexcept { return value == 0xffffffffu; }
  /// 224.0.0.0/4 (RFC 5771).
  constexpr bool is_multicast() const noexcept { return (value >> 28) == 0xe; }
  /// 127.0.0.0/8 (RFC 1122 section 3.2.1.3).
  constexpr bool is_loopback() const noexcept { return (value >> 24) == 127; }

  /// Parses dotted-quad "192.168.1.2": exactly four decimal octets 0-255.
  static constexpr std::optional<ipv4_address> parse(std::string_view text) noexcept;

  friend constexpr auto operator<=>(const ipv4_address&, const ipv4_address&) = default;
};

/// An address with its prefix length: "10.0.0.2/24" (RFC 4632 notation).
struct ipv4_prefix {
  ipv4_address address{};
  std::uint8_t length = 0;  // 0..32

  constexpr std::uint32_t mask() const noexcept {
    return length == 0 ? 0u : ~std::uint32_t{0} << (32 - length);
  }
  constexpr ipv4_address network() const noexcept { return {address.value & mask()}; }
  /// The directed broadcast address of the subnet (RFC 919).
  constexpr ipv4_address subnet_broadcast() const noexcept { return {address.value | ~mask()}; }
  constexpr bool contains(ipv4_address a) const noexcept {
    return (a.value & mask()) == (address.value & mask());
  }

  /// Parses "a.b.c.d/n" with n in 0..32.
  static constexpr std::optional<ipv4_prefix> parse(std::string_view text) noexcept;

  friend constexpr auto operator<=>(const ipv4_prefix&, const ipv4_prefix&) = default;
};

/// An IPv4 address and a transport port.
struct ipv4_endpoint {
  ipv4_address address{};
  std::uint16_t port = 0;
  friend constexpr auto operator<=>(const ipv4_endpoint&, const ipv4_endpoint&) = default;
};

namespace detail {
constexpr int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
/// Parses a decimal number of 1 to 3 digits with no sign and no leading "+"; -1 on error.
constexpr int small_decimal(std::string_view s) noexcept {
  if (s.empty() || s.size() > 3) return -1;
  if (s.size() > 1 && s[0] == '0') return -1;  // "01" is ambiguous (octal in inet_aton)
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}
}  // namespace detail

constexpr std::optional<mac_address> mac_address::parse(std::string_view text) noexcept {
  if (text.size() != 17) return std::nullopt;
  mac_address m;
  const char sep = text[2];
  if (sep != ':' && sep != '-') return std::nullopt;
  for (std::size_t i = 0; i < 6; ++i) {
    const std::size_t at = i * 3;
    if (i > 0 && text[at - 1] != sep) return std::nullopt;
    const int hi = detail::hex_digit(text[at]);
    const int lo = detail::hex_digit(text[at + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    m.octets[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return m;
}

constexpr std::optional<ipv4_address> ipv4_address::parse(std::string_view text) noexcept {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    const auto dot = text.find('.');
    const bool last = i == 3;
    if (last != (dot == std::string_view::npos)) return std::nullopt;
    const int octet = detail::small_decimal(text.substr(0, dot));
    if (octet < 0 || octet > 255) return std::nullopt;
    value = (value << 8) | static_cast<std::uint32_t>(octet);
    if (!last) text.remove_prefix(dot + 1);
  }
  return ipv4_address{value};
}

constexpr std::optional<ipv4_prefix> ipv4_prefix::parse(std::string_view text) noexcept {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto address = ipv4_address::parse(text.substr(0, slash));
  const int length = detail::small_decimal(text.substr(slash + 1));
  if (!address || length < 0 || length > 32) return std::nullopt;
  return ipv4_prefix{*address, static_cast<std::uint8_t>(length)};
}

namespace detail {
/// A formatter that takes no format spec. (Deriving from fmt's string_view
/// formatter instead trips a false -Wstringop-overflow in g++ 12 at -O3.)
struct plain_formatter {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
};
}  // namespace detail

}  // namespace uk

template <>
struct fmt::formatter<uk::mac_address> : uk::detail::plain_formatter {
  auto format(const uk::mac_address& m, format_context& ctx) const {
    const auto& o = m.octets;
    return fmt::format_to(ctx.out(), "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2],
                          o[3], o[4], o[5]);
  }
};

template <>
struct fmt::formatter<uk::ipv4_address> : uk::detail::plain_formatter {
  auto format(const uk::ipv4_address& a, format_context& ctx) const {
    const auto o = a.octets();
    return fmt::format_to(ctx.out(), "{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
  }
};

template <>
struct fmt::formatter<uk::ipv4_prefix> : uk::detail::plain_formatter {
  auto format(const uk::ipv4_prefix& p, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}/{}", p.address, p.length);
  }
};

template <>
struct fmt::formatter<uk::ipv4_endpoint> : uk::detail::plain_formatter {
  auto format(const uk::ipv4_endpoint& e, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}:{}", e.address, e.port);
  }
};
