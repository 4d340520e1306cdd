// The Ethernet II frame header (IEEE 802.3-2018 3.1.1 and 3.2.6, the
// "Ethernet II" / DIX type field of RFC 894), with at most one IEEE 802.1Q
// VLAN tag: a validated zero-copy view, its plain field values (repr), and
// an emitter.
//
//   untagged: dst (6) | src (6) | ethertype (2)                        | payload
//   tagged:   dst (6) | src (6) | 0x8100 (2) | TCI (2) | ethertype (2) | payload
//
// The buffer is a frame as a network device hands it over: no preamble, no
// frame check sequence. parse() does not require the 60-byte minimum frame
// (IEEE 802.3 4.4.2): frames captured before padding (a veth's ARP request
// is 42 bytes) are valid, and any padding stays in payload() for the upper
// layer, whose own length field excludes it (RFC 894: IPv4 "total length").
//
// parse() checks, in this order:
//   buffer shorter than 14 bytes ................................. truncated
//   type < 0x0600: an IEEE 802.3 length field, not a type
//     (IEEE 802.3 3.2.6; LLC/SNAP frames are not handled) ....... unsupported
//   type 0x8100 (an 802.1Q tag, IEEE 802.1Q-2018 9.5):
//     buffer shorter than 18 bytes ............................... truncated
//     VID 0xFFF, which "shall not be transmitted" (802.1Q table 9-2) malformed
//     inner type < 0x0600, or a second 0x8100 tag ............... unsupported
// Other tag protocol identifiers (the 802.1ad S-tag 0x88A8) are not stepped
// over: they are reported as the frame's ethertype, which no upper layer takes.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "uk/addr.hpp"
#include "uk/detail/endian.hpp"
#include "uk/detail/mac_bytes.hpp"
#include "uk/wire/error.hpp"

namespace uk::wire::ethernet {

/// Destination, source and type: 6 + 6 + 2 bytes (IEEE 802.3 3.1.1).
inline constexpr std::size_t header_length = 14;
/// An 802.1Q tag adds TPID (2) and TCI (2) before the type (IEEE 802.1Q-2018 9.3).
inline constexpr std::size_t vlan_tag_length = 4;
inline constexpr std::size_t tagged_header_length = header_length + vlan_tag_length;
/// The smallest frame on the wire without its 4-byte FCS (IEEE 802.3 4.4.2:
/// minFrameSize is 64 bytes including the FCS). A sender pads to it.
inline constexpr std::size_t min_frame_length = 60;
/// The largest standard payload (IEEE 802.3 3.2.7: maxMACClientDataSize is 1500).
inline constexpr std::size_t max_payload_length = 1500;
/// Type values from 0x0600 (1536) up name a protocol; values up to 1500 are
/// an IEEE 802.3 length (IEEE 802.3 3.2.6).
inline constexpr std::uint16_t min_ethertype = 0x0600;

/// EtherType values (IEEE Registration Authority; the RFCs cited define their use).
namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800;  // RFC 894
inline constexpr std::uint16_t arp = 0x0806;   // RFC 826
inline constexpr std::uint16_t vlan = 0x8100;  // IEEE 802.1Q C-VLAN tag protocol identifier
inline constexpr std::uint16_t ipv6 = 0x86dd;  // RFC 2464
}  // namespace ethertype

/// The VLAN tag control information (IEEE 802.1Q-2018 9.6): priority code
/// point (3 bits), drop eligible indicator (1 bit), VLAN identifier (12 bits).
struct vlan_tag {
  std::uint8_t pcp = 0;   ///< 0..7
  bool dei = false;
  std::uint16_t vid = 0;  ///< 0..4094; 0 means "priority tag only, no VLAN"

  /// VID 0xFFF is reserved: it is never transmitted (IEEE 802.1Q-2018 table 9-2).
  static constexpr std::uint16_t reserved_vid = 0x0fff;

  constexpr std::uint16_t tci() const noexcept {
    return static_cast<std::uint16_t>((pcp << 13) | (dei ? 0x1000 : 0) | (vid & 0x0fff));
  }
  static constexpr vlan_tag from_tci(std::uint16_t tci) noexcept {
    return {static_cast<std::uint8_t>(tci >> 13), (tci & 0x1000) != 0,
            static_cast<std::uint16_t>(tci & 0x0fff)};
  }

  friend bool operator==(const vlan_tag&, const vlan_tag&) = default;
};

namespace detail {
// Byte offsets (IEEE 802.3 3.1.1; IEEE 802.1Q-2018 9.3).
inline constexpr std::size_t dst_at = 0;
inline constexpr std::size_t src_at = 6;
inline constexpr std::size_t type_at = 12;       // the type, or the TPID of a tag
inline constexpr std::size_t tci_at = 14;        // tagged frames only
inline constexpr std::size_t inner_type_at = 16; // tagged frames only

using uk::detail::load_mac;
using uk::detail::store_mac;
}  // namespace detail

class view;
constexpr parse_result<view> parse(std::span<const std::byte> frame) noexcept;

