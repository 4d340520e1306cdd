// The IPv4 header (RFC 791 section 3.1): a validated zero-copy view, its
// plain field values (repr), and an emitter.
//
// parse() performs the header checks a router must make before processing a
// datagram (RFC 1812 section 5.2.2) plus the format's own rules:
//   buffer shorter than 20 bytes ............................ truncated
//   version other than 4 (RFC 1122 3.2.1.1) .................. bad_version
//   IHL < 5 (RFC 791 3.1) .................................... bad_length
//   IHL * 4 beyond the buffer ................................ truncated
//   total length < IHL * 4 (RFC 1812 5.2.2 item 5) ........... bad_length
//   total length beyond the buffer ........................... truncated
//   header checksum does not verify (RFC 1122 3.2.1.2) ....... bad_checksum
//   reserved flag bit set (RFC 791 3.1: "must be zero") ...... malformed
// Bytes after `total length` (Ethernet padding of short frames) are not part
// of the view. Options (at most 40 bytes, bounded by IHL) are exposed as a
// span and not interpreted (RFC 1122 3.2.1.8 lets a host ignore most of them).
//
// parse_quoted() parses the original datagram header that an ICMP error
// quotes (RFC 792): the quote holds the header and only the first bytes of
// the payload, so the total length field is not checked against the buffer.
//
// emit() writes a 20-byte header without options (IHL 5) and fills in the
// header checksum; there is no option emitter. Fragment reassembly and
// fragment-size policy (e.g. a fragment whose end exceeds 65535) belong to
// the reassembly core, not to this header view.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "uk/addr.hpp"
#include "uk/detail/endian.hpp"
#include "uk/wire/checksum.hpp"
#include "uk/wire/error.hpp"

