// uk::direct::ipv4 over small doubles of the Ethernet and ARP layers: routing
// (RFC 1122 3.3.1), the header sent (RFC 791 3.1), fragmentation (RFC 791
// 3.2), what is accepted on receive (RFC 1122 3.2.1), reassembly through the
// layer, counters.
#include <catch2/catch.hpp>

#include <uk/direct/ipv4.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace {

using namespace std::chrono_literals;
using uk::ipv4_address;
using uk::ipv4_prefix;
using uk::mac_address;
namespace ipv4_wire = uk::wire::ipv4;

const mac_address our_mac{{0x02, 0, 0, 0, 0, 0x0a}};
const mac_address peer_mac{{0x02, 0, 0, 0, 0, 0x0b}};
ipv4_address ip(const char* text) { return *ipv4_address::parse(text); }
ipv4_prefix prefix(const char* text) { return *ipv4_prefix::parse(text); }

/// An Ethernet layer that records what is sent and lets the test receive.
struct ethernet_double {
  struct frame_sent {
    mac_address destination;
    std::uint16_t type;
    std::vector<std::byte> payload;
  };
  mac_address mac() const { return our_mac; }
  std::size_t mtu() const { return link_mtu; }
  bool transmit(mac_address dst, std::uint16_t type, std::size_t size, uk::frame_filler fill) {
    if (refuse) return false;
    std::vector<std::byte> buffer(size);
    buffer.resize(fill(buffer));
    sent.push_back({dst, type, std::move(buffer)});
    return true;
  }
  void set_receiver(std::uint16_t type, uk::ethernet_handler h) { receivers[type] = h; }
  int counters() const { return 0; }

  void receive(std::span<const std::byte> payload) { receivers.at(0x0800)(peer_mac, payload); }

  std::size_t link_mtu = 1500;
  bool refuse = false;
  std::vector<frame_sent> sent;
  std::map<std::uint16_t, uk::ethernet_handler> receivers;
};

/// An ARP layer that records the next hop of each frame.
struct arp_double {
  struct frame_sent {
    ipv4_address next_hop;
    std::uint16_t type;
    std::vector<std::byte> payload;
  };
  void set_address(ipv4_address a) { addresses.push_back(a); }
  std::optional<mac_address> lookup(ipv4_address) const { return std::nullopt; }
  void add_static(ipv4_address, mac_address) {}
  bool transmit(ipv4_address next_hop, std::uint16_t type, std::size_t size, uk::frame_filler fill) {
    if (refuse_after && sent.size() >= *refuse_after) return false;
    buffer.assign(size, std::byte{0xee});
    const std::size_t n = fill(buffer);
    sent.push_back({next_hop, type, std::vector<std::byte>(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n))});
    return true;
  }
  uk::instant poll(uk::instant) { return uk::never; }
  int counters() const { return 0; }

  std::optional<std::size_t> refuse_after;
  std::vector<std::byte> buffer;  // the "device slot" of the last frame
  std::vector<ipv4_address> addresses;
  std::vector<frame_sent> sent;
};

/// An address configuration the test can change.
struct config_double {
  std::optional<ipv4_prefix> address() const { return address_; }
  std::optional<ipv4_address> gateway() const { return gateway_; }
  void set_change_handler(uk::delegate<void()> h) { handler = h; }
  void change(std::optional<ipv4_prefix> a, std::optional<ipv4_address> g) {
    address_ = a;
    gateway_ = g;
    handler();
  }
  std::optional<ipv4_prefix> address_ = prefix("10.0.0.2/24");
  std::optional<ipv4_address> gateway_ = ip("10.0.0.1");
  uk::delegate<void()> handler;
};

struct test_clock {
  uk::instant now = uk::instant{} + 1s;
  int reads = 0;
  uk::instant operator()() {
    ++reads;
    return now;
  }
};

using ip_layer = uk::direct::ipv4<ethernet_double, arp_double, config_double>;
static_assert(uk::ipv4_layer<ip_layer>);

std::vector<std::byte> pattern(std::size_t n, unsigned seed = 1) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 31 + seed * 7 + (i >> 8)) & 0xff);
  return v;
}

