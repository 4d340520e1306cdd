// DHCP options (RFC 2132) and BOOTP vendor extensions: the codes, the
// parsed `dhcp::options` a client or server needs, the walker over one
// option area and the writer that emit() uses. The message itself (fixed
// BOOTP part, magic cookie, overload) is in uk/wire/dhcp.hpp.
//
// An option is a code octet, a length octet and that many data octets,
// except pad (0) and end (255), which are one octet (RFC 2132 section 2):
//
//   +------+-----+----+----+----
//   | code | len | d1 | d2 | ...
//   +------+-----+----+----+----
//
// Rules this file decides (each cited where it is applied):
//  - An option whose length octet or data would run past its area (the
//    options field, `file` or `sname`) is bad_option: RFC 2131 4.1, "Any
//    individual option ... MUST be entirely contained in that field".
//  - An area that ends without an end option is accepted when its last
//    option ends exactly at the area's end. RFC 2131 4.1 asks senders for the
//    end option; the area's extent is known anyway (field size or UDP length),
//    so a receiver loses nothing by being liberal (RFC 1122 1.2.2).
//  - Several instances of one option (RFC 3396: a split option, to be
//    concatenated before it is interpreted):
//      * router (3) and DNS server (6): concatenated, even across an
//        address split between two instances; the total must be a multiple
//        of 4 octets;
//      * fixed-length options (message type, subnet mask, requested IP,
//        lease time, server id, T1, T2, overload): their concatenation would
//        have the wrong length, so a second instance is bad_option;
//      * byte strings (hostname, parameter request list, client id) are
//        exposed as views into the packet and are never copied, so a split
//        one cannot be shown as one value: unsupported. Senders split only
//        values longer than 255 octets, or to fill overloaded fields.
//  - Unknown options are skipped by their length: every option other than
//    pad and end carries a length octet (RFC 2132 section 2), which is what
//    lets a receiver step over options defined after it was written.
//
// Nothing here allocates, reads a clock or throws.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

#include "uk/addr.hpp"
#include "uk/detail/endian.hpp"
#include "uk/wire/error.hpp"

namespace uk::wire::dhcp {

/// Option codes (RFC 2132; the section of each is given).
namespace option_code {
inline constexpr std::uint8_t pad = 0;                       ///< 3.1
inline constexpr std::uint8_t subnet_mask = 1;               ///< 3.3
inline constexpr std::uint8_t router = 3;                    ///< 3.5
inline constexpr std::uint8_t dns_server = 6;                ///< 3.8
inline constexpr std::uint8_t hostname = 12;                 ///< 3.14
inline constexpr std::uint8_t requested_ip = 50;             ///< 9.1
inline constexpr std::uint8_t lease_time = 51;               ///< 9.2
inline constexpr std::uint8_t overload = 52;                 ///< 9.3
inline constexpr std::uint8_t message_type = 53;             ///< 9.6
inline constexpr std::uint8_t server_id = 54;                ///< 9.7
inline constexpr std::uint8_t parameter_request_list = 55;   ///< 9.8
inline constexpr std::uint8_t max_message_size = 57;         ///< 9.10
inline constexpr std::uint8_t renewal_time = 58;             ///< 9.11 (T1)
inline constexpr std::uint8_t rebinding_time = 59;           ///< 9.12 (T2)
inline constexpr std::uint8_t client_id = 61;                ///< 9.14
inline constexpr std::uint8_t end = 255;                     ///< 3.2
}  // namespace option_code

/// DHCP message type, the value of option 53 (RFC 2132 9.6).
enum class message_type : std::uint8_t {
  discover = 1,
  offer = 2,
  request = 3,
  decline = 4,
  ack = 5,
  nak = 6,
  release = 7,
  inform = 8,
};

constexpr std::string_view to_string(message_type t) noexcept {
  switch (t) {
    case message_type::discover: return "DHCPDISCOVER";
    case message_type::offer: return "DHCPOFFER";
    case message_type::request: return "DHCPREQUEST";
    case message_type::decline: return "DHCPDECLINE";
    case message_type::ack: return "DHCPACK";
    case message_type::nak: return "DHCPNAK";
    case message_type::release: return "DHCPRELEASE";
    case message_type::inform: return "DHCPINFORM";
  }
  return "unknown";
}

/// Which of the `file` and `sname` fields carry options: the value of the
/// option overload option (RFC 2132 9.3). `none` when the option is absent.
enum class overload_fields : std::uint8_t { none = 0, file = 1, sname = 2, both = 3 };

/// Lease time meaning "infinity" (RFC 2131 3.3: 0xffffffff).
inline constexpr std::uint32_t infinite_lease = 0xffffffffu;

/// A list of IPv4 addresses (routers, DNS servers) held in place, with room
/// for `capacity` entries. Addresses beyond that are not kept; `omitted()`
/// says how many the message carried (a peer can send 63 per option and
/// split a list across many options: RFC 3396).
class address_list {
 public:
  static constexpr std::size_t capacity = 8;