namespace uk::wire::ipv4 {

/// The only version this header format describes (RFC 791 3.1).
inline constexpr std::uint8_t version_number = 4;
/// IHL 5: the header without options (RFC 791 3.1).
inline constexpr std::size_t min_header_length = 20;
/// IHL 15, the largest a 4-bit field can say (RFC 791 3.1).
inline constexpr std::size_t max_header_length = 60;
inline constexpr std::size_t max_options_length = max_header_length - min_header_length;
/// The total length field is 16 bits (RFC 791 3.1).
inline constexpr std::size_t max_total_length = 65535;
/// The TTL emitted by default: the IANA recommended value (RFC 1700, RFC 1122 3.2.1.7).
inline constexpr std::uint8_t default_ttl = 64;

/// Values of the protocol field (IANA "Assigned Internet Protocol Numbers",
/// RFC 790). Plain numbers: any value may appear on the wire, and the UDP and
/// TCP pseudo-header sums take the same number.
namespace protocol_number {
inline constexpr std::uint8_t icmp = 1;  // RFC 792
inline constexpr std::uint8_t tcp = 6;   // RFC 9293
inline constexpr std::uint8_t udp = 17;  // RFC 768
}  // namespace protocol_number

/// Whether parse verifies the header checksum. `skip` is only for datagrams
/// whose checksum the network device has already verified (receive checksum
/// offload); everything read from a peer without such a guarantee MUST be
/// verified (RFC 1122 3.2.1.2).
enum class checksum_check : bool { verify, skip };

namespace detail {
// Byte offsets of the fixed header fields (RFC 791 3.1, figure 4).
inline constexpr std::size_t version_ihl_at = 0;
inline constexpr std::size_t tos_at = 1;  // DSCP (RFC 2474 3) and ECN (RFC 3168 5)
inline constexpr std::size_t total_length_at = 2;
inline constexpr std::size_t identification_at = 4;
inline constexpr std::size_t flags_fragment_at = 6;
inline constexpr std::size_t ttl_at = 8;
inline constexpr std::size_t protocol_at = 9;
inline constexpr std::size_t checksum_at = 10;
inline constexpr std::size_t src_at = 12;
inline constexpr std::size_t dst_at = 16;

// The 3 flag bits and the 13-bit fragment offset share one 16-bit word (RFC 791 3.1).
inline constexpr std::uint16_t reserved_flag = 0x8000;         // bit 0: reserved, must be zero
inline constexpr std::uint16_t dont_fragment_flag = 0x4000;    // bit 1: DF
inline constexpr std::uint16_t more_fragments_flag = 0x2000;   // bit 2: MF
inline constexpr std::uint16_t fragment_offset_mask = 0x1fff;  // in units of 8 octets

inline constexpr std::uint8_t byte_at(std::span<const std::byte> b, std::size_t at) noexcept {
  return std::to_integer<std::uint8_t>(b[at]);
}

enum class total_length_rule : bool { within_buffer, quoted };
}  // namespace detail

class view;
namespace detail {
constexpr parse_result<view> parse_checked(std::span<const std::byte> bytes, checksum_check check,
                                           total_length_rule rule) noexcept;
}  // namespace detail

/// A validated IPv4 datagram: the header and the payload up to `total length`
/// (or, for a quoted header, up to what was quoted). Only parse() and
/// parse_quoted() make one; every accessor reads inside the validated span.
class view {
 public:
  constexpr std::uint8_t version() const noexcept { return octet(detail::version_ihl_at) >> 4; }
  /// IHL * 4: 20 to 60 bytes (RFC 791 3.1).
  constexpr std::size_t header_length() const noexcept {
    return std::size_t{static_cast<std::uint8_t>(octet(detail::version_ihl_at) & 0x0f)} * 4;
  }
  /// Differentiated Services codepoint: the upper 6 bits of the former TOS octet (RFC 2474 3).
  constexpr std::uint8_t dscp() const noexcept { return octet(detail::tos_at) >> 2; }
  /// ECN field: the lower 2 bits (RFC 3168 5).
  constexpr std::uint8_t ecn() const noexcept { return octet(detail::tos_at) & 0x03; }
  /// The total length field: header and data, in octets (RFC 791 3.1).
  constexpr std::uint16_t total_length() const noexcept { return be16(detail::total_length_at); }
  constexpr std::uint16_t identification() const noexcept {
    return be16(detail::identification_at);
  }
  constexpr bool dont_fragment() const noexcept {
    return (be16(detail::flags_fragment_at) & detail::dont_fragment_flag) != 0;
  }
  constexpr bool more_fragments() const noexcept {
    return (be16(detail::flags_fragment_at) & detail::more_fragments_flag) != 0;
  }
  /// Where this fragment's data belongs in the datagram, in octets: the
  /// field counts units of 8 octets (RFC 791 3.1), so this is a multiple of 8.
  constexpr std::uint16_t fragment_offset() const noexcept {
    return static_cast<std::uint16_t>(
        (be16(detail::flags_fragment_at) & detail::fragment_offset_mask) * 8);
  }
  /// A fragment is any datagram that is not whole: MF set or a non-zero
  /// offset (RFC 791 3.2, "Fragmentation and Reassembly").
  constexpr bool is_fragment() const noexcept { return more_fragments() || fragment_offset() != 0; }
  constexpr std::uint8_t ttl() const noexcept { return octet(detail::ttl_at); }
  constexpr std::uint8_t protocol() const noexcept { return octet(detail::protocol_at); }
  constexpr std::uint16_t header_checksum() const noexcept { return be16(detail::checksum_at); }
  constexpr ipv4_address src() const noexcept { return {be32(detail::src_at)}; }
  constexpr ipv4_address dst() const noexcept { return {be32(detail::dst_at)}; }

  /// The options and padding between the fixed header and the data: 0 to 40
  /// bytes, not interpreted (RFC 791 3.1, "Options").
  constexpr std::span<const std::byte> options() const noexcept {
    return bytes_.subspan(min_header_length, header_length() - min_header_length);
  }
  constexpr std::span<const std::byte> header() const noexcept {
    return bytes_.first(header_length());
  }
  /// The data after the header, cut at `total length` (trailing link-layer
  /// padding excluded). For a quoted header: the data that was quoted.
  constexpr std::span<const std::byte> payload() const noexcept {
    return bytes_.subspan(header_length());
  }
  /// Header and payload.
  constexpr std::span<const std::byte> datagram() const noexcept { return bytes_; }
  /// True when the whole datagram is present; false only for a quoted header
  /// whose data an ICMP error cut short.
  constexpr bool payload_is_complete() const noexcept { return bytes_.size() == total_length(); }

 private:
  friend constexpr parse_result<view> detail::parse_checked(std::span<const std::byte>,
                                                            checksum_check,
                                                            detail::total_length_rule) noexcept;

  constexpr explicit view(std::span<const std::byte> datagram) noexcept : bytes_(datagram) {}
  constexpr std::uint8_t octet(std::size_t at) const noexcept {
    return detail::byte_at(bytes_, at);
  }
  constexpr std::uint16_t be16(std::size_t at) const noexcept {
    return uk::detail::load_be16(bytes_.data() + at);
  }
  constexpr std::uint32_t be32(std::size_t at) const noexcept {
    return uk::detail::load_be32(bytes_.data() + at);
  }

