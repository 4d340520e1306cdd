// Tests of uk/wire/icmpv4.hpp: ICMP messages (RFC 792), the host rules of
// RFC 1122 3.2.2, the next-hop MTU (RFC 1191 4) and the quoted datagram of
// error messages (RFC 792, RFC 1812 4.3.2.3).
#include "uk/wire/icmpv4.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "support/pcap_file.hpp"

namespace icmpv4 = uk::wire::icmpv4;
namespace ipv4 = uk::wire::ipv4;
using uk::wire::error;

namespace {

std::vector<std::byte> icmp_bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

uk::ipv4_address icmp_addr(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return uk::ipv4_address::from_octets(a, b, c, d);
}

uk::test::pcap_file icmp_capture(const char* name) {
  return uk::test::read_pcap(std::string(UK_TEST_DATA_DIR) + "/" + name);
}

// The ICMP message of an unfragmented IPv4 datagram in an Ethernet II frame.
std::span<const std::byte> icmp_in_frame(const uk::test::pcap_packet& frame) {
  REQUIRE(frame.data.size() > 14);
  const auto ip = ipv4::parse(std::span<const std::byte>(frame.data).subspan(14));
  REQUIRE(ip);
  REQUIRE(ip->protocol() == ipv4::protocol_number::icmp);
  REQUIRE_FALSE(ip->is_fragment());
  return ip->payload();
}

std::uint16_t icmp_load16(std::span<const std::byte> b, std::size_t at) {
  return uk::detail::load_be16(b.data() + at);
}

// A destination unreachable (port) quoting `quote`, with a correct checksum.
std::vector<std::byte> port_unreachable_quoting(std::span<const std::byte> quote) {
  std::vector<std::byte> m(8 + quote.size());
  std::copy(quote.begin(), quote.end(), m.begin() + 8);
  icmpv4::emit({icmpv4::destination_unreachable{icmpv4::unreachable_code::port_unreachable}}, m);
  return m;
}

// A 20-byte IPv4 header (total length 100) plus 8 data bytes: what RFC 792 quotes.
std::vector<std::byte> quote_of_udp_datagram() {
  ipv4::repr ip;
  ip.src = icmp_addr(10, 0, 0, 1);
  ip.dst = icmp_addr(10, 0, 0, 2);
  ip.protocol = ipv4::protocol_number::udp;
  ip.payload_length = 80;
  std::vector<std::byte> q(28);
  ipv4::emit(ip, q);
  const auto udp = icmp_bytes_of({0x9c, 0x40, 0x82, 0x9a, 0x00, 0x50, 0x12, 0x34});
  std::copy(udp.begin(), udp.end(), q.begin() + 20);
  return q;
}

}  // namespace

// parse and emit are usable in constant expressions.
constexpr std::array<std::byte, 12> constexpr_echo = [] {
  std::array<std::byte, 12> m{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                              std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                              std::byte{'p'}, std::byte{'i'}, std::byte{'n'}, std::byte{'g'}};
  icmpv4::emit({icmpv4::echo_request{0x1234, 7}}, m);
  return m;
}();
constexpr auto constexpr_parsed_echo = icmpv4::parse(constexpr_echo);
static_assert(constexpr_parsed_echo.has_value());
static_assert(constexpr_parsed_echo->sequence_number() == 7);
static_assert(icmpv4::repr::from(*constexpr_parsed_echo) ==
              icmpv4::repr{icmpv4::echo_request{0x1234, 7}});

