// The TCP layer with the connection core: passive opens through the
// listener's SYN and accept queues, timers driven by the layer's deadline
// heap, TIME-WAIT reincarnation, and what closing a listener does.
#include <catch2/catch.hpp>

#include "layer_fixture.hpp"

using namespace uk::test::tcp;
using wire_tcp::flags;
namespace tcp = uk::direct::tcp;

namespace {

wire_tcp::repr from_peer(std::uint16_t src, std::uint16_t dst, std::uint32_t seq, std::uint32_t ack, wire_tcp::flags f) {
  wire_tcp::repr r;
  r.source_port = src;
  r.destination_port = dst;
  r.sequence_number = seq;
  r.acknowledgment_number = ack;
  r.flags = f;
  r.window = 64240;
  return r;
}

wire_tcp::repr syn(std::uint16_t src, std::uint16_t dst, std::uint32_t seq) {
  auto r = from_peer(src, dst, seq, 0, flags::syn);
  r.options.mss = 1460;
  return r;
}

/// SYN from the peer, our SYN-ACK, the peer's ACK: returns our ISS.
std::uint32_t handshake(layer_fixture& f, std::uint16_t src, std::uint16_t dst, std::uint32_t seq) {
  f.ip.deliver(segment(syn(src, dst, seq)));
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  REQUIRE(sent[0].flags == (flags::syn | flags::ack));
  const std::uint32_t iss = sent[0].sequence_number;
  f.ip.deliver(segment(from_peer(src, dst, seq + 1, iss + 1, flags::ack)));
  return iss;
}

}  // namespace

TEST_CASE("RFC 9293 3.10.7.2: a SYN to a listener is answered with SYN-ACK and waits in the SYN queue, then the accept queue") {
  layer_fixture f;
  auto l = f.tcp.listen(80);
  REQUIRE(l);
  f.ip.deliver(segment(syn(40000, 80, 1000)));
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flags == (flags::syn | flags::ack));
  CHECK(sent[0].acknowledgment_number == 1001);
  CHECK(sent[0].source_port == 80);
  CHECK(sent[0].destination_port == 40000);
  CHECK(sent[0].options.mss == 1460);  // RFC 9293 3.7.1: ip.mtu() 1480 - 20
  CHECK(f.tcp.syn_queue_length(*l) == 1);
  CHECK(f.tcp.accept_queue_length(*l) == 0);
  CHECK_FALSE(f.tcp.accept(*l));

  f.ip.deliver(segment(from_peer(40000, 80, 1001, sent[0].sequence_number + 1, flags::ack)));
  CHECK(f.take_sent().empty());
  CHECK(f.tcp.syn_queue_length(*l) == 0);
  CHECK(f.tcp.accept_queue_length(*l) == 1);
  auto c = f.tcp.accept(*l);
  REQUIRE(c);
  CHECK(f.tcp.find(*c)->current_state() == tcp::state::established);
  CHECK(f.tcp.find(*c)->tuple().remote == uk::ipv4_endpoint{peer_ip, 40000});
  CHECK(f.tcp.accept_queue_length(*l) == 0);
}

TEST_CASE("RFC 9293 3.10.7.2: the ISS of a passive open comes from the RFC 6528 generator, per tuple") {
  layer_fixture f;
  REQUIRE(f.tcp.listen(80));
  f.ip.deliver(segment(syn(40000, 80, 1000)));
  f.ip.deliver(segment(syn(40001, 80, 1000)));
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 2);
  const tcp::isn_generator isn(fixed_secrets().isn);
  CHECK(sent[0].sequence_number == isn({our_ip, 80}, {peer_ip, 40000}, f.clock.now));
  CHECK(sent[1].sequence_number == isn({our_ip, 80}, {peer_ip, 40001}, f.clock.now));
}

TEST_CASE("Backlog: a SYN is dropped and counted while the accept queue is full (smoltcp #852)") {
  layer_fixture f;
  tcp::listen_options backlog;
  backlog.accept_queue = 1;
  auto l = f.tcp.listen(80, backlog);
  REQUIRE(l);
  handshake(f, 40000, 80, 1000);
  CHECK(f.tcp.accept_queue_length(*l) == 1);
  f.ip.deliver(segment(syn(40001, 80, 5000)));
  CHECK(f.take_sent().empty());
  CHECK(f.tcp.counters().accept_queue_full == 1);
  CHECK(f.tcp.connection_count() == 1);
  // Once the application accepts, the next SYN is answered.
  REQUIRE(f.tcp.accept(*l));
  f.ip.deliver(segment(syn(40001, 80, 5000)));
  CHECK(f.take_sent().size() == 1);
}

