// uk::direct::icmpv4: echo (RFC 792, RFC 1122 3.2.2.6), errors and the
// rules that forbid them (RFC 1122 3.2.2), rate limiting (RFC 1812 4.3.2.8);
// over an IPv4 double, then a whole stack over memory_link (big pings
// fragmented both ways).
#include <catch2/catch.hpp>

#include <uk/direct/arp.hpp>
#include <uk/direct/ethernet.hpp>
#include <uk/direct/icmpv4.hpp>
#include <uk/direct/ipv4.hpp>
#include <uk/direct/static_config.hpp>
#include <uk/net/memory_link.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace {

using namespace std::chrono_literals;
using uk::ipv4_address;
using uk::ipv4_prefix;
namespace icmp_wire = uk::wire::icmpv4;
namespace ipv4_wire = uk::wire::ipv4;

ipv4_address ip(const char* text) { return *ipv4_address::parse(text); }
const ipv4_address our_ip = ip("10.0.0.2");
const ipv4_address peer_ip = ip("10.0.0.1");

std::vector<std::byte> pattern(std::size_t n, unsigned seed = 1) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 13 + seed * 5 + (i >> 9)) & 0xff);
  return v;
}

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

/// An IPv4 layer that records what ICMP sends and lets the test deliver.
struct ipv4_double {
  struct sent_datagram {
    ipv4_address destination;
    std::uint8_t protocol;
    std::vector<std::byte> bytes;
  };
  std::optional<ipv4_prefix> address() const { return ipv4_prefix{our_ip, 24}; }
  std::optional<ipv4_address> gateway() const { return std::nullopt; }
  std::size_t mtu() const { return 1480; }
  bool transmit(ipv4_address dst, std::uint8_t proto, std::size_t size, uk::frame_filler fill) {
    if (refuse) return false;
    std::vector<std::byte> buffer(size);
    buffer.resize(fill(buffer));
    sent.push_back({dst, proto, std::move(buffer)});
    return true;
  }
  void set_receiver(std::uint8_t proto, uk::ipv4_handler h) {
    REQUIRE(proto == 1);
    receiver = h;
  }
  void set_unknown_protocol_receiver(uk::ipv4_handler h) { unknown_protocol = h; }
  void set_reassembly_timeout_handler(uk::direct::ipv4_reassembly_timeout_handler h) { reassembly_timeout = h; }
  uk::instant poll(uk::instant) { return uk::never; }
  int counters() const { return 0; }

  std::vector<sent_datagram> sent;
  uk::ipv4_handler receiver;
  uk::ipv4_handler unknown_protocol;
  uk::direct::ipv4_reassembly_timeout_handler reassembly_timeout;
  bool refuse = false;
};
static_assert(uk::ipv4_layer<ipv4_double>);
static_assert(uk::icmpv4_layer<uk::direct::icmpv4<ipv4_double>>);

struct test_clock {
  uk::instant now = uk::instant{} + 1s;
  uk::instant operator()() const { return now; }
};

/// The IP header of a datagram from `src` to `dst` (payload not included).
std::vector<std::byte> ip_header(ipv4_address src, ipv4_address dst, std::uint8_t protocol, std::size_t payload,
                                 std::uint16_t fragment_offset = 0, bool more = false) {
  ipv4_wire::repr r;
  r.src = src;
  r.dst = dst;
  r.protocol = protocol;
  r.identification = 0x3333;
  r.payload_length = static_cast<std::uint16_t>(payload);
  r.fragment_offset = fragment_offset;
  r.more_fragments = more;
  std::vector<std::byte> h(20);
  ipv4_wire::emit(r, h);
  return h;
}

/// An ICMP message: header from `r`, then `data`.
std::vector<std::byte> icmp_message(const icmp_wire::repr& r, std::span<const std::byte> data) {
  std::vector<std::byte> m(8 + data.size());
  std::copy(data.begin(), data.end(), m.begin() + 8);
  icmp_wire::emit(r, m);
  return m;
}

