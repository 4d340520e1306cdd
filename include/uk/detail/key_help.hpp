// The --help text of a set of runtime keys (used by uk/keys.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace uk::detail {

/// What the parser needs to know about one key, without its type.
struct key_info {
  std::string_view name;
  char short_name;
  bool flag;
  bool required;
  std::string_view group;
  std::string_view doc;
  std::string_view metavar;
  std::optional<std::string_view> default_text;  // nullopt: none (optional) or required
};

inline constexpr std::size_t help_width = 100;     // docs wrap before this column
inline constexpr std::size_t max_doc_column = 40;  // a longer "--key=VALUE" gets a line of its own

/// Appends `words` wrapped at help_width, every line starting at `column`;
/// the first line continues `out`'s last line, which has `used` characters.
inline void append_wrapped(std::string& out, std::size_t used, std::size_t column,
                           std::string_view words) {
  std::size_t at = used;
  bool first_word = true;
  while (!words.empty()) {
    const std::size_t space = words.find(' ');
    const std::string_view word = words.substr(0, space);
    words = space == std::string_view::npos ? std::string_view{} : words.substr(space + 1);
    if (word.empty()) continue;
    if (!first_word && at + 1 + word.size() > help_width) {
      out += '\n';
      out.append(column, ' ');
      at = column;
    } else if (!first_word) {
      out += ' ';
      ++at;
    }
    out += word;
    at += word.size();
    first_word = false;
  }
  out += '\n';
}

inline std::string help_text(std::string_view program, std::span<const key_info> keys) {
  const bool h_is_help =
      std::none_of(keys.begin(), keys.end(), [](const key_info& k) { return k.short_name == 'h'; });
  struct entry {
    std::string_view group;
    std::string left;
    std::string doc;
  };
  std::vector<entry> entries;
  for (const auto& k : keys) {
    std::string left =
        k.short_name != '\0' ? fmt::format("  -{}, ", k.short_name) : std::string(6, ' ');
    left += k.flag ? fmt::format("--[no-]{}", k.name) : fmt::format("--{}={}", k.name, k.metavar);
    std::string doc(k.doc);
    if (k.required)
      doc += " (required)";
    else if (!k.default_text)
      doc += " (default: none)";
    else if (k.default_text->empty())
      doc += " (default: '')";
    else
      doc += fmt::format(" (default: {})", *k.default_text);
    entries.push_back({k.group, std::move(left), std::move(doc)});
  }
  entries.push_back({"help", h_is_help ? "  -h, --help" : "      --help",
                     "Show this help and exit with code 63. A usage error exits with code 64."});

  // Docs start 3 columns after the widest "--key=VALUE" that fits before max_doc_column.
  std::size_t widest = 0;
  for (const auto& e : entries)
    if (e.left.size() + 3 <= max_doc_column) widest = std::max(widest, e.left.size());
  const std::size_t column = widest + 3;

  std::vector<std::string_view> groups;  // in order of first appearance
  for (const auto& e : entries)
    if (std::find(groups.begin(), groups.end(), e.group) == groups.end()) groups.push_back(e.group);

  std::string out = fmt::format("Usage: {} [--KEY=VALUE]...\n", program);
  out += "Keys are given as --key=VALUE, --key VALUE or -k VALUE; flags as --flag or --no-flag.\n";
  for (const auto group : groups) {
    out += fmt::format("\n{}:\n", group);
    for (const auto& e : entries) {
      if (e.group != group) continue;
      out += e.left;
      if (e.left.size() + 2 > column) {  // no room: the doc starts on the next line
        out += '\n';
        out.append(column, ' ');
      } else {
        out.append(column - e.left.size(), ' ');
      }
      append_wrapped(out, column, column, e.doc);
    }
  }
  return out;
}

}  // namespace uk::detail
