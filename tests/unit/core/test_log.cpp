// Logging (uk/log.hpp): level specs, per-source levels, the line format, the sink.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "uk/keys.hpp"
#include "uk/log.hpp"

namespace ulog = uk::log;
using ulog::level;
using ulog::source;

namespace {

// The sink for these tests: every line, in order.
std::mutex captured_mutex;
std::vector<std::string> captured;

void capture(std::string_view line) {
  const std::lock_guard lock(captured_mutex);
  captured.emplace_back(line);
}

/// Captures the lines logged during a test and puts the levels and the sink
/// back afterwards: the levels are process-wide.
struct capture_logs {
  std::array<level, ulog::source_count> saved{};
  capture_logs() {
    for (const auto s : ulog::all_sources) saved[static_cast<std::size_t>(s)] = ulog::level_of(s);
    captured.clear();
    ulog::set_sink(&capture);
  }
  ~capture_logs() {
    ulog::set_sink(nullptr);
    for (const auto s : ulog::all_sources) ulog::set_level(s, saved[static_cast<std::size_t>(s)]);
  }
  capture_logs(const capture_logs&) = delete;
  capture_logs& operator=(const capture_logs&) = delete;
};

/// A value whose formatting is counted.
struct counted {
  static inline int formatted = 0;
};

/// Whether `line` is "[{:12.6f}] {:<5} {}: {}\n" (std::regex trips g++ 12's
/// -Wmaybe-uninitialized under the sanitizers, so this checks by hand).
bool has_line_shape(std::string_view line) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (line.size() < 24 || line[0] != '[' || line[13] != ']' || line[14] != ' ') return false;
  // The timestamp: right-aligned in 12 columns, 6 decimals.
  std::size_t i = 1;
  while (i < 13 && line[i] == ' ') ++i;
  if (i >= 6 || !digit(line[i])) return false;  // at least "0.000000"
  while (i < 13 && digit(line[i])) ++i;
  if (i != 6 || line[6] != '.') return false;
  for (i = 7; i < 13; ++i)
    if (!digit(line[i])) return false;
  const std::string_view tag = line.substr(15, 5);
  if (tag != "error" && tag != "warn " && tag != "info " && tag != "debug") return false;
  if (line[20] != ' ') return false;
  const std::size_t colon = line.find(": ", 21);
  if (colon == std::string_view::npos || colon == 21) return false;
  for (const char c : line.substr(21, colon - 21))
    if (!((c >= 'a' && c <= 'z') || c == '.')) return false;
  return line.find('\n') == line.size() - 1;
}

ulog::spec parsed(std::string_view text) {
  const auto r = ulog::parse_spec(text);
  INFO(text);
  REQUIRE(r);
  return *r;
}

std::string spec_error(std::string_view text) {
  const auto r = ulog::parse_spec(text);
  INFO(text);
  REQUIRE_FALSE(r);
  return r.error();
}

}  // namespace

template <>
struct fmt::formatter<counted> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  auto format(const counted&, format_context& ctx) const {
    ++counted::formatted;
    return fmt::format_to(ctx.out(), "counted");
  }
};

TEST_CASE("log: names of sources and levels", "[log]") {
  const std::vector<std::string_view> sources{
      "uk",  "netif", "ethernet", "arp",         "ipv4",      "icmp", "udp",
      "tcp", "dhcp",  "qubes.db", "qubes.rexec", "qubes.gui", "app"};
  REQUIRE(ulog::all_sources.size() == ulog::source_count);
  for (std::size_t i = 0; i < ulog::source_count; ++i) {
    CHECK(static_cast<std::size_t>(ulog::all_sources[i]) == i);
    CHECK(ulog::name(ulog::all_sources[i]) == sources[i]);
  }
  STATIC_REQUIRE(ulog::name(source::runtime) == "uk");
  STATIC_REQUIRE(ulog::name(source::qubes_rexec) == "qubes.rexec");
  STATIC_REQUIRE(ulog::name(level::quiet) == "quiet");
  STATIC_REQUIRE(ulog::name(level::warning) == "warning");
  CHECK(ulog::name(level::error) == "error");
  CHECK(ulog::name(level::info) == "info");
  CHECK(ulog::name(level::debug) == "debug");
  CHECK(fmt::format("{} {}", source::tcp, level::debug) == "tcp debug");
}

