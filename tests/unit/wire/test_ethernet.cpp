// Tests of uk/wire/ethernet.hpp: the Ethernet II header (IEEE 802.3 3.1.1,
// 3.2.6; RFC 894) and one IEEE 802.1Q tag (802.1Q-2018 9.5, 9.6).
#include "uk/wire/ethernet.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "support/bytes.hpp"
#include "support/pcap_file.hpp"

namespace ethernet = uk::wire::ethernet;
using uk::mac_address;
using uk::wire::error;

namespace {

using uk::test::bytes_of;

constexpr mac_address host_a{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};  // veth-a in the capture
constexpr mac_address host_b{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};  // veth-b in the capture

// A tagged frame: dst host_b, src host_a, VLAN 100 PCP 5, IPv4, 4 payload bytes.
std::vector<std::byte> tagged_frame() {
  return bytes_of({0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
                   0x81, 0x00, 0xa0, 0x64, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef});
}

uk::test::pcap_file link_capture() {
  return uk::test::read_pcap(std::string(UK_TEST_DATA_DIR) + "/kernel_arp_icmp.pcap");
}

ethernet::repr random_repr(std::mt19937& rng) {
  ethernet::repr r;
  for (auto& o : r.dst.octets) o = static_cast<std::uint8_t>(rng());
  for (auto& o : r.src.octets) o = static_cast<std::uint8_t>(rng());
  do {
    r.ethertype = static_cast<std::uint16_t>(ethernet::min_ethertype + rng() % (0x10000 - ethernet::min_ethertype));
  } while (r.ethertype == ethernet::ethertype::vlan);
  if (rng() % 2) {
    r.vlan = ethernet::vlan_tag{static_cast<std::uint8_t>(rng() % 8), rng() % 2 == 1,
                                static_cast<std::uint16_t>(rng() % ethernet::vlan_tag::reserved_vid)};
  }
  return r;
}

}  // namespace

TEST_CASE("IEEE 802.3 3.1.1: a captured kernel ARP request's header fields are read",
          "[wire][ethernet]") {
  const auto capture = link_capture();
  REQUIRE(capture.linktype == 1);
  REQUIRE(capture.packets.size() == 14);
  // Frame 1: arping's broadcast request from 02:00:00:00:00:01, 42 bytes (no padding on a veth).
  const auto& frame = capture.packets[0].data;
  REQUIRE(frame.size() == 42);
  const auto v = ethernet::parse(frame);
  REQUIRE(v);
  CHECK(v->dst() == mac_address::broadcast());
  CHECK(v->src() == host_a);
  CHECK(v->ethertype() == ethernet::ethertype::arp);
  CHECK_FALSE(v->tagged());
  CHECK_FALSE(v->vlan());
  CHECK(v->vlan_id() == 0);
  CHECK(v->header_length() == 14);
  CHECK(v->header().size() == 14);
  CHECK(v->payload().size() == 28);
  CHECK(v->payload().data() == frame.data() + 14);
  CHECK(v->frame().size() == 42);
}

TEST_CASE("RFC 894: every captured kernel frame parses to the expected addresses and type",
          "[wire][ethernet]") {
  const auto capture = link_capture();
  REQUIRE(capture.packets.size() == 14);
  // tshark: frames 1-4 ARP (1, 3 broadcast requests from a; 2, 4 replies from
  // b to a), 5-14 IPv4 alternating directions in the pattern below.
  struct expected {
    mac_address dst, src;
    std::uint16_t type;
    std::size_t length;
  };
  const mac_address bcast = mac_address::broadcast();
  const std::array<expected, 14> table{{
      {bcast, host_a, 0x0806, 42},   {host_a, host_b, 0x0806, 42},  {bcast, host_a, 0x0806, 42},
      {host_a, host_b, 0x0806, 42},  {host_b, host_a, 0x0800, 98},  {host_a, host_b, 0x0800, 98},
      {host_b, host_a, 0x0800, 1514}, {host_b, host_a, 0x0800, 1514}, {host_b, host_a, 0x0800, 82},
      {host_a, host_b, 0x0800, 1514}, {host_a, host_b, 0x0800, 1514}, {host_a, host_b, 0x0800, 82},
      {host_b, host_a, 0x0800, 1442}, {host_a, host_b, 0x0800, 1442},
  }};
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO("frame " << i + 1);
    const auto& frame = capture.packets[i].data;
    REQUIRE(frame.size() == table[i].length);
    const auto v = ethernet::parse(frame);
    REQUIRE(v);
    CHECK(v->dst() == table[i].dst);
    CHECK(v->src() == table[i].src);
    CHECK(v->ethertype() == table[i].type);
    CHECK(v->payload().size() == table[i].length - 14);
    // Re-emitting the header reproduces the captured bytes.
    std::array<std::byte, 18> out{};
    const auto r = ethernet::repr::from(*v);
    REQUIRE(ethernet::emit(r, out) == 14);
    CHECK(std::equal(out.begin(), out.begin() + 14, frame.begin()));
  }
}