/// A filler that copies `data` and counts its calls.
struct copy_filler {
  std::span<const std::byte> data;
  int calls = 0;
  std::byte* written_at = nullptr;
  std::size_t operator()(std::span<std::byte> out) {
    ++calls;
    written_at = out.data();
    const std::size_t n = std::min(out.size(), data.size());
    std::copy_n(data.begin(), n, out.begin());
    return n;
  }
};

struct fixture {
  ethernet_double eth;
  arp_double arp;
  config_double config;
  test_clock clock;
  std::optional<ip_layer> layer;

  explicit fixture(uk::direct::ipv4_options options = {}, std::size_t mtu = 1500) {
    eth.link_mtu = mtu;
    layer.emplace(eth, arp, config, uk::clock_ref(clock), options);
  }
  ip_layer& ipv4() { return *layer; }

  bool send(ipv4_address dst, std::span<const std::byte> payload, std::uint8_t protocol = 17) {
    copy_filler f{payload};
    return ipv4().transmit(dst, protocol, payload.size(), uk::frame_filler(f));
  }
};

ipv4_wire::view parsed(const std::vector<std::byte>& bytes) {
  auto v = ipv4_wire::parse(bytes);
  REQUIRE(v);
  return *v;
}

/// A datagram from `src` to `dst` as a peer would send it.
std::vector<std::byte> datagram(ipv4_address src, ipv4_address dst, std::span<const std::byte> payload,
                                std::uint8_t protocol = 17, std::uint8_t ttl = 64) {
  ipv4_wire::repr r;
  r.src = src;
  r.dst = dst;
  r.protocol = protocol;
  r.ttl = ttl;
  r.identification = 0x4242;
  r.payload_length = static_cast<std::uint16_t>(payload.size());
  std::vector<std::byte> out(20 + payload.size());
  ipv4_wire::emit(r, out);
  std::copy(payload.begin(), payload.end(), out.begin() + 20);
  return out;
}

/// Records what a protocol handler receives.
struct receiver {
  struct delivered {
    uk::ipv4_datagram_info info;
    std::vector<std::byte> header, payload;
  };
  std::vector<delivered> got;
  void operator()(const uk::ipv4_datagram_info& info, uk::frame payload) {
    got.push_back({info, {info.header.begin(), info.header.end()}, {payload.begin(), payload.end()}});
  }
};

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

TEST_CASE("ipv4 registers for ethertype 0x0800 and gives ARP its address", "[ipv4]") {
  fixture f;
  CHECK(f.eth.receivers.count(0x0800) == 1);
  REQUIRE(f.arp.addresses.size() == 1);
  CHECK(f.arp.addresses[0] == ip("10.0.0.2"));
  CHECK(f.ipv4().address() == prefix("10.0.0.2/24"));
  CHECK(f.ipv4().gateway() == ip("10.0.0.1"));
  CHECK(f.ipv4().mtu() == 1480);
  SECTION("a configuration change reaches ARP") {
    f.config.change(prefix("192.168.1.20/24"), std::nullopt);
    REQUIRE(f.arp.addresses.size() == 2);
    CHECK(f.arp.addresses[1] == ip("192.168.1.20"));
    CHECK(f.ipv4().address() == prefix("192.168.1.20/24"));
    CHECK_FALSE(f.ipv4().gateway());
  }
}

TEST_CASE("RFC 791 3.1: the header sent: addresses, protocol, TTL 64, fresh identification", "[ipv4]") {
  fixture f({.first_identification = 100});
  const auto payload = pattern(100);
  REQUIRE(f.send(ip("10.0.0.7"), payload));
  REQUIRE(f.send(ip("10.0.0.7"), payload, 6));
  REQUIRE(f.arp.sent.size() == 2);
  const auto first = parsed(f.arp.sent[0].payload);
  CHECK(f.arp.sent[0].type == 0x0800);
  CHECK(first.src() == ip("10.0.0.2"));
  CHECK(first.dst() == ip("10.0.0.7"));
  CHECK(first.protocol() == 17);
  CHECK(first.ttl() == 64);  // RFC 1122 3.2.1.7, RFC 1700
  CHECK(first.header_length() == 20);
  CHECK(first.total_length() == 120);
  CHECK_FALSE(first.is_fragment());
  CHECK_FALSE(first.dont_fragment());
  CHECK(first.identification() == 100);
  CHECK(same(first.payload(), payload));
  const auto second = parsed(f.arp.sent[1].payload);
  CHECK(second.protocol() == 6);
  CHECK(second.identification() == 101);
  CHECK(f.ipv4().counters().tx_datagrams == 2);
}

