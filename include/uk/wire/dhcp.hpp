// DHCP messages (RFC 2131) on the BOOTP format (RFC 951, RFC 1542): a view
// checked once by parse(), its plain repr, and emit(). The options
// themselves (codes, `dhcp::options`, the area walker) are in
// uk/wire/dhcp_options.hpp.
//
//   offset  field   octets
//        0  op      1   BOOTREQUEST (1) or BOOTREPLY (2)
//        1  htype   1   hardware address type (1: Ethernet)
//        2  hlen    1   hardware address length (6 for Ethernet)
//        3  hops    1   relay agent hops
//        4  xid     4   transaction id
//        8  secs    2   seconds since the client began
//       10  flags   2   bit 0 (0x8000): BROADCAST; the rest MUST be zero
//       12  ciaddr  4   client address (when it has one)
//       16  yiaddr  4   "your" address (assigned by the server)
//       20  siaddr  4   next server (TFTP) address
//       24  giaddr  4   relay agent address
//       28  chaddr  16  client hardware address
//       44  sname   64  server host name, NUL-terminated, or options (overload)
//      108  file    128 boot file name, NUL-terminated, or options (overload)
//      236  cookie  4   99.130.83.99
//      240  options ... to the end of the UDP payload
//
// (RFC 2131 section 2, figure 1 and table 1; the cookie: RFC 2131 section 3.)
// DHCP has no checksum of its own: UDP's covers it.
//
// What parse() checks, and the error it gives:
//  - truncated:   fewer than the 236 octets of the fixed part;
//  - malformed:   no room for the magic cookie (236 to 239 octets: a BOOTP
//                 message without vendor area), a cookie other than
//                 99.130.83.99 (RFC 2131 3), or an op other than 1 and 2
//                 (RFC 951 3);
//  - bad_length:  hlen larger than the 16-octet chaddr field;
//  - bad_option:  an option that does not fit its area or has a length the
//                 RFC forbids, a repeated fixed-length option, an overload
//                 value other than 1, 2, 3, a message type other than 1..18;
//  - unsupported: message types 9..18 (later RFCs), or a hostname, parameter
//                 request list or client id split over several instances.
// A message without option 53 is a BOOTP message: it parses, and its
// options().message_type is empty; a DHCP client drops it (RFC 2131 3).
//
// Nothing here allocates, reads a clock or throws. emit() asserts its
// preconditions (buffer large enough, values that fit their fields).
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include "uk/addr.hpp"
#include "uk/detail/endian.hpp"
#include "uk/wire/dhcp_options.hpp"
#include "uk/wire/error.hpp"