TEST_CASE("log::parse_spec: good specs", "[log][spec]") {
  SECTION("'*:LEVEL' sets the default") {
    const auto s = parsed("*:debug");
    CHECK(s.default_level == level::debug);
    CHECK(s.of(source::tcp) == level::debug);
    CHECK(s.per_source == std::array<std::optional<level>, ulog::source_count>{});
  }
  SECTION("a lone LEVEL is '*:LEVEL'") {
    CHECK(parsed("debug") == parsed("*:debug"));
    CHECK(parsed("quiet").default_level == level::quiet);
  }
  SECTION("'SOURCE:LEVEL' alone: the others keep the default, info") {
    const auto s = parsed("tcp:debug");
    CHECK(s.default_level == level::info);
    CHECK(s.of(source::tcp) == level::debug);
    CHECK(s.of(source::udp) == level::info);
  }
  SECTION("the usual '*:info,tcp:debug'") {
    const auto s = parsed("*:info,tcp:debug");
    CHECK(s.default_level == level::info);
    CHECK(s.per_source[static_cast<std::size_t>(source::tcp)] == level::debug);
    CHECK(s.of(source::arp) == level::info);
  }
  SECTION("named sources override '*' whatever the order") {
    CHECK(parsed("tcp:debug,*:error") == parsed("*:error,tcp:debug"));
    const auto s = parsed("tcp:debug,*:error");
    CHECK(s.of(source::tcp) == level::debug);
    CHECK(s.of(source::ipv4) == level::error);
  }
  SECTION("a repeated item: the last wins") {
    CHECK(parsed("tcp:debug,tcp:warning").of(source::tcp) == level::warning);
    CHECK(parsed("*:debug,*:error").default_level == level::error);
  }
  SECTION("every source and level by name, dotted names included") {
    for (const auto s : ulog::all_sources) {
      for (const auto l : ulog::all_levels) {
        const auto spec = parsed(fmt::format("{}:{}", ulog::name(s), ulog::name(l)));
        CHECK(spec.of(s) == l);
      }
    }
    CHECK(parsed("qubes.db:debug,qubes.gui:quiet,uk:warning").of(source::qubes_gui) ==
          level::quiet);
  }
  SECTION("letter case and spaces around items do not matter") {
    CHECK(parsed(" TCP : Debug , *:WARNING ") == parsed("tcp:debug,*:warning"));
  }
}

TEST_CASE("log::parse_spec: bad specs say what is valid", "[log][spec]") {
  CHECK(spec_error("") == "the log spec is empty");
  CHECK(spec_error("  ") == "the log spec is empty");
  for (auto empty_item :
       {",", "tcp:debug,", ",tcp:debug", "tcp:debug,,*:info", "tcp:debug, ,udp:info"})
    CHECK(spec_error(empty_item) == "the log spec has an empty item");

  CHECK(
      spec_error("tpc:debug") ==
      "unknown log source 'tpc'; did you mean tcp or app? (sources: *, uk, netif, ethernet, arp, ipv4, "
      "icmp, udp, tcp, dhcp, qubes.db, qubes.rexec, qubes.gui, app)");
  CHECK_THAT(spec_error("qubes.dbb:info"),
             Catch::StartsWith("unknown log source 'qubes.dbb'; did you mean qubes.db?"));
  CHECK_THAT(spec_error("frobnicator:info"),
             Catch::StartsWith("unknown log source 'frobnicator' (sources: *, uk,"));
  CHECK_THAT(spec_error(":debug"), Catch::StartsWith("unknown log source ''"));
  CHECK_THAT(spec_error("runtime:debug"), Catch::StartsWith("unknown log source 'runtime'"));

  CHECK(spec_error("tcp:verbose") ==
        "unknown log level 'verbose' (levels: quiet, error, warning, info, debug)");
  CHECK(
      spec_error("warn") ==
      "unknown log level 'warn'; did you mean warning? (levels: quiet, error, warning, info, debug)");
  CHECK_THAT(spec_error("tcp:debg"),
             Catch::StartsWith("unknown log level 'debg'; did you mean debug?"));
  CHECK_THAT(spec_error("tcp:"), Catch::StartsWith("unknown log level ''"));
  CHECK_THAT(spec_error("tcp:debug:x"), Catch::StartsWith("unknown log level 'debug:x'"));
  CHECK_THAT(spec_error("*:info,tcp"), Catch::StartsWith("unknown log level 'tcp'"));
}

