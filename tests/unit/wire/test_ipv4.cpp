// Tests of uk/wire/ipv4.hpp: the IPv4 header (RFC 791 3.1), the router
// validity checks (RFC 1812 5.2.2), the host rules (RFC 1122 3.2.1) and the
// incremental TTL rewrite (RFC 1624).
#include "uk/wire/ipv4.hpp"

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

namespace ipv4 = uk::wire::ipv4;
using uk::ipv4_address;
using uk::wire::error;

namespace {

using uk::test::bytes_of;

ipv4_address addr(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return ipv4_address::from_octets(a, b, c, d);
}

// A frequently quoted sample header (192.168.0.1 -> 192.168.0.199, UDP,
// DF, TTL 64, total length 115, checksum 0xb861), followed by 95 data bytes.
std::vector<std::byte> sample_datagram() {
  auto d = bytes_of({0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                     0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7});
  for (int i = 0; i < 95; ++i) d.push_back(static_cast<std::byte>(i));
  return d;
}

// Recomputes the header checksum of a hand-edited header, so that a test
// reaches the check after the checksum. Covers IHL * 4 bytes (at least 20).
void refresh_checksum(std::vector<std::byte>& d) {
  const std::size_t ihl = std::max<std::size_t>(
      std::size_t{std::to_integer<std::uint8_t>(d[0]) & 0x0fu} * 4, 20);
  d[10] = d[11] = std::byte{0};
  const std::uint16_t c = uk::wire::checksum::compute(std::span(d).first(std::min(ihl, d.size())));
  d[10] = static_cast<std::byte>(c >> 8);
  d[11] = static_cast<std::byte>(c);
}

void set_u16(std::vector<std::byte>& d, std::size_t at, std::uint16_t v) {
  d[at] = static_cast<std::byte>(v >> 8);
  d[at + 1] = static_cast<std::byte>(v);
}

uk::test::pcap_file capture(const char* name) {
  return uk::test::read_pcap(std::string(UK_TEST_DATA_DIR) + "/" + name);
}

// The IPv4 datagram in an Ethernet II frame: skip the 14-byte Ethernet header.
std::span<const std::byte> ip_in_frame(const uk::test::pcap_packet& frame) {
  REQUIRE(frame.data.size() > 14);
  return std::span<const std::byte>(frame.data).subspan(14);
}

bool is_ipv4_frame(const uk::test::pcap_packet& frame) {
  return frame.data.size() > 14 && frame.data[12] == std::byte{0x08} &&
         frame.data[13] == std::byte{0x00};
}

}  // namespace

// parse and emit are usable in constant expressions.
constexpr std::array<std::byte, 20> constexpr_header = [] {
  ipv4::repr r;
  r.src = ipv4_address::from_octets(192, 0, 2, 1);
  r.dst = ipv4_address::from_octets(192, 0, 2, 2);
  r.protocol = ipv4::protocol_number::tcp;
  r.dont_fragment = true;
  std::array<std::byte, 20> out{};
  ipv4::emit(r, out);
  return out;
}();
constexpr auto constexpr_parsed = ipv4::parse(constexpr_header);
static_assert(constexpr_parsed.has_value());
static_assert(constexpr_parsed->protocol() == ipv4::protocol_number::tcp);
static_assert(constexpr_parsed->dont_fragment());
constexpr auto constexpr_truncated = ipv4::parse(std::span(constexpr_header).first(19));
static_assert(constexpr_truncated.error() == error::truncated);