struct fixture {
  ipv4_double ip;
  test_clock clock;
  uk::direct::icmpv4<ipv4_double> icmp;
  explicit fixture(uk::direct::icmpv4_options options = {}) : icmp(ip, uk::clock_ref(clock), options) {}

  /// Delivers `message` as ICMP from `from` to `to`.
  void receive(std::span<const std::byte> message, ipv4_address from = peer_ip, ipv4_address to = our_ip) {
    const auto header = ip_header(from, to, 1, message.size());
    ip.receiver(uk::ipv4_datagram_info{from, to, 1, 64, header}, message);
  }

  /// Reports an unreachable port for a UDP datagram from `from` to `to`.
  void unreachable(std::span<const std::byte> udp, ipv4_address from = peer_ip, ipv4_address to = our_ip,
                   std::uint8_t protocol = 17, std::uint16_t fragment_offset = 0) {
    header = ip_header(from, to, protocol, udp.size(), fragment_offset, fragment_offset == 0 && udp.size() > 1000);
    icmp.port_unreachable(uk::ipv4_datagram_info{from, to, protocol, 64, header}, udp);
  }
  std::vector<std::byte> header;
};

}  // namespace

TEST_CASE("RFC 792, RFC 1122 3.2.2.6: an echo request is answered with the same id, sequence and data",
          "[icmpv4]") {
  fixture f;
  for (std::size_t size : {0u, 1u, 56u, 57u, 1472u, 4000u}) {
    CAPTURE(size);
    f.ip.sent.clear();
    const auto data = pattern(size, static_cast<unsigned>(size));
    const auto request = icmp_message({icmp_wire::echo_request{0xbeef, 42}}, data);
    f.receive(request);
    REQUIRE(f.ip.sent.size() == 1);
    CHECK(f.ip.sent[0].destination == peer_ip);
    CHECK(f.ip.sent[0].protocol == 1);
    // Exactly the bytes an emitter writes for the reply, checksum included.
    CHECK(f.ip.sent[0].bytes == icmp_message({icmp_wire::echo_reply{0xbeef, 42}}, data));
  }
  CHECK(f.icmp.counters().rx_echo_requests == 6);
  CHECK(f.icmp.counters().tx_echo_replies == 6);
}

TEST_CASE("RFC 1624: the reply's incremental checksum matches a full one for every request code", "[icmpv4]") {
  fixture f;
  for (unsigned seed = 0; seed < 64; ++seed) {
    const auto data = pattern(seed * 3, seed);
    auto request = icmp_message({icmp_wire::echo_request{static_cast<std::uint16_t>(seed * 1031), 7}}, data);
    // A non-zero code (RFC 792 says 0; the reply's is 0 whatever came).
    request[1] = static_cast<std::byte>(seed);
    uk::detail::store_be16(request.data() + 2, 0);
    uk::detail::store_be16(request.data() + 2, uk::wire::checksum::compute(request));
    f.ip.sent.clear();
    f.receive(request);
    REQUIRE(f.ip.sent.size() == 1);
    CHECK(uk::wire::checksum::verifies(f.ip.sent[0].bytes));
    CHECK(f.ip.sent[0].bytes == icmp_message({icmp_wire::echo_reply{static_cast<std::uint16_t>(seed * 1031), 7}}, data));
  }
}

TEST_CASE("RFC 1122 3.2.2.6: echo requests to a broadcast address are ignored unless enabled", "[icmpv4]") {
  const auto request = icmp_message({icmp_wire::echo_request{1, 1}}, pattern(8));
  SECTION("default: ignored") {
    fixture f;
    f.receive(request, peer_ip, ip("255.255.255.255"));
    f.receive(request, peer_ip, ip("10.0.0.255"));
    f.receive(request, peer_ip, ip("224.0.0.1"));
    CHECK(f.ip.sent.empty());
    CHECK(f.icmp.counters().echo_requests_ignored == 3);
  }
  SECTION("enabled: answered from our own address (the IPv4 layer's source)") {
    fixture f({.reply_to_broadcast_echo = true});
    f.receive(request, peer_ip, ip("255.255.255.255"));
    REQUIRE(f.ip.sent.size() == 1);
    CHECK(f.ip.sent[0].destination == peer_ip);
  }
}

