// Closing: RFC 9293 3.6 (normal and simultaneous close), half-close,
// TIME-WAIT for 2 MSL (3.10.7.4 eighth, 3.10.8) and its early reuse (RFC 6191),
// close with unread data (RFC 2525 2.17), ABORT (3.10.5).
#include "unit/tcp_core/fixture.hpp"

using namespace uk::test::tcp;

namespace {
constexpr std::uint32_t rcv_nxt = remote_iss + 1;
constexpr std::uint32_t snd_nxt = local_iss + 1;
}  // namespace

// After the peer's FIN the right edge stays put (RFC 9293 3.8.6.2.2): the window shows 16383.
TEST_CASE("RFC 9293 3.6 figure 12: we close first, FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, CLOSED after 2 MSL") {
  fixture f;
  auto& c = f.established();
  c.close(f.now);
  CHECK(c.current_state() == state::fin_wait_1);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::fin | flags::ack, snd_nxt, rcv_nxt, 16384));
  f.peer_acks(snd_nxt + 1);
  CHECK(c.current_state() == state::fin_wait_2);
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt + 1, 65535});
  CHECK(c.current_state() == state::time_wait);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt + 1, rcv_nxt + 1, 16383));
  CHECK(c.next_deadline() == f.now + 2 * f.config.msl);
  f.advance(2 * f.config.msl - 1ms);
  CHECK(c.current_state() == state::time_wait);
  f.advance(1ms);
  CHECK(c.is_closed());
  CHECK(c.last_error() == error::none);
  CHECK(c.next_deadline() == never);
}

TEST_CASE("RFC 9293 3.6: the peer closes first, CLOSE-WAIT, then our close goes LAST-ACK, CLOSED") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt, 65535});
  CHECK(c.current_state() == state::close_wait);
  CHECK(c.read_finished());
  auto out = f.take();
  REQUIRE(out.size() == 1);  // a FIN is acknowledged at once
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt + 1, 16383));
  c.close(f.now);
  CHECK(c.current_state() == state::last_ack);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::fin | flags::ack, snd_nxt, rcv_nxt + 1, 16383));
  f.peer_acks(snd_nxt + 1, 65535, rcv_nxt + 1);
  CHECK(c.is_closed());
  CHECK(c.last_error() == error::none);
}

TEST_CASE("RFC 9293 3.6 figure 13: simultaneous close goes CLOSING, TIME-WAIT, CLOSED (mirage-tcpip #489)") {
  fixture f;
  auto& c = f.established();
  c.close(f.now);
  f.take();
  // The peer's FIN crosses ours: it does not acknowledge our FIN.
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt, 65535});
  CHECK(c.current_state() == state::closing);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt + 1, rcv_nxt + 1, 16383));
  f.peer_acks(snd_nxt + 1, 65535, rcv_nxt + 1);
  CHECK(c.current_state() == state::time_wait);
  f.run_to_deadline();
  CHECK(c.is_closed());
}

TEST_CASE("mirage-tcpip #489: simultaneous close with the peer's ACK lost still ends CLOSED") {
  fixture f;
  auto& c = f.established();
  c.close(f.now);
  f.take();
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt, 65535});
  CHECK(c.current_state() == state::closing);
  f.take();
  // The peer's ACK of our FIN is lost: our FIN is retransmitted, the peer
  // (in TIME-WAIT) acknowledges the retransmission.
  f.run_to_deadline();
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::fin | flags::ack, snd_nxt, rcv_nxt + 1, 16383));
  f.peer_acks(snd_nxt + 1, 65535, rcv_nxt + 1);
  CHECK(c.current_state() == state::time_wait);
  f.run_to_deadline();
  CHECK(c.is_closed());
}

TEST_CASE("RFC 9293 3.6 figure 13: a FIN that also acknowledges ours goes from FIN-WAIT-1 straight to TIME-WAIT") {
  fixture f;
  auto& c = f.established();
  c.close(f.now);
  f.take();
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt + 1, 65535});
  CHECK(c.current_state() == state::time_wait);
}

TEST_CASE("RFC 9293 3.10.4: half-close, our FIN sent, the peer's data still flows to us") {
  fixture f;
  auto& c = f.established();
  c.write(data(100), f.now);
  c.shutdown_send(f.now);
  CHECK(c.current_state() == state::fin_wait_1);
  CHECK(c.writable() == 0);
  CHECK(c.write(data(1), f.now) == 0);
  auto out = f.take();
  REQUIRE(out.size() == 2);  // the data, then the FIN (no Nagle for a FIN)
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt, rcv_nxt, 16384, 100));
  CHECK(out[1].header == fixture::ours(flags::fin | flags::ack, snd_nxt + 100, rcv_nxt, 16384));
  f.peer_acks(snd_nxt + 101);
  CHECK(c.current_state() == state::fin_wait_2);
  f.receive({flags::ack, rcv_nxt, snd_nxt + 101, 65535, data(50)});
  CHECK(c.readable() == 50);
  f.receive({flags::ack | flags::fin, rcv_nxt + 50, snd_nxt + 101, 65535});
  CHECK(c.current_state() == state::time_wait);
  CHECK_FALSE(c.read_finished());  // 50 bytes still to read
  std::vector<std::byte> got(64);
  CHECK(c.read(got, f.now) == 50);
  CHECK(c.read_finished());
}

TEST_CASE("RFC 9293 3.10.4: half-close from the peer, we keep sending in CLOSE-WAIT") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt, 65535});
  f.take();
  CHECK(c.write(data(10), f.now) == 10);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt, rcv_nxt + 1, 16383, 10));
}

