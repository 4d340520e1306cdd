// CUBIC (RFC 9438) as a congestion policy, with the RFC's formulas worked
// through concrete numbers. SMSS = 1000 bytes, so a window of 100 segments
// is 100000 bytes; time is virtual.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>

#include "uk/direct/tcp/congestion_controller.hpp"
#include "uk/direct/tcp/cubic.hpp"

using namespace uk::direct::tcp;
using namespace std::chrono_literals;
using uk::instant;

namespace {

constexpr std::size_t smss = 1000;
const instant start{std::chrono::seconds{10}};

/// Slow start (flight filling cwnd) until cwnd reaches `bytes`.
void grow_to(cubic& cc, std::size_t bytes) {
  while (cc.window() < bytes) cc.on_ack({smss, cc.window(), start, 0ms});
}

/// A sender that had W_max = 100 segments when a loss was detected with the
/// window full: RFC 9438 4.6 leaves cwnd = ssthresh = 70 segments.
cubic after_loss_at_100_segments() {
  cubic cc(smss);
  grow_to(cc, 100 * smss);
  REQUIRE(cc.window() == 100 * smss);
  cc.on_congestion_event(100 * smss, start);
  return cc;
}

/// Congestion avoidance with one cumulative ACK for the whole window every
/// RTT, from `start` (the epoch) until `until`.
void ack_every_rtt(cubic& cc, uk::duration rtt, uk::duration until) {
  for (uk::duration t{}; t <= until; t += rtt) cc.on_ack({cc.window(), cc.window(), start + t, rtt});
}

std::size_t distance(std::size_t a, std::size_t b) { return a > b ? a - b : b - a; }

}  // namespace

TEST_CASE("RFC 9438 4.10: below ssthresh CUBIC slow-starts like Reno, cwnd += min(N, SMSS) per ACK") {
  cubic cc(smss);
  CHECK(cc.window() == 10 * smss);  // RFC 6928: min(10 * 1000, max(2000, 14600))
  cc.on_ack({500, cc.window(), start, 10ms});
  CHECK(cc.window() == 10 * smss + 500);
  cc.on_ack({3 * smss, cc.window(), start, 10ms});
  CHECK(cc.window() == 11 * smss + 500);
}

TEST_CASE("RFC 9438 5.8: an application-limited sender does not grow cwnd") {
  cubic cc(smss);
  cc.on_ack({smss, 2 * smss, start, 10ms});  // 2 segments in flight of a 10-segment window
  CHECK(cc.window() == 10 * smss);
  cc.on_ack({smss, 9 * smss, start, 10ms});  // within one segment of the window: cwnd-limited
  CHECK(cc.window() == 11 * smss);
}

TEST_CASE("RFC 9438 4.2: t leaves out application-limited periods (the epoch moves forward)") {
  cubic cc = after_loss_at_100_segments();
  cc.on_ack({smss, cc.window(), start, 100ms});  // the epoch starts at `start`
  REQUIRE(cc.in_epoch());
  CHECK(cc.epoch_start() == start);
  cc.on_ack({smss, cc.window(), start + 1s, 100ms});  // cwnd-limited: t = 1 s counts
  const std::size_t window = cc.window();
  // Two seconds with little in flight: no growth, and the curve's clock stops.
  cc.on_ack({smss, 5 * smss, start + 2s, 100ms});
  cc.on_ack({smss, 5 * smss, start + 3s, 100ms});
  CHECK(cc.window() == window);
  CHECK(cc.epoch_start() == start + 2s);
  // Back to a full window: t is 1 s again, not 3 s.
  cubic reference = after_loss_at_100_segments();
  reference.on_ack({smss, reference.window(), start, 100ms});
  reference.on_ack({smss, reference.window(), start + 1s, 100ms});
  cc.on_ack({smss, cc.window(), start + 3s, 100ms});
  reference.on_ack({smss, reference.window(), start + 1s, 100ms});
  CHECK(cc.window() == reference.window());
}

TEST_CASE("RFC 9438 4.6: on loss, ssthresh = flight_size * 0.7 and cwnd = max(ssthresh, 2 SMSS), W_max = cwnd before") {
  SECTION("the window was full") {
    cubic cc = after_loss_at_100_segments();
    CHECK(cc.slow_start_threshold() == 70 * smss);
    CHECK(cc.window() == 70 * smss);
    CHECK(cc.w_max() == 100 * smss);
    CHECK(cc.cwnd_prior() == 100 * smss);
  }
  SECTION("flight_size, not cwnd, sets ssthresh") {
    cubic cc(smss);
    grow_to(cc, 100 * smss);
    cc.on_congestion_event(50 * smss, start);
    CHECK(cc.slow_start_threshold() == 35 * smss);
    CHECK(cc.window() == 35 * smss);
    CHECK(cc.w_max() == 100 * smss);
  }
  SECTION("never below two segments") {
    cubic cc(smss);
    cc.on_congestion_event(1500, start);
    CHECK(cc.slow_start_threshold() == 2 * smss);
    CHECK(cc.window() == 2 * smss);
  }
}

