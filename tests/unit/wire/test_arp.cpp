// Tests of uk/wire/arp.hpp: ARP for Ethernet and IPv4 (RFC 826).
#include "uk/wire/arp.hpp"

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

#include "support/pcap_file.hpp"

namespace arp = uk::wire::arp;
using uk::ipv4_address;
using uk::mac_address;
using uk::wire::error;

namespace {

constexpr mac_address host_a{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};  // veth-a, 192.0.2.1
constexpr mac_address host_b{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};  // veth-b, 192.0.2.2
constexpr ipv4_address ip_a = ipv4_address::from_octets(192, 0, 2, 1);
constexpr ipv4_address ip_b = ipv4_address::from_octets(192, 0, 2, 2);

uk::test::pcap_file link_capture() {
  return uk::test::read_pcap(std::string(UK_TEST_DATA_DIR) + "/kernel_arp_icmp.pcap");
}

// The ARP packet in a captured frame: after the 14-byte Ethernet header.
std::vector<std::byte> arp_in_frame(const uk::test::pcap_packet& frame) {
  REQUIRE(frame.data.size() >= 14 + arp::packet_length);
  return {frame.data.begin() + 14, frame.data.end()};
}

arp::repr random_repr(std::mt19937& rng) {
  arp::repr r;
  r.operation = rng() % 2 ? arp::operation::request : arp::operation::reply;
  for (auto& o : r.sender_mac.octets) o = static_cast<std::uint8_t>(rng());
  for (auto& o : r.target_mac.octets) o = static_cast<std::uint8_t>(rng());
  r.sender_ip = ipv4_address{static_cast<std::uint32_t>(rng())};
  r.target_ip = ipv4_address{static_cast<std::uint32_t>(rng())};
  return r;
}

void set_u16(std::vector<std::byte>& d, std::size_t at, std::uint16_t v) {
  d[at] = static_cast<std::byte>(v >> 8);
  d[at + 1] = static_cast<std::byte>(v);
}

}  // namespace

TEST_CASE("RFC 826: the kernel's captured ARP requests and replies parse to their fields",
          "[wire][arp]") {
  const auto capture = link_capture();
  REQUIRE(capture.packets.size() >= 4);

  SECTION("frame 1: arping's request, 'who has 192.0.2.2? tell 192.0.2.1', target MAC broadcast") {
    const auto packet = arp_in_frame(capture.packets[0]);
    const auto v = arp::parse(packet);
    REQUIRE(v);
    CHECK(v->hardware_type() == arp::hardware_type_ethernet);
    CHECK(v->protocol_type() == arp::protocol_type_ipv4);
    CHECK(v->hardware_address_length() == 6);
    CHECK(v->protocol_address_length() == 4);
    CHECK(v->operation() == arp::operation::request);
    CHECK(v->sender_mac() == host_a);
    CHECK(v->sender_ip() == ip_a);
    CHECK(v->target_mac() == mac_address::broadcast());
    CHECK(v->target_ip() == ip_b);
    CHECK(v->packet().size() == 28);
  }
  SECTION("frame 2: the kernel's reply '192.0.2.2 is at 02:00:00:00:00:02'") {
    const auto packet = arp_in_frame(capture.packets[1]);
    const auto v = arp::parse(packet);
    REQUIRE(v);
    CHECK(v->operation() == arp::operation::reply);
    CHECK(v->sender_mac() == host_b);
    CHECK(v->sender_ip() == ip_b);
    CHECK(v->target_mac() == host_a);
    CHECK(v->target_ip() == ip_a);
    // RFC 826 "Packet Reception": the reply is the request with the fields
    // swapped and the owner's hardware address as sender.
    const auto asked = arp::repr::from(*arp::parse(arp_in_frame(capture.packets[0])));
    CHECK(arp::repr::reply_to(asked, host_b) == arp::repr::from(*v));
  }
  SECTION("frame 3: the kernel's own request leaves the target MAC zero") {
    const auto packet = arp_in_frame(capture.packets[2]);
    const auto v = arp::parse(packet);
    REQUIRE(v);
    CHECK(v->operation() == arp::operation::request);
    CHECK(v->sender_mac() == host_a);
    CHECK(v->sender_ip() == ip_a);
    CHECK(v->target_mac() == mac_address{});
    CHECK(v->target_ip() == ip_b);
    CHECK(arp::repr::from(*v) == arp::repr::request(host_a, ip_a, ip_b));
  }
  SECTION("every captured ARP packet is re-emitted byte for byte") {
    for (std::size_t i = 0; i < 4; ++i) {
      const auto packet = arp_in_frame(capture.packets[i]);
      const auto v = arp::parse(packet);
      REQUIRE(v);
      std::array<std::byte, 28> out{};
      REQUIRE(arp::emit(arp::repr::from(*v), out) == 28);
      CHECK(std::equal(out.begin(), out.end(), packet.begin()));
    }
  }
}