TEST_CASE("RFC 1122 3.2.1.3: an echo request from 0.0.0.0 is not answered", "[icmpv4]") {
  fixture f;
  f.receive(icmp_message({icmp_wire::echo_request{1, 1}}, pattern(8)), ip("0.0.0.0"));
  CHECK(f.ip.sent.empty());
  CHECK(f.icmp.counters().echo_requests_ignored == 1);
}

TEST_CASE("RFC 792: messages whose checksum fails, or shorter than 8 bytes, are dropped (mirage-tcpip #217)",
          "[icmpv4]") {
  fixture f;
  auto request = icmp_message({icmp_wire::echo_request{1, 1}}, pattern(32));
  request[20] ^= std::byte{0x01};
  f.receive(request);
  f.receive(std::span(request).first(7));
  CHECK(f.ip.sent.empty());
  CHECK(f.icmp.counters().rx_bad_checksum == 1);
  CHECK(f.icmp.counters().rx_truncated == 1);
  CHECK(f.icmp.counters().rx_echo_requests == 0);
}

TEST_CASE("RFC 1122 3.2.2: unknown types are counted and discarded; replies and errors are passed up",
          "[icmpv4]") {
  fixture f;
  struct recorder {
    std::vector<icmp_wire::message_type> types;
    void operator()(const uk::ipv4_datagram_info&, const icmp_wire::view& m) { types.push_back(m.type()); }
  } replies, errors;
  f.icmp.set_echo_reply_receiver(uk::direct::icmpv4_handler(replies));
  f.icmp.set_error_receiver(uk::direct::icmpv4_handler(errors));
  f.receive(icmp_message({icmp_wire::other_message{icmp_wire::message_type::timestamp, 0, 0}}, pattern(12)));
  f.receive(icmp_message({icmp_wire::echo_reply{5, 6}}, pattern(8)));
  const auto quoted = ip_header(our_ip, peer_ip, 17, 8);
  std::vector<std::byte> quote(quoted);
  quote.resize(28);
  f.receive(icmp_message({icmp_wire::destination_unreachable{icmp_wire::unreachable_code::port_unreachable}}, quote));
  f.receive(icmp_message({icmp_wire::time_exceeded{}}, quote));
  CHECK(f.ip.sent.empty());
  const auto& c = f.icmp.counters();
  CHECK(c.rx_messages == 4);
  CHECK(c.rx_other == 1);
  CHECK(c.rx_echo_replies == 1);
  CHECK(c.rx_destination_unreachable == 1);
  CHECK(c.rx_time_exceeded == 1);
  CHECK(replies.types == std::vector{icmp_wire::message_type::echo_reply});
  CHECK(errors.types ==
        std::vector{icmp_wire::message_type::destination_unreachable, icmp_wire::message_type::time_exceeded});
}

