// UDP header (RFC 768): a zero-copy view checked once by parse(), its plain
// repr, and emit() that fills in the checksum over the IPv4 pseudo-header.
//
//   0      7 8     15 16    23 24    31
//  +--------+--------+--------+--------+
//  |     Source      |   Destination   |
//  |      Port       |      Port       |
//  +--------+--------+--------+--------+
//  |     Length      |    Checksum     |
//  +--------+--------+--------+--------+
//  |          data octets ...
//
// Nothing here allocates, reads a clock or throws. emit() asserts its
// preconditions (buffer large enough, datagram length fits 16 bits).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "uk/addr.hpp"
#include "uk/detail/endian.hpp"
#include "uk/wire/checksum.hpp"
#include "uk/wire/error.hpp"

namespace uk::wire::udp {

/// The fixed header: four 16-bit fields (RFC 768).
inline constexpr std::size_t header_length = 8;
/// The IPv4 protocol number of UDP (RFC 768, "Protocol Number 17").
inline constexpr std::uint8_t ip_protocol = 17;
/// The largest datagram the 16-bit Length field can describe (RFC 768).
inline constexpr std::size_t max_length = 0xffff;

namespace field {
inline constexpr std::size_t source_port = 0;
inline constexpr std::size_t destination_port = 2;
inline constexpr std::size_t length = 4;
inline constexpr std::size_t checksum = 6;
}  // namespace field

class view;
parse_result<view> parse(std::span<const std::byte> bytes, ipv4_address source,
                         ipv4_address destination) noexcept;

/// A UDP datagram that parse() validated: the header and the payload, cut to
/// the Length field. Accessors never read outside the span.
class view {
 public:
  /// Wraps bytes without any check. For callers that validated them already
  /// (the bytes must hold at least the 8-byte header and exactly `length()` bytes).
  static constexpr view unchecked(std::span<const std::byte> datagram) noexcept {
    return view{datagram};
  }

  constexpr std::uint16_t source_port() const noexcept { return u16(field::source_port); }
  constexpr std::uint16_t destination_port() const noexcept { return u16(field::destination_port); }
  /// Length of header and data in octets (RFC 768): equals bytes().size().
  constexpr std::uint16_t length() const noexcept { return u16(field::length); }
  /// The transmitted checksum; 0 means the sender computed none (RFC 768).
  constexpr std::uint16_t checksum() const noexcept { return u16(field::checksum); }
  constexpr bool has_checksum() const noexcept { return checksum() != 0; }

  constexpr std::span<const std::byte> header() const noexcept { return bytes_.first(header_length); }
  constexpr std::span<const std::byte> payload() const noexcept { return bytes_.subspan(header_length); }
  /// Header and payload: the `length()` octets the datagram covers.
  constexpr std::span<const std::byte> bytes() const noexcept { return bytes_; }

 private:
  constexpr explicit view(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}
  constexpr std::uint16_t u16(std::size_t at) const noexcept { return detail::load_be16(bytes_.data() + at); }

  friend parse_result<view> parse(std::span<const std::byte>, ipv4_address, ipv4_address) noexcept;

  std::span<const std::byte> bytes_;
};

/// The checksum's starting sum: the IPv4 pseudo-header of RFC 768 (source and
/// destination address, zero, protocol 17, UDP length).
constexpr std::uint64_t pseudo_header_sum(ipv4_address source, ipv4_address destination,
                                          std::uint16_t udp_length) noexcept {
  return checksum::pseudo_header(source, destination, ip_protocol, udp_length);
}

/// Validates a UDP datagram carried in an IPv4 packet from `source` to
/// `destination`. `bytes` is the IPv4 payload; it may be longer than the
/// datagram (link padding): the view is cut to the Length field.
///
/// Errors:
///  - truncated:    fewer than 8 bytes, or Length larger than the buffer;
///  - bad_length:   Length smaller than the 8-byte header (RFC 768: "the minimum value of the length is eight");
///  - bad_checksum: a non-zero checksum that does not verify (RFC 768).
inline parse_result<view> parse(std::span<const std::byte> bytes, ipv4_address source,
                                ipv4_address destination) noexcept {
  if (bytes.size() < header_length) return failure{error::truncated};
  const std::uint16_t length = detail::load_be16(bytes.data() + field::length);
  if (length < header_length) return failure{error::bad_length};
  // RFC 768: Length counts header and data; the buffer must hold all of it.
  if (length > bytes.size()) return failure{error::truncated};
  const auto datagram = bytes.first(length);
  // RFC 768: "An all zero transmitted checksum value means that the
  // transmitter generated no checksum": accept it unverified.
  if (detail::load_be16(datagram.data() + field::checksum) != 0 &&
      !checksum::verifies(datagram, pseudo_header_sum(source, destination, length))) {
    return failure{error::bad_checksum};
  }
  return view{datagram};
}

/// The plain field values of a UDP header. `payload_length` stands for the
/// Length field (Length = 8 + payload_length); the checksum is not a field
/// of the repr: emit computes it, parse verifies it.
struct repr {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::size_t payload_length = 0;

  static constexpr repr from(const view& v) noexcept {
    return {v.source_port(), v.destination_port(), v.payload().size()};
  }
  constexpr std::size_t header_length() const noexcept { return udp::header_length; }
  /// Header and payload: the value of the Length field.
  constexpr std::size_t length() const noexcept { return udp::header_length + payload_length; }

  friend bool operator==(const repr&, const repr&) = default;
};

/// Writes the header at the start of `out`, whose bytes after the header
/// already hold `r.payload_length` bytes of payload, and computes the checksum
/// over the pseudo-header, header and payload (RFC 768). A computed checksum
/// of zero is sent as 0xffff, since zero means "no checksum" (RFC 768).
/// Returns the number of header bytes written (8).
/// Preconditions: out.size() >= r.length() and r.length() <= 65535.
inline std::size_t emit(const repr& r, std::span<std::byte> out, ipv4_address source,
                        ipv4_address destination) noexcept {
  assert(r.length() <= max_length);
  assert(out.size() >= r.length());
  const auto length = static_cast<std::uint16_t>(r.length());
  std::byte* p = out.data();
  detail::store_be16(p + field::source_port, r.source_port);
  detail::store_be16(p + field::destination_port, r.destination_port);
  detail::store_be16(p + field::length, length);
  detail::store_be16(p + field::checksum, 0);
  std::uint16_t sum = checksum::finish(
      checksum::partial(out.first(length), pseudo_header_sum(source, destination, length)));
  if (sum == 0) sum = 0xffff;  // RFC 768: "transmitted as all ones"
  detail::store_be16(p + field::checksum, sum);
  return header_length;
}

}  // namespace uk::wire::udp
