// The retransmission timeout estimator of RFC 6298: SRTT, RTTVAR and RTO
// from round-trip samples, with exponential back-off. Karn's algorithm
// (RFC 6298 3: no sample from a retransmitted segment) is the caller's part:
// the connection times one segment at a time and forgets it on retransmission.
#pragma once

#include <algorithm>
#include <chrono>

#include "uk/time.hpp"

namespace uk::direct::tcp {

class rto_estimator {
 public:
  /// Clock granularity G of RFC 6298 2.3 ("RTO <- SRTT + max (G, K*RTTVAR)").
  static constexpr duration granularity = std::chrono::milliseconds{1};

  rto_estimator(duration initial, duration min, duration max) noexcept
      : min_(min), max_(max), rto_(clamp(initial)) {}

  /// RFC 6298 2.2 (first measurement) and 2.3 (subsequent ones), then 2.4/2.5 bounds.
  void sample(duration r) noexcept {
    if (r < duration::zero()) r = duration::zero();
    if (!measured_) {
      // 2.2: SRTT <- R, RTTVAR <- R/2
      srtt_ = r;
      rttvar_ = r / 2;
      measured_ = true;
    } else {
      // 2.3: RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4;
      //      SRTT <- (1 - alpha) * SRTT + alpha * R', alpha = 1/8.
      const duration delta = srtt_ > r ? srtt_ - r : r - srtt_;
      rttvar_ = rttvar_ * 3 / 4 + delta / 4;
      srtt_ = srtt_ * 7 / 8 + r / 8;
    }
    // RTO <- SRTT + max (G, K*RTTVAR), K = 4.
    rto_ = clamp(srtt_ + std::max(granularity, 4 * rttvar_));
  }

  /// RFC 6298 5.5: "set RTO <- RTO * 2 ("back off the timer")", bounded by 2.5's maximum.
  void back_off() noexcept { rto_ = clamp(rto_ * 2); }

  /// RFC 6298 5.7: after the SYN's timer expired, use 3 s once data flows
  /// unless a measurement arrived since.
  void after_syn_timeout() noexcept {
    if (!measured_) rto_ = clamp(std::chrono::seconds{3});
  }

  duration rto() const noexcept { return rto_; }
  duration srtt() const noexcept { return srtt_; }
  duration rttvar() const noexcept { return rttvar_; }
  bool measured() const noexcept { return measured_; }

 private:
  duration clamp(duration d) const noexcept { return std::clamp(d, min_, max_); }

  duration min_, max_;
  duration rto_;
  duration srtt_{}, rttvar_{};
  bool measured_ = false;
};

}  // namespace uk::direct::tcp
