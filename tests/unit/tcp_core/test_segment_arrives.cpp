// SEGMENT ARRIVES in synchronized states (RFC 9293 3.10.7.4), in the RFC's
// order of checks, with RFC 5961's protections and RFC 7323's PAWS.
#include "unit/tcp_core/fixture.hpp"

using namespace uk::test::tcp;

namespace {
constexpr std::uint32_t rcv_nxt = remote_iss + 1;
constexpr std::uint32_t snd_nxt = local_iss + 1;
}  // namespace

TEST_CASE("RFC 9293 3.10.7.4 first check: an unacceptable segment gets an ACK and is dropped") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt + 20000, snd_nxt, 65535, data(10)});  // beyond the 16384 window
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt, 16384));
  CHECK(c.readable() == 0);
  CHECK(c.counters().rx_unacceptable == 1);
}

TEST_CASE("RFC 9293 3.10.7.4 first check: an old duplicate segment is acknowledged, not delivered twice") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack | flags::psh, rcv_nxt, snd_nxt, 65535, data(10)});
  f.receive({flags::ack | flags::psh, rcv_nxt, snd_nxt, 65535, data(10)});
  CHECK(c.readable() == 10);
  auto out = f.take();
  REQUIRE(!out.empty());
  CHECK(out.back().header == fixture::ours(flags::ack, snd_nxt, rcv_nxt + 10, 16384 - 10));
}

TEST_CASE("RFC 9293 3.10.7.4 first check: a segment overlapping RCV.NXT is trimmed to the new bytes") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(10)});
  f.receive({flags::ack, rcv_nxt + 5, snd_nxt, 65535, data(10, 5)});
  CHECK(c.readable() == 15);
  std::vector<std::byte> got(15);
  CHECK(c.read(got, f.now) == 15);
  CHECK(got == data(15));
}

TEST_CASE("RFC 9293 3.10.7.4 first check: a zero window accepts only the ACK of a segment at RCV.NXT") {
  fixture f;
  f.config.receive_buffer = 1000;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(1000)});
  CHECK(c.readable() == 1000);
  f.take();
  // The peer's zero-window probe: one byte at RCV.NXT. Answered with window 0.
  f.receive({flags::ack, rcv_nxt + 1000, snd_nxt, 65535, data(1)});
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt + 1000, 0));
  CHECK(c.readable() == 1000);
}

TEST_CASE("RFC 5961 3.2: a RST exactly at RCV.NXT resets the connection") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::rst, rcv_nxt, 0, 0});
  CHECK(c.current_state() == state::closed);
  CHECK(c.last_error() == error::reset);
  CHECK(f.take().empty());
  CHECK(c.is_closed());
}

TEST_CASE("RFC 5961 3.2: a RST in the window but not at RCV.NXT gets a challenge ACK") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::rst, rcv_nxt + 100, 0, 0});
  CHECK(c.current_state() == state::established);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt, 16384));
  CHECK(c.counters().rx_rst_challenged == 1);
}

TEST_CASE("RFC 5961 3.2: a RST outside the window is dropped silently") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::rst, rcv_nxt + 100000, 0, 0});
  CHECK(c.current_state() == state::established);
  CHECK(f.take().empty());
}

TEST_CASE("RFC 5961 7: challenge ACKs obey the layer's rate limit, counted") {
  fixture f;
  auto& c = f.established();
  f.challenge_allowed = false;
  f.receive({flags::rst, rcv_nxt + 100, 0, 0});
  CHECK(f.take().empty());
  CHECK(c.counters().challenge_acks_limited == 1);
  CHECK(c.current_state() == state::established);
}

TEST_CASE("RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK, whatever its sequence number") {
  fixture f;
  auto& c = f.established();
  SECTION("in the window") { f.receive({flags::syn, rcv_nxt + 10, 0, 65535}); }
  SECTION("at RCV.NXT") { f.receive({flags::syn, rcv_nxt, 0, 65535}); }
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt, 16384));
  CHECK(c.current_state() == state::established);
  CHECK(c.counters().rx_syn_challenged == 1);
}

TEST_CASE("RFC 9293 3.10.7.4 fifth check: a segment without ACK is dropped") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::psh, rcv_nxt, 0, 65535, data(10)});
  CHECK(c.readable() == 0);
  CHECK(f.take().empty());
}

