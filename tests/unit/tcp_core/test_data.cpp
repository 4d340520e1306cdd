// The data path: Nagle (RFC 9293 3.7.4), silly-window avoidance on both
// sides (3.8.6.2), the window reopening as the application reads
// (mirage-tcpip #340), fast retransmit (RFC 5681 3.2), buffer bounds.
#include "unit/tcp_core/fixture.hpp"

using namespace uk::test::tcp;

namespace {
constexpr std::uint32_t rcv_nxt = remote_iss + 1;
constexpr std::uint32_t snd_nxt = local_iss + 1;
wire::options mss_option(std::uint16_t mss) {
  wire::options o;
  o.mss = mss;
  return o;
}
}  // namespace

TEST_CASE("RFC 9293 3.7.4 (Nagle): a small segment waits while data is unacknowledged") {
  fixture f;
  auto& c = f.established();
  c.write(data(10), f.now);
  c.write(data(10, 10), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.payload_length == 10);
  f.peer_acks(snd_nxt + 10);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt + 10, rcv_nxt, 16384, 10));
  CHECK(out[0].payload == data(10, 10));
}

TEST_CASE("RFC 9293 3.7.4: with nodelay small segments go out at once") {
  fixture f;
  f.config.nodelay = true;
  auto& c = f.established();
  c.write(data(10), f.now);
  c.write(data(10, 10), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 2);
  CHECK(out[1].header == fixture::ours(flags::ack | flags::psh, snd_nxt + 10, rcv_nxt, 16384, 10));
}

TEST_CASE("RFC 9293 3.7.4: full-sized segments are not held by Nagle") {
  fixture f;
  auto& c = f.established(mss_option(1000));
  c.write(data(2500), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 2);  // two full segments; the 500-byte tail waits for an ACK
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt, 16384, 1000));
  CHECK(out[1].header == fixture::ours(flags::ack, snd_nxt + 1000, rcv_nxt, 16384, 1000));
  f.peer_acks(snd_nxt + 2000);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt + 2000, rcv_nxt, 16384, 500));
}

TEST_CASE("RFC 9293 3.7.4: pieces written with `more` (a gather write) leave together, not held by Nagle") {
  // A header and a body written as two buffers of one write: without `more`
  // the header would go alone and Nagle would hold the body for the peer's
  // (delayed) ACK, 40 ms per HTTP response on Linux.
  fixture f;
  auto& c = f.established(mss_option(1000));
  CHECK(c.write(data(200), f.now, true) == 200);
  CHECK(f.take().empty());  // waits for the next piece
  CHECK(c.write(data(300, 200), f.now) == 300);
  auto out = f.take();
  REQUIRE(out.size() == 1);  // one segment of both pieces
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt, rcv_nxt, 16384, 500));
  CHECK(out[0].payload == data(500));
}

TEST_CASE("a write with `more` into a full send buffer still sends what waits") {
  fixture f;
  f.config.send_buffer = 1000;
  auto& c = f.established(mss_option(1000));
  CHECK(c.write(data(1000), f.now, true) == 1000);  // fills the buffer exactly: nothing sent yet
  CHECK(f.take().empty());
  CHECK(c.write(data(10), f.now, true) == 0);  // no room: what waits is sent
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.payload_length == 1000);
}

TEST_CASE("RFC 9293 3.8.6.2.1: the sender does not fill a small window with a small segment, until the override timeout") {
  fixture f;
  auto& c = f.established();
  f.peer_acks(snd_nxt, 100);  // the largest window seen was 65535: 100 is silly
  c.write(data(1000), f.now);
  CHECK(f.take().empty());
  CHECK(f.run_to_deadline() == 300ms);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt, 16384, 100));
}

TEST_CASE("RFC 9293 3.8.6.2.1: a window of half the largest one seen is used at once") {
  fixture f;
  auto& c = f.make();
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view({flags::syn, remote_iss, 0, 400}, storage), f.now);
  f.peer_acks(snd_nxt, 400);
  f.take();
  f.peer_acks(snd_nxt, 200);  // same SEG.SEQ and SEG.ACK: the window may shrink
  CHECK(c.send_window() == 200);
  c.write(data(1000), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.payload_length == 200);
}

TEST_CASE("RFC 9293 3.8.6.2.2 and mirage-tcpip #340: a full window reopens as the application reads") {
  fixture f;
  f.config.receive_buffer = 4096;
  f.config.mss = 1460;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(1460)});
  f.receive({flags::ack, rcv_nxt + 1460, snd_nxt, 65535, data(1460)});
  f.receive({flags::ack, rcv_nxt + 2920, snd_nxt, 65535, data(1176)});
  auto out = f.take();
  REQUIRE(!out.empty());
  CHECK(out.back().header == fixture::ours(flags::ack, snd_nxt, rcv_nxt + 4096, 0));
  std::vector<std::byte> buf(1000);
  CHECK(c.read(buf, f.now) == 1000);
  // RFC 9293 3.8.6.2.2: 1000 free bytes are less than min(RCV.BUFF / 2, MSS) = 1460: no update yet.
  CHECK(f.take().empty());
  CHECK(c.read(buf, f.now) == 1000);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt + 4096, 2000));
  CHECK(c.counters().window_updates == 1);
  // The peer fills the reopened window: accepted.
  f.receive({flags::ack, rcv_nxt + 4096, snd_nxt, 65535, data(2000)});
  CHECK(c.readable() == 4096 - 2000 + 2000);
}

