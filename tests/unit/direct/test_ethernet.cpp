// uk::direct::ethernet over uk::net::memory_link: our layer on end a, the
// test on end b acting as the other station with uk::wire::ethernet.
#include "uk/direct/ethernet.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "uk/net/memory_link.hpp"
#include "uk/wire/ethernet.hpp"

namespace {

namespace ethernet_wire = uk::wire::ethernet;
using uk::mac_address;
using eth_layer = uk::direct::ethernet<uk::net::memory_link::end>;

static_assert(uk::ethernet_layer<eth_layer>);

constexpr mac_address other_host{{0x02, 0x00, 0x00, 0x00, 0x00, 0x99}};
constexpr mac_address group{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};  // 224.0.0.1
constexpr std::uint16_t ipv4_type = ethernet_wire::ethertype::ipv4;
constexpr std::uint16_t arp_type = ethernet_wire::ethertype::arp;

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out(text.size());
  std::transform(text.begin(), text.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
  return out;
}

std::vector<std::byte> make_frame(const ethernet_wire::repr& header, std::string_view payload) {
  std::vector<std::byte> frame(header.header_length() + payload.size());
  const std::size_t at = ethernet_wire::emit(header, frame);
  const auto p = bytes_of(payload);
  std::copy(p.begin(), p.end(), frame.begin() + static_cast<std::ptrdiff_t>(at));
  return frame;
}

struct received {
  std::uint16_t type;
  mac_address source;
  std::vector<std::byte> payload;
};

/// Our layer on end a; the test plays the station on end b.
struct harness {
  uk::net::memory_link link;
  eth_layer eth{link.a()};
  std::vector<received> got;                    // what our handlers saw
  std::vector<std::vector<std::byte>> on_wire;  // what the station on b saw

  explicit harness(uk::net::memory_link_options options = {}) : link(options) {
    eth.set_receiver(ipv4_type, uk::ethernet_handler::bind<&harness::on_ipv4>(*this));
    eth.set_receiver(arp_type, uk::ethernet_handler::bind<&harness::on_arp>(*this));
    link.b().set_receiver(uk::frame_handler::bind<&harness::on_station>(*this));
  }

  mac_address our_mac() { return link.a().mac(); }
  mac_address station_mac() { return link.b().mac(); }

  void on_ipv4(mac_address src, uk::frame payload) { got.push_back({ipv4_type, src, {payload.begin(), payload.end()}}); }
  void on_arp(mac_address src, uk::frame payload) { got.push_back({arp_type, src, {payload.begin(), payload.end()}}); }
  void on_station(uk::frame f) { on_wire.emplace_back(f.begin(), f.end()); }

  /// The station sends `frame` to our end, and the link delivers it.
  void station_sends(const std::vector<std::byte>& frame) {
    auto copy = [&](std::span<std::byte> out) {
      std::copy(frame.begin(), frame.end(), out.begin());
      return frame.size();
    };
    REQUIRE(link.b().transmit(frame.size(), uk::frame_filler(copy)));
    link.deliver();
  }
};

std::uint64_t total_drops(const uk::direct::ethernet_counters& c) {
  return c.rx_dropped_truncated + c.rx_dropped_unsupported + c.rx_dropped_not_for_us + c.rx_dropped_multicast +
         c.rx_dropped_bad_source + c.rx_dropped_vlan + c.rx_dropped_unknown_ethertype;
}

}  // namespace

TEST_CASE("Ethernet: a frame to our MAC goes to the handler of its ethertype with the sender's MAC",
          "[direct][ethernet]") {
  harness h;
  h.station_sends(make_frame({h.our_mac(), h.station_mac(), ipv4_type, std::nullopt}, "an IPv4 datagram"));
  h.station_sends(make_frame({h.our_mac(), h.station_mac(), arp_type, std::nullopt}, "an ARP packet"));
  REQUIRE(h.got.size() == 2);
  CHECK(h.got[0].type == ipv4_type);
  CHECK(h.got[0].source == h.station_mac());
  CHECK(h.got[0].payload == bytes_of("an IPv4 datagram"));
  CHECK(h.got[1].type == arp_type);
  CHECK(h.got[1].payload == bytes_of("an ARP packet"));
  const auto& c = h.eth.counters();
  CHECK(c.rx_frames == 2);
  CHECK(c.rx_delivered == 2);
  CHECK(c.rx_bytes == 14 + 16 + 14 + 13);
  CHECK(total_drops(c) == 0);
}

TEST_CASE("IEEE 802.3 3.2.3: a broadcast frame is accepted", "[direct][ethernet]") {
  harness h;
  h.station_sends(make_frame({mac_address::broadcast(), h.station_mac(), arp_type, std::nullopt}, "who has?"));
  REQUIRE(h.got.size() == 1);
  CHECK(h.got[0].payload == bytes_of("who has?"));
  CHECK(h.eth.counters().rx_delivered == 1);
}

