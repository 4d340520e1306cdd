// The Address Resolution Protocol packet (RFC 826) for the one combination
// this stack speaks: Ethernet hardware addresses and IPv4 protocol addresses.
// A validated zero-copy view, its plain field values (repr), and an emitter.
//
//   ar$hrd (2) ar$pro (2) ar$hln (1) ar$pln (1) ar$op (2)
//   ar$sha (6) ar$spa (4) ar$tha (6) ar$tpa (4)            = 28 bytes
//
// parse() follows RFC 826 "Packet Reception": the hardware type, protocol
// type and both address lengths must be ours, or the packet is not for us.
//   buffer shorter than the 8-byte fixed part ................... truncated
//   ar$hrd != 1 (Ethernet), ar$pro != 0x0800 (IPv4),
//   ar$hln != 6 or ar$pln != 4 .................................. unsupported
//   buffer shorter than 28 bytes ................................. truncated
//   ar$op other than request (1) or reply (2) .................... unsupported
// Bytes after the 28 (Ethernet padding to the minimum frame) are ignored.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

#include "uk/addr.hpp"
#include "uk/detail/endian.hpp"
#include "uk/detail/mac_bytes.hpp"
#include "uk/wire/error.hpp"

namespace uk::wire::arp {

/// ar$hrd for Ethernet (RFC 826; IANA ARP "Hardware Types": 1).
inline constexpr std::uint16_t hardware_type_ethernet = 1;
/// ar$pro for IPv4: the EtherType of IPv4 (RFC 826 "ar$pro", RFC 894).
inline constexpr std::uint16_t protocol_type_ipv4 = 0x0800;
/// ar$hln and ar$pln for Ethernet and IPv4.
inline constexpr std::uint8_t hardware_length = 6;
inline constexpr std::uint8_t protocol_length = 4;
/// The fixed part before the addresses: hrd, pro, hln, pln, op.
inline constexpr std::size_t fixed_length = 8;
/// The whole packet for Ethernet/IPv4: 8 + 2 * (6 + 4).
inline constexpr std::size_t packet_length = fixed_length + 2 * (hardware_length + protocol_length);

/// ar$op (RFC 826 "ares_op$REQUEST", "ares_op$REPLY"). Other codes
/// (RARP, RFC 903; InARP, RFC 2390) are not ARP proper and are unsupported.
enum class operation : std::uint16_t { request = 1, reply = 2 };

namespace detail {
// Byte offsets of the fields (RFC 826 "Packet format").
inline constexpr std::size_t hrd_at = 0;
inline constexpr std::size_t pro_at = 2;
inline constexpr std::size_t hln_at = 4;
inline constexpr std::size_t pln_at = 5;
inline constexpr std::size_t op_at = 6;
inline constexpr std::size_t sha_at = 8;
inline constexpr std::size_t spa_at = 14;
inline constexpr std::size_t tha_at = 18;
inline constexpr std::size_t tpa_at = 24;

using uk::detail::load_mac;
using uk::detail::store_mac;
}  // namespace detail

class view;
constexpr parse_result<view> parse(std::span<const std::byte> bytes) noexcept;

/// A validated Ethernet/IPv4 ARP packet. Only parse() makes one.
class view {
 public:
  constexpr std::uint16_t hardware_type() const noexcept { return be16(detail::hrd_at); }
  constexpr std::uint16_t protocol_type() const noexcept { return be16(detail::pro_at); }
  constexpr std::uint8_t hardware_address_length() const noexcept {
    return std::to_integer<std::uint8_t>(bytes_[detail::hln_at]);
  }
  constexpr std::uint8_t protocol_address_length() const noexcept {
    return std::to_integer<std::uint8_t>(bytes_[detail::pln_at]);
  }
  constexpr arp::operation operation() const noexcept {
    return static_cast<arp::operation>(be16(detail::op_at));
  }
  constexpr mac_address sender_mac() const noexcept { return detail::load_mac(bytes_.data() + detail::sha_at); }
  constexpr ipv4_address sender_ip() const noexcept { return {be32(detail::spa_at)}; }
  /// In a request, usually zero or broadcast: it is what the sender asks for.
  constexpr mac_address target_mac() const noexcept { return detail::load_mac(bytes_.data() + detail::tha_at); }
  constexpr ipv4_address target_ip() const noexcept { return {be32(detail::tpa_at)}; }

  /// The 28 bytes of the packet (trailing padding excluded). ARP has no payload.
  constexpr std::span<const std::byte> packet() const noexcept { return bytes_; }
  constexpr std::span<const std::byte> header() const noexcept { return bytes_; }

