// Selective acknowledgment: negotiation (RFC 2018 2), the blocks a receiver
// sends (RFC 2018 4), the sender's scoreboard (RFC 6675 4) and SACK-based
// loss recovery (RFC 6675 5), limited transmit (RFC 3042) and the initial
// window (RFC 6928).
#include <map>
#include <set>
#include <utility>

#include "uk/direct/tcp/scoreboard.hpp"
#include "unit/tcp_core/fixture.hpp"

using namespace uk::test::tcp;
using uk::direct::tcp::scoreboard;

namespace {

using blocks = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

blocks blocks_of(const sent_segment& s) {
  blocks out;
  for (const auto& b : s.header.options.sack()) out.emplace_back(b.left_edge, b.right_edge);
  return out;
}

wire::options sack_options(const blocks& bs) {
  wire::options o;
  for (const auto& [l, r] : bs) o.add_sack({l, r});
  return o;
}

wire::options syn_options(std::uint16_t mss, bool sack) {
  wire::options o;
  o.mss = mss;
  o.sack_permitted = sack;
  return o;
}

/// RFC 2018 4's examples: a receiver whose left window edge is 5000 (the
/// peer's SYN at 4999), SACK negotiated, no timestamps.
struct rfc2018_receiver {
  fixture f;
  std::optional<wire::timestamps_option> ts;

  explicit rfc2018_receiver(bool timestamps = false) {
    f.config.timestamps = timestamps;
    f.make();
    wire::options o = syn_options(1460, true);
    if (timestamps) {
      ts = wire::timestamps_option{1, 0};
      o.timestamps = ts;
    }
    std::vector<std::byte> storage;
    f.conn->open_from_syn(seq{local_iss}, f.syn_view({flags::syn, 4999, 0, 65535, {}, o}, storage), f.now);
    f.now += 100ms;
    f.receive({flags::ack, 5000, local_iss + 1, 65535, {}, segment_options()});
    REQUIRE(f.conn->current_state() == state::established);
    REQUIRE(f.conn->sack_enabled());
    f.take();
  }
  wire::options segment_options() {
    wire::options o;
    if (ts) o.timestamps = wire::timestamps_option{ts->tsval, f.on_timestamp(f.now)};
    return o;
  }
  /// A 500-byte segment starting at `s` arrives; returns what was sent in reply.
  std::vector<sent_segment> arrives(std::uint32_t s) {
    f.receive({flags::ack, s, local_iss + 1, 65535, data(500), segment_options()});
    return f.take();
  }
};

}  // namespace

// ------------------------------------------------------------ negotiation

TEST_CASE("RFC 2018 2: a SYN offering SACK-permitted is answered with it, and SACK is in use") {
  fixture f;
  f.make();
  std::vector<std::byte> storage;
  f.conn->open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(syn_options(1460, true)), storage), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::syn | flags::ack, local_iss, remote_iss + 1, 16384, 0, syn_options(1460, true)));
  CHECK(f.conn->sack_enabled());
}

TEST_CASE("RFC 2018 2: SACK is used only when both SYNs carry SACK-permitted") {
  SECTION("the peer's SYN without it: the SYN-ACK does not offer it") {
    fixture f;
    f.make();
    std::vector<std::byte> storage;
    f.conn->open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(syn_options(1460, false)), storage), f.now);
    auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK_FALSE(out[0].header.options.sack_permitted);
    CHECK_FALSE(f.conn->sack_enabled());
  }
  SECTION("SACK turned off here: neither offered nor used") {
    fixture f;
    f.config.sack = false;
    f.make();
    std::vector<std::byte> storage;
    f.conn->open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(syn_options(1460, true)), storage), f.now);
    auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK_FALSE(out[0].header.options.sack_permitted);
    CHECK_FALSE(f.conn->sack_enabled());
  }
  SECTION("active open: our SYN offers it, the SYN-ACK answers it") {
    fixture f;
    f.make();
    f.conn->open(seq{local_iss}, f.now);
    auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0].header.options.sack_permitted);
    f.receive({flags::syn | flags::ack, remote_iss, local_iss + 1, 30000, {}, syn_options(1400, true)});
    CHECK(f.conn->current_state() == state::established);
    CHECK(f.conn->sack_enabled());
  }
}

