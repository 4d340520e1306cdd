// Runtime keys (uk/keys.hpp): value parsers, argv forms, --help, usage errors.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "uk/keys.hpp"

using namespace std::chrono_literals;
using namespace std::string_view_literals;

namespace {

// A representative set of keys, as the layers of a stack declare them.
struct interface_key {
  using value_type = std::string;
  static constexpr std::string_view name = "interface";
  static constexpr char short_name = 'i';
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "The TAP device to use; created when absent.";
  static constexpr std::string_view default_text = "tap0";
};
struct mac_key {
  using value_type = std::optional<uk::mac_address>;
  static constexpr std::string_view name = "mac";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "The MAC address of the interface; random when absent.";
};
struct pcap_key {
  using value_type = bool;
  static constexpr std::string_view name = "pcap";
  static constexpr char short_name = 'p';
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "Write every frame to a pcap file.";
  static constexpr std::string_view default_text = "false";
};
struct ipv4_key {
  using value_type = uk::ipv4_prefix;
  static constexpr std::string_view name = "ipv4";
  static constexpr std::string_view group = "ipv4";
  static constexpr std::string_view doc = "The address and prefix of the interface.";
  static constexpr std::string_view default_text = "10.0.0.2/24";
};
struct gateway_key {
  using value_type = std::optional<uk::ipv4_address>;
  static constexpr std::string_view name = "ipv4-gateway";
  static constexpr std::string_view group = "ipv4";
  static constexpr std::string_view doc = "The default gateway.";
};
struct mtu_key {
  using value_type = int;
  static constexpr std::string_view name = "mtu";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "The link MTU.";
  static constexpr std::string_view default_text = "1500";
  static constexpr long long min = 68, max = 9000;
};
struct port_key {
  using value_type = std::uint16_t;
  static constexpr std::string_view name = "port";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "The port to listen on.";
  static constexpr std::string_view default_text = "7";
  static constexpr long long min = 1, max = 65535;
};
struct timeout_key {
  using value_type = std::chrono::nanoseconds;
  static constexpr std::string_view name = "timeout";
  static constexpr char short_name = 't';
  static constexpr std::string_view group = "tcp";
  static constexpr std::string_view doc = "How long an idle connection lives.";
  static constexpr std::string_view default_text = "2m";
};
struct pcap_file_key {
  using value_type = std::optional<std::filesystem::path>;
  static constexpr std::string_view name = "pcap-file";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "Where --pcap writes.";
};

// Keys with other shapes.
struct token_key {  // required: no default
  using value_type = std::string;
  static constexpr std::string_view name = "token";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "The secret.";
  static constexpr bool required = true;
};
struct offset_key {  // an integer bounded by its type only
  using value_type = std::int8_t;
  static constexpr std::string_view name = "offset";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "An offset.";
  static constexpr std::string_view default_text = "0";
};
struct retries_key {  // an optional bounded integer
  using value_type = std::optional<unsigned>;
  static constexpr std::string_view name = "retries";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "How many times to retry.";
  static constexpr long long min = 0, max = 10;
};
struct verbose_key {  // a flag with 'h' as its short name: -h is no longer help
  using value_type = bool;
  static constexpr std::string_view name = "human";
  static constexpr char short_name = 'h';
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "Human-readable output.";
  static constexpr std::string_view default_text = "no";
};
struct bad_default_key {  // a bug: its default does not parse
  using value_type = uk::ipv4_address;
  static constexpr std::string_view name = "broken";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "A key with a bad default.";
  static constexpr std::string_view default_text = "10.0.0.256";
};
struct maybe_key {  // an optional flag
  using value_type = std::optional<bool>;
  static constexpr std::string_view name = "maybe";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "Maybe.";
};
struct long_doc_key {
  using value_type = std::optional<std::string>;
  static constexpr std::string_view name = "a-very-long-key-name-for-the-help-layout";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc =
      "A documentation text long enough to be wrapped over several lines of the help text, which "
      "keeps every line within one hundred columns so that it reads well in a terminal of the "
      "usual width.";
};
struct empty_default_key {
  using value_type = std::string;
  static constexpr std::string_view name = "label";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "A label.";
  static constexpr std::string_view default_text = "";
};

// Keys that clash with interface_key / pcap_key, for the compile-time checks.
struct interface_again_key {
  using value_type = std::string;
  static constexpr std::string_view name = "interface";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "Another key named interface.";
  static constexpr std::string_view default_text = "tap1";
};
struct short_i_key {
  using value_type = std::string;
  static constexpr std::string_view name = "input";
  static constexpr char short_name = 'i';
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "Another key with short name i.";
  static constexpr std::string_view default_text = "x";
};
struct no_pcap_key {
  using value_type = std::string;
  static constexpr std::string_view name = "no-pcap";
  static constexpr std::string_view group = "app";
  static constexpr std::string_view doc = "Clashes with --no-pcap of the pcap flag.";
  static constexpr std::string_view default_text = "x";
};

using stack_values = uk::key_values<interface_key, mac_key, pcap_key, ipv4_key, gateway_key,
                                    mtu_key, port_key, timeout_key, pcap_file_key>;

/// parse_keys over the representative keys, with argv given as a list.
template <class... Keys>
auto parse_with(std::vector<const char*> args) {
  return uk::parse_keys<Keys...>("hello-socket", args);
}
auto parse(std::vector<const char*> args) { return stack_values::parse("hello-socket", args); }

std::string usage_error(std::string_view what) {
  return fmt::format("hello-socket: {}\nTry 'hello-socket --help' for the list of keys.\n", what);
}

/// The first line of a usage error message.
std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

}  // namespace