TEST_CASE("RFC 9438 4.2 equation (2): W_max = 100 segments, beta 0.7 gives K = cbrt(100 * 0.3 / 0.4) = 4.217 s") {
  cubic cc = after_loss_at_100_segments();
  cc.on_ack({smss, cc.window(), start, 100ms});  // the first ACK in congestion avoidance starts the epoch
  REQUIRE(cc.in_epoch());
  CHECK(cc.k_ms() == 4217);
}

TEST_CASE("RFC 9438 4.2 equation (1): W_cubic(0) = cwnd_epoch, W_cubic(K) = W_max, W_cubic(2K) = W_max + (W_max - cwnd_epoch)") {
  cubic cc = after_loss_at_100_segments();
  cc.on_ack({smss, cc.window(), start, 100ms});
  // 0.4 * (0 - 4.217)^3 + 100 = 70 segments; the integer arithmetic is within a few bytes.
  CHECK(distance(cc.w_cubic(0ms), 70 * smss) <= 10);
  CHECK(cc.w_cubic(4217ms) == 100 * smss);
  CHECK(distance(cc.w_cubic(8434ms), 130 * smss) <= 10);
  // Concave below K, convex above: W_cubic(K/2) = 100 - 0.4 * 2.1085^3 = 96.25 segments.
  CHECK(distance(cc.w_cubic(2108ms), 96250) <= 10);
}

TEST_CASE("RFC 9438 4.4: in the concave region cwnd grows by (target - cwnd) / cwnd per SMSS acknowledged") {
  cubic cc = after_loss_at_100_segments();
  cc.on_ack({smss, cc.window(), start, 1s});  // starts the epoch at `start`
  const std::size_t before = cc.window();
  // One ACK of one segment at t = 1 s with RTT 1 s: target = W_cubic(2 s) =
  // 100 - 0.4 * 2.217^3 = 95.64 segments, so cwnd grows by about
  // (95.64 - 70) / 70 of a segment: 366 bytes.
  cc.on_ack({smss, cc.window(), start + 1s, 1s});
  const std::size_t target = cc.w_cubic(2s);
  CHECK(distance(target, 95640) <= 10);
  CHECK(cc.window() - before == smss * (target - before) / before);
  CHECK(distance(cc.window() - before, 366) <= 1);
}

TEST_CASE("RFC 9438 4.4: the target is at most 1.5 * cwnd") {
  cubic cc = after_loss_at_100_segments();
  cc.on_ack({smss, cc.window(), start, 20s});
  const std::size_t before = cc.window();
  // At t = 1 s, W_cubic(t) = 86.7 segments is above W_est (CUBIC's region),
  // and an RTT of 20 s puts W_cubic(t + RTT) far above 1.5 * cwnd: the
  // whole window acknowledged adds exactly cwnd / 2.
  cc.on_ack({before, before, start + 1s, 20s});
  CHECK(cc.window() == before + before / 2);
}

TEST_CASE("RFC 9438 4.5: a long run regrows cwnd to W_max near t = K, then beyond it (convex region)") {
  cubic cc = after_loss_at_100_segments();
  // RTT 100 ms: Reno's estimate grows only 0.53 segments per RTT, so CUBIC's curve rules.
  ack_every_rtt(cc, 100ms, 2000ms);
  CHECK(cc.window() < 98 * smss);
  CHECK(cc.window() > 90 * smss);
  cubic at_k = after_loss_at_100_segments();
  ack_every_rtt(at_k, 100ms, 4200ms);
  CHECK(distance(at_k.window(), 100 * smss) <= 1000);
  cubic at_2k = after_loss_at_100_segments();
  ack_every_rtt(at_2k, 100ms, 8400ms);
  CHECK(at_2k.window() > 125 * smss);
  CHECK(at_2k.window() < 140 * smss);
  CHECK(at_2k.window() > at_2k.w_est());
}

TEST_CASE("RFC 9438 4.3: with a small RTT the Reno-friendly estimate W_est takes over") {
  cubic cc = after_loss_at_100_segments();
  // RTT 1 ms, 100 RTTs: W_cubic(0.1 s) is still about 72 segments, while
  // W_est grows alpha_cubic = 9/17 segments per RTT up to cwnd_prior (57
  // RTTs to 100 segments) and then one segment per RTT.
  ack_every_rtt(cc, 1ms, 100ms);
  CHECK(cc.w_cubic(100ms) < 73 * smss);
  CHECK(cc.window() == cc.w_est());
  CHECK(cc.window() > 135 * smss);
  CHECK(cc.window() < 150 * smss);
}

TEST_CASE("RFC 9438 4.3: W_est grows by alpha_cubic = 3 (1 - 0.7) / (1 + 0.7) segments per window acknowledged") {
  cubic cc = after_loss_at_100_segments();
  cc.on_ack({cc.window(), cc.window(), start, 1ms});  // one RTT's worth of ACKs
  // 70000 + 1000 * 9/17 = 70529.
  CHECK(cc.w_est() == 70529);
}