TEST_CASE("RFC 6298 / IncludeOS #542: the layer's poll retransmits a SYN-ACK, then gives up and frees the SYN queue") {
  layer_fixture f;
  auto l = f.tcp.listen(80);
  REQUIRE(l);
  f.ip.deliver(segment(syn(40000, 80, 1000)));
  auto first = f.take_sent();
  REQUIRE(first.size() == 1);
  // RFC 6298 2.1: the first retransmission after the initial RTO of 1 s.
  CHECK(f.tcp.next_deadline() == f.clock.now + 1s);
  f.clock.now += 999ms;
  f.tcp.poll(f.clock.now);
  CHECK(f.take_sent().empty());
  f.clock.now += 1ms;
  f.tcp.poll(f.clock.now);
  auto again = f.take_sent();
  REQUIRE(again.size() == 1);
  CHECK(again[0].flags == (flags::syn | flags::ack));
  CHECK(again[0].sequence_number == first[0].sequence_number);
  // Polling at each deadline: the retries run out and the connection leaves every table.
  for (int i = 0; i < 20 && f.tcp.connection_count() > 0; ++i) {
    f.clock.now = f.tcp.next_deadline();
    f.tcp.poll(f.clock.now);
  }
  CHECK(f.tcp.connection_count() == 0);
  CHECK(f.tcp.syn_queue_length(*l) == 0);
  CHECK(f.tcp.next_deadline() == uk::never);
}

TEST_CASE("RFC 6191: a SYN with a higher timestamp reincarnates a tuple in TIME-WAIT") {
  layer_fixture f;
  auto l = f.tcp.listen(80);
  REQUIRE(l);
  auto s = syn(40000, 80, 1000);
  s.options.timestamps = wire_tcp::timestamps_option{100, 0};
  f.ip.deliver(segment(s));
  auto synack = f.take_sent();
  REQUIRE(synack.size() == 1);
  REQUIRE(synack[0].options.timestamps);
  const std::uint32_t iss = synack[0].sequence_number, our_ts = synack[0].options.timestamps->tsval;
  auto ack = from_peer(40000, 80, 1001, iss + 1, flags::ack);
  ack.options.timestamps = wire_tcp::timestamps_option{101, our_ts};
  f.ip.deliver(segment(ack));
  auto c = f.tcp.accept(*l);
  REQUIRE(c);
  // We close first: FIN; the peer ACKs it and sends its FIN: TIME-WAIT.
  f.tcp.close(*c, f.clock.now);
  f.tcp.release(*c, f.clock.now);
  auto fin = f.take_sent();
  REQUIRE(fin.size() == 1);
  CHECK(fin[0].flags.has(flags::fin));
  auto peer_fin = from_peer(40000, 80, 1001, iss + 2, flags::fin | flags::ack);
  peer_fin.options.timestamps = wire_tcp::timestamps_option{102, fin[0].options.timestamps->tsval};
  f.ip.deliver(segment(peer_fin));
  f.take_sent();
  REQUIRE(f.tcp.connection_count() == 1);
  bool in_time_wait = false;
  f.tcp.for_each_connection([&](const tcp::connection& k) { in_time_wait = k.current_state() == tcp::state::time_wait; });
  REQUIRE(in_time_wait);

  // A new SYN for the same tuple, its timestamp beyond TS.Recent: a new connection at once.
  f.clock.now += 1s;
  auto again = syn(40000, 80, 500);  // even with a lower ISN (RFC 6191 2)
  again.options.timestamps = wire_tcp::timestamps_option{2000, 0};
  f.ip.deliver(segment(again));
  auto reply = f.take_sent();
  REQUIRE(reply.size() == 1);
  CHECK(reply[0].flags == (flags::syn | flags::ack));
  CHECK(reply[0].acknowledgment_number == 501);
  CHECK(f.tcp.counters().time_wait_reused == 1);
  CHECK(f.tcp.syn_queue_length(*l) == 1);
  CHECK(f.tcp.connection_count() == 1);
}