/// A validated Ethernet II frame. Only parse() makes one; every accessor
/// reads inside the validated header.
class view {
 public:
  constexpr mac_address dst() const noexcept { return detail::load_mac(bytes_.data() + detail::dst_at); }
  constexpr mac_address src() const noexcept { return detail::load_mac(bytes_.data() + detail::src_at); }
  /// The type of the payload: for a tagged frame, the type after the tag.
  /// Always >= 0x0600 and never 0x8100.
  constexpr std::uint16_t ethertype() const noexcept {
    return uk::detail::load_be16(bytes_.data() + (tagged() ? detail::inner_type_at : detail::type_at));
  }
  constexpr bool tagged() const noexcept {
    return uk::detail::load_be16(bytes_.data() + detail::type_at) == ethertype::vlan;
  }
  /// The 802.1Q tag, if the frame has one.
  constexpr std::optional<vlan_tag> vlan() const noexcept {
    if (!tagged()) return std::nullopt;
    return vlan_tag::from_tci(uk::detail::load_be16(bytes_.data() + detail::tci_at));
  }
  /// The VLAN identifier, 0 for an untagged (or priority-tagged) frame.
  constexpr std::uint16_t vlan_id() const noexcept { return tagged() ? vlan()->vid : 0; }
  /// The priority code point, 0 for an untagged frame.
  constexpr std::uint8_t vlan_pcp() const noexcept { return tagged() ? vlan()->pcp : 0; }

  /// 14, or 18 with a tag.
  constexpr std::size_t header_length() const noexcept {
    return tagged() ? tagged_header_length : ethernet::header_length;
  }
  constexpr std::span<const std::byte> header() const noexcept { return bytes_.first(header_length()); }
  /// Everything after the header, link-layer padding included.
  constexpr std::span<const std::byte> payload() const noexcept { return bytes_.subspan(header_length()); }
  constexpr std::span<const std::byte> frame() const noexcept { return bytes_; }

 private:
  friend constexpr parse_result<view> parse(std::span<const std::byte>) noexcept;
  constexpr explicit view(std::span<const std::byte> frame) noexcept : bytes_(frame) {}

  std::span<const std::byte> bytes_;  // the whole frame: at least header_length() bytes
};

/// Parses a received frame; see the file comment for the checks and errors.
constexpr parse_result<view> parse(std::span<const std::byte> frame) noexcept {
  if (frame.size() < header_length) return failure{error::truncated};
  const std::uint16_t type = uk::detail::load_be16(frame.data() + detail::type_at);
  if (type == ethertype::vlan) {
    // IEEE 802.1Q-2018 9.5: TPID 0x8100, then the TCI, then the original type.
    if (frame.size() < tagged_header_length) return failure{error::truncated};
    const std::uint16_t tci = uk::detail::load_be16(frame.data() + detail::tci_at);
    if ((tci & 0x0fff) == vlan_tag::reserved_vid) return failure{error::malformed};
    const std::uint16_t inner = uk::detail::load_be16(frame.data() + detail::inner_type_at);
    // One tag is stepped over; a stacked tag or an 802.3 length inside it is not handled.
    if (inner == ethertype::vlan || inner < min_ethertype) return failure{error::unsupported};
    return view{frame};
  }
  // IEEE 802.3 3.2.6: a value below 0x0600 is the length of an 802.3/LLC frame.
  if (type < min_ethertype) return failure{error::unsupported};
  return view{frame};
}

/// The field values of a frame header.
struct repr {
  mac_address dst{};
  mac_address src{};
  std::uint16_t ethertype = 0;      ///< of the payload: >= 0x0600, not 0x8100
  std::optional<vlan_tag> vlan{};   ///< emitted as an 802.1Q tag when present

  constexpr std::size_t header_length() const noexcept {
    return vlan ? tagged_header_length : ethernet::header_length;
  }

  static constexpr repr from(const view& v) noexcept { return {v.dst(), v.src(), v.ethertype(), v.vlan()}; }

  friend bool operator==(const repr&, const repr&) = default;
};

/// Writes the header (14 bytes, or 18 with a tag) at the start of `out` and
/// returns its length. The payload goes after it; padding a short frame to
/// min_frame_length is the caller's job (the device's, usually).
/// Preconditions: out.size() >= r.header_length(); r.ethertype >= 0x0600 and
/// not 0x8100; a tag has pcp < 8 and vid < 0xfff.
constexpr std::size_t emit(const repr& r, std::span<std::byte> out) noexcept {
  assert(out.size() >= r.header_length());
  assert(r.ethertype >= min_ethertype && r.ethertype != ethertype::vlan);
  std::byte* p = out.data();
  detail::store_mac(p + detail::dst_at, r.dst);
  detail::store_mac(p + detail::src_at, r.src);
  if (r.vlan) {
    assert(r.vlan->pcp < 8 && r.vlan->vid < vlan_tag::reserved_vid);
    uk::detail::store_be16(p + detail::type_at, ethertype::vlan);
    uk::detail::store_be16(p + detail::tci_at, r.vlan->tci());
    uk::detail::store_be16(p + detail::inner_type_at, r.ethertype);
    return tagged_header_length;
  }
  uk::detail::store_be16(p + detail::type_at, r.ethertype);
  return header_length;
}

}  // namespace uk::wire::ethernet