TEST_CASE("RFC 792 echo: a kernel echo request and its reply", "[wire][icmpv4][kernel]") {
  // kernel_arp_icmp.pcap frames 5 and 6: ping -p 75, id 0x1333, seq 1.
  const auto file = icmp_capture("kernel_arp_icmp.pcap");
  REQUIRE(file.packets.size() == 14);
  const auto request_bytes = icmp_in_frame(file.packets[4]);
  const auto request = icmpv4::parse(request_bytes);
  REQUIRE(request);
  CHECK(request->type() == icmpv4::message_type::echo_request);
  CHECK(request->code() == 0);
  CHECK(request->checksum() == 0xc2e0);
  CHECK(request->is_echo());
  CHECK_FALSE(request->quotes_datagram());
  CHECK(request->identifier() == 0x1333);
  CHECK(request->sequence_number() == 1);
  REQUIRE(request->echo_data().size() == 56);
  // ping's data: a 16-byte timeval, then the -p pattern.
  CHECK(std::all_of(request->echo_data().begin() + 16, request->echo_data().end(),
                    [](std::byte b) { return b == std::byte{0x75}; }));
  CHECK(icmpv4::repr::from(*request) == icmpv4::repr{icmpv4::echo_request{0x1333, 1}});

  const auto reply = icmpv4::parse(icmp_in_frame(file.packets[5]));
  REQUIRE(reply);
  CHECK(reply->type() == icmpv4::message_type::echo_reply);
  CHECK(reply->checksum() == 0xcae0);
  CHECK(reply->identifier() == 0x1333);
  CHECK(reply->sequence_number() == 1);
  // RFC 1122 3.2.2.6: the data received in the request MUST be returned in the reply.
  CHECK(std::equal(reply->echo_data().begin(), reply->echo_data().end(),
                   request->echo_data().begin(), request->echo_data().end()));

  SECTION("emit reproduces the kernel's request byte for byte") {
    std::vector<std::byte> out(request_bytes.size());
    std::copy(request->echo_data().begin(), request->echo_data().end(), out.begin() + 8);
    CHECK(icmpv4::emit(icmpv4::repr::from(*request), out) == 8);
    CHECK(std::equal(out.begin(), out.end(), request_bytes.begin(), request_bytes.end()));
  }
  SECTION("an echo reply built from the request has the kernel's checksum") {
    std::vector<std::byte> out(request_bytes.begin(), request_bytes.end());
    icmpv4::emit({icmpv4::echo_reply{request->identifier(), request->sequence_number()}}, out);
    CHECK(icmp_load16(out, 2) == 0xcae0);
  }
}

TEST_CASE("RFC 792: the checksum covers the whole message, so a fragment alone fails",
          "[wire][icmpv4][kernel]") {
  // kernel_arp_icmp.pcap frames 7-9: ping -s 3000 in three fragments,
  // reassembled here by offset (RFC 791 3.2) into one 3008-byte message.
  const auto file = icmp_capture("kernel_arp_icmp.pcap");
  REQUIRE(file.packets.size() == 14);
  std::vector<std::byte> message(3008);
  for (std::size_t frame : {7, 8, 9}) {
    const auto ip =
        ipv4::parse(std::span<const std::byte>(file.packets[frame - 1].data).subspan(14));
    REQUIRE(ip);
    REQUIRE(ip->fragment_offset() + ip->payload().size() <= message.size());
    std::copy(ip->payload().begin(), ip->payload().end(), message.begin() + ip->fragment_offset());
    if (frame == 7) CHECK(icmpv4::parse(ip->payload()).error() == error::bad_checksum);
  }
  const auto v = icmpv4::parse(message);
  REQUIRE(v);
  CHECK(v->type() == icmpv4::message_type::echo_request);
  CHECK(v->checksum() == 0x263a);
  CHECK(v->identifier() == 0x1334);
  CHECK(v->sequence_number() == 1);
  CHECK(v->echo_data().size() == 3000);
}

TEST_CASE("RFC 792 destination unreachable: a kernel port unreachable quotes the probe",
          "[wire][icmpv4][kernel]") {
  // kernel_icmp_errors.pcap frame 2: 198.51.100.2 answers a UDP probe from
  // 192.0.2.1:40000 to the closed port 33434, one router hop away.
  const auto file = icmp_capture("kernel_icmp_errors.pcap");
  REQUIRE(file.packets.size() == 10);
  const auto v = icmpv4::parse(icmp_in_frame(file.packets[1]));
  REQUIRE(v);
  CHECK(v->type() == icmpv4::message_type::destination_unreachable);
  CHECK(v->code() == static_cast<std::uint8_t>(icmpv4::unreachable_code::port_unreachable));
  CHECK(v->checksum() == 0xba2d);
  CHECK(v->rest_of_header() == 0);
  CHECK(v->quotes_datagram());
  CHECK(icmpv4::repr::from(*v) ==
        icmpv4::repr{icmpv4::destination_unreachable{icmpv4::unreachable_code::port_unreachable}});
  // Linux quotes the whole 53-byte probe (RFC 1812 4.3.2.3: as much as fits in 576).
  CHECK(v->quoted().size() == 53);
  const auto q = v->quoted_datagram();
  REQUIRE(q);
  CHECK(q->src() == icmp_addr(192, 0, 2, 1));
  CHECK(q->dst() == icmp_addr(198, 51, 100, 2));
  CHECK(q->ttl() == 63);
  CHECK(q->identification() == 0xdd3e);
  CHECK(q->dont_fragment());
  CHECK(q->protocol() == ipv4::protocol_number::udp);
  CHECK(q->header_checksum() == 0x7242);
  CHECK(q->total_length() == 53);
  CHECK(q->payload_is_complete());
  // The first 8 data bytes are the UDP header: source and destination ports.
  REQUIRE(q->payload().size() >= 8);
  CHECK(icmp_load16(q->payload(), 0) == 40000);
  CHECK(icmp_load16(q->payload(), 2) == 33434);
}

