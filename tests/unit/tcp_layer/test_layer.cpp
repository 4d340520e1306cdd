// The TCP packet layer over an IPv4 double: demultiplexing, resets for
// segments nobody wants (RFC 9293 3.10.7.1), listeners and their backlog,
// SYN cookies (RFC 4987 3.6), ephemeral ports and the connection cap.
#include <catch2/catch.hpp>

#include "layer_fixture.hpp"

#include <uk/direct/tcp/keys.hpp>
#include <uk/keys.hpp>

using namespace uk::test::tcp;
using uk::ipv4_address;
using wire_tcp::flags;
namespace tcp = uk::direct::tcp;

namespace {

wire_tcp::repr syn_to(std::uint16_t port, std::uint32_t seq = 1000) {
  wire_tcp::repr r;
  r.source_port = 40000;
  r.destination_port = port;
  r.sequence_number = seq;
  r.flags = flags::syn;
  r.window = 64240;
  r.options.mss = 1460;
  return r;
}

}  // namespace

TEST_CASE("RFC 9293 3.10.7.1: a SYN to a closed port is answered <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>") {
  layer_fixture f;
  f.ip.deliver(segment(syn_to(81, 1000)));
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flags == (flags::rst | flags::ack));
  CHECK(sent[0].sequence_number == 0);
  CHECK(sent[0].acknowledgment_number == 1001);  // the SYN counts one
  CHECK(sent[0].source_port == 81);
  CHECK(sent[0].destination_port == 40000);
  CHECK(sent[0].payload_length == 0);
  CHECK(f.tcp.counters().rx_no_connection == 1);
  CHECK(f.tcp.counters().tx_resets == 1);
}

TEST_CASE("RFC 9293 3.10.7.1: SEG.LEN counts data and FIN") {
  layer_fixture f;
  wire_tcp::repr r;
  r.source_port = 40000;
  r.destination_port = 81;
  r.sequence_number = 0xfffffff0u;
  r.flags = flags::fin | flags::psh;
  f.ip.deliver(segment(r, "0123456789abcdef"));
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].acknowledgment_number == 0x00000001u);  // 0xfffffff0 + 16 + 1, modulo 2^32
}

TEST_CASE("RFC 9293 3.10.7.1: an ACK to no connection is answered <SEQ=SEG.ACK><CTL=RST>") {
  layer_fixture f;
  wire_tcp::repr r;
  r.source_port = 40000;
  r.destination_port = 81;
  r.sequence_number = 5;
  r.acknowledgment_number = 777;
  r.flags = flags::ack;
  f.ip.deliver(segment(r, "data"));
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flags == flags::rst);
  CHECK(sent[0].sequence_number == 777);
}

TEST_CASE("RFC 9293 3.10.7.1: a RST to no connection is discarded, never answered") {
  layer_fixture f;
  wire_tcp::repr r;
  r.source_port = 40000;
  r.destination_port = 81;
  r.flags = flags::rst | flags::ack;
  f.ip.deliver(segment(r));
  CHECK(f.take_sent().empty());
  CHECK(f.tcp.counters().tx_resets == 0);
}

TEST_CASE("RFC 9293 3.1: a segment whose checksum does not verify is dropped and counted (mirage-tcpip #217)") {
  layer_fixture f;
  auto s = segment(syn_to(81));
  s[4] ^= std::byte{1};
  f.ip.deliver(s);
  CHECK(f.take_sent().empty());
  CHECK(f.tcp.counters().rx_bad_checksum == 1);
  // The pseudo-header is covered: the same bytes from another source fail too.
  f.ip.deliver(segment(syn_to(81)), *ipv4_address::parse("10.0.0.9"));
  CHECK(f.tcp.counters().rx_bad_checksum == 2);
  // Truncated header.
  auto t = segment(syn_to(81));
  f.ip.deliver(std::span(t).first(12));
  CHECK(f.tcp.counters().rx_malformed == 1);
  CHECK(f.tcp.counters().rx_segments == 0);
}

