// Tests of uk/wire/udp.hpp against RFC 768 and Linux kernel captures.
#include <uk/wire/udp.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/pcap_file.hpp"

namespace udp = uk::wire::udp;
using uk::ipv4_address;
using uk::wire::error;

namespace {

std::vector<std::byte> to_bytes(std::string_view text) {
  std::vector<std::byte> out;
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::string to_string(std::span<const std::byte> bytes) {
  std::string out;
  for (std::byte b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// The UDP datagram of a captured frame and its IPv4 addresses. The frames are
// Ethernet II (14 bytes) + IPv4 without options (20 bytes); the pseudo-header
// addresses and the IP total length are read by hand here, so this test does
// not depend on ethernet.hpp or ipv4.hpp.
struct captured_datagram {
  ipv4_address source;
  ipv4_address destination;
  std::vector<std::byte> bytes;  // the IPv4 payload
};

std::uint32_t be32(const std::byte* p) { return uk::detail::load_be32(p); }

captured_datagram datagram_of(const uk::test::pcap_packet& packet) {
  constexpr std::size_t ethernet = 14, ipv4 = 20;
  REQUIRE(packet.data.size() >= ethernet + ipv4);
  const std::byte* ip = packet.data.data() + ethernet;
  REQUIRE(std::to_integer<int>(ip[0]) == 0x45);  // version 4, IHL 5
  REQUIRE(std::to_integer<int>(ip[9]) == udp::ip_protocol);
  const std::size_t total = uk::detail::load_be16(ip + 2);
  REQUIRE(ethernet + total <= packet.data.size());
  return {{be32(ip + 12)}, {be32(ip + 16)}, {ip + ipv4, ip + total}};
}

const uk::test::pcap_file& capture() {
  static const uk::test::pcap_file file =
      uk::test::read_pcap(std::string(UK_TEST_DATA_DIR) + "/kernel_udp_tcp.pcap");
  return file;
}

const ipv4_address client = ipv4_address::from_octets(192, 0, 2, 1);
const ipv4_address server = ipv4_address::from_octets(198, 51, 100, 2);

// A valid datagram emitted by udp::emit.
std::vector<std::byte> make_datagram(std::uint16_t sport, std::uint16_t dport, std::string_view payload,
                                     ipv4_address src = client, ipv4_address dst = server) {
  std::vector<std::byte> out(udp::header_length);
  const auto body = to_bytes(payload);
  out.insert(out.end(), body.begin(), body.end());
  udp::emit({sport, dport, payload.size()}, out, src, dst);
  return out;
}

}  // namespace

TEST_CASE("RFC 768: a kernel datagram parses to its ports, length, checksum and data", "[udp][capture]") {
  const auto& file = capture();
  REQUIRE(file.linktype == 1);
  REQUIRE(file.packets.size() >= 4);

  struct expected {
    std::size_t frame;  // 1-based, as tshark numbers them
    ipv4_address src, dst;
    std::uint16_t sport, dport, length, checksum;
    std::string_view data;
  };
  const expected cases[] = {
      {1, client, server, 40000, 7777, 21, 0x10a8, "hello uk udp\n"},
      {2, server, client, 7777, 40000, 21, 0x10a8, "hello uk udp\n"},
      {3, client, server, 40000, 7777, 12, 0xc270, "uk!!"},
      {4, server, client, 7777, 40000, 12, 0xc270, "uk!!"},
  };
  for (const auto& c : cases) {
    INFO("frame " << c.frame);
    const auto d = datagram_of(file.packets[c.frame - 1]);
    CHECK(d.source == c.src);
    CHECK(d.destination == c.dst);
    const auto v = udp::parse(d.bytes, d.source, d.destination);
    REQUIRE(v);
    CHECK(v->source_port() == c.sport);
    CHECK(v->destination_port() == c.dport);
    CHECK(v->length() == c.length);
    CHECK(v->checksum() == c.checksum);
    CHECK(v->has_checksum());
    CHECK(v->header().size() == 8);
    CHECK(to_string(v->payload()) == c.data);
    CHECK(udp::repr::from(*v) == udp::repr{c.sport, c.dport, c.data.size()});
  }
}

TEST_CASE("RFC 768: emit reproduces the kernel's header and checksum byte for byte", "[udp][capture]") {
  for (std::size_t frame = 0; frame < 4; ++frame) {
    INFO("frame " << frame + 1);
    const auto d = datagram_of(capture().packets[frame]);
    const auto v = udp::parse(d.bytes, d.source, d.destination);
    REQUIRE(v);
    auto out = d.bytes;
    std::fill(out.begin(), out.begin() + 8, std::byte{0xaa});
    CHECK(udp::emit(udp::repr::from(*v), out, d.source, d.destination) == 8);
    CHECK(out == d.bytes);
  }
}

TEST_CASE("RFC 768: the checksum covers the pseudo-header addresses", "[udp][capture][checksum]") {
  const auto d = datagram_of(capture().packets[0]);
  REQUIRE(udp::parse(d.bytes, d.source, d.destination));
  // Swapping source and destination keeps the one's-complement sum: it verifies.
  CHECK(udp::parse(d.bytes, d.destination, d.source));
  const ipv4_address other = ipv4_address::from_octets(192, 0, 2, 9);
  CHECK(udp::parse(d.bytes, other, d.destination).error() == error::bad_checksum);
  CHECK(udp::parse(d.bytes, d.source, other).error() == error::bad_checksum);
  // The pseudo-header length is the UDP length (RFC 768), computed by hand:
  // sum of 192.0.2.1, 198.51.100.2, 17, 21 and the datagram with its checksum verifies.
  std::uint64_t sum = 0xc000 + 0x0201 + 0xc633 + 0x6402 + 17 + 21;
  CHECK(uk::wire::checksum::verifies(d.bytes, sum));
  CHECK(udp::pseudo_header_sum(d.source, d.destination, 21) == sum);
}

TEST_CASE("RFC 768: a changed bit anywhere in ports or data fails the checksum", "[udp][checksum]") {
  const auto good = make_datagram(1234, 53, "checksummed payload, odd length");
  REQUIRE(udp::parse(good, client, server));
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    if (byte >= 4 && byte < 8) continue;  // length and checksum fields: tested separately
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = good;
      bad[byte] ^= static_cast<std::byte>(1 << bit);
      INFO("byte " << byte << " bit " << bit);
      CHECK(udp::parse(bad, client, server).error() == error::bad_checksum);
    }
  }
  auto bad = good;
  bad[7] ^= std::byte{0x01};  // the checksum field itself
  CHECK(udp::parse(bad, client, server).error() == error::bad_checksum);
}

TEST_CASE("RFC 768: an all-zero checksum means none was computed and is accepted", "[udp][checksum]") {
  auto d = make_datagram(1000, 2000, "no checksum");
  d[6] = d[7] = std::byte{0};
  const auto v = udp::parse(d, client, server);
  REQUIRE(v);
  CHECK_FALSE(v->has_checksum());
  CHECK(v->checksum() == 0);
  CHECK(to_string(v->payload()) == "no checksum");
  // Even with addresses that would not verify.
  CHECK(udp::parse(d, ipv4_address{1}, ipv4_address{2}));
}

TEST_CASE("RFC 768: a computed checksum of zero is transmitted as all ones", "[udp][checksum]") {
  // With a 2-byte payload word w, checksum = ~(S + w) where ~S is the
  // checksum for w = 0. Choosing w = ~S makes the sum 0xffff: checksum 0.
  std::vector<std::byte> d(10, std::byte{0});
  udp::emit({4321, 9, 2}, d, client, server);
  const std::uint16_t for_zero = uk::detail::load_be16(d.data() + 6);
  REQUIRE(for_zero != 0xffff);
  uk::detail::store_be16(d.data() + 8, for_zero);
  udp::emit({4321, 9, 2}, d, client, server);
  CHECK(uk::detail::load_be16(d.data() + 6) == 0xffff);
  const auto v = udp::parse(d, client, server);
  REQUIRE(v);
  CHECK(v->checksum() == 0xffff);
  CHECK(v->has_checksum());
}

TEST_CASE("RFC 768: a datagram truncated at any byte is rejected", "[udp][malformed]") {
  const auto good = make_datagram(5000, 6000, "truncate me");
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("first " << n << " bytes");
    const std::span<const std::byte> cut(good.data(), n);
    // Below 8 bytes the header is cut; from 8 on, Length says more than the buffer holds.
    CHECK(udp::parse(cut, client, server).error() == error::truncated);
  }
  CHECK(udp::parse(good, client, server));
}