TEST_CASE("RFC 792 time exceeded: code 0, TTL exceeded in transit, from a Linux router",
          "[wire][icmpv4][kernel]") {
  // kernel_icmp_errors.pcap frame 4: 192.0.2.254 drops a probe sent with TTL 1.
  const auto file = icmp_capture("kernel_icmp_errors.pcap");
  REQUIRE(file.packets.size() == 10);
  const auto ip = ipv4::parse(std::span<const std::byte>(file.packets[3].data).subspan(14));
  REQUIRE(ip);
  CHECK(ip->src() == icmp_addr(192, 0, 2, 254));
  CHECK(ip->dscp() == 48);  // Linux sends ICMP errors as CS6 (internetwork control)
  const auto v = icmpv4::parse(ip->payload());
  REQUIRE(v);
  CHECK(v->type() == icmpv4::message_type::time_exceeded);
  CHECK(v->code() == 0);
  CHECK(v->checksum() == 0xea20);
  CHECK(icmpv4::repr::from(*v) ==
        icmpv4::repr{icmpv4::time_exceeded{icmpv4::time_exceeded_code::ttl_exceeded_in_transit}});
  const auto q = v->quoted_datagram();
  REQUIRE(q);
  CHECK(q->ttl() == 1);
  CHECK(q->identification() == 0xdd82);
  CHECK(q->header_checksum() == 0xb00b);
  CHECK(q->total_length() == 40);
  CHECK(q->payload_is_complete());
  CHECK(icmp_load16(q->payload(), 0) == 40001);
  CHECK(icmp_load16(q->payload(), 2) == 33435);
}

TEST_CASE("RFC 792 time exceeded: code 1, fragment reassembly time exceeded",
          "[wire][icmpv4][kernel]") {
  // kernel_icmp_errors.pcap frame 8: the router gave up on frame 7, a first
  // fragment whose rest never came (its ipfrag_time is 1 s).
  const auto file = icmp_capture("kernel_icmp_errors.pcap");
  REQUIRE(file.packets.size() == 10);
  const auto v = icmpv4::parse(icmp_in_frame(file.packets[7]));
  REQUIRE(v);
  CHECK(v->type() == icmpv4::message_type::time_exceeded);
  CHECK(v->code() ==
        static_cast<std::uint8_t>(icmpv4::time_exceeded_code::fragment_reassembly_time_exceeded));
  CHECK(v->checksum() == 0x926a);
  const auto q = v->quoted_datagram();
  REQUIRE(q);
  CHECK(q->identification() == 0x7531);
  CHECK(q->more_fragments());
  CHECK(q->fragment_offset() == 0);
  CHECK(q->is_fragment());
  CHECK(q->dst() == icmp_addr(192, 0, 2, 254));
  CHECK(q->header_checksum() == 0x6088);
}