TEST_CASE("Ethernet: a frame to another station's MAC is dropped and counted as not for us", "[direct][ethernet]") {
  harness h;
  h.station_sends(make_frame({other_host, h.station_mac(), ipv4_type, std::nullopt}, "for someone else"));
  CHECK(h.got.empty());
  CHECK(h.eth.counters().rx_dropped_not_for_us == 1);
  CHECK(total_drops(h.eth.counters()) == 1);
}

TEST_CASE("IEEE 802.3 3.2.3: a frame to a group we did not join is dropped and counted", "[direct][ethernet]") {
  harness h;
  h.station_sends(make_frame({group, h.station_mac(), ipv4_type, std::nullopt}, "all hosts"));
  CHECK(h.got.empty());
  CHECK(h.eth.counters().rx_dropped_multicast == 1);
  CHECK(total_drops(h.eth.counters()) == 1);
}

TEST_CASE("IEEE 802.3 3.2.3: a frame whose source is a group address is dropped", "[direct][ethernet]") {
  harness h;
  h.station_sends(make_frame({h.our_mac(), group, ipv4_type, std::nullopt}, "forged"));
  h.station_sends(make_frame({h.our_mac(), mac_address::broadcast(), ipv4_type, std::nullopt}, "forged"));
  CHECK(h.got.empty());
  CHECK(h.eth.counters().rx_dropped_bad_source == 2);
}

TEST_CASE("IEEE 802.1Q: tagged frames are dropped and counted: we are not VLAN-aware", "[direct][ethernet]") {
  harness h;
  SECTION("a well-formed tag") {
    h.station_sends(make_frame({h.our_mac(), h.station_mac(), ipv4_type, ethernet_wire::vlan_tag{0, false, 42}},
                               "on VLAN 42"));
  }
  SECTION("a priority tag (VID 0) is a tag all the same") {
    h.station_sends(
        make_frame({h.our_mac(), h.station_mac(), ipv4_type, ethernet_wire::vlan_tag{5, false, 0}}, "prio"));
  }
  SECTION("the reserved VID 0xFFF, which the parser rejects, counts as VLAN") {
    auto frame = make_frame({h.our_mac(), h.station_mac(), ipv4_type, ethernet_wire::vlan_tag{0, false, 1}}, "x");
    frame[15] = std::byte{0xff};
    frame[14] = std::byte{0x0f};
    h.station_sends(frame);
  }
  SECTION("a tag cut short") {
    auto frame = make_frame({h.our_mac(), h.station_mac(), ipv4_type, ethernet_wire::vlan_tag{0, false, 1}}, "");
    frame.resize(16);
    h.station_sends(frame);
  }
  CHECK(h.got.empty());
  CHECK(h.eth.counters().rx_dropped_vlan == 1);
  CHECK(total_drops(h.eth.counters()) == 1);
}

TEST_CASE("Ethernet: a frame of an ethertype nobody registered is dropped and counted", "[direct][ethernet]") {
  harness h;
  h.station_sends(make_frame({h.our_mac(), h.station_mac(), ethernet_wire::ethertype::ipv6, std::nullopt}, "v6"));
  h.station_sends(make_frame({h.our_mac(), h.station_mac(), 0x88a8, std::nullopt}, "an 802.1ad S-tag"));
  CHECK(h.got.empty());
  CHECK(h.eth.counters().rx_dropped_unknown_ethertype == 2);
}

TEST_CASE("Ethernet: truncated frames and IEEE 802.3 length frames are dropped and counted", "[direct][ethernet]") {
  harness h;
  auto frame = make_frame({h.our_mac(), h.station_mac(), ipv4_type, std::nullopt}, "");
  frame.resize(13);
  h.station_sends(frame);
  auto llc = make_frame({h.our_mac(), h.station_mac(), ipv4_type, std::nullopt}, "LLC");
  llc[12] = std::byte{0x00};  // type 0x0003: IEEE 802.3 3.2.6 length field
  llc[13] = std::byte{0x03};
  h.station_sends(llc);
  CHECK(h.got.empty());
  CHECK(h.eth.counters().rx_dropped_truncated == 1);
  CHECK(h.eth.counters().rx_dropped_unsupported == 1);
  CHECK(h.eth.counters().rx_frames == 2);
}

TEST_CASE("IEEE 802.3 4.2.3.3: link padding stays in the payload for the upper layer", "[direct][ethernet]") {
  harness h;
  auto frame = make_frame({h.our_mac(), h.station_mac(), arp_type, std::nullopt}, "28 bytes of ARP............");
  frame.resize(ethernet_wire::min_frame_length);  // padded with zeros
  h.station_sends(frame);
  REQUIRE(h.got.size() == 1);
  CHECK(h.got[0].payload.size() == 46);
}

TEST_CASE("Ethernet: transmit writes the header and lets the upper layer write the payload in place",
          "[direct][ethernet]") {
  harness h;
  const auto payload = bytes_of("hello, station");
  std::size_t offered = 0;
  auto fill = [&](std::span<std::byte> out) {
    offered = out.size();
    std::copy(payload.begin(), payload.end(), out.begin());
    return payload.size();
  };
  REQUIRE(h.eth.transmit(h.station_mac(), ipv4_type, payload.size(), uk::frame_filler(fill)));
  h.link.deliver();
  CHECK(offered == payload.size());
  REQUIRE(h.on_wire.size() == 1);
  CHECK(h.on_wire[0] == make_frame({h.station_mac(), h.our_mac(), ipv4_type, std::nullopt}, "hello, station"));
  CHECK(h.eth.counters().tx_frames == 1);
  CHECK(h.eth.counters().tx_bytes == 14 + payload.size());
}