TEST_CASE("RFC 9438 4.7: fast convergence: a loss below W_max lowers W_max to cwnd * (1 + 0.7) / 2") {
  cubic cc = after_loss_at_100_segments();
  ack_every_rtt(cc, 100ms, 1000ms);
  const std::size_t cwnd = cc.window();
  REQUIRE(cwnd < 100 * smss);
  REQUIRE(cwnd > 80 * smss);
  cc.on_congestion_event(cwnd, start + 1100ms);
  CHECK(cc.w_max() == cwnd * 17 / 20);
  CHECK(cc.cwnd_prior() == cwnd);
  CHECK(cc.slow_start_threshold() == cwnd * 7 / 10);
  // The next epoch starts at 0.7 cwnd, below the lowered W_max of 0.85 cwnd:
  // K = cbrt(0.15 cwnd / 0.4) is positive and smaller than the first K.
  cc.on_ack({smss, cc.window(), start + 1200ms, 100ms});
  CHECK(cc.k_ms() > 0);
  CHECK(cc.k_ms() < 4217);
}

TEST_CASE("RFC 9438 4.7: a loss at or above W_max sets W_max = cwnd") {
  cubic cc = after_loss_at_100_segments();
  ack_every_rtt(cc, 100ms, 8400ms);
  const std::size_t cwnd = cc.window();
  REQUIRE(cwnd > 100 * smss);
  cc.on_congestion_event(cwnd, start + 9s);
  CHECK(cc.w_max() == cwnd);
}

TEST_CASE("RFC 9438 4.8: a timeout sets cwnd to one segment and ssthresh by beta, then K = 0 and W_max = cwnd_epoch") {
  cubic cc = after_loss_at_100_segments();
  ack_every_rtt(cc, 100ms, 1000ms);
  cc.on_timeout(80 * smss, start + 2s);
  CHECK(cc.window() == smss);
  CHECK(cc.slow_start_threshold() == 56 * smss);
  CHECK_FALSE(cc.in_epoch());
  // Slow start back to ssthresh, then the first ACK in congestion avoidance.
  while (cc.window() < cc.slow_start_threshold()) cc.on_ack({smss, cc.window(), start + 3s, 100ms});
  const std::size_t epoch_window = cc.window();
  cc.on_ack({smss, cc.window(), start + 3s, 100ms});
  REQUIRE(cc.in_epoch());
  CHECK(cc.k_ms() == 0);
  CHECK(cc.w_max() == epoch_window);
  CHECK(cc.w_est() >= epoch_window);
  // K = 0: the window only grows from here (convex from the start).
  CHECK(cc.w_cubic(1s) > epoch_window);
}

TEST_CASE("RFC 6582 3.2 step 3 under CUBIC: a full acknowledgment sets cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)") {
  cubic cc = after_loss_at_100_segments();
  cc.on_recovery_end(20 * smss, start);
  CHECK(cc.window() == 21 * smss);
  cubic full = after_loss_at_100_segments();
  full.on_recovery_end(90 * smss, start);
  CHECK(full.window() == 70 * smss);
}

TEST_CASE("The integer cube root is exact at cubes and rounds down between them") {
  CHECK(cubic_detail::integer_cube_root(0) == 0);
  CHECK(cubic_detail::integer_cube_root(26) == 2);
  CHECK(cubic_detail::integer_cube_root(27) == 3);
  CHECK(cubic_detail::integer_cube_root(75'000'000'000) == 4217);
  CHECK(cubic_detail::integer_cube_root(~std::uint64_t{0}) == 2642245);
}

TEST_CASE("congestion_controller holds the algorithm connection_config::congestion names and forwards to it") {
  connection_config config;
  SECTION("CUBIC by default") {
    congestion_controller cc(smss, config);
    CHECK(cc.algorithm() == congestion_algorithm::cubic);
    REQUIRE(cc.as_cubic() != nullptr);
    CHECK(cc.window() == 10 * smss);
    cc.on_congestion_event(100 * smss, start);
    CHECK(cc.slow_start_threshold() == 70 * smss);  // beta_cubic = 0.7
  }
  SECTION("NewReno") {
    config.congestion = congestion_algorithm::newreno;
    config.initial_window_segments = 4;
    congestion_controller cc(smss, config);
    CHECK(cc.algorithm() == congestion_algorithm::newreno);
    REQUIRE(cc.as_newreno() != nullptr);
    CHECK(cc.window() == 4 * smss);
    cc.on_congestion_event(100 * smss, start);
    CHECK(cc.slow_start_threshold() == 50 * smss);  // RFC 5681 equation (4)
    cc.on_timeout(10 * smss, start);
    CHECK(cc.window() == smss);
  }
  SECTION("set_mss restarts the initial window of either") {
    congestion_controller cc(536, config);
    cc.set_mss(1460);
    CHECK(cc.window() == 14600);
  }
}