TEST_CASE("RFC 9293 3.8.6.2.2: the right edge never moves left, even as data arrives") {
  fixture f;
  f.config.receive_buffer = 4096;
  auto& c = f.established();
  for (std::uint32_t i = 0; i < 40; ++i) {
    f.receive({flags::ack, rcv_nxt + 100 * i, snd_nxt, 65535, data(100)});
  }
  std::uint32_t right_edge = 0;
  for (const auto& s : f.take()) {
    const std::uint32_t edge = s.header.acknowledgment_number + s.header.window;
    CHECK(edge >= right_edge);
    right_edge = edge;
  }
  CHECK(c.readable() == 4000);
}

TEST_CASE("smoltcp #415: with less than a segment of window left the ACK is not delayed") {
  fixture f;
  f.config.receive_buffer = 2000;
  auto& c = f.established();
  f.receive({flags::ack, rcv_nxt, snd_nxt, 65535, data(1000)});
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt, rcv_nxt + 1000, 1000));
  CHECK(c.readable() == 1000);
}

TEST_CASE("RFC 5681 3.2: three duplicate ACKs retransmit the missing segment at once") {
  fixture f;
  auto& c = f.established(mss_option(1000));
  c.write(data(4000), f.now);
  CHECK(f.take().size() == 4);  // IW = 4 * SMSS for SMSS 1000 (RFC 5681 3.1)
  f.peer_acks(snd_nxt + 1000);
  for (int i = 0; i < 2; ++i) f.peer_acks(snd_nxt + 1000);
  CHECK(f.take().empty());
  f.peer_acks(snd_nxt + 1000);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, snd_nxt + 1000, rcv_nxt, 16384, 1000));
  CHECK(out[0].payload == data(1000, static_cast<std::uint8_t>(1000 % 256)));
  CHECK(c.counters().fast_retransmissions == 1);
  CHECK(c.in_recovery());
  CHECK(c.congestion_window() == 2000 + 3000);  // RFC 6582 3.2 step 3: ssthresh + 3*SMSS
  f.peer_acks(snd_nxt + 4000);
  CHECK_FALSE(c.in_recovery());
}

TEST_CASE("RFC 5681 3.1: after a timeout the sender restarts with one segment") {
  fixture f;
  auto& c = f.established(mss_option(1000));
  c.write(data(4000), f.now);
  f.take();
  f.run_to_deadline();
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.sequence_number == snd_nxt);
  CHECK(c.congestion().window() == 1000);
  f.peer_acks(snd_nxt + 1000);
  CHECK(f.take().size() == 2);  // slow start: cwnd 2000
}

TEST_CASE("Bound: the send buffer accepts what fits, writable() says how much") {
  fixture f;
  auto& c = f.established();
  CHECK(c.writable() == 16384);
  CHECK(c.write(data(20000), f.now) == 16384);
  CHECK(c.writable() == 0);
  CHECK(c.write(data(1), f.now) == 0);
  f.peer_acks(snd_nxt + 536);
  CHECK(c.writable() == 536);
}

TEST_CASE("RFC 9293 3.10.2: data written in SYN-SENT goes out once ESTABLISHED") {
  fixture f;
  auto& c = f.make();
  c.open(seq{local_iss}, f.now);
  CHECK(c.write(data(10), f.now) == 10);
  CHECK(f.take().size() == 1);  // just the SYN
  f.receive({flags::syn | flags::ack, remote_iss, local_iss + 1, 30000});
  auto out = f.take();
  REQUIRE(out.size() == 1);  // the data carries the handshake's ACK
  CHECK(out[0].header == fixture::ours(flags::ack | flags::psh, snd_nxt, rcv_nxt, 16384, 10));
}

TEST_CASE("A refused send (the sink returns false) is counted and recovered by retransmission") {
  fixture f;
  auto& c = f.established();
  f.sink_accepts = false;
  c.write(data(10), f.now);
  CHECK(c.counters().tx_refused == 1);
  f.sink_accepts = true;
  f.take();
  f.run_to_deadline();
  CHECK(f.take().size() == 1);
}

TEST_CASE("Data crossing the ring buffer's end arrives intact in both directions") {
  fixture f;
  f.config.send_buffer = 1000;
  f.config.receive_buffer = 1000;
  f.config.nodelay = true;
  auto& c = f.established(mss_option(1460));
  std::vector<std::byte> received;
  std::uint32_t peer_seq = rcv_nxt, acked = snd_nxt;
  for (int round = 0; round < 5; ++round) {
    CHECK(c.write(data(700, static_cast<std::uint8_t>(round)), f.now) == 700);
    auto out = f.take();
    REQUIRE(out.size() == 1);
    CHECK(out[0].payload == data(700, static_cast<std::uint8_t>(round)));
    acked += 700;
    f.receive({flags::ack, peer_seq, acked, 65535, data(700, static_cast<std::uint8_t>(round + 1))});
    peer_seq += 700;
    std::vector<std::byte> buf(700);
    CHECK(c.read(buf, f.now) == 700);
    CHECK(buf == data(700, static_cast<std::uint8_t>(round + 1)));
    f.take();
  }
}