namespace uk::wire::dhcp {

/// UDP ports (RFC 2131 4.1: "DHCP messages from a client to a server are
/// sent to the 'DHCP server' port (67), and DHCP messages from a server to a
/// client are sent to the 'DHCP client' port (68)").
inline constexpr std::uint16_t server_port = 67;
inline constexpr std::uint16_t client_port = 68;

/// The fixed BOOTP part, op to file (RFC 2131 section 2).
inline constexpr std::size_t fixed_length = 236;
/// Where the options field starts: after the fixed part and the 4-octet cookie.
inline constexpr std::size_t options_offset = 240;
/// The magic cookie 99.130.83.99 (RFC 2131 section 3, RFC 1497).
inline constexpr std::uint32_t magic_cookie = 0x63825363u;
/// "The IP Total Length and UDP Length must be large enough to contain the
/// minimal BOOTP header of 300 octets" (RFC 1542 2.1): emit() pads to it.
inline constexpr std::size_t min_message_length = 300;
/// A client must accept messages up to 576 octets, an options field of 312
/// (RFC 2131 section 2); larger only after option 57 says so.
inline constexpr std::size_t default_max_message_length = 576;

inline constexpr std::size_t chaddr_length = 16;
inline constexpr std::size_t sname_length = 64;
inline constexpr std::size_t file_length = 128;

namespace field {
inline constexpr std::size_t op = 0;
inline constexpr std::size_t htype = 1;
inline constexpr std::size_t hlen = 2;
inline constexpr std::size_t hops = 3;
inline constexpr std::size_t xid = 4;
inline constexpr std::size_t secs = 8;
inline constexpr std::size_t flags = 10;
inline constexpr std::size_t ciaddr = 12;
inline constexpr std::size_t yiaddr = 16;
inline constexpr std::size_t siaddr = 20;
inline constexpr std::size_t giaddr = 24;
inline constexpr std::size_t chaddr = 28;
inline constexpr std::size_t sname = 44;
inline constexpr std::size_t file = 108;
inline constexpr std::size_t cookie = 236;
}  // namespace field

/// The op field (RFC 951 section 3: BOOTREQUEST, BOOTREPLY).
enum class opcode : std::uint8_t { boot_request = 1, boot_reply = 2 };

/// htype of Ethernet (10Mb), from the ARP hardware types (RFC 1700).
inline constexpr std::uint8_t htype_ethernet = 1;
/// The BROADCAST bit of flags (RFC 2131 section 2, figure 2).
inline constexpr std::uint16_t flag_broadcast = 0x8000;

class view;
parse_result<view> parse(std::span<const std::byte> bytes) noexcept;

namespace detail {
/// A NUL-terminated string field (sname, file: RFC 2131 section 2), up to
/// its first NUL or the whole field.
inline std::string_view c_string(std::span<const std::byte> field) noexcept {
  const auto nul = std::ranges::find(field, std::byte{0});
  return {reinterpret_cast<const char*>(field.data()), static_cast<std::size_t>(nul - field.begin())};
}
constexpr bool carries_file(overload_fields o) noexcept { return (static_cast<unsigned>(o) & 1u) != 0; }
constexpr bool carries_sname(overload_fields o) noexcept { return (static_cast<unsigned>(o) & 2u) != 0; }
}  // namespace detail

/// A DHCP message that parse() validated: the whole UDP payload, and the
/// options gathered from every area. Accessors never read outside the span.
class view {
 public:
  constexpr opcode op() const noexcept { return static_cast<opcode>(u8(field::op)); }
  constexpr std::uint8_t htype() const noexcept { return u8(field::htype); }
  constexpr std::uint8_t hlen() const noexcept { return u8(field::hlen); }
  constexpr std::uint8_t hops() const noexcept { return u8(field::hops); }
  constexpr std::uint32_t xid() const noexcept { return uk::detail::load_be32(at(field::xid)); }
  constexpr std::uint16_t secs() const noexcept { return uk::detail::load_be16(at(field::secs)); }
  /// All 16 bits; only BROADCAST is defined, the others are ignored (RFC 2131 2).
  constexpr std::uint16_t flags() const noexcept { return uk::detail::load_be16(at(field::flags)); }
  constexpr bool broadcast() const noexcept { return (flags() & flag_broadcast) != 0; }
  /// Client IP address: set by a client that is BOUND, RENEWING or REBINDING.
  constexpr ipv4_address ciaddr() const noexcept { return address(field::ciaddr); }
  /// 'your' (client) IP address: the address a server offers or assigns.
  constexpr ipv4_address yiaddr() const noexcept { return address(field::yiaddr); }
  /// The next server to use in bootstrap (RFC 2131 section 2).
  constexpr ipv4_address siaddr() const noexcept { return address(field::siaddr); }
  /// Relay agent IP address.
  constexpr ipv4_address giaddr() const noexcept { return address(field::giaddr); }
  /// The 16-octet chaddr field; the address is its first hlen() octets.
  constexpr std::span<const std::byte, chaddr_length> chaddr() const noexcept {
    return bytes_.subspan<field::chaddr, chaddr_length>();
  }
  /// The client's MAC address, when htype is Ethernet and hlen is 6.
  constexpr std::optional<mac_address> client_mac() const noexcept {
    if (htype() != htype_ethernet || hlen() != 6) return std::nullopt;
    mac_address m;
    for (std::size_t i = 0; i < 6; ++i) m.octets[i] = u8(field::chaddr + i);
    return m;
  }
  /// The raw sname and file fields, whatever they carry.
  constexpr std::span<const std::byte, sname_length> sname_field() const noexcept {
    return bytes_.subspan<field::sname, sname_length>();
  }
  constexpr std::span<const std::byte, file_length> file_field() const noexcept {
    return bytes_.subspan<field::file, file_length>();
  }
  /// The server host name, or empty when sname carries options (RFC 2132 9.3).
  std::string_view server_name() const noexcept {
    return detail::carries_sname(overload_) ? std::string_view{} : detail::c_string(sname_field());
  }
  /// The boot file name, or empty when file carries options (RFC 2132 9.3).
  std::string_view boot_file() const noexcept {
    return detail::carries_file(overload_) ? std::string_view{} : detail::c_string(file_field());
  }
  /// Which of file and sname carry options (option 52 of the options field).
  constexpr overload_fields overload() const noexcept { return overload_; }
  /// The options of all areas, parsed.
  constexpr const dhcp::options& options() const noexcept { return options_; }

  /// Calls `f(code, data)` for every option other than pad and end, in the
  /// order RFC 2131 4.1 gives: the options field, then file, then sname
  /// (when overloaded). Lets a caller read options `dhcp::options` does not
  /// model. An overload option inside file or sname is not reported.
  template <class F>
  constexpr void for_each_option(F&& f) const noexcept {
    auto visit = [&f](std::uint8_t code, std::span<const std::byte> data) -> std::optional<error> {
      f(code, data);
      return std::nullopt;
    };
    auto visit_overloaded = [&f](std::uint8_t code, std::span<const std::byte> data) -> std::optional<error> {
      if (code != option_code::overload) f(code, data);
      return std::nullopt;
    };
    (void)detail::walk_area(options_field(), visit);
    if (detail::carries_file(overload_)) (void)detail::walk_area(file_field(), visit_overloaded);
    if (detail::carries_sname(overload_)) (void)detail::walk_area(sname_field(), visit_overloaded);
  }