TEST_CASE("RFC 1122 3.2.1.7: the TTL is the configured one, or the datagram's own", "[ipv4]") {
  fixture f({.ttl = 128});
  const auto payload = pattern(10);
  REQUIRE(f.send(ip("10.0.0.7"), payload));
  copy_filler fill{payload};
  REQUIRE(f.ipv4().transmit(ip("10.0.0.7"), 17, payload.size(), uk::frame_filler(fill),
                            {.ttl = 1, .dont_fragment = true, .dscp = 46, .ecn = 2}));
  CHECK(parsed(f.arp.sent[0].payload).ttl() == 128);
  const auto second = parsed(f.arp.sent[1].payload);
  CHECK(second.ttl() == 1);
  CHECK(second.dont_fragment());
  CHECK(second.dscp() == 46);
  CHECK(second.ecn() == 2);
}

TEST_CASE("An unfragmented datagram is written once, in place, after the header", "[ipv4]") {
  fixture f;
  const auto payload = pattern(1480);
  copy_filler fill{payload};
  REQUIRE(f.ipv4().transmit(ip("10.0.0.7"), 17, payload.size(), uk::frame_filler(fill)));
  CHECK(fill.calls == 1);
  CHECK(fill.written_at == f.arp.buffer.data() + 20);  // the device's slot: no copy
  CHECK(f.ipv4().counters().tx_fragments == 0);
}

TEST_CASE("A filler that writes less than announced sends what it wrote", "[ipv4]") {
  fixture f;
  const auto payload = pattern(30);
  copy_filler fill{payload};
  REQUIRE(f.ipv4().transmit(ip("10.0.0.7"), 17, 100, uk::frame_filler(fill)));
  const auto sent = parsed(f.arp.sent[0].payload);
  CHECK(sent.total_length() == 50);
  CHECK(same(sent.payload(), payload));
}

TEST_CASE("RFC 1122 3.3.1.1: a destination inside the prefix is its own next hop", "[ipv4]") {
  fixture f;
  REQUIRE(f.send(ip("10.0.0.200"), pattern(8)));
  REQUIRE(f.arp.sent.size() == 1);
  CHECK(f.arp.sent[0].next_hop == ip("10.0.0.200"));
  CHECK(f.eth.sent.empty());
}

TEST_CASE("RFC 1122 3.3.1.1: a destination outside the prefix goes to the gateway", "[ipv4]") {
  fixture f;
  REQUIRE(f.send(ip("192.0.2.99"), pattern(8)));
  REQUIRE(f.arp.sent.size() == 1);
  CHECK(f.arp.sent[0].next_hop == ip("10.0.0.1"));
  CHECK(parsed(f.arp.sent[0].payload).dst() == ip("192.0.2.99"));
}

TEST_CASE("mirage-qubes #3: a /32 address reaches its gateway outside the prefix on-link", "[ipv4]") {
  fixture f;
  f.config.change(prefix("10.137.0.17/32"), ip("10.138.0.1"));
  REQUIRE(f.send(ip("10.138.0.1"), pattern(8)));   // the gateway itself
  REQUIRE(f.send(ip("93.184.216.34"), pattern(8)));  // anything else
  REQUIRE(f.send(ip("10.137.0.18"), pattern(8)));  // a neighbour's address: not in a /32
  REQUIRE(f.arp.sent.size() == 3);
  for (const auto& sent : f.arp.sent) CHECK(sent.next_hop == ip("10.138.0.1"));
  CHECK(parsed(f.arp.sent[0].payload).src() == ip("10.137.0.17"));
  CHECK(parsed(f.arp.sent[1].payload).dst() == ip("93.184.216.34"));
  CHECK(f.eth.sent.empty());
}