TEST_CASE("RFC 792: port unreachable quotes the IP header and the first data octets", "[icmpv4]") {
  SECTION("RFC 1812 4.3.2.3: by default as much as fits 576 octets") {
    fixture f;
    const auto udp = pattern(1000);
    f.unreachable(udp);
    REQUIRE(f.ip.sent.size() == 1);
    const auto& m = f.ip.sent[0].bytes;
    CHECK(f.ip.sent[0].destination == peer_ip);
    CHECK(f.ip.sent[0].protocol == 1);
    CHECK(m.size() == 576 - 20);
    const auto v = icmp_wire::parse(m);
    REQUIRE(v);
    CHECK(v->type() == icmp_wire::message_type::destination_unreachable);
    CHECK(v->code() == 3);
    CHECK(v->rest_of_header() == 0);  // RFC 792: unused, zero
    CHECK(same(v->quoted().first(20), f.header));
    CHECK(same(v->quoted().subspan(20), std::span(udp).first(576 - 20 - 8 - 20)));
    CHECK(f.icmp.counters().tx_port_unreachable == 1);
  }
  SECTION("a short datagram is quoted whole") {
    fixture f;
    const auto udp = pattern(12);
    f.unreachable(udp);
    REQUIRE(f.ip.sent.size() == 1);
    CHECK(f.ip.sent[0].bytes.size() == 8 + 20 + 12);
  }
  SECTION("RFC 792: never fewer than 8 data octets, whatever the limit") {
    fixture f({.max_error_length = 0});
    const auto udp = pattern(100);
    f.unreachable(udp);
    REQUIRE(f.ip.sent.size() == 1);
    const auto& m = f.ip.sent[0].bytes;
    CHECK(m.size() == 8 + 20 + 8);
    std::vector<std::byte> expected(8);
    std::copy(f.header.begin(), f.header.end(), std::back_inserter(expected));
    expected.insert(expected.end(), udp.begin(), udp.begin() + 8);
    icmp_wire::emit({icmp_wire::destination_unreachable{icmp_wire::unreachable_code::port_unreachable}}, expected);
    CHECK(m == expected);
  }
}

TEST_CASE("RFC 1812 4.3.2.8: errors are rate-limited by a token bucket", "[icmpv4]") {
  fixture f;  // 10 per second, burst 10
  const auto udp = pattern(20);
  for (int i = 0; i < 15; ++i) f.unreachable(udp);
  CHECK(f.ip.sent.size() == 10);
  CHECK(f.icmp.counters().errors_rate_limited == 5);
  f.clock.now += 99ms;
  f.unreachable(udp);
  CHECK(f.ip.sent.size() == 10);
  f.clock.now += 1ms;  // one interval: one token
  f.unreachable(udp);
  f.unreachable(udp);
  CHECK(f.ip.sent.size() == 11);
  f.clock.now += 10s;  // the bucket holds at most the burst
  for (int i = 0; i < 15; ++i) f.unreachable(udp);
  CHECK(f.ip.sent.size() == 21);
  CHECK(f.icmp.counters().tx_port_unreachable == 21);
  CHECK(f.icmp.counters().errors_rate_limited == 5 + 1 + 1 + 5);
  SECTION("echo replies are not rate-limited") {
    for (int i = 0; i < 50; ++i) f.receive(icmp_message({icmp_wire::echo_request{1, static_cast<std::uint16_t>(i)}}, udp));
    CHECK(f.icmp.counters().tx_echo_replies == 50);
  }
}

TEST_CASE("A rate of 0 errors per second sends none", "[icmpv4]") {
  fixture f({.errors_per_second = 0});
  f.unreachable(pattern(20));
  CHECK(f.ip.sent.empty());
  CHECK(f.icmp.counters().errors_rate_limited == 1);
}

TEST_CASE("RFC 1122 3.2.2: no error about errors, broadcasts, later fragments or non-host sources", "[icmpv4]") {
  fixture f;
  const auto udp = pattern(20);
  SECTION("an ICMP error message") {
    const auto error = icmp_message({icmp_wire::destination_unreachable{}}, pattern(28));
    f.unreachable(error, peer_ip, our_ip, 1);
  }
  SECTION("a datagram to the limited broadcast") { f.unreachable(udp, peer_ip, ip("255.255.255.255")); }
  SECTION("a datagram to the subnet broadcast") { f.unreachable(udp, peer_ip, ip("10.0.0.255")); }
  SECTION("a datagram to a multicast group") { f.unreachable(udp, peer_ip, ip("239.1.2.3")); }
  SECTION("a fragment other than the first") { f.unreachable(udp, peer_ip, our_ip, 17, 1480); }
  SECTION("a source of 0.0.0.0") { f.unreachable(udp, ip("0.0.0.0")); }
  SECTION("a broadcast source") { f.unreachable(udp, ip("255.255.255.255")); }
  SECTION("a subnet broadcast source") { f.unreachable(udp, ip("10.0.0.255")); }
  SECTION("a multicast source") { f.unreachable(udp, ip("224.0.0.5")); }
  SECTION("a loopback source") { f.unreachable(udp, ip("127.0.0.1")); }
  SECTION("a reserved (class E) source") { f.unreachable(udp, ip("240.0.0.9")); }
  CHECK(f.ip.sent.empty());
  CHECK(f.icmp.counters().errors_suppressed == 1);
  CHECK(f.icmp.counters().errors_rate_limited == 0);  // no token spent
}