TEST_CASE("RFC 1122 4.2.3.10: segments from or to broadcast and multicast addresses are dropped unanswered") {
  layer_fixture f;
  const auto bcast = *ipv4_address::parse("10.0.0.255");
  const auto mcast = *ipv4_address::parse("224.0.0.1");
  f.ip.deliver(segment(syn_to(81), {}, peer_ip, bcast), peer_ip, bcast);
  f.ip.deliver(segment(syn_to(81), {}, peer_ip, mcast), peer_ip, mcast);
  f.ip.deliver(segment(syn_to(81), {}, mcast, our_ip), mcast, our_ip);
  CHECK(f.take_sent().empty());
  CHECK(f.tcp.counters().rx_bad_address == 3);
}

TEST_CASE("RFC 9293 3.10.7.2: in LISTEN an incoming RST is ignored and an ACK draws a RST") {
  layer_fixture f;
  tcp::listen_options backlog;
  backlog.syn_cookies = false;
  REQUIRE(f.tcp.listen(80, backlog));
  wire_tcp::repr r;
  r.source_port = 40000;
  r.destination_port = 80;
  r.flags = flags::rst;
  f.ip.deliver(segment(r));
  CHECK(f.take_sent().empty());
  r.flags = flags::ack;
  r.acknowledgment_number = 4242;
  f.ip.deliver(segment(r));
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flags == flags::rst);
  CHECK(sent[0].sequence_number == 4242);
}

TEST_CASE("Listeners: one per port, a bounded table, port 0 picks a free ephemeral port") {
  tcp::layer_options o;
  o.max_listeners = 2;
  layer_fixture f(o);
  auto a = f.tcp.listen(80);
  REQUIRE(a);
  CHECK_FALSE(f.tcp.listen(80));
  auto b = f.tcp.listen(0);
  REQUIRE(b);
  CHECK(f.tcp.listener_port(*b) >= 49152);
  CHECK_FALSE(f.tcp.listen(81));
  CHECK(f.tcp.counters().listeners_full == 1);
  f.tcp.close_listener(*a, f.clock.now);
  CHECK_FALSE(f.tcp.is_listening(*a));
  CHECK(f.tcp.listen(81));  // the closed one's place is free again
  CHECK(f.tcp.listener_count() == 2);
}

TEST_CASE("RFC 4987 3.6: with a full SYN queue a listener answers with a SYN cookie, and its ACK opens the connection") {
  layer_fixture f;
  tcp::listen_options backlog;
  backlog.syn_queue = 0;  // every SYN overflows
  auto l = f.tcp.listen(80, backlog);
  REQUIRE(l);
  auto syn = syn_to(80, 5000);
  syn.options.window_scale = 7;
  syn.options.timestamps = wire_tcp::timestamps_option{111, 0};
  f.ip.deliver(segment(syn));
  auto sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  const auto& synack = sent[0];
  CHECK(synack.flags == (flags::syn | flags::ack));
  CHECK(synack.acknowledgment_number == 5001);
  CHECK(synack.options.mss == 1460);  // ip.mtu() 1480 - 20
  REQUIRE(synack.options.timestamps);
  CHECK(synack.options.timestamps->tsecr == 111);
  CHECK(synack.options.window_scale);  // the peer offered one, so we answer with ours
  CHECK(f.tcp.connection_count() == 0);  // no state kept
  CHECK(f.tcp.counters().syn_queue_full == 1);
  CHECK(f.tcp.counters().syn_cookies_sent == 1);

  // The final ACK echoes the cookie.
  wire_tcp::repr ack;
  ack.source_port = 40000;
  ack.destination_port = 80;
  ack.sequence_number = 5001;
  ack.acknowledgment_number = synack.sequence_number + 1;
  ack.flags = flags::ack;
  ack.window = 502;
  ack.options.timestamps = wire_tcp::timestamps_option{112, synack.options.timestamps->tsval};
  f.clock.now += 100ms;
  f.ip.deliver(segment(ack));
  CHECK(f.tcp.counters().syn_cookies_accepted == 1);
  CHECK(f.tcp.counters().syn_cookies_rejected == 0);
  CHECK(f.take_sent().empty());  // accepted silently
  // The connection is established, with what the cookie and the timestamp kept.
  REQUIRE(f.tcp.accept_queue_length(*l) == 1);
  auto c = f.tcp.accept(*l);
  REQUIRE(c);
  const auto* conn = f.tcp.find(*c);
  REQUIRE(conn);
  CHECK(conn->current_state() == tcp::state::established);
  CHECK(conn->send_window_scale() == 7);
  CHECK(conn->receive_window_scale() == *synack.options.window_scale);
  CHECK(conn->timestamps_enabled());
  CHECK(conn->send_next().value == synack.sequence_number + 1);
  CHECK(conn->receive_next().value == 5001);

  // A forged cookie is answered as any ACK to a listener: RST.
  ack.source_port = 40001;
  f.ip.deliver(segment(ack));
  CHECK(f.tcp.counters().syn_cookies_rejected == 1);
  sent = f.take_sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flags == flags::rst);
}