TEST_CASE("RFC 9293 3.10.7.4 / mirage-tcpip #489: TIME-WAIT ends after 2 MSL and the connection is freed") {
  tcp::layer_options o;
  o.connection.msl = 5s;
  layer_fixture f(o);
  auto l = f.tcp.listen(80);
  REQUIRE(l);
  const auto iss = handshake(f, 40000, 80, 1000);
  auto c = f.tcp.accept(*l);
  REQUIRE(c);
  f.tcp.close(*c, f.clock.now);
  f.tcp.release(*c, f.clock.now);
  f.take_sent();
  f.ip.deliver(segment(from_peer(40000, 80, 1001, iss + 2, flags::fin | flags::ack)));
  f.take_sent();
  REQUIRE(f.tcp.connection_count() == 1);
  // The layer may wake early once for a timer that moved later (the FIN's
  // retransmission timer, now off); that wake finds nothing due and re-arms
  // at the end of TIME-WAIT.
  const uk::instant wake = f.tcp.next_deadline();
  REQUIRE(wake <= f.clock.now + 10s);
  if (wake < f.clock.now + 10s) CHECK(f.tcp.poll(wake) == f.clock.now + 10s);
  CHECK(f.tcp.connection_count() == 1);
  f.clock.now += 10s;
  CHECK(f.tcp.poll(f.clock.now) == uk::never);
  CHECK(f.tcp.connection_count() == 0);
  CHECK(f.tcp.counters().connections_freed == 1);
}

TEST_CASE("Closing a listener resets the connections waiting in its queues") {
  layer_fixture f;
  auto l = f.tcp.listen(80);
  REQUIRE(l);
  handshake(f, 40000, 80, 1000);              // in the accept queue
  f.ip.deliver(segment(syn(40001, 80, 7000)));  // in the SYN queue
  f.take_sent();
  REQUIRE(f.tcp.connection_count() == 2);
  f.tcp.close_listener(*l, f.clock.now);
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].flags.has(flags::rst));
  CHECK(sent[1].flags.has(flags::rst));
  CHECK(f.tcp.connection_count() == 0);
  // The port is closed now: a SYN draws a RST.
  f.ip.deliver(segment(syn(40002, 80, 1)));
  sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flags == (flags::rst | flags::ack));
}

TEST_CASE("Active open: connect sends a SYN from an ephemeral port, a RST answer frees the connection as refused") {
  layer_fixture f;
  auto c = f.tcp.connect({peer_ip, 80}, f.clock.now);
  REQUIRE(c);
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flags == flags::syn);
  CHECK(sent[0].source_port >= 49152);
  CHECK(sent[0].options.mss == 1460);
  auto rst = from_peer(80, sent[0].source_port, 0, sent[0].sequence_number + 1, flags::rst | flags::ack);
  f.ip.deliver(segment(rst));
  const auto* conn = f.tcp.find(*c);
  REQUIRE(conn);  // still held by the application
  CHECK(conn->current_state() == tcp::state::closed);
  CHECK(conn->last_error() == tcp::error::refused);
  f.tcp.release(*c, f.clock.now);
  CHECK(f.tcp.connection_count() == 0);
  CHECK_FALSE(f.tcp.find(*c));  // the handle is stale
}

TEST_CASE("The IP layer refusing a segment is counted, and the connection treats it as lost") {
  layer_fixture f;
  f.ip.refuse = true;
  auto c = f.tcp.connect({peer_ip, 80}, f.clock.now);
  REQUIRE(c);
  CHECK(f.tcp.counters().tx_dropped == 1);
  f.ip.refuse = false;
  f.clock.now = f.tcp.next_deadline();  // the SYN's retransmission timer
  f.tcp.poll(f.clock.now);
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flags == flags::syn);
}

TEST_CASE("RFC 5961 7: challenge ACKs share one budget per second across all connections") {
  tcp::layer_options o;
  o.challenge_acks_per_second = 2;
  layer_fixture f(o);
  auto l = f.tcp.listen(80);
  REQUIRE(l);
  handshake(f, 40000, 80, 1000);
  handshake(f, 40001, 80, 2000);
  f.take_sent();
  // RFC 5961 4.2: a SYN on a synchronized connection draws a challenge ACK, not a reset.
  f.ip.deliver(segment(syn(40000, 80, 1001)));
  f.ip.deliver(segment(syn(40001, 80, 2001)));
  f.ip.deliver(segment(syn(40000, 80, 1001)));  // the third within the second: held back
  auto sent = f.take_sent();
  CHECK(sent.size() == 2);
  for (const auto& s : sent) CHECK(s.flags == flags::ack);
  CHECK(f.tcp.counters().challenge_acks_limited == 1);
  // A second later the budget is back.
  f.clock.now += 1s;
  f.ip.deliver(segment(syn(40001, 80, 2001)));
  CHECK(f.take_sent().size() == 1);
}
