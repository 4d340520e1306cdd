// CUBIC congestion control (RFC 9438) as a `congestion_control` policy.
//
// The window grows as a cubic function of the time since the last
// congestion event (RFC 9438 4.2):
//
//   W_cubic(t) = C * (t - K)^3 + W_max          K = cbrt((W_max - cwnd_epoch) / C)
//
// with C = 0.4 and beta_cubic = 0.7, never slower than the Reno estimate
// W_est (4.3). The RFC counts windows in segments; this class counts bytes
// and uses the sender's MSS as the segment (RFC 9438 4.1.1: "SMSS").
//
// The arithmetic is integer only: time in milliseconds, windows in bytes,
// the cube root by bisection. The same inputs give the same window on every
// machine and compiler (no libm, no floating-point contraction), which keeps
// simulations reproducible byte for byte.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "uk/direct/tcp/congestion.hpp"
#include "uk/time.hpp"

namespace uk::direct::tcp {

namespace cubic_detail {

/// The largest x with x^3 <= v (integer cube root, by bisection).
constexpr std::uint64_t integer_cube_root(std::uint64_t v) noexcept {
  std::uint64_t low = 0, high = 2642246;  // 2642245^3 < 2^64 <= 2642246^3
  while (low + 1 < high) {
    const std::uint64_t mid = low + (high - low) / 2;
    if (mid * mid * mid <= v) low = mid;
    else high = mid;
  }
  return low;
}

}  // namespace cubic_detail

class cubic {
 public:
  // RFC 9438 4.6: "beta_cubic SHOULD be set to 0.7"; 4.2: "C SHOULD be set to 0.4".
  static constexpr std::uint64_t beta_numerator = 7, beta_denominator = 10;
  static constexpr std::uint64_t c_numerator = 4, c_denominator = 10;
  // RFC 9438 4.3 equation (4): alpha_cubic = 3 * (1 - beta) / (1 + beta) = 0.9 / 1.7 = 9/17.
  static constexpr std::uint64_t alpha_numerator = 9, alpha_denominator = 17;
  /// A bound on cwnd (1 GiB) so the integer arithmetic cannot overflow; a
  /// window this large is never useful, and hitting it is harmless.
  static constexpr std::size_t max_window = std::size_t{1} << 30;
  /// |t - K| is clamped to this many milliseconds (W_cubic is then ~ 10^6 segments).
  static constexpr std::int64_t max_cubic_offset_ms = 131072;

  explicit cubic(std::size_t mss, unsigned initial_segments = 10) noexcept
      : mss_(std::max<std::size_t>(mss, 1)),
        initial_segments_(initial_segments),
        cwnd_(initial_window(mss_, initial_segments)) {}

  void set_mss(std::size_t mss) noexcept {
    mss_ = std::max<std::size_t>(mss, 1);
    cwnd_ = initial_window(mss_, initial_segments_);
  }

  std::size_t window() const noexcept { return cwnd_; }
  std::size_t slow_start_threshold() const noexcept { return ssthresh_; }

  // Inspection, for tests.
  std::size_t w_max() const noexcept { return w_max_; }
  std::size_t w_est() const noexcept { return static_cast<std::size_t>(w_est_milli_ / 1000); }
  std::size_t cwnd_prior() const noexcept { return cwnd_prior_; }
  bool in_epoch() const noexcept { return epoch_started_; }
  /// t_epoch (RFC 9438 4.2), moved forward over application-limited periods.
  instant epoch_start() const noexcept { return epoch_start_; }
  /// K of equation (2), milliseconds, for the current epoch (may be negative
  /// when the epoch started above W_max).
  std::int64_t k_ms() const noexcept { return k_ms_; }

  /// W_cubic(t) of equation (1), bytes, with t = `elapsed` since the epoch began.
  std::size_t w_cubic(duration elapsed) const noexcept {
    const std::int64_t t_ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    const std::int64_t d = std::clamp<std::int64_t>(t_ms - k_ms_, -max_cubic_offset_ms, max_cubic_offset_ms);
    // C * d^3 segments with d in seconds = 0.4 * (d_ms^3 / 10^9) segments;
    // d_ms^3 / 10^6 first (units of 10^-3 s^3, at most 2^51 / 10^6) so the
    // product with the MSS stays far inside 64 bits.
    const std::int64_t cube_milli = d * d * d / 1'000'000;
    const std::int64_t offset = cube_milli * static_cast<std::int64_t>(mss_) *
                                static_cast<std::int64_t>(c_numerator) /
                                static_cast<std::int64_t>(c_denominator * 1000);
    const std::int64_t w = static_cast<std::int64_t>(w_max_) + offset;
    return static_cast<std::size_t>(std::clamp<std::int64_t>(w, 0, static_cast<std::int64_t>(max_window)));
  }