TEST_CASE("RFC 1122 3.3.1.1: outside the prefix without a gateway there is no route", "[ipv4]") {
  fixture f;
  f.config.change(prefix("10.0.0.2/24"), std::nullopt);
  copy_filler fill{pattern(8)};
  CHECK_FALSE(f.ipv4().transmit(ip("192.0.2.99"), 17, 8, uk::frame_filler(fill)));
  CHECK(fill.calls == 0);
  CHECK(f.arp.sent.empty());
  CHECK(f.ipv4().counters().tx_dropped_no_route == 1);
}

TEST_CASE("RFC 1122 3.3.6: broadcasts go to the Ethernet broadcast address without ARP", "[ipv4]") {
  fixture f;
  SECTION("limited broadcast") {
    REQUIRE(f.send(ip("255.255.255.255"), pattern(8)));
    REQUIRE(f.eth.sent.size() == 1);
    CHECK(parsed(f.eth.sent[0].payload).dst() == ip("255.255.255.255"));
  }
  SECTION("the subnet broadcast") {
    REQUIRE(f.send(ip("10.0.0.255"), pattern(8)));
    REQUIRE(f.eth.sent.size() == 1);
  }
  CHECK(f.eth.sent[0].destination == mac_address::broadcast());
  CHECK(f.eth.sent[0].type == 0x0800);
  CHECK(parsed(f.eth.sent[0].payload).src() == ip("10.0.0.2"));
  CHECK(f.arp.sent.empty());
}

TEST_CASE("RFC 3021: a /31 has no broadcast address; both addresses are hosts", "[ipv4]") {
  fixture f;
  f.config.change(prefix("10.0.0.0/31"), std::nullopt);
  REQUIRE(f.send(ip("10.0.0.1"), pattern(8)));
  CHECK(f.eth.sent.empty());
  REQUIRE(f.arp.sent.size() == 1);
  CHECK(f.arp.sent[0].next_hop == ip("10.0.0.1"));
}

TEST_CASE("RFC 1112 6.4: multicast goes to its group MAC address", "[ipv4]") {
  fixture f;
  REQUIRE(f.send(ip("224.0.0.251"), pattern(8)));
  REQUIRE(f.eth.sent.size() == 1);
  CHECK(f.eth.sent[0].destination == mac_address{{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}});
  CHECK(uk::direct::multicast_mac(ip("239.255.128.1")) == mac_address{{0x01, 0x00, 0x5e, 0x7f, 0x80, 0x01}});
}

TEST_CASE("RFC 1122 3.2.1.3: without an address only broadcasts are sent, from 0.0.0.0", "[ipv4]") {
  fixture f;
  f.config.change(std::nullopt, std::nullopt);
  REQUIRE(f.send(ip("255.255.255.255"), pattern(8)));
  REQUIRE(f.eth.sent.size() == 1);
  CHECK(parsed(f.eth.sent[0].payload).src() == ipv4_address::any());
  CHECK_FALSE(f.send(ip("10.0.0.1"), pattern(8)));
  CHECK(f.ipv4().counters().tx_dropped_no_address == 1);
}

TEST_CASE("RFC 1122 3.2.1.3: 0.0.0.0, loopback and our own address are not sent to", "[ipv4]") {
  fixture f;
  CHECK_FALSE(f.send(ip("0.0.0.0"), pattern(8)));
  CHECK_FALSE(f.send(ip("127.0.0.1"), pattern(8)));
  CHECK_FALSE(f.send(ip("10.0.0.2"), pattern(8)));
  CHECK(f.ipv4().counters().tx_dropped_bad_destination == 3);
  CHECK(f.arp.sent.empty());
  CHECK(f.eth.sent.empty());
}