  std::span<const std::byte> bytes_;  // header + payload: at least 20 bytes, at least IHL * 4
};

namespace detail {
/// The checks shared by parse() and parse_quoted(); see the file comment.
constexpr parse_result<view> parse_checked(std::span<const std::byte> bytes, checksum_check check,
                                           total_length_rule rule) noexcept {
  // RFC 1812 5.2.2 item 1: room for the minimum legal header.
  if (bytes.size() < min_header_length) return failure{error::truncated};
  const std::uint8_t version_ihl = detail::byte_at(bytes, detail::version_ihl_at);
  // RFC 1122 3.2.1.1: a datagram whose version number is not 4 MUST be silently discarded.
  if ((version_ihl >> 4) != version_number) return failure{error::bad_version};
  // RFC 791 3.1: "the minimum value for a correct header is 5" (RFC 1812 5.2.2 item 4).
  const std::size_t header_length = std::size_t{static_cast<std::uint8_t>(version_ihl & 0x0f)} * 4;
  if (header_length < min_header_length) return failure{error::bad_length};
  if (header_length > bytes.size()) return failure{error::truncated};
  // RFC 1812 5.2.2 item 5: the total length must hold the header.
  const std::size_t total_length = uk::detail::load_be16(bytes.data() + detail::total_length_at);
  if (total_length < header_length) return failure{error::bad_length};
  std::size_t present = total_length;
  if (total_length > bytes.size()) {
    // The buffer ends before the datagram that the total length announces.
    if (rule == detail::total_length_rule::within_buffer) return failure{error::truncated};
    present = bytes.size();  // an ICMP error quotes only the start of the datagram (RFC 792)
  }
  // RFC 791 3.1 "Header Checksum", RFC 1122 3.2.1.2: a datagram whose header
  // checksum does not verify MUST be silently discarded.
  if (check == checksum_check::verify && !checksum::verifies(bytes.first(header_length)))
    return failure{error::bad_checksum};
  // RFC 791 3.1 "Flags": bit 0 is reserved and must be zero.
  const std::uint16_t flags = uk::detail::load_be16(bytes.data() + detail::flags_fragment_at);
  if ((flags & detail::reserved_flag) != 0) return failure{error::malformed};
  return view{bytes.first(present)};
}
}  // namespace detail

/// Parses a received datagram: the header and `total length` bytes must be
/// in `bytes`; anything after them (link-layer padding) is ignored.
constexpr parse_result<view> parse(std::span<const std::byte> bytes,
                                   checksum_check check = checksum_check::verify) noexcept {
  return detail::parse_checked(bytes, check, detail::total_length_rule::within_buffer);
}

/// Parses the original datagram header quoted in an ICMP error (RFC 792;
/// RFC 1812 4.3.2.3 lets a router quote more than 8 data bytes): every
/// header field is validated as by parse(), but the total length may exceed
/// the quote. payload() is whatever was quoted, up to the total length.
/// A quote's checksum does not always verify: Linux updates the timestamp
/// option of a datagram it delivers locally (RFC 791 3.1, overflow count)
/// without a new checksum, then quotes it (tests/data/kernel_icmp_errors.pcap
/// frame 10). A caller that wants such errors passes checksum_check::skip.
constexpr parse_result<view> parse_quoted(std::span<const std::byte> quoted,
                                          checksum_check check = checksum_check::verify) noexcept {
  return detail::parse_checked(quoted, check, detail::total_length_rule::quoted);
}

/// The field values of a header without options.
struct repr {
  ipv4_address src{};
  ipv4_address dst{};
  std::uint8_t protocol = 0;
  std::uint8_t ttl = default_ttl;
  std::uint8_t dscp = 0;  ///< 0..63 (RFC 2474 3)
  std::uint8_t ecn = 0;   ///< 0..3 (RFC 3168 5)
  std::uint16_t identification = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  ///< in octets: a multiple of 8, at most 65528
  std::uint16_t payload_length = 0;   ///< data octets after the header

  /// emit() writes no options: always 20.
  constexpr std::size_t header_length() const noexcept { return min_header_length; }
  constexpr std::size_t total_length() const noexcept { return header_length() + payload_length; }
  constexpr bool is_fragment() const noexcept { return more_fragments || fragment_offset != 0; }