  void on_ack(const ack_event& e) noexcept {
    // RFC 9438 5.8: "CUBIC does not increase its congestion window if a flow
    // is application limited" (or, here, limited by the peer's window): the
    // window grows only when what was in flight filled it to within one
    // segment. 4.2: "The elapsed time t in Figure 1 MUST NOT include periods
    // during which cwnd has not been updated due to application-limited
    // behavior": the epoch moves forward by the time since the previous ACK.
    if (e.flight + mss_ < cwnd_) {
      if (epoch_started_ && e.now > last_ack_) epoch_start_ += e.now - last_ack_;
      last_ack_ = e.now;
      return;
    }
    last_ack_ = e.now;
    if (cwnd_ < ssthresh_) {
      // RFC 9438 4.10: Reno's slow start (RFC 5681 3.1 equation (2)); HyStart++ is not used.
      cwnd_ = std::min(cwnd_ + std::min(e.acked, mss_), max_window);
      return;
    }
    congestion_avoidance(e);
  }

  /// RFC 9438 4.6 (figure 5) and 4.7: loss detected by duplicate ACKs or SACK.
  void on_congestion_event(std::size_t flight, instant) noexcept {
    // 4.7 fast convergence: "if (cwnd < W_max and fast_convergence enabled)
    // W_max = cwnd * (1 + beta_cubic) / 2 else W_max = cwnd" (cwnd before the reduction).
    if (w_max_known_ && cwnd_ < w_max_) {
      w_max_ = cwnd_ * (beta_denominator + beta_numerator) / (2 * beta_denominator);
    } else {
      w_max_ = cwnd_;
    }
    w_max_known_ = true;
    cwnd_prior_ = cwnd_;
    // 4.6: "ssthresh = flight_size * beta_cubic"; "cwnd = max(ssthresh, 2)";
    // "ssthresh = max(ssthresh, 2)". The RFC's flight_size, not cwnd: this
    // core does not validate cwnd (RFC 7661), so a cwnd-based ssthresh could
    // come from a window that was never used (4.6 requires "other measures"
    // of implementations that use cwnd).
    ssthresh_ = std::max(reduced(flight), 2 * mss_);
    cwnd_ = ssthresh_;
    end_epoch();
  }

  /// RFC 6582 3.2 step 3, full acknowledgment (RFC 9438 leaves fast recovery
  /// unchanged, 1): cwnd = min (ssthresh, max (FlightSize, SMSS) + SMSS).
  /// The next ACK in congestion avoidance starts the new epoch (4.2: t_epoch
  /// is "the time when the current congestion avoidance stage started").
  void on_recovery_end(std::size_t flight, instant) noexcept {
    cwnd_ = std::min(ssthresh_, std::max(flight, mss_) + mss_);
    end_epoch();
  }

  /// RFC 9438 4.8: "CUBIC follows Reno to reduce cwnd [RFC5681] but sets
  /// ssthresh using beta_cubic (same as in Section 4.6)"; in the first
  /// congestion avoidance stage after it, K = 0 and W_max (and W_est) are the
  /// window at the beginning of that stage.
  void on_timeout(std::size_t flight, instant) noexcept {
    ssthresh_ = std::max(reduced(flight), 2 * mss_);
    cwnd_ = mss_;
    w_max_known_ = false;
    end_epoch();
  }

 private:
  std::size_t reduced(std::size_t bytes) const noexcept {
    return static_cast<std::size_t>(static_cast<std::uint64_t>(bytes) * beta_numerator / beta_denominator);
  }

  void end_epoch() noexcept {
    epoch_started_ = false;
    cwnd_carry_ = 0;
  }

