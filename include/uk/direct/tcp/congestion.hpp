// Congestion control (RFC 5681) as a policy the connection calls at four
// points: new data acknowledged, a duplicate ACK, a retransmission timeout,
// and the end of fast recovery. `newreno` is slow start, congestion
// avoidance and fast retransmit / fast recovery with RFC 6582's partial
// ACKs. Another algorithm (CUBIC, later) models the same concept.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "uk/direct/tcp/sequence.hpp"

namespace uk::direct::tcp {

/// What the connection should do after a duplicate ACK.
enum class dup_ack_action { none, fast_retransmit };

/// A congestion-control policy: the window it allows and its reactions.
template <class C>
concept congestion_control = requires(C c, const C cc, std::size_t n, seq s) {
  { cc.window() } -> std::convertible_to<std::size_t>;
  { cc.in_recovery() } -> std::convertible_to<bool>;
  c.on_ack(n, n, s);                                   // acked bytes, flight before the ACK, SEG.ACK
  { c.on_duplicate_ack(n, s) } -> std::same_as<dup_ack_action>;  // flight, SND.MAX
  c.on_timeout(n);                                     // flight size at the timeout
};

class newreno {
 public:
  /// RFC 5681 3.2: "The fast retransmit algorithm uses the arrival of 3 duplicate ACKs".
  static constexpr unsigned duplicate_threshold = 3;

  explicit newreno(std::size_t mss) noexcept : mss_(mss), cwnd_(initial_window(mss)) {}

  /// RFC 5681 3.1 equation (1): IW = min(4 * SMSS, max(2 * SMSS, 4380)) bytes.
  static constexpr std::size_t initial_window(std::size_t smss) noexcept {
    return std::min<std::size_t>(4 * smss, std::max<std::size_t>(2 * smss, 4380));
  }

  /// The sender's MSS changed (negotiated on the handshake): restart the initial window.
  void set_mss(std::size_t mss) noexcept {
    mss_ = mss;
    cwnd_ = initial_window(mss);
  }

  std::size_t window() const noexcept { return cwnd_; }
  std::size_t slow_start_threshold() const noexcept { return ssthresh_; }
  bool in_recovery() const noexcept { return in_recovery_; }

  /// New data acknowledged: `acked` bytes, `flight` the bytes outstanding before this ACK.
  void on_ack(std::size_t acked, std::size_t flight, seq ack) noexcept {
    duplicates_ = 0;
    if (in_recovery_) {
      if (ack >= recover_) {
        // RFC 6582 3.2 step 3, full acknowledgment: "Set cwnd to either (1)
        // min (ssthresh, max(FlightSize, SMSS) + SMSS) or (2) ssthresh".
        cwnd_ = std::min(ssthresh_, std::max(flight > acked ? flight - acked : 0, mss_) + mss_);
        in_recovery_ = false;
      } else {
        // Partial acknowledgment: deflate by the amount acked, add back one SMSS.
        cwnd_ = (cwnd_ > acked ? cwnd_ - acked : 0) + mss_;
        partial_ = true;
      }
      return;
    }
    if (cwnd_ < ssthresh_) {
      // RFC 5681 3.1 equation (2): cwnd += min (N, SMSS).
      cwnd_ += std::min(acked, mss_);
    } else {
      // Equation (3): cwnd += SMSS*SMSS/cwnd, at least one byte.
      cwnd_ += std::max<std::size_t>(1, mss_ * mss_ / std::max<std::size_t>(cwnd_, 1));
    }
  }

  /// Whether the last partial ACK asks for the next hole to be retransmitted (RFC 6582 3.2 step 5).
  bool take_partial_ack() noexcept {
    const bool p = partial_;
    partial_ = false;
    return p;
  }

  /// RFC 5681 3.2 steps 2-4 with RFC 6582's `recover`.
  dup_ack_action on_duplicate_ack(std::size_t flight, seq snd_max) noexcept {
    if (in_recovery_) {
      cwnd_ += mss_;  // step 4: inflate for each additional duplicate
      return dup_ack_action::none;
    }
    if (++duplicates_ < duplicate_threshold) return dup_ack_action::none;
    duplicates_ = 0;
    // Step 2: ssthresh = max (FlightSize / 2, 2*SMSS), equation (4).
    ssthresh_ = std::max(flight / 2, 2 * mss_);
    // Step 3: cwnd = ssthresh + 3*SMSS.
    cwnd_ = ssthresh_ + 3 * mss_;
    in_recovery_ = true;
    recover_ = snd_max;
    return dup_ack_action::fast_retransmit;
  }

  /// RFC 5681 3.1: on a retransmission timeout, ssthresh per equation (4)
  /// and cwnd to the loss window, one segment.
  void on_timeout(std::size_t flight) noexcept {
    ssthresh_ = std::max(flight / 2, 2 * mss_);
    cwnd_ = mss_;
    in_recovery_ = false;
    duplicates_ = 0;
  }

 private:
  std::size_t mss_;
  std::size_t cwnd_;
  std::size_t ssthresh_ = std::numeric_limits<std::size_t>::max();  // RFC 5681 3.1: "arbitrarily high"
  unsigned duplicates_ = 0;
  bool in_recovery_ = false;
  bool partial_ = false;
  seq recover_{};
};

static_assert(congestion_control<newreno>);

}  // namespace uk::direct::tcp