TEST_CASE("log: formatting a spec gives back a spec that parses to it", "[log][spec]") {
  for (auto text : {"*:info", "*:info,tcp:debug", "tcp:debug,*:error,qubes.db:quiet", "quiet"}) {
    const auto s = parsed(text);
    CHECK(parsed(fmt::format("{}", s)) == s);
  }
  CHECK(fmt::format("{}", parsed("tcp:debug,*:error,arp:warning")) ==
        "*:error,arp:warning,tcp:debug");
}

TEST_CASE("log::apply sets every source's level, enabled compares", "[log][levels]") {
  const capture_logs guard;
  ulog::apply(parsed("*:warning,tcp:debug,arp:quiet"));
  CHECK(ulog::level_of(source::tcp) == level::debug);
  CHECK(ulog::level_of(source::arp) == level::quiet);
  CHECK(ulog::level_of(source::udp) == level::warning);
  CHECK(ulog::level_of(source::app) == level::warning);

  CHECK(ulog::enabled(source::tcp, level::debug));
  CHECK(ulog::enabled(source::tcp, level::error));
  CHECK(ulog::enabled(source::udp, level::warning));
  CHECK(ulog::enabled(source::udp, level::error));
  CHECK_FALSE(ulog::enabled(source::udp, level::info));
  CHECK_FALSE(ulog::enabled(source::udp, level::debug));
  for (const auto l : ulog::all_levels)
    CHECK_FALSE(ulog::enabled(source::arp, l));           // quiet shows nothing
  CHECK_FALSE(ulog::enabled(source::tcp, level::quiet));  // no message has level quiet

  ulog::set_level(source::udp, level::debug);
  CHECK(ulog::enabled(source::udp, level::debug));
  ulog::apply(ulog::spec{});
  for (const auto s : ulog::all_sources) CHECK(ulog::level_of(s) == level::info);
}

TEST_CASE("log: a disabled message is not formatted", "[log][levels]") {
  const capture_logs guard;
  ulog::apply(parsed("info"));
  counted::formatted = 0;
  ulog::debug(source::tcp, "value {}", counted{});
  ulog::message(source::tcp, level::debug, "value {}", counted{});
  CHECK(counted::formatted == 0);
  CHECK(captured.empty());

  ulog::info(source::tcp, "value {}", counted{});
  CHECK(counted::formatted == 1);
  REQUIRE(captured.size() == 1);
  CHECK(captured[0].ends_with("] info  tcp: value counted\n"));

  ulog::set_level(source::tcp, level::quiet);
  ulog::error(source::tcp, "value {}", counted{});
  CHECK(counted::formatted == 1);
}

TEST_CASE("log: the sink gets one whole line per message", "[log][sink]") {
  const capture_logs guard;
  ulog::apply(parsed("debug"));
  ulog::info(source::app, "hello");
  ulog::error(source::tcp, "refused {}.{}.{}.{}:{}", 10, 0, 0, 1, 80);
  ulog::warning(source::qubes_db, "{} entries", 3);
  ulog::debug(source::runtime, "{:>4}|", "x");
  ulog::message(source::dhcp, level::info, "lease {}s", 3600);
  REQUIRE(captured.size() == 5);

  // "[{:12.6f}] {:<5} {}: {}\n": seconds since start, right-aligned in 12 columns.
  for (const auto& line : captured) {
    INFO(line);
    CHECK(has_line_shape(line));
  }
  CHECK_FALSE(has_line_shape("[    0.000140] info  app: hello"));      // no newline
  CHECK_FALSE(has_line_shape("[   0.000140] info  app: hello\n"));     // 11 wide
  CHECK_FALSE(has_line_shape("[    0.00014] info  app: hello\n"));     // 5 decimals
  CHECK_FALSE(has_line_shape("[    0.000140] warning app: hello\n"));  // a 7-letter tag
  CHECK(has_line_shape("[    0.000140] info  app: hello\n"));
  CHECK(has_line_shape("[123456.000140] info  app: hello\n") == false);  // 13 wide
  CHECK(has_line_shape("[12345.000140] info  app: hello\n"));
  CHECK(captured[0].substr(14) == " info  app: hello\n");
  CHECK(captured[1].substr(14) == " error tcp: refused 10.0.0.1:80\n");
  CHECK(captured[2].substr(14) == " warn  qubes.db: 3 entries\n");
  CHECK(captured[3].substr(14) == " debug uk:    x|\n");
  CHECK(captured[4].substr(14) == " info  dhcp: lease 3600s\n");

  // The timestamps never go back.
  const auto seconds = [](const std::string& line) { return std::stod(line.substr(1, 12)); };
  for (std::size_t i = 1; i < captured.size(); ++i)
    CHECK(seconds(captured[i - 1]) <= seconds(captured[i]));
  CHECK(seconds(captured[0]) >= 0.0);
}

