// uk::direct::icmpv4<Ip>: ICMP for IPv4 (RFC 792) as a host needs it (RFC
// 1122 3.2.2). Satisfies uk::icmpv4_layer.
//
//   icmpv4<Ip> icmp(ip, clock);                 // answers pings from here on
//   udp.set_unreachable_handler(...icmp.port_unreachable...);
//
// - Echo (RFC 1122 3.2.2.6): every echo request is answered with an echo
//   reply carrying the same identifier, sequence number and data, whatever
//   its size (a reassembled 60000-byte request gets a reply that IPv4
//   fragments). Requests to a broadcast or multicast address are ignored by
//   default (the RFC's MAY; icmpv4_options::reply_to_broadcast_echo).
// - Errors: destination unreachable (port, RFC 1122 3.2.2.1 and 4.1.3.1;
//   protocol, through the IPv4 layer's unknown-protocol hook) and time
//   exceeded (fragment reassembly, RFC 1122 3.3.2, through the IPv4 layer's
//   reassembly-timeout hook, when the layer offers them). Each quotes the
//   offending datagram's IP header and the start of its data: at least the 8
//   octets RFC 792 requires, up to a 576-octet error datagram (RFC 1812
//   4.3.2.3, as Linux does). They are never sent about an ICMP error, a
//   datagram to a broadcast or multicast address, a fragment other than the
//   first, or a datagram whose source is not one host (RFC 1122 3.2.2), and
//   they are rate-limited (RFC 1812 4.3.2.8) by a token bucket, the method
//   RFC 4443 2.4 (f) recommends for ICMPv6: 10 per second, bursts of 10 by
//   default. Echo replies are not limited (Linux's icmp_ratemask neither).
// - Every message received has its checksum verified (wire::icmpv4::parse;
//   mirage-tcpip #217) and is counted by type; unknown types are discarded
//   (RFC 1122 3.2.2). Echo replies and errors can be passed to the application.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "uk/addr.hpp"
#include "uk/concepts/icmpv4.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/delegate.hpp"
#include "uk/direct/ipv4.hpp"
#include "uk/log.hpp"
#include "uk/time.hpp"
#include "uk/wire/checksum.hpp"
#include "uk/wire/icmpv4.hpp"
#include "uk/wire/ipv4.hpp"

namespace uk::direct {

struct icmpv4_options {
  /// Answer echo requests sent to a broadcast or multicast address (RFC 1122
  /// 3.2.2.6 lets a host discard them; smurf amplification is why it should).
  bool reply_to_broadcast_echo = false;
  /// The token bucket of error messages (RFC 1812 4.3.2.8, RFC 4443 2.4 (f)):
  /// this many per second on average, at most error_burst at once. 0 per second: none.
  std::uint32_t errors_per_second = 10;
  std::uint32_t error_burst = 10;
  /// The largest error datagram, IP header included: the quote is cut to fit,
  /// but never below the 8 data octets RFC 792 requires (RFC 1812 4.3.2.3: 576).
  std::size_t max_error_length = 576;
  /// Send protocol unreachable (RFC 1122 3.2.2.1) and reassembly time
  /// exceeded (RFC 1122 3.3.2) when the IPv4 layer reports them.
  bool protocol_unreachable = true;
  bool reassembly_time_exceeded = true;
};

struct icmpv4_counters {
  // Received.
  std::uint64_t rx_messages = 0;       ///< valid messages, every type
  std::uint64_t rx_truncated = 0;      ///< shorter than the 8-byte header
  std::uint64_t rx_bad_checksum = 0;   ///< checksum did not verify (RFC 792)
  std::uint64_t rx_echo_requests = 0;
  std::uint64_t rx_echo_replies = 0;
  std::uint64_t rx_destination_unreachable = 0;
  std::uint64_t rx_time_exceeded = 0;
  std::uint64_t rx_other = 0;          ///< every other type
  std::uint64_t echo_requests_ignored = 0;  ///< to a broadcast/multicast address, or from 0.0.0.0
  // Sent.
  std::uint64_t tx_echo_replies = 0;
  std::uint64_t tx_port_unreachable = 0;
  std::uint64_t tx_protocol_unreachable = 0;
  std::uint64_t tx_time_exceeded = 0;
  std::uint64_t errors_rate_limited = 0;  ///< errors the token bucket refused
  std::uint64_t errors_suppressed = 0;    ///< errors RFC 1122 3.2.2 forbids
  std::uint64_t tx_dropped = 0;           ///< messages IPv4 refused (no route, ARP queue full...)

