// Per-connection tunables of the TCP core, with the RFC each default comes from.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "uk/time.hpp"

namespace uk::direct::tcp {

using namespace std::chrono_literals;

/// Keep-alives (RFC 1122 4.2.3.6): off unless asked for; "the default MUST
/// be no less than two hours" of idleness before the first probe.
struct keepalive_config {
  duration idle = std::chrono::hours{2};   ///< quiet time before the first probe
  duration interval = 75s;                 ///< between unanswered probes (Linux's default)
  unsigned probes = 9;                     ///< unanswered probes before the connection times out
};

/// The congestion-control algorithm of a connection (congestion.hpp).
enum class congestion_algorithm : std::uint8_t {
  newreno,  ///< RFC 5681 with RFC 6582's partial ACKs
  cubic,    ///< RFC 9438, the default (as in Linux)
};

struct connection_config {
  /// Bytes the application may have written but the peer not yet acknowledged.
  std::size_t send_buffer = 256 * 1024;
  /// Bytes received but not yet read by the application; the advertised
  /// window is the free part of it (mirage-tcpip #340: it reopens as the app reads).
  std::size_t receive_buffer = 256 * 1024;
  /// Our MSS: the largest segment payload we accept, announced on our SYN
  /// (RFC 9293 3.7.1). The layer sets it from the MTU: mtu - 20 (IPv4) - 20 (TCP).
  std::uint16_t mss = 1460;
  /// Disables Nagle's algorithm (RFC 9293 3.7.4, RFC 1122 4.2.3.4): small
  /// segments go out at once even with data in flight.
  bool nodelay = false;
  /// Offer the Window Scale option (RFC 7323 2).
  bool window_scaling = true;
  /// Offer SACK-permitted (RFC 2018 2) and, when both SYNs carry it, send
  /// SACK blocks and recover losses from them (RFC 6675).
  bool sack = true;
  /// The congestion-control algorithm (RFC 9438 CUBIC by default).
  congestion_algorithm congestion = congestion_algorithm::cubic;
  /// RFC 6928: the initial window, in segments, capped at 14600 bytes.
  unsigned initial_window_segments = 10;
  /// Offer the Timestamps option (RFC 7323 3), which brings PAWS (RFC 7323 5).
  bool timestamps = true;
  /// How long an ACK may be delayed (RFC 9293 3.8.6.3: "MUST be less than
  /// 0.5 seconds"; RFC 1122 practice and this core: at most 200 ms, clamped).
  duration delayed_ack = 40ms;
  /// RFC 6298 2.1: "the sender SHOULD set RTO <- 1 second" before any measurement.
  duration initial_rto = 1s;
  /// RFC 6298 2.4 says 1 s; like Linux we use 200 ms, which recovers a lost
  /// segment five times sooner on the short paths this stack serves. Peers
  /// that delay ACKs by up to 200 ms may cause a spurious retransmission,
  /// which RFC 6298 5 tolerates. Set it to 1 s for the RFC's conservative value.
  duration min_rto = 200ms;
  /// RFC 6298 2.5: "a maximum value MAY be placed on RTO provided it is at least 60 seconds".
  duration max_rto = 60s;
  /// Retransmissions of one segment before the connection aborts with
  /// error::timed_out (RFC 9293 3.8.3 R2; Linux tcp_retries2 = 15).
  unsigned max_retransmissions = 15;
  /// Retransmissions of a SYN or SYN-ACK before giving up (Linux tcp_syn_retries = 6).
  unsigned max_syn_retransmissions = 6;
  /// Maximum Segment Lifetime (RFC 9293 3.4.1); TIME-WAIT lasts 2 * msl.
  duration msl = 30s;
  /// Keep-alive probing; nullopt (the default, RFC 1122 4.2.3.6) for none.
  std::optional<keepalive_config> keepalive;
};

}  // namespace uk::direct::tcp