  constexpr address_list() noexcept = default;
  /// The first `capacity` of `addresses`; the rest are counted as omitted.
  constexpr address_list(std::initializer_list<ipv4_address> addresses) noexcept {
    for (auto a : addresses) push_back(a);
  }

  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr const ipv4_address* begin() const noexcept { return items_.data(); }
  constexpr const ipv4_address* end() const noexcept { return items_.data() + size_; }
  constexpr ipv4_address operator[](std::size_t i) const noexcept { assert(i < size_); return items_[i]; }
  constexpr std::span<const ipv4_address> addresses() const noexcept { return {begin(), end()}; }
  /// Addresses the message carried beyond `capacity` (not kept).
  constexpr std::size_t omitted() const noexcept { return omitted_; }

  /// Appends `a`; when full, counts it as omitted and returns false.
  constexpr bool push_back(ipv4_address a) noexcept {
    if (size_ == capacity) {
      ++omitted_;
      return false;
    }
    items_[size_++] = a;
    return true;
  }
  constexpr void clear() noexcept { *this = address_list{}; }

  friend constexpr bool operator==(const address_list& a, const address_list& b) noexcept {
    return a.omitted_ == b.omitted_ && std::ranges::equal(a.addresses(), b.addresses());
  }

 private:
  std::array<ipv4_address, capacity> items_{};
  std::uint8_t size_ = 0;
  std::size_t omitted_ = 0;
};

/// Octets of an option, viewed in place in the packet (parameter request
/// list, client identifier). Compares by content.
class octet_string {
 public:
  constexpr octet_string() noexcept = default;
  constexpr explicit octet_string(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

  constexpr std::size_t size() const noexcept { return bytes_.size(); }
  constexpr bool empty() const noexcept { return bytes_.empty(); }
  constexpr std::uint8_t operator[](std::size_t i) const noexcept {
    return std::to_integer<std::uint8_t>(bytes_[i]);
  }
  constexpr std::span<const std::byte> bytes() const noexcept { return bytes_; }
  constexpr auto begin() const noexcept { return bytes_.begin(); }
  constexpr auto end() const noexcept { return bytes_.end(); }
  /// True when `code` is one of the octets (for a parameter request list).
  constexpr bool contains(std::uint8_t code) const noexcept {
    return std::ranges::find(bytes_, std::byte{code}) != bytes_.end();
  }

  friend constexpr bool operator==(const octet_string& a, const octet_string& b) noexcept {
    return std::ranges::equal(a.bytes_, b.bytes_);
  }

 private:
  std::span<const std::byte> bytes_;
};

/// The options a DHCP client or server acts on (RFC 2132), parsed from the
/// options field and, when overloaded, the `file` and `sname` fields. An
/// absent option is an empty optional (or an empty list). Strings and octet
/// strings point into the packet: they live as long as its bytes.
struct options {
  std::optional<dhcp::message_type> message_type;    ///< 53 (RFC 2132 9.6)
  std::optional<ipv4_address> server_id;             ///< 54 (9.7)
  std::optional<ipv4_address> subnet_mask;           ///< 1 (3.3)
  address_list routers;                              ///< 3 (3.5), in order of preference
  address_list dns_servers;                          ///< 6 (3.8), in order of preference
  std::optional<std::string_view> hostname;          ///< 12 (3.14), not NUL-terminated
  std::optional<ipv4_address> requested_ip;          ///< 50 (9.1)
  std::optional<std::uint32_t> lease_time;           ///< 51 (9.2), seconds; infinite_lease
  std::optional<std::uint32_t> renewal_time;         ///< 58 (9.11), T1, seconds
  std::optional<std::uint32_t> rebinding_time;       ///< 59 (9.12), T2, seconds
  std::optional<octet_string> parameter_request_list;  ///< 55 (9.8), option codes
  std::optional<octet_string> client_id;             ///< 61 (9.14), type octet and identifier