 private:
  friend constexpr parse_result<view> parse(std::span<const std::byte>) noexcept;
  constexpr explicit view(std::span<const std::byte> packet) noexcept : bytes_(packet) {}
  constexpr std::uint16_t be16(std::size_t at) const noexcept { return uk::detail::load_be16(bytes_.data() + at); }
  constexpr std::uint32_t be32(std::size_t at) const noexcept { return uk::detail::load_be32(bytes_.data() + at); }

  std::span<const std::byte> bytes_;  // exactly packet_length bytes
};

/// Parses an ARP packet (the payload of an Ethernet frame of type 0x0806);
/// see the file comment for the checks and errors.
constexpr parse_result<view> parse(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < fixed_length) return failure{error::truncated};
  // RFC 826 "Packet Reception": "?Do I have the hardware type in ar$hrd?",
  // "?Do I speak the protocol in ar$pro?", optionally checking the lengths.
  // The lengths are checked here: they fix where every address lies.
  if (uk::detail::load_be16(bytes.data() + detail::hrd_at) != hardware_type_ethernet ||
      uk::detail::load_be16(bytes.data() + detail::pro_at) != protocol_type_ipv4 ||
      std::to_integer<std::uint8_t>(bytes[detail::hln_at]) != hardware_length ||
      std::to_integer<std::uint8_t>(bytes[detail::pln_at]) != protocol_length)
    return failure{error::unsupported};
  if (bytes.size() < packet_length) return failure{error::truncated};
  // RFC 826 "?Is the opcode ares_op$REQUEST?": only requests and replies are ARP.
  const std::uint16_t op = uk::detail::load_be16(bytes.data() + detail::op_at);
  if (op != static_cast<std::uint16_t>(operation::request) && op != static_cast<std::uint16_t>(operation::reply))
    return failure{error::unsupported};
  return view{bytes.first(packet_length)};
}

/// The field values of an Ethernet/IPv4 ARP packet.
struct repr {
  arp::operation operation = arp::operation::request;
  mac_address sender_mac{};
  ipv4_address sender_ip{};
  mac_address target_mac{};
  ipv4_address target_ip{};

  constexpr std::size_t header_length() const noexcept { return packet_length; }

  static constexpr repr from(const view& v) noexcept {
    return {v.operation(), v.sender_mac(), v.sender_ip(), v.target_mac(), v.target_ip()};
  }

  /// "Who has `target`? Tell `sender_ip`": the target hardware address is
  /// unknown and left zero (RFC 826 "Packet Generation"; RFC 5227 2.1.1
  /// likewise asks for zero in probes).
  static constexpr repr request(mac_address sender_mac, ipv4_address sender_ip, ipv4_address target) noexcept {
    return {arp::operation::request, sender_mac, sender_ip, mac_address{}, target};
  }
  /// The answer to `asked` from the host that owns its target address:
  /// RFC 826 "Packet Reception" swaps the sender and target fields and puts
  /// the local hardware address in the sender field.
  static constexpr repr reply_to(const repr& asked, mac_address local_mac) noexcept {
    return {arp::operation::reply, local_mac, asked.target_ip, asked.sender_mac, asked.sender_ip};
  }

  friend bool operator==(const repr&, const repr&) = default;
};

/// Writes the 28-byte packet at the start of `out` and returns 28. An
/// Ethernet frame carrying it is padded to the minimum frame by the caller.
/// Precondition: out.size() >= 28; operation is request or reply.
constexpr std::size_t emit(const repr& r, std::span<std::byte> out) noexcept {
  assert(out.size() >= packet_length);
  assert(r.operation == operation::request || r.operation == operation::reply);
  std::byte* p = out.data();
  uk::detail::store_be16(p + detail::hrd_at, hardware_type_ethernet);
  uk::detail::store_be16(p + detail::pro_at, protocol_type_ipv4);
  p[detail::hln_at] = static_cast<std::byte>(hardware_length);
  p[detail::pln_at] = static_cast<std::byte>(protocol_length);
  uk::detail::store_be16(p + detail::op_at, static_cast<std::uint16_t>(r.operation));
  detail::store_mac(p + detail::sha_at, r.sender_mac);
  uk::detail::store_be32(p + detail::spa_at, r.sender_ip.value);
  detail::store_mac(p + detail::tha_at, r.target_mac);
  uk::detail::store_be32(p + detail::tpa_at, r.target_ip.value);
  return packet_length;
}

}  // namespace uk::wire::arp
