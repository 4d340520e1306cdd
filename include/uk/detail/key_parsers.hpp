// Text parsers for runtime key values: uk::key_parser<T>.
//
// A specialization of key_parser<T> says how a command-line value becomes a T:
//
//   template <> struct uk::key_parser<T> {
//     static constexpr std::string_view metavar = "ADDR";   // shown in --help: --gateway=ADDR
//     static constexpr std::string_view expected = "an IPv4 address such as 10.0.0.2";
//     static std::optional<T> parse(std::string_view text);
//     // optional: why `text` is not a T, appended to the usage error ("" if nothing to add)
//     static std::string explain(std::string_view text);
//   };
//
// This header provides them for the address types of uk/addr.hpp, bool,
// integers, std::chrono::nanoseconds, std::string, std::filesystem::path and
// std::optional<T> of any of these. A library adds its own (uk/log.hpp does,
// for its level spec). Bounds of integer keys (K::min, K::max) are applied by
// uk::parse_key_value<K> in uk/keys.hpp, which needs the key, not just the type.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "uk/addr.hpp"

namespace uk {

/// How text becomes a T; see the header comment. Not defined for other types.
template <class T>
struct key_parser;

/// The types a key_parser is defined for.
template <class T>
concept parsable_key_value = requires(std::string_view text) {
  { key_parser<T>::parse(text) } -> std::same_as<std::optional<T>>;
  { key_parser<T>::metavar } -> std::convertible_to<std::string_view>;
  { key_parser<T>::expected } -> std::convertible_to<std::string_view>;
};

template <>
struct key_parser<ipv4_address> {
  static constexpr std::string_view metavar = "ADDR";
  static constexpr std::string_view expected = "an IPv4 address such as 10.0.0.2";
  static constexpr std::optional<ipv4_address> parse(std::string_view text) noexcept {
    return ipv4_address::parse(text);
  }
};

template <>
struct key_parser<ipv4_prefix> {
  static constexpr std::string_view metavar = "PREFIX";
  static constexpr std::string_view expected =
      "an IPv4 address with prefix length such as 10.0.0.2/24";
  static constexpr std::optional<ipv4_prefix> parse(std::string_view text) noexcept {
    return ipv4_prefix::parse(text);
  }
};

template <>
struct key_parser<mac_address> {
  static constexpr std::string_view metavar = "MAC";
  static constexpr std::string_view expected = "a MAC address such as 02:00:00:00:00:01";
  static constexpr std::optional<mac_address> parse(std::string_view text) noexcept {
    return mac_address::parse(text);
  }
};

/// A flag's value: true|false|yes|no|1|0|on|off, in any letter case.
template <>
struct key_parser<bool> {
  static constexpr std::string_view metavar = "BOOL";
  static constexpr std::string_view expected = "one of true|false|yes|no|1|0|on|off";
  static constexpr std::optional<bool> parse(std::string_view text) noexcept {
    constexpr std::string_view yes[] = {"true", "yes", "1", "on"};
    constexpr std::string_view no[] = {"false", "no", "0", "off"};
    for (const auto word : yes)
      if (equal_ignoring_case(text, word)) return true;
    for (const auto word : no)
      if (equal_ignoring_case(text, word)) return false;
    return std::nullopt;
  }

 private:
  static constexpr bool equal_ignoring_case(std::string_view text,
                                            std::string_view lower) noexcept {
    if (text.size() != lower.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c =
          text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
      if (c != lower[i]) return false;
    }
    return true;
  }
};

namespace detail {
template <class T>
inline constexpr bool is_character_type =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;
}  // namespace detail

/// The integer types a key may hold: every integral type but bool and the
/// character types (signed char and unsigned char, i.e. std::int8_t and
/// std::uint8_t, are integers).
template <class T>
concept key_integer = std::integral<T> && !std::is_same_v<T, bool> && !detail::is_character_type<T>;

/// A decimal integer within the range of T: "42", "-7" (signed types only).
/// No '+', no spaces, no base prefix.
template <key_integer T>
struct key_parser<T> {
  static constexpr std::string_view metavar = "INT";
  static constexpr std::string_view expected = "an integer";  // keys say "from MIN to MAX"
  static std::optional<T> parse(std::string_view text) noexcept {
    T value{};
    const char* const end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value, 10);
    if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
    return value;
  }
};

