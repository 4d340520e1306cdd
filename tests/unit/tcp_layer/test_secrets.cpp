// The keyed functions of the TCP layer: SipHash-2-4 (its paper's vectors),
// initial sequence numbers (RFC 6528), SYN cookies (RFC 4987 3.6) and
// ephemeral ports (RFC 6056 3.3.3).
#include <catch2/catch.hpp>

#include <uk/direct/tcp/isn.hpp>
#include <uk/direct/tcp/port_allocator.hpp>
#include <uk/direct/tcp/siphash.hpp>
#include <uk/direct/tcp/syn_cookies.hpp>

#include <array>
#include <set>

namespace {

using namespace std::chrono_literals;
using uk::ipv4_address;
using uk::ipv4_endpoint;
namespace tcp = uk::direct::tcp;

constexpr tcp::siphash_key paper_key{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
const ipv4_endpoint us{*ipv4_address::parse("10.0.0.2"), 80};
const ipv4_endpoint peer{*ipv4_address::parse("10.0.0.1"), 40000};
const tcp::four_tuple tuple{us, peer};

std::array<std::byte, 15> counting_bytes() {
  std::array<std::byte, 15> m{};
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::byte>(i);
  return m;
}

uk::instant at(uk::duration d) { return uk::instant{d}; }

}  // namespace

TEST_CASE("SipHash paper appendix A: key 00..0f, message 00..0e gives a129ca6149be45e5") {
  const auto m = counting_bytes();
  CHECK(tcp::siphash24(paper_key, m) == 0xa129ca6149be45e5ull);
  // The reference implementation's vectors for lengths 0, 1 and 8 (a whole word and the length block).
  CHECK(tcp::siphash24(paper_key, std::span(m).first(0)) == 0x726fdb47dd0e0e31ull);
  CHECK(tcp::siphash24(paper_key, std::span(m).first(1)) == 0x74f839c593dc67fdull);
  CHECK(tcp::siphash24(paper_key, std::span(m).first(8)) == 0x93f5f5799a932462ull);
  std::array<std::byte, 16> key_bytes{};
  for (std::size_t i = 0; i < 16; ++i) key_bytes[i] = static_cast<std::byte>(i);
  const auto k = tcp::siphash_key::from_bytes(key_bytes);
  CHECK(k.k0 == paper_key.k0);
  CHECK(k.k1 == paper_key.k1);
}

TEST_CASE("RFC 6528 3: ISN = M + F(4-tuple, secret), M ticking every 4 microseconds") {
  const tcp::isn_generator isn(paper_key);
  const auto first = isn(us, peer, at(0s));
  // M advances by one every 4 us: the same tuple 4 ms later is 1000 ticks further.
  CHECK(isn(us, peer, at(4ms)) - first == 1000u);
  // Another tuple (one port changed) gets an unrelated offset.
  const ipv4_endpoint other_peer{peer.address, 40001};
  CHECK(isn(us, other_peer, at(0s)) != first);
  CHECK(isn(us, other_peer, at(0s)) - first != 1u);
  // Another secret gives another ISN for the same tuple and time.
  const tcp::isn_generator other(tcp::siphash_key{1, 2});
  CHECK(other(us, peer, at(0s)) != first);
}

TEST_CASE("RFC 4987 3.6: a SYN cookie comes back valid with its MSS rounded down to the table") {
  const tcp::syn_cookies cookies(paper_key);
  const tcp::seq peer_isn{123456789};
  const auto cookie = cookies.make(tuple, peer_isn, 1460, at(10s));
  CHECK(cookies.check(tuple, peer_isn, cookie, at(10s)) == 1460);
  CHECK(cookies.check(tuple, peer_isn, cookies.make(tuple, peer_isn, 1400, at(10s)), at(11s)) == 1400);
  CHECK(cookies.check(tuple, peer_isn, cookies.make(tuple, peer_isn, 1459, at(10s)), at(11s)) == 1440);
  CHECK(cookies.check(tuple, peer_isn, cookies.make(tuple, peer_isn, 100, at(10s)), at(11s)) == 536);
  CHECK(cookies.check(tuple, peer_isn, cookies.make(tuple, peer_isn, 9000, at(10s)), at(11s)) == 1460);
}

TEST_CASE("RFC 4987 3.6: a cookie is refused for another tuple, another peer ISN, or a changed bit") {
  const tcp::syn_cookies cookies(paper_key);
  const tcp::seq peer_isn{5};
  const auto cookie = cookies.make(tuple, peer_isn, 1460, at(0s));
  const tcp::four_tuple other{us, {peer.address, 40001}};
  CHECK_FALSE(cookies.check(other, peer_isn, cookie, at(0s)));
  CHECK_FALSE(cookies.check(tuple, tcp::seq{6}, cookie, at(0s)));
  for (int bit = 0; bit < 32; ++bit)
    CHECK_FALSE(cookies.check(tuple, peer_isn, tcp::seq{cookie.value ^ (1u << bit)}, at(0s)));
  const tcp::syn_cookies other_secret(tcp::siphash_key{9, 9});
  CHECK_FALSE(other_secret.check(tuple, peer_isn, cookie, at(0s)));
}

TEST_CASE("RFC 4987 3.6: a cookie is valid in its 64 s period and the next, then expires") {
  const tcp::syn_cookies cookies(paper_key);
  const tcp::seq peer_isn{77};
  const auto cookie = cookies.make(tuple, peer_isn, 1460, at(63s));
  CHECK(cookies.check(tuple, peer_isn, cookie, at(63s)));
  CHECK(cookies.check(tuple, peer_isn, cookie, at(64s)));
  CHECK(cookies.check(tuple, peer_isn, cookie, at(127s)));
  CHECK_FALSE(cookies.check(tuple, peer_isn, cookie, at(128s)));
  // 32 periods later the 5-bit counter matches again, but the hash covers the whole counter.
  CHECK_FALSE(cookies.check(tuple, peer_isn, cookie, at(63s + 32 * 64s)));
}

TEST_CASE("RFC 7323 3.2: window scale and SACK-permitted ride in the SYN-ACK TSval and come back in TSecr") {
  for (std::uint32_t clock : {0u, 1u, 31u, 32u, 1000u, 0xffffffffu}) {
    for (std::optional<std::uint8_t> ws : {std::optional<std::uint8_t>{}, std::optional<std::uint8_t>{0},
                                           std::optional<std::uint8_t>{7}, std::optional<std::uint8_t>{14}}) {
      for (bool sack : {false, true}) {
        const tcp::cookie_options o{ws, sack};
        const auto tsval = tcp::syn_cookies::encode_timestamp(clock, o);
        CHECK(tcp::syn_cookies::decode_timestamp(tsval) == o);
        // RFC 7323 5.4: never ahead of the clock, and at most 32 ticks behind it.
        CHECK(static_cast<std::int32_t>(clock - tsval) >= 0);
        CHECK(clock - tsval < 64u);
      }
    }
  }
  // RFC 7323 2.3: a shift above 14 is used as 14.
  CHECK(tcp::syn_cookies::decode_timestamp(tcp::syn_cookies::encode_timestamp(100, {15, false})).window_scale == 14);
}

TEST_CASE("RFC 6056 3.3.3: ephemeral ports step through the range from a per-destination offset") {
  tcp::port_allocator ports(paper_key);
  auto none_used = [](std::uint16_t) { return false; };
  const auto a = *ports.allocate(us.address, peer, none_used);
  const auto b = *ports.allocate(us.address, peer, none_used);
  CHECK(a >= 49152);
  CHECK(b == (a == 65535 ? 49152 : a + 1));  // next_ephemeral++ between calls
  // A used port is skipped.
  const auto expected = static_cast<std::uint16_t>(b == 65535 ? 49152 : b + 1);
  const auto c = *ports.allocate(us.address, peer, [&](std::uint16_t p) { return p == expected; });
  CHECK(c != expected);
  // Another destination starts elsewhere (with overwhelming probability).
  tcp::port_allocator fresh(paper_key);
  const ipv4_endpoint elsewhere{*ipv4_address::parse("192.0.2.7"), 443};
  CHECK(*fresh.allocate(us.address, elsewhere, none_used) != a);
}

TEST_CASE("RFC 6056 3.3.3: every port of the range is found, and nullopt only when all are used") {
  tcp::port_allocator ports(paper_key, 1000, 1009);
  std::set<std::uint16_t> used;
  for (int i = 0; i < 10; ++i) {
    auto p = ports.allocate(us.address, peer, [&](std::uint16_t q) { return used.count(q) != 0; });
    REQUIRE(p);
    CHECK(*p >= 1000);
    CHECK(*p <= 1009);
    used.insert(*p);
  }
  CHECK(used.size() == 10);
  CHECK_FALSE(ports.allocate(us.address, peer, [&](std::uint16_t q) { return used.count(q) != 0; }));
  used.erase(1004);  // freed again: found again (mirage-tcpip #462)
  CHECK(ports.allocate(us.address, peer, [&](std::uint16_t q) { return used.count(q) != 0; }) == 1004);
}