TEST_CASE("Refusals below are counted: ARP's queue, the link's queue", "[ipv4]") {
  fixture f;
  f.arp.refuse_after = 0;
  CHECK_FALSE(f.send(ip("10.0.0.7"), pattern(8)));
  CHECK(f.ipv4().counters().tx_dropped_arp == 1);
  f.eth.refuse = true;
  CHECK_FALSE(f.send(ip("255.255.255.255"), pattern(8)));
  CHECK(f.ipv4().counters().tx_dropped_link == 1);
  CHECK(f.ipv4().counters().tx_datagrams == 0);
}

TEST_CASE("RFC 791 3.2: a datagram above the MTU is sent in fragments", "[ipv4]") {
  fixture f({.first_identification = 7});
  const auto payload = pattern(4000);
  copy_filler fill{payload};
  REQUIRE(f.ipv4().transmit(ip("10.0.0.7"), 17, payload.size(), uk::frame_filler(fill)));
  CHECK(fill.calls == 1);  // the upper filler runs once
  REQUIRE(f.arp.sent.size() == 3);
  struct expected {
    std::size_t offset, length;
    bool more;
  };
  const expected shape[] = {{0, 1480, true}, {1480, 1480, true}, {2960, 1040, false}};
  uk::direct::ipv4_reassembly core;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto v = parsed(f.arp.sent[i].payload);
    CHECK(f.arp.sent[i].next_hop == ip("10.0.0.7"));
    CHECK(v.fragment_offset() == shape[i].offset);
    CHECK(v.payload().size() == shape[i].length);
    CHECK(v.total_length() == 20 + shape[i].length);
    CHECK(v.more_fragments() == shape[i].more);
    CHECK(v.identification() == 7);
    CHECK_FALSE(v.dont_fragment());
    CHECK(v.protocol() == 17);
    CHECK(v.ttl() == 64);
    const auto r = core.add(uk::instant{}, v);
    if (i < 2) CHECK(r.state == uk::direct::ipv4_reassembly::status::incomplete);
    else {
      REQUIRE(r.state == uk::direct::ipv4_reassembly::status::complete);
      CHECK(same(r.payload, payload));
    }
  }
  CHECK(f.ipv4().counters().tx_fragments == 3);
  CHECK(f.ipv4().counters().tx_datagrams == 1);
}

TEST_CASE("RFC 791 3.2: fragment data is the largest multiple of 8 that fits the MTU", "[ipv4]") {
  fixture f({}, 1006);  // 986 bytes after the header: pieces of 984
  const auto payload = pattern(3000);
  REQUIRE(f.send(ip("10.0.0.7"), payload));
  REQUIRE(f.arp.sent.size() == 4);
  std::size_t expected_offset = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto v = parsed(f.arp.sent[i].payload);
    CHECK(v.total_length() <= 1006);
    CHECK(v.fragment_offset() == expected_offset);
    if (i < 3) CHECK(v.payload().size() == 984);
    expected_offset += v.payload().size();
  }
  CHECK(expected_offset == 3000);
}

TEST_CASE("RFC 791 3.2: the MTU boundary: mtu() bytes go whole, one more is fragmented", "[ipv4]") {
  fixture f;
  REQUIRE(f.send(ip("10.0.0.7"), pattern(1480)));
  CHECK(f.arp.sent.size() == 1);
  REQUIRE(f.send(ip("10.0.0.7"), pattern(1481)));
  REQUIRE(f.arp.sent.size() == 3);
  CHECK(parsed(f.arp.sent[1].payload).payload().size() == 1480);
  CHECK(parsed(f.arp.sent[2].payload).payload().size() == 1);
  CHECK(parsed(f.arp.sent[2].payload).fragment_offset() == 1480);
}