TEST_CASE("RFC 768: Length below the 8-octet header is a bad length", "[udp][malformed]") {
  auto d = make_datagram(5000, 6000, "payload");
  for (std::uint16_t length = 0; length < 8; ++length) {
    INFO("Length " << length);
    uk::detail::store_be16(d.data() + 4, length);
    CHECK(udp::parse(d, client, server).error() == error::bad_length);
  }
}

TEST_CASE("RFC 768: Length beyond the buffer is rejected as truncated", "[udp][malformed]") {
  auto d = make_datagram(5000, 6000, "payload");
  for (std::size_t length : {d.size() + 1, d.size() + 100, std::size_t{0xffff}}) {
    INFO("Length " << length);
    uk::detail::store_be16(d.data() + 4, static_cast<std::uint16_t>(length));
    CHECK(udp::parse(d, client, server).error() == error::truncated);
  }
}

TEST_CASE("RFC 768: bytes after Length (link padding) are not part of the datagram", "[udp]") {
  auto d = make_datagram(67, 68, "dhcp-ish");
  const std::size_t length = d.size();
  d.resize(length + 17, std::byte{0x5a});  // e.g. Ethernet minimum-frame padding
  const auto v = udp::parse(d, client, server);
  REQUIRE(v);
  CHECK(v->bytes().size() == length);
  CHECK(v->length() == length);
  CHECK(to_string(v->payload()) == "dhcp-ish");
}