TEST_CASE("Ethernet: the payload may be shorter than the size asked for", "[direct][ethernet]") {
  harness h;
  auto fill = [](std::span<std::byte> out) {
    out[0] = std::byte{'x'};
    return std::size_t{1};
  };
  REQUIRE(h.eth.transmit(h.station_mac(), ipv4_type, 100, uk::frame_filler(fill)));
  h.link.deliver();
  REQUIRE(h.on_wire.size() == 1);
  CHECK(h.on_wire[0].size() == 15);
}

TEST_CASE("Ethernet: a filler that writes nothing sends nothing", "[direct][ethernet]") {
  harness h;
  auto fill = [](std::span<std::byte>) { return std::size_t{0}; };
  CHECK(h.eth.transmit(h.station_mac(), ipv4_type, 10, uk::frame_filler(fill)));
  h.link.deliver();
  CHECK(h.on_wire.empty());
  CHECK(h.eth.counters().tx_frames == 0);
}

TEST_CASE("smoltcp #949: a transmit the device refuses (queue full) returns false and is counted",
          "[direct][ethernet]") {
  uk::net::memory_link_options options;
  options.transmit_queue_limit = 2;
  harness h(options);
  auto fill = [](std::span<std::byte> out) {
    std::fill(out.begin(), out.end(), std::byte{1});
    return out.size();
  };
  CHECK(h.eth.transmit(h.station_mac(), ipv4_type, 20, uk::frame_filler(fill)));
  CHECK(h.eth.transmit(h.station_mac(), ipv4_type, 20, uk::frame_filler(fill)));
  CHECK_FALSE(h.eth.transmit(h.station_mac(), ipv4_type, 20, uk::frame_filler(fill)));
  CHECK(h.eth.counters().tx_dropped_refused == 1);
  CHECK(h.eth.counters().tx_frames == 2);
  h.link.deliver();
  CHECK(h.on_wire.size() == 2);
  CHECK(h.eth.transmit(h.station_mac(), ipv4_type, 20, uk::frame_filler(fill)));
}

TEST_CASE("IEEE 802.3 3.2.7: a payload over the MTU is refused and counted", "[direct][ethernet]") {
  harness h;
  bool called = false;
  auto fill = [&](std::span<std::byte> out) {
    called = true;
    return out.size();
  };
  CHECK(h.eth.mtu() == 1500);
  CHECK(h.eth.transmit(h.station_mac(), ipv4_type, 1500, uk::frame_filler(fill)));
  CHECK_FALSE(h.eth.transmit(h.station_mac(), ipv4_type, 1501, uk::frame_filler(fill)));
  CHECK(h.eth.counters().tx_dropped_oversize == 1);
  CHECK(h.eth.counters().tx_frames == 1);
}

TEST_CASE("Ethernet: handlers are replaced, removed, and up to max_receivers types coexist", "[direct][ethernet]") {
  harness h;
  std::vector<std::uint16_t> seen;
  struct tagger {
    std::vector<std::uint16_t>* seen;
    std::uint16_t type;
    void operator()(mac_address, uk::frame) { seen->push_back(type); }
  };
  tagger t1{&seen, 0x1111}, t2{&seen, 0x2222}, replacement{&seen, 0x0800};
  h.eth.set_receiver(0x1111, uk::ethernet_handler(t1));
  h.eth.set_receiver(0x2222, uk::ethernet_handler(t2));
  h.eth.set_receiver(ipv4_type, uk::ethernet_handler(replacement));  // replaces the harness's
  h.eth.set_receiver(arp_type, uk::ethernet_handler());              // removes the harness's
  for (std::uint16_t type : {std::uint16_t{0x1111}, std::uint16_t{0x2222}, ipv4_type, arp_type})
    h.station_sends(make_frame({h.our_mac(), h.station_mac(), type, std::nullopt}, "x"));
  CHECK(seen == std::vector<std::uint16_t>{0x1111, 0x2222, 0x0800});
  CHECK(h.got.empty());
  CHECK(h.eth.counters().rx_dropped_unknown_ethertype == 1);
  // The slot freed by the removal takes a new type.
  h.eth.set_receiver(0x3333, uk::ethernet_handler(t1));
  h.station_sends(make_frame({h.our_mac(), h.station_mac(), 0x3333, std::nullopt}, "x"));
  CHECK(seen.size() == 4);
}

TEST_CASE("Ethernet: mac() and mtu() are the netif's", "[direct][ethernet]") {
  uk::net::memory_link_options options;
  options.mtu = 9000;
  harness h(options);
  CHECK(h.eth.mac() == h.link.a().mac());
  CHECK(h.eth.mtu() == 9000);
}
