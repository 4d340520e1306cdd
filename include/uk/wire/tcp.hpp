// TCP header (RFC 9293 section 3.1): a zero-copy view checked once by
// parse(), its plain repr, and emit() that writes header and options and fills
// in the checksum over the IPv4 pseudo-header. Options: tcp_options.hpp.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |          Source Port          |       Destination Port        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                        Sequence Number                        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Acknowledgment Number                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Data |       |C|E|U|A|P|R|S|F|                               |
//   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//   |       |       |R|E|G|K|H|T|N|N|                               |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |           Checksum            |         Urgent Pointer        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                           [Options]                           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Sequence and acknowledgment numbers are plain uint32 here: their modular
// comparison (RFC 9293 3.4) belongs to the TCP state machine. Nothing here
// allocates, reads a clock or throws; emit() asserts its preconditions.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "uk/addr.hpp"
#include "uk/detail/endian.hpp"
#include "uk/wire/checksum.hpp"
#include "uk/wire/error.hpp"
#include "uk/wire/tcp_options.hpp"

namespace uk::wire::tcp {

/// The fixed header: Data Offset 5 (RFC 9293 3.1).
inline constexpr std::size_t min_header_length = 20;
/// Data Offset is 4 bits: at most 15 32-bit words (RFC 9293 3.1).
inline constexpr std::size_t max_header_length = 60;
/// The IPv4 protocol number of TCP (RFC 9293 3.1, pseudo-header "PTCL").
inline constexpr std::uint8_t ip_protocol = 6;

namespace field {
inline constexpr std::size_t source_port = 0;
inline constexpr std::size_t destination_port = 2;
inline constexpr std::size_t sequence_number = 4;
inline constexpr std::size_t acknowledgment_number = 8;
inline constexpr std::size_t data_offset = 12;  // high 4 bits; low 4 bits: Rsrvd
inline constexpr std::size_t flags = 13;        // the eight control bits
inline constexpr std::size_t window = 14;
inline constexpr std::size_t checksum = 16;
inline constexpr std::size_t urgent_pointer = 18;
inline constexpr std::size_t options = 20;
}  // namespace field

/// The control bits of RFC 9293 3.1 (CWR and ECE from RFC 3168), as a bit set:
/// `flags::syn | flags::ack`, `f.has(flags::ack)`.
struct flags {
  std::uint8_t bits = 0;

  static const flags fin;  ///< no more data from sender
  static const flags syn;  ///< synchronize sequence numbers
  static const flags rst;  ///< reset the connection
  static const flags psh;  ///< push function
  static const flags ack;  ///< Acknowledgment field is significant
  static const flags urg;  ///< Urgent Pointer field is significant
  static const flags ece;  ///< ECN-Echo (RFC 3168)
  static const flags cwr;  ///< Congestion Window Reduced (RFC 3168)

  /// True when every bit of `f` is set.
  constexpr bool has(flags f) const noexcept { return (bits & f.bits) == f.bits; }
  constexpr bool none() const noexcept { return bits == 0; }
  friend constexpr flags operator|(flags a, flags b) noexcept {
    return {static_cast<std::uint8_t>(a.bits | b.bits)};
  }
  friend constexpr flags operator&(flags a, flags b) noexcept {
    return {static_cast<std::uint8_t>(a.bits & b.bits)};
  }
  friend constexpr bool operator==(flags, flags) noexcept = default;
};
inline constexpr flags flags::fin{0x01};
inline constexpr flags flags::syn{0x02};
inline constexpr flags flags::rst{0x04};
inline constexpr flags flags::psh{0x08};
inline constexpr flags flags::ack{0x10};
inline constexpr flags flags::urg{0x20};
inline constexpr flags flags::ece{0x40};
inline constexpr flags flags::cwr{0x80};

class view;
parse_result<view> parse(std::span<const std::byte> segment, ipv4_address source,
                         ipv4_address destination) noexcept;

/// A TCP segment that parse() validated: lengths, checksum and options.
/// Accessors never read outside the span.
class view {
 public:
  /// Wraps bytes without any check. For callers that validated them already
  /// (at least 20 bytes, Data Offset in 5..15 and within the bytes).
  static constexpr view unchecked(std::span<const std::byte> segment) noexcept { return view{segment}; }