TEST_CASE("RFC 1122 3.2.2: an error about an ICMP query (an echo request) may be sent", "[icmpv4]") {
  fixture f;
  const auto echo = icmp_message({icmp_wire::echo_request{1, 2}}, pattern(8));
  f.unreachable(echo, peer_ip, our_ip, 1);
  CHECK(f.ip.sent.size() == 1);
}

TEST_CASE("RFC 1122 3.2.2.1: protocol unreachable through the IPv4 layer's hook", "[icmpv4]") {
  fixture f;
  REQUIRE(f.ip.unknown_protocol);
  const auto header = ip_header(peer_ip, our_ip, 99, 16);
  const auto payload = pattern(16);
  f.ip.unknown_protocol(uk::ipv4_datagram_info{peer_ip, our_ip, 99, 64, header}, payload);
  REQUIRE(f.ip.sent.size() == 1);
  const auto v = icmp_wire::parse(f.ip.sent[0].bytes);
  REQUIRE(v);
  CHECK(v->type() == icmp_wire::message_type::destination_unreachable);
  CHECK(v->code() == 2);
  CHECK(f.icmp.counters().tx_protocol_unreachable == 1);
  SECTION("and not when disabled") {
    fixture g({.protocol_unreachable = false});
    CHECK_FALSE(g.ip.unknown_protocol);
  }
}

TEST_CASE("RFC 1122 3.3.2: time exceeded (reassembly) through the IPv4 layer's hook", "[icmpv4]") {
  fixture f;
  REQUIRE(f.ip.reassembly_timeout);
  const auto header = ip_header(peer_ip, our_ip, 17, 1480, 0, true);
  const auto leading = pattern(1024);
  f.ip.reassembly_timeout(uk::ipv4_datagram_info{peer_ip, our_ip, 17, 64, header}, leading);
  REQUIRE(f.ip.sent.size() == 1);
  const auto v = icmp_wire::parse(f.ip.sent[0].bytes);
  REQUIRE(v);
  CHECK(v->type() == icmp_wire::message_type::time_exceeded);
  CHECK(v->code() == 1);
  CHECK(same(v->quoted().first(20), header));
  CHECK(same(v->quoted().subspan(20), std::span(leading).first(576 - 48)));
  CHECK(f.icmp.counters().tx_time_exceeded == 1);
}

TEST_CASE("An error IPv4 refuses to send is counted", "[icmpv4]") {
  fixture f;
  f.ip.refuse = true;
  f.unreachable(pattern(20));
  f.receive(icmp_message({icmp_wire::echo_request{1, 1}}, pattern(8)));
  CHECK(f.icmp.counters().tx_dropped == 2);
  CHECK(f.icmp.counters().tx_errors() == 0);
}

// ---- A whole stack over memory_link ----------------------------------------------------------

namespace {

using link_end = uk::net::memory_link::end;
using eth_type = uk::direct::ethernet<link_end>;
using arp_type = uk::direct::arp<eth_type>;
using ip_type = uk::direct::ipv4<eth_type, arp_type, uk::direct::static_config>;
using icmp_type = uk::direct::icmpv4<ip_type>;
static_assert(uk::ipv4_layer<ip_type>);
static_assert(uk::icmpv4_layer<icmp_type>);

struct host {
  uk::direct::static_config config;
  eth_type eth;
  arp_type arp;
  ip_type ipv4;
  icmp_type icmp;
  host(link_end& end, uk::clock_ref clock, const char* address)
      : config(*ipv4_prefix::parse(address)),
        eth(end),
        arp(eth, clock, {.announcements = 0}),
        ipv4(eth, arp, config, clock),
        icmp(ipv4, clock) {}