TEST_CASE("RFC 2018 2: without SACK negotiated, out-of-order data is ACKed without blocks and the peer's blocks are ignored") {
  fixture f;
  auto& c = f.established(syn_options(1000, false));
  REQUIRE_FALSE(c.sack_enabled());
  // Our ACK of an out-of-order segment carries no SACK option.
  f.receive({flags::ack, remote_iss + 1 + 1000, local_iss + 1, 65535, data(500)});
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == remote_iss + 1);
  CHECK(out[0].header.options.sack_count == 0);
  // The peer's SACK blocks are counted and ignored: one duplicate ACK, no recovery.
  c.write(data(4000), f.now);
  REQUIRE(f.take().size() == 4);
  f.receive({flags::ack, remote_iss + 1, local_iss + 1, 65535, {}, sack_options({{2001, 5001}})});
  CHECK(c.counters().sack_blocks_unnegotiated == 1);
  CHECK(c.sack_scoreboard().empty());
  CHECK(c.counters().rx_duplicate_acks == 1);
  CHECK_FALSE(c.in_recovery());
  CHECK(f.take().empty());
}

// ----------------------------------------------------- the receiver's blocks

TEST_CASE("RFC 2018 4 case 1: the first four of eight segments arrive, the last four are dropped: a plain ACK of 7000") {
  rfc2018_receiver r;
  for (std::uint32_t s = 5000; s < 7000; s += 500) CHECK(r.arrives(s).empty());  // delayed
  r.f.run_to_deadline();
  auto out = r.f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == 7000);
  CHECK(blocks_of(out[0]).empty());
}

TEST_CASE("RFC 2018 4 case 2: the first segment dropped, each of the other seven ACKs 5000 with one block from 5500") {
  rfc2018_receiver r;
  for (std::uint32_t s = 5500; s < 9000; s += 500) {
    // RFC 5681 4.2: an out-of-order segment is ACKed at once.
    auto out = r.arrives(s);
    REQUIRE(out.size() == 1);
    CHECK(out[0].header.acknowledgment_number == 5000);
    CHECK(blocks_of(out[0]) == blocks{{5500, s + 500}});
  }
  CHECK(r.f.conn->counters().sack_blocks_sent == 7);
}

TEST_CASE("RFC 2018 4 case 3: the 2nd, 4th, 6th and 8th segments dropped, then the 4th and the 2nd arrive late") {
  rfc2018_receiver r;
  CHECK(r.arrives(5000).empty());  // ACKed normally (here: delayed)
  auto out = r.arrives(6000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == 5500);
  CHECK(blocks_of(out[0]) == blocks{{6000, 6500}});
  out = r.arrives(7000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == 5500);
  CHECK(blocks_of(out[0]) == blocks{{7000, 7500}, {6000, 6500}});
  out = r.arrives(8000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == 5500);
  CHECK(blocks_of(out[0]) == blocks{{8000, 8500}, {7000, 7500}, {6000, 6500}});
  // "Suppose that the 4th packet is received out of order."
  out = r.arrives(6500);
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == 5500);
  CHECK(blocks_of(out[0]) == blocks{{6000, 7500}, {8000, 8500}});
  // "Suppose at this point, the 2nd segment is received."
  out = r.arrives(5500);
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == 7500);
  CHECK(blocks_of(out[0]) == blocks{{8000, 8500}});
}