  /// The fields of a parsed header. Options are not carried: emitting the
  /// result writes a 20-byte header for the same payload.
  static constexpr repr from(const view& v) noexcept {
    repr r;
    r.src = v.src();
    r.dst = v.dst();
    r.protocol = v.protocol();
    r.ttl = v.ttl();
    r.dscp = v.dscp();
    r.ecn = v.ecn();
    r.identification = v.identification();
    r.dont_fragment = v.dont_fragment();
    r.more_fragments = v.more_fragments();
    r.fragment_offset = v.fragment_offset();
    r.payload_length = static_cast<std::uint16_t>(v.total_length() - v.header_length());
    return r;
  }

  friend bool operator==(const repr&, const repr&) = default;
};

/// Writes a 20-byte header (IHL 5, no options) at the start of `out` and
/// fills in its checksum (RFC 791 3.1). The header checksum covers the header
/// only, so `out` needs room for the header alone; the payload may be placed
/// after it before or after this call. Returns 20.
/// Preconditions: out.size() >= 20, dscp < 64, ecn < 4, fragment_offset a
/// multiple of 8, total_length() <= 65535.
constexpr std::size_t emit(const repr& r, std::span<std::byte> out) noexcept {
  assert(out.size() >= min_header_length);
  assert(r.dscp < 64 && r.ecn < 4);
  assert(r.fragment_offset % 8 == 0);
  assert(r.total_length() <= max_total_length);
  const auto version_ihl_tos = static_cast<std::uint16_t>(
      (version_number << 12) | ((min_header_length / 4) << 8) | (r.dscp << 2) | r.ecn);
  const auto total_length = static_cast<std::uint16_t>(r.total_length());
  auto flags_fragment = static_cast<std::uint16_t>(r.fragment_offset / 8);
  if (r.dont_fragment) flags_fragment |= detail::dont_fragment_flag;
  if (r.more_fragments) flags_fragment |= detail::more_fragments_flag;
  const auto ttl_protocol = static_cast<std::uint16_t>((r.ttl << 8) | r.protocol);
  // The checksum is summed from the field values (RFC 1071 2: the sum of the
  // 16-bit words, the checksum field counting as zero, RFC 791 3.1) rather
  // than read back from the bytes just stored.
  std::uint64_t sum = 0;
  sum = checksum::add16(sum, version_ihl_tos);
  sum = checksum::add16(sum, total_length);
  sum = checksum::add16(sum, r.identification);
  sum = checksum::add16(sum, flags_fragment);
  sum = checksum::add16(sum, ttl_protocol);
  sum = checksum::add32(sum, r.src.value);
  sum = checksum::add32(sum, r.dst.value);
  std::byte* p = out.data();
  using uk::detail::store_be16;
  using uk::detail::store_be32;
  store_be16(p + detail::version_ihl_at, version_ihl_tos);
  store_be16(p + detail::total_length_at, total_length);
  store_be16(p + detail::identification_at, r.identification);
  store_be16(p + detail::flags_fragment_at, flags_fragment);
  store_be16(p + detail::ttl_at, ttl_protocol);
  store_be16(p + detail::checksum_at, checksum::finish(sum));
  store_be32(p + detail::src_at, r.src.value);
  store_be32(p + detail::dst_at, r.dst.value);
  return min_header_length;
}

/// Rewrites the TTL of the header at the start of `header` (as a router does
/// when it forwards, RFC 1812 5.3.1) and updates the header checksum
/// incrementally instead of recomputing it (RFC 1624 section 3, eq. 3; RFC
/// 1812 5.3.1 allows this). The TTL shares its 16-bit word with the protocol.
/// Precondition: header.size() >= 20 (e.g. a mutable copy of a parsed header).
constexpr void set_ttl(std::span<std::byte> header, std::uint8_t ttl) noexcept {
  assert(header.size() >= min_header_length);
  std::byte* p = header.data();
  const std::uint16_t old_word = uk::detail::load_be16(p + detail::ttl_at);
  const std::uint16_t new_word = static_cast<std::uint16_t>((ttl << 8) | (old_word & 0x00ff));
  const std::uint16_t old_checksum = uk::detail::load_be16(p + detail::checksum_at);
  p[detail::ttl_at] = static_cast<std::byte>(ttl);
  uk::detail::store_be16(p + detail::checksum_at,
                         checksum::update(old_checksum, old_word, new_word));
}

}  // namespace uk::wire::ipv4