  /// The fixed part and the cookie (240 octets).
  constexpr std::span<const std::byte> header() const noexcept { return bytes_.first(options_offset); }
  /// The options field: from octet 240 to the end of the message.
  constexpr std::span<const std::byte> options_field() const noexcept { return bytes_.subspan(options_offset); }
  /// Same as options_field(): what follows the header.
  constexpr std::span<const std::byte> payload() const noexcept { return options_field(); }
  /// The whole message.
  constexpr std::span<const std::byte> bytes() const noexcept { return bytes_; }

 private:
  constexpr view(std::span<const std::byte> bytes, const dhcp::options& o, overload_fields overload) noexcept
      : bytes_(bytes), options_(o), overload_(overload) {}
  constexpr const std::byte* at(std::size_t offset) const noexcept { return bytes_.data() + offset; }
  constexpr std::uint8_t u8(std::size_t offset) const noexcept { return std::to_integer<std::uint8_t>(bytes_[offset]); }
  constexpr ipv4_address address(std::size_t offset) const noexcept {
    return ipv4_address{uk::detail::load_be32(at(offset))};
  }

  friend parse_result<view> parse(std::span<const std::byte>) noexcept;

  std::span<const std::byte> bytes_;
  dhcp::options options_;
  overload_fields overload_ = overload_fields::none;
};

/// Validates a DHCP message: `bytes` is the UDP payload. Everything after the
/// cookie is the options field (RFC 2131 section 2: "options: variable").
/// The errors are listed at the top of this file.
inline parse_result<view> parse(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < fixed_length) return failure{error::truncated};
  // RFC 2131 3: "The first four octets of the 'options' field of the DHCP
  // message contain the (decimal) values 99, 130, 83 and 99".
  if (bytes.size() < options_offset) return failure{error::malformed};
  if (uk::detail::load_be32(bytes.data() + field::cookie) != magic_cookie) return failure{error::malformed};
  const auto op = std::to_integer<std::uint8_t>(bytes[field::op]);
  if (op != 1 && op != 2) return failure{error::malformed};  // RFC 951 3
  if (std::to_integer<std::uint8_t>(bytes[field::hlen]) > chaddr_length) return failure{error::bad_length};

  detail::options_decoder decoder;
  auto overload = overload_fields::none;
  bool overload_seen = false;
  // RFC 2131 4.1: "The options in the 'options' field MUST be interpreted
  // first, so that any 'option overload' options may be interpreted."
  auto in_options_field = [&](std::uint8_t code, std::span<const std::byte> data) -> std::optional<error> {
    if (code != option_code::overload) return decoder.add(code, data);
    // RFC 2132 9.3: length 1, value 1 ('file'), 2 ('sname') or 3 (both).
    if (overload_seen || data.size() != 1) return error::bad_option;
    const auto v = std::to_integer<std::uint8_t>(data[0]);
    if (v < 1 || v > 3) return error::bad_option;
    overload = static_cast<overload_fields>(v);
    overload_seen = true;
    return std::nullopt;
  };
  // RFC 2131 4.1: the option overload option "MUST appear in the 'options'
  // field": one inside file or sname is ignored, so no area is read twice.
  auto in_overloaded_field = [&](std::uint8_t code, std::span<const std::byte> data) -> std::optional<error> {
    if (code == option_code::overload) return std::nullopt;
    return decoder.add(code, data);
  };
  if (auto e = detail::walk_area(bytes.subspan(options_offset), in_options_field)) return failure{*e};
  // "The 'file' field MUST be interpreted next (if the 'option overload'
  // option indicates that the 'file' field contains DHCP options), followed
  // by the 'sname' field." (RFC 2131 4.1)
  if (detail::carries_file(overload)) {
    if (auto e = detail::walk_area(bytes.subspan(field::file, file_length), in_overloaded_field)) return failure{*e};
  }
  if (detail::carries_sname(overload)) {
    if (auto e = detail::walk_area(bytes.subspan(field::sname, sname_length), in_overloaded_field)) return failure{*e};
  }
  if (auto e = decoder.finish()) return failure{*e};
  return view{bytes, decoder.result(), overload};
}