TEST_CASE("RFC 2018 3: at most four blocks without timestamps, three with them (the 40-byte option space)") {
  SECTION("without timestamps") {
    rfc2018_receiver r;
    std::vector<sent_segment> out;
    for (std::uint32_t s = 5500; s < 10000; s += 1000) out = r.arrives(s);
    REQUIRE(out.size() == 1);
    CHECK(blocks_of(out[0]) == blocks{{9500, 10000}, {8500, 9000}, {7500, 8000}, {6500, 7000}});
  }
  SECTION("with timestamps") {
    rfc2018_receiver r{true};
    REQUIRE(r.f.conn->timestamps_enabled());
    std::vector<sent_segment> out;
    for (std::uint32_t s = 5500; s < 10000; s += 1000) out = r.arrives(s);
    REQUIRE(out.size() == 1);
    CHECK(out[0].header.options.timestamps.has_value());
    CHECK(blocks_of(out[0]) == blocks{{9500, 10000}, {8500, 9000}, {7500, 8000}});
    CHECK(out[0].header.options.fits());
  }
}

// -------------------------------------------------------------- scoreboard

TEST_CASE("RFC 6675 4 IsLost: three segments SACKed above, or three discontiguous SACKed ranges") {
  scoreboard sb;
  const seq una{1001}, max{11001};
  const std::array<wire::sack_block, 1> two{{{2001, 4001}}};
  sb.update(two, una, max);
  CHECK(sb.lost_boundary(1000, una) == una);  // two segments above: not lost yet
  const std::array<wire::sack_block, 1> three{{{2001, 5001}}};
  sb.update(three, una, max);
  CHECK(sb.lost_boundary(1000, una) > una);  // (DupThresh - 1) * SMSS exceeded
  CHECK(sb.lost_boundary(1000, una) == seq{3000});

  scoreboard holes;
  const std::array<wire::sack_block, 3> ranges{{{2001, 2101}, {3001, 3101}, {4001, 4101}}};
  holes.update(ranges, una, max);
  CHECK(holes.size() == 3);
  CHECK(holes.lost_boundary(1000, una) == seq{2001});  // three ranges above anything below 2001
  CHECK(holes.next_hole(una, max).begin == una);
  CHECK(holes.next_hole(una, max).end == seq{2001});
  CHECK(holes.next_hole(seq{2001}, max).begin == seq{2101});
}

TEST_CASE("RFC 6675 4: the scoreboard is bounded; a full one forgets its highest range, counted") {
  scoreboard sb;
  const seq una{1001}, max{100001};
  for (std::uint32_t i = 0; i < scoreboard::max_ranges; ++i) {
    const std::array<wire::sack_block, 1> b{{{2001 + 2000 * i, 3001 + 2000 * i}}};
    CHECK(sb.update(b, una, max).bound_hits == 0);
  }
  CHECK(sb.size() == scoreboard::max_ranges);
  const std::array<wire::sack_block, 1> lowest{{{1101, 1201}}};
  const auto r = sb.update(lowest, una, max);
  CHECK(r.bound_hits == 1);
  CHECK(r.new_data);
  CHECK(sb.size() == scoreboard::max_ranges);
  CHECK(sb.ranges().front().begin == seq{1101});
  CHECK(sb.high_sacked(una) == seq{3001 + 2000 * (scoreboard::max_ranges - 2)});
  // Cumulative ACKs clear what lies below SND.UNA.
  sb.acknowledge(seq{2501});
  CHECK(sb.ranges().front().begin == seq{2501});
  CHECK(sb.size() == scoreboard::max_ranges - 1);
}

TEST_CASE("RFC 6675 4 Update: blocks outside SND.UNA..SND.MAX are ignored and counted") {
  fixture f;
  auto& c = f.established(syn_options(1000, true));
  c.write(data(4000), f.now);
  REQUIRE(f.take().size() == 4);  // 1001..5001
  f.receive({flags::ack, remote_iss + 1, local_iss + 1, 65535, {},
             sack_options({{6001, 7001}, {3001, 2001}, {501, 1001}, {2001, 3001}})});
  CHECK(c.counters().sack_blocks_invalid == 2);  // beyond SND.MAX, reversed
  CHECK(c.counters().sack_blocks_old == 1);      // below SND.UNA
  CHECK(c.counters().sack_blocks_received == 1);
  REQUIRE(c.sack_scoreboard().size() == 1);
  CHECK(c.sack_scoreboard().ranges()[0].begin == seq{2001});
  CHECK(c.sack_scoreboard().ranges()[0].end == seq{3001});
}