TEST_CASE("RFC 4987 3.6: without cookies a SYN beyond the SYN queue is dropped and counted") {
  layer_fixture f;
  tcp::listen_options backlog;
  backlog.syn_queue = 0;
  backlog.syn_cookies = false;
  REQUIRE(f.tcp.listen(80, backlog));
  f.ip.deliver(segment(syn_to(80)));
  CHECK(f.take_sent().empty());
  CHECK(f.tcp.counters().syn_queue_full == 1);
}

TEST_CASE("RFC 6056: 100000 sequential connects and closes never run out of ports (mirage-tcpip #462)") {
  tcp::layer_options o;
  o.connection.send_buffer = o.connection.receive_buffer = 1024;  // small: the test is about ports
  layer_fixture f(o);
  const uk::ipv4_endpoint server{peer_ip, 80};
  for (int i = 0; i < 100000; ++i) {
    auto c = f.tcp.connect(server, f.clock.now);
    if (!c) FAIL("connect " << i << " failed");
    f.tcp.abort(*c, f.clock.now);
    f.tcp.release(*c, f.clock.now);
    f.ip.sent.clear();
    f.clock.now += 1ms;
  }
  CHECK(f.tcp.connection_count() == 0);
  CHECK(f.tcp.slot_count() == 1);  // the one slot was reused every time
  CHECK(f.tcp.counters().ports_exhausted == 0);
  CHECK(f.tcp.counters().connections_freed == 100000);
}

TEST_CASE("The connection cap refuses connects beyond max_connections, and counts them") {
  tcp::layer_options o;
  o.max_connections = 3;
  layer_fixture f(o);
  std::vector<tcp::connection_handle> held;
  for (int i = 0; i < 3; ++i) {
    auto c = f.tcp.connect({peer_ip, 80}, f.clock.now);
    REQUIRE(c);
    held.push_back(*c);
  }
  auto refused = f.tcp.connect({peer_ip, 80}, f.clock.now);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == tcp::layer<ipv4_double>::connect_error::too_many_connections);
  CHECK(f.tcp.counters().connection_cap_hit == 1);
  // Three held connections use three different ports.
  std::set<std::uint16_t> ports;
  for (auto h : held) ports.insert(f.tcp.find(h)->tuple().local.port);
  CHECK(ports.size() == 3);
}


TEST_CASE("tcp keys: --tcp-congestion and --tcp-sack reach every connection's config (CUBIC and SACK by default)") {
  namespace tk = uk::direct::tcp;
  const auto defaults = uk::parse_keys<tk::msl_key, tk::max_connections_key, tk::buffer_key, tk::congestion_key,
                                       tk::sack_key>("t", {});
  REQUIRE(defaults);
  CHECK(tk::options_from(*defaults).connection.congestion == tk::congestion_algorithm::cubic);
  CHECK(tk::options_from(*defaults).connection.sack);

  const char* argv[] = {"--tcp-congestion=newreno", "--no-tcp-sack"};
  const auto chosen = uk::parse_keys<tk::msl_key, tk::max_connections_key, tk::buffer_key, tk::congestion_key,
                                     tk::sack_key>("t", std::span<const char* const>(argv, 2));
  REQUIRE(chosen);
  CHECK(tk::options_from(*chosen).connection.congestion == tk::congestion_algorithm::newreno);
  CHECK_FALSE(tk::options_from(*chosen).connection.sack);

  const char* wrong[] = {"--tcp-congestion=bbr"};
  CHECK_FALSE(uk::parse_keys<tk::congestion_key>("t", std::span<const char* const>(wrong, 1)));
}