// ---------------------------------------------------------------- value parsers

TEST_CASE("key_parser<ipv4_address>: dotted quads only", "[keys][parsers]") {
  using p = uk::key_parser<uk::ipv4_address>;
  CHECK(p::metavar == "ADDR");
  CHECK(p::expected == "an IPv4 address such as 10.0.0.2");
  CHECK(p::parse("10.0.0.2") == uk::ipv4_address::from_octets(10, 0, 0, 2));
  CHECK(p::parse("255.255.255.255") == uk::ipv4_address::broadcast());
  CHECK(p::parse("0.0.0.0") == uk::ipv4_address::any());
  for (auto bad : {"", "10.0.0", "10.0.0.256", "10.0.0.2.1", "10.0.0.-1", "a.b.c.d", "10.0.0.2/24",
                   " 10.0.0.2"})
    CHECK_FALSE(p::parse(bad));
}

TEST_CASE("key_parser<ipv4_prefix>: address/length with length 0 to 32", "[keys][parsers]") {
  using p = uk::key_parser<uk::ipv4_prefix>;
  CHECK(p::metavar == "PREFIX");
  CHECK(p::expected == "an IPv4 address with prefix length such as 10.0.0.2/24");
  CHECK(p::parse("10.0.0.2/24") == uk::ipv4_prefix{uk::ipv4_address::from_octets(10, 0, 0, 2), 24});
  CHECK(p::parse("0.0.0.0/0") == uk::ipv4_prefix{{}, 0});
  CHECK(p::parse("10.0.0.2/32"));
  for (auto bad :
       {"", "10.0.0.2", "10.0.0.2/33", "10.0.0.2/", "10.0.0.300/24", "/24", "10.0.0.2/-1"})
    CHECK_FALSE(p::parse(bad));
}

TEST_CASE("key_parser<mac_address>: six hex octets", "[keys][parsers]") {
  using p = uk::key_parser<uk::mac_address>;
  CHECK(p::metavar == "MAC");
  CHECK(p::parse("02:00:00:00:00:01") == uk::mac_address{{2, 0, 0, 0, 0, 1}});
  CHECK(p::parse("02-AB-cd-00-00-ff") == uk::mac_address{{2, 0xab, 0xcd, 0, 0, 0xff}});
  for (auto bad :
       {"", "02:00:00:00:00", "02:00:00:00:00:01:02", "02:00:00:00:00:0g", "0200.0000.0001"})
    CHECK_FALSE(p::parse(bad));
}

TEST_CASE("key_parser<bool>: true|false|yes|no|1|0|on|off", "[keys][parsers]") {
  using p = uk::key_parser<bool>;
  for (auto yes : {"true", "yes", "1", "on", "TRUE", "Yes", "ON"}) CHECK(p::parse(yes) == true);
  for (auto no : {"false", "no", "0", "off", "False", "NO", "Off"}) CHECK(p::parse(no) == false);
  for (auto bad : {"", "2", "y", "n", "enable", "truee", " true"}) CHECK_FALSE(p::parse(bad));
  CHECK(p::expected == "one of true|false|yes|no|1|0|on|off");
}