TEST_CASE("RFC 791 3.1: every header field of a datagram is read", "[wire][ipv4]") {
  const auto d = sample_datagram();
  const auto v = ipv4::parse(d);
  REQUIRE(v);
  CHECK(v->version() == 4);
  CHECK(v->header_length() == 20);
  CHECK(v->dscp() == 0);
  CHECK(v->ecn() == 0);
  CHECK(v->total_length() == 115);
  CHECK(v->identification() == 0);
  CHECK(v->dont_fragment());
  CHECK_FALSE(v->more_fragments());
  CHECK(v->fragment_offset() == 0);
  CHECK_FALSE(v->is_fragment());
  CHECK(v->ttl() == 64);
  CHECK(v->protocol() == ipv4::protocol_number::udp);
  CHECK(v->header_checksum() == 0xb861);
  CHECK(v->src() == addr(192, 168, 0, 1));
  CHECK(v->dst() == addr(192, 168, 0, 199));
  CHECK(v->options().empty());
  CHECK(v->header().size() == 20);
  CHECK(v->header().data() == d.data());
  CHECK(v->payload().size() == 95);
  CHECK(v->payload().data() == d.data() + 20);
  CHECK(v->datagram().size() == 115);
  CHECK(v->payload_is_complete());
}

TEST_CASE("RFC 2474 3 and RFC 3168 5: the former TOS octet is DSCP and ECN", "[wire][ipv4]") {
  auto d = sample_datagram();
  d[1] = std::byte{0xb9};  // DSCP 46 (EF), ECN 01 (ECT(1))
  refresh_checksum(d);
  const auto v = ipv4::parse(d);
  REQUIRE(v);
  CHECK(v->dscp() == 46);
  CHECK(v->ecn() == 1);
}

TEST_CASE("RFC 791 3.1: the fragment offset counts 8-octet units; MF or an offset is a fragment",
          "[wire][ipv4]") {
  auto d = sample_datagram();
  set_u16(d, 6, 0x2000 | 185);  // MF, offset 185 * 8 = 1480
  refresh_checksum(d);
  auto v = ipv4::parse(d);
  REQUIRE(v);
  CHECK(v->more_fragments());
  CHECK_FALSE(v->dont_fragment());
  CHECK(v->fragment_offset() == 1480);
  CHECK(v->is_fragment());

  set_u16(d, 6, 0x1fff);  // last fragment at the largest offset: 8191 * 8
  refresh_checksum(d);
  v = ipv4::parse(d);
  REQUIRE(v);
  CHECK_FALSE(v->more_fragments());
  CHECK(v->fragment_offset() == 65528);
  CHECK(v->is_fragment());

  set_u16(d, 6, 0x2000);  // first fragment: MF, offset 0
  refresh_checksum(d);
  v = ipv4::parse(d);
  REQUIRE(v);
  CHECK(v->fragment_offset() == 0);
  CHECK(v->is_fragment());
}

TEST_CASE("RFC 791 3.1: parse(emit(x)) == x on randomized headers", "[wire][ipv4]") {
  std::mt19937 rng(791);
  auto u = [&](std::uint32_t lo, std::uint32_t hi) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
  };
  std::vector<std::byte> buffer;
  for (int i = 0; i < 1000; ++i) {
    ipv4::repr x;
    x.src = ipv4_address{static_cast<std::uint32_t>(rng())};
    x.dst = ipv4_address{static_cast<std::uint32_t>(rng())};
    x.protocol = static_cast<std::uint8_t>(u(0, 255));
    x.ttl = static_cast<std::uint8_t>(u(0, 255));
    x.dscp = static_cast<std::uint8_t>(u(0, 63));
    x.ecn = static_cast<std::uint8_t>(u(0, 3));
    x.identification = static_cast<std::uint16_t>(u(0, 0xffff));
    x.dont_fragment = u(0, 1) != 0;
    x.more_fragments = u(0, 1) != 0;
    x.fragment_offset = static_cast<std::uint16_t>(u(0, 8191) * 8);
    x.payload_length = static_cast<std::uint16_t>(i % 10 == 0 ? u(0, 65535 - 20) : u(0, 1500));
    const std::size_t padding = u(0, 46);  // trailing link-layer padding is not part of the view
    buffer.assign(x.total_length() + padding, std::byte{0});
    for (std::size_t k = 20; k < buffer.size(); ++k) buffer[k] = static_cast<std::byte>(rng());

    REQUIRE(ipv4::emit(x, buffer) == 20);
    const auto v = ipv4::parse(buffer);
    INFO("iteration " << i);
    REQUIRE(v);
    CHECK(ipv4::repr::from(*v) == x);
    CHECK(v->payload().size() == x.payload_length);
    CHECK(v->payload().data() == buffer.data() + 20);
    CHECK(v->is_fragment() == x.is_fragment());
    CHECK(uk::wire::checksum::verifies(v->header()));
  }
}

