// Did-you-mean suggestions for a mistyped name (a runtime key, a log source,
// a log level), and safe quoting of user text in error messages.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace uk::detail {

/// The optimal string alignment distance between a and b: the number of
/// single-character insertions, deletions, substitutions and transpositions of
/// two adjacent characters that turn one into the other. Stops early and returns
/// a number above `limit` when the lengths alone differ by more than `limit`.
inline std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit = 2) {
  const std::size_t n = a.size(), m = b.size();
  if ((n > m ? n - m : m - n) > limit) return limit + 1;
  // Three rows of the dynamic-programming table: i-2, i-1 and i.
  std::vector<std::size_t> before(m + 1), previous(m + 1), current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[m];
}

/// The candidates `typed` may have meant: those within edit distance 2, closest
/// first, then the candidate that `typed` is a prefix of, when only one is.
inline std::vector<std::string_view> close_names(std::string_view typed,
                                                 std::span<const std::string_view> candidates) {
  struct scored {
    std::size_t distance;
    std::size_t order;
    std::string_view name;
  };
  std::vector<scored> close;
  std::string_view prefix_match;
  std::size_t prefix_matches = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const std::string_view c = candidates[i];
    if (c == typed) continue;
    const std::size_t d = edit_distance(typed, c);
    if (d <= 2) close.push_back({d, i, c});
    if (!typed.empty() && c.starts_with(typed)) {
      ++prefix_matches;
      prefix_match = c;
    }
  }
  std::sort(close.begin(), close.end(), [](const scored& x, const scored& y) {
    return x.distance != y.distance ? x.distance < y.distance : x.order < y.order;
  });
  std::vector<std::string_view> names;
  for (const auto& s : close) names.push_back(s.name);
  if (prefix_matches == 1 && std::find(names.begin(), names.end(), prefix_match) == names.end())
    names.push_back(prefix_match);
  return names;
}

/// "--a", "--a or --b", "--a, --b or --c" (with `prefix` = "--").
inline std::string or_list(std::span<const std::string_view> names, std::string_view prefix = {}) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += prefix;
    out += names[i];
  }
  return out;
}

/// "; did you mean --a or --b?" when there are close names, else "".
inline std::string did_you_mean(std::string_view typed,
                                std::span<const std::string_view> candidates,
                                std::string_view prefix = {}) {
  const auto names = close_names(typed, candidates);
  if (names.empty()) return {};
  return fmt::format("; did you mean {}?", or_list(names, prefix));
}

/// `text` with control characters and non-ASCII bytes shown as
/// \xNN, so that an error message never writes raw terminal controls. Text
/// longer than `max` bytes is cut and marked with "...".
inline std::string escaped(std::string_view text, std::size_t max = 200) {
  std::string out;
  const bool cut = text.size() > max;
  if (cut) text = text.substr(0, max);
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte >= 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += ch;
    }
  }
  if (cut) out += "...";
  return out;
}

/// escaped(text) in single quotes: 'text'.
inline std::string quoted(std::string_view text, std::size_t max = 200) {
  return fmt::format("'{}'", escaped(text, max));
}

}  // namespace uk::detail
