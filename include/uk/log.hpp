// Logging with a level per source, as MirageOS's Logs with its reporter:
//
//   uk::log::info(uk::log::source::tcp, "connection to {} refused", peer);
//
// writes "[    1.000123] info  tcp: connection to 10.0.0.1:80 refused\n": the
// seconds since the process started (steady clock), the level, the source and
// the message. A message whose level is above its source's level costs one
// relaxed atomic load and a compare: its arguments are not formatted.
//
// The levels are set at startup from the `--logs` key (uk::log::logs_key,
// "*:info,tcp:debug") with apply(), and may be changed at any time from any
// thread. Each line is formatted on the stack and handed to the sink in one
// call; the default sink writes it to stderr with one fwrite, so lines from
// different threads never interleave.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "uk/detail/did_you_mean.hpp"
#include "uk/detail/key_parsers.hpp"
#include "uk/result.hpp"

namespace uk::log {

/// How much to say, in Logs' order: a source at level L shows messages of
/// level L and below. `quiet` shows nothing (no message has that level).
enum class level : std::uint8_t { quiet, error, warning, info, debug };

/// Who is speaking: the runtime, each layer, the Qubes agents, the application.
enum class source : std::uint8_t {
  runtime,
  netif,
  ethernet,
  arp,
  ipv4,
  icmp,
  udp,
  tcp,
  dhcp,
  qubes_db,
  qubes_rexec,
  qubes_gui,
  app
};
inline constexpr std::size_t source_count = 13;
inline constexpr std::size_t level_count = 5;

inline constexpr std::array<source, source_count> all_sources = {
    source::runtime,     source::netif,     source::ethernet, source::arp,  source::ipv4,
    source::icmp,        source::udp,       source::tcp,      source::dhcp, source::qubes_db,
    source::qubes_rexec, source::qubes_gui, source::app};
inline constexpr std::array<level, level_count> all_levels = {
    level::quiet, level::error, level::warning, level::info, level::debug};

/// The name of a source in log lines and in the --logs spec.
constexpr std::string_view name(source s) noexcept {
  switch (s) {
    case source::runtime: return "uk";
    case source::netif: return "netif";
    case source::ethernet: return "ethernet";
    case source::arp: return "arp";
    case source::ipv4: return "ipv4";
    case source::icmp: return "icmp";
    case source::udp: return "udp";
    case source::tcp: return "tcp";
    case source::dhcp: return "dhcp";
    case source::qubes_db: return "qubes.db";
    case source::qubes_rexec: return "qubes.rexec";
    case source::qubes_gui: return "qubes.gui";
    case source::app: return "app";
  }
  return "?";
}

/// The name of a level in the --logs spec.
constexpr std::string_view name(level l) noexcept {
  switch (l) {
    case level::quiet: return "quiet";
    case level::error: return "error";
    case level::warning: return "warning";
    case level::info: return "info";
    case level::debug: return "debug";
  }
  return "?";
}

/// The level as shown in a log line, at most 5 characters: "warning" is "warn".
constexpr std::string_view tag(level l) noexcept { return l == level::warning ? "warn" : name(l); }

namespace detail {

struct level_table {
  std::atomic<level> of[source_count];
};
static_assert(source_count == 13 && static_cast<std::size_t>(source::app) + 1 == source_count);

inline constinit level_table levels = {
    {level::info, level::info, level::info, level::info, level::info, level::info, level::info,
     level::info, level::info, level::info, level::info, level::info, level::info}};

/// When the process started, for the timestamps: read once, at static initialization.
inline const std::chrono::steady_clock::time_point start_time = std::chrono::steady_clock::now();

inline void write_to_stderr(std::string_view line) noexcept {
  std::fwrite(line.data(), 1, line.size(), stderr);  // one call: stdio locks the stream
}

}  // namespace detail

/// Where the lines go. `line` ends with '\n'. Called from the logging thread.
using sink = void (*)(std::string_view line);

namespace detail {
inline constinit std::atomic<sink> current_sink{&write_to_stderr};
}  // namespace detail

/// Sends every following line to `s`; nullptr restores the default (stderr).
inline void set_sink(sink s) noexcept {
  detail::current_sink.store(s != nullptr ? s : &detail::write_to_stderr,
                             std::memory_order_release);
}

inline void set_level(source s, level l) noexcept {
  detail::levels.of[static_cast<std::size_t>(s)].store(l, std::memory_order_relaxed);
}

inline level level_of(source s) noexcept {
  return detail::levels.of[static_cast<std::size_t>(s)].load(std::memory_order_relaxed);
}

/// Whether a message of level `l` from `s` is shown: the hot check.
inline bool enabled(source s, level l) noexcept {
  return l != level::quiet &&
         static_cast<std::uint8_t>(l) <= static_cast<std::uint8_t>(level_of(s));
}

namespace detail {

/// Formats one line into a stack buffer and hands it to the sink.
inline void write(source s, level l, fmt::string_view format, fmt::format_args args) {
  fmt::memory_buffer line;
  const std::chrono::duration<double> since = std::chrono::steady_clock::now() - start_time;
  fmt::format_to(fmt::appender(line), "[{:12.6f}] {:<5} {}: ", since.count(), tag(l), name(s));
  fmt::vformat_to(fmt::appender(line), format, args);
  line.push_back('\n');
  current_sink.load(std::memory_order_acquire)(std::string_view(line.data(), line.size()));
}

}  // namespace detail

/// Logs at level l; nothing is formatted when the level is not enabled.
template <class... A>
void message(source s, level l, fmt::format_string<A...> format, A&&... args) {
  if (enabled(s, l)) detail::write(s, l, format, fmt::make_format_args(args...));
}

template <class... A>
void error(source s, fmt::format_string<A...> format, A&&... args) {
  if (enabled(s, level::error))
    detail::write(s, level::error, format, fmt::make_format_args(args...));
}

template <class... A>
void warning(source s, fmt::format_string<A...> format, A&&... args) {
  if (enabled(s, level::warning))
    detail::write(s, level::warning, format, fmt::make_format_args(args...));
}

template <class... A>
void info(source s, fmt::format_string<A...> format, A&&... args) {
  if (enabled(s, level::info))
    detail::write(s, level::info, format, fmt::make_format_args(args...));
}

template <class... A>
void debug(source s, fmt::format_string<A...> format, A&&... args) {
  if (enabled(s, level::debug))
    detail::write(s, level::debug, format, fmt::make_format_args(args...));
}

/// The levels of every source: per_source where set, else default_level.
struct spec {
  level default_level = level::info;
  std::array<std::optional<level>, source_count> per_source{};

