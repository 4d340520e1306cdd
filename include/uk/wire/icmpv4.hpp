// ICMP for IPv4 (RFC 792): a validated zero-copy view of one message, its
// plain field values (repr), and an emitter.
//
// Every message starts with the same 8 bytes: type, code, checksum and a
// 4-byte "rest of header" whose meaning depends on the type (RFC 792). The
// checksum covers the whole message (RFC 792, every message format).
//
// parse() checks what every message must satisfy:
//   fewer than 8 bytes ......................... truncated
//   checksum over the message does not verify .. bad_checksum
// and nothing type-specific: a message of any type parses (one without a
// repr of its own, e.g. redirect or timestamp, becomes other_message), so the
// caller can count it before it discards it (RFC 1122 3.2.2: unknown types
// MUST be silently discarded). The type-specific accessors (identifier(), next_hop_mtu(),
// quoted()...) have the message type as a precondition.
//
// The errors (destination unreachable, time exceeded, and the other RFC 792
// errors) carry the original datagram's IP header and at least its first 8
// data bytes (RFC 792; RFC 1812 4.3.2.3 lets routers quote more). quoted()
// is those bytes; quoted_datagram() parses them with ipv4::parse_quoted().
// RFC 4884 extension structures, if any, are not interpreted.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "uk/detail/endian.hpp"
#include "uk/wire/checksum.hpp"
#include "uk/wire/error.hpp"
#include "uk/wire/ipv4.hpp"

namespace uk::wire::icmpv4 {

/// Type, code, checksum and the 4-byte rest of header (RFC 792).
inline constexpr std::size_t header_length = 8;

/// Message types (RFC 792; the list a host must know is RFC 1122 3.2.2).
/// Any other value may arrive: the enum has a fixed underlying type.
enum class message_type : std::uint8_t {
  echo_reply = 0,
  destination_unreachable = 3,
  source_quench = 4,  // deprecated by RFC 6633
  redirect = 5,
  echo_request = 8,
  time_exceeded = 11,
  parameter_problem = 12,
  timestamp = 13,
  timestamp_reply = 14,
};

/// Destination unreachable codes: 0-5 from RFC 792, 6-12 from RFC 1122
/// 3.2.2.1, 13-15 from RFC 1812 5.2.7.1.
enum class unreachable_code : std::uint8_t {
  net_unreachable = 0,
  host_unreachable = 1,
  protocol_unreachable = 2,
  port_unreachable = 3,
  fragmentation_needed = 4,  // and DF set; carries the next-hop MTU (RFC 1191 4)
  source_route_failed = 5,
  destination_network_unknown = 6,
  destination_host_unknown = 7,
  source_host_isolated = 8,
  network_administratively_prohibited = 9,
  host_administratively_prohibited = 10,
  network_unreachable_for_tos = 11,
  host_unreachable_for_tos = 12,
  communication_administratively_prohibited = 13,
  host_precedence_violation = 14,
  precedence_cutoff_in_effect = 15,
};

/// Time exceeded codes (RFC 792).
enum class time_exceeded_code : std::uint8_t {
  ttl_exceeded_in_transit = 0,
  fragment_reassembly_time_exceeded = 1,
};

namespace detail {
// Byte offsets (RFC 792).
inline constexpr std::size_t type_at = 0;
inline constexpr std::size_t code_at = 1;
inline constexpr std::size_t checksum_at = 2;
inline constexpr std::size_t rest_of_header_at = 4;
inline constexpr std::size_t identifier_at = 4;       // echo (RFC 792)
inline constexpr std::size_t sequence_number_at = 6;  // echo (RFC 792)
inline constexpr std::size_t next_hop_mtu_at = 6;     // fragmentation needed (RFC 1191 4)

class view_access;
}  // namespace detail

/// A validated ICMP message: at least 8 bytes, checksum verified. Only
/// parse() makes one; every accessor reads inside the validated span.
class view {
 public:
  constexpr message_type type() const noexcept {
    return static_cast<message_type>(octet(detail::type_at));
  }
  constexpr std::uint8_t code() const noexcept { return octet(detail::code_at); }
  constexpr std::uint16_t checksum() const noexcept { return be16(detail::checksum_at); }
  /// The 4 type-specific bytes after the checksum, as one big-endian word.
  constexpr std::uint32_t rest_of_header() const noexcept {
    return uk::detail::load_be32(bytes_.data() + detail::rest_of_header_at);
  }
  /// The 8-byte header.
  constexpr std::span<const std::byte> header() const noexcept {
    return bytes_.first(header_length);
  }
  /// Everything after the 8-byte header.
  constexpr std::span<const std::byte> payload() const noexcept {
    return bytes_.subspan(header_length);
  }
  /// The whole message.
  constexpr std::span<const std::byte> message() const noexcept { return bytes_; }