TEST_CASE("RFC 9293 3.10.7.4 eighth: a FIN that arrives before missing data waits for it") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::fin | flags::ack, rcv_nxt + 10, snd_nxt, 65535, data(5)});
  CHECK(c.current_state() == state::established);
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(10)});
  CHECK(c.current_state() == state::close_wait);
  CHECK(c.readable() == 15);
  CHECK(c.receive_next().value == rcv_nxt + 16);
}

TEST_CASE("RFC 9293 3.10.7.4 eighth: a retransmitted FIN in TIME-WAIT is acknowledged and restarts 2 MSL") {
  fixture f;
  auto& c = f.established();
  c.close(f.now);
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt + 1, 65535});
  CHECK(c.current_state() == state::time_wait);
  f.take();
  f.advance(10s);
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt + 1, 65535});
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt + 1, rcv_nxt + 1, 16383));
  CHECK(c.next_deadline() == f.now + 2 * f.config.msl);
}

TEST_CASE("RFC 9293 3.4.1: MSL is a setting, TIME-WAIT lasts twice it") {
  fixture f;
  f.config.msl = 1s;
  auto& c = f.established();
  c.close(f.now);
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt + 1, 65535});
  CHECK(f.run_to_deadline() == 2s);
  CHECK(c.is_closed());
}

TEST_CASE("RFC 6191 2: in TIME-WAIT a new SYN with a larger timestamp may reuse the tuple") {
  fixture f;
  f.config.timestamps = true;
  wire::options o;
  o.timestamps = wire::timestamps_option{500, 0};
  f.peer_ts = wire::timestamps_option{501, 100000};
  auto& c = f.established(o);
  c.close(f.now);
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt + 1, 65535, {}, f.ack_options()});
  REQUIRE(c.current_state() == state::time_wait);
  std::vector<std::byte> storage;
  wire::options newer;
  newer.timestamps = wire::timestamps_option{600, 0};
  // Even with an ISN below RCV.NXT: the timestamp decides (RFC 6191 2).
  CHECK(c.accepts_new_syn(f.syn_view({flags::syn, 10, 0, 65535, {}, newer}, storage)));
  wire::options older;
  older.timestamps = wire::timestamps_option{501, 0};
  CHECK_FALSE(c.accepts_new_syn(f.syn_view({flags::syn, rcv_nxt + 100000, 0, 65535, {}, older}, storage)));
}

TEST_CASE("RFC 9293 3.6.1: in TIME-WAIT without timestamps a new SYN must start beyond RCV.NXT") {
  fixture f;
  auto& c = f.established();
  c.close(f.now);
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt + 1, 65535});
  REQUIRE(c.current_state() == state::time_wait);
  std::vector<std::byte> storage;
  CHECK(c.accepts_new_syn(f.syn_view({flags::syn, rcv_nxt + 100000, 0, 65535}, storage)));
  CHECK_FALSE(c.accepts_new_syn(f.syn_view({flags::syn, rcv_nxt - 5, 0, 65535}, storage)));
}

TEST_CASE("RFC 2525 2.17: close with unread data sends RST instead of FIN") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(10)});
  f.take();
  c.close(f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::rst, snd_nxt, 0, 0));
  CHECK(c.is_closed());
}

TEST_CASE("RFC 2525 2.17: data arriving after close is answered with RST") {
  fixture f;
  auto& c = f.established();
  c.close(f.now);
  f.take();
  f.receive({flags::ack, rcv_nxt, snd_nxt + 1, 65535, data(10)});
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.flags == flags::rst);
  CHECK(c.is_closed());
  CHECK(c.counters().rx_data_after_close == 1);
}

TEST_CASE("RFC 9293 3.10.5: ABORT sends <SEQ=SND.NXT><CTL=RST> and closes") {
  fixture f;
  auto& c = f.established();
  c.write(data(10), f.now);
  f.take();
  c.abort(f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::rst, snd_nxt + 10, 0, 0));
  CHECK(c.is_closed());
  CHECK(c.last_error() == error::aborted);
  CHECK(c.next_deadline() == never);
}

TEST_CASE("RFC 9293 3.10.7.4 second check: a RST in LAST-ACK closes without an error") {
  fixture f;
  auto& c = f.established();
  f.receive({flags::fin | flags::ack, rcv_nxt, snd_nxt, 65535});
  c.close(f.now);
  f.receive({flags::rst, rcv_nxt + 1, 0, 0});
  CHECK(c.is_closed());
  CHECK(c.last_error() == error::none);
}

TEST_CASE("FIN-WAIT-2 after close() does not last forever: it ends after 2 MSL") {
  fixture f;
  auto& c = f.established();
  c.close(f.now);
  f.peer_acks(snd_nxt + 1);
  CHECK(c.current_state() == state::fin_wait_2);
  f.run_to_deadline();
  CHECK(c.is_closed());
}

TEST_CASE("RFC 9293 3.10.4: close in SYN-RECEIVED queues the FIN until ESTABLISHED") {
  fixture f;
  auto& c = f.make();
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(), storage), f.now);
  f.take();
  c.shutdown_send(f.now);
  CHECK(c.current_state() == state::syn_received);
  CHECK(f.take().empty());
  f.peer_acks(local_iss + 1);
  CHECK(c.current_state() == state::fin_wait_1);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::fin | flags::ack, snd_nxt, rcv_nxt, 16384));
}