  /// Sends an echo request of `data` to `to`.
  bool ping(ipv4_address to, std::uint16_t sequence, std::span<const std::byte> data) {
    auto write = [&](std::span<std::byte> out) {
      std::copy(data.begin(), data.end(), out.begin() + 8);
      return icmp_wire::emit({icmp_wire::echo_request{0x5150, sequence}}, out.first(8 + data.size())) + data.size();
    };
    return ipv4.transmit(to, 1, 8 + data.size(), uk::frame_filler(write));
  }
};

struct reply_recorder {
  std::vector<std::uint16_t> sequences;
  std::vector<std::vector<std::byte>> data;
  void operator()(const uk::ipv4_datagram_info&, const icmp_wire::view& m) {
    sequences.push_back(m.sequence_number());
    data.emplace_back(m.echo_data().begin(), m.echo_data().end());
  }
};

}  // namespace

TEST_CASE("Over memory_link: 100 pings, no loss; 8000 and 60000 bytes fragmented both ways", "[icmpv4][stack]") {
  uk::net::memory_link link;
  host us(link.a(), link.clock(), "10.0.0.2/24");
  host peer(link.b(), link.clock(), "10.0.0.1/24");
  reply_recorder replies;
  peer.icmp.set_echo_reply_receiver(uk::direct::icmpv4_handler(replies));

  for (std::uint16_t seq = 0; seq < 100; ++seq) {
    REQUIRE(peer.ping(ip("10.0.0.2"), seq, pattern(56, seq)));
    link.deliver();
  }
  REQUIRE(replies.sequences.size() == 100);
  for (std::uint16_t seq = 0; seq < 100; ++seq) {
    CHECK(replies.sequences[seq] == seq);
    CHECK(replies.data[seq] == pattern(56, seq));
  }

  for (std::size_t size : {8000u, 60000u}) {
    CAPTURE(size);
    const auto data = pattern(size, 77);
    REQUIRE(peer.ping(ip("10.0.0.2"), 1000, data));
    link.deliver();
    REQUIRE(replies.data.size() >= 1);
    CHECK(replies.data.back() == data);
  }
  CHECK(replies.data.size() == 102);
  const auto ours = us.ipv4.counters();
  CHECK(ours.rx_reassembled == 2);
  CHECK(ours.tx_fragments == 6 + 41);  // 8008 bytes: 6 fragments; 60008: 41
  CHECK(ours.reassembly.dropped() == 0);
  CHECK(us.icmp.counters().tx_echo_replies == 102);
  CHECK(peer.ipv4.counters().rx_reassembled == 2);
  CHECK(us.ipv4.reassembly().bytes_buffered() == 0);
}

TEST_CASE("Over memory_link: a lost fragment expires; the sender hears time exceeded", "[icmpv4][stack]") {
  uk::net::memory_link link;
  host us(link.a(), link.clock(), "10.0.0.2/24");
  host peer(link.b(), link.clock(), "10.0.0.1/24");
  struct error_recorder {
    std::vector<std::vector<std::byte>> messages;
    void operator()(const uk::ipv4_datagram_info&, const icmp_wire::view& m) {
      messages.emplace_back(m.message().begin(), m.message().end());
    }
  } errors;
  peer.icmp.set_error_receiver(uk::direct::icmpv4_handler(errors));
  REQUIRE(peer.ping(ip("10.0.0.2"), 1, pattern(8)));  // resolves both ways
  link.deliver();
  // A 3-fragment ping whose last fragment is lost on the wire.
  REQUIRE(peer.ping(ip("10.0.0.2"), 2, pattern(3000)));
  CHECK(link.deliver(2) == 2);
  link.clear();
  CHECK(us.ipv4.reassembly().in_progress() == 1);
  const uk::instant deadline = us.ipv4.poll(link.now());
  CHECK(deadline == link.now() + 30s);
  link.advance(30s);
  CHECK(us.ipv4.poll(link.now()) == uk::never);
  link.deliver();
  REQUIRE(errors.messages.size() == 1);
  const auto v = icmp_wire::parse(errors.messages[0]);
  REQUIRE(v);
  CHECK(v->type() == icmp_wire::message_type::time_exceeded);
  CHECK(v->code() == 1);
  const auto quoted = v->quoted_datagram();
  REQUIRE(quoted);
  CHECK(quoted->src() == ip("10.0.0.1"));
  CHECK(quoted->fragment_offset() == 0);
  CHECK(quoted->more_fragments());
  CHECK(us.icmp.counters().tx_time_exceeded == 1);
  CHECK(us.ipv4.counters().reassembly.timed_out == 1);
}