TEST_CASE("RFC 791 3.2: a 60000-byte datagram leaves in 41 fragments and reassembles", "[ipv4]") {
  fixture sender;
  fixture receiving;
  receiver got;
  receiving.ipv4().set_receiver(17, uk::ipv4_handler(got));
  receiving.config.change(prefix("10.0.0.7/24"), std::nullopt);
  const auto payload = pattern(60000, 3);
  REQUIRE(sender.send(ip("10.0.0.7"), payload));
  REQUIRE(sender.arp.sent.size() == 41);
  // Delivered out of order: last first.
  receiving.eth.receive(sender.arp.sent.back().payload);
  for (std::size_t i = 0; i + 1 < sender.arp.sent.size(); ++i) receiving.eth.receive(sender.arp.sent[i].payload);
  REQUIRE(got.got.size() == 1);
  CHECK(same(got.got[0].payload, payload));
  CHECK(got.got[0].info.source == ip("10.0.0.2"));
  CHECK(receiving.ipv4().counters().rx_fragments == 41);
  CHECK(receiving.ipv4().counters().rx_reassembled == 1);
  CHECK(receiving.ipv4().counters().rx_datagrams == 1);
}

TEST_CASE("RFC 791 3.1: a payload above 65515 bytes, or above the MTU with DF, is refused", "[ipv4]") {
  fixture f;
  const auto payload = pattern(65516);
  copy_filler fill{payload};
  CHECK_FALSE(f.ipv4().transmit(ip("10.0.0.7"), 17, 65516, uk::frame_filler(fill)));
  CHECK_FALSE(f.ipv4().transmit(ip("10.0.0.7"), 17, 1481, uk::frame_filler(fill), {.dont_fragment = true}));
  CHECK(fill.calls == 0);
  CHECK(f.ipv4().counters().tx_dropped_too_big == 2);
  REQUIRE(f.ipv4().transmit(ip("10.0.0.7"), 17, 65515, uk::frame_filler(fill)));
  CHECK(f.arp.sent.size() == 45);
}

TEST_CASE("RFC 791 3.2: fragmentation stops at the first fragment refused below", "[ipv4]") {
  fixture f;
  f.arp.refuse_after = 2;
  CHECK_FALSE(f.send(ip("10.0.0.7"), pattern(5000)));
  CHECK(f.arp.sent.size() == 2);
  CHECK(f.ipv4().counters().tx_dropped_arp == 1);
  CHECK(f.ipv4().counters().tx_datagrams == 0);
}

TEST_CASE("A datagram for us reaches the protocol's handler with its info", "[ipv4]") {
  fixture f;
  receiver got;
  f.ipv4().set_receiver(17, uk::ipv4_handler(got));
  const auto payload = pattern(64);
  auto bytes = datagram(ip("10.0.0.1"), ip("10.0.0.2"), payload, 17, 57);
  bytes.resize(bytes.size() + 10, std::byte{0});  // trailing Ethernet padding is not payload
  f.eth.receive(bytes);
  REQUIRE(got.got.size() == 1);
  const auto& d = got.got[0];
  CHECK(d.info.source == ip("10.0.0.1"));
  CHECK(d.info.destination == ip("10.0.0.2"));
  CHECK(d.info.protocol == 17);
  CHECK(d.info.ttl == 57);
  CHECK(same(d.header, std::span(bytes).first(20)));
  CHECK(same(d.payload, payload));
  CHECK(f.ipv4().counters().rx_datagrams == 1);
  CHECK(f.clock.reads == 0);  // a whole datagram needs no time
}

TEST_CASE("RFC 1122 3.2.1.7: a host does not drop datagrams for a low TTL", "[ipv4]") {
  fixture f;
  receiver got;
  f.ipv4().set_receiver(17, uk::ipv4_handler(got));
  f.eth.receive(datagram(ip("10.0.0.1"), ip("10.0.0.2"), pattern(8), 17, 0));
  f.eth.receive(datagram(ip("10.0.0.1"), ip("10.0.0.2"), pattern(8), 17, 1));
  CHECK(got.got.size() == 2);
}

TEST_CASE("RFC 1122 3.2.1.2: a datagram whose header checksum fails is dropped (mirage-tcpip #217)", "[ipv4]") {
  fixture f;
  receiver got;
  f.ipv4().set_receiver(17, uk::ipv4_handler(got));
  auto bytes = datagram(ip("10.0.0.1"), ip("10.0.0.2"), pattern(8));
  bytes[8] = std::byte{63};  // TTL changed, checksum not updated
  f.eth.receive(bytes);
  CHECK(got.got.empty());
  CHECK(f.ipv4().counters().rx_dropped_bad_checksum == 1);
}