// ------------------------------------------------------------ loss recovery

TEST_CASE("RFC 6928: the initial window is ten segments of 1460 bytes, sent at once") {
  fixture f;
  f.config.initial_window_segments = 10;
  f.config.send_buffer = 32768;
  auto& c = f.established(syn_options(1460, true));
  c.write(data(20000), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 10);
  for (std::size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i].header.sequence_number == local_iss + 1 + 1460 * i);
    CHECK(out[i].header.payload_length == 1460);
  }
}

TEST_CASE("RFC 3042: limited transmit sends one new segment on each of the first two duplicate ACKs") {
  fixture f;
  auto& c = f.established(syn_options(1000, false));  // NewReno: limited transmit needs no SACK
  c.write(data(8000), f.now);
  REQUIRE(f.take().size() == 4);  // IW 4 * 1000
  f.peer_acks(local_iss + 1);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.sequence_number == local_iss + 1 + 4000);
  f.peer_acks(local_iss + 1);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.sequence_number == local_iss + 1 + 5000);
  // The third: fast retransmit (RFC 6582), nothing more beyond cwnd.
  f.peer_acks(local_iss + 1);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.sequence_number == local_iss + 1);
  CHECK(c.counters().limited_transmits == 2);
  CHECK(c.in_recovery());
}

TEST_CASE("RFC 6675 5: one segment lost of ten is resent once, new data flows as pipe drains, no timeout") {
  fixture f;
  f.config.initial_window_segments = 10;
  auto& c = f.established(syn_options(1000, true));
  c.write(data(16000), f.now);
  REQUIRE(f.take().size() == 10);  // 1001..11001; the first is lost
  const std::uint32_t una = local_iss + 1;
  // Each later segment's ACK: SND.UNA and one block growing from 2001.
  std::vector<std::vector<std::uint32_t>> sent_per_ack;
  for (std::uint32_t k = 1; k <= 9; ++k) {
    f.receive({flags::ack, remote_iss + 1, una, 65535, {}, sack_options({{2001, 2001 + 1000 * k}})});
    std::vector<std::uint32_t> seqs;
    for (const auto& s : f.take()) seqs.push_back(s.header.sequence_number);
    sent_per_ack.push_back(seqs);
  }
  const std::vector<std::vector<std::uint32_t>> expected{
      {11001},  // RFC 3042 limited transmit
      {12001},  // RFC 3042 limited transmit
      {1001},   // RFC 6675 5 (4.3): DupThresh reached, the first segment resent; cwnd = ssthresh = 6000
      {}, {}, {},  // pipe (the resent segment and what is above the SACKed data) >= cwnd
      {13001}, {14001}, {15001},  // (C): one new segment as each ACK takes one out of the pipe
  };
  CHECK(sent_per_ack == expected);
  CHECK(c.in_recovery());
  CHECK(c.congestion().slow_start_threshold() == 6000);
  // The resent segment arrives: the cumulative ACK passes RecoveryPoint (13001).
  f.peer_acks(13001);
  CHECK_FALSE(c.in_recovery());
  CHECK(c.counters().retransmission_timeouts == 0);
  CHECK(c.counters().sack_recoveries == 1);
  CHECK(c.counters().sack_retransmissions == 1);
  CHECK(c.counters().limited_transmits == 2);
}

namespace {

/// A receiver for the sender tests: holds what arrives, ACKs each segment at
/// once with SACK blocks (the one holding the segment first, then the others).
struct sack_peer {
  std::uint32_t rcv_nxt;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> held;  // sorted, disjoint, above rcv_nxt

