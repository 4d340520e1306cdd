// SYN cookies (RFC 4987 section 3.6): when a listener's SYN queue is full,
// the SYN-ACK's initial sequence number carries, authenticated, what the
// listener would otherwise have kept, and the connection is created only
// when the final ACK of the handshake brings it back (ack - 1 = our ISN).
//
// The ISN (32 bits), most significant first:
//
//     | t mod 32 (5) | MSS index (3) | SipHash-2-4(secret, t, tuple, peer ISN, MSS index) (24) |
//
// t counts 64-second periods; a cookie is valid in its own period and the
// next (a 64 to 128 s validation window, enough for a SYN-ACK's round trip
// and its retransmissions by the peer's final ACK). The MSS is rounded down
// to one of eight table values, as RFC 4987 3.6 describes ("an
// encoding of the MSS advertised in the SYN").
//
// Window scale and SACK-permitted do not fit the sequence number. As Linux
// does, when the peer sent the Timestamps option, our SYN-ACK's TSval carries
// them in its low 5 bits and the peer's final ACK echoes them in TSecr
// (RFC 7323 3.2: TSecr echoes the TSval last received). Without timestamps,
// the connection goes without window scaling and SACK.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "uk/direct/tcp/four_tuple.hpp"
#include "uk/direct/tcp/sequence.hpp"
#include "uk/direct/tcp/siphash.hpp"
#include "uk/time.hpp"
#include "uk/wire/tcp_options.hpp"

namespace uk::direct::tcp {

/// The options of a SYN a cookie keeps through the timestamp (see above).
struct cookie_options {
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  friend constexpr bool operator==(const cookie_options&, const cookie_options&) = default;
};

class syn_cookies {
 public:
  /// RFC 4987 3.6's MSS encoding: the peer's MSS is rounded down to one of these.
  /// 536 is RFC 9293 3.7.1's default; the rest are common path MSS values.
  static constexpr std::array<std::uint16_t, 8> mss_table{536, 1024, 1220, 1300, 1360, 1400, 1440, 1460};
  /// How long one cookie period lasts; a cookie is accepted in its period and the next.
  static constexpr duration period = std::chrono::seconds(64);

  explicit constexpr syn_cookies(siphash_key secret) noexcept : secret_(secret) {}

  /// The ISN to answer `syn_tuple`'s SYN (whose sequence number is `peer_isn`)
  /// with, encoding `peer_mss` (already clamped to ours by the caller).
  constexpr seq make(const four_tuple& tuple, seq peer_isn, std::uint16_t peer_mss, instant now) const noexcept {
    const std::uint32_t t = period_of(now);
    const std::uint32_t index = mss_index(peer_mss);
    return seq{((t & 0x1f) << 27) | (index << 24) | mac(tuple, peer_isn, index, t)};
  }

  /// Checks the cookie an ACK brings back: `our_isn` is the ACK's
  /// acknowledgment number - 1, `peer_isn` its sequence number - 1. Returns
  /// the MSS the cookie encodes, or nullopt when it is forged or expired.
  constexpr std::optional<std::uint16_t> check(const four_tuple& tuple, seq peer_isn, seq our_isn,
                                               instant now) const noexcept {
    const std::uint32_t cookie = our_isn.value;
    const std::uint32_t current = period_of(now);
    const std::uint32_t index = (cookie >> 24) & 0x7;
    for (std::uint32_t age = 0; age < 2; ++age) {  // this period and the one before
      const std::uint32_t t = current - age;
      if ((t & 0x1f) != cookie >> 27) continue;
      if (mac(tuple, peer_isn, index, t) == (cookie & 0xffffff)) return mss_table[index];
    }
    return std::nullopt;
  }

  /// Our SYN-ACK's TSval carrying `o` in its low 5 bits, never ahead of
  /// `clock` (RFC 7323 5.4: TSval must not run ahead of the timestamp clock).
  static constexpr std::uint32_t encode_timestamp(std::uint32_t clock, const cookie_options& o) noexcept {
    const std::uint32_t bits =
        (o.window_scale ? std::min<std::uint32_t>(*o.window_scale, wire::tcp::max_window_scale) : no_window_scale) |
        (o.sack_permitted ? sack_bit : 0u);
    std::uint32_t tsval = (clock & ~option_mask) | bits;
    if (tsval > clock) tsval -= option_mask + 1;  // one step back keeps it at or before `clock`
    return tsval;
  }

  /// The options an echoed TSecr carries (encode_timestamp's inverse).
  static constexpr cookie_options decode_timestamp(std::uint32_t tsecr) noexcept {
    const std::uint32_t ws = tsecr & 0xf;
    return {ws == no_window_scale ? std::nullopt : std::optional<std::uint8_t>(static_cast<std::uint8_t>(ws)),
            (tsecr & sack_bit) != 0};
  }

  /// The table index of the largest MSS not above `mss`.
  static constexpr std::uint32_t mss_index(std::uint16_t mss) noexcept {
    std::uint32_t i = 0;
    while (i + 1 < mss_table.size() && mss_table[i + 1] <= mss) ++i;
    return i;
  }

 private:
  static constexpr std::uint32_t option_mask = 0x1f;
  static constexpr std::uint32_t no_window_scale = 0xf;
  static constexpr std::uint32_t sack_bit = 0x10;

  static constexpr std::uint32_t period_of(instant now) noexcept {
    return static_cast<std::uint32_t>(now.time_since_epoch() / period);
  }

  constexpr std::uint32_t mac(const four_tuple& tuple, seq peer_isn, std::uint32_t index,
                              std::uint32_t t) const noexcept {
    hash_input<24> in;
    in.u32(tuple.local.address.value).u16(tuple.local.port).u32(tuple.remote.address.value).u16(tuple.remote.port);
    in.u32(peer_isn.value).u32(t).u32(index);
    return static_cast<std::uint32_t>(siphash24(secret_, in.bytes())) & 0xffffff;
  }

  siphash_key secret_;
};

}  // namespace uk::direct::tcp
