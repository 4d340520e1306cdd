// TCP options (RFC 9293 sections 3.1 and 3.2, RFC 7323, RFC 2018): the raw
// option list as a range of (kind, data) items, its validation, the decoded
// `tcp::options` struct and its emitter.
//
// RFC 9293 3.1: an option is either a single octet of option-kind (End of
// Option List, No-Operation) or an option-kind octet, an option-length octet
// counting both of them, and option-length - 2 octets of option-data.
//
// Nothing here allocates, reads a clock or throws.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>

#include "uk/detail/endian.hpp"
#include "uk/result.hpp"
#include "uk/wire/error.hpp"

namespace uk::wire::tcp {

/// The option space: Data Offset is 4 bits, so a header holds at most 15
/// words, 5 of them fixed (RFC 9293 3.1).
inline constexpr std::size_t max_options_length = 40;

/// Option kinds. The type has all 256 values: kinds not named here are
/// skipped by their length (RFC 9293 3.2, MUST-5).
enum class option_kind : std::uint8_t {
  end_of_option_list = 0,    ///< EOL, one octet (RFC 9293 3.2)
  no_operation = 1,          ///< NOP, one octet (RFC 9293 3.2)
  maximum_segment_size = 2,  ///< MSS, length 4 (RFC 9293 3.2, 3.7.1)
  window_scale = 3,          ///< length 3 (RFC 7323 2.2)
  sack_permitted = 4,        ///< length 2 (RFC 2018 2)
  sack = 5,                  ///< length 2 + 8n (RFC 2018 3)
  timestamps = 8,            ///< length 10 (RFC 7323 3.2)
};

/// The option-length each known option must carry.
namespace option_length {
inline constexpr std::size_t maximum_segment_size = 4;  // RFC 9293 3.2
inline constexpr std::size_t window_scale = 3;          // RFC 7323 2.2
inline constexpr std::size_t sack_permitted = 2;        // RFC 2018 2
inline constexpr std::size_t timestamps = 10;           // RFC 7323 3.2
inline constexpr std::size_t sack_base = 2;             // RFC 2018 3: 8 * n + 2
inline constexpr std::size_t sack_block = 8;
}  // namespace option_length

/// RFC 2018 3: "the 40 bytes available for TCP options can specify a maximum of 4 blocks".
inline constexpr std::size_t max_sack_blocks = 4;
/// RFC 7323 2.3: a shift.cnt above 14 MUST be used as 14.
inline constexpr std::uint8_t max_window_scale = 14;

/// One option as it appears on the wire.
struct option {
  option_kind kind = option_kind::end_of_option_list;
  /// The option-data octets: everything after kind and length (empty for EOL and NOP).
  std::span<const std::byte> data;

