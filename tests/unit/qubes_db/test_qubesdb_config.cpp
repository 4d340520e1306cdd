// IPv4 from QubesDB (qubes-protocols.md section 1.7, mirage-qubes'
// Qubesdb_ipv4): /qubes-ip as a /32, /qubes-gateway on-link, the netmask a
// decoy, DNS offered; a missing or malformed /qubes-ip stops the boot; dom0's
// changes are followed.
#include <catch2/catch.hpp>

#include <uk/qubes/qubesdb_config.hpp>

#include <boost/asio/detached.hpp>

#include "unit/qubes_db/db_fixture.hpp"

namespace asio = boost::asio;
using uk::ipv4_address;
using uk::qubes::parse_qubesdb_ipv4;
using uk::qubes::qubesdb_config;
using uk::test::qdb::fixture;
using uk::test::qdb::typical_vm;

namespace {
ipv4_address ip(std::string_view s) { return *ipv4_address::parse(s); }
}  // namespace

TEST_CASE("qubesdb_config 1.7: /qubes-ip is a /32 and /qubes-gateway an on-link gateway outside it") {
  const auto c = parse_qubesdb_ipv4("10.137.0.5", "10.137.0.1");
  REQUIRE(c);
  CHECK(c->address == uk::ipv4_prefix{ip("10.137.0.5"), 32});
  CHECK(c->gateway == ip("10.137.0.1"));
  CHECK_FALSE(c->address.contains(*c->gateway));
  const auto no_gateway = parse_qubesdb_ipv4("10.137.0.5", std::nullopt);
  REQUIRE(no_gateway);
  CHECK_FALSE(no_gateway->gateway);
}

TEST_CASE("qubesdb_config 1.7: a missing or malformed /qubes-ip, or a malformed gateway, is an error naming the key") {
  CHECK_THAT(parse_qubesdb_ipv4(std::nullopt, "10.137.0.1").error(), Catch::Contains("no /qubes-ip"));
  CHECK_THAT(parse_qubesdb_ipv4("10.137.0", "10.137.0.1").error(),
             Catch::Contains("/qubes-ip is '10.137.0', not an IPv4 address"));
  CHECK_THAT(parse_qubesdb_ipv4("", std::nullopt).error(), Catch::Contains("/qubes-ip is ''"));
  CHECK_THAT(parse_qubesdb_ipv4("10.137.0.5", "gateway").error(), Catch::Contains("/qubes-gateway is 'gateway'"));
  CHECK_THAT(parse_qubesdb_ipv4("127.0.0.1", std::nullopt).error(), Catch::Contains("loopback"));
  CHECK_THAT(parse_qubesdb_ipv4("10.137.0.5", "10.137.0.5").error(), Catch::Contains("our own address"));
}

TEST_CASE("qubesdb_config 1.7: the device reads the synced database, ignores the netmask decoy, offers the DNS servers") {
  auto entries = typical_vm;
  entries["/qubes-netmask"] = "255.255.255.0";  // a decoy (mirage-qubes #3, #5)
  fixture f(entries);
  f.run([&]() -> asio::awaitable<void> { co_await f.db.connect(); });
  qubesdb_config config(f.db);
  CHECK(config.address() == uk::ipv4_prefix{ip("10.137.0.5"), 32});
  CHECK(config.gateway() == ip("10.137.0.1"));
  CHECK(config.dns_servers() == std::vector<ipv4_address>{ip("10.139.1.1"), ip("10.139.1.2")});
}

TEST_CASE("qubesdb_config: a VM without /qubes-ip cannot boot: uk::device_error with the reason") {
  auto entries = typical_vm;
  entries.erase("/qubes-ip");
  fixture f(entries);
  f.run([&]() -> asio::awaitable<void> { co_await f.db.connect(); });
  CHECK_THROWS_WITH(qubesdb_config(f.db), Catch::Contains("QubesDB has no /qubes-ip"));
  CHECK_THROWS_AS(qubesdb_config(f.db), uk::device_error);
}

TEST_CASE("qubesdb_config: when dom0 changes /qubes-ip or /qubes-gateway the configuration follows") {
  fixture f(typical_vm);
  f.run([&]() -> asio::awaitable<void> { co_await f.db.connect(); });
  qubesdb_config config(f.db);
  int changes = 0;
  auto count = [&] { ++changes; };
  config.set_change_handler(count);
  f.run([&]() -> asio::awaitable<void> { co_await config.connect(); });

  f.dom0->push_write("/qubes-ip", "10.137.0.42");
  f.run_until([&] { return changes == 1; });
  CHECK(config.address() == uk::ipv4_prefix{ip("10.137.0.42"), 32});
  f.dom0->push_write("/qubes-gateway", "10.137.0.7");
  f.run_until([&] { return changes == 2; });
  CHECK(config.gateway() == ip("10.137.0.7"));

  // Unrelated keys and unusable values change nothing; the last good configuration stays.
  f.dom0->push_write("/qubes-primary-dns", "10.139.1.3");
  f.dom0->push_write("/qubes-ip", "not-an-address");
  f.dom0->push_remove("/qubes-gateway");
  f.run_until([&] { return f.dom0->received().size() == 6; });
  CHECK(changes == 2);
  CHECK(config.address() == uk::ipv4_prefix{ip("10.137.0.42"), 32});
  CHECK(config.gateway() == ip("10.137.0.7"));

  // A usable address again: applied, now without a gateway (removed meanwhile).
  f.dom0->push_write("/qubes-ip", "10.137.0.43");
  f.run_until([&] { return changes == 3; });
  CHECK(config.address() == uk::ipv4_prefix{ip("10.137.0.43"), 32});
  CHECK_FALSE(config.gateway());
}