  /// Echo request or echo reply (RFC 792).
  constexpr bool is_echo() const noexcept {
    return type() == message_type::echo_request || type() == message_type::echo_reply;
  }
  /// A type whose RFC 792 format ends with "Internet Header + 64 bits of
  /// Original Data Datagram": destination unreachable, source quench,
  /// redirect, time exceeded, parameter problem.
  constexpr bool quotes_datagram() const noexcept {
    switch (type()) {
      case message_type::destination_unreachable:
      case message_type::source_quench:
      case message_type::redirect:
      case message_type::time_exceeded:
      case message_type::parameter_problem:
        return true;
      default:
        return false;
    }
  }

  /// Echo identifier (RFC 792). Precondition: is_echo().
  constexpr std::uint16_t identifier() const noexcept {
    assert(is_echo());
    return be16(detail::identifier_at);
  }
  /// Echo sequence number (RFC 792). Precondition: is_echo().
  constexpr std::uint16_t sequence_number() const noexcept {
    assert(is_echo());
    return be16(detail::sequence_number_at);
  }
  /// Echo data, which a reply returns unchanged (RFC 1122 3.2.2.6).
  /// Precondition: is_echo().
  constexpr std::span<const std::byte> echo_data() const noexcept {
    assert(is_echo());
    return payload();
  }
  /// The MTU of the next-hop network: the low-order 16 bits of the rest of
  /// header (RFC 1191 4). Zero from a router that predates RFC 1191 (RFC 1191
  /// 5 tells the host how to guess then). Precondition: destination
  /// unreachable with code fragmentation_needed.
  constexpr std::uint16_t next_hop_mtu() const noexcept {
    assert(type() == message_type::destination_unreachable &&
           code() == static_cast<std::uint8_t>(unreachable_code::fragmentation_needed));
    return be16(detail::next_hop_mtu_at);
  }
  /// The quoted original datagram: its IP header and the first bytes of its
  /// data (RFC 792). Precondition: quotes_datagram().
  constexpr std::span<const std::byte> quoted() const noexcept {
    assert(quotes_datagram());
    return payload();
  }
  /// quoted() parsed with ipv4::parse_quoted(): header fields validated, the
  /// total length not checked against the quote. Precondition: quotes_datagram().
  constexpr parse_result<ipv4::view> quoted_datagram(
      ipv4::checksum_check check = ipv4::checksum_check::verify) const noexcept {
    return ipv4::parse_quoted(quoted(), check);
  }

 private:
  friend class detail::view_access;
  constexpr explicit view(std::span<const std::byte> message) noexcept : bytes_(message) {}
  constexpr std::uint8_t octet(std::size_t at) const noexcept {
    return std::to_integer<std::uint8_t>(bytes_[at]);
  }
  constexpr std::uint16_t be16(std::size_t at) const noexcept {
    return uk::detail::load_be16(bytes_.data() + at);
  }

  std::span<const std::byte> bytes_;  // the whole message, at least 8 bytes
};

namespace detail {
class view_access {
 public:
  static constexpr view make(std::span<const std::byte> message) noexcept { return view{message}; }
};
}  // namespace detail

/// Parses one ICMP message: `message` is the whole IP payload (after
/// reassembly), since the checksum covers all of it (RFC 792).
constexpr parse_result<view> parse(std::span<const std::byte> message) noexcept {
  if (message.size() < header_length) return failure{error::truncated};
  // RFC 792: the checksum is "the 16-bit one's complement of the one's
  // complement sum of the ICMP message starting with the ICMP Type". Verified
  // on every receive (a lesson of mirage-tcpip #217).
  if (!checksum::verifies(message)) return failure{error::bad_checksum};
  return detail::view_access::make(message);
}

/// Echo request (type 8, code 0, RFC 792). repr::from() does not keep a
/// non-zero code (view::code() still shows it); emit() writes 0.
struct echo_request {
  std::uint16_t identifier = 0;
  std::uint16_t sequence_number = 0;
  friend bool operator==(const echo_request&, const echo_request&) = default;
};

/// Echo reply (type 0, code 0, RFC 792); the code as for echo_request.
struct echo_reply {
  std::uint16_t identifier = 0;
  std::uint16_t sequence_number = 0;
  friend bool operator==(const echo_reply&, const echo_reply&) = default;
};

/// Destination unreachable (type 3, RFC 792).
struct destination_unreachable {
  unreachable_code code = unreachable_code::net_unreachable;
  /// Only with code fragmentation_needed (RFC 1191 4); 0 for every other code.
  std::uint16_t next_hop_mtu = 0;
  friend bool operator==(const destination_unreachable&, const destination_unreachable&) = default;
};

/// Time exceeded (type 11, RFC 792).
struct time_exceeded {
  time_exceeded_code code = time_exceeded_code::ttl_exceeded_in_transit;
  friend bool operator==(const time_exceeded&, const time_exceeded&) = default;
};

/// Any other type, carried field by field.
struct other_message {
  message_type type{};  ///< not one of the types above (precondition of emit)
  std::uint8_t code = 0;
  std::uint32_t rest_of_header = 0;
  friend bool operator==(const other_message&, const other_message&) = default;
};

/// The header fields of one message. The payload (echo data, the quoted
/// datagram) is not part of it: it is the bytes after the header. Bits that
/// RFC 792 calls unused (and the code of an echo) are written as zero and
/// not kept by from(): view::rest_of_header() and view::code() show them.
struct repr {
  std::variant<echo_request, echo_reply, destination_unreachable, time_exceeded, other_message>
      message;