  constexpr std::uint16_t source_port() const noexcept { return u16(field::source_port); }
  constexpr std::uint16_t destination_port() const noexcept { return u16(field::destination_port); }
  constexpr std::uint32_t sequence_number() const noexcept { return u32(field::sequence_number); }
  constexpr std::uint32_t acknowledgment_number() const noexcept { return u32(field::acknowledgment_number); }
  /// Header length in 32-bit words (RFC 9293 3.1 "DOffset"), 5..15.
  constexpr std::uint8_t data_offset() const noexcept { return u8(field::data_offset) >> 4; }
  constexpr std::size_t header_length() const noexcept { return std::size_t{data_offset()} * 4; }
  /// The four reserved bits (RFC 9293 3.1 "Rsrvd"), 0..15.
  constexpr std::uint8_t reserved() const noexcept { return u8(field::data_offset) & 0x0f; }
  constexpr tcp::flags flags() const noexcept { return {u8(field::flags)}; }
  constexpr bool fin() const noexcept { return flags().has(flags::fin); }
  constexpr bool syn() const noexcept { return flags().has(flags::syn); }
  constexpr bool rst() const noexcept { return flags().has(flags::rst); }
  constexpr bool psh() const noexcept { return flags().has(flags::psh); }
  constexpr bool ack() const noexcept { return flags().has(flags::ack); }
  constexpr bool urg() const noexcept { return flags().has(flags::urg); }
  constexpr bool ece() const noexcept { return flags().has(flags::ece); }
  constexpr bool cwr() const noexcept { return flags().has(flags::cwr); }
  /// The window as sent: not yet shifted by the window scale (RFC 7323 2.3).
  constexpr std::uint16_t window() const noexcept { return u16(field::window); }
  constexpr std::uint16_t checksum() const noexcept { return u16(field::checksum); }
  constexpr std::uint16_t urgent_pointer() const noexcept { return u16(field::urgent_pointer); }

  /// The option octets, padding included (header_length() - 20 of them).
  constexpr std::span<const std::byte> option_bytes() const noexcept {
    return bytes_.subspan(min_header_length, header_length() - min_header_length);
  }
  /// Every option in wire order, NOP and EOL included.
  constexpr option_range raw_options() const noexcept { return option_range{option_bytes()}; }
  /// The options decoded (parse() validated them; over unchecked bytes,
  /// decoding stops at the first malformed option).
  constexpr tcp::options options() const noexcept {
    tcp::options out;
    decode_options(option_bytes(), out);
    return out;
  }

  constexpr std::span<const std::byte> header() const noexcept { return bytes_.first(header_length()); }
  constexpr std::span<const std::byte> payload() const noexcept { return bytes_.subspan(header_length()); }
  /// The whole segment: header and payload.
  constexpr std::span<const std::byte> bytes() const noexcept { return bytes_; }

 private:
  constexpr explicit view(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}
  constexpr std::uint8_t u8(std::size_t at) const noexcept { return std::to_integer<std::uint8_t>(bytes_[at]); }
  constexpr std::uint16_t u16(std::size_t at) const noexcept { return detail::load_be16(bytes_.data() + at); }
  constexpr std::uint32_t u32(std::size_t at) const noexcept { return detail::load_be32(bytes_.data() + at); }

  friend parse_result<view> parse(std::span<const std::byte>, ipv4_address, ipv4_address) noexcept;