namespace detail {

__extension__ typedef unsigned __int128 duration_uint128;

struct duration_unit {
  std::string_view suffix;
  std::int64_t nanoseconds;
};
inline constexpr duration_unit duration_units[] = {
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

/// A parsed duration, or why the text is not one.
struct duration_parse {
  std::optional<std::chrono::nanoseconds> value;
  std::string_view problem;
};

/// DIGITS[.DIGITS]UNIT with UNIT one of ns, us, ms, s, m, h. The fraction is
/// exact down to the nanosecond (further digits are truncated); a result
/// above the range of std::chrono::nanoseconds (about 292 years) is rejected.
constexpr duration_parse parse_duration(std::string_view text) noexcept {
  constexpr auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  constexpr std::uint64_t max =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::size_t i = 0;
  std::uint64_t whole = 0;
  bool whole_overflows = false;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (whole > (max - digit) / 10)
      whole_overflows = true;
    else
      whole = whole * 10 + digit;
  }
  if (i == 0) return {std::nullopt, "no number before the unit"};
  std::uint64_t fraction = 0, scale = 1;  // the fraction is fraction / scale
  if (i < text.size() && text[i] == '.') {
    const std::size_t first = ++i;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (scale < 1'000'000'000'000'000'000u) {  // 18 digits are finer than 1 ns for every unit
        fraction = fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
        scale *= 10;
      }
    }
    if (i == first) return {std::nullopt, "no digit after the decimal point"};
  }
  const std::string_view suffix = text.substr(i);
  if (suffix.empty()) return {std::nullopt, "no unit (ns, us, ms, s, m or h)"};
  std::int64_t unit = 0;
  for (const auto& u : duration_units)
    if (u.suffix == suffix) unit = u.nanoseconds;
  if (unit == 0) return {std::nullopt, "unknown unit (use ns, us, ms, s, m or h)"};
  const auto total =
      static_cast<duration_uint128>(whole) * static_cast<std::uint64_t>(unit) +
      static_cast<duration_uint128>(fraction) * static_cast<std::uint64_t>(unit) / scale;
  if (whole_overflows || total > max) return {std::nullopt, "longer than about 292 years"};
  return {std::chrono::nanoseconds{static_cast<std::int64_t>(total)}, {}};
}

}  // namespace detail

/// A duration with a unit: "250ms", "30s", "2m", "1h", "500us", "10ns", "1.5s".
template <>
struct key_parser<std::chrono::nanoseconds> {
  static constexpr std::string_view metavar = "DURATION";
  static constexpr std::string_view expected =
      "a duration with a unit (ns, us, ms, s, m, h) such as 250ms or 1.5s";
  static constexpr std::optional<std::chrono::nanoseconds> parse(std::string_view text) noexcept {
    return detail::parse_duration(text).value;
  }
  static std::string explain(std::string_view text) {
    return std::string(detail::parse_duration(text).problem);
  }
};

/// Any text, as given (possibly empty).
template <>
struct key_parser<std::string> {
  static constexpr std::string_view metavar = "STRING";
  static constexpr std::string_view expected = "a string";
  static std::optional<std::string> parse(std::string_view text) { return std::string(text); }
};

/// A file system path; the empty path is rejected.
template <>
struct key_parser<std::filesystem::path> {
  static constexpr std::string_view metavar = "PATH";
  static constexpr std::string_view expected = "a non-empty path";
  static std::optional<std::filesystem::path> parse(std::string_view text) {
    if (text.empty()) return std::nullopt;
    return std::filesystem::path(text);
  }
};

/// An optional value is given as its value: the parser of T.
template <parsable_key_value T>
struct key_parser<std::optional<T>> {
  static constexpr std::string_view metavar = key_parser<T>::metavar;
  static constexpr std::string_view expected = key_parser<T>::expected;
  static std::optional<std::optional<T>> parse(std::string_view text) {
    auto value = key_parser<T>::parse(text);
    if (!value) return std::nullopt;
    return std::optional<T>(std::move(*value));
  }
};

}  // namespace uk