TEST_CASE("key_parser<integer>: decimal within the type's range", "[keys][parsers]") {
  using u8 = uk::key_parser<std::uint8_t>;
  using i8 = uk::key_parser<std::int8_t>;
  using i64 = uk::key_parser<std::int64_t>;
  using u64 = uk::key_parser<std::uint64_t>;
  CHECK(u8::metavar == "INT");
  CHECK(u8::parse("0") == 0);
  CHECK(u8::parse("255") == 255);
  CHECK_FALSE(u8::parse("256"));
  CHECK_FALSE(u8::parse("-1"));
  CHECK(i8::parse("-128") == -128);
  CHECK(i8::parse("127") == 127);
  CHECK_FALSE(i8::parse("128"));
  CHECK_FALSE(i8::parse("-129"));
  CHECK(i64::parse("-9223372036854775808") == INT64_MIN);
  CHECK_FALSE(i64::parse("9223372036854775808"));
  CHECK(u64::parse("18446744073709551615") == UINT64_MAX);
  CHECK_FALSE(u64::parse("18446744073709551616"));
  for (auto bad : {"", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "one", "-"})
    CHECK_FALSE(i64::parse(bad));
  STATIC_REQUIRE_FALSE(uk::parsable_key_value<char>);  // characters are not integers
  STATIC_REQUIRE(uk::parsable_key_value<signed char>);
}

TEST_CASE("parse_key_value: integer keys are bounded by min and max", "[keys][parsers]") {
  CHECK(uk::parse_key_value<port_key>("1") == std::uint16_t{1});
  CHECK(uk::parse_key_value<port_key>("65535") == std::uint16_t{65535});
  CHECK_FALSE(uk::parse_key_value<port_key>("0"));
  CHECK_FALSE(uk::parse_key_value<port_key>("65536"));
  CHECK_FALSE(uk::parse_key_value<port_key>("-1"));
  CHECK(uk::key_expected<port_key>() == "an integer from 1 to 65535");

  CHECK(uk::parse_key_value<mtu_key>("68") == 68);
  CHECK(uk::parse_key_value<mtu_key>("9000") == 9000);
  CHECK_FALSE(uk::parse_key_value<mtu_key>("67"));
  CHECK_FALSE(uk::parse_key_value<mtu_key>("9001"));
  CHECK(uk::key_expected<mtu_key>() == "an integer from 68 to 9000");

  // Without min/max: the type's range.
  CHECK(uk::parse_key_value<offset_key>("-128") == std::int8_t{-128});
  CHECK_FALSE(uk::parse_key_value<offset_key>("128"));
  CHECK(uk::key_expected<offset_key>() == "an integer from -128 to 127");

  // Optional bounded integer: the bounds apply to the value inside.
  CHECK(uk::parse_key_value<retries_key>("10") == std::optional<unsigned>{10u});
  CHECK_FALSE(uk::parse_key_value<retries_key>("11"));
  CHECK(uk::key_expected<retries_key>() == "an integer from 0 to 10");
}

TEST_CASE("key_parser<nanoseconds>: a number and a unit", "[keys][parsers]") {
  using p = uk::key_parser<std::chrono::nanoseconds>;
  CHECK(p::metavar == "DURATION");
  CHECK(p::parse("10ns") == 10ns);
  CHECK(p::parse("500us") == 500us);
  CHECK(p::parse("250ms") == 250ms);
  CHECK(p::parse("30s") == 30s);
  CHECK(p::parse("2m") == 2min);
  CHECK(p::parse("1h") == 1h);
  CHECK(p::parse("0s") == 0ns);
  CHECK(p::parse("007s") == 7s);

  SECTION("decimal fractions, exact to the nanosecond") {
    CHECK(p::parse("1.5s") == 1500ms);
    CHECK(p::parse("0.25ms") == 250us);
    CHECK(p::parse("1.5h") == 90min);
    CHECK(p::parse("0.001us") == 1ns);
    CHECK(p::parse("1.9ns") == 1ns);  // below a nanosecond: truncated
    CHECK(p::parse("0.000000001s") == 1ns);
    CHECK(p::parse("0.0000000019s") == 1ns);
    CHECK(p::parse("2.500000000000000000000000001s") == 2500ms);  // long fractions are fine
  }
  SECTION("a unit is required, and must be known") {
    CHECK_FALSE(p::parse("30"));
    CHECK_FALSE(p::parse("1.5"));
    CHECK_FALSE(p::parse("30sec"));
    CHECK_FALSE(p::parse("30 s"));
    CHECK_FALSE(p::parse("30S"));
    CHECK_FALSE(p::parse("1d"));
    CHECK(p::explain("30") == "no unit (ns, us, ms, s, m or h)");
    CHECK(p::explain("30x") == "unknown unit (use ns, us, ms, s, m or h)");
  }
  SECTION("malformed numbers") {
    for (auto bad : {"", "s", "-1s", "+1s", ".5s", "1.s", "1..5s", "1.5.5s", "1,5s", " 1s"})
      CHECK_FALSE(p::parse(bad));
    CHECK(p::explain(".5s") == "no number before the unit");
    CHECK(p::explain("1.s") == "no digit after the decimal point");
  }
  SECTION("overflow is rejected") {
    CHECK(p::parse("9223372036854775807ns") == std::chrono::nanoseconds::max());
    CHECK_FALSE(p::parse("9223372036854775808ns"));
    CHECK_FALSE(p::parse("99999999999999999999999ns"));
    CHECK(p::parse("9223372036s") == 9223372036s);
    CHECK_FALSE(p::parse("9223372037s"));
    CHECK(p::parse("2562047h"));
    CHECK_FALSE(p::parse("2562048h"));
    CHECK_FALSE(p::parse("9223372036.9s"));  // the fraction pushes it over
    CHECK(p::explain("2562048h") == "longer than about 292 years");
  }
}