  level of(source s) const noexcept {
    return per_source[static_cast<std::size_t>(s)].value_or(default_level);
  }
  friend bool operator==(const spec&, const spec&) = default;
};

namespace detail {

inline std::string lower_case(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

inline std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

template <class T, std::size_t N>
std::array<std::string_view, N> names_of(const std::array<T, N>& all) noexcept {
  std::array<std::string_view, N> names{};
  for (std::size_t i = 0; i < N; ++i) names[i] = name(all[i]);
  return names;
}

inline std::string joined(std::span<const std::string_view> names) {
  std::string out;
  for (const auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace detail

/// Parses a level spec: items separated by commas, each "*:LEVEL" (the
/// default for every source), "SOURCE:LEVEL", or "LEVEL" (= "*:LEVEL").
/// Sources and levels are matched ignoring letter case, spaces around items
/// are ignored. A named source keeps its level whatever the order of the
/// items ("tcp:debug,*:error" leaves tcp at debug); when an item is repeated
/// the last one wins. Errors name the valid sources or levels.
inline result<spec, std::string> parse_spec(std::string_view text) {
  const auto source_names = detail::names_of(all_sources);
  const auto level_names = detail::names_of(all_levels);
  spec out;
  if (detail::trim(text).empty()) return failure<std::string>{"the log spec is empty"};
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = detail::trim(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty()) return failure<std::string>{"the log spec has an empty item"};

    const std::size_t colon = item.find(':');
    const std::string_view source_text =
        colon == std::string_view::npos ? "*" : detail::trim(item.substr(0, colon));
    const std::string_view level_text =
        colon == std::string_view::npos ? item : detail::trim(item.substr(colon + 1));

    const std::string level_lower = detail::lower_case(level_text);
    std::optional<level> lvl;
    for (const level l : all_levels)
      if (name(l) == level_lower) lvl = l;
    if (!lvl) {
      return failure<std::string>{fmt::format(
          "unknown log level {}{} (levels: {})", uk::detail::quoted(level_text),
          uk::detail::did_you_mean(level_lower, level_names), detail::joined(level_names))};
    }

    if (source_text == "*") {
      out.default_level = *lvl;
    } else {
      const std::string source_lower = detail::lower_case(source_text);
      std::optional<source> src;
      for (const source s : all_sources)
        if (name(s) == source_lower) src = s;
      if (!src) {
        return failure<std::string>{fmt::format(
            "unknown log source {}{} (sources: *, {})", uk::detail::quoted(source_text),
            uk::detail::did_you_mean(source_lower, source_names), detail::joined(source_names))};
      }
      out.per_source[static_cast<std::size_t>(*src)] = *lvl;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

/// Sets every source's level from the spec.
inline void apply(const spec& s) noexcept {
  for (const source src : all_sources) set_level(src, s.of(src));
}

/// The --logs key (-l), as a Mirage unikernel's `-l '*:info,tcp:debug'`.
struct logs_key {
  using value_type = spec;
  static constexpr std::string_view name = "logs";
  static constexpr char short_name = 'l';
  static constexpr std::string_view group = "log";
  static constexpr std::string_view doc =
      "Log levels per source: '*:LEVEL' and 'SOURCE:LEVEL' items separated by commas; a lone LEVEL "
      "means '*:LEVEL'. Sources: uk, netif, ethernet, arp, ipv4, icmp, udp, tcp, dhcp, qubes.db, "
      "qubes.rexec, qubes.gui, app; levels: quiet, error, warning, info, debug.";
  static constexpr std::string_view default_text = "*:info";
};

}  // namespace uk::log

template <>
struct uk::key_parser<uk::log::spec> {
  static constexpr std::string_view metavar = "SPEC";
  static constexpr std::string_view expected =
      "a log spec such as '*:info,tcp:debug' (levels: quiet, error, warning, info, debug)";
  static std::optional<uk::log::spec> parse(std::string_view text) {
    auto parsed = uk::log::parse_spec(text);
    if (!parsed) return std::nullopt;
    return std::move(*parsed);
  }
  static std::string explain(std::string_view text) {
    auto parsed = uk::log::parse_spec(text);
    return parsed ? std::string{} : parsed.error();
  }
};

// The formatters take no format spec ("{}" only). They do not derive from
// fmt::formatter<std::string_view>: with fmt 9, g++ 12 -O3 reports a false
// -Wstringop-overflow in that formatter's parse() when it runs at run time.
template <>
struct fmt::formatter<uk::log::level> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  auto format(uk::log::level l, format_context& ctx) const {
    const std::string_view text = uk::log::name(l);
    return std::copy(text.begin(), text.end(), ctx.out());
  }
};

template <>
struct fmt::formatter<uk::log::source> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  auto format(uk::log::source s, format_context& ctx) const {
    const std::string_view text = uk::log::name(s);
    return std::copy(text.begin(), text.end(), ctx.out());
  }
};

/// A spec as parse_spec reads it: "*:info,tcp:debug".
template <>
struct fmt::formatter<uk::log::spec> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  auto format(const uk::log::spec& s, format_context& ctx) const {
    auto out = fmt::format_to(ctx.out(), "*:{}", uk::log::name(s.default_level));
    for (const auto src : uk::log::all_sources)
      if (const auto l = s.per_source[static_cast<std::size_t>(src)])
        out = fmt::format_to(out, ",{}:{}", uk::log::name(src), uk::log::name(*l));
    return out;
  }
};