TEST_CASE("log: lines from several threads never interleave", "[log][sink]") {
  const capture_logs guard;
  ulog::apply(parsed("info"));
  constexpr int threads = 4, lines = 200;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([t] {
      for (int i = 0; i < lines; ++i) {
        ulog::info(source::app, "thread {} line {} {}", t, i,
                   std::string(50, 'a' + static_cast<char>(t)));
        if (i % 50 == 0) ulog::set_level(source::udp, i % 100 == 0 ? level::debug : level::info);
      }
    });
  }
  for (auto& w : workers) w.join();
  REQUIRE(captured.size() == threads * lines);
  std::vector<int> per_thread(threads, 0);
  for (const auto& line : captured) {
    INFO(line);
    REQUIRE(has_line_shape(line));
    const auto body = std::string_view(line).substr(21);  // "app: thread T line I aaaa...\n"
    REQUIRE(body.starts_with("app: thread "));
    const int t = body[12] - '0';
    REQUIRE((t >= 0 && t < threads));
    ++per_thread[static_cast<std::size_t>(t)];
    CHECK(body.ends_with(" " + std::string(50, static_cast<char>('a' + t)) + "\n"));
  }
  for (const int n : per_thread) CHECK(n == lines);
}

TEST_CASE("log: set_sink(nullptr) restores stderr", "[log][sink]") {
  const capture_logs guard;
  ulog::set_sink(nullptr);
  ulog::set_level(source::app, level::error);
  ulog::info(source::app, "not shown");  // disabled: nothing reaches stderr
  ulog::set_sink(&capture);
  ulog::error(source::app, "shown");
  CHECK(captured.size() == 1);
}

TEST_CASE("log::logs_key: the --logs key, -l", "[log][keys]") {
  using values = uk::key_values<ulog::logs_key>;
  CHECK(values::defaults().get<ulog::logs_key>() == ulog::spec{});
  CHECK(uk::key_metavar<ulog::logs_key>() == "SPEC");
  CHECK(uk::key_expected<ulog::logs_key>() ==
        "a log spec such as '*:info,tcp:debug' (levels: quiet, error, warning, info, debug)");

  std::vector<const char*> short_form{"-l", "*:warning,tcp:debug"};
  const auto r = uk::parse_keys<ulog::logs_key>("hello", short_form);
  REQUIRE(r);
  CHECK(r->get<ulog::logs_key>() == parsed("*:warning,tcp:debug"));

  std::vector<const char*> attached{"-ldebug"}, long_form{"--logs=tcp:debug"};
  CHECK(uk::parse_keys<ulog::logs_key>("hello", attached)->get<ulog::logs_key>() ==
        parsed("debug"));
  CHECK(uk::parse_keys<ulog::logs_key>("hello", long_form)->get<ulog::logs_key>() ==
        parsed("tcp:debug"));

  std::vector<const char*> bad{"--logs", "tpc:debug"};
  const auto e = uk::parse_keys<ulog::logs_key>("hello", bad);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == uk::exit_usage);
  CHECK_THAT(e.error().message,
             Catch::StartsWith(
                 "hello: --logs: expected a log spec such as '*:info,tcp:debug' (levels: quiet, "
                 "error, warning, info, debug), got 'tpc:debug': unknown log source 'tpc'; "
                 "did you mean tcp or app?"));

  std::vector<const char*> help{"--help"};
  CHECK_THAT(uk::parse_keys<ulog::logs_key>("hello", help).error().message,
             Catch::Contains("  -l, --logs=SPEC") && Catch::Contains("(default: *:info)") &&
                 Catch::Contains("\nlog:\n"));
}

TEST_CASE("log::logs_key: its doc names every source and level", "[log][keys]") {
  const std::string_view doc = ulog::logs_key::doc;
  for (const auto s : ulog::all_sources) {
    const bool listed = doc.find(fmt::format(" {},", ulog::name(s))) != std::string_view::npos ||
                        doc.find(fmt::format(" {};", ulog::name(s))) != std::string_view::npos;
    INFO(ulog::name(s));
    CHECK(listed);
  }
  for (const auto l : ulog::all_levels) CHECK(doc.find(ulog::name(l)) != std::string_view::npos);
}