  std::span<const std::byte> bytes_;
};

/// The checksum's starting sum: the IPv4 pseudo-header of RFC 9293 3.1
/// (source and destination address, zero, PTCL 6, TCP length).
constexpr std::uint64_t pseudo_header_sum(ipv4_address source, ipv4_address destination,
                                          std::uint16_t tcp_length) noexcept {
  return checksum::pseudo_header(source, destination, ip_protocol, tcp_length);
}

/// Validates a TCP segment carried in an IPv4 packet from `source` to
/// `destination`. `segment` is exactly the IPv4 payload (TCP has no length
/// field: the segment ends where the IP datagram does, RFC 9293 3.1 "TCP Length").
///
/// Errors, checked in this order:
///  - truncated:    fewer than 20 bytes, or Data Offset * 4 beyond the bytes;
///  - bad_length:   Data Offset below 5 (RFC 9293 3.1: the header is at least
///                  five words), or a segment too long for the pseudo-header's 16-bit length;
///  - bad_checksum: the checksum over pseudo-header, header and data does not verify;
///  - bad_option:   an option with a length below 2, running past the header,
///                  or of the wrong length for its kind (see read_option()).
inline parse_result<view> parse(std::span<const std::byte> segment, ipv4_address source,
                                ipv4_address destination) noexcept {
  if (segment.size() < min_header_length) return failure{error::truncated};
  const std::size_t offset_words = std::to_integer<std::uint8_t>(segment[field::data_offset]) >> 4;
  if (offset_words < 5) return failure{error::bad_length};
  if (offset_words * 4 > segment.size()) return failure{error::truncated};
  if (segment.size() > 0xffff) return failure{error::bad_length};
  const auto tcp_length = static_cast<std::uint16_t>(segment.size());
  if (!checksum::verifies(segment, pseudo_header_sum(source, destination, tcp_length))) {
    return failure{error::bad_checksum};
  }
  tcp::options options;
  if (!decode_options(segment.subspan(min_header_length, offset_words * 4 - min_header_length), options)) {
    return failure{error::bad_option};
  }
  return view{segment};
}

/// The plain field values of a TCP header. The Data Offset follows from the
/// options (header_length()), the checksum is computed by emit and verified
/// by parse. `payload_length` is the number of data octets after the header.
struct repr {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t sequence_number = 0;
  std::uint32_t acknowledgment_number = 0;
  std::uint8_t reserved = 0;  ///< RFC 9293 3.1: zero in generated segments; 0..15
  tcp::flags flags{};
  std::uint16_t window = 0;   ///< unscaled, as on the wire
  std::uint16_t urgent_pointer = 0;
  tcp::options options{};
  std::size_t payload_length = 0;

  /// The repr of a parsed segment. Options are normalized: NOPs, EOL,
  /// padding and unknown options are dropped, so header_length() may differ
  /// from v.header_length() when the sender laid its options out otherwise.
  static constexpr repr from(const view& v) noexcept {
    return {v.source_port(), v.destination_port(), v.sequence_number(), v.acknowledgment_number(),
            v.reserved(),    v.flags(),            v.window(),          v.urgent_pointer(),
            v.options(),     v.payload().size()};
  }
  constexpr std::size_t header_length() const noexcept { return min_header_length + options.length(); }
  constexpr std::size_t buffer_length() const noexcept { return header_length() + payload_length; }

  friend bool operator==(const repr&, const repr&) = default;
};

/// Writes header and options at the start of `out`, whose bytes after the
/// header already hold `r.payload_length` octets of data, and computes the
/// checksum over the pseudo-header, header and data (RFC 9293 3.1).
/// Returns the number of header bytes written (r.header_length()).
/// Preconditions: r.options.fits() (see options::length()), r.reserved <= 15,
/// r.buffer_length() <= 65535 and out.size() >= r.buffer_length().
inline std::size_t emit(const repr& r, std::span<std::byte> out, ipv4_address source,
                        ipv4_address destination) noexcept {
  assert(r.options.fits());
  assert(r.reserved <= 0x0f);
  const std::size_t header = r.header_length();
  const std::size_t total = header + r.payload_length;
  assert(total <= 0xffff);
  assert(out.size() >= total);
  std::byte* p = out.data();
  detail::store_be16(p + field::source_port, r.source_port);
  detail::store_be16(p + field::destination_port, r.destination_port);
  detail::store_be32(p + field::sequence_number, r.sequence_number);
  detail::store_be32(p + field::acknowledgment_number, r.acknowledgment_number);
  p[field::data_offset] = static_cast<std::byte>(((header / 4) << 4) | (r.reserved & 0x0f));
  p[field::flags] = static_cast<std::byte>(r.flags.bits);
  detail::store_be16(p + field::window, r.window);
  detail::store_be16(p + field::checksum, 0);
  detail::store_be16(p + field::urgent_pointer, r.urgent_pointer);
  emit_options(r.options, out.subspan(field::options, header - min_header_length));
  const auto tcp_length = static_cast<std::uint16_t>(total);
  detail::store_be16(p + field::checksum,
                     checksum::finish(checksum::partial(out.first(total),
                                                        pseudo_header_sum(source, destination, tcp_length))));
  return header;
}

}  // namespace uk::wire::tcp