TEST_CASE("RFC 768: an empty datagram is exactly the header", "[udp]") {
  const auto d = make_datagram(1, 2, "");
  REQUIRE(d.size() == 8);
  const auto v = udp::parse(d, client, server);
  REQUIRE(v);
  CHECK(v->length() == 8);
  CHECK(v->payload().empty());
}

TEST_CASE("RFC 768: parse(emit(x)) == x for 1000 random datagrams", "[udp][roundtrip]") {
  std::mt19937 rng(768);
  std::uniform_int_distribution<unsigned> u16(0, 0xffff);
  std::uniform_int_distribution<unsigned> u8(0, 0xff);
  std::uniform_int_distribution<std::size_t> size(0, 300);
  std::uniform_int_distribution<std::uint32_t> u32;
  for (int i = 0; i < 1000; ++i) {
    const udp::repr r{static_cast<std::uint16_t>(u16(rng)), static_cast<std::uint16_t>(u16(rng)), size(rng)};
    const ipv4_address src{u32(rng)}, dst{u32(rng)};
    const std::size_t slack = size(rng) % 4;  // a larger buffer than the datagram
    std::vector<std::byte> buffer(r.length() + slack);
    for (std::size_t j = 8; j < buffer.size(); ++j) buffer[j] = static_cast<std::byte>(u8(rng));
    const auto payload = std::vector<std::byte>(buffer.begin() + 8, buffer.begin() + 8 + r.payload_length);
    REQUIRE(udp::emit(r, buffer, src, dst) == 8);
    const auto v = udp::parse(buffer, src, dst);
    REQUIRE(v);
    CHECK(v->checksum() != 0);  // RFC 768: emit never sends "no checksum"
    CHECK(udp::repr::from(*v) == r);
    CHECK(std::equal(payload.begin(), payload.end(), v->payload().begin(), v->payload().end()));
  }
}

TEST_CASE("RFC 768: the view's accessors read the fixed header layout", "[udp]") {
  const std::array<std::byte, 10> raw{std::byte{0x12}, std::byte{0x34}, std::byte{0xab}, std::byte{0xcd},
                                      std::byte{0x00}, std::byte{0x0a}, std::byte{0x00}, std::byte{0x00},
                                      std::byte{'h'},  std::byte{'i'}};
  const auto v = udp::view::unchecked(raw);
  CHECK(v.source_port() == 0x1234);
  CHECK(v.destination_port() == 0xabcd);
  CHECK(v.length() == 10);
  CHECK(v.checksum() == 0);
  CHECK(to_string(v.payload()) == "hi");
}