TEST_CASE("key_parser<string> and key_parser<path>", "[keys][parsers]") {
  CHECK(uk::key_parser<std::string>::parse("tap0") == "tap0");
  CHECK(uk::key_parser<std::string>::parse("") == "");
  CHECK(uk::key_parser<std::string>::metavar == "STRING");
  using path = uk::key_parser<std::filesystem::path>;
  CHECK(path::metavar == "PATH");
  CHECK(path::parse("/tmp/x.pcap") == std::filesystem::path("/tmp/x.pcap"));
  CHECK(path::parse("-") == std::filesystem::path("-"));
  CHECK_FALSE(path::parse(""));
}

TEST_CASE("key_parser<optional<T>> parses T", "[keys][parsers]") {
  using p = uk::key_parser<std::optional<uk::ipv4_address>>;
  CHECK(p::metavar == "ADDR");
  CHECK(p::expected == uk::key_parser<uk::ipv4_address>::expected);
  const auto v = p::parse("10.0.0.1");
  REQUIRE(v);
  CHECK(*v == uk::ipv4_address::from_octets(10, 0, 0, 1));
  CHECK_FALSE(p::parse("10.0.0"));
  CHECK(uk::parse_key_value<gateway_key>("10.0.0.1") ==
        std::optional<std::optional<uk::ipv4_address>>(uk::ipv4_address::from_octets(10, 0, 0, 1)));
}

// ------------------------------------------------------------- key_values

TEST_CASE("key_values::defaults parses every default_text", "[keys]") {
  const auto v = stack_values::defaults();
  CHECK(v.get<interface_key>() == "tap0");
  CHECK(v.get<mac_key>() == std::nullopt);
  CHECK(v.get<pcap_key>() == false);
  CHECK(v.get<ipv4_key>() == *uk::ipv4_prefix::parse("10.0.0.2/24"));
  CHECK(v.get<gateway_key>() == std::nullopt);
  CHECK(v.get<mtu_key>() == 1500);
  CHECK(v.get<port_key>() == 7);
  CHECK(v.get<timeout_key>() == 2min);
  CHECK(v.get<pcap_file_key>() == std::nullopt);
}

TEST_CASE("key_values::set replaces a value", "[keys]") {
  auto v = stack_values::defaults();
  v.set<interface_key>("tap7");
  v.set<gateway_key>(uk::ipv4_address::from_octets(10, 0, 0, 1));
  CHECK(v.get<interface_key>() == "tap7");
  CHECK(v.get<gateway_key>() == uk::ipv4_address::from_octets(10, 0, 0, 1));
  CHECK(v.get<mtu_key>() == 1500);
}

TEST_CASE(
    "key_values::defaults: a default_text that does not parse is a logic_error naming the key",
    "[keys]") {
  using broken = uk::key_values<interface_key, bad_default_key>;
  CHECK_THROWS_AS(broken::defaults(), std::logic_error);
  CHECK_THROWS_WITH(broken::defaults(), Catch::Contains("--broken") &&
                                            Catch::Contains("'10.0.0.256'") &&
                                            Catch::Contains("an IPv4 address"));
  std::vector<const char*> none;
  CHECK_THROWS_AS((uk::parse_keys<bad_default_key>("x", none)), std::logic_error);
}

TEST_CASE("key_values: a required key defaults to a value-initialized T", "[keys]") {
  CHECK(uk::key_values<token_key>::defaults().get<token_key>().empty());
}