TEST_CASE("RFC 791 3.1: emit writes IHL 5 and the header checksum", "[wire][ipv4]") {
  ipv4::repr x;
  x.src = addr(192, 168, 0, 1);
  x.dst = addr(192, 168, 0, 199);
  x.protocol = ipv4::protocol_number::udp;
  x.ttl = 64;
  x.dont_fragment = true;
  x.payload_length = 95;
  std::vector<std::byte> out(20);
  REQUIRE(ipv4::emit(x, out) == 20);
  const auto expected = sample_datagram();
  CHECK(std::equal(out.begin(), out.end(), expected.begin()));
}

TEST_CASE("RFC 1812 5.2.2 item 1: a datagram truncated at any byte is rejected", "[wire][ipv4]") {
  // IHL 6 (4 option bytes), 12 data bytes: 36 bytes in all.
  auto d = bytes_of({0x46, 0x00, 0x00, 0x24, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00,
                     10, 0, 0, 1, 10, 0, 0, 2, 0x01, 0x01, 0x01, 0x00});
  for (int i = 0; i < 12; ++i) d.push_back(static_cast<std::byte>(0xa0 + i));
  refresh_checksum(d);
  REQUIRE(ipv4::parse(d));
  for (std::size_t n = 0; n < d.size(); ++n) {
    INFO("first " << n << " bytes");
    const auto v = ipv4::parse(std::span(d).first(n));
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::truncated);
  }
}

TEST_CASE("RFC 1122 3.2.1.1: a version other than 4 is rejected", "[wire][ipv4]") {
  for (int version : {0, 1, 5, 6, 15}) {
    auto d = sample_datagram();
    d[0] = static_cast<std::byte>((version << 4) | 5);
    refresh_checksum(d);
    INFO("version " << version);
    const auto v = ipv4::parse(d);
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::bad_version);
  }
}

TEST_CASE("RFC 791 3.1 and RFC 1812 5.2.2 item 4: IHL below 5 is a bad length", "[wire][ipv4]") {
  for (int ihl = 0; ihl < 5; ++ihl) {
    auto d = sample_datagram();
    d[0] = static_cast<std::byte>(0x40 | ihl);
    refresh_checksum(d);
    INFO("IHL " << ihl);
    const auto v = ipv4::parse(d);
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::bad_length);
  }
}

TEST_CASE("RFC 791 3.1: an IHL that reaches beyond the buffer is truncated", "[wire][ipv4]") {
  auto d = sample_datagram();
  d.resize(40);
  set_u16(d, 2, 40);
  d[0] = std::byte{0x4f};  // 60-byte header in a 40-byte buffer
  refresh_checksum(d);
  const auto v = ipv4::parse(d);
  REQUIRE_FALSE(v);
  CHECK(v.error() == error::truncated);
}

TEST_CASE("RFC 1812 5.2.2 item 5: a total length shorter than the header is a bad length",
          "[wire][ipv4]") {
  SECTION("shorter than 20") {
    for (std::uint16_t total : {0, 1, 19}) {
      auto d = sample_datagram();
      set_u16(d, 2, total);
      refresh_checksum(d);
      INFO("total length " << total);
      const auto v = ipv4::parse(d);
      REQUIRE_FALSE(v);
      CHECK(v.error() == error::bad_length);
    }
  }
  SECTION("shorter than IHL * 4 with options") {
    auto d = sample_datagram();
    d[0] = std::byte{0x48};  // 32-byte header
    set_u16(d, 2, 28);
    refresh_checksum(d);
    const auto v = ipv4::parse(d);
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::bad_length);
  }
}

