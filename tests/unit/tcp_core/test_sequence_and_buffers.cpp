// Sequence arithmetic (RFC 9293 3.4), the RFC 6298 estimator, the send and
// receive rings and the congestion policy, each on its own.
#include <catch2/catch.hpp>

#include "uk/direct/tcp/congestion.hpp"
#include "uk/direct/tcp/four_tuple.hpp"
#include "uk/direct/tcp/receive_buffer.hpp"
#include "uk/direct/tcp/rto.hpp"
#include "uk/direct/tcp/send_buffer.hpp"
#include "uk/direct/tcp/sequence.hpp"

#include <unordered_set>
#include <vector>

using namespace uk::direct::tcp;
using namespace std::chrono_literals;

TEST_CASE("RFC 9293 3.4: sequence numbers compare modulo 2^32 across the wrap") {
  const seq before{0xffff'fff0u};
  const seq after = before + 0x20;
  CHECK(after.value == 0x10);
  CHECK(before < after);
  CHECK(after > before);
  CHECK(after - before == 0x20);
  CHECK(before - after == -0x20);
  CHECK(before <= before);
  CHECK_FALSE(before < before);
  CHECK(in_range(before, before + 5, after));
  CHECK_FALSE(in_range(before, after, after));
  CHECK(seq_max(before, after) == after);
  CHECK(seq_min(before, after) == before);
}

TEST_CASE("four_tuple: equal tuples hash equal and serve as unordered_set keys") {
  const four_tuple a{{uk::ipv4_address::from_octets(10, 0, 0, 1), 80}, {uk::ipv4_address::from_octets(10, 0, 0, 2), 4000}};
  four_tuple b = a;
  CHECK(a == b);
  CHECK(std::hash<four_tuple>{}(a) == four_tuple_hash{}(b));
  b.remote.port = 4001;
  CHECK_FALSE(a == b);
  std::unordered_set<four_tuple> set{a, b};
  CHECK(set.size() == 2);
}

TEST_CASE("RFC 6298 2.2 and 2.3: the first sample sets SRTT and RTTVAR, later ones smooth them") {
  rto_estimator e(1s, 200ms, 60s);
  CHECK(e.rto() == 1s);  // 2.1
  e.sample(100ms);
  CHECK(e.srtt() == 100ms);
  CHECK(e.rttvar() == 50ms);
  CHECK(e.rto() == 300ms);  // 100 + 4 * 50
  e.sample(100ms);
  CHECK(e.srtt() == 100ms);
  CHECK(e.rttvar() == 37500us);  // 3/4 * 50
  CHECK(e.rto() == 250ms);
}

TEST_CASE("RFC 6298 2.4 and 2.5: RTO is bounded below and above, and back-off doubles it") {
  rto_estimator e(1s, 200ms, 60s);
  e.sample(1ms);
  CHECK(e.rto() == 200ms);
  e.back_off();
  CHECK(e.rto() == 400ms);
  for (int i = 0; i < 20; ++i) e.back_off();
  CHECK(e.rto() == 60s);
}

TEST_CASE("send_buffer: writes up to capacity and reads back across the ring's wrap") {
  send_buffer b(8);
  std::vector<std::byte> in(6);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = std::byte(i);
  CHECK(b.write(in) == 6);
  b.consume(4);
  CHECK(b.write(in) == 6);  // wraps
  CHECK(b.write(in) == 0);  // full
  auto pieces = b.peek(0, 8);
  std::vector<std::byte> out;
  for (auto p : pieces) out.insert(out.end(), p.begin(), p.end());
  CHECK(out == std::vector<std::byte>{std::byte(4), std::byte(5), std::byte(0), std::byte(1), std::byte(2),
                                      std::byte(3), std::byte(4), std::byte(5)});
  CHECK(!pieces[1].empty());
}

TEST_CASE("receive_buffer: out-of-order segments are held and delivered in order once the gap fills") {
  receive_buffer b(16);
  const std::vector<std::byte> x{std::byte('x'), std::byte('y')};
  const std::vector<std::byte> a{std::byte('a'), std::byte('b')};
  std::size_t advanced = 0;
  CHECK(b.insert(2, x, advanced) == receive_buffer::insert_result::stored);
  CHECK(advanced == 0);
  CHECK(b.ranges() == 1);
  CHECK(b.insert(0, a, advanced) == receive_buffer::insert_result::stored);
  CHECK(advanced == 4);
  CHECK(b.in_order());
  std::vector<std::byte> out(4);
  CHECK(b.read(out) == 4);
  CHECK(out == std::vector<std::byte>{std::byte('a'), std::byte('b'), std::byte('x'), std::byte('y')});
}

TEST_CASE("receive_buffer: the number of out-of-order ranges is bounded") {
  receive_buffer b(1024);
  const std::vector<std::byte> one{std::byte(1)};
  std::size_t advanced = 0;
  for (std::size_t i = 0; i < receive_buffer::max_ranges; ++i) {
    CHECK(b.insert(2 + 2 * i, one, advanced) == receive_buffer::insert_result::stored);
  }
  CHECK(b.insert(100, one, advanced) == receive_buffer::insert_result::no_range_left);
  // Data that merges with a held range still fits.
  CHECK(b.insert(3, one, advanced) == receive_buffer::insert_result::stored);
  CHECK(b.ranges() == receive_buffer::max_ranges - 1);
}

TEST_CASE("RFC 6928 2: the initial window is min (10*MSS, max (2*MSS, 14600))") {
  CHECK(initial_window(1460, 10) == 14600);
  CHECK(initial_window(1000, 10) == 10000);
  CHECK(initial_window(536, 10) == 5360);
  CHECK(initial_window(8960, 10) == 17920);  // jumbo: 2 * MSS
  CHECK(newreno(1460).window() == 14600);
}

TEST_CASE("RFC 5681 3.1: slow start grows cwnd by one SMSS per ACK, congestion avoidance by SMSS^2/cwnd") {
  const uk::instant t{};
  newreno cc(1000, 4);
  CHECK(cc.window() == 4000);
  cc.on_ack({1000, 4000, t, {}});
  CHECK(cc.window() == 5000);
  cc.on_timeout(10000, t);
  CHECK(cc.window() == 1000);
  CHECK(cc.slow_start_threshold() == 5000);
  for (int i = 0; i < 4; ++i) cc.on_ack({1000, 1000, t, {}});
  CHECK(cc.window() == 5000);
  cc.on_ack({1000, 5000, t, {}});
  CHECK(cc.window() == 5200);
}

TEST_CASE("RFC 5681 3.2 and RFC 6582 3.2: a congestion event halves the flight, a full ACK ends at ssthresh") {
  const uk::instant t{};
  newreno cc(1000, 4);
  cc.on_congestion_event(8000, t);
  CHECK(cc.slow_start_threshold() == 4000);  // equation (4): max (FlightSize / 2, 2*SMSS)
  CHECK(cc.window() == 4000);
  cc.on_recovery_end(0, t);
  CHECK(cc.window() == 2000);  // min(ssthresh 4000, max(0, SMSS) + SMSS)
  cc.on_congestion_event(1000, t);
  CHECK(cc.slow_start_threshold() == 2000);  // never below 2*SMSS
}
