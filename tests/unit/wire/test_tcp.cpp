// Tests of uk/wire/tcp.hpp and tcp_options.hpp against RFC 9293 3.1-3.2,
// RFC 7323, RFC 2018 and Linux kernel captures.
#include <uk/wire/tcp.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/pcap_file.hpp"

namespace tcp = uk::wire::tcp;
using uk::ipv4_address;
using uk::wire::error;
using tcp::flags;
using tcp::option_kind;

namespace {

std::vector<std::byte> bytes_of(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out;
  for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

std::string to_string(std::span<const std::byte> bytes) {
  std::string out;
  for (std::byte b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// The TCP segment of a captured frame and its IPv4 addresses. Frames are
// Ethernet II (14 bytes) + IPv4 without options (20 bytes), skipped by hand so
// that this test does not depend on ethernet.hpp or ipv4.hpp.
struct captured_segment {
  ipv4_address source;
  ipv4_address destination;
  std::vector<std::byte> bytes;  // the IPv4 payload
};

captured_segment segment_of(const uk::test::pcap_packet& packet) {
  constexpr std::size_t ethernet = 14, ipv4 = 20;
  REQUIRE(packet.data.size() >= ethernet + ipv4);
  const std::byte* ip = packet.data.data() + ethernet;
  REQUIRE(std::to_integer<int>(ip[0]) == 0x45);  // version 4, IHL 5
  REQUIRE(std::to_integer<int>(ip[9]) == tcp::ip_protocol);
  const std::size_t total = uk::detail::load_be16(ip + 2);
  REQUIRE(ethernet + total <= packet.data.size());
  return {{uk::detail::load_be32(ip + 12)}, {uk::detail::load_be32(ip + 16)}, {ip + ipv4, ip + total}};
}

const uk::test::pcap_file& capture() {
  static const uk::test::pcap_file file =
      uk::test::read_pcap(std::string(UK_TEST_DATA_DIR) + "/kernel_udp_tcp.pcap");
  return file;
}

// tshark's frame numbers (1-based) of the TCP frames in kernel_udp_tcp.pcap.
constexpr std::size_t first_tcp_frame = 5, last_tcp_frame = 26;

// The segment of frame `number`; it lives as long as the test program, so
// views of it may be kept.
const captured_segment& frame(std::size_t number) {
  static const std::vector<captured_segment> segments = [] {
    std::vector<captured_segment> out(capture().packets.size());
    for (std::size_t n = first_tcp_frame; n <= last_tcp_frame && n <= out.size(); ++n) {
      out[n - 1] = segment_of(capture().packets[n - 1]);
    }
    return out;
  }();
  REQUIRE(number >= first_tcp_frame);
  REQUIRE(number <= last_tcp_frame);
  REQUIRE(segments.size() >= number);
  return segments[number - 1];
}

tcp::view parsed(const captured_segment& s) {
  const auto v = tcp::parse(s.bytes, s.source, s.destination);
  REQUIRE(v);
  return *v;
}

std::vector<option_kind> kinds_of(const tcp::option_range& range) {
  std::vector<option_kind> out;
  for (const auto& o : range) out.push_back(o.kind);
  return out;
}

const ipv4_address host_a = ipv4_address::from_octets(10, 0, 0, 1);
const ipv4_address host_b = ipv4_address::from_octets(10, 0, 0, 2);

// A segment emitted by tcp::emit with `payload` after the header.
std::vector<std::byte> make_segment(const tcp::repr& r, std::string_view payload = {}) {
  tcp::repr with_length = r;
  with_length.payload_length = payload.size();
  std::vector<std::byte> out(with_length.header_length());
  for (char c : payload) out.push_back(static_cast<std::byte>(c));
  tcp::emit(with_length, out, host_a, host_b);
  return out;
}

tcp::repr syn_with_all_options() {
  tcp::repr r;
  r.source_port = 49152;
  r.destination_port = 80;
  r.sequence_number = 0x01020304;
  r.flags = flags::syn;
  r.window = 64240;
  r.options.mss = 1460;
  r.options.sack_permitted = true;
  r.options.timestamps = tcp::timestamps_option{0xa1b2c3d4, 0};
  r.options.window_scale = 7;
  return r;
}

// A segment whose option bytes are exactly `options` (a multiple of 4), with a
// valid checksum, so that only the options can be wrong.
std::vector<std::byte> segment_with_options(const std::vector<std::byte>& options) {
  REQUIRE(options.size() % 4 == 0);
  REQUIRE(options.size() <= 40);
  std::vector<std::byte> s(20, std::byte{0});
  s.insert(s.end(), options.begin(), options.end());
  s[12] = static_cast<std::byte>((s.size() / 4) << 4);
  s[13] = static_cast<std::byte>(flags::ack.bits);
  const std::uint64_t pseudo = tcp::pseudo_header_sum(host_a, host_b, static_cast<std::uint16_t>(s.size()));
  uk::detail::store_be16(s.data() + 16, uk::wire::checksum::finish(uk::wire::checksum::partial(s, pseudo)));
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------
// Kernel captures (tests/data/capture_transport.sh): a Linux client 192.0.2.1
// and server 198.51.100.2. Expected values read with tshark -V.

TEST_CASE("RFC 9293 3.1, RFC 7323, RFC 2018: a Linux SYN carries MSS, SACK-permitted, timestamps, NOP and window scale",
          "[tcp][capture]") {
  const auto& s = frame(5);
  CHECK(s.source == ipv4_address::from_octets(192, 0, 2, 1));
  CHECK(s.destination == ipv4_address::from_octets(198, 51, 100, 2));
  const auto v = parsed(s);
  CHECK(v.source_port() == 40001);
  CHECK(v.destination_port() == 8080);
  CHECK(v.sequence_number() == 2132316360u);
  CHECK(v.acknowledgment_number() == 0u);
  CHECK(v.data_offset() == 10);
  CHECK(v.header_length() == 40);
  CHECK(v.reserved() == 0);
  CHECK(v.flags() == flags::syn);
  CHECK(v.syn());
  CHECK_FALSE(v.ack());
  CHECK(v.window() == 64240);
  CHECK(v.checksum() == 0xe533);
  CHECK(v.urgent_pointer() == 0);
  CHECK(v.payload().empty());
  CHECK(kinds_of(v.raw_options()) ==
        std::vector<option_kind>{option_kind::maximum_segment_size, option_kind::sack_permitted,
                                 option_kind::timestamps, option_kind::no_operation, option_kind::window_scale});
  const auto o = v.options();
  CHECK(o.mss == 1460);
  CHECK(o.sack_permitted);
  REQUIRE(o.timestamps);
  CHECK(o.timestamps->tsval == 2271357068u);
  CHECK(o.timestamps->tsecr == 0u);
  CHECK(o.window_scale == 10);
  CHECK(o.window_scale_clamped() == 10);
  CHECK(o.sack_count == 0);
}

TEST_CASE("RFC 9293 3.1: a Linux SYN-ACK acknowledges the SYN and echoes its timestamp (RFC 7323 3.2)",
          "[tcp][capture]") {
  const auto v = parsed(frame(6));
  CHECK(v.source_port() == 8080);
  CHECK(v.destination_port() == 40001);
  CHECK(v.sequence_number() == 393921638u);
  CHECK(v.acknowledgment_number() == 2132316361u);
  CHECK(v.flags() == (flags::syn | flags::ack));
  CHECK(v.window() == 65160);
  CHECK(v.checksum() == 0x02c2);
  const auto o = v.options();
  CHECK(o.mss == 1460);
  CHECK(o.sack_permitted);
  CHECK(o.window_scale == 10);
  REQUIRE(o.timestamps);
  CHECK(o.timestamps->tsval == 483780114u);
  CHECK(o.timestamps->tsecr == 2271357068u);
}

TEST_CASE("RFC 9293 3.1: Linux data, FIN and RST segments parse to their exact fields", "[tcp][capture]") {
  struct expected {
    std::size_t frame;
    std::uint16_t sport, dport;
    std::uint32_t seq, ack;
    tcp::flags flags;
    std::uint16_t window, checksum;
    std::uint32_t tsval, tsecr;
    std::size_t payload;
  };
  const expected cases[] = {
      {7, 40001, 8080, 2132316361u, 393921639u, flags::ack, 63, 0x2fdb, 2271357068u, 483780114u, 0},
      {8, 40001, 8080, 2132316361u, 393921639u, flags::psh | flags::ack, 63, 0xdc02, 2271357068u, 483780114u, 22},
      {9, 8080, 40001, 393921639u, 2132316383u, flags::ack, 64, 0x2fc4, 483780114u, 2271357068u, 0},
      {10, 40001, 8080, 2132316383u, 393921639u, flags::fin | flags::ack, 63, 0x2fc4, 2271357068u, 483780114u, 0},
      {11, 8080, 40001, 393921639u, 2132316384u, flags::psh | flags::ack, 64, 0x6833, 483780114u, 2271357068u, 4},
      {12, 40001, 8080, 2132316384u, 393921643u, flags::ack, 63, 0x2fc0, 2271357068u, 483780114u, 0},
      {13, 8080, 40001, 393921643u, 2132316384u, flags::fin | flags::ack, 64, 0x2fbe, 483780114u, 2271357068u, 0},
      {14, 40001, 8080, 2132316384u, 393921644u, flags::ack, 63, 0x2fbf, 2271357068u, 483780114u, 0},
      {17, 40002, 8080, 1656042435u, 3325134979u, flags::ack, 63, 0x0093, 829174u, 1757927266u, 1448},
      {18, 40002, 8080, 1656043883u, 3325134979u, flags::ack, 63, 0x6252, 829174u, 1757927266u, 1448},
      {19, 40002, 8080, 1656045331u, 3325134979u, flags::ack, 63, 0xc411, 829174u, 1757927266u, 1448},
      {26, 40002, 8080, 1656642435u, 3325134981u, flags::rst | flags::ack, 63, 0xd843, 829422u, 1757927537u, 0},
  };
  for (const auto& c : cases) {
    INFO("frame " << c.frame);
    const auto v = parsed(frame(c.frame));
    CHECK(v.source_port() == c.sport);
    CHECK(v.destination_port() == c.dport);
    CHECK(v.sequence_number() == c.seq);
    CHECK(v.acknowledgment_number() == c.ack);
    CHECK(v.flags() == c.flags);
    CHECK(v.window() == c.window);
    CHECK(v.checksum() == c.checksum);
    CHECK(v.header_length() == 32);
    CHECK(kinds_of(v.raw_options()) ==
          std::vector<option_kind>{option_kind::no_operation, option_kind::no_operation, option_kind::timestamps});
    const auto o = v.options();
    CHECK_FALSE(o.mss);
    CHECK_FALSE(o.window_scale);
    CHECK_FALSE(o.sack_permitted);
    CHECK(o.sack_count == 0);
    REQUIRE(o.timestamps);
    CHECK(o.timestamps->tsval == c.tsval);
    CHECK(o.timestamps->tsecr == c.tsecr);
    CHECK(v.payload().size() == c.payload);
  }
  CHECK(to_string(parsed(frame(8)).payload()) == "hello from uk capture\n");
  CHECK(to_string(parsed(frame(11)).payload()) == "bye\n");
  // The bulk sender wrote bytes i % 251.
  const auto bulk = parsed(frame(17)).payload();
  bool pattern = true;
  for (std::size_t i = 0; i < bulk.size(); ++i) pattern = pattern && std::to_integer<std::size_t>(bulk[i]) == i % 251;
  CHECK(pattern);
}

TEST_CASE("RFC 2018 3: Linux duplicate ACKs carry one, two and three SACK blocks after the timestamps",
          "[tcp][capture][sack]") {
  struct expected {
    std::size_t frame;
    std::uint16_t checksum;
    std::uint32_t tsval;
    std::vector<tcp::sack_block> blocks;
  };
  const expected cases[] = {
      {20, 0x8f63, 1757927294u, {{1656067051u, 1656068499u}}},
      {21, 0x89ba, 1757927295u, {{1656067051u, 1656069947u}}},
      {22, 0x2790, 1757927295u, {{1656077187u, 1656078635u}, {1656067051u, 1656069947u}}},
      {23, 0x21e7, 1757927296u, {{1656077187u, 1656080083u}, {1656067051u, 1656069947u}}},
      {24, 0x927b, 1757927297u,
       {{1656082979u, 1656084427u}, {1656077187u, 1656080083u}, {1656067051u, 1656069947u}}},
      {25, 0x8cd3, 1757927297u,
       {{1656082979u, 1656085875u}, {1656077187u, 1656080083u}, {1656067051u, 1656069947u}}},
  };
  for (const auto& c : cases) {
    INFO("frame " << c.frame);
    const auto v = parsed(frame(c.frame));
    CHECK(v.source_port() == 8080);
    CHECK(v.destination_port() == 40002);
    CHECK(v.sequence_number() == 3325134979u);
    CHECK(v.acknowledgment_number() == 1656061259u);
    CHECK(v.flags() == flags::ack);
    CHECK(v.window() == 80);
    CHECK(v.checksum() == c.checksum);
    CHECK(v.header_length() == 32 + 4 + 8 * c.blocks.size());
    CHECK(kinds_of(v.raw_options()) ==
          std::vector<option_kind>{option_kind::no_operation, option_kind::no_operation, option_kind::timestamps,
                                   option_kind::no_operation, option_kind::no_operation, option_kind::sack});
    const auto o = v.options();
    REQUIRE(o.timestamps);
    CHECK(o.timestamps->tsval == c.tsval);
    CHECK(o.timestamps->tsecr == 829174u);
    const auto sack = o.sack();
    CHECK(std::vector<tcp::sack_block>(sack.begin(), sack.end()) == c.blocks);
  }
}

TEST_CASE("RFC 9293 3.1: every captured Linux segment verifies its checksum with the pseudo-header",
          "[tcp][capture][checksum]") {
  for (std::size_t n = first_tcp_frame; n <= last_tcp_frame; ++n) {
    INFO("frame " << n);
    const auto& s = frame(n);
    REQUIRE(tcp::parse(s.bytes, s.source, s.destination));
    // The pseudo-header is part of the sum: another source address fails.
    const ipv4_address other{s.source.value ^ 0x00000100u};
    CHECK(tcp::parse(s.bytes, other, s.destination).error() == error::bad_checksum);
    // The pseudo-header's TCP length is the segment's: one byte of padding more fails too.
    auto padded = s.bytes;
    padded.push_back(std::byte{0});
    CHECK(tcp::parse(padded, s.source, s.destination).error() == error::bad_checksum);
    // A flipped byte anywhere fails.
    auto corrupt = s.bytes;
    corrupt[corrupt.size() / 2] ^= std::byte{0x40};
    CHECK(tcp::parse(corrupt, s.source, s.destination).error() == error::bad_checksum);
  }
}

TEST_CASE("RFC 9293 3.1: the checksum is the one's complement sum of pseudo-header, header and data",
          "[tcp][capture][checksum]") {
  // Frame 7 (pure ACK), by hand: 192.0.2.1 -> 198.51.100.2, PTCL 6, TCP length 32.
  const auto& s = frame(7);
  REQUIRE(s.bytes.size() == 32);
  const std::uint64_t pseudo = 0xc000 + 0x0201 + 0xc633 + 0x6402 + 6 + 32;
  CHECK(tcp::pseudo_header_sum(s.source, s.destination, 32) == pseudo);
  auto zeroed = s.bytes;
  zeroed[16] = zeroed[17] = std::byte{0};
  CHECK(uk::wire::checksum::finish(uk::wire::checksum::partial(zeroed, pseudo)) == 0x2fdb);
}

TEST_CASE("RFC 9293 3.1: emit reproduces Linux segments byte for byte, options and checksum included",
          "[tcp][capture]") {
  // Our option layout is Linux's (see options::length()), so every captured
  // segment, SYNs and SACKs included, comes back identical.
  for (std::size_t n = first_tcp_frame; n <= last_tcp_frame; ++n) {
    INFO("frame " << n);
    const auto& s = frame(n);
    const auto v = parsed(s);
    const auto r = tcp::repr::from(v);
    CHECK(r.header_length() == v.header_length());
    auto out = s.bytes;
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(v.header_length()), std::byte{0xee});
    CHECK(tcp::emit(r, out, s.source, s.destination) == v.header_length());
    CHECK(out == s.bytes);
  }
}

// ---------------------------------------------------------------------------
// Options (RFC 9293 3.1, 3.2; RFC 7323; RFC 2018)

TEST_CASE("RFC 7323 2.3: window scale shift above 14 is clamped to 14", "[tcp][options]") {
  for (unsigned shift : {0u, 1u, 13u, 14u, 15u, 16u, 200u, 255u}) {
    INFO("shift.cnt " << shift);
    const auto s = segment_with_options(bytes_of({1, 3, 3, shift}));
    const auto v = tcp::parse(s, host_a, host_b);
    REQUIRE(v);
    const auto o = v->options();
    CHECK(o.window_scale == shift);  // the raw value is kept
    CHECK(o.window_scale_clamped() == std::min(shift, 14u));
  }
  CHECK_FALSE(tcp::options{}.window_scale_clamped());
}

TEST_CASE("RFC 9293 3.2: options after End of Option List are padding and are not read", "[tcp][options]") {
  // MSS, EOL, then bytes that would be malformed options (length 0, overlong).
  const auto s = segment_with_options(bytes_of({2, 4, 0x05, 0xb4, 0, 5, 0, 8, 0xff, 0, 0, 0}));
  const auto v = tcp::parse(s, host_a, host_b);
  REQUIRE(v);
  CHECK(v->options().mss == 1460);
  CHECK(v->options().sack_count == 0);
  CHECK(kinds_of(v->raw_options()) ==
        std::vector<option_kind>{option_kind::maximum_segment_size, option_kind::end_of_option_list});
}

TEST_CASE("RFC 9293 3.2: No-Operation options may appear anywhere", "[tcp][options]") {
  const auto s = segment_with_options(bytes_of({1, 1, 1, 2, 4, 0x02, 0x18, 1, 1, 1, 4, 2}));
  const auto v = tcp::parse(s, host_a, host_b);
  REQUIRE(v);
  CHECK(v->options().mss == 536);
  CHECK(v->options().sack_permitted);
  CHECK(kinds_of(v->raw_options()).size() == 8);
}

TEST_CASE("RFC 9293 3.2 (MUST-5): an unknown option is skipped by its length", "[tcp][options]") {
  // Kind 30 (MPTCP) with 6 bytes, kind 254 (RFC 6994 experimental) with 4, then timestamps, EOL.
  const auto s = segment_with_options(
      bytes_of({30, 6, 0xde, 0xad, 0xbe, 0xef, 254, 4, 0x12, 0x34, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}));
  const auto v = tcp::parse(s, host_a, host_b);
  REQUIRE(v);
  const auto o = v->options();
  REQUIRE(o.timestamps);
  CHECK(*o.timestamps == tcp::timestamps_option{1, 2});
  std::vector<std::size_t> lengths;
  for (const auto& opt : v->raw_options()) lengths.push_back(opt.wire_length());
  CHECK(lengths == std::vector<std::size_t>{6, 4, 1, 1, 10, 1});  // EOL last
  const auto first = *v->raw_options().begin();
  CHECK(static_cast<unsigned>(first.kind) == 30);
  CHECK(first.data.size() == 4);
  CHECK(std::to_integer<unsigned>(first.data[0]) == 0xde);
}

TEST_CASE("RFC 9293 3.2 (MUST-7): an option length of 0 or 1 is a bad option", "[tcp][options][malformed]") {
  for (unsigned kind : {2u, 3u, 4u, 5u, 8u, 30u, 254u}) {
    for (unsigned length : {0u, 1u}) {
      INFO("kind " << kind << " length " << length);
      const auto s = segment_with_options(bytes_of({kind, length, 0, 0}));
      CHECK(tcp::parse(s, host_a, host_b).error() == error::bad_option);
      CHECK(tcp::parse_options(bytes_of({kind, length, 0, 0})).error() == error::bad_option);
    }
  }
}

TEST_CASE("RFC 9293 3.1: an option running past the header is a bad option", "[tcp][options][malformed]") {
  // Timestamps needing 10 bytes where 8 are left.
  CHECK(tcp::parse(segment_with_options(bytes_of({8, 10, 0, 0, 0, 0, 0, 0})), host_a, host_b).error() ==
        error::bad_option);
  // An unknown option claiming more than the option space.
  CHECK(tcp::parse(segment_with_options(bytes_of({1, 1, 99, 3})), host_a, host_b).error() == error::bad_option);
  CHECK(tcp::parse(segment_with_options(bytes_of({99, 255, 0, 0})), host_a, host_b).error() == error::bad_option);
  // A kind octet that needs a length octet as the last byte of the header.
  CHECK(tcp::parse(segment_with_options(bytes_of({1, 1, 1, 2})), host_a, host_b).error() == error::bad_option);
  CHECK(tcp::parse(segment_with_options(bytes_of({1, 1, 1, 200})), host_a, host_b).error() == error::bad_option);
}

TEST_CASE("RFC 9293 3.2: an MSS option of a length other than 4 is a bad option", "[tcp][options][malformed]") {
  CHECK(tcp::parse_options(bytes_of({2, 4, 1, 0})));
  CHECK(tcp::parse_options(bytes_of({2, 2, 1, 1})).error() == error::bad_option);
  CHECK(tcp::parse_options(bytes_of({2, 3, 5, 1})).error() == error::bad_option);
  CHECK(tcp::parse_options(bytes_of({2, 5, 5, 180, 0, 1, 1, 1})).error() == error::bad_option);
  CHECK(tcp::parse(segment_with_options(bytes_of({2, 3, 5, 1})), host_a, host_b).error() == error::bad_option);
}

TEST_CASE("RFC 7323 2.2, 3.2 and RFC 2018 2: window scale, timestamps and SACK-permitted have fixed lengths",
          "[tcp][options][malformed]") {
  CHECK(tcp::parse_options(bytes_of({1, 3, 3, 7})));
  CHECK(tcp::parse_options(bytes_of({3, 2, 1, 1})).error() == error::bad_option);
  CHECK(tcp::parse_options(bytes_of({3, 4, 7, 0})).error() == error::bad_option);
  CHECK(tcp::parse_options(bytes_of({1, 1, 4, 2})));
  CHECK(tcp::parse_options(bytes_of({1, 4, 3, 0})).error() == error::bad_option);
  CHECK(tcp::parse_options(bytes_of({4, 4, 0, 0})).error() == error::bad_option);
  CHECK(tcp::parse_options(bytes_of({8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1})));
  CHECK(tcp::parse_options(bytes_of({8, 8, 0, 0, 0, 1, 0, 0})).error() == error::bad_option);
  CHECK(tcp::parse_options(bytes_of({8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0})).error() == error::bad_option);
}

TEST_CASE("RFC 2018 3: a SACK option whose length is not 8n+2 with n >= 1 is a bad option",
          "[tcp][options][sack][malformed]") {
  for (unsigned length = 2; length <= 40; ++length) {
    std::vector<std::byte> opts = bytes_of({1, 1, 5, length});
    opts.resize(40, std::byte{0});  // EOL, then padding
    const bool valid = length >= 10 && (length - 2) % 8 == 0 && length <= 38;
    INFO("SACK length " << length);
    const auto segment = segment_with_options(opts);
    const auto result = tcp::parse(segment, host_a, host_b);
    if (valid) {
      REQUIRE(result);
      CHECK(result->options().sack_count == (length - 2) / 8);
    } else {
      CHECK(result.error() == error::bad_option);
    }
  }
}

TEST_CASE("RFC 2018 3: four SACK blocks fill the option space", "[tcp][options][sack]") {
  std::vector<std::byte> opts = bytes_of({1, 1, 5, 34});
  for (unsigned i = 0; i < 4; ++i) {
    for (unsigned edge = 0; edge < 2; ++edge) {
      const auto b = bytes_of({0, 0, i, edge});
      opts.insert(opts.end(), b.begin(), b.end());
    }
  }
  opts.resize(40, std::byte{0});  // EOL, then padding to 40 bytes
  const auto segment = segment_with_options(opts);
  const auto v = tcp::parse(segment, host_a, host_b);
  REQUIRE(v);
  const auto o = v->options();
  REQUIRE(o.sack_count == 4);
  for (std::uint32_t i = 0; i < 4; ++i) CHECK(o.sack()[i] == tcp::sack_block{i << 8, (i << 8) | 1});
}

TEST_CASE("RFC 9293 3.1: when an option kind repeats, the later one is used", "[tcp][options]") {
  const auto o = tcp::parse_options(bytes_of({2, 4, 0, 100, 2, 4, 0, 200, 1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2,
                                              1, 1, 5, 10, 0, 0, 0, 3, 0, 0, 0, 4}));
  REQUIRE(o);
  CHECK(o->mss == 200);
  REQUIRE(o->sack_count == 1);
  CHECK(o->sack()[0] == tcp::sack_block{3, 4});
}

TEST_CASE("RFC 9293 3.1: the option iterator yields every option in wire order and stops after EOL",
          "[tcp][options]") {
  const auto bytes = bytes_of({1, 2, 4, 0x05, 0xb4, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0xaa, 0xbb});
  const tcp::option_range range(bytes);
  auto it = range.begin();
  REQUIRE(it != range.end());
  CHECK(it->kind == option_kind::no_operation);
  CHECK(it->wire_length() == 1);
  ++it;
  CHECK(it->kind == option_kind::maximum_segment_size);
  CHECK(it->data.size() == 2);
  it++;
  CHECK(it->kind == option_kind::timestamps);
  CHECK(uk::detail::load_be32(it->data.data()) == 9);
  ++it;
  CHECK(it->kind == option_kind::end_of_option_list);
  ++it;
  CHECK(it == range.end());
  // A malformed option ends the iteration (parse_options reports it).
  const auto bad = bytes_of({1, 2, 0, 1});
  CHECK(kinds_of(tcp::option_range(bad)) == std::vector<option_kind>{option_kind::no_operation});
  CHECK(tcp::parse_options(bad).error() == error::bad_option);
  static_assert(std::forward_iterator<tcp::option_range::iterator>);
}

TEST_CASE("RFC 9293 3.1: options::length() tells whether options fit the 40-byte option space",
          "[tcp][options]") {
  tcp::options o;
  CHECK(o.length() == 0);
  o.mss = 1460;
  o.window_scale = 7;
  o.sack_permitted = true;
  o.timestamps = tcp::timestamps_option{1, 2};
  CHECK(o.length() == 20);  // the Linux SYN
  CHECK(o.fits());
  tcp::options data;
  data.timestamps = tcp::timestamps_option{1, 2};
  CHECK(data.length() == 12);
  for (std::uint32_t i = 0; i < 3; ++i) CHECK(data.add_sack({i, i + 1}));
  CHECK(data.length() == 40);  // timestamps and three SACK blocks: full
  CHECK(data.fits());
  CHECK(data.add_sack({7, 8}));
  CHECK(data.length() == 48);
  CHECK_FALSE(data.fits());
  CHECK_FALSE(data.add_sack({9, 10}));  // RFC 2018 3: at most four blocks
  data.timestamps.reset();
  CHECK(data.length() == 36);
  CHECK(data.fits());
  tcp::options sack_ok;
  sack_ok.sack_permitted = true;
  CHECK(sack_ok.length() == 4);
}

TEST_CASE("RFC 7323 appendix A: emitted options are NOP-aligned in Linux's order", "[tcp][options]") {
  auto r = syn_with_all_options();
  const auto syn = make_segment(r);
  REQUIRE(syn.size() == 40);
  CHECK(std::vector<std::byte>(syn.begin() + 20, syn.end()) ==
        from_hex("020405b4" "0402080a" "a1b2c3d4" "00000000" "01030307"));
  tcp::options o;
  o.sack_permitted = true;
  o.window_scale = 14;
  std::vector<std::byte> out(o.length());
  CHECK(tcp::emit_options(o, out) == 8);
  CHECK(out == from_hex("0103030e" "01010402"));
  tcp::options ts_sack;
  ts_sack.timestamps = tcp::timestamps_option{0x01020304, 0x05060708};
  ts_sack.add_sack({0x11111111, 0x22222222});
  out.assign(ts_sack.length(), std::byte{0});
  CHECK(tcp::emit_options(ts_sack, out) == 24);
  CHECK(out == from_hex("0101080a0102030405060708" "0101050a1111111122222222"));
}

// ---------------------------------------------------------------------------
// Header

TEST_CASE("RFC 9293 3.1: the control bits are CWR ECE URG ACK PSH RST SYN FIN from high to low", "[tcp]") {
  CHECK(flags::fin.bits == 0x01);
  CHECK(flags::syn.bits == 0x02);
  CHECK(flags::rst.bits == 0x04);
  CHECK(flags::psh.bits == 0x08);
  CHECK(flags::ack.bits == 0x10);
  CHECK(flags::urg.bits == 0x20);
  CHECK(flags::ece.bits == 0x40);
  CHECK(flags::cwr.bits == 0x80);
  constexpr auto synack = flags::syn | flags::ack;
  static_assert(synack.has(flags::syn) && synack.has(flags::ack) && !synack.has(flags::fin));
  static_assert((synack & flags::ack) == flags::ack);
  tcp::repr r;
  r.flags = flags{0xff};
  r.reserved = 0x0f;
  r.urgent_pointer = 0xbeef;
  const auto s = make_segment(r, "!");
  CHECK(std::to_integer<unsigned>(s[12]) == 0x5f);
  CHECK(std::to_integer<unsigned>(s[13]) == 0xff);
  const auto v = tcp::parse(s, host_a, host_b);
  REQUIRE(v);
  CHECK((v->cwr() && v->ece() && v->urg() && v->ack() && v->psh() && v->rst() && v->syn() && v->fin()));
  CHECK(v->reserved() == 0x0f);
  CHECK(v->urgent_pointer() == 0xbeef);
}

TEST_CASE("RFC 9293 3.1: a segment truncated at any byte is rejected", "[tcp][malformed]") {
  const auto good = make_segment(syn_with_all_options(), "payload after the options");
  REQUIRE(good.size() == 40 + 25);
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("first " << n << " bytes");
    const auto result = tcp::parse(std::span<const std::byte>(good.data(), n), host_a, host_b);
    REQUIRE_FALSE(result);
    if (n < 40) {
      // Below 20 bytes the fixed header is cut; below 40 the Data Offset runs past the buffer.
      CHECK(result.error() == error::truncated);
    } else {
      // TCP has no length field: a shorter segment is a different segment, and
      // the pseudo-header's TCP length no longer matches.
      CHECK(result.error() == error::bad_checksum);
    }
  }
  CHECK(tcp::parse(good, host_a, host_b));
}

TEST_CASE("RFC 9293 3.1: a Data Offset below 5 words is a bad length", "[tcp][malformed]") {
  auto s = make_segment(tcp::repr{}, "some data to make room");
  for (unsigned offset = 0; offset < 5; ++offset) {
    INFO("Data Offset " << offset);
    s[12] = static_cast<std::byte>(offset << 4);
    CHECK(tcp::parse(s, host_a, host_b).error() == error::bad_length);
  }
}

TEST_CASE("RFC 9293 3.1: a Data Offset beyond the buffer is rejected as truncated", "[tcp][malformed]") {
  const auto base = make_segment(syn_with_all_options());  // 40 bytes, Data Offset 10
  for (unsigned offset = 11; offset <= 15; ++offset) {
    INFO("Data Offset " << offset);
    auto s = base;
    s[12] = static_cast<std::byte>(offset << 4);
    CHECK(tcp::parse(s, host_a, host_b).error() == error::truncated);
  }
}

TEST_CASE("RFC 9293 3.1: a changed bit anywhere in header or data fails the checksum", "[tcp][checksum]") {
  tcp::repr r = syn_with_all_options();
  r.flags = flags::ack | flags::psh;
  const auto good = make_segment(r, "odd-length data!!");
  REQUIRE(tcp::parse(good, host_a, host_b));
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    if (byte == 12) continue;  // Data Offset: length errors, tested above
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = good;
      bad[byte] ^= static_cast<std::byte>(1 << bit);
      INFO("byte " << byte << " bit " << bit);
      CHECK(tcp::parse(bad, host_a, host_b).error() == error::bad_checksum);
    }
  }
}

TEST_CASE("RFC 9293 3.1: a zero checksum has no special meaning in TCP", "[tcp][checksum]") {
  auto s = make_segment(syn_with_all_options());
  REQUIRE(uk::detail::load_be16(s.data() + 16) != 0);
  s[16] = s[17] = std::byte{0};
  CHECK(tcp::parse(s, host_a, host_b).error() == error::bad_checksum);
}

TEST_CASE("RFC 9293 3.1: the checksum is verified before the options", "[tcp][checksum][options]") {
  auto s = segment_with_options(bytes_of({2, 3, 5, 1}));
  CHECK(tcp::parse(s, host_a, host_b).error() == error::bad_option);
  s[0] ^= std::byte{1};
  CHECK(tcp::parse(s, host_a, host_b).error() == error::bad_checksum);
}

TEST_CASE("RFC 9293 3.1: repr::from normalizes the option layout", "[tcp]") {
  // Options laid out differently (NOPs first, EOL padding, an unknown option)
  // give the same repr as our layout: only the option values are kept.
  const auto s = segment_with_options(bytes_of({1, 1, 1, 1, 99, 2, 3, 3, 6, 2, 4, 2, 40, 0, 0, 0}));
  const auto v = tcp::parse(s, host_a, host_b);
  REQUIRE(v);
  const auto r = tcp::repr::from(*v);
  CHECK(r.options.window_scale == 6);
  CHECK(r.options.mss == 552);
  CHECK_FALSE(r.options.sack_permitted);
  CHECK(r.header_length() == 28);
  CHECK(v->header_length() == 36);
  const auto again = make_segment(r);
  CHECK(tcp::repr::from(*tcp::parse(again, host_a, host_b)) == r);
}

// ---------------------------------------------------------------------------
// Round trip

TEST_CASE("RFC 9293 3.1: parse(emit(x)) == x for 1000 random segments with random option subsets",
          "[tcp][roundtrip]") {
  std::mt19937 rng(9293);
  std::uniform_int_distribution<std::uint32_t> u32;
  std::uniform_int_distribution<unsigned> u8(0, 0xff);
  std::uniform_int_distribution<unsigned> coin(0, 1);
  std::uniform_int_distribution<std::size_t> size(0, 200);
  std::size_t with_sack = 0, with_all = 0;
  for (int i = 0; i < 1000; ++i) {
    tcp::repr r;
    r.source_port = static_cast<std::uint16_t>(u32(rng));
    r.destination_port = static_cast<std::uint16_t>(u32(rng));
    r.sequence_number = u32(rng);
    r.acknowledgment_number = u32(rng);
    r.reserved = static_cast<std::uint8_t>(u8(rng) & 0x0f);
    r.flags = flags{static_cast<std::uint8_t>(u8(rng))};
    r.window = static_cast<std::uint16_t>(u32(rng));
    r.urgent_pointer = static_cast<std::uint16_t>(u32(rng));
    if (coin(rng)) r.options.mss = static_cast<std::uint16_t>(u32(rng));
    if (coin(rng)) r.options.window_scale = static_cast<std::uint8_t>(u8(rng));
    r.options.sack_permitted = coin(rng) != 0;
    if (coin(rng)) r.options.timestamps = tcp::timestamps_option{u32(rng), u32(rng)};
    const unsigned blocks = u8(rng) % 5;
    for (unsigned b = 0; b < blocks; ++b) r.options.add_sack({u32(rng), u32(rng)});
    while (!r.options.fits()) --r.options.sack_count;  // drop blocks that do not fit
    r.payload_length = size(rng);
    with_sack += r.options.sack_count > 0;
    with_all += r.options.mss && r.options.window_scale && r.options.sack_permitted && r.options.timestamps;

    const ipv4_address src{u32(rng)}, dst{u32(rng)};
    std::vector<std::byte> buffer(r.buffer_length() + u8(rng) % 3);  // out may be larger
    for (std::size_t j = r.header_length(); j < buffer.size(); ++j) buffer[j] = static_cast<std::byte>(u8(rng));
    const std::vector<std::byte> payload(buffer.begin() + static_cast<std::ptrdiff_t>(r.header_length()),
                                         buffer.begin() + static_cast<std::ptrdiff_t>(r.buffer_length()));
    REQUIRE(tcp::emit(r, buffer, src, dst) == r.header_length());
    const auto segment = std::span<const std::byte>(buffer).first(r.buffer_length());
    const auto v = tcp::parse(segment, src, dst);
    REQUIRE(v);
    CHECK(v->header_length() == r.header_length());
    CHECK(v->header_length() % 4 == 0);
    CHECK(tcp::repr::from(*v) == r);
    CHECK(std::equal(payload.begin(), payload.end(), v->payload().begin(), v->payload().end()));
  }
  CHECK(with_sack > 100);
  CHECK(with_all > 20);
}

TEST_CASE("RFC 9293 3.1: options emit and parse in constant expressions", "[tcp][options]") {
  constexpr tcp::options decoded = [] {
    tcp::options o;
    o.mss = 1460;
    o.window_scale = 15;
    o.timestamps = tcp::timestamps_option{1, 2};
    o.add_sack({3, 4});
    std::array<std::byte, 40> bytes{};
    tcp::emit_options(o, bytes);
    return tcp::parse_options(std::span<const std::byte>(bytes).first(o.length())).value();
  }();
  static_assert(decoded.mss == 1460);
  static_assert(decoded.window_scale == 15 && decoded.window_scale_clamped() == 14);
  static_assert(decoded.timestamps == tcp::timestamps_option{1, 2});
  static_assert(decoded.sack_count == 1 && decoded.sack_blocks[0] == tcp::sack_block{3, 4});
  CHECK(decoded.length() == 4 + 12 + 4 + 12);
}

TEST_CASE("RFC 7323 appendix A: <NOP, NOP, TSopt> (decoded in one step) means what any other layout of it means") {
  // TSval 0x01020304, TSecr 0x0a0b0c0d: the recommended layout, then the
  // same option after it with the NOPs behind, and a truncated look-alike.
  const auto recommended = tcp::parse_options(bytes_of({1, 1, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13}));
  const auto other = tcp::parse_options(bytes_of({8, 10, 1, 2, 3, 4, 10, 11, 12, 13, 1, 1}));
  REQUIRE(recommended);
  REQUIRE(other);
  CHECK(*recommended == *other);
  REQUIRE(recommended->timestamps);
  CHECK(recommended->timestamps->tsval == 0x01020304u);
  CHECK(recommended->timestamps->tsecr == 0x0a0b0c0du);
  CHECK_FALSE(recommended->mss);
  CHECK(recommended->sack().empty());
  CHECK(tcp::parse_options(bytes_of({1, 1, 8, 9, 1, 2, 3, 4, 10, 11, 12})).error() == error::bad_option);
}