  /// RFC 9438 4.2: the start of a congestion avoidance stage.
  void start_epoch(instant now) noexcept {
    epoch_started_ = true;
    epoch_start_ = now;
    cwnd_epoch_ = cwnd_;
    cwnd_carry_ = 0;
    // 4.3: "W_est is set equal to cwnd_epoch at the start of the congestion avoidance stage".
    w_est_milli_ = static_cast<std::uint64_t>(cwnd_epoch_) * 1000;
    if (!w_max_known_) {
      // 4.8 after a timeout, and 4.10 when slow start ended without a
      // congestion event: "K is set to 0, and W_max is set to the congestion
      // window size at the beginning of the current congestion avoidance stage".
      w_max_ = cwnd_epoch_;
      cwnd_prior_ = cwnd_epoch_;
      w_max_known_ = true;
      k_ms_ = 0;
      return;
    }
    // Equation (2): K = cubic_root((W_max - cwnd_epoch) / C), in seconds with W
    // in segments. In milliseconds: K_ms^3 = (W_max - cwnd_epoch) / SMSS / C * 10^9.
    const bool below = w_max_ >= cwnd_epoch_;
    const std::uint64_t difference = below ? w_max_ - cwnd_epoch_ : cwnd_epoch_ - w_max_;
    // difference <= 2^30 bytes: (difference * 1000 / mss) <= 2^40, times 2.5 * 10^6 < 2^62.
    const std::uint64_t milli_segments = difference * 1000 / mss_;
    const std::uint64_t k_cubed = milli_segments * 1'000'000 * c_denominator / c_numerator;
    const auto k = static_cast<std::int64_t>(cubic_detail::integer_cube_root(k_cubed));
    k_ms_ = below ? k : -k;
  }

  /// RFC 9438 4.3 to 4.5: one ACK in congestion avoidance.
  void congestion_avoidance(const ack_event& e) noexcept {
    if (!epoch_started_) start_epoch(e.now);
    const duration t = e.now - epoch_start_;
    // 4.3 equation (4): W_est += alpha_cubic * segments_acked / cwnd (in
    // segments); in bytes: alpha * acked * SMSS / cwnd. "Once W_est has grown
    // to reach the cwnd at the time of most recently setting ssthresh, that
    // is, W_est >= cwnd_prior, the sender SHOULD set alpha_cubic to 1".
    const bool reno_rate = w_est_milli_ / 1000 >= cwnd_prior_;
    const std::uint64_t an = reno_rate ? 1 : alpha_numerator;
    const std::uint64_t ad = reno_rate ? 1 : alpha_denominator;
    const std::uint64_t acked = std::min(e.acked, max_window);  // keeps the products below 2^60
    w_est_milli_ += acked * mss_ * 1000 * an / (ad * cwnd_);
    w_est_milli_ = std::min<std::uint64_t>(w_est_milli_, std::uint64_t{max_window} * 1000);
    const std::size_t w_est_bytes = static_cast<std::size_t>(w_est_milli_ / 1000);

    if (w_cubic(t) < w_est_bytes) {
      // 4.3: "If W_cubic(t) is less than W_est, then the protocol is in the
      // Reno-friendly region and cwnd SHOULD be set to W_est at each
      // reception of a new ACK" (never lowered on an ACK).
      cwnd_ = std::max(cwnd_, w_est_bytes);
      return;
    }
    // 4.4 and 4.5 (concave and convex regions): the target is W_cubic(t + RTT)
    // clamped to [cwnd, 1.5 * cwnd]; "cwnd MUST be incremented by
    // (target - cwnd) / cwnd for each received new ACK" -- per SMSS
    // acknowledged, so acked * (target - cwnd) / cwnd bytes.
    const std::size_t target = std::clamp(w_cubic(t + e.srtt), cwnd_, cwnd_ + cwnd_ / 2);
    cwnd_carry_ += acked * (target - cwnd_);
    const std::uint64_t increment = cwnd_carry_ / cwnd_;
    cwnd_carry_ %= cwnd_;
    cwnd_ = std::min<std::size_t>(cwnd_ + static_cast<std::size_t>(increment), max_window);
  }

  std::size_t mss_;
  unsigned initial_segments_;
  std::size_t cwnd_;
  std::size_t ssthresh_ = std::numeric_limits<std::size_t>::max();  // RFC 5681 3.1: "arbitrarily high"
  std::size_t w_max_ = 0;        ///< RFC 9438 4.1.2 W_max, bytes
  bool w_max_known_ = false;     ///< false before the first congestion event and after a timeout
  std::size_t cwnd_prior_ = 0;   ///< cwnd when ssthresh was last set (4.1.2)
  bool epoch_started_ = false;
  instant epoch_start_{};        ///< t_epoch
  instant last_ack_{};           ///< the previous ACK, to leave application-limited time out of t
  std::size_t cwnd_epoch_ = 0;   ///< cwnd_epoch
  std::int64_t k_ms_ = 0;        ///< K, milliseconds
  std::uint64_t w_est_milli_ = 0;  ///< W_est, thousandths of a byte
  std::uint64_t cwnd_carry_ = 0;   ///< the remainder of the per-ACK increments (bytes * cwnd)
};

static_assert(congestion_control<cubic>);

}  // namespace uk::direct::tcp