  constexpr std::size_t header_length() const noexcept { return icmpv4::header_length; }

  static constexpr repr from(const view& v) noexcept {
    switch (v.type()) {
      case message_type::echo_request:
        return {echo_request{v.identifier(), v.sequence_number()}};
      case message_type::echo_reply:
        return {echo_reply{v.identifier(), v.sequence_number()}};
      case message_type::destination_unreachable: {
        const auto code = static_cast<unreachable_code>(v.code());
        const std::uint16_t mtu =
            code == unreachable_code::fragmentation_needed ? v.next_hop_mtu() : 0;
        return {destination_unreachable{code, mtu}};
      }
      case message_type::time_exceeded:
        return {time_exceeded{static_cast<time_exceeded_code>(v.code())}};
      default:
        return {other_message{v.type(), v.code(), v.rest_of_header()}};
    }
  }

  friend bool operator==(const repr&, const repr&) = default;
};

namespace detail {
constexpr std::uint8_t number(message_type t) noexcept { return static_cast<std::uint8_t>(t); }

struct header_fields {
  std::uint8_t type;
  std::uint8_t code;
  std::uint32_t rest_of_header;
};

constexpr header_fields fields_of(const echo_request& m) noexcept {
  return {number(message_type::echo_request), 0,
          (std::uint32_t{m.identifier} << 16) | m.sequence_number};
}
constexpr header_fields fields_of(const echo_reply& m) noexcept {
  return {number(message_type::echo_reply), 0,
          (std::uint32_t{m.identifier} << 16) | m.sequence_number};
}
constexpr header_fields fields_of(const destination_unreachable& m) noexcept {
  // RFC 1191 4: the high-order 16 bits stay zero; RFC 792: otherwise unused (zero).
  assert(m.code == unreachable_code::fragmentation_needed || m.next_hop_mtu == 0);
  return {number(message_type::destination_unreachable), static_cast<std::uint8_t>(m.code),
          m.next_hop_mtu};
}
constexpr header_fields fields_of(const time_exceeded& m) noexcept {
  // RFC 792: the rest of header is unused (zero).
  return {number(message_type::time_exceeded), static_cast<std::uint8_t>(m.code), 0};
}
constexpr header_fields fields_of(const other_message& m) noexcept {
  // A type with its own alternative would not parse back to other_message.
  assert(m.type != message_type::echo_request && m.type != message_type::echo_reply &&
         m.type != message_type::destination_unreachable && m.type != message_type::time_exceeded);
  return {number(m.type), m.code, m.rest_of_header};
}
}  // namespace detail

/// Writes the 8-byte header at the start of `message` and fills in the
/// checksum over all of `message`: the caller has already placed the payload
/// (echo data, quoted datagram) right after the header, and `message` is
/// exactly the ICMP message, header and payload (RFC 792). Returns 8.
/// Precondition: message.size() >= 8.
constexpr std::size_t emit(const repr& r, std::span<std::byte> message) noexcept {
  assert(message.size() >= header_length);
  const detail::header_fields f =
      std::visit([](const auto& m) { return detail::fields_of(m); }, r.message);
  // RFC 792: the checksum field counts as zero. The header words are summed
  // from their values, the payload from the buffer (it starts at an even offset).
  std::uint64_t sum = checksum::partial(message.subspan(header_length));
  sum = checksum::add16(sum, static_cast<std::uint16_t>((f.type << 8) | f.code));
  sum = checksum::add32(sum, f.rest_of_header);
  std::byte* p = message.data();
  p[detail::type_at] = static_cast<std::byte>(f.type);
  p[detail::code_at] = static_cast<std::byte>(f.code);
  uk::detail::store_be16(p + detail::checksum_at, checksum::finish(sum));
  uk::detail::store_be32(p + detail::rest_of_header_at, f.rest_of_header);
  return header_length;
}

}  // namespace uk::wire::icmpv4