TEST_CASE("RFC 791 3.1: a total length beyond the buffer is truncated", "[wire][ipv4]") {
  auto d = sample_datagram();
  set_u16(d, 2, static_cast<std::uint16_t>(d.size() + 1));
  refresh_checksum(d);
  const auto v = ipv4::parse(d);
  REQUIRE_FALSE(v);
  CHECK(v.error() == error::truncated);
}

TEST_CASE("RFC 791 3.1: bytes after the total length (Ethernet padding) are not payload",
          "[wire][ipv4]") {
  // A 28-byte datagram in the 46-byte minimum Ethernet payload (IEEE 802.3 3.2.7).
  auto d = sample_datagram();
  d.resize(46);
  set_u16(d, 2, 28);
  refresh_checksum(d);
  const auto v = ipv4::parse(d);
  REQUIRE(v);
  CHECK(v->total_length() == 28);
  CHECK(v->datagram().size() == 28);
  CHECK(v->payload().size() == 8);
}

TEST_CASE("RFC 1122 3.2.1.2: a header whose checksum does not verify is rejected",
          "[wire][ipv4]") {
  const auto good = sample_datagram();
  SECTION("any single bit flipped in the checksum-covered fields") {
    // Bytes whose flip would fail an earlier check (version/IHL, total length) are skipped.
    for (std::size_t at : {1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}) {
      for (int bit = 0; bit < 8; ++bit) {
        auto d = good;
        d[at] ^= static_cast<std::byte>(1 << bit);
        INFO("byte " << at << " bit " << bit);
        const auto v = ipv4::parse(d);
        REQUIRE_FALSE(v);
        CHECK(v.error() == error::bad_checksum);
      }
    }
  }
  SECTION("the checksum covers the options") {
    auto d = bytes_of({0x46, 0x00, 0x00, 0x18, 0, 0, 0, 0, 64, 17, 0, 0,
                       10, 0, 0, 1, 10, 0, 0, 2, 0x01, 0x01, 0x01, 0x00});
    refresh_checksum(d);
    REQUIRE(ipv4::parse(d));
    d[22] = std::byte{0x07};
    const auto v = ipv4::parse(d);
    REQUIRE_FALSE(v);
    CHECK(v.error() == error::bad_checksum);
  }
  SECTION("checksum_check::skip trusts a device that verified it (receive offload)") {
    auto d = good;
    d[10] = std::byte{0};
    d[11] = std::byte{0};
    CHECK(ipv4::parse(d).error() == error::bad_checksum);
    const auto v = ipv4::parse(d, ipv4::checksum_check::skip);
    REQUIRE(v);
    CHECK(v->header_checksum() == 0);
  }
}

TEST_CASE("RFC 791 3.1: the reserved flag bit must be zero", "[wire][ipv4]") {
  auto d = sample_datagram();
  set_u16(d, 6, 0x8000 | 0x4000);
  refresh_checksum(d);
  const auto v = ipv4::parse(d);
  REQUIRE_FALSE(v);
  CHECK(v.error() == error::malformed);
}

TEST_CASE("RFC 791 3.1: options up to 40 bytes are exposed, not interpreted", "[wire][ipv4]") {
  for (int ihl = 5; ihl <= 15; ++ihl) {
    const std::size_t header_length = static_cast<std::size_t>(ihl) * 4;
    std::vector<std::byte> d(header_length + 3);
    d[0] = static_cast<std::byte>(0x40 | ihl);
    set_u16(d, 2, static_cast<std::uint16_t>(d.size()));
    d[8] = std::byte{1};
    // Option bytes that are not even well-formed options: they are skipped, not read.
    for (std::size_t k = 20; k < header_length; ++k) d[k] = static_cast<std::byte>(0x80 + k);
    refresh_checksum(d);
    INFO("IHL " << ihl);
    const auto v = ipv4::parse(d);
    REQUIRE(v);
    CHECK(v->header_length() == header_length);
    CHECK(v->options().size() == header_length - 20);
    CHECK(v->options().size() <= ipv4::max_options_length);
    CHECK(v->options().data() == d.data() + 20);
    CHECK(v->payload().size() == 3);
    CHECK(v->payload().data() == d.data() + header_length);
    // repr carries no options: emit writes IHL 5 for the same payload length.
    const auto r = ipv4::repr::from(*v);
    CHECK(r.payload_length == 3);
    CHECK(r.header_length() == 20);
  }
}

