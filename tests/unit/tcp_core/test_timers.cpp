// Timers: retransmission (RFC 6298, Karn, back-off, retry limit), SYN and
// SYN-ACK retransmission (IncludeOS #542), persist (RFC 9293 3.8.6.1),
// delayed ACK (3.8.6.3), keep-alive (RFC 1122 4.2.3.6).
#include "unit/tcp_core/fixture.hpp"

using namespace uk::test::tcp;

namespace {
constexpr std::uint32_t rcv_nxt = remote_iss + 1;
constexpr std::uint32_t snd_nxt = local_iss + 1;
}  // namespace

TEST_CASE("RFC 6298 5.4 to 5.6: unacknowledged data is retransmitted after RTO, then twice, four times RTO") {
  fixture f;
  auto& c = f.established();
  c.write(data(100), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(c.rto().rto() == 300ms);  // from the handshake's 100 ms sample
  CHECK(f.run_to_deadline() == 300ms);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt, rcv_nxt, 16384, 100));
  CHECK(out[0].payload == data(100));
  CHECK(f.run_to_deadline() == 600ms);
  CHECK(f.take().size() == 1);
  CHECK(f.run_to_deadline() == 1200ms);
  CHECK(f.take().size() == 1);
  CHECK(c.counters().retransmission_timeouts == 3);
  f.peer_acks(snd_nxt + 100);
  CHECK(c.next_deadline() == never);  // RFC 6298 5.2: all acknowledged, timer off
}

TEST_CASE("RFC 6298 3 (Karn): an ACK for a retransmitted segment gives no RTT sample") {
  fixture f;
  auto& c = f.established();
  c.write(data(100), f.now);
  f.run_to_deadline();  // retransmitted at +300 ms
  f.advance(50ms);
  f.peer_acks(snd_nxt + 100);
  CHECK(c.rto().srtt() == 100ms);  // no sample taken
  CHECK(c.rto().rto() == 600ms);   // still backed off
  // The next segment, sent once, is measured: RFC 6298 2.3 with R' = 30 ms.
  c.write(data(10), f.now);
  f.advance(30ms);
  f.peer_acks(snd_nxt + 110);
  CHECK(c.rto().srtt() == 91250us);   // 7/8 * 100 + 1/8 * 30
  CHECK(c.rto().rttvar() == 55ms);    // 3/4 * 50 + 1/4 * 70
  CHECK(c.rto().rto() == 311250us);
}

TEST_CASE("RFC 6298 5.3: an ACK of new data restarts the timer with the current RTO") {
  fixture f;
  auto& c = f.established();
  c.write(data(536 * 2), f.now);  // two segments (MSS 536)
  CHECK(f.take().size() == 2);
  f.advance(500ms);
  f.peer_acks(snd_nxt + 536);
  CHECK(c.next_deadline() == f.now + c.rto().rto());
}

TEST_CASE("RFC 9293 3.8.3: after max_retransmissions the connection aborts with timed_out") {
  fixture f;
  f.config.max_retransmissions = 3;
  auto& c = f.established();
  c.write(data(10), f.now);
  for (int i = 0; i < 3; ++i) f.run_to_deadline();
  CHECK(c.current_state() == state::established);
  f.run_to_deadline();
  CHECK(c.is_closed());
  CHECK(c.last_error() == error::timed_out);
  CHECK(f.changes > 0);
}

TEST_CASE("RFC 6298 2.1 and 5.5: a lost SYN is retransmitted after 1 s, then 2 s, until the limit, then timed_out") {
  fixture f;
  f.config.max_syn_retransmissions = 2;
  auto& c = f.make();
  c.open(seq{local_iss}, f.now);
  f.take();
  CHECK(f.run_to_deadline() == 1s);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.flags == flags::syn);
  CHECK(out[0].header.sequence_number == local_iss);
  CHECK(f.run_to_deadline() == 2s);
  CHECK(f.take().size() == 1);
  CHECK(c.current_state() == state::syn_sent);
  f.run_to_deadline();
  CHECK(c.is_closed());
  CHECK(c.last_error() == error::timed_out);
  CHECK(c.counters().syn_retransmissions == 2);
}

TEST_CASE("IncludeOS #542: a lost SYN-ACK is retransmitted, and the connection completes") {
  fixture f;
  auto& c = f.make();
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(), storage), f.now);
  f.take();
  f.run_to_deadline();
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::syn | flags::ack, local_iss, rcv_nxt, 16384, 0, [] {
          wire::options o;
          o.mss = 1460;
          return o;
        }()));
  f.peer_acks(snd_nxt);
  CHECK(c.current_state() == state::established);
}

TEST_CASE("IncludeOS #542: a SYN-RECEIVED whose peer vanished ends CLOSED, not stuck") {
  fixture f;
  f.config.max_syn_retransmissions = 3;
  auto& c = f.make();
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(), storage), f.now);
  for (int i = 0; i < 4 && !c.is_closed(); ++i) f.run_to_deadline();
  CHECK(c.is_closed());
  CHECK(c.last_error() == error::timed_out);
}

TEST_CASE("IncludeOS #542: a retransmitted SYN in SYN-RECEIVED gets the SYN-ACK again") {
  fixture f;
  auto& c = f.make();
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(), storage), f.now);
  f.take();
  f.receive(f.peer_syn());
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.flags == (flags::syn | flags::ack));
  CHECK(c.current_state() == state::syn_received);
}