TEST_CASE("Hostile input: garbage and a fragment flood leave the stack answering pings, memory bounded",
          "[icmpv4][stack]") {
  uk::net::memory_link link;
  host us(link.a(), link.clock(), "10.0.0.2/24");
  host peer(link.b(), link.clock(), "10.0.0.1/24");
  reply_recorder replies;
  peer.icmp.set_echo_reply_receiver(uk::direct::icmpv4_handler(replies));
  REQUIRE(peer.ping(ip("10.0.0.2"), 1, pattern(8)));  // resolves both ways
  link.deliver();

  std::uint32_t x = 12345;
  auto next = [&x] {
    x = x * 1664525u + 1013904223u;
    return x >> 8;
  };
  /// Sends an IPv4 frame carrying `payload` from the peer's end, bypassing its stack.
  auto inject = [&](std::span<const std::byte> payload) {
    auto write = [&](std::span<std::byte> out) {
      const auto dst = link.a().mac().octets, src = link.b().mac().octets;
      for (std::size_t i = 0; i < 6; ++i) {
        out[i] = std::byte{dst[i]};
        out[6 + i] = std::byte{src[i]};
      }
      out[12] = std::byte{0x08};
      out[13] = std::byte{0x00};
      std::copy(payload.begin(), payload.end(), out.begin() + 14);
      return 14 + payload.size();
    };
    REQUIRE(link.b().transmit(14 + payload.size(), uk::frame_filler(write)));
    link.deliver();
  };

  // Random bytes, and random bytes behind a valid-looking version/IHL.
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::byte> junk(next() % 1500);
    for (auto& b : junk) b = static_cast<std::byte>(next());
    if (i % 2 == 0 && junk.size() >= 20) junk[0] = std::byte{0x45};
    inject(junk);
  }
  // A flood of valid fragments of datagrams that never complete.
  for (std::uint32_t i = 0; i < 5000; ++i) {
    ipv4_wire::repr r;
    r.src = ip("10.0.0.1");
    r.dst = ip("10.0.0.2");
    r.protocol = 17;
    r.identification = static_cast<std::uint16_t>(next());
    r.more_fragments = true;
    r.fragment_offset = static_cast<std::uint16_t>(next() % 8000 * 8);
    r.payload_length = static_cast<std::uint16_t>((1 + next() % 185) * 8);
    std::vector<std::byte> fragment(r.total_length());
    ipv4_wire::emit(r, fragment);
    inject(fragment);
    REQUIRE(us.ipv4.reassembly().bytes_buffered() <= us.ipv4.reassembly().memory_cap());
  }
  const auto c = us.ipv4.counters();
  CHECK(c.rx_dropped_bad_header + c.rx_dropped_bad_checksum >= 1900);
  CHECK(c.reassembly.evicted > 0);

  // Pings still work, a 60000-byte one included: it evicts the flood's leftovers.
  REQUIRE(peer.ping(ip("10.0.0.2"), 2, pattern(56)));
  link.deliver();
  const auto big = pattern(60000, 5);
  REQUIRE(peer.ping(ip("10.0.0.2"), 3, big));
  link.deliver();
  REQUIRE(replies.data.size() == 3);
  CHECK(replies.data[2] == big);
  // Nothing the flood left behind outlives the reassembly timeout.
  us.ipv4.poll(link.now() + 30s);
  CHECK(us.ipv4.reassembly().bytes_buffered() == 0);
}