TEST_CASE("RFC 826: a packet cut at every byte before its 28th is truncated", "[wire][arp]") {
  const auto packet = arp_in_frame(link_capture().packets[1]);
  REQUIRE(packet.size() == 28);
  for (std::size_t n = 0; n < 28; ++n) {
    INFO("length " << n);
    const auto v = arp::parse(std::span(packet).first(n));
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::truncated);
  }
}

TEST_CASE("RFC 826: trailing Ethernet padding after the 28 bytes is not part of the packet",
          "[wire][arp]") {
  auto packet = arp_in_frame(link_capture().packets[0]);
  packet.resize(46, std::byte{0});  // padded to a 60-byte frame
  const auto v = arp::parse(packet);
  REQUIRE(v);
  CHECK(v->packet().size() == 28);
  CHECK(v->target_ip() == ip_b);
}

TEST_CASE("RFC 826 Packet Reception: other hardware, protocols and address lengths are unsupported",
          "[wire][arp]") {
  const auto good = arp_in_frame(link_capture().packets[0]);
  auto expect_unsupported = [](const std::vector<std::byte>& p) {
    const auto v = arp::parse(p);
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::unsupported);
  };
  SECTION("ar$hrd other than Ethernet (1): 6 IEEE 802, 32 InfiniBand") {
    for (std::uint16_t hrd : {0, 6, 32, 0x0100}) {
      auto p = good;
      set_u16(p, 0, hrd);
      expect_unsupported(p);
    }
  }
  SECTION("ar$pro other than IPv4 (0x0800): IPv6, ARP, 0x0008 (byte-swapped)") {
    for (std::uint16_t pro : {0x86dd, 0x0806, 0x0008, 0}) {
      auto p = good;
      set_u16(p, 2, pro);
      expect_unsupported(p);
    }
  }
  SECTION("ar$hln other than 6") {
    for (int hln : {0, 5, 7, 8, 20, 255}) {
      auto p = good;
      p[4] = static_cast<std::byte>(hln);
      expect_unsupported(p);
    }
  }
  SECTION("ar$pln other than 4") {
    for (int pln : {0, 3, 5, 16, 255}) {
      auto p = good;
      p[5] = static_cast<std::byte>(pln);
      expect_unsupported(p);
    }
  }
  SECTION("ar$op other than request or reply: 0, RARP 3 and 4 (RFC 903), InARP 8 and 9 (RFC 2390)") {
    for (std::uint16_t op : {0, 3, 4, 8, 9, 0x0100, 0xffff}) {
      auto p = good;
      set_u16(p, 6, op);
      expect_unsupported(p);
    }
  }
  SECTION("the fixed part decides before the length: a foreign 8-byte header is unsupported") {
    auto p = good;
    set_u16(p, 0, 6);
    p.resize(8);
    expect_unsupported(p);
  }
}

TEST_CASE("ARP: parse(emit(x)) == x for random packets", "[wire][arp]") {
  std::mt19937 rng(826);
  std::array<std::byte, 28> buffer{};
  for (int i = 0; i < 1000; ++i) {
    const auto r = random_repr(rng);
    REQUIRE(arp::emit(r, buffer) == r.header_length());
    const auto v = arp::parse(buffer);
    REQUIRE(v);
    REQUIRE(arp::repr::from(*v) == r);
  }
}

TEST_CASE("ARP: parse and emit work in constant expressions", "[wire][arp]") {
  constexpr auto round_trip = [] {
    std::array<std::byte, 28> buf{};
    const auto r = arp::repr::request(host_a, ip_a, ip_b);
    arp::emit(r, buf);
    const auto v = arp::parse(buf);
    return v && arp::repr::from(*v) == r && v->operation() == arp::operation::request;
  };
  static_assert(round_trip());
  SUCCEED();
}