  /// Octets on the wire: 1 for EOL and NOP, else the option-length octet.
  constexpr std::size_t wire_length() const noexcept {
    return is_single_octet(kind) ? 1 : 2 + data.size();
  }
  static constexpr bool is_single_octet(option_kind k) noexcept {
    return k == option_kind::end_of_option_list || k == option_kind::no_operation;
  }
};

/// read_option() without the result wrapper: false for a malformed option
/// (every failure is bad_option). The parsers' inner loop, kept free of
/// std::variant so that it inlines well.
constexpr bool read_option_into(std::span<const std::byte> rest, option& out) noexcept {
  assert(!rest.empty());
  const auto kind = static_cast<option_kind>(std::to_integer<std::uint8_t>(rest[0]));
  if (option::is_single_octet(kind)) {
    out = option{kind, {}};
    return true;
  }
  if (rest.size() < 2) return false;
  const std::size_t length = std::to_integer<std::uint8_t>(rest[1]);
  if (length < 2 || length > rest.size()) return false;
  switch (kind) {
    case option_kind::maximum_segment_size:
      if (length != option_length::maximum_segment_size) return false;
      break;
    case option_kind::window_scale:
      if (length != option_length::window_scale) return false;
      break;
    case option_kind::sack_permitted:
      if (length != option_length::sack_permitted) return false;
      break;
    case option_kind::timestamps:
      if (length != option_length::timestamps) return false;
      break;
    case option_kind::sack:
      // RFC 2018 3: 8 * n + 2 octets for n blocks, at least one block; at
      // most four fit in the option space, so no separate check for n <= 4.
      if (length < option_length::sack_base + option_length::sack_block ||
          (length - option_length::sack_base) % option_length::sack_block != 0) {
        return false;
      }
      break;
    default: break;  // unknown kinds: skipped by their length (RFC 9293 3.2, MUST-5)
  }
  out = option{kind, rest.subspan(2, length - 2)};
  return true;
}

/// Reads the option at the start of `rest` (which must not be empty).
/// bad_option when the length octet is missing, below 2 (RFC 9293 3.2,
/// MUST-7: an illegal option length such as zero), runs past the option
/// space, or does not match the length the option's RFC fixes.
constexpr result<option, error> read_option(std::span<const std::byte> rest) noexcept {
  assert(!rest.empty());
  option o;
  if (!read_option_into(rest, o)) return failure{error::bad_option};
  return o;
}

/// The options of a header, in wire order, EOL and NOP included. Iteration
/// ends at the end of the bytes, after an EOL (what follows it is padding,
/// RFC 9293 3.2), or before a malformed option: run parse_options() first to
/// tell a malformed list from a short one (tcp::view's options are valid).
class option_range {
 public:
  class iterator {
   public:
    using value_type = option;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::forward_iterator_tag;

    constexpr iterator() noexcept = default;
    constexpr const option& operator*() const noexcept { return current_; }
    constexpr const option* operator->() const noexcept { return &current_; }
    constexpr iterator& operator++() noexcept {
      if (current_.kind == option_kind::end_of_option_list) rest_ = {};
      else rest_ = rest_.subspan(current_.wire_length());
      load();
      return *this;
    }
    constexpr iterator operator++(int) noexcept { auto old = *this; ++*this; return old; }
    friend constexpr bool operator==(const iterator& i, std::default_sentinel_t) noexcept {
      return i.rest_.empty();
    }
    friend constexpr bool operator==(const iterator& a, const iterator& b) noexcept {
      if (a.rest_.empty() || b.rest_.empty()) return a.rest_.empty() == b.rest_.empty();
      return a.rest_.data() == b.rest_.data();
    }

   private:
    friend class option_range;
    constexpr explicit iterator(std::span<const std::byte> rest) noexcept : rest_(rest) { load(); }
    constexpr void load() noexcept {
      if (!rest_.empty() && !read_option_into(rest_, current_)) rest_ = {};
    }
    std::span<const std::byte> rest_;
    option current_{};
  };

  constexpr option_range() noexcept = default;
  constexpr explicit option_range(std::span<const std::byte> option_bytes) noexcept : bytes_(option_bytes) {}
  constexpr iterator begin() const noexcept { return iterator{bytes_}; }
  constexpr std::default_sentinel_t end() const noexcept { return {}; }
  /// The raw option bytes, padding included.
  constexpr std::span<const std::byte> bytes() const noexcept { return bytes_; }

 private:
  std::span<const std::byte> bytes_;
};

/// One SACK block: the first sequence number of a received block and the one
/// just after it (RFC 2018 3: Left Edge, Right Edge). Plain uint32 values.
struct sack_block {
  std::uint32_t left_edge = 0;
  std::uint32_t right_edge = 0;
  friend constexpr bool operator==(const sack_block&, const sack_block&) = default;
};

/// The Timestamps option values (RFC 7323 3.2).
struct timestamps_option {
  std::uint32_t tsval = 0;  ///< Timestamp Value
  std::uint32_t tsecr = 0;  ///< Timestamp Echo Reply
  friend constexpr bool operator==(const timestamps_option&, const timestamps_option&) = default;
};

/// The options a TCP header carries, decoded. Absent options are empty.
/// When a kind appears twice the later one wins. Whether an option is allowed
/// in a given segment (MSS, window scale and SACK-permitted only on SYNs) is
/// for the TCP state machine to judge, not the wire format.
struct options {
  std::optional<std::uint16_t> mss;               ///< RFC 9293 3.7.1
  std::optional<std::uint8_t> window_scale;       ///< shift.cnt as sent (RFC 7323 2.2), may exceed 14
  bool sack_permitted = false;                    ///< RFC 2018 2
  std::optional<timestamps_option> timestamps;    ///< RFC 7323 3.2
  std::array<sack_block, max_sack_blocks> sack_blocks{};  ///< the first sack_count are in use (RFC 2018 3)
  std::uint8_t sack_count = 0;