TEST_CASE("RFC 5961 5.2: data whose ACK acknowledges what was never sent is discarded with an ACK") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt + 5000, 65535, data(10)});
  CHECK(c.readable() == 0);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt, 16384));
}

TEST_CASE("RFC 5961 5.2: an ACK older than SND.UNA - MAX.SND.WND is discarded with an ACK") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt - 70000, 65535, data(10)});
  CHECK(c.readable() == 0);
  CHECK(f.take().size() == 1);
  // An old but plausible ACK (within MAX.SND.WND) still delivers its data.
  f.receive({flags::ack, rcv_nxt, snd_nxt - 100, 65535, data(10)});
  CHECK(c.readable() == 10);
}

TEST_CASE("RFC 9293 3.10.7.4 fifth check: the send window is updated only from newer segments (SND.WL1, SND.WL2)") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 1000, data(10)});
  CHECK(c.send_window() == 1000);
  // A reordered older segment (SEG.SEQ < SND.WL1) does not move the window back.
  f.receive({flags::ack, rcv_nxt, snd_nxt, 50, {}});
  CHECK(c.send_window() == 1000);
}

TEST_CASE("RFC 7323 5.3: PAWS drops a segment whose TSval is older than TS.Recent and sends an ACK") {
  fixture f;
  f.config.timestamps = true;
  wire::options o;
  o.timestamps = wire::timestamps_option{500, 0};
  f.peer_ts = wire::timestamps_option{501, 100000};
  auto& c = f.established(o);
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(10), f.ack_options()});
  CHECK(c.readable() == 10);
  f.take();
  wire::options old;
  old.timestamps = wire::timestamps_option{400, 100000};
  f.receive({flags::ack, rcv_nxt + 10, snd_nxt, 65535, data(10), old});
  CHECK(c.readable() == 10);
  CHECK(c.counters().rx_paws_rejected == 1);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == rcv_nxt + 10);
  REQUIRE(out[0].header.options.timestamps);
  CHECK(out[0].header.options.timestamps->tsecr == 501);  // TS.Recent unchanged
}

TEST_CASE("RFC 7323 5.3: a RST is not subject to PAWS") {
  fixture f;
  f.config.timestamps = true;
  wire::options o;
  o.timestamps = wire::timestamps_option{500, 0};
  f.peer_ts = wire::timestamps_option{501, 100000};
  auto& c = f.established(o);
  wire::options old;
  old.timestamps = wire::timestamps_option{1, 0};
  f.receive({flags::rst, rcv_nxt, 0, 0, {}, old});
  CHECK(c.current_state() == state::closed);
}

TEST_CASE("RFC 7323 3.2: once timestamps are negotiated a segment without them is dropped silently") {
  fixture f;
  f.config.timestamps = true;
  wire::options o;
  o.timestamps = wire::timestamps_option{500, 0};
  f.peer_ts = wire::timestamps_option{501, 100000};
  auto& c = f.established(o);
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(10)});
  CHECK(c.readable() == 0);
  CHECK(f.take().empty());
  CHECK(c.counters().rx_missing_timestamp == 1);
}

TEST_CASE("RFC 9293 3.10.7.4 seventh check: out-of-order data is held, ACKed at once, and delivered when the gap fills") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt + 10, snd_nxt, 65535, data(10, 10)});
  CHECK(c.readable() == 0);
  auto out = f.take();
  REQUIRE(out.size() == 1);  // RFC 5681 4.2: an immediate duplicate ACK
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt, 16384));
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(10)});
  CHECK(c.readable() == 20);
  out = f.take();
  REQUIRE(out.size() == 1);  // RFC 5681 4.2: filling the gap is ACKed at once
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt + 20, 16384 - 20));
  std::vector<std::byte> got(20);
  c.read(got, f.now);
  CHECK(got == data(20));
}

TEST_CASE("Bound: out-of-order ranges beyond the reassembly limit are dropped and counted") {
  fixture f;
  auto& c = f.established();
  constexpr std::uint32_t bound = uk::direct::tcp::receive_buffer::max_ranges;
  for (std::uint32_t i = 0; i < bound + 1; ++i) f.receive({flags::ack, rcv_nxt + 10 + 20 * i, snd_nxt, 65535, data(5)});
  CHECK(c.counters().rx_reassembly_full == 1);
  CHECK(c.counters().rx_out_of_order == bound);
}