TEST_CASE("RFC 1191 4: fragmentation needed carries the next-hop MTU", "[wire][icmpv4][kernel]") {
  // kernel_icmp_errors.pcap frame 6: ping -M do -s 1400 meets a 1280-byte link.
  const auto file = icmp_capture("kernel_icmp_errors.pcap");
  REQUIRE(file.packets.size() == 10);
  const auto v = icmpv4::parse(icmp_in_frame(file.packets[5]));
  REQUIRE(v);
  CHECK(v->type() == icmpv4::message_type::destination_unreachable);
  CHECK(v->code() == static_cast<std::uint8_t>(icmpv4::unreachable_code::fragmentation_needed));
  CHECK(v->checksum() == 0x0ec9);
  CHECK(v->next_hop_mtu() == 1280);
  CHECK(v->rest_of_header() == 1280);  // RFC 1191 4: the high-order 16 bits are zero
  CHECK(icmpv4::repr::from(*v) ==
        icmpv4::repr{icmpv4::destination_unreachable{
            icmpv4::unreachable_code::fragmentation_needed, 1280}});

  SECTION("RFC 1812 4.3.2.3: the quote fills a 576-byte datagram, so it is cut short") {
    CHECK(v->quoted().size() == 576 - 20 - 8);
    CHECK(ipv4::parse(v->quoted()).error() == error::truncated);
    const auto q = v->quoted_datagram();
    REQUIRE(q);
    CHECK(q->total_length() == 1428);
    CHECK_FALSE(q->payload_is_complete());
    CHECK(q->payload().size() == 528);
    CHECK(q->dont_fragment());
    CHECK(q->identification() == 0);
    CHECK(q->header_checksum() == 0x4932);
    // The quoted echo request, whose own checksum covers bytes that were cut.
    const auto echo = q->payload();
    CHECK(echo[0] == std::byte{8});
    CHECK(icmp_load16(echo, 4) == 0x15c3);
    CHECK(icmp_load16(echo, 6) == 1);
    CHECK(icmpv4::parse(echo).error() == error::bad_checksum);
  }
  SECTION("emit writes the MTU in the low-order 16 bits") {
    std::vector<std::byte> out(v->message().begin(), v->message().end());
    std::fill(out.begin(), out.begin() + 8, std::byte{0xee});
    icmpv4::emit(icmpv4::repr::from(*v), out);
    CHECK(std::equal(out.begin(), out.end(), v->message().begin(), v->message().end()));
    CHECK(out[4] == std::byte{0});
    CHECK(out[5] == std::byte{0});
    CHECK(out[6] == std::byte{0x05});
    CHECK(out[7] == std::byte{0x00});
  }
}

TEST_CASE("RFC 792: a quoted header with options (Linux echoes the timestamp option)",
          "[wire][icmpv4][kernel]") {
  // kernel_icmp_errors.pcap frame 10: a port unreachable for frame 9, which
  // carried NOP, NOP, timestamp. The reply echoes the option (RFC 1122
  // 3.2.2: IP options of the error follow 3.2.1.8), so both headers have options.
  const auto file = icmp_capture("kernel_icmp_errors.pcap");
  REQUIRE(file.packets.size() == 10);
  const auto ip = ipv4::parse(std::span<const std::byte>(file.packets[9].data).subspan(14));
  REQUIRE(ip);
  CHECK(ip->header_length() == 32);
  CHECK(ip->header_checksum() == 0xed03);
  const auto v = icmpv4::parse(ip->payload());
  REQUIRE(v);
  CHECK(v->checksum() == 0x1e1c);
  CHECK(v->code() == static_cast<std::uint8_t>(icmpv4::unreachable_code::port_unreachable));
  // The destination counted a timestamp it had no room for in the option's
  // overflow field (RFC 791 3.1, "Internet Timestamp": 0x00 -> 0x10) after it
  // had verified the header, and quoted the header without a new checksum:
  // a quote from a real peer that does not verify. checksum_check::skip reads it.
  CHECK(v->quoted_datagram().error() == error::bad_checksum);
  const auto q = v->quoted_datagram(ipv4::checksum_check::skip);
  REQUIRE(q);
  CHECK(q->options()[5] == std::byte{0x10});
  CHECK(q->header_length() == 36);
  CHECK(q->options().size() == 16);
  CHECK(q->options()[2] == std::byte{68});  // timestamp option type (RFC 791 3.1)
  CHECK(q->ttl() == 63);
  CHECK(q->header_checksum() == 0x6cb9);
  CHECK(q->identification() == 0xde43);
  CHECK(icmp_load16(q->payload(), 0) == 40003);
  CHECK(icmp_load16(q->payload(), 2) == 33437);
}