  std::uint64_t tx_errors() const noexcept { return tx_port_unreachable + tx_protocol_unreachable + tx_time_exceeded; }
};

/// Called with a received ICMP message (an echo reply, or an error) and the
/// datagram it came in; valid during the call.
using icmpv4_handler = delegate<void(const ipv4_datagram_info&, const wire::icmpv4::view&)>;

template <ipv4_layer Ip>
class icmpv4 {
 public:
  icmpv4(Ip& ip, clock_ref clock, const icmpv4_options& options = {})
      : ip_(ip), clock_(clock), options_(options), last_refill_(clock()) {
    credit_ = bucket_capacity();
    ip_.set_receiver(wire::ipv4::protocol_number::icmp, ipv4_handler::bind<&icmpv4::on_datagram>(*this));
    if constexpr (requires(Ip& i, ipv4_handler h) { i.set_unknown_protocol_receiver(h); }) {
      if (options_.protocol_unreachable)
        ip_.set_unknown_protocol_receiver(ipv4_handler::bind<&icmpv4::protocol_unreachable>(*this));
    }
    if constexpr (requires(Ip& i, ipv4_reassembly_timeout_handler h) { i.set_reassembly_timeout_handler(h); }) {
      if (options_.reassembly_time_exceeded)
        ip_.set_reassembly_timeout_handler(
            ipv4_reassembly_timeout_handler::bind<&icmpv4::reassembly_time_exceeded>(*this));
    }
  }

  icmpv4(const icmpv4&) = delete;
  icmpv4& operator=(const icmpv4&) = delete;

  /// Reports that nobody listens on the port `payload` (the IP payload of the
  /// datagram `info` describes: the transport header onward) was sent to:
  /// destination unreachable, code 3 (RFC 792; RFC 1122 3.2.2.1, 4.1.3.1).
  void port_unreachable(const ipv4_datagram_info& info, frame payload) {
    send_error(info, payload, wire::icmpv4::destination_unreachable{wire::icmpv4::unreachable_code::port_unreachable},
               counters_.tx_port_unreachable);
  }

  /// Destination unreachable, code 2: no handler for the protocol (RFC 1122 3.2.2.1).
  void protocol_unreachable(const ipv4_datagram_info& info, frame payload) {
    send_error(info, payload,
               wire::icmpv4::destination_unreachable{wire::icmpv4::unreachable_code::protocol_unreachable},
               counters_.tx_protocol_unreachable);
  }

  /// Time exceeded, code 1: fragment reassembly timed out (RFC 1122 3.3.2).
  /// `leading_data` is the first fragment's data.
  void reassembly_time_exceeded(const ipv4_datagram_info& info, frame leading_data) {
    send_error(info, leading_data,
               wire::icmpv4::time_exceeded{wire::icmpv4::time_exceeded_code::fragment_reassembly_time_exceeded},
               counters_.tx_time_exceeded);
  }

  /// Echo replies received (a ping client's answers) go to `h`.
  void set_echo_reply_receiver(icmpv4_handler h) noexcept { echo_reply_handler_ = h; }
  /// Errors received (the types that quote a datagram, RFC 792) go to `h`,
  /// for the transport layers (RFC 1122 3.2.2: they MUST be passed up).
  void set_error_receiver(icmpv4_handler h) noexcept { error_handler_ = h; }

