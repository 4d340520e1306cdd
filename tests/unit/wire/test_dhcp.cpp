// Tests of uk/wire/dhcp.hpp and uk/wire/dhcp_options.hpp: DHCP messages
// (RFC 2131) on BOOTP (RFC 951, RFC 1542) with the options of RFC 2132 and
// the concatenation rule of RFC 3396.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "support/pcap_file.hpp"
#include "uk/wire/dhcp.hpp"

namespace dhcp = uk::wire::dhcp;
using uk::ipv4_address;
using uk::mac_address;
using uk::wire::error;

namespace {

using bytes = std::vector<std::byte>;

ipv4_address ip(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return ipv4_address::from_octets(a, b, c, d);
}

/// A BOOTREQUEST fixed part (htype 1, hlen 6), the magic cookie, then
/// `options` as the options field, octet by octet.
bytes message(std::initializer_list<int> options) {
  bytes m(dhcp::options_offset, std::byte{0});
  m[dhcp::field::op] = std::byte{1};
  m[dhcp::field::htype] = std::byte{1};
  m[dhcp::field::hlen] = std::byte{6};
  m[dhcp::field::cookie + 0] = std::byte{99};
  m[dhcp::field::cookie + 1] = std::byte{130};
  m[dhcp::field::cookie + 2] = std::byte{83};
  m[dhcp::field::cookie + 3] = std::byte{99};
  for (int o : options) m.push_back(static_cast<std::byte>(o));
  return m;
}

/// Writes `octets` at the start of the file or sname field of `m`.
void put(bytes& m, std::size_t field, std::initializer_list<int> octets) {
  std::size_t at = field;
  for (int o : octets) m[at++] = static_cast<std::byte>(o);
}

error parse_error(const bytes& m) {
  auto r = dhcp::parse(m);
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

/// The options of a message, kept together with the packet they point into
/// (hostname and octet strings are views into it).
struct parsed_options : dhcp::options {
  bytes packet;
};

parsed_options parse_options(bytes m) {
  parsed_options p;
  p.packet = std::move(m);
  auto r = dhcp::parse(p.packet);
  if (!r) FAIL("parse failed: " << uk::wire::to_string(r.error()));
  static_cast<dhcp::options&>(p) = r->options();
  return p;  // moving the vector keeps its buffer where the views point
}

/// The DHCP payload of the i-th captured frame: Ethernet (14) + IPv4 without
/// options (20) + UDP (8) precede it; skipped by hand, since this test is
/// about DHCP only.
struct kernel_capture {
  uk::test::pcap_file file = uk::test::read_pcap(UK_TEST_DATA_DIR "/kernel_dhcp.pcap");
  std::span<const std::byte> dhcp_payload(std::size_t i) const {
    REQUIRE(i < file.packets.size());
    return std::span<const std::byte>(file.packets[i].data).subspan(42);
  }
};

constexpr mac_address client_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr std::uint32_t captured_xid = 0xd5707012u;

std::vector<int> octets_of(const dhcp::octet_string& s) {
  std::vector<int> v;
  for (std::size_t i = 0; i < s.size(); ++i) v.push_back(s[i]);
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------
// Captured from dnsmasq and busybox udhcpc (tests/data/capture_dhcp.sh).

TEST_CASE("RFC 2131 3.1: captured DHCPDISCOVER from udhcpc parses to its fields", "[dhcp][kernel]") {
  kernel_capture cap;
  REQUIRE(cap.file.linktype == 1);
  REQUIRE(cap.file.packets.size() == 4);
  auto v = dhcp::parse(cap.dhcp_payload(0));
  REQUIRE(v);
  CHECK(v->bytes().size() == 300);
  CHECK(v->op() == dhcp::opcode::boot_request);
  CHECK(v->htype() == 1);
  CHECK(v->hlen() == 6);
  CHECK(v->hops() == 0);
  CHECK(v->xid() == captured_xid);
  CHECK(v->secs() == 0);
  CHECK_FALSE(v->broadcast());
  CHECK(v->ciaddr() == ipv4_address::any());
  CHECK(v->yiaddr() == ipv4_address::any());
  CHECK(v->siaddr() == ipv4_address::any());
  CHECK(v->giaddr() == ipv4_address::any());
  CHECK(v->client_mac() == client_mac);
  CHECK(v->server_name().empty());
  CHECK(v->boot_file().empty());
  CHECK(v->overload() == dhcp::overload_fields::none);

  const auto& o = v->options();
  CHECK(o.message_type == dhcp::message_type::discover);
  CHECK_FALSE(o.server_id);
  CHECK_FALSE(o.requested_ip);
  CHECK(o.hostname == std::string_view("uk-client"));
  REQUIRE(o.parameter_request_list);
  CHECK(octets_of(*o.parameter_request_list) == std::vector<int>{1, 3, 6, 12, 15, 28, 42});
  CHECK(o.parameter_request_list->contains(dhcp::option_code::router));
  CHECK_FALSE(o.parameter_request_list->contains(dhcp::option_code::lease_time));
  REQUIRE(o.client_id);
  // RFC 2132 9.14: a hardware type (1), then the MAC address.
  CHECK(octets_of(*o.client_id) == std::vector<int>{1, 2, 0, 0, 0, 0, 2});
  CHECK_FALSE(o.lease_time);
  CHECK(o.routers.empty());
  CHECK(o.dns_servers.empty());
}

TEST_CASE("RFC 2131 4.3.1: captured DHCPOFFER from dnsmasq parses to its fields", "[dhcp][kernel]") {
  kernel_capture cap;
  auto v = dhcp::parse(cap.dhcp_payload(1));
  REQUIRE(v);
  CHECK(v->op() == dhcp::opcode::boot_reply);
  CHECK(v->xid() == captured_xid);
  CHECK(v->client_mac() == client_mac);
  CHECK(v->yiaddr() == ip(192, 0, 2, 146));
  CHECK(v->siaddr() == ip(192, 0, 2, 1));
  CHECK(v->ciaddr() == ipv4_address::any());
  CHECK(v->giaddr() == ipv4_address::any());
  const auto& o = v->options();
  CHECK(o.message_type == dhcp::message_type::offer);
  CHECK(o.server_id == ip(192, 0, 2, 1));
  CHECK(o.lease_time == 3600u);
  CHECK(o.renewal_time == 1800u);
  CHECK(o.rebinding_time == 3150u);
  CHECK(o.subnet_mask == ip(255, 255, 255, 0));
  CHECK(o.routers == dhcp::address_list{ip(192, 0, 2, 1)});
  CHECK(o.dns_servers == dhcp::address_list{ip(192, 0, 2, 53), ip(192, 0, 2, 54)});
  CHECK_FALSE(o.hostname);
  CHECK_FALSE(o.client_id);
}

TEST_CASE("RFC 2131 3.1: captured DHCPREQUEST names the offer and the server", "[dhcp][kernel]") {
  kernel_capture cap;
  auto v = dhcp::parse(cap.dhcp_payload(2));
  REQUIRE(v);
  CHECK(v->bytes().size() == 303);  // udhcpc cut it after the end option
  CHECK(v->op() == dhcp::opcode::boot_request);
  CHECK(v->xid() == captured_xid);
  CHECK(v->client_mac() == client_mac);
  CHECK(v->ciaddr() == ipv4_address::any());  // RFC 2131 4.3.2: SELECTING
  const auto& o = v->options();
  CHECK(o.message_type == dhcp::message_type::request);
  CHECK(o.requested_ip == ip(192, 0, 2, 146));
  CHECK(o.server_id == ip(192, 0, 2, 1));
  CHECK(o.hostname == std::string_view("uk-client"));
  REQUIRE(o.parameter_request_list);
  CHECK(o.parameter_request_list->size() == 7);
}

TEST_CASE("RFC 2131 4.3.2: captured DHCPACK from dnsmasq parses to its fields", "[dhcp][kernel]") {
  kernel_capture cap;
  auto v = dhcp::parse(cap.dhcp_payload(3));
  REQUIRE(v);
  CHECK(v->op() == dhcp::opcode::boot_reply);
  CHECK(v->xid() == captured_xid);
  CHECK(v->client_mac() == client_mac);
  CHECK(v->yiaddr() == ip(192, 0, 2, 146));
  CHECK(v->siaddr() == ip(192, 0, 2, 1));
  const auto& o = v->options();
  CHECK(o.message_type == dhcp::message_type::ack);
  CHECK(o.server_id == ip(192, 0, 2, 1));
  CHECK(o.lease_time == 3600u);
  CHECK(o.renewal_time == 1800u);
  CHECK(o.rebinding_time == 3150u);
  CHECK(o.subnet_mask == ip(255, 255, 255, 0));
  CHECK(o.routers == dhcp::address_list{ip(192, 0, 2, 1)});
  CHECK(o.dns_servers == dhcp::address_list{ip(192, 0, 2, 53), ip(192, 0, 2, 54)});
  CHECK(o.hostname == std::string_view("uk-client"));
}

TEST_CASE("RFC 2132 2: options dhcp::options does not model are visited by for_each_option", "[dhcp][kernel]") {
  kernel_capture cap;
  auto v = dhcp::parse(cap.dhcp_payload(0));
  REQUIRE(v);
  std::vector<int> codes;
  std::uint16_t max_size = 0;
  v->for_each_option([&](std::uint8_t code, std::span<const std::byte> data) {
    codes.push_back(code);
    if (code == dhcp::option_code::max_message_size) max_size = uk::detail::load_be16(data.data());
  });
  CHECK(codes == std::vector<int>{53, 57, 55, 12, 60, 61});
  CHECK(max_size == 576);
}

TEST_CASE("RFC 2131 2: captured messages survive parse, repr, emit, parse", "[dhcp][kernel]") {
  kernel_capture cap;
  for (std::size_t i = 0; i < 4; ++i) {
    auto v = dhcp::parse(cap.dhcp_payload(i));
    REQUIRE(v);
    const auto r = dhcp::repr::from(*v);
    bytes out(r.length());
    REQUIRE(dhcp::emit(r, out) == out.size());
    auto again = dhcp::parse(out);
    REQUIRE(again);
    CHECK(dhcp::repr::from(*again) == r);
    // The fixed part is identical octet for octet.
    CHECK(std::equal(out.begin(), out.begin() + dhcp::options_offset, cap.dhcp_payload(i).begin()));
  }
}

TEST_CASE("RFC 2132 2: every prefix of a captured ACK is parsed or refused, never read past", "[dhcp][kernel]") {
  kernel_capture cap;
  const auto ack = cap.dhcp_payload(3);
  for (std::size_t n = 0; n <= ack.size(); ++n) {
    auto r = dhcp::parse(ack.first(n));
    if (n < dhcp::fixed_length) {
      CHECK(r.error() == error::truncated);
    } else if (n < dhcp::options_offset) {
      CHECK(r.error() == error::malformed);
    } else if (!r) {
      CHECK(r.error() == error::bad_option);
    }
  }
  // A prefix that stops between two options is accepted (no end option).
  auto cut = dhcp::parse(ack.first(dhcp::options_offset + 3 + 6));  // message type, server id
  REQUIRE(cut);
  CHECK(cut->options().server_id == ip(192, 0, 2, 1));
}

// ---------------------------------------------------------------------------
// The fixed part and the magic cookie.

TEST_CASE("RFC 2131 2: a message shorter than the 236-octet fixed part is truncated", "[dhcp][malformed]") {
  const bytes m = message({53, 1, 1, 255});
  for (std::size_t n = 0; n < dhcp::fixed_length; ++n) {
    INFO("length " << n);
    auto r = dhcp::parse(std::span(m).first(n));
    REQUIRE_FALSE(r);
    CHECK(r.error() == error::truncated);
  }
}

TEST_CASE("RFC 2131 3: a message with no room for the magic cookie is malformed", "[dhcp][malformed]") {
  const bytes m = message({});
  for (std::size_t n = dhcp::fixed_length; n < dhcp::options_offset; ++n) {
    auto r = dhcp::parse(std::span(m).first(n));
    REQUIRE_FALSE(r);
    CHECK(r.error() == error::malformed);
  }
  CHECK(dhcp::parse(m));  // the cookie alone: a message with no options
}

TEST_CASE("RFC 2131 3: a magic cookie other than 99.130.83.99 is malformed", "[dhcp][malformed]") {
  for (std::size_t i = 0; i < 4; ++i) {
    bytes m = message({53, 1, 1, 255});
    m[dhcp::field::cookie + i] ^= std::byte{0x01};
    CHECK(parse_error(m) == error::malformed);
  }
  // RFC 951's vendor area with the "no cookie" value 0.0.0.0 is not DHCP either.
  bytes m = message({});
  std::fill(m.begin() + dhcp::field::cookie, m.end(), std::byte{0});
  CHECK(parse_error(m) == error::malformed);
}

TEST_CASE("RFC 951 3: op other than BOOTREQUEST (1) or BOOTREPLY (2) is malformed", "[dhcp][malformed]") {
  for (int op : {0, 3, 255}) {
    bytes m = message({53, 1, 1, 255});
    m[dhcp::field::op] = static_cast<std::byte>(op);
    CHECK(parse_error(m) == error::malformed);
  }
}

TEST_CASE("RFC 2131 2: hlen larger than the 16-octet chaddr is a bad length", "[dhcp][malformed]") {
  bytes m = message({53, 1, 1, 255});
  m[dhcp::field::hlen] = std::byte{16};
  CHECK(dhcp::parse(m));
  m[dhcp::field::hlen] = std::byte{17};
  CHECK(parse_error(m) == error::bad_length);
}

TEST_CASE("RFC 2131 2: fixed fields are read at their offsets in network order", "[dhcp]") {
  bytes m = message({255});
  put(m, 0, {2, 1, 6, 3, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x80, 0x01, 10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 3,
             10, 0, 0, 4, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff});
  put(m, dhcp::field::sname, {'s', 'r', 'v'});
  put(m, dhcp::field::file, {'p', 'x', 'e', 0, 'x'});
  auto v = dhcp::parse(m);
  REQUIRE(v);
  CHECK(v->op() == dhcp::opcode::boot_reply);
  CHECK(v->htype() == 1);
  CHECK(v->hlen() == 6);
  CHECK(v->hops() == 3);
  CHECK(v->xid() == 0xdeadbeefu);
  CHECK(v->secs() == 0x0102);
  CHECK(v->flags() == 0x8001);
  CHECK(v->broadcast());  // the other flag bits are ignored (RFC 2131 2)
  CHECK(v->ciaddr() == ip(10, 0, 0, 1));
  CHECK(v->yiaddr() == ip(10, 0, 0, 2));
  CHECK(v->siaddr() == ip(10, 0, 0, 3));
  CHECK(v->giaddr() == ip(10, 0, 0, 4));
  CHECK(v->client_mac() == mac_address{{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}});
  CHECK(v->server_name() == "srv");
  CHECK(v->boot_file() == "pxe");  // up to the first NUL
  CHECK_FALSE(v->options().message_type);  // no option 53: a BOOTP message
  CHECK(v->header().size() == 240);
  CHECK(v->options_field().size() == 1);

  m[dhcp::field::htype] = std::byte{6};  // IEEE 802 networks: not an Ethernet MAC
  CHECK_FALSE(dhcp::parse(m)->client_mac());
}

TEST_CASE("RFC 2131 2: sname and file without a NUL are read to the end of the field", "[dhcp]") {
  bytes m = message({255});
  std::fill_n(m.begin() + dhcp::field::sname, dhcp::sname_length, std::byte{'s'});
  std::fill_n(m.begin() + dhcp::field::file, dhcp::file_length, std::byte{'f'});
  auto v = dhcp::parse(m);
  REQUIRE(v);
  CHECK(v->server_name() == std::string(64, 's'));
  CHECK(v->boot_file() == std::string(128, 'f'));
}

// ---------------------------------------------------------------------------
// Option framing.

TEST_CASE("RFC 2132 2: an option whose length runs past the end of the message is a bad option", "[dhcp][malformed]") {
  CHECK(parse_error(message({53, 1, 1, 54, 4, 192, 0, 2})) == error::bad_option);
  CHECK(parse_error(message({53, 1, 1, 200, 255})) == error::bad_option);  // unknown options too
  CHECK(parse_error(message({53, 1, 1, 12})) == error::bad_option);        // code with no length octet
  CHECK(parse_error(message({53, 1})) == error::bad_option);
  CHECK(parse_error(message({53, 2, 1})) == error::bad_option);
}

TEST_CASE("RFC 2131 4.1: a missing end option is accepted when the last option ends with the area", "[dhcp]") {
  auto o = parse_options(message({53, 1, 3, 50, 4, 10, 0, 0, 7}));
  CHECK(o.message_type == dhcp::message_type::request);
  CHECK(o.requested_ip == ip(10, 0, 0, 7));
  CHECK(parse_options(message({0, 0, 53, 1, 3, 0})).message_type == dhcp::message_type::request);
}

TEST_CASE("RFC 2132 3.1, 3.2: pad options are skipped and nothing after end is read", "[dhcp]") {
  auto o = parse_options(message({0, 0, 0, 53, 1, 5, 0, 255, 54, 99, 0xde, 0xad}));
  CHECK(o.message_type == dhcp::message_type::ack);
  CHECK_FALSE(o.server_id);
}

TEST_CASE("RFC 2132 2: unknown options are skipped by their length", "[dhcp]") {
  // 200 carries an octet 255 and 53 that must not be taken for end or a message type.
  auto o = parse_options(message({200, 3, 255, 53, 1, 53, 1, 2, 201, 0, 54, 4, 10, 0, 0, 1, 255}));
  CHECK(o.message_type == dhcp::message_type::offer);
  CHECK(o.server_id == ip(10, 0, 0, 1));
}

TEST_CASE("RFC 2132 3.3, 9.1, 9.2, 9.7, 9.11, 9.12: fixed 4-octet options of another length are bad options", "[dhcp][malformed]") {
  for (int code : {1, 50, 51, 54, 58, 59}) {
    INFO("option " << code);
    CHECK(parse_error(message({53, 1, 1, code, 3, 1, 2, 3, 255})) == error::bad_option);
    CHECK(parse_error(message({53, 1, 1, code, 5, 1, 2, 3, 4, 5, 255})) == error::bad_option);
    CHECK(parse_error(message({53, 1, 1, code, 0, 255})) == error::bad_option);
  }
  auto o = parse_options(message({51, 4, 0xff, 0xff, 0xff, 0xff, 58, 4, 0, 0, 0, 60, 59, 4, 0, 0, 0, 90}));
  CHECK(o.lease_time == dhcp::infinite_lease);  // RFC 2131 3.3
  CHECK(o.renewal_time == 60u);
  CHECK(o.rebinding_time == 90u);
}

TEST_CASE("RFC 2132 9.6: message type of another length than 1 is a bad option", "[dhcp][malformed]") {
  CHECK(parse_error(message({53, 0, 255})) == error::bad_option);
  CHECK(parse_error(message({53, 2, 1, 1, 255})) == error::bad_option);
}

TEST_CASE("RFC 2132 9.6: message types 1 to 8 are DHCPDISCOVER to DHCPINFORM", "[dhcp]") {
  for (int t = 1; t <= 8; ++t) {
    auto o = parse_options(message({53, 1, t, 255}));
    REQUIRE(o.message_type);
    CHECK(static_cast<int>(*o.message_type) == t);
  }
  CHECK(dhcp::to_string(dhcp::message_type::discover) == "DHCPDISCOVER");
  CHECK(dhcp::to_string(dhcp::message_type::inform) == "DHCPINFORM");
}

TEST_CASE("RFC 2132 9.6: a message type out of range is refused", "[dhcp][malformed]") {
  CHECK(parse_error(message({53, 1, 0, 255})) == error::bad_option);
  for (int t = 9; t <= 18; ++t)  // FORCERENEW (RFC 3203), lease query (RFC 4388, 6926, 7724)
    CHECK(parse_error(message({53, 1, t, 255})) == error::unsupported);
  for (int t : {19, 100, 255}) CHECK(parse_error(message({53, 1, t, 255})) == error::bad_option);
}

TEST_CASE("RFC 2132 3.5, 3.8: router and DNS lists whose length is not a multiple of 4 are bad options", "[dhcp][malformed]") {
  for (int code : {3, 6}) {
    INFO("option " << code);
    CHECK(parse_error(message({53, 1, 2, code, 5, 10, 0, 0, 1, 10, 255})) == error::bad_option);
    CHECK(parse_error(message({53, 1, 2, code, 3, 10, 0, 0, 255})) == error::bad_option);
    CHECK(parse_error(message({53, 1, 2, code, 0, 255})) == error::bad_option);  // minimum length 4
    CHECK(parse_error(message({53, 1, 2, code, 7, 10, 0, 0, 1, 10, 0, 0, 255})) == error::bad_option);
  }
}

TEST_CASE("RFC 2132 3.5: more routers than the list holds are counted, not kept", "[dhcp]") {
  std::vector<int> opts{53, 1, 2, 3, 40};
  for (int i = 1; i <= 10; ++i) opts.insert(opts.end(), {10, 0, 0, i});
  opts.push_back(255);
  bytes m = message({});
  for (int o : opts) m.push_back(static_cast<std::byte>(o));
  auto o = parse_options(m);
  REQUIRE(o.routers.size() == dhcp::address_list::capacity);
  CHECK(o.routers.omitted() == 2);
  CHECK(o.routers[0] == ip(10, 0, 0, 1));  // the preferred one first (RFC 2132 3.5)
  CHECK(o.routers[7] == ip(10, 0, 0, 8));
}

TEST_CASE("RFC 2132 3.14, 9.8, 9.14: hostname, parameter request list and client id below their minimum length", "[dhcp][malformed]") {
  CHECK(parse_error(message({12, 0, 255})) == error::bad_option);
  CHECK(parse_error(message({55, 0, 255})) == error::bad_option);
  CHECK(parse_error(message({61, 1, 1, 255})) == error::bad_option);
  auto o = parse_options(message({12, 1, 'h', 55, 1, 3, 61, 2, 0, 'x', 255}));
  CHECK(o.hostname == std::string_view("h"));
  CHECK(o.parameter_request_list->size() == 1);
  CHECK(o.client_id->size() == 2);
}

TEST_CASE("RFC 2132 3.14: the hostname is a view into the packet, not a copy", "[dhcp]") {
  const bytes m = message({12, 4, 'n', 'o', 'd', 'e', 255});
  auto v = dhcp::parse(m);
  REQUIRE(v);
  REQUIRE(v->options().hostname);
  CHECK(*v->options().hostname == "node");
  CHECK(reinterpret_cast<const std::byte*>(v->options().hostname->data()) == m.data() + dhcp::options_offset + 2);
}

// ---------------------------------------------------------------------------
// RFC 3396: options that appear several times.

TEST_CASE("RFC 3396: router and DNS lists split over several instances are concatenated", "[dhcp]") {
  auto o = parse_options(message({3, 4, 10, 0, 0, 1, 6, 4, 9, 9, 9, 9, 3, 8, 10, 0, 0, 2, 10, 0, 0, 3, 255}));
  CHECK(o.routers == dhcp::address_list{ip(10, 0, 0, 1), ip(10, 0, 0, 2), ip(10, 0, 0, 3)});
  CHECK(o.dns_servers == dhcp::address_list{ip(9, 9, 9, 9)});
  // Split inside an address: the concatenation is what counts.
  auto split = parse_options(message({6, 6, 1, 1, 1, 1, 8, 8, 6, 2, 8, 8, 255}));
  CHECK(split.dns_servers == dhcp::address_list{ip(1, 1, 1, 1), ip(8, 8, 8, 8)});
  CHECK(parse_error(message({6, 6, 1, 1, 1, 1, 8, 8, 6, 1, 8, 255})) == error::bad_option);
}

TEST_CASE("RFC 3396: a repeated fixed-length option concatenates to a bad length", "[dhcp][malformed]") {
  for (int code : {1, 50, 51, 54, 58, 59}) {
    INFO("option " << code);
    CHECK(parse_error(message({code, 4, 1, 2, 3, 4, code, 4, 1, 2, 3, 4, 255})) == error::bad_option);
  }
  CHECK(parse_error(message({53, 1, 1, 53, 1, 1, 255})) == error::bad_option);
  CHECK(parse_error(message({52, 1, 1, 52, 1, 1, 255})) == error::bad_option);
}

TEST_CASE("RFC 3396: a split hostname, parameter request list or client id is unsupported", "[dhcp][malformed]") {
  CHECK(parse_error(message({12, 2, 'a', 'b', 12, 2, 'c', 'd', 255})) == error::unsupported);
  CHECK(parse_error(message({55, 1, 3, 55, 1, 6, 255})) == error::unsupported);
  CHECK(parse_error(message({61, 2, 1, 2, 61, 2, 3, 4, 255})) == error::unsupported);
}

// ---------------------------------------------------------------------------
// Option overload (RFC 2132 9.3, RFC 2131 4.1).

TEST_CASE("RFC 2131 4.1: overloaded options are read from options, then file, then sname", "[dhcp][overload]") {
  bytes m = message({53, 1, 5, 52, 1, 3, 3, 4, 10, 0, 0, 1, 255});
  put(m, dhcp::field::file, {3, 4, 10, 0, 0, 2, 54, 4, 10, 0, 0, 254, 255});
  put(m, dhcp::field::sname, {3, 4, 10, 0, 0, 3, 51, 4, 0, 0, 0x0e, 0x10, 255});
  auto v = dhcp::parse(m);
  REQUIRE(v);
  CHECK(v->overload() == dhcp::overload_fields::both);
  const auto& o = v->options();
  CHECK(o.message_type == dhcp::message_type::ack);
  CHECK(o.server_id == ip(10, 0, 0, 254));
  CHECK(o.lease_time == 3600u);
  // RFC 3396 concatenates in the same order.
  CHECK(o.routers == dhcp::address_list{ip(10, 0, 0, 1), ip(10, 0, 0, 2), ip(10, 0, 0, 3)});
  // The fields hold options, not names.
  CHECK(v->server_name().empty());
  CHECK(v->boot_file().empty());
  std::vector<int> codes;
  v->for_each_option([&](std::uint8_t code, std::span<const std::byte>) { codes.push_back(code); });
  CHECK(codes == std::vector<int>{53, 52, 3, 3, 54, 3, 51});
}

TEST_CASE("RFC 2132 9.3: overload 1 reads only file, overload 2 only sname", "[dhcp][overload]") {
  bytes m = message({53, 1, 2, 52, 1, 1, 255});
  put(m, dhcp::field::file, {54, 4, 10, 0, 0, 1, 255});
  put(m, dhcp::field::sname, {'n', 'a', 'm', 'e'});
  auto v = dhcp::parse(m);
  REQUIRE(v);
  CHECK(v->overload() == dhcp::overload_fields::file);
  CHECK(v->options().server_id == ip(10, 0, 0, 1));
  CHECK(v->server_name() == "name");
  CHECK(v->boot_file().empty());

  bytes s = message({53, 1, 2, 52, 1, 2, 255});
  put(s, dhcp::field::sname, {54, 4, 10, 0, 0, 2, 255});
  put(s, dhcp::field::file, {'b', 'o', 'o', 't'});
  auto w = dhcp::parse(s);
  REQUIRE(w);
  CHECK(w->overload() == dhcp::overload_fields::sname);
  CHECK(w->options().server_id == ip(10, 0, 0, 2));
  CHECK(w->server_name().empty());
  CHECK(w->boot_file() == "boot");
}

TEST_CASE("RFC 2131 4.1: an overload option inside file or sname is ignored, so no field is read twice", "[dhcp][overload][malformed]") {
  // options -> file (overload 1); file says "sname too" and "file again": both ignored.
  bytes m = message({53, 1, 2, 52, 1, 1, 255});
  put(m, dhcp::field::file, {52, 1, 3, 52, 1, 1, 3, 4, 10, 0, 0, 1, 255});
  // sname holds what would be a bad option if it were read as options.
  put(m, dhcp::field::sname, {54, 9, 'x'});
  auto v = dhcp::parse(m);
  REQUIRE(v);
  CHECK(v->overload() == dhcp::overload_fields::file);
  CHECK(v->options().routers == dhcp::address_list{ip(10, 0, 0, 1)});
  CHECK(v->server_name().size() == 3);
  std::vector<int> codes;
  v->for_each_option([&](std::uint8_t code, std::span<const std::byte>) { codes.push_back(code); });
  CHECK(codes == std::vector<int>{53, 52, 3});

  // Both fields overloaded, each pointing at the other and itself: each is read once.
  bytes loop = message({52, 1, 3, 255});
  put(loop, dhcp::field::file, {52, 1, 2, 3, 4, 10, 0, 0, 1, 255});
  put(loop, dhcp::field::sname, {52, 1, 1, 3, 4, 10, 0, 0, 2, 255});
  auto o = parse_options(loop);
  CHECK(o.routers == dhcp::address_list{ip(10, 0, 0, 1), ip(10, 0, 0, 2)});
}

TEST_CASE("RFC 2132 9.3: an overload value other than 1, 2 or 3 is a bad option", "[dhcp][overload][malformed]") {
  for (int value : {0, 4, 255}) CHECK(parse_error(message({53, 1, 2, 52, 1, value, 255})) == error::bad_option);
  CHECK(parse_error(message({53, 1, 2, 52, 0, 255})) == error::bad_option);
  CHECK(parse_error(message({53, 1, 2, 52, 2, 1, 1, 255})) == error::bad_option);
}

TEST_CASE("RFC 2131 4.1: an option in an overloaded field must end inside that field", "[dhcp][overload][malformed]") {
  bytes m = message({53, 1, 2, 52, 1, 2, 255});
  // The last option of sname claims 10 octets where 2 remain: it may not run into file.
  put(m, dhcp::field::sname, {54, 4, 10, 0, 0, 1});
  put(m, dhcp::field::sname + 62, {12, 10});
  CHECK(parse_error(m) == error::bad_option);
  // A bad option inside file is reported the same way.
  bytes f = message({52, 1, 1, 255});
  put(f, dhcp::field::file, {3, 3, 1, 2, 3, 255});
  CHECK(parse_error(f) == error::bad_option);
  // An overloaded field filled to its last octet with no end option is accepted.
  bytes full = message({52, 1, 2, 255});
  put(full, dhcp::field::sname, {12, 62});
  std::fill_n(full.begin() + dhcp::field::sname + 2, 62, std::byte{'h'});
  auto o = parse_options(full);
  CHECK(o.hostname == std::string(62, 'h'));
}

// ---------------------------------------------------------------------------
// emit.

TEST_CASE("RFC 1542 2.1, RFC 2132 3.1: emit writes message type first, end, and pads to 300 octets", "[dhcp][emit]") {
  dhcp::repr r;
  r.xid = 0x01020304;
  r.broadcast = true;
  r.set_client_mac(client_mac);
  r.options.message_type = dhcp::message_type::discover;
  const std::array<std::byte, 3> prl{std::byte{1}, std::byte{3}, std::byte{6}};
  r.options.parameter_request_list = dhcp::octet_string{prl};
  REQUIRE(r.length() == dhcp::min_message_length);
  bytes out(400, std::byte{0xee});
  REQUIRE(dhcp::emit(r, out) == 300);
  CHECK(out[dhcp::field::op] == std::byte{1});
  CHECK(uk::detail::load_be16(out.data() + dhcp::field::flags) == 0x8000);
  CHECK(uk::detail::load_be32(out.data() + dhcp::field::cookie) == dhcp::magic_cookie);
  const std::vector<int> expected{53, 1, 1, 55, 3, 1, 3, 6, 255};
  for (std::size_t i = 0; i < expected.size(); ++i)
    CHECK(std::to_integer<int>(out[dhcp::options_offset + i]) == expected[i]);
  for (std::size_t i = dhcp::options_offset + expected.size(); i < 300; ++i) CHECK(out[i] == std::byte{0});
  CHECK(out[300] == std::byte{0xee});  // nothing written past the message
  auto v = dhcp::parse(std::span(out).first(300));
  REQUIRE(v);
  CHECK(dhcp::repr::from(*v) == r);
}

TEST_CASE("RFC 2131 4.3.1, 4.3.2: emit builds a server's DHCPOFFER, DHCPACK and DHCPNAK", "[dhcp][emit]") {
  for (auto type : {dhcp::message_type::offer, dhcp::message_type::ack, dhcp::message_type::nak}) {
    dhcp::repr r;
    r.op = dhcp::opcode::boot_reply;
    r.xid = captured_xid;
    r.set_client_mac(client_mac);
    r.options.message_type = type;
    r.options.server_id = ip(192, 0, 2, 1);
    if (type != dhcp::message_type::nak) {  // RFC 2131 table 3: a NAK carries no lease
      r.yiaddr = ip(192, 0, 2, 146);
      r.options.lease_time = 3600;
      r.options.renewal_time = 1800;
      r.options.rebinding_time = 3150;
      r.options.subnet_mask = ip(255, 255, 255, 0);
      r.options.routers = {ip(192, 0, 2, 1)};
      r.options.dns_servers = {ip(192, 0, 2, 53), ip(192, 0, 2, 54)};
    }
    bytes out(r.length());
    dhcp::emit(r, out);
    auto v = dhcp::parse(out);
    REQUIRE(v);
    CHECK(v->options().message_type == type);
    CHECK(dhcp::repr::from(*v) == r);
    CHECK(std::to_integer<int>(out[dhcp::options_offset]) == dhcp::option_code::message_type);
  }
}

TEST_CASE("RFC 2131 4.4.1: emit builds a client's DHCPDISCOVER with the fixed part udhcpc sent", "[dhcp][emit][kernel]") {
  // Compare with the captured client DISCOVER: the same fixed part.
  kernel_capture cap;
  dhcp::repr r;
  r.xid = captured_xid;
  r.set_client_mac(client_mac);
  r.options.message_type = dhcp::message_type::discover;
  bytes out(r.length());
  dhcp::emit(r, out);
  const auto captured = cap.dhcp_payload(0);
  CHECK(std::equal(out.begin(), out.begin() + dhcp::options_offset, captured.begin()));
}

TEST_CASE("RFC 2131 2: emit grows past 300 octets when the options need it", "[dhcp][emit]") {
  dhcp::repr r;
  r.options.message_type = dhcp::message_type::request;
  const std::string name(200, 'n');
  r.options.hostname = name;
  CHECK(r.length() == 240 + 3 + 202 + 1);
  bytes out(r.length());
  CHECK(dhcp::emit(r, out) == out.size());
  CHECK(out.back() == std::byte{255});
  CHECK(dhcp::repr::from(*dhcp::parse(out)) == r);
}

TEST_CASE("RFC 2131 2: parse(emit(x)) == x for random messages", "[dhcp][emit][random]") {
  std::mt19937 rng(0x0d4c9u);
  auto u = [&](std::uint32_t lo, std::uint32_t hi) { return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng); };
  auto coin = [&] { return u(0, 1) == 1; };
  auto random_octets = [&](std::size_t n) {
    std::vector<std::byte> v(n);
    for (auto& b : v) b = static_cast<std::byte>(u(0, 255));
    return v;
  };
  auto random_text = [&](std::size_t n) {
    std::string s(n, ' ');
    for (auto& c : s) c = static_cast<char>(u(1, 255));  // no NUL: sname and file are C strings
    return s;
  };
  auto random_list = [&] {
    dhcp::address_list l;
    const auto n = u(1, dhcp::address_list::capacity);
    for (std::uint32_t i = 0; i < n; ++i) l.push_back(ipv4_address{u(0, 0xffffffffu)});
    return l;
  };

  for (int iteration = 0; iteration < 1000; ++iteration) {
    // Storage for the strings the repr points into.
    const std::string sname = random_text(u(0, 64));
    const std::string file = random_text(u(0, 128));
    const std::string hostname = random_text(u(1, 255));
    const auto prl = random_octets(u(1, 255));
    const auto client_id = random_octets(u(2, 255));

    dhcp::repr r;
    r.op = coin() ? dhcp::opcode::boot_request : dhcp::opcode::boot_reply;
    r.htype = static_cast<std::uint8_t>(u(0, 255));
    r.hlen = static_cast<std::uint8_t>(u(0, 16));
    r.hops = static_cast<std::uint8_t>(u(0, 255));
    r.xid = u(0, 0xffffffffu);
    r.secs = static_cast<std::uint16_t>(u(0, 0xffff));
    r.broadcast = coin();
    r.ciaddr = ipv4_address{u(0, 0xffffffffu)};
    r.yiaddr = ipv4_address{u(0, 0xffffffffu)};
    r.siaddr = ipv4_address{u(0, 0xffffffffu)};
    r.giaddr = ipv4_address{u(0, 0xffffffffu)};
    for (auto& c : r.chaddr) c = static_cast<std::uint8_t>(u(0, 255));
    r.sname = sname;
    r.file = file;
    auto& o = r.options;
    if (coin()) o.message_type = static_cast<dhcp::message_type>(u(1, 8));
    if (coin()) o.server_id = ipv4_address{u(0, 0xffffffffu)};
    if (coin()) o.subnet_mask = ipv4_address{u(0, 0xffffffffu)};
    if (coin()) o.routers = random_list();
    if (coin()) o.dns_servers = random_list();
    if (coin()) o.hostname = hostname;
    if (coin()) o.requested_ip = ipv4_address{u(0, 0xffffffffu)};
    if (coin()) o.lease_time = u(0, 0xffffffffu);
    if (coin()) o.renewal_time = u(0, 0xffffffffu);
    if (coin()) o.rebinding_time = u(0, 0xffffffffu);
    if (coin()) o.parameter_request_list = dhcp::octet_string{prl};
    if (coin()) o.client_id = dhcp::octet_string{client_id};

    bytes out(r.length());
    REQUIRE(dhcp::emit(r, out) == out.size());
    REQUIRE(out.size() >= dhcp::min_message_length);
    auto v = dhcp::parse(out);
    if (!v) FAIL("iteration " << iteration << ": " << uk::wire::to_string(v.error()));
    if (!(dhcp::repr::from(*v) == r)) FAIL("iteration " << iteration << ": round trip differs");
  }
}