TEST_CASE("IEEE 802.1Q-2018 9.5, 9.6: one VLAN tag is stepped over and its TCI exposed",
          "[wire][ethernet]") {
  const auto frame = tagged_frame();
  const auto v = ethernet::parse(frame);
  REQUIRE(v);
  CHECK(v->dst() == host_b);
  CHECK(v->src() == host_a);
  CHECK(v->tagged());
  CHECK(v->ethertype() == ethernet::ethertype::ipv4);
  REQUIRE(v->vlan());
  // TCI 0xa064: PCP 0b101 = 5, DEI 0, VID 0x064 = 100.
  CHECK(v->vlan()->pcp == 5);
  CHECK_FALSE(v->vlan()->dei);
  CHECK(v->vlan()->vid == 100);
  CHECK(v->vlan_id() == 100);
  CHECK(v->vlan_pcp() == 5);
  CHECK(v->header_length() == 18);
  REQUIRE(v->payload().size() == 4);
  CHECK(v->payload()[0] == std::byte{0xde});

  SECTION("the DEI bit and the priority-tag VID 0 (802.1Q table 9-2)") {
    auto f = frame;
    f[14] = std::byte{0x10};  // PCP 0, DEI 1, VID 0x000
    f[15] = std::byte{0x00};
    const auto w = ethernet::parse(f);
    REQUIRE(w);
    CHECK(w->vlan() == ethernet::vlan_tag{0, true, 0});
    CHECK(w->vlan_id() == 0);
  }
  SECTION("VID 0xFFF is reserved and never transmitted: malformed") {
    auto f = frame;
    f[14] = std::byte{0x0f};
    f[15] = std::byte{0xff};
    const auto w = ethernet::parse(f);
    REQUIRE_FALSE(w);
    CHECK(w.error() == error::malformed);
  }
  SECTION("a second 0x8100 tag (stacked VLANs) is unsupported") {
    auto f = frame;
    f[16] = std::byte{0x81};
    f[17] = std::byte{0x00};
    const auto w = ethernet::parse(f);
    REQUIRE_FALSE(w);
    CHECK(w.error() == error::unsupported);
  }
  SECTION("an IEEE 802.3 length inside the tag is unsupported") {
    auto f = frame;
    f[16] = std::byte{0x05};
    f[17] = std::byte{0xdc};  // 1500
    const auto w = ethernet::parse(f);
    REQUIRE_FALSE(w);
    CHECK(w.error() == error::unsupported);
  }
  SECTION("the tag is emitted back byte for byte") {
    std::array<std::byte, 18> out{};
    REQUIRE(ethernet::emit(ethernet::repr::from(*v), out) == 18);
    CHECK(std::equal(out.begin(), out.end(), frame.begin()));
  }
}

TEST_CASE("IEEE 802.3 3.2.6: a type below 0x0600 is an 802.3 length: unsupported", "[wire][ethernet]") {
  auto frame = tagged_frame();
  for (std::uint16_t type : {0x0000, 0x002e, 0x05dc, 0x05ff}) {
    frame[12] = static_cast<std::byte>(type >> 8);
    frame[13] = static_cast<std::byte>(type);
    const auto v = ethernet::parse(frame);
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::unsupported);
  }
  // 0x0600 is the first type value (IEEE 802.3 3.2.6).
  frame[12] = std::byte{0x06};
  frame[13] = std::byte{0x00};
  const auto v = ethernet::parse(frame);
  REQUIRE(v);
  CHECK(v->ethertype() == 0x0600);
  CHECK(v->payload().size() == frame.size() - 14);
}

TEST_CASE("IEEE 802.3 3.1.1: a frame cut at every byte before its header ends is truncated",
          "[wire][ethernet]") {
  const auto capture = link_capture();
  const auto& untagged = capture.packets[4].data;  // an IPv4 frame
  for (std::size_t n = 0; n < 14; ++n) {
    INFO("untagged, length " << n);
    const auto v = ethernet::parse(std::span(untagged).first(n));
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::truncated);
  }
  // The header alone is a frame with an empty payload.
  const auto bare = ethernet::parse(std::span(untagged).first(14));
  REQUIRE(bare);
  CHECK(bare->payload().empty());

  const auto tagged = tagged_frame();
  for (std::size_t n = 0; n < 18; ++n) {
    INFO("tagged, length " << n);
    const auto v = ethernet::parse(std::span(tagged).first(n));
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::truncated);
  }
  const auto tagged_bare = ethernet::parse(std::span(tagged).first(18));
  REQUIRE(tagged_bare);
  CHECK(tagged_bare->payload().empty());
}

TEST_CASE("Ethernet: parse(emit(x)) == x for random headers, tagged and untagged",
          "[wire][ethernet]") {
  std::mt19937 rng(894);
  std::array<std::byte, 64> buffer{};
  for (int i = 0; i < 1000; ++i) {
    const auto r = random_repr(rng);
    const std::size_t payload = rng() % 40;
    const std::size_t n = ethernet::emit(r, buffer);
    REQUIRE(n == r.header_length());
    const auto v = ethernet::parse(std::span(buffer).first(n + payload));
    REQUIRE(v);
    REQUIRE(ethernet::repr::from(*v) == r);
    REQUIRE(v->header_length() == n);
    REQUIRE(v->payload().size() == payload);
    REQUIRE(v->payload().data() == buffer.data() + n);
  }
}

TEST_CASE("Ethernet: parse and emit work in constant expressions", "[wire][ethernet]") {
  constexpr auto round_trip = [] {
    std::array<std::byte, 18> buf{};
    ethernet::repr r{host_b, host_a, ethernet::ethertype::arp, ethernet::vlan_tag{3, false, 42}};
    ethernet::emit(r, buf);
    const auto v = ethernet::parse(buf);
    return v && ethernet::repr::from(*v) == r && v->vlan_id() == 42;
  };
  static_assert(round_trip());
  SUCCEED();
}