  const icmpv4_counters& counters() const noexcept { return counters_; }

 private:
  void on_datagram(const ipv4_datagram_info& info, frame payload) {
    const auto parsed = wire::icmpv4::parse(payload);
    if (!parsed) {
      if (parsed.error() == wire::error::bad_checksum) ++counters_.rx_bad_checksum;
      else ++counters_.rx_truncated;
      log::debug(log::source::icmp, "dropped a message from {}: {}", info.source, wire::to_string(parsed.error()));
      return;
    }
    const wire::icmpv4::view& message = *parsed;
    ++counters_.rx_messages;
    using wire::icmpv4::message_type;
    switch (message.type()) {
      case message_type::echo_request:
        ++counters_.rx_echo_requests;
        answer_echo(info, message);
        return;
      case message_type::echo_reply:
        ++counters_.rx_echo_replies;
        if (echo_reply_handler_) echo_reply_handler_(info, message);
        return;
      case message_type::destination_unreachable: ++counters_.rx_destination_unreachable; break;
      case message_type::time_exceeded: ++counters_.rx_time_exceeded; break;
      default: ++counters_.rx_other; break;
    }
    log::debug(log::source::icmp, "type {} code {} from {}", static_cast<int>(message.type()), message.code(),
               info.source);
    if (message.quotes_datagram() && error_handler_) error_handler_(info, message);
  }

  /// RFC 1122 3.2.2.6: the reply carries the request's identifier, sequence
  /// number and data unchanged, from the address the request was sent to.
  void answer_echo(const ipv4_datagram_info& info, const wire::icmpv4::view& request) {
    const bool to_group = is_broadcast_for(info.destination, ip_.address()) || info.destination.is_multicast();
    if ((to_group && !options_.reply_to_broadcast_echo) || info.source.is_unspecified()) {
      ++counters_.echo_requests_ignored;
      log::debug(log::source::icmp, "ignored an echo request from {} to {}", info.source, info.destination);
      return;
    }
    const frame message = request.message();
    auto write = [&](std::span<std::byte> out) -> std::size_t {
      if (out.size() < message.size()) return 0;
      std::memcpy(out.data(), message.data(), message.size());
      // Only the type and code change (echo reply: 0, 0): the checksum is
      // updated for that word alone (RFC 1624 3) instead of summing 60000 bytes.
      const auto old_word = static_cast<std::uint16_t>((static_cast<unsigned>(request.type()) << 8) | request.code());
      const std::uint16_t checksum = wire::checksum::update(request.checksum(), old_word, 0);
      out[0] = std::byte{static_cast<std::uint8_t>(wire::icmpv4::message_type::echo_reply)};
      out[1] = std::byte{0};
      out[2] = std::byte{static_cast<std::uint8_t>(checksum >> 8)};
      out[3] = std::byte{static_cast<std::uint8_t>(checksum)};
      return message.size();
    };
    if (ip_.transmit(info.source, wire::ipv4::protocol_number::icmp, message.size(), frame_filler(write))) {
      ++counters_.tx_echo_replies;
    } else {
      ++counters_.tx_dropped;
      log::debug(log::source::icmp, "could not send an echo reply to {}", info.source);
    }
  }

