// uk::direct::static_config: --ipv4 and --ipv4-gateway, the uk::ipv4_config
// policy, and the addresses a host may not take (RFC 1122 3.2.1.3).
#include <uk/direct/static_config.hpp>  // first: it must not bring Asio in

#if defined(BOOST_ASIO_VERSION)
#define UK_TEST_STATIC_CONFIG_INCLUDED_ASIO 1
#else
#define UK_TEST_STATIC_CONFIG_INCLUDED_ASIO 0
#endif

#include <catch2/catch.hpp>

#include <uk/keys.hpp>
#include <uk/runtime/device.hpp>

#include <boost/asio/io_context.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using uk::ipv4_address;
using uk::ipv4_prefix;
using uk::direct::ipv4_gateway_key;
using uk::direct::ipv4_key;
using uk::direct::static_config;
using config_keys = uk::key_values<ipv4_key, ipv4_gateway_key>;

ipv4_address ip(const char* text) { return *ipv4_address::parse(text); }
ipv4_prefix prefix(const char* text) { return *ipv4_prefix::parse(text); }

config_keys parse(std::vector<const char*> args) {
  auto parsed = config_keys::parse("test", args);
  REQUIRE(parsed);
  return *parsed;
}

}  // namespace

static_assert(uk::ipv4_config<static_config>);
static_assert(std::is_same_v<static_config::keys, uk::key_list<ipv4_key, ipv4_gateway_key>>);

TEST_CASE("static_config.hpp includes no Asio (layers 1-3 never do)", "[static_config]") {
  CHECK(UK_TEST_STATIC_CONFIG_INCLUDED_ASIO == 0);
}

TEST_CASE("static_config holds the address and gateway it was given", "[static_config]") {
  static_config with_gateway(prefix("192.168.1.20/24"), ip("192.168.1.1"));
  CHECK(with_gateway.address() == prefix("192.168.1.20/24"));
  CHECK(with_gateway.gateway() == ip("192.168.1.1"));
  static_config without(prefix("10.0.0.2/24"));
  CHECK_FALSE(without.gateway());
  struct counter {
    int calls = 0;
    void operator()() { ++calls; }
  } changes;
  without.set_change_handler(uk::delegate<void()>(changes));
  CHECK(changes.calls == 0);  // static: never changes
}

TEST_CASE("--ipv4 defaults to 10.0.0.2/24 (MirageOS's default) and --ipv4-gateway to none", "[static_config]") {
  const auto defaults = config_keys::defaults();
  CHECK(defaults.get<ipv4_key>() == prefix("10.0.0.2/24"));
  CHECK_FALSE(defaults.get<ipv4_gateway_key>());
  boost::asio::io_context io;
  uk::device_context context{io.get_executor(), "test"};
  static_config config(context, defaults);
  CHECK(config.address() == prefix("10.0.0.2/24"));
  CHECK_FALSE(config.gateway());
  CHECK(static_config::device_name == "ipv4 config");
}

TEST_CASE("The device constructor reads --ipv4 and --ipv4-gateway", "[static_config]") {
  boost::asio::io_context io;
  uk::device_context context{io.get_executor(), "test"};
  SECTION("a Qubes-style /32 with a gateway outside it") {
    const auto keys = parse({"--ipv4=10.137.0.17/32", "--ipv4-gateway", "10.138.0.1"});
    static_config config(context, keys);
    CHECK(config.address() == prefix("10.137.0.17/32"));
    CHECK(config.gateway() == ip("10.138.0.1"));
  }
  SECTION("a bad address is a usage error of the key parser") {
    CHECK_FALSE(config_keys::parse("test", std::vector<const char*>{"--ipv4=10.0.0.2"}));
    CHECK_FALSE(config_keys::parse("test", std::vector<const char*>{"--ipv4-gateway=10.0.0.256"}));
  }
  SECTION("--help lists both keys in the ipv4 group") {
    const std::string help = config_keys::help("test");
    CHECK(help.find("--ipv4=") != std::string::npos);
    CHECK(help.find("--ipv4-gateway=") != std::string::npos);
    CHECK(help.find("10.0.0.2/24") != std::string::npos);
  }
}

TEST_CASE("RFC 1122 3.2.1.3: an address a host cannot take is refused with a reason", "[static_config]") {
  for (const char* bad : {"0.0.0.0/24", "255.255.255.255/32", "127.0.0.1/8", "224.0.0.1/24", "240.0.0.1/24",
                          "10.0.0.0/24", "10.0.0.255/24"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(static_config(prefix(bad)), std::invalid_argument);
    CHECK(uk::direct::invalid_configuration(prefix(bad), std::nullopt));
  }
  CHECK_THROWS_AS(static_config(prefix("10.0.0.2/24"), ip("10.0.0.2")), std::invalid_argument);
  CHECK_THROWS_AS(static_config(prefix("10.0.0.2/24"), ip("255.255.255.255")), std::invalid_argument);
  CHECK_THROWS_AS(static_config(prefix("10.0.0.2/24"), ip("0.0.0.0")), std::invalid_argument);
  const auto why = uk::direct::invalid_configuration(prefix("10.0.0.255/24"), std::nullopt);
  REQUIRE(why);
  CHECK(why->find("10.0.0.255/24") != std::string::npos);
}

TEST_CASE("RFC 3021: in a /31 and a /32 every address is a host's", "[static_config]") {
  CHECK_NOTHROW(static_config(prefix("10.0.0.0/31"), ip("10.0.0.1")));
  CHECK_NOTHROW(static_config(prefix("10.0.0.1/31")));
  CHECK_NOTHROW(static_config(prefix("10.137.0.0/32"), ip("10.138.0.1")));
  CHECK_NOTHROW(static_config(prefix("10.0.0.2/24"), ip("192.0.2.1")));  // any gateway: on-link is the link's business
}