  constexpr std::span<const sack_block> sack() const noexcept {
    return {sack_blocks.data(), sack_count <= max_sack_blocks ? sack_count : max_sack_blocks};
  }
  /// Appends a SACK block; false (and no change) when four are held already.
  constexpr bool add_sack(sack_block b) noexcept {
    if (sack_count >= max_sack_blocks) return false;
    sack_blocks[sack_count++] = b;
    return true;
  }
  /// The shift to use: RFC 7323 2.3, "If a Window Scale option is received
  /// with a shift.cnt value larger than 14, the TCP SHOULD log the error but
  /// MUST use 14 instead of the specified value."
  constexpr std::optional<std::uint8_t> window_scale_clamped() const noexcept {
    if (!window_scale) return std::nullopt;
    return *window_scale > max_window_scale ? max_window_scale : *window_scale;
  }

  /// The octets emit_options() writes: always a multiple of 4, since each
  /// option is laid on a 32-bit boundary with NOPs (RFC 7323 appendix A).
  /// In this order, the one Linux uses, so a Linux SYN is reproduced exactly:
  ///   MSS                      kind len mss mss                (4)
  ///   SACK-permitted + TS      kind len kind len tsval tsecr   (12)
  ///   TS alone                 NOP NOP kind len tsval tsecr    (12)
  ///   window scale             NOP kind len shift              (4)
  ///   SACK-permitted alone     NOP NOP kind len                (4)
  ///   SACK, n blocks           NOP NOP kind len blocks         (4 + 8n)
  constexpr std::size_t length() const noexcept {
    std::size_t n = 0;
    if (mss) n += 4;
    if (window_scale) n += 4;
    if (timestamps) n += 12;
    else if (sack_permitted) n += 4;
    if (sack_count > 0) n += 4 + option_length::sack_block * sack_count;
    return n;
  }
  /// Whether the options fit the 40-octet option space (emit's precondition).
  constexpr bool fits() const noexcept {
    return sack_count <= max_sack_blocks && length() <= max_options_length;
  }