  /// RFC 1122 3.2.2: whether an error may be sent about this datagram.
  bool may_report(const ipv4_datagram_info& info, frame payload) const {
    const auto header = wire::ipv4::parse_quoted(info.header, wire::ipv4::checksum_check::skip);
    if (!header) return false;
    // "a datagram fragment other than the first fragment"
    if (header->fragment_offset() != 0) return false;
    // "a datagram destined to an IP broadcast or IP multicast address"
    const std::optional<ipv4_prefix> me = ip_.address();
    if (is_broadcast_for(info.destination, me) || info.destination.is_multicast()) return false;
    // "a datagram whose source address does not define a single host": zero,
    // loopback, broadcast, multicast or reserved (class E).
    const ipv4_address source = info.source;
    if (source.is_unspecified() || source.is_loopback() || source.is_multicast() || (source.value >> 28) == 0xf ||
        is_broadcast_for(source, me))
      return false;
    // "an ICMP error message"
    if (info.protocol == wire::ipv4::protocol_number::icmp) {
      if (payload.empty()) return false;
      switch (static_cast<wire::icmpv4::message_type>(std::to_integer<std::uint8_t>(payload[0]))) {
        case wire::icmpv4::message_type::destination_unreachable:
        case wire::icmpv4::message_type::source_quench:
        case wire::icmpv4::message_type::redirect:
        case wire::icmpv4::message_type::time_exceeded:
        case wire::icmpv4::message_type::parameter_problem:
          return false;
        default:
          break;
      }
    }
    // (A datagram sent as a link-layer broadcast is also excluded by RFC
    // 1122 3.2.2; the IPv4 layer does not see the link destination, and an
    // IP unicast inside a link broadcast is already unusual.)
    return true;
  }

  duration error_interval() const noexcept {
    return std::chrono::duration_cast<duration>(std::chrono::seconds{1}) / options_.errors_per_second;
  }
  duration bucket_capacity() const noexcept {
    return options_.errors_per_second == 0 ? duration{0} : error_interval() * options_.error_burst;
  }

  /// RFC 1812 4.3.2.8 rate limiting, as a token bucket (RFC 4443 2.4 (f)).
  /// The credit is time: it grows with the clock up to burst intervals, and
  /// each error spends one interval.
  bool take_token() {
    if (options_.errors_per_second == 0) return false;
    const instant now = clock_();
    if (now > last_refill_) {
      credit_ = std::min(bucket_capacity(), credit_ + (now - last_refill_));
      last_refill_ = now;
    }
    if (credit_ < error_interval()) return false;
    credit_ -= error_interval();
    return true;
  }

  template <class Message>
  void send_error(const ipv4_datagram_info& info, frame payload, const Message& message, std::uint64_t& sent) {
    if (!may_report(info, payload)) {
      ++counters_.errors_suppressed;
      log::debug(log::source::icmp, "no error about a datagram from {} to {} (RFC 1122 3.2.2)", info.source,
                 info.destination);
      return;
    }
    if (!take_token()) {
      ++counters_.errors_rate_limited;
      log::debug(log::source::icmp, "error to {} rate-limited", info.source);
      return;
    }
    // RFC 792: the header and at least 8 data octets; RFC 1812 4.3.2.3: as
    // much more as fits a datagram of max_error_length.
    const std::size_t fixed = wire::ipv4::min_header_length + wire::icmpv4::header_length + info.header.size();
    const std::size_t room = options_.max_error_length > fixed ? options_.max_error_length - fixed : 0;
    const std::size_t quoted = std::min(payload.size(), std::max<std::size_t>(room, 8));
    const std::size_t size = wire::icmpv4::header_length + info.header.size() + quoted;
    auto write = [&](std::span<std::byte> out) -> std::size_t {
      if (out.size() < size) return 0;
      std::byte* at = out.data() + wire::icmpv4::header_length;
      std::memcpy(at, info.header.data(), info.header.size());
      std::memcpy(at + info.header.size(), payload.data(), quoted);
      return wire::icmpv4::emit(wire::icmpv4::repr{message}, out.first(size)) + info.header.size() + quoted;
    };
    if (ip_.transmit(info.source, wire::ipv4::protocol_number::icmp, size, frame_filler(write))) {
      ++sent;
    } else {
      ++counters_.tx_dropped;
      log::debug(log::source::icmp, "could not send an error to {}", info.source);
    }
  }

  Ip& ip_;
  clock_ref clock_;
  icmpv4_options options_;
  duration credit_{0};
  instant last_refill_;
  icmpv4_handler echo_reply_handler_;
  icmpv4_handler error_handler_;
  icmpv4_counters counters_;
};

}  // namespace uk::direct