/// The plain values of a DHCP message. `sname` and `file` are the names
/// (empty when the parsed message carried options there); the options are
/// those `dhcp::options` models. Strings point into the parsed packet or
/// into storage the caller keeps alive until emit().
struct repr {
  opcode op = opcode::boot_request;
  std::uint8_t htype = htype_ethernet;
  std::uint8_t hlen = 6;
  std::uint8_t hops = 0;
  std::uint32_t xid = 0;
  std::uint16_t secs = 0;
  bool broadcast = false;
  ipv4_address ciaddr{};
  ipv4_address yiaddr{};
  ipv4_address siaddr{};
  ipv4_address giaddr{};
  std::array<std::uint8_t, chaddr_length> chaddr{};
  std::string_view sname{};  ///< at most 64 octets, no NUL
  std::string_view file{};   ///< at most 128 octets, no NUL
  dhcp::options options{};

  static repr from(const view& v) noexcept {
    repr r;
    r.op = v.op();
    r.htype = v.htype();
    r.hlen = v.hlen();
    r.hops = v.hops();
    r.xid = v.xid();
    r.secs = v.secs();
    r.broadcast = v.broadcast();
    r.ciaddr = v.ciaddr();
    r.yiaddr = v.yiaddr();
    r.siaddr = v.siaddr();
    r.giaddr = v.giaddr();
    for (std::size_t i = 0; i < chaddr_length; ++i) r.chaddr[i] = std::to_integer<std::uint8_t>(v.chaddr()[i]);
    r.sname = v.server_name();
    r.file = v.boot_file();
    r.options = v.options();
    return r;
  }

  /// Sets htype 1, hlen 6 and chaddr to `mac` followed by zeros.
  constexpr void set_client_mac(mac_address mac) noexcept {
    htype = htype_ethernet;
    hlen = 6;
    chaddr = {};
    std::copy(mac.octets.begin(), mac.octets.end(), chaddr.begin());
  }
  constexpr std::optional<mac_address> client_mac() const noexcept {
    if (htype != htype_ethernet || hlen != 6) return std::nullopt;
    mac_address m;
    std::copy_n(chaddr.begin(), 6, m.octets.begin());
    return m;
  }

  /// The fixed part and cookie (240 octets).
  constexpr std::size_t header_length() const noexcept { return options_offset; }
  /// Octets emit() writes: header, options, end, padded to 300 (RFC 1542 2.1).
  constexpr std::size_t length() const noexcept {
    return std::max(min_message_length, options_offset + detail::options_length(options));
  }

  friend bool operator==(const repr&, const repr&) = default;
};

/// Writes the message of `r` at the start of `out`: the fixed part, the
/// magic cookie, the options (message type first, then the others, each as
/// a single instance, then end), and pad options up to 300 octets (RFC 1542
/// 2.1, RFC 2132 3.1). Never uses option overload. Returns r.length().
/// Preconditions: out.size() >= r.length(); hlen <= 16; sname and file fit
/// their fields; hostname, parameter request list and client id fit one
/// option (1..255, 1..255 and 2..255 octets).
inline std::size_t emit(const repr& r, std::span<std::byte> out) noexcept {
  const std::size_t length = r.length();
  assert(out.size() >= length);
  assert(r.hlen <= chaddr_length);
  assert(r.sname.size() <= sname_length && r.file.size() <= file_length);
  std::byte* p = out.data();
  std::memset(p, 0, options_offset);
  p[field::op] = static_cast<std::byte>(r.op);
  p[field::htype] = std::byte{r.htype};
  p[field::hlen] = std::byte{r.hlen};
  p[field::hops] = std::byte{r.hops};
  uk::detail::store_be32(p + field::xid, r.xid);
  uk::detail::store_be16(p + field::secs, r.secs);
  // RFC 2131 2: the bits other than BROADCAST "MUST be zero".
  uk::detail::store_be16(p + field::flags, r.broadcast ? flag_broadcast : 0);
  uk::detail::store_be32(p + field::ciaddr, r.ciaddr.value);
  uk::detail::store_be32(p + field::yiaddr, r.yiaddr.value);
  uk::detail::store_be32(p + field::siaddr, r.siaddr.value);
  uk::detail::store_be32(p + field::giaddr, r.giaddr.value);
  for (std::size_t i = 0; i < chaddr_length; ++i) p[field::chaddr + i] = std::byte{r.chaddr[i]};
  // (Not memcpy: an empty string_view may hold a null pointer.)
  auto text = [](std::string_view s, std::byte* to) {
    std::transform(s.begin(), s.end(), to, [](char c) { return static_cast<std::byte>(c); });
  };
  text(r.sname, p + field::sname);
  text(r.file, p + field::file);
  uk::detail::store_be32(p + field::cookie, magic_cookie);
  std::byte* const end = detail::emit_options(r.options, p + options_offset);
  // RFC 2132 3.1: pad options (zeros) fill the rest.
  std::fill(end, p + length, std::byte{0});
  return length;
}

}  // namespace uk::wire::dhcp