  void arrives(std::uint32_t s, std::uint32_t len, wire::options& o) {
    std::uint32_t b = s, e = s + len;
    if (e <= rcv_nxt) return;
    b = std::max(b, rcv_nxt);
    held.emplace_back(b, e);
    std::sort(held.begin(), held.end());
    std::vector<std::pair<std::uint32_t, std::uint32_t>> merged;
    for (const auto& r : held) {
      if (!merged.empty() && r.first <= merged.back().second) merged.back().second = std::max(merged.back().second, r.second);
      else merged.push_back(r);
    }
    held = merged;
    if (!held.empty() && held.front().first <= rcv_nxt) {
      rcv_nxt = held.front().second;
      held.erase(held.begin());
    }
    o = {};
    for (const auto& r : held) {
      if (r.first <= s && s < r.second) o.add_sack({r.first, r.second});
    }
    for (const auto& r : held) {
      if (!(r.first <= s && s < r.second)) o.add_sack({r.first, r.second});
    }
  }
};

}  // namespace

TEST_CASE("RFC 6675 5: three segments lost in one window are each resent once, SACKed data never, no timeout") {
  fixture f;
  f.config.initial_window_segments = 10;
  f.config.send_buffer = 32768;
  auto& c = f.established(syn_options(1000, true));
  const std::uint32_t first = local_iss + 1;
  const std::uint32_t total = 20000;
  c.write(data(total), f.now);
  const std::set<std::uint32_t> lost{first, first + 2000, first + 4000};  // the 1st, 3rd and 5th
  std::map<std::uint32_t, int> sends;
  sack_peer peer{first, {}};
  std::vector<sent_segment> pending = f.take();
  REQUIRE(pending.size() == 10);
  for (int steps = 0; !pending.empty() && steps < 1000; ++steps) {
    const sent_segment s = pending.front();
    pending.erase(pending.begin());
    if (s.header.payload_length == 0) continue;
    const std::uint32_t at = s.header.sequence_number;
    if (++sends[at] == 1 && lost.count(at) > 0) continue;  // dropped the first time
    wire::options o;
    peer.arrives(at, static_cast<std::uint32_t>(s.header.payload_length), o);
    f.now += 1ms;
    f.receive({flags::ack, remote_iss + 1, peer.rcv_nxt, 65535, {}, o});
    for (auto& n : f.take()) pending.push_back(std::move(n));
  }
  CHECK(c.send_unacknowledged() == seq{first + total});
  for (const auto& [at, n] : sends) {
    INFO("segment " << at);
    CHECK(n == (lost.count(at) > 0 ? 2 : 1));
  }
  CHECK(sends.size() == total / 1000);
  CHECK(c.counters().retransmission_timeouts == 0);
  CHECK(c.counters().sack_recoveries == 1);
  CHECK(c.counters().sack_retransmissions == 3);
  CHECK_FALSE(c.in_recovery());
}

TEST_CASE("RFC 6675 5.1: after a retransmission timeout the go-back resends only what was not SACKed") {
  fixture f;
  auto& c = f.established(syn_options(1000, true));
  c.write(data(4000), f.now);
  REQUIRE(f.take().size() == 4);  // 1001..5001: the 1st and 3rd are lost
  f.receive({flags::ack, remote_iss + 1, local_iss + 1, 65535, {}, sack_options({{2001, 3001}})});
  f.receive({flags::ack, remote_iss + 1, local_iss + 1, 65535, {}, sack_options({{4001, 5001}, {2001, 3001}})});
  CHECK(f.take().empty());  // two duplicate ACKs, nothing new to send
  f.run_to_deadline();      // the RTO: cwnd = 1 SMSS
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.sequence_number == local_iss + 1);
  CHECK(c.counters().retransmission_timeouts == 1);
  f.receive({flags::ack, remote_iss + 1, 3001, 65535, {}, sack_options({{4001, 5001}})});
  out = f.take();
  REQUIRE(out.size() == 1);  // 3001 only: 4001 was SACKed
  CHECK(out[0].header.sequence_number == 3001);
  CHECK(out[0].header.payload_length == 1000);
  f.peer_acks(5001);
  CHECK(c.unacknowledged() == 0);
  CHECK(f.take().empty());
}