TEST_CASE("RFC 1122 3.2.1.1, RFC 791 3.1: malformed headers are dropped and counted", "[ipv4]") {
  fixture f;
  receiver got;
  f.ipv4().set_receiver(17, uk::ipv4_handler(got));
  auto good = datagram(ip("10.0.0.1"), ip("10.0.0.2"), pattern(40));
  f.eth.receive(std::span(good).first(19));  // truncated header
  f.eth.receive(std::span(good).first(50));  // truncated datagram
  auto v6 = good;
  v6[0] = std::byte{0x65};
  f.eth.receive(v6);  // version 6
  f.eth.receive({});
  CHECK(got.got.empty());
  CHECK(f.ipv4().counters().rx_dropped_bad_header == 4);
}

TEST_CASE("RFC 1122 3.2.1.3: datagrams from a broadcast, multicast or loopback source are dropped", "[ipv4]") {
  fixture f;
  receiver got;
  f.ipv4().set_receiver(17, uk::ipv4_handler(got));
  for (const char* source : {"255.255.255.255", "10.0.0.255", "224.0.0.1", "127.0.0.1", "240.0.0.1"})
    f.eth.receive(datagram(ip(source), ip("10.0.0.2"), pattern(8)));
  CHECK(got.got.empty());
  CHECK(f.ipv4().counters().rx_dropped_bad_source == 5);
  f.eth.receive(datagram(ip("0.0.0.0"), ip("255.255.255.255"), pattern(8)));  // a DHCP client's
  CHECK(got.got.size() == 1);
}

TEST_CASE("RFC 1122 3.3.6: our address and the broadcast addresses are accepted, nothing else", "[ipv4]") {
  fixture f;
  receiver got;
  f.ipv4().set_receiver(17, uk::ipv4_handler(got));
  for (const char* to : {"10.0.0.2", "255.255.255.255", "10.0.0.255"})
    f.eth.receive(datagram(ip("10.0.0.1"), ip(to), pattern(8)));
  CHECK(got.got.size() == 3);
  for (const char* to : {"10.0.0.3", "10.0.1.255", "224.0.0.1", "0.0.0.0", "10.0.0.0"})
    f.eth.receive(datagram(ip("10.0.0.1"), ip(to), pattern(8)));
  CHECK(got.got.size() == 3);
  CHECK(f.ipv4().counters().rx_dropped_not_for_us == 5);
}

TEST_CASE("RFC 2131 4.1: without an address only the limited broadcast is accepted", "[ipv4]") {
  fixture f;
  f.config.change(std::nullopt, std::nullopt);
  receiver got;
  f.ipv4().set_receiver(17, uk::ipv4_handler(got));
  f.eth.receive(datagram(ip("10.0.0.1"), ip("10.0.0.2"), pattern(8)));
  f.eth.receive(datagram(ip("10.0.0.1"), ip("10.0.0.255"), pattern(8)));
  f.eth.receive(datagram(ip("10.0.0.1"), ip("255.255.255.255"), pattern(8)));
  CHECK(got.got.size() == 1);
  CHECK(f.ipv4().counters().rx_dropped_not_for_us == 2);
}

TEST_CASE("RFC 1122 3.2.2.1: a protocol with no handler is dropped, counted, and reported up", "[ipv4]") {
  fixture f;
  receiver unknown;
  f.ipv4().set_unknown_protocol_receiver(uk::ipv4_handler(unknown));
  f.eth.receive(datagram(ip("10.0.0.1"), ip("10.0.0.2"), pattern(8), 99));
  CHECK(f.ipv4().counters().rx_dropped_no_handler == 1);
  CHECK(f.ipv4().counters().rx_datagrams == 0);
  REQUIRE(unknown.got.size() == 1);
  CHECK(unknown.got[0].info.protocol == 99);
}