  friend constexpr bool operator==(const options& a, const options& b) noexcept {
    if (a.mss != b.mss || a.window_scale != b.window_scale || a.sack_permitted != b.sack_permitted ||
        a.timestamps != b.timestamps || a.sack_count != b.sack_count) {
      return false;
    }
    const auto sa = a.sack();
    const auto sb = b.sack();
    for (std::size_t i = 0; i < sa.size(); ++i) {
      if (sa[i] != sb[i]) return false;
    }
    return true;
  }
};

/// Decodes one option that read_option() accepted into `out` (unknown kinds,
/// EOL and NOP leave it unchanged).
constexpr void apply_option(const option& o, options& out) noexcept {
  const std::byte* d = o.data.data();
  switch (o.kind) {
    case option_kind::maximum_segment_size: out.mss = detail::load_be16(d); break;
    case option_kind::window_scale: out.window_scale = std::to_integer<std::uint8_t>(d[0]); break;
    case option_kind::sack_permitted: out.sack_permitted = true; break;
    case option_kind::timestamps:
      out.timestamps = timestamps_option{detail::load_be32(d), detail::load_be32(d + 4)};
      break;
    case option_kind::sack: {
      // A later SACK option replaces an earlier one, like every other kind.
      out.sack_count = 0;
      const std::size_t blocks = o.data.size() / option_length::sack_block;
      for (std::size_t i = 0; i < blocks && i < max_sack_blocks; ++i) {
        out.add_sack({detail::load_be32(d + 8 * i), detail::load_be32(d + 8 * i + 4)});
      }
      break;
    }
    default: break;
  }
}

/// Validates and decodes the option bytes of a header into `out`: false at
/// the first malformed option (see read_option_into), leaving `out` partly
/// filled. Bytes after an EOL are padding and are not read (RFC 9293 3.2).
constexpr bool decode_options(std::span<const std::byte> option_bytes, options& out) noexcept {
  // RFC 7323 appendix A's layout <NOP, NOP, TSopt>, which nearly every
  // segment of a connection with timestamps carries: decoded in one step.
  if (option_bytes.size() == 12 && option_bytes[0] == std::byte{1} && option_bytes[1] == std::byte{1} &&
      option_bytes[2] == std::byte{8} && option_bytes[3] == std::byte{10}) {
    out.timestamps = timestamps_option{detail::load_be32(option_bytes.data() + 4),
                                       detail::load_be32(option_bytes.data() + 8)};
    return true;
  }
  option o;
  while (!option_bytes.empty()) {
    if (!read_option_into(option_bytes, o)) return false;
    if (o.kind == option_kind::end_of_option_list) break;  // RFC 9293 3.2: the rest is padding
    apply_option(o, out);
    option_bytes = option_bytes.subspan(o.wire_length());
  }
  return true;
}

/// Validates and decodes the option bytes of a header (the octets between the
/// fixed 20-byte header and Data Offset * 4). bad_option for any option that
/// read_option() rejects; bytes after an EOL are padding and are not read.
constexpr parse_result<options> parse_options(std::span<const std::byte> option_bytes) noexcept {
  options out;
  if (!decode_options(option_bytes, out)) return failure{error::bad_option};
  return out;
}

/// Writes `o` into `out` in the layout documented at options::length() and
/// returns the octets written (a multiple of 4, so no EOL is needed).
/// Preconditions: o.fits() and out.size() >= o.length().
constexpr std::size_t emit_options(const options& o, std::span<std::byte> out) noexcept {
  assert(o.fits());
  assert(out.size() >= o.length());
  std::byte* p = out.data();
  const auto put8 = [&p](std::uint8_t v) { *p++ = static_cast<std::byte>(v); };
  const auto kind = [&put8](option_kind k) { put8(static_cast<std::uint8_t>(k)); };
  const auto nop = [&kind] { kind(option_kind::no_operation); };
  if (o.mss) {
    kind(option_kind::maximum_segment_size);
    put8(option_length::maximum_segment_size);
    detail::store_be16(p, *o.mss);
    p += 2;
  }
  if (o.timestamps) {
    if (o.sack_permitted) {
      kind(option_kind::sack_permitted);
      put8(option_length::sack_permitted);
    } else {
      nop();
      nop();
    }
    kind(option_kind::timestamps);
    put8(option_length::timestamps);
    detail::store_be32(p, o.timestamps->tsval);
    detail::store_be32(p + 4, o.timestamps->tsecr);
    p += 8;
  }
  if (o.window_scale) {
    nop();
    kind(option_kind::window_scale);
    put8(option_length::window_scale);
    put8(*o.window_scale);
  }
  if (o.sack_permitted && !o.timestamps) {
    nop();
    nop();
    kind(option_kind::sack_permitted);
    put8(option_length::sack_permitted);
  }
  if (o.sack_count > 0) {
    nop();
    nop();
    kind(option_kind::sack);
    put8(static_cast<std::uint8_t>(option_length::sack_base + option_length::sack_block * o.sack_count));
    for (const sack_block& b : o.sack()) {
      detail::store_be32(p, b.left_edge);
      detail::store_be32(p + 4, b.right_edge);
      p += 8;
    }
  }
  return static_cast<std::size_t>(p - out.data());
}

}  // namespace uk::wire::tcp
