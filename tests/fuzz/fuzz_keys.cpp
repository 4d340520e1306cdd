// libFuzzer target for the runtime keys and the log spec: the input, split on
// NUL bytes, is an argv for parse_keys over a representative set of keys; the
// whole input and each argument are also given to parse_spec and to the value
// parsers. Nothing may crash, and every outcome must be well formed.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uk/keys.hpp"
#include "uk/log.hpp"

namespace {

struct interface_key {
  using value_type = std::string;
  static constexpr std::string_view name = "interface";
  static constexpr char short_name = 'i';
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "The TAP device to use.";
  static constexpr std::string_view default_text = "tap0";
};
struct ipv4_key {
  using value_type = uk::ipv4_prefix;
  static constexpr std::string_view name = "ipv4";
  static constexpr std::string_view group = "ipv4";
  static constexpr std::string_view doc = "The address and prefix.";
  static constexpr std::string_view default_text = "10.0.0.2/24";
};
struct gateway_key {
  using value_type = std::optional<uk::ipv4_address>;
  static constexpr std::string_view name = "ipv4-gateway";
  static constexpr std::string_view group = "ipv4";
  static constexpr std::string_view doc = "The gateway.";
};
struct mac_key {
  using value_type = std::optional<uk::mac_address>;
  static constexpr std::string_view name = "mac";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "The MAC address.";
};
struct pcap_key {
  using value_type = bool;
  static constexpr std::string_view name = "pcap";
  static constexpr char short_name = 'p';
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "Capture frames.";
  static constexpr std::string_view default_text = "false";
};
struct port_key {
  using value_type = std::uint16_t;
  static constexpr std::string_view name = "port";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "The port.";
  static constexpr std::string_view default_text = "7";
  static constexpr long long min = 1, max = 65535;
};
struct offset_key {
  using value_type = std::optional<std::int64_t>;
  static constexpr std::string_view name = "offset";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "An offset.";
};
struct timeout_key {
  using value_type = std::chrono::nanoseconds;
  static constexpr std::string_view name = "timeout";
  static constexpr char short_name = 't';
  static constexpr std::string_view group = "tcp";
  static constexpr std::string_view doc = "Idle timeout.";
  static constexpr std::string_view default_text = "2m";
};
struct pcap_file_key {
  using value_type = std::filesystem::path;
  static constexpr std::string_view name = "pcap-file";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "Where to write.";
  static constexpr std::string_view default_text = "uk.pcap";
};
struct token_key {
  using value_type = std::string;
  static constexpr std::string_view name = "token";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "A required key.";
  static constexpr bool required = true;
};

using fuzz_values =
    uk::key_values<uk::log::logs_key, interface_key, ipv4_key, gateway_key, mac_key, pcap_key,
                   port_key, offset_key, timeout_key, pcap_file_key, token_key>;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // argv: the input split on NUL bytes (std::string keeps each one terminated).
  std::vector<std::string> pieces;
  std::size_t start = 0;
  for (;;) {
    const std::size_t nul = input.find('\0', start);
    pieces.emplace_back(
        input.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  std::vector<const char*> argv;
  for (const auto& p : pieces) argv.push_back(p.c_str());

  const auto parsed = fuzz_values::parse("fuzz", argv);
  if (parsed) {
    const auto port = parsed->get<port_key>();
    check(port >= 1);
    check(parsed->get<timeout_key>().count() >= 0);
    check(!parsed->get<pcap_file_key>().empty());
    const uk::log::spec& s = parsed->get<uk::log::logs_key>();
    const auto again = uk::log::parse_spec(fmt::format("{}", s));
    check(again && *again == s);
  } else {
    const uk::key_exit& e = parsed.error();
    check(e.code == uk::exit_help || e.code == uk::exit_usage);
    check(!e.message.empty() && e.message.back() == '\n');
    if (e.code == uk::exit_usage) {
      check(e.message.starts_with("fuzz: "));
      check(e.message.ends_with("\nTry 'fuzz --help' for the list of keys.\n"));
      for (const char c : e.message)
        check(c == '\n' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
    }
  }

  // The log spec and the value parsers, on the whole input and on each piece.
  pieces.emplace_back(input);
  for (const auto& p : pieces) {
    if (const auto s = uk::log::parse_spec(p)) {
      const auto again = uk::log::parse_spec(fmt::format("{}", *s));
      check(again && *again == *s);
    } else {
      check(!s.error().empty());
    }
    if (const auto d = uk::key_parser<std::chrono::nanoseconds>::parse(p))
      check(d->count() >= 0);
    else
      check(!uk::key_parser<std::chrono::nanoseconds>::explain(p).empty());
    (void)uk::parse_key_value<port_key>(p);
    (void)uk::parse_key_value<offset_key>(p);
    (void)uk::key_parser<bool>::parse(p);
    (void)uk::key_parser<uk::ipv4_prefix>::parse(p);
    (void)uk::key_parser<uk::mac_address>::parse(p);
  }
  return 0;
}