TEST_CASE("RFC 9293 3.8.6.1: a zero window is probed by the persist timer, with back-off, indefinitely") {
  fixture f;
  f.config.max_retransmissions = 3;
  auto& c = f.established();
  f.peer_acks(snd_nxt, 0);
  c.write(data(100), f.now);
  CHECK(f.take().empty());
  CHECK(f.run_to_deadline() == 300ms);  // one RTO
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt, 16384, 1));  // one byte of new data
  f.peer_acks(snd_nxt, 0);  // still closed: the byte is not accepted
  CHECK(f.run_to_deadline() == 600ms);
  CHECK(f.take().size() == 1);
  for (int i = 0; i < 6; ++i) {
    f.run_to_deadline();
    f.peer_acks(snd_nxt, 0);  // a peer that answers keeps the connection alive
  }
  CHECK(c.current_state() == state::established);
  CHECK(c.counters().persist_probes == 8);
  // The window opens: everything goes out.
  f.take();
  f.peer_acks(snd_nxt, 1000);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt, rcv_nxt, 16384, 100));
}

TEST_CASE("RFC 9293 3.8.6.1: a probe the peer accepts advances SND.UNA") {
  fixture f;
  auto& c = f.established();
  f.peer_acks(snd_nxt, 0);
  c.write(data(100), f.now);
  f.run_to_deadline();
  f.take();
  f.peer_acks(snd_nxt + 1, 0);
  CHECK(c.send_unacknowledged().value == snd_nxt + 1);
  CHECK(c.unacknowledged() == 99);
  CHECK(c.next_deadline() != never);  // still probing
}

TEST_CASE("RFC 9293 3.8.6.3: an ACK is delayed, by at most the configured delay") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(10)});
  CHECK(f.take().empty());
  CHECK(c.next_deadline() == f.now + 40ms);
  f.advance(40ms);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt + 10, 16384 - 10));
  CHECK(c.counters().delayed_acks == 1);
}

TEST_CASE("RFC 9293 3.8.6.3: the ACK delay is capped at 200 ms whatever the setting") {
  fixture f;
  f.config.delayed_ack = 2s;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(10)});
  CHECK(c.next_deadline() == f.now + 200ms);
}

TEST_CASE("RFC 9293 3.8.6.3: every second full-sized segment is acknowledged at once") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(1460)});
  CHECK(f.take().empty());
  f.receive({flags::ack, rcv_nxt + 1460, snd_nxt, 65535, data(1460)});
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == rcv_nxt + 2920);
  CHECK(c.next_deadline() == never);
}

TEST_CASE("RFC 9293 3.8.6.3: data sent in reply carries the delayed ACK") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(10)});
  c.write(data(5), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt, rcv_nxt + 10, 16384 - 10, 5));
  CHECK(c.next_deadline() == f.now + 300ms);  // only the retransmission timer
}

TEST_CASE("RFC 1122 4.2.3.6: keep-alive is off by default") {
  fixture f;
  auto& c = f.established();
  CHECK(c.next_deadline() == never);
}

TEST_CASE("RFC 1122 4.2.3.6: keep-alive probes an idle connection with SEG.SEQ = SND.NXT - 1 and times out") {
  fixture f;
  f.config.keepalive = uk::direct::tcp::keepalive_config{10s, 1s, 3};
  auto& c = f.established();
  CHECK(f.run_to_deadline() == 10s);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt - 1, rcv_nxt, 16384));
  // Answered: idle again for 10 s.
  f.peer_acks(snd_nxt);
  CHECK(c.next_deadline() == f.now + 10s);
  f.run_to_deadline();
  CHECK(f.run_to_deadline() == 1s);
  CHECK(f.run_to_deadline() == 1s);
  CHECK(c.counters().keepalive_probes == 4);
  f.run_to_deadline();
  CHECK(c.is_closed());
  CHECK(c.last_error() == error::timed_out);
}

TEST_CASE("RFC 1122 4.2.2.17: a window that closes with data in flight is probed, not timed out") {
  fixture f;
  f.config.max_retransmissions = 2;
  f.config.nodelay = true;
  auto& c = f.established();
  c.write(data(1000), f.now);
  CHECK(f.take().size() == 2);  // 536 + 464
  f.peer_acks(snd_nxt + 536, 0);  // part acknowledged, window closed
  for (int i = 0; i < 10; ++i) {
    f.run_to_deadline();
    f.peer_acks(snd_nxt + 536, 0);
  }
  CHECK(c.current_state() == state::established);
  CHECK(c.counters().persist_probes >= 5);
  f.take();
  f.peer_acks(snd_nxt + 536, 5000);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt + 536, rcv_nxt, 16384, 464));
  f.peer_acks(snd_nxt + 1000, 5000);
  CHECK(c.next_deadline() == never);
}

TEST_CASE("RFC 9293 3.8.6.1: a FIN waiting behind a zero window is probed") {
  fixture f;
  f.config.max_retransmissions = 2;
  auto& c = f.established();
  c.write(data(100), f.now);
  f.peer_acks(snd_nxt + 100, 0);
  c.shutdown_send(f.now);
  for (int i = 0; i < 6; ++i) {
    f.run_to_deadline();
    f.peer_acks(snd_nxt + 100, 0);
  }
  CHECK(c.current_state() == state::fin_wait_1);
  f.peer_acks(snd_nxt + 101, 0);  // the peer takes the FIN
  CHECK(c.current_state() == state::fin_wait_2);
}
