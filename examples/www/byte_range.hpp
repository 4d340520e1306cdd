// The Range request header (RFC 9110 14.1.2, 14.2): one byte range of a
// representation. A request for several ranges is served whole (200), which
// RFC 9110 14.2 allows ("A server MAY ignore the Range header field").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace www {

/// The first byte and the length of a satisfiable range.
struct byte_range {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

/// What a Range header asks of a representation of `size` bytes.
struct range_request {
  enum class kind { whole, partial, unsatisfiable } what = kind::whole;
  byte_range range{};
};

namespace detail {
inline std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}
}  // namespace detail

/// RFC 9110 14.1.2: ranges-specifier = "bytes=" first-pos "-" [ last-pos ] | "-" suffix-length.
/// Anything else (another unit, a malformed or multi-range value) is served whole:
/// 14.2, "A server MUST ignore a Range header field received with a request
/// method that is unrecognized or for which range handling is not defined",
/// and an invalid ranges-specifier is treated as if the field were absent.
inline range_request parse_range(std::string_view header, std::uint64_t size) {
  constexpr std::string_view unit = "bytes=";
  if (header.substr(0, unit.size()) != unit) return {};
  std::string_view spec = header.substr(unit.size());
  while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  if (spec.find(',') != std::string_view::npos) return {};  // several ranges: served whole
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  const std::string_view first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  if (first_text.empty()) {
    // suffix-range: the last N bytes (14.1.2).
    const auto suffix = detail::parse_decimal(last_text);
    if (!suffix) return {};
    if (*suffix == 0 || size == 0) return {range_request::kind::unsatisfiable, {}};
    const std::uint64_t n = *suffix < size ? *suffix : size;
    return {range_request::kind::partial, {size - n, n}};
  }
  const auto first = detail::parse_decimal(first_text);
  if (!first) return {};
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    const auto l = detail::parse_decimal(last_text);
    if (!l || *l < *first) return {};  // 14.1.1: last-pos < first-pos is invalid
    if (*l < last) last = *l;
  }
  // 14.1.1: satisfiable when first-pos is less than the representation's length.
  if (*first >= size) return {range_request::kind::unsatisfiable, {}};
  return {range_request::kind::partial, {*first, last - *first + 1}};
}

}  // namespace www