TEST_CASE("RFC 792: parse(emit(x)) == x on randomized messages", "[wire][icmpv4]") {
  std::mt19937 rng(792);
  auto u = [&](std::uint32_t lo, std::uint32_t hi) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
  };
  const std::uint8_t other_types[] = {4, 5, 12, 13, 14, 1, 2, 42, 255};
  std::vector<std::byte> buffer;
  for (int i = 0; i < 1000; ++i) {
    icmpv4::repr x;
    switch (u(0, 4)) {
      case 0:
        x.message = icmpv4::echo_request{static_cast<std::uint16_t>(u(0, 0xffff)),
                                         static_cast<std::uint16_t>(u(0, 0xffff))};
        break;
      case 1:
        x.message = icmpv4::echo_reply{static_cast<std::uint16_t>(u(0, 0xffff)),
                                       static_cast<std::uint16_t>(u(0, 0xffff))};
        break;
      case 2: {
        const auto code = static_cast<icmpv4::unreachable_code>(u(0, 20));
        const std::uint16_t mtu = code == icmpv4::unreachable_code::fragmentation_needed
                                      ? static_cast<std::uint16_t>(u(68, 0xffff))
                                      : 0;
        x.message = icmpv4::destination_unreachable{code, mtu};
        break;
      }
      case 3:
        x.message = icmpv4::time_exceeded{static_cast<icmpv4::time_exceeded_code>(u(0, 3))};
        break;
      default:
        x.message = icmpv4::other_message{
            static_cast<icmpv4::message_type>(other_types[u(0, std::size(other_types) - 1)]),
            static_cast<std::uint8_t>(u(0, 255)), static_cast<std::uint32_t>(rng())};
    }
    // Odd and even payload lengths: the checksum pads an odd last byte (RFC 1071 1).
    buffer.assign(8 + u(0, 600), std::byte{0});
    for (std::size_t k = 8; k < buffer.size(); ++k) buffer[k] = static_cast<std::byte>(rng());
    REQUIRE(icmpv4::emit(x, buffer) == 8);
    INFO("iteration " << i);
    const auto v = icmpv4::parse(buffer);
    REQUIRE(v);
    CHECK(icmpv4::repr::from(*v) == x);
    CHECK(v->payload().size() == buffer.size() - 8);
    CHECK(v->payload().data() == buffer.data() + 8);
  }
}

TEST_CASE("RFC 792: a message shorter than its 8-byte header is truncated", "[wire][icmpv4]") {
  const auto file = icmp_capture("kernel_arp_icmp.pcap");
  REQUIRE(file.packets.size() == 14);
  const auto m = icmp_in_frame(file.packets[4]);
  for (std::size_t n = 0; n < 8; ++n) {
    INFO("first " << n << " bytes");
    CHECK(icmpv4::parse(m.first(n)).error() == error::truncated);
  }
  SECTION("cut anywhere after the header, the checksum no longer verifies") {
    for (std::size_t n = 8; n < m.size(); ++n) {
      INFO("first " << n << " bytes");
      CHECK(icmpv4::parse(m.first(n)).error() == error::bad_checksum);
    }
  }
}

TEST_CASE("RFC 792 and RFC 1071: any single flipped bit fails the checksum", "[wire][icmpv4]") {
  const auto file = icmp_capture("kernel_icmp_errors.pcap");
  REQUIRE(file.packets.size() == 10);
  const auto good = icmp_in_frame(file.packets[3]);
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<std::byte> m(good.begin(), good.end());
      m[at] ^= static_cast<std::byte>(1 << bit);
      INFO("byte " << at << " bit " << bit);
      CHECK(icmpv4::parse(m).error() == error::bad_checksum);
    }
  }
}

TEST_CASE("RFC 1122 3.2.2: a message of another type parses, for the caller to count",
          "[wire][icmpv4]") {
  // A timestamp request (type 13, RFC 792) and a type with no assignment.
  for (int type : {13, 42}) {
    auto m = icmp_bytes_of({type, 7, 0, 0, 0x12, 0x34, 0x56, 0x78, 1, 2, 3});
    const std::uint16_t c = uk::wire::checksum::compute(m);
    m[2] = static_cast<std::byte>(c >> 8);
    m[3] = static_cast<std::byte>(c);
    INFO("type " << type);
    const auto v = icmpv4::parse(m);
    REQUIRE(v);
    CHECK(static_cast<int>(v->type()) == type);
    CHECK(v->code() == 7);
    CHECK(v->rest_of_header() == 0x12345678);
    CHECK(v->payload().size() == 3);
    CHECK_FALSE(v->is_echo());
    CHECK_FALSE(v->quotes_datagram());
    CHECK(icmpv4::repr::from(*v) ==
          icmpv4::repr{icmpv4::other_message{static_cast<icmpv4::message_type>(type), 7,
                                             0x12345678}});
  }
}