TEST_CASE("RFC 792 and RFC 1812 4.3.2.3: a quoted header may announce more than is quoted",
          "[wire][ipv4]") {
  auto d = sample_datagram();  // total length 115
  const auto quote = std::span<const std::byte>(d).first(28);  // header + 64 bits of data
  CHECK(ipv4::parse(quote).error() == error::truncated);
  const auto v = ipv4::parse_quoted(quote);
  REQUIRE(v);
  CHECK(v->total_length() == 115);
  CHECK(v->payload().size() == 8);
  CHECK_FALSE(v->payload_is_complete());
  CHECK(v->src() == addr(192, 168, 0, 1));

  SECTION("a quote longer than the datagram is cut at the total length") {
    const auto w = ipv4::parse_quoted(d);
    REQUIRE(w);
    CHECK(w->payload().size() == 95);
    CHECK(w->payload_is_complete());
  }
  SECTION("the header itself must be complete") {
    for (std::size_t n = 0; n < 20; ++n) {
      CHECK(ipv4::parse_quoted(std::span<const std::byte>(d).first(n)).error() ==
            error::truncated);
    }
  }
  SECTION("header fields are still validated") {
    auto e = d;
    e[0] = std::byte{0x44};
    refresh_checksum(e);
    CHECK(ipv4::parse_quoted(std::span(e).first(28)).error() == error::bad_length);
    e = d;
    e[0] = std::byte{0x65};
    refresh_checksum(e);
    CHECK(ipv4::parse_quoted(std::span(e).first(28)).error() == error::bad_version);
    e = d;
    set_u16(e, 2, 12);
    refresh_checksum(e);
    CHECK(ipv4::parse_quoted(std::span(e).first(28)).error() == error::bad_length);
    e = d;
    e[15] ^= std::byte{1};
    CHECK(ipv4::parse_quoted(std::span(e).first(28)).error() == error::bad_checksum);
    CHECK(ipv4::parse_quoted(std::span(e).first(28), ipv4::checksum_check::skip));
    e = d;
    set_u16(e, 6, 0x8000);
    refresh_checksum(e);
    CHECK(ipv4::parse_quoted(std::span(e).first(28)).error() == error::malformed);
  }
}

TEST_CASE("RFC 1624 3: set_ttl updates the checksum incrementally", "[wire][ipv4]") {
  std::mt19937 rng(1624);
  std::vector<std::byte> header(20);
  for (int i = 0; i < 1000; ++i) {
    ipv4::repr x;
    x.src = ipv4_address{static_cast<std::uint32_t>(rng())};
    x.dst = ipv4_address{static_cast<std::uint32_t>(rng())};
    x.protocol = static_cast<std::uint8_t>(rng());
    x.ttl = static_cast<std::uint8_t>(rng());
    x.identification = static_cast<std::uint16_t>(rng());
    x.payload_length = static_cast<std::uint16_t>(rng() % 1480);
    ipv4::emit(x, header);
    const auto new_ttl = static_cast<std::uint8_t>(rng());
    ipv4::set_ttl(header, new_ttl);
    // The same bytes as a header emitted with the new TTL from scratch.
    std::vector<std::byte> fresh(20);
    x.ttl = new_ttl;
    ipv4::emit(x, fresh);
    INFO("iteration " << i);
    REQUIRE(header == fresh);
  }
}