  friend bool operator==(const options&, const options&) = default;
};

namespace detail {

constexpr std::uint8_t octet(std::byte b) noexcept { return std::to_integer<std::uint8_t>(b); }

/// Walks one option area (RFC 2132 section 2), calling
/// `on_option(code, data) -> std::optional<error>` for every option other
/// than pad and end, and stops at the end option, at the first error it or
/// the callback reports, or where the area ends.
/// bad_option: an option's length octet or data runs past the area (RFC 2131 4.1).
template <class OnOption>
constexpr std::optional<error> walk_area(std::span<const std::byte> area, OnOption&& on_option) noexcept {
  std::size_t at = 0;
  while (at < area.size()) {
    const std::uint8_t code = octet(area[at]);
    if (code == option_code::pad) {  // RFC 2132 3.1: one octet, no length
      ++at;
      continue;
    }
    if (code == option_code::end) return std::nullopt;  // RFC 2132 3.2
    if (area.size() - at < 2) return error::bad_option;
    const std::size_t length = octet(area[at + 1]);
    if (length > area.size() - at - 2) return error::bad_option;
    if (auto e = on_option(code, area.subspan(at + 2, length))) return e;
    at += 2 + length;
  }
  return std::nullopt;  // no end option, but the last one ended with the area: accepted
}

/// Gathers the options of all areas of one message into `dhcp::options`.
/// Call add() for each option in the order RFC 2131 4.1 gives (options
/// field, file, sname), then finish().
class options_decoder {
 public:
  constexpr std::optional<error> add(std::uint8_t code, std::span<const std::byte> data) noexcept {
    switch (code) {
      case option_code::message_type: {
        // RFC 2132 9.6: length 1, values 1 to 8.
        if (data.size() != 1 || out_.message_type) return error::bad_option;
        const std::uint8_t v = octet(data[0]);
        if (v >= 1 && v <= 8) {
          out_.message_type = static_cast<message_type>(v);
          return std::nullopt;
        }
        // 9 to 18 are defined by later RFCs (FORCERENEW: RFC 3203; lease query:
        // RFC 4388, 6926, 7724): well-formed, but not messages this parser models.
        if (v >= 9 && v <= 18) return error::unsupported;
        return error::bad_option;
      }
      case option_code::subnet_mask: return address_option(data, out_.subnet_mask);       // 3.3
      case option_code::requested_ip: return address_option(data, out_.requested_ip);     // 9.1
      case option_code::server_id: return address_option(data, out_.server_id);           // 9.7
      case option_code::lease_time: return seconds_option(data, out_.lease_time);         // 9.2
      case option_code::renewal_time: return seconds_option(data, out_.renewal_time);     // 9.11
      case option_code::rebinding_time: return seconds_option(data, out_.rebinding_time); // 9.12
      case option_code::router: routers_.add(data, out_.routers); return std::nullopt;
      case option_code::dns_server: dns_.add(data, out_.dns_servers); return std::nullopt;
      case option_code::hostname: {
        // RFC 2132 3.14: "The minimum length is 1."
        if (out_.hostname) return error::unsupported;  // split (RFC 3396): see the file comment
        if (data.empty()) return error::bad_option;
        out_.hostname = std::string_view(reinterpret_cast<const char*>(data.data()), data.size());
        return std::nullopt;
      }
      case option_code::parameter_request_list:
        return octets_option(data, 1, out_.parameter_request_list);  // RFC 2132 9.8: minimum 1
      case option_code::client_id:
        return octets_option(data, 2, out_.client_id);  // RFC 2132 9.14: minimum 2
      default: return std::nullopt;  // unknown or not modelled: skipped by its length
    }
  }

  /// Checks the concatenated lists and returns the options.
  /// bad_option: a router or DNS list that is empty or not a multiple of 4
  /// octets (RFC 2132 3.5, 3.8: "minimum length ... is 4 octets, and the
  /// length MUST always be a multiple of 4").
  constexpr std::optional<error> finish() noexcept {
    if (!routers_.valid() || !dns_.valid()) return error::bad_option;
    return std::nullopt;
  }
  constexpr const dhcp::options& result() const noexcept { return out_; }

 private:
  // An address list concatenated octet by octet over all its instances (RFC 3396).
  struct address_accumulator {
    std::size_t instances = 0;
    std::size_t octets = 0;
    std::uint32_t partial = 0;

    constexpr void add(std::span<const std::byte> data, address_list& list) noexcept {
      ++instances;
      for (std::byte b : data) {
        partial = (partial << 8) | octet(b);
        if (++octets % 4 == 0) {
          list.push_back(ipv4_address{partial});
          partial = 0;
        }
      }
    }
    constexpr bool valid() const noexcept { return instances == 0 || (octets >= 4 && octets % 4 == 0); }
  };