// Duplicate names cannot compile: key_values<Keys...> static_asserts
// uk::keys::distinct<Keys...>(), with the message "two keys share a name or a
// short name, ...". A static_assert cannot be observed at run time, so these
// check the predicate it asserts; `uk::key_values<interface_key,
// interface_again_key>` fails to compile with that message.
TEST_CASE("keys::distinct: names, short names and --no-FLAG must be distinct", "[keys]") {
  STATIC_REQUIRE(uk::keys::distinct<>());
  STATIC_REQUIRE(uk::keys::distinct<interface_key, mac_key, pcap_key, ipv4_key, gateway_key,
                                    mtu_key, port_key, timeout_key, pcap_file_key>());
  STATIC_REQUIRE_FALSE(uk::keys::distinct<interface_key, interface_again_key>());  // same name
  STATIC_REQUIRE_FALSE(uk::keys::distinct<interface_key, short_i_key>());  // same short name
  STATIC_REQUIRE_FALSE(
      uk::keys::distinct<interface_key, mac_key, interface_key>());   // listed twice
  STATIC_REQUIRE_FALSE(uk::keys::distinct<pcap_key, no_pcap_key>());  // --no-pcap is taken
  STATIC_REQUIRE(uk::keys::distinct<interface_key, no_pcap_key>());   // fine without the flag
  // Each is a valid key on its own.
  CHECK(uk::key_values<interface_again_key>::defaults().get<interface_again_key>() == "tap1");
  CHECK(uk::key_values<short_i_key>::defaults().get<short_i_key>() == "x");
  CHECK(uk::key_values<no_pcap_key>::defaults().get<no_pcap_key>() == "x");
}

TEST_CASE("unique_key_values_t drops repeated key types, keeping the first", "[keys]") {
  STATIC_REQUIRE(std::is_same_v<
                 uk::unique_key_values_t<interface_key, mac_key, interface_key, mac_key, pcap_key>,
                 uk::key_values<interface_key, mac_key, pcap_key>>);
  STATIC_REQUIRE(std::is_same_v<uk::unique_key_values_t<>, uk::key_values<>>);
}

TEST_CASE("key_values::get needs one of its keys", "[keys]") {
  using values = uk::key_values<interface_key>;
  STATIC_REQUIRE(requires(const values& v) { v.get<interface_key>(); });
  STATIC_REQUIRE(uk::runtime_key<interface_key>);
  STATIC_REQUIRE_FALSE(uk::runtime_key<int>);
}

// ------------------------------------------------------------- argv forms

TEST_CASE("parse_keys: no arguments gives the defaults", "[keys][argv]") {
  const auto r = parse({});
  REQUIRE(r);
  CHECK(r->get<interface_key>() == "tap0");
  CHECK(r->get<mtu_key>() == 1500);
}

TEST_CASE("parse_keys: every way to give a value", "[keys][argv]") {
  const auto tap5 = [](std::vector<const char*> args) {
    const auto r = parse(args);
    REQUIRE(r);
    return r->get<interface_key>();
  };
  CHECK(tap5({"--interface=tap5"}) == "tap5");
  CHECK(tap5({"--interface", "tap5"}) == "tap5");
  CHECK(tap5({"-i", "tap5"}) == "tap5");
  CHECK(tap5({"-itap5"}) == "tap5");
  CHECK(tap5({"--interface="}) == "");        // an empty value, given explicitly
  CHECK(tap5({"--interface=a=b"}) == "a=b");  // only the first '=' splits
  CHECK(tap5({"-i="}) == "=");                // -kVALUE takes everything after k

  const auto r =
      parse({"--ipv4", "192.168.1.5/16", "--ipv4-gateway=192.168.0.1", "--mac", "02:00:00:00:00:09",
             "--mtu=9000", "--port", "65535", "-t1.5s", "--pcap-file", "/tmp/out.pcap"});
  REQUIRE(r);
  CHECK(r->get<ipv4_key>() == *uk::ipv4_prefix::parse("192.168.1.5/16"));
  CHECK(r->get<gateway_key>() == uk::ipv4_address::from_octets(192, 168, 0, 1));
  CHECK(r->get<mac_key>() == uk::mac_address{{2, 0, 0, 0, 0, 9}});
  CHECK(r->get<mtu_key>() == 9000);
  CHECK(r->get<port_key>() == 65535);
  CHECK(r->get<timeout_key>() == 1500ms);
  CHECK(r->get<pcap_file_key>() == std::filesystem::path("/tmp/out.pcap"));
  CHECK(r->get<interface_key>() == "tap0");
}