TEST_CASE("RFC 1812 5.3.1: decrementing the TTL reproduces what a Linux router forwarded",
          "[wire][ipv4]") {
  // kernel_icmp_errors.pcap frame 1: a UDP probe sent with TTL 64; frame 2:
  // the port unreachable from the far host, which quotes the probe as it
  // arrived after one router hop: TTL 63, checksum 0x7142 -> 0x7242.
  const auto file = capture("kernel_icmp_errors.pcap");
  REQUIRE(file.packets.size() >= 2);
  const auto sent = ip_in_frame(file.packets[0]);
  std::vector<std::byte> header(sent.begin(), sent.begin() + 20);
  CHECK(ipv4::parse(sent)->header_checksum() == 0x7142);
  ipv4::set_ttl(header, 63);
  const auto quoted = ip_in_frame(file.packets[1]).subspan(20 + 8, 20);
  CHECK(std::equal(header.begin(), header.end(), quoted.begin()));
  CHECK(uk::detail::load_be16(header.data() + 10) == 0x7242);
}

TEST_CASE("RFC 791 3.1: every IPv4 packet the Linux kernel sent parses and verifies",
          "[wire][ipv4][kernel]") {
  int count = 0;
  for (const char* name : {"kernel_arp_icmp.pcap", "kernel_icmp_errors.pcap"}) {
    for (const auto& frame : capture(name).packets) {
      if (!is_ipv4_frame(frame)) continue;
      INFO(name << " frame of " << frame.data.size() << " bytes");
      const auto ip = ip_in_frame(frame);
      const auto v = ipv4::parse(ip);
      REQUIRE(v);
      CHECK(v->datagram().size() == ip.size());  // no padding in these frames
      CHECK(uk::wire::checksum::verifies(v->header()));
      ++count;
    }
  }
  CHECK(count == 20);
}

TEST_CASE("RFC 791 3.1: a kernel echo request has the fields tshark shows",
          "[wire][ipv4][kernel]") {
  // kernel_arp_icmp.pcap frame 5: ping 192.0.2.1 -> 192.0.2.2, DF, id 0x5824.
  const auto file = capture("kernel_arp_icmp.pcap");
  REQUIRE(file.packets.size() == 14);
  const auto v = ipv4::parse(ip_in_frame(file.packets[4]));
  REQUIRE(v);
  CHECK(v->header_length() == 20);
  CHECK(v->dscp() == 0);
  CHECK(v->ecn() == 0);
  CHECK(v->total_length() == 84);
  CHECK(v->identification() == 0x5824);
  CHECK(v->dont_fragment());
  CHECK_FALSE(v->more_fragments());
  CHECK(v->fragment_offset() == 0);
  CHECK(v->ttl() == 64);
  CHECK(v->protocol() == ipv4::protocol_number::icmp);
  CHECK(v->header_checksum() == 0x5e81);
  CHECK(v->src() == addr(192, 0, 2, 1));
  CHECK(v->dst() == addr(192, 0, 2, 2));
  CHECK(v->payload().size() == 64);

  SECTION("emit of its repr reproduces the kernel's header byte for byte") {
    std::vector<std::byte> out(20);
    ipv4::emit(ipv4::repr::from(*v), out);
    CHECK(std::equal(out.begin(), out.end(), v->header().begin()));
  }
  SECTION("the echo reply (frame 6) does not set DF") {
    const auto r = ipv4::parse(ip_in_frame(file.packets[5]));
    REQUIRE(r);
    CHECK(r->identification() == 0x1fbe);
    CHECK_FALSE(r->dont_fragment());
    CHECK(r->header_checksum() == 0xd6e7);
    CHECK(r->src() == addr(192, 0, 2, 2));
    CHECK(r->dst() == addr(192, 0, 2, 1));
  }
  SECTION("ping -M do -s 1400 (frame 13): DF with identification 0 (RFC 6864 4.1)") {
    const auto r = ipv4::parse(ip_in_frame(file.packets[12]));
    REQUIRE(r);
    CHECK(r->total_length() == 1428);
    CHECK(r->identification() == 0);
    CHECK(r->dont_fragment());
    CHECK_FALSE(r->is_fragment());
    CHECK(r->header_checksum() == 0xb165);
  }
}