  static constexpr std::optional<error> address_option(std::span<const std::byte> data,
                                                       std::optional<ipv4_address>& field) noexcept {
    if (data.size() != 4 || field) return error::bad_option;  // length 4; no second instance (RFC 3396)
    field = ipv4_address{uk::detail::load_be32(data.data())};
    return std::nullopt;
  }
  static constexpr std::optional<error> seconds_option(std::span<const std::byte> data,
                                                       std::optional<std::uint32_t>& field) noexcept {
    if (data.size() != 4 || field) return error::bad_option;  // 32-bit unsigned, length 4
    field = uk::detail::load_be32(data.data());
    return std::nullopt;
  }
  static constexpr std::optional<error> octets_option(std::span<const std::byte> data, std::size_t minimum,
                                                      std::optional<octet_string>& field) noexcept {
    if (field) return error::unsupported;  // split (RFC 3396): see the file comment
    if (data.size() < minimum) return error::bad_option;
    field = octet_string{data};
    return std::nullopt;
  }

  dhcp::options out_{};
  address_accumulator routers_{};
  address_accumulator dns_{};
};

/// Octets emit_options() writes for `o`, end option included.
constexpr std::size_t options_length(const dhcp::options& o) noexcept {
  std::size_t n = 1;  // end
  if (o.message_type) n += 3;
  n += 6 * (std::size_t{o.server_id.has_value()} + o.subnet_mask.has_value() + o.requested_ip.has_value() +
            o.lease_time.has_value() + o.renewal_time.has_value() + o.rebinding_time.has_value());
  if (!o.routers.empty()) n += 2 + 4 * o.routers.size();
  if (!o.dns_servers.empty()) n += 2 + 4 * o.dns_servers.size();
  if (o.hostname) n += 2 + o.hostname->size();
  if (o.parameter_request_list) n += 2 + o.parameter_request_list->size();
  if (o.client_id) n += 2 + o.client_id->size();
  return n;
}

/// Writes the options of `o` at `p`: message type first, then the others
/// each as one instance, then the end option. Returns the octet after end.
/// Preconditions: each string fits one option (hostname 1..255 octets,
/// parameter request list 1..255, client id 2..255).
inline std::byte* emit_options(const dhcp::options& o, std::byte* p) noexcept {
  auto header = [&p](std::uint8_t code, std::size_t length) {
    assert(length <= 255);
    p[0] = std::byte{code};
    p[1] = static_cast<std::byte>(length);
    p += 2;
  };
  auto u32 = [&](std::uint8_t code, const std::optional<std::uint32_t>& v) {
    if (!v) return;
    header(code, 4);
    uk::detail::store_be32(p, *v);
    p += 4;
  };
  auto address = [&](std::uint8_t code, const std::optional<ipv4_address>& a) {
    if (a) u32(code, a->value);
  };
  auto list = [&](std::uint8_t code, const address_list& l) {
    if (l.empty()) return;
    header(code, 4 * l.size());
    for (auto a : l) {
      uk::detail::store_be32(p, a.value);
      p += 4;
    }
  };
  auto octets = [&](std::uint8_t code, std::span<const std::byte> s) {
    header(code, s.size());
    std::copy(s.begin(), s.end(), p);
    p += s.size();
  };

  if (o.message_type) {
    header(option_code::message_type, 1);
    *p++ = static_cast<std::byte>(*o.message_type);
  }
  address(option_code::server_id, o.server_id);
  address(option_code::subnet_mask, o.subnet_mask);
  list(option_code::router, o.routers);
  list(option_code::dns_server, o.dns_servers);
  if (o.hostname) {
    assert(!o.hostname->empty());
    octets(option_code::hostname, std::as_bytes(std::span(o.hostname->data(), o.hostname->size())));
  }
  address(option_code::requested_ip, o.requested_ip);
  u32(option_code::lease_time, o.lease_time);
  u32(option_code::renewal_time, o.renewal_time);
  u32(option_code::rebinding_time, o.rebinding_time);
  if (o.parameter_request_list) {
    assert(!o.parameter_request_list->empty());
    octets(option_code::parameter_request_list, o.parameter_request_list->bytes());
  }
  if (o.client_id) {
    assert(o.client_id->size() >= 2);
    octets(option_code::client_id, o.client_id->bytes());
  }
  *p++ = std::byte{option_code::end};
  return p;
}

}  // namespace detail
}  // namespace uk::wire::dhcp