TEST_CASE("parse_keys: flags", "[keys][argv]") {
  const auto pcap = [](std::vector<const char*> args) {
    const auto r = parse(args);
    REQUIRE(r);
    return r->get<pcap_key>();
  };
  CHECK(pcap({}) == false);
  CHECK(pcap({"--pcap"}) == true);
  CHECK(pcap({"-p"}) == true);
  CHECK(pcap({"--pcap", "--no-pcap"}) == false);
  CHECK(pcap({"--no-pcap", "--pcap"}) == true);
  CHECK(pcap({"--pcap=yes"}) == true);
  CHECK(pcap({"--pcap=false"}) == false);
  CHECK(pcap({"--pcap=off", "-pon"}) == true);
  CHECK(pcap({"-p0"}) == false);

  // A flag does not take the next argument as its value.
  const auto r = parse({"--pcap", "false"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message == usage_error("unexpected argument 'false'"));

  const auto bad = parse({"--pcap=maybe"});
  REQUIRE_FALSE(bad);
  CHECK(first_line(bad.error().message) ==
        "hello-socket: --pcap: expected one of true|false|yes|no|1|0|on|off, got 'maybe'");

  const auto negated_value = parse({"--no-pcap=true"});
  REQUIRE_FALSE(negated_value);
  CHECK(first_line(negated_value.error().message) == "hello-socket: --no-pcap takes no value");
}

TEST_CASE("parse_keys: an optional flag takes --flag and --no-flag too", "[keys][argv]") {
  std::vector<const char*> none, on{"--maybe"}, off{"--no-maybe"};
  CHECK(uk::parse_keys<maybe_key>("p", none)->get<maybe_key>() == std::nullopt);
  CHECK(uk::parse_keys<maybe_key>("p", on)->get<maybe_key>() == true);
  CHECK(uk::parse_keys<maybe_key>("p", off)->get<maybe_key>() == false);
}

TEST_CASE("parse_keys: --no-KEY of a key that is not a flag is unknown", "[keys][argv]") {
  const auto r = parse({"--no-interface"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == uk::exit_usage);
  CHECK(first_line(r.error().message) ==
        "hello-socket: unknown key --no-interface; --interface is not a flag");
}

TEST_CASE("parse_keys: a key given twice, the last wins", "[keys][argv]") {
  const auto r =
      parse({"--interface=a", "-i", "b", "--mtu=100", "--interface", "c", "--mtu", "200"});
  REQUIRE(r);
  CHECK(r->get<interface_key>() == "c");
  CHECK(r->get<mtu_key>() == 200);
}

TEST_CASE("parse_keys: -- ends the options and nothing may follow", "[keys][argv]") {
  CHECK(parse({"--mtu=100", "--"}));
  const auto r = parse({"--mtu=100", "--", "--interface=x"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message == usage_error("unexpected argument '--interface=x'"));
}

TEST_CASE("parse_keys: positional arguments are errors", "[keys][argv]") {
  for (auto arg : {"tap0", "-", ""}) {
    const auto r = parse({arg});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == uk::exit_usage);
    CHECK(r.error().message == usage_error(fmt::format("unexpected argument '{}'", arg)));
  }
}

TEST_CASE("parse_keys: values that begin with '-'", "[keys][argv]") {
  // The next argument is a value unless it looks like an option.
  const auto negative = parse_with<offset_key>({"--offset", "-5"});
  REQUIRE(negative);
  CHECK(negative->get<offset_key>() == -5);
  const auto dash = parse({"--pcap-file", "-"});
  REQUIRE(dash);
  CHECK(dash->get<pcap_file_key>() == std::filesystem::path("-"));
  const auto attached = parse({"--interface=-weird"});
  REQUIRE(attached);
  CHECK(attached->get<interface_key>() == "-weird");
}

// ------------------------------------------------------------- usage errors

TEST_CASE("parse_keys: a bad value says what was expected", "[keys][errors]") {
  const auto r = parse({"--ipv4=10.0.0.300/24"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == 64);
  CHECK(r.error().message ==
        "hello-socket: --ipv4: expected an IPv4 address with prefix length such as 10.0.0.2/24, "
        "got '10.0.0.300/24'\nTry 'hello-socket --help' for the list of keys.\n");

  const auto port = parse({"--port", "0"});
  REQUIRE_FALSE(port);
  CHECK(first_line(port.error().message) ==
        "hello-socket: --port: expected an integer from 1 to 65535, got '0'");

  const auto mtu = parse({"--mtu=9001"});
  REQUIRE_FALSE(mtu);
  CHECK(first_line(mtu.error().message) ==
        "hello-socket: --mtu: expected an integer from 68 to 9000, got '9001'");

  const auto timeout = parse({"-t", "30"});
  REQUIRE_FALSE(timeout);
  CHECK(
      first_line(timeout.error().message) ==
      "hello-socket: -t: expected a duration with a unit (ns, us, ms, s, m, h) such as 250ms or 1.5s, "
      "got '30': no unit (ns, us, ms, s, m or h)");

  const auto mac = parse({"--mac=zz"});
  REQUIRE_FALSE(mac);
  CHECK(first_line(mac.error().message) ==
        "hello-socket: --mac: expected a MAC address such as 02:00:00:00:00:01, got 'zz'");
}

TEST_CASE("parse_keys: control characters in errors are escaped", "[keys][errors]") {
  const auto r = parse({"--ipv4=\x1b[31m"});
  REQUIRE_FALSE(r);
  CHECK(first_line(r.error().message).find('\x1b') == std::string::npos);
  CHECK_THAT(r.error().message, Catch::Contains("got '\\x1b[31m'"));
}

TEST_CASE("parse_keys: a missing value names the value expected", "[keys][errors]") {
  const auto last = parse({"--ipv4"});
  REQUIRE_FALSE(last);
  CHECK(last.error().message == usage_error("--ipv4 needs a value (PREFIX)"));

  const auto before_option = parse({"--ipv4", "--mtu=100"});
  REQUIRE_FALSE(before_option);
  CHECK(before_option.error().message == usage_error("--ipv4 needs a value (PREFIX)"));

  const auto short_form = parse({"-i"});
  REQUIRE_FALSE(short_form);
  CHECK(short_form.error().message == usage_error("-i needs a value (STRING)"));
}

TEST_CASE("parse_keys: unknown keys, with did-you-mean", "[keys][errors]") {
  const auto message = [](std::vector<const char*> args) {
    const auto r = parse(args);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == uk::exit_usage);
    return first_line(r.error().message);
  };
  // Edit distance 1 (a transposition), 1 (a deletion), 2.
  CHECK(message({"--intrface=tap0"}) ==
        "hello-socket: unknown key --intrface; did you mean --interface?");
  CHECK(message({"--itnerface=x"}) ==
        "hello-socket: unknown key --itnerface; did you mean --interface?");
  CHECK(message({"--ipv4-gatewy", "1.2.3.4"}) ==
        "hello-socket: unknown key --ipv4-gatewy; did you mean --ipv4-gateway?");
  // Several candidates, closest first.
  CHECK(message({"--ipv5"}) == "hello-socket: unknown key --ipv5; did you mean --ipv4?");
  CHECK(message({"--mt"}) == "hello-socket: unknown key --mt; did you mean --mtu or --mac?");
  CHECK(message({"--pcapp"}) == "hello-socket: unknown key --pcapp; did you mean --pcap?");
  CHECK(message({"--no-pcp"}) == "hello-socket: unknown key --no-pcp; did you mean --no-pcap?");
  CHECK(message({"--hlep"}) == "hello-socket: unknown key --hlep; did you mean --help?");
  // A unique prefix.
  CHECK(message({"--time=1s"}) == "hello-socket: unknown key --time; did you mean --timeout?");
  CHECK(message({"--inter"}) == "hello-socket: unknown key --inter; did you mean --interface?");
  // Nothing close.
  CHECK(message({"--frobnicate"}) == "hello-socket: unknown key --frobnicate");
  CHECK(message({"-x"}) == "hello-socket: unknown key -x");
  CHECK(message({"--"
                 "="}) == "hello-socket: unknown key --");
  // The hint line.
  const auto r = parse({"--frobnicate"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message == usage_error("unknown key --frobnicate"));
}

TEST_CASE("detail::close_names lists several candidates", "[keys][errors]") {
  const std::vector<std::string_view> names{"ipv4", "ipv6", "ipv4-gateway", "interface"};
  CHECK(uk::detail::close_names("ipv5", names) == std::vector<std::string_view>{"ipv4", "ipv6"});
  CHECK(uk::detail::did_you_mean("ipv5", names, "--") == "; did you mean --ipv4 or --ipv6?");
  const std::vector<std::string_view> three{"abc", "abd", "abe"};
  CHECK(uk::detail::did_you_mean("abx", three, "--") == "; did you mean --abc, --abd or --abe?");
  CHECK(uk::detail::did_you_mean("zzzzzz", three) == "");
  CHECK(uk::detail::edit_distance("interface", "intrface") == 1);
  CHECK(uk::detail::edit_distance("interface", "itnerface") == 1);
  CHECK(uk::detail::edit_distance("abc", "abc") == 0);
  CHECK(uk::detail::edit_distance("a", "abcdef") > 2);
}

TEST_CASE("parse_keys: a required key must be given", "[keys][errors]") {
  const auto missing = parse_with<interface_key, token_key>({"--interface=x"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == uk::exit_usage);
  CHECK(missing.error().message == usage_error("the key --token (STRING) is required"));
  const auto given = parse_with<interface_key, token_key>({"--token", "s3cret"});
  REQUIRE(given);
  CHECK(given->get<token_key>() == "s3cret");
}

// ------------------------------------------------------------- --help

TEST_CASE("--help: exit 63 and every key with its default, grouped", "[keys][help]") {
  const auto r = parse({"--help"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == uk::exit_help);
  CHECK(r.error().code == 63);
  const std::string& help = r.error().message;
  INFO(help);
  CHECK(help.starts_with("Usage: hello-socket [--KEY=VALUE]...\n"));
  CHECK(help.ends_with("\n"));
  CHECK_THAT(
      help,
      Catch::Contains(
          "  -i, --interface=STRING    The TAP device to use; created when absent. (default: tap0)\n"));
  CHECK_THAT(
      help,
      Catch::Contains(
          "      --mac=MAC             The MAC address of the interface; random when absent. (default: none)\n"));
  CHECK_THAT(
      help,
      Catch::Contains(
          "  -p, --[no-]pcap           Write every frame to a pcap file. (default: false)\n"));
  CHECK_THAT(
      help,
      Catch::Contains(
          "      --ipv4=PREFIX         The address and prefix of the interface. (default: 10.0.0.2/24)\n"));
  CHECK_THAT(help,
             Catch::Contains("      --ipv4-gateway=ADDR   The default gateway. (default: none)\n"));
  CHECK_THAT(help, Catch::Contains("      --mtu=INT             The link MTU. (default: 1500)\n"));
  CHECK_THAT(help,
             Catch::Contains("      --port=INT            The port to listen on. (default: 7)\n"));
  CHECK_THAT(help,
             Catch::Contains(
                 "  -t, --timeout=DURATION    How long an idle connection lives. (default: 2m)\n"));
  CHECK_THAT(help,
             Catch::Contains("      --pcap-file=PATH      Where --pcap writes. (default: none)\n"));
  CHECK_THAT(help,
             Catch::Contains("  -h, --help                Show this help and exit with code 63."));

  // Groups in order of first appearance; each key under its group.
  const auto at = [&](std::string_view text) { return help.find(text); };
  CHECK(at("\nnetif:\n") < at("\nipv4:\n"));
  CHECK(at("\nipv4:\n") < at("\napp:\n"));
  CHECK(at("\napp:\n") < at("\ntcp:\n"));
  CHECK(at("\ntcp:\n") < at("\nhelp:\n"));
  CHECK(at("\nnetif:\n") < at("--interface="));
  CHECK(at("--pcap-file=") < at("\nipv4:\n"));  // the netif keys are together
  CHECK(at("\nipv4:\n") < at("--ipv4-gateway="));
  CHECK(at("--ipv4-gateway=") < at("\napp:\n"));
  CHECK(at("\napp:\n") < at("--port="));
  CHECK(at("\ntcp:\n") < at("--timeout="));
}

TEST_CASE("--help wins over errors, and -h is help unless a key uses it", "[keys][help]") {
  CHECK(parse({"--bogus", "--help"}).error().code == uk::exit_help);
  CHECK(parse({"--mtu=1", "-h"}).error().code == uk::exit_help);
  CHECK(parse({"--", "--help"}).error().code == uk::exit_usage);  // after "--" it is an argument

  const auto human = parse_with<interface_key, verbose_key>({"-h"});
  REQUIRE(human);
  CHECK(human->get<verbose_key>() == true);
  const auto help = parse_with<interface_key, verbose_key>({"--help"});
  REQUIRE_FALSE(help);
  CHECK(help.error().code == uk::exit_help);
  CHECK_THAT(help.error().message, Catch::Contains("  -h, --[no-]human"));
  CHECK_THAT(help.error().message, Catch::Contains("      --help  "));
  CHECK(help.error().message == uk::key_values<interface_key, verbose_key>::help("hello-socket"));
}

TEST_CASE("--help: long docs wrap before column 100, long keys get their own line",
          "[keys][help]") {
  const auto r = parse_with<interface_key, long_doc_key, empty_default_key, token_key>({"--help"});
  REQUIRE_FALSE(r);
  const std::string& help = r.error().message;
  INFO(help);
  std::size_t start = 0, lines = 0;
  while (start < help.size()) {
    const std::size_t end = help.find('\n', start);
    CHECK(end - start <= 100);
    start = end + 1;
    ++lines;
  }
  CHECK(lines > 8);
  CHECK_THAT(help, Catch::Contains("      --a-very-long-key-name-for-the-help-layout=STRING\n"
                                   "                           A documentation text long"));
  CHECK_THAT(help, Catch::Contains("usual width. (default: none)\n"));
  CHECK_THAT(help, Catch::Contains("--label=STRING"));
  CHECK_THAT(help, Catch::Contains("A label. (default: '')\n"));
  CHECK_THAT(help, Catch::Contains("The secret. (required)\n"));
}

TEST_CASE("parse_keys with no keys at all", "[keys]") {
  std::vector<const char*> none, one{"--x"};
  CHECK(uk::parse_keys<>("p", none));
  CHECK(uk::parse_keys<>("p", one).error().message ==
        "p: unknown key --x\nTry 'p --help' for the list of keys.\n");
  CHECK(uk::parse_keys<>("p", std::vector<const char*>{"--help"}).error().code == uk::exit_help);
}
