// Congestion control as a policy (RFC 5681 3, RFC 9438). The policy owns the
// congestion window and the slow-start threshold and reacts to four events
// the connection reports; loss *recovery* (which segment to send next, the
// SACK scoreboard, NewReno's partial ACKs) is the connection's job, as in
// RFC 6675 and RFC 6582, which only ask the policy for ssthresh and cwnd.
//
//   on_ack(event)              new data cumulatively acknowledged outside
//                              recovery: grow cwnd (slow start or avoidance)
//   on_congestion_event(...)   loss detected by duplicate ACKs or SACK: the
//                              multiplicative decrease (RFC 5681 3.2 step 2)
//   on_recovery_end(...)       a full acknowledgment ended recovery
//   on_timeout(...)            a retransmission timeout (RFC 5681 3.1)
//
// `newreno` is RFC 5681's Reno window arithmetic. CUBIC (RFC 9438) models
// the same concept (cubic.hpp); `connection_config::congestion` picks one.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "uk/time.hpp"

namespace uk::direct::tcp {

/// New data cumulatively acknowledged (outside recovery).
struct ack_event {
  std::size_t acked = 0;   ///< bytes newly acknowledged
  std::size_t flight = 0;  ///< bytes outstanding before this ACK
  instant now{};
  duration srtt{};         ///< the smoothed RTT (RFC 6298), zero before the first sample
};

/// A congestion-control policy: the window it allows and its reactions.
template <class C>
concept congestion_control = requires(C c, const C cc, std::size_t n, instant t, const ack_event& a) {
  { cc.window() } -> std::convertible_to<std::size_t>;                // cwnd, bytes
  { cc.slow_start_threshold() } -> std::convertible_to<std::size_t>;  // ssthresh, bytes
  c.set_mss(n);                  // the sender's MSS, known after the handshake: restarts the initial window
  c.on_ack(a);
  c.on_congestion_event(n, t);   // flight size when the loss was detected
  c.on_recovery_end(n, t);       // flight size after the ACK that ended recovery
  c.on_timeout(n, t);            // flight size at the timeout
};

/// RFC 6928 2: IW = min (10*MSS, max (2*MSS, 14600)), for `segments` = 10;
/// other counts scale the same rule (segments * 1460 bytes in place of 14600).
constexpr std::size_t initial_window(std::size_t smss, unsigned segments) noexcept {
  const std::size_t n = std::max(1u, segments);
  return std::min<std::size_t>(n * smss, std::max<std::size_t>(2 * smss, n * 1460));
}

class newreno {
 public:
  explicit newreno(std::size_t mss, unsigned initial_segments = 10) noexcept
      : mss_(mss), initial_segments_(initial_segments), cwnd_(initial_window(mss, initial_segments)) {}

  void set_mss(std::size_t mss) noexcept {
    mss_ = mss;
    cwnd_ = initial_window(mss, initial_segments_);
  }

  std::size_t window() const noexcept { return cwnd_; }
  std::size_t slow_start_threshold() const noexcept { return ssthresh_; }

  void on_ack(const ack_event& e) noexcept {
    if (cwnd_ < ssthresh_) {
      // RFC 5681 3.1 equation (2): cwnd += min (N, SMSS).
      cwnd_ += std::min(e.acked, mss_);
    } else {
      // Equation (3): cwnd += SMSS*SMSS/cwnd, at least one byte.
      cwnd_ += std::max<std::size_t>(1, mss_ * mss_ / std::max<std::size_t>(cwnd_, 1));
    }
  }

  /// RFC 5681 3.2 step 2, equation (4): ssthresh = max (FlightSize / 2, 2*SMSS);
  /// RFC 6675 5 (4.2): cwnd = ssthresh. (NewReno's inflation by 3*SMSS is
  /// the connection's recovery window, RFC 6582 3.2 step 3.)
  void on_congestion_event(std::size_t flight, instant) noexcept {
    ssthresh_ = std::max(flight / 2, 2 * mss_);
    cwnd_ = ssthresh_;
  }

  /// RFC 6582 3.2 step 3, full acknowledgment: "Set cwnd to either (1) min
  /// (ssthresh, max(FlightSize, SMSS) + SMSS) or (2) ssthresh" -- (1).
  void on_recovery_end(std::size_t flight, instant) noexcept {
    cwnd_ = std::min(ssthresh_, std::max(flight, mss_) + mss_);
  }

  /// RFC 5681 3.1: ssthresh per equation (4), cwnd to the loss window, one segment.
  void on_timeout(std::size_t flight, instant) noexcept {
    ssthresh_ = std::max(flight / 2, 2 * mss_);
    cwnd_ = mss_;
  }

 private:
  std::size_t mss_;
  unsigned initial_segments_;
  std::size_t cwnd_;
  std::size_t ssthresh_ = std::numeric_limits<std::size_t>::max();  // RFC 5681 3.1: "arbitrarily high"
};

static_assert(congestion_control<newreno>);

}  // namespace uk::direct::tcp