TEST_CASE("RFC 792: the quoted header of an error is validated when it is parsed",
          "[wire][icmpv4]") {
  const auto quote = quote_of_udp_datagram();
  SECTION("a well-formed quote: total length 100, 8 data bytes quoted") {
    const auto m = port_unreachable_quoting(quote);
    const auto v = icmpv4::parse(m);
    REQUIRE(v);
    const auto q = v->quoted_datagram();
    REQUIRE(q);
    CHECK(q->total_length() == 100);
    CHECK(q->payload().size() == 8);
    CHECK_FALSE(q->payload_is_complete());
    CHECK(icmp_load16(q->payload(), 2) == 33434);
  }
  SECTION("a quote shorter than an IP header") {
    for (std::size_t n = 0; n < 20; ++n) {
      const auto m = port_unreachable_quoting(std::span(quote).first(n));
      const auto v = icmpv4::parse(m);
      REQUIRE(v);  // the ICMP message itself is fine
      INFO("quote of " << n << " bytes");
      CHECK(v->quoted_datagram().error() == error::truncated);
    }
  }
  SECTION("a quoted header with a bad checksum, version, IHL or reserved flag") {
    auto bad = quote;
    bad[8] = std::byte{1};  // TTL changed without the checksum
    auto m = port_unreachable_quoting(bad);
    const auto v = icmpv4::parse(m);
    REQUIRE(v);
    CHECK(v->quoted_datagram().error() == error::bad_checksum);
    CHECK(v->quoted_datagram(ipv4::checksum_check::skip));

    bad = quote;
    bad[0] = std::byte{0x65};
    m = port_unreachable_quoting(bad);
    CHECK(icmpv4::parse(m)->quoted_datagram().error() == error::bad_version);

    bad = quote;
    bad[0] = std::byte{0x43};
    m = port_unreachable_quoting(bad);
    CHECK(icmpv4::parse(m)->quoted_datagram().error() == error::bad_length);

    bad = quote;
    bad[0] = std::byte{0x4f};  // a 60-byte header in a 28-byte quote
    m = port_unreachable_quoting(bad);
    CHECK(icmpv4::parse(m)->quoted_datagram().error() == error::truncated);
  }
  SECTION("an ICMP error with a bad checksum is rejected before its quote is looked at") {
    auto m = port_unreachable_quoting(quote);
    m[20] ^= std::byte{0x40};
    CHECK(icmpv4::parse(m).error() == error::bad_checksum);
  }
}

TEST_CASE("RFC 792: the errors quote a datagram, echo messages do not", "[wire][icmpv4]") {
  std::vector<std::byte> m(36);
  for (int type : {3, 4, 5, 11, 12}) {
    if (type == 3) {
      icmpv4::emit({icmpv4::destination_unreachable{}}, m);
    } else if (type == 11) {
      icmpv4::emit({icmpv4::time_exceeded{}}, m);
    } else {  // source quench, redirect, parameter problem: no repr of their own
      icmpv4::emit({icmpv4::other_message{static_cast<icmpv4::message_type>(type), 0, 0}}, m);
    }
    INFO("type " << type);
    const auto v = icmpv4::parse(m);
    REQUIRE(v);
    CHECK(v->quotes_datagram());
    CHECK_FALSE(v->is_echo());
    CHECK(v->quoted().size() == 28);
  }
}

TEST_CASE("RFC 792: every whole ICMP message the Linux kernel sent parses and verifies",
          "[wire][icmpv4][kernel]") {
  int count = 0;
  for (const char* name : {"kernel_arp_icmp.pcap", "kernel_icmp_errors.pcap"}) {
    for (const auto& frame : icmp_capture(name).packets) {
      if (frame.data.size() <= 14 || frame.data[12] != std::byte{0x08} ||
          frame.data[13] != std::byte{0x00})
        continue;
      const auto ip = ipv4::parse(std::span<const std::byte>(frame.data).subspan(14));
      REQUIRE(ip);
      if (ip->protocol() != ipv4::protocol_number::icmp || ip->is_fragment()) continue;
      INFO(name << " frame of " << frame.data.size() << " bytes");
      const auto v = icmpv4::parse(ip->payload());
      REQUIRE(v);
      CHECK((v->is_echo() || v->quotes_datagram()));
      if (v->quotes_datagram()) CHECK(v->quoted_datagram(ipv4::checksum_check::skip));
      ++count;
    }
  }
  // First file: 2 echo requests and their replies (the fragmented ping is
  // skipped); second file: 5 errors and the echo request of one of them.
  CHECK(count == 10);
}
