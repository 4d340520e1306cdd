// Address types: parsers accept exactly the documented forms; formatters print them back.
#include <catch2/catch.hpp>

#include <uk/addr.hpp>

using uk::ipv4_address;
using uk::ipv4_prefix;
using uk::mac_address;

TEST_CASE("ipv4_address: dotted quad parses and prints back") {
  for (const char* text : {"0.0.0.0", "10.0.0.1", "192.168.255.254", "255.255.255.255"}) {
    auto a = ipv4_address::parse(text);
    REQUIRE(a);
    CHECK(fmt::format("{}", *a) == text);
  }
  CHECK(ipv4_address::parse("10.0.0.1")->value == 0x0a000001u);
  STATIC_REQUIRE(ipv4_address::parse("1.2.3.4")->value == 0x01020304u);
}

TEST_CASE("ipv4_address: anything but four decimal octets 0-255 is rejected") {
  for (const char* text : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "1..3.4", "01.2.3.4", "1.2.3.4 ",
                           " 1.2.3.4", "a.b.c.d", "1.2.3.4/24", "1000.1.1.1", "0x1.2.3.4"}) {
    INFO(text);
    CHECK_FALSE(ipv4_address::parse(text));
  }
}

TEST_CASE("ipv4_address: classification (RFC 5771 multicast, RFC 1122 3.2.1.3 loopback)") {
  CHECK(ipv4_address::parse("224.0.0.1")->is_multicast());
  CHECK(ipv4_address::parse("239.255.255.255")->is_multicast());
  CHECK_FALSE(ipv4_address::parse("240.0.0.1")->is_multicast());
  CHECK(ipv4_address::parse("127.0.0.1")->is_loopback());
  CHECK(ipv4_address::broadcast().is_broadcast());
  CHECK(ipv4_address::any().is_unspecified());
  CHECK(ipv4_address::from_octets(10, 1, 2, 3) == *ipv4_address::parse("10.1.2.3"));
}

TEST_CASE("ipv4_prefix: parses a.b.c.d/n, computes mask, network and broadcast") {
  auto p = ipv4_prefix::parse("10.137.0.5/24");
  REQUIRE(p);
  CHECK(p->length == 24);
  CHECK(p->mask() == 0xffffff00u);
  CHECK(fmt::format("{}", p->network()) == "10.137.0.0");
  CHECK(fmt::format("{}", p->subnet_broadcast()) == "10.137.0.255");
  CHECK(p->contains(*ipv4_address::parse("10.137.0.200")));
  CHECK_FALSE(p->contains(*ipv4_address::parse("10.137.1.1")));
  CHECK(fmt::format("{}", *p) == "10.137.0.5/24");
}

TEST_CASE("ipv4_prefix: /0 and /32 (a Qubes VM's address is a /32)") {
  auto all = ipv4_prefix::parse("0.0.0.0/0");
  REQUIRE(all);
  CHECK(all->mask() == 0);
  CHECK(all->contains(*ipv4_address::parse("8.8.8.8")));
  auto host = ipv4_prefix::parse("10.137.0.5/32");
  REQUIRE(host);
  CHECK(host->mask() == 0xffffffffu);
  CHECK_FALSE(host->contains(*ipv4_address::parse("10.137.0.1")));
}

TEST_CASE("ipv4_prefix: bad prefixes are rejected") {
  for (const char* text : {"10.0.0.1", "10.0.0.1/", "10.0.0.1/33", "10.0.0.1/-1", "10.0.0.1/024", "/24",
                           "10.0.0/24", "10.0.0.1/24/1"}) {
    INFO(text);
    CHECK_FALSE(ipv4_prefix::parse(text));
  }
}

TEST_CASE("mac_address: colon or dash separated hex parses and prints lowercase") {
  auto m = mac_address::parse("02:00:5E:10:00:0a");
  REQUIRE(m);
  CHECK(fmt::format("{}", *m) == "02:00:5e:10:00:0a");
  CHECK(mac_address::parse("02-00-5e-10-00-0a") == m);
  CHECK(m->is_unicast());
  CHECK(mac_address::broadcast().is_broadcast());
  CHECK(mac_address::parse("01:00:5e:00:00:01")->is_multicast());
}

TEST_CASE("mac_address: bad forms are rejected") {
  for (const char* text : {"", "02:00:5e:10:00", "02:00:5e:10:00:0a:", "02:00-5e:10:00:0a", "0g:00:5e:10:00:0a",
                           "2:00:5e:10:00:0a", "02005e10000a", "02:00:5e:10:00:0a "}) {
    INFO(text);
    CHECK_FALSE(mac_address::parse(text));
  }
}

TEST_CASE("ipv4_endpoint: prints as address:port") {
  CHECK(fmt::format("{}", uk::ipv4_endpoint{*ipv4_address::parse("127.0.0.1"), 8080}) == "127.0.0.1:8080");
}