TEST_CASE("RFC 791 3.2: the kernel's fragments of ping -s 3000 carry id, MF and offsets",
          "[wire][ipv4][kernel]") {
  // kernel_arp_icmp.pcap frames 7-9: 3008 bytes of ICMP in 1480 + 1480 + 48.
  const auto file = capture("kernel_arp_icmp.pcap");
  REQUIRE(file.packets.size() == 14);
  struct expected {
    std::size_t frame;
    bool more_fragments;
    std::uint16_t offset;
    std::uint16_t total_length;
    std::uint16_t checksum;
  };
  for (const expected e :
       {expected{7, true, 0, 1500, 0x78f8}, expected{8, true, 1480, 1500, 0x783f},
        expected{9, false, 2960, 68, 0x9d1e}}) {
    INFO("frame " << e.frame);
    const auto v = ipv4::parse(ip_in_frame(file.packets[e.frame - 1]));
    REQUIRE(v);
    CHECK(v->identification() == 0x5825);
    CHECK_FALSE(v->dont_fragment());
    CHECK(v->more_fragments() == e.more_fragments);
    CHECK(v->fragment_offset() == e.offset);
    CHECK(v->is_fragment());
    CHECK(v->total_length() == e.total_length);
    CHECK(v->header_checksum() == e.checksum);
    CHECK(v->protocol() == ipv4::protocol_number::icmp);
    CHECK(v->src() == addr(192, 0, 2, 1));
    CHECK(v->dst() == addr(192, 0, 2, 2));
    // RFC 791 3.2: every fragment but the last carries a multiple of 8 octets.
    if (e.more_fragments) CHECK(v->payload().size() % 8 == 0);
  }
}

TEST_CASE("RFC 791 3.1: kernel headers with options and a lone first fragment",
          "[wire][ipv4][kernel]") {
  const auto file = capture("kernel_icmp_errors.pcap");
  REQUIRE(file.packets.size() == 10);
  SECTION("frame 9: UDP with NOP, NOP, timestamp (IHL 9)") {
    const auto v = ipv4::parse(ip_in_frame(file.packets[8]));
    REQUIRE(v);
    CHECK(v->header_length() == 36);
    CHECK(v->total_length() == 60);
    CHECK(v->identification() == 0xde43);
    CHECK(v->dont_fragment());
    CHECK(v->ttl() == 64);
    CHECK(v->protocol() == ipv4::protocol_number::udp);
    CHECK(v->header_checksum() == 0x46f1);
    CHECK(v->src() == addr(192, 0, 2, 1));
    CHECK(v->dst() == addr(198, 51, 100, 2));
    const auto expected_options = bytes_of({0x01, 0x01, 0x44, 0x0c, 0x09, 0x00, 0x03, 0xc8,
                                            0xd3, 0x6f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
    CHECK(std::equal(v->options().begin(), v->options().end(), expected_options.begin(),
                     expected_options.end()));
    CHECK(v->payload().size() == 24);  // UDP header + "uk options probe"
  }
  SECTION("frame 7: a first fragment (MF, offset 0)") {
    const auto v = ipv4::parse(ip_in_frame(file.packets[6]));
    REQUIRE(v);
    CHECK(v->identification() == 0x7531);
    CHECK(v->more_fragments());
    CHECK(v->fragment_offset() == 0);
    CHECK(v->is_fragment());
    CHECK(v->total_length() == 52);
    CHECK(v->dst() == addr(192, 0, 2, 254));
  }
  SECTION("frame 3: TTL 1") {
    const auto v = ipv4::parse(ip_in_frame(file.packets[2]));
    REQUIRE(v);
    CHECK(v->ttl() == 1);
    CHECK(v->identification() == 0xdd82);
    CHECK(v->header_checksum() == 0xb00b);
  }
}