TEST_CASE("Reassembly through the layer: delivery, drops, expiry and the timeout hook", "[ipv4]") {
  fixture sender;
  sender.config.change(prefix("10.0.0.1/24"), std::nullopt);
  fixture f;
  receiver got;
  f.ipv4().set_receiver(17, uk::ipv4_handler(got));
  const auto payload = pattern(3000, 9);
  REQUIRE(sender.send(ip("10.0.0.2"), payload));
  REQUIRE(sender.arp.sent.size() == 3);
  const auto& parts = sender.arp.sent;

  SECTION("delivered once, with the first fragment's header") {
    f.eth.receive(parts[2].payload);
    f.eth.receive(parts[0].payload);
    f.eth.receive(parts[0].payload);  // duplicate
    CHECK(got.got.empty());
    f.eth.receive(parts[1].payload);
    REQUIRE(got.got.size() == 1);
    CHECK(same(got.got[0].payload, payload));
    CHECK(same(got.got[0].header, std::span(parts[0].payload).first(20)));
    CHECK(got.got[0].info.source == ip("10.0.0.1"));
    CHECK(got.got[0].info.ttl == 64);
    const auto c = f.ipv4().counters();
    CHECK(c.rx_fragments == 4);
    CHECK(c.rx_reassembled == 1);
    CHECK(c.reassembly.duplicates == 1);
    CHECK(f.clock.reads == 4);  // once per fragment
  }
  SECTION("an overlapping fragment drops the datagram, counted") {
    f.eth.receive(parts[0].payload);
    auto overlap = parts[1].payload;
    uk::detail::store_be16(overlap.data() + 6, 0x2000 | (1472 / 8));  // MF, offset 1472
    uk::detail::store_be16(overlap.data() + 10, 0);
    uk::detail::store_be16(overlap.data() + 10, uk::wire::checksum::compute(std::span(overlap).first(20)));
    f.eth.receive(overlap);
    f.eth.receive(parts[1].payload);
    f.eth.receive(parts[2].payload);
    CHECK(got.got.empty());
    const auto c = f.ipv4().counters();
    CHECK(c.rx_dropped_reassembly == 1);
    CHECK(c.reassembly.dropped_overlap == 1);
  }
  SECTION("RFC 1122 3.3.2: an incomplete datagram expires in poll(), reported with its first header") {
    struct timeout_recorder {
      std::vector<uk::ipv4_datagram_info> infos;
      std::vector<std::vector<std::byte>> data;
      void operator()(const uk::ipv4_datagram_info& info, uk::frame leading) {
        infos.push_back(info);
        data.emplace_back(leading.begin(), leading.end());
      }
    } timeouts;
    f.ipv4().set_reassembly_timeout_handler(uk::direct::ipv4_reassembly_timeout_handler(timeouts));
    f.eth.receive(parts[0].payload);
    f.eth.receive(parts[2].payload);
    CHECK(f.ipv4().poll(f.clock.now) == f.clock.now + 30s);
    CHECK(f.ipv4().poll(f.clock.now + 30s) == uk::never);
    CHECK(f.ipv4().counters().reassembly.timed_out == 1);
    REQUIRE(timeouts.infos.size() == 1);
    CHECK(timeouts.infos[0].source == ip("10.0.0.1"));
    CHECK(timeouts.infos[0].protocol == 17);
    CHECK(same(timeouts.infos[0].header, std::span(parts[0].payload).first(20)));
    REQUIRE(timeouts.data[0].size() >= 8);
    CHECK(same(std::span(timeouts.data[0]).first(8), std::span(payload).first(8)));
    f.eth.receive(parts[1].payload);
    CHECK(got.got.empty());
  }
}

TEST_CASE("Fragments not for us never reach reassembly", "[ipv4]") {
  fixture sender;
  sender.config.change(prefix("10.0.0.1/24"), std::nullopt);
  fixture f;
  REQUIRE(sender.send(ip("10.0.0.9"), pattern(3000)));
  for (const auto& p : sender.arp.sent) f.eth.receive(p.payload);
  CHECK(f.ipv4().counters().rx_dropped_not_for_us == 3);
  CHECK(f.ipv4().counters().rx_fragments == 0);
  CHECK(f.ipv4().reassembly().in_progress() == 0);
}
