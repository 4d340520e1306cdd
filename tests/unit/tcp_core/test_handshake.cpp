// Opening a connection: RFC 9293 3.5 (three-way handshake, simultaneous
// open), 3.10.7.3 (SYN-SENT), 3.7.1 (MSS), RFC 7323 (window scale, timestamps).
#include "unit/tcp_core/fixture.hpp"

using namespace uk::test::tcp;

namespace {
wire::options mss_option(std::uint16_t mss) {
  wire::options o;
  o.mss = mss;
  return o;
}
}  // namespace

TEST_CASE("RFC 9293 3.5 figure 6: active open sends SYN, SYN-ACK in, ACK out, ESTABLISHED") {
  fixture f;
  auto& c = f.make();
  c.open(seq{local_iss}, f.now);
  CHECK(c.current_state() == state::syn_sent);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  wire::options offered = mss_option(1460);
  offered.sack_permitted = true;  // RFC 2018 2 (connection_config::sack)
  CHECK(out[0].header == fixture::ours(flags::syn, local_iss, 0, 16384, 0, offered));
  CHECK_FALSE(c.sack_enabled());

  wire::options o = mss_option(1400);
  f.receive({flags::syn | flags::ack, remote_iss, local_iss + 1, 30000, {}, o});
  CHECK(c.current_state() == state::established);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::ack, local_iss + 1, remote_iss + 1, 16384));
  CHECK(c.send_mss() == 1400);
  CHECK(c.send_window() == 30000);
  CHECK(c.next_deadline() == never);  // nothing outstanding, no keep-alive
}

TEST_CASE("RFC 9293 3.10.7.2: a SYN to a listener gets a SYN-ACK, its ACK makes the connection ESTABLISHED") {
  fixture f;
  auto& c = f.make();
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(mss_option(1200)), storage), f.now);
  CHECK(c.current_state() == state::syn_received);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::syn | flags::ack, local_iss, remote_iss + 1, 16384, 0, mss_option(1460)));
  f.receive({flags::ack, remote_iss + 1, local_iss + 1, 65535});
  CHECK(c.current_state() == state::established);
  CHECK(f.take().empty());
  CHECK(c.send_mss() == 1200);
}

TEST_CASE("RFC 9293 3.7.1: without an MSS option the send MSS is 536, and never above our own (the MTU clamp)") {
  SECTION("no option") {
    fixture f;
    f.established();
    CHECK(f.conn->send_mss() == 536);
  }
  SECTION("a peer MSS above ours is clamped to ours") {
    fixture f;
    f.config.mss = 1000;
    f.established(mss_option(9000));
    CHECK(f.conn->send_mss() == 1000);
  }
  SECTION("an absurdly small peer MSS is raised to the floor, counted") {
    fixture f;
    f.established(mss_option(1));
    CHECK(f.conn->send_mss() == connection::min_send_mss);
    CHECK(f.conn->counters().peer_mss_raised == 1);
  }
}

TEST_CASE("RFC 9293 3.5 figure 7: simultaneous open goes SYN-SENT, SYN-RECEIVED, ESTABLISHED") {
  fixture f;
  auto& c = f.make();
  c.open(seq{local_iss}, f.now);
  f.take();
  f.receive({flags::syn, remote_iss, 0, 65535, {}, mss_option(1460)});
  CHECK(c.current_state() == state::syn_received);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::syn | flags::ack, local_iss, remote_iss + 1, 16384, 0, mss_option(1460)));
  // The peer's own SYN-ACK repeats its SYN (already received) and acknowledges ours.
  f.receive({flags::syn | flags::ack, remote_iss, local_iss + 1, 65535, {}, mss_option(1460)});
  CHECK(c.current_state() == state::established);
  CHECK(f.take().empty());
}

TEST_CASE("RFC 9293 3.10.7.3: in SYN-SENT an unacceptable ACK gets <SEQ=SEG.ACK><CTL=RST>") {
  fixture f;
  auto& c = f.make();
  c.open(seq{local_iss}, f.now);
  f.take();
  f.receive({flags::syn | flags::ack, remote_iss, 777, 65535});
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::rst, 777, 0, 0));
  CHECK(c.current_state() == state::syn_sent);
}

TEST_CASE("RFC 9293 3.10.7.3: a RST with an acceptable ACK in SYN-SENT means connection refused") {
  fixture f;
  auto& c = f.make();
  c.open(seq{local_iss}, f.now);
  f.take();
  f.receive({flags::rst | flags::ack, 0, local_iss + 1, 0});
  CHECK(c.current_state() == state::closed);
  CHECK(c.last_error() == error::refused);
  CHECK(f.take().empty());
  CHECK(f.changes > 0);
}

TEST_CASE("RFC 5961 3.2 in SYN-SENT: a RST without an acceptable ACK is ignored") {
  fixture f;
  auto& c = f.make();
  c.open(seq{local_iss}, f.now);
  f.take();
  f.receive({flags::rst, 0, 0, 0});
  CHECK(c.current_state() == state::syn_sent);
  CHECK(f.take().empty());
}

TEST_CASE("RFC 7323 2: window scale is used only when both SYNs carry it, and a SYN's window is never scaled") {
  fixture f;
  f.config.window_scaling = true;
  f.config.receive_buffer = 1 << 20;
  auto& c = f.make();
  c.open(seq{local_iss}, f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.window == 65535);
  REQUIRE(out[0].header.options.window_scale);
  CHECK(*out[0].header.options.window_scale == 5);  // 2^20 >> 5 = 32768 fits 16 bits
  wire::options o = mss_option(1460);
  o.window_scale = 20;  // RFC 7323 2.3: above 14 is used as 14
  f.receive({flags::syn | flags::ack, remote_iss, local_iss + 1, 1000, {}, o});
  CHECK(c.send_window() == 1000);  // not scaled on the SYN-ACK
  CHECK(c.send_window_scale() == 14);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.window == (1 << 20) >> 5);
  f.peer_acks(local_iss + 1, 2, remote_iss + 1);
  CHECK(c.send_window() == 2u << 14);
}

TEST_CASE("RFC 7323 1.3: a peer that does not offer window scale gets unscaled windows") {
  fixture f;
  f.config.window_scaling = true;
  f.config.receive_buffer = 1 << 20;
  auto& c = f.make();
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(mss_option(1460)), storage), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].header.options.window_scale);  // the SYN-ACK answers only what the SYN offered
  f.receive({flags::ack, remote_iss + 1, local_iss + 1, 65535});
  CHECK(c.receive_window_scale() == 0);
  c.write(data(10), f.now);
  out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.window == 65535);
}

TEST_CASE("RFC 7323 3.2: timestamps negotiated on the SYN are sent on every segment, echoing TS.Recent") {
  fixture f;
  f.config.timestamps = true;
  auto& c = f.make();
  wire::options o = mss_option(1460);
  o.timestamps = wire::timestamps_option{777, 0};
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(o), storage), f.now);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].header.options.timestamps);
  CHECK(out[0].header.options.timestamps->tsecr == 777);
  CHECK(out[0].header.options.timestamps->tsval == 100000);  // the fixture's clock: ms of virtual time
  f.peer_ts = wire::timestamps_option{778, 100000};
  f.receive({flags::ack, remote_iss + 1, local_iss + 1, 65535, {}, f.ack_options()});
  CHECK(c.current_state() == state::established);
  CHECK(c.timestamps_enabled());
  CHECK(c.send_mss() == 1460 - 12);  // RFC 9293 3.7.1: the option bytes every segment carries
  c.write(data(5), f.now);
  out = f.take();
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].header.options.timestamps);
  CHECK(out[0].header.options.timestamps->tsecr == 778);
}

TEST_CASE("RFC 4987 3.6: the ACK answering a SYN cookie opens the connection straight to ESTABLISHED") {
  fixture f;
  f.config.timestamps = true;
  f.config.window_scaling = true;
  auto& c = f.make();
  connection::cookie_handshake cookie;
  cookie.iss = seq{local_iss};
  cookie.irs = seq{remote_iss};
  cookie.peer_mss = 1200;
  cookie.peer_window_scale = 2;
  cookie.timestamps = wire::timestamps_option{300, 0};
  wire::options o;
  o.timestamps = wire::timestamps_option{301, 99000};
  const auto ack = fixture::bytes({flags::ack, remote_iss + 1, local_iss + 1, 1000, data(10), o});
  c.open_from_cookie(cookie, *wire::parse(ack, remote_address, local_address), f.now);
  CHECK(c.current_state() == state::established);
  CHECK(c.readable() == 10);                // the ACK's data is taken
  CHECK(c.send_window() == 1000u << 2);     // its window is scaled
  CHECK(c.send_mss() == 1200 - 12);
  CHECK(c.timestamps_enabled());
  f.advance(40ms);
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header.acknowledgment_number == remote_iss + 11);
  REQUIRE(out[0].header.options.timestamps);
  CHECK(out[0].header.options.timestamps->tsecr == 301);
}

TEST_CASE("RFC 9293 3.10.7.4 fifth check: in SYN-RECEIVED an unacceptable ACK gets <SEQ=SEG.ACK><CTL=RST>") {
  fixture f;
  auto& c = f.make();
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(), storage), f.now);
  f.take();
  f.receive({flags::ack, remote_iss + 1, local_iss + 50, 65535});
  auto out = f.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].header == fixture::ours(flags::rst, local_iss + 50, 0, 0));
  CHECK(c.current_state() == state::syn_received);
}

TEST_CASE("RFC 9293 3.10.7.4 second check: a RST in a passive SYN-RECEIVED frees the connection") {
  fixture f;
  auto& c = f.make();
  std::vector<std::byte> storage;
  c.open_from_syn(seq{local_iss}, f.syn_view(f.peer_syn(), storage), f.now);
  f.receive({flags::rst, remote_iss + 1, 0, 0});
  CHECK(c.is_closed());
  CHECK(c.next_deadline() == never);
}

TEST_CASE("The change handler runs when data becomes readable and when the state changes") {
  fixture f;
  auto& c = f.established();
  const unsigned before = f.changes;
  f.receive({flags::ack, remote_iss + 1, local_iss + 1, 65535, data(10)});
  CHECK(f.changes == before + 1);
  f.receive({flags::ack | flags::fin, remote_iss + 11, local_iss + 1, 65535});
  CHECK(f.changes == before + 2);
  CHECK(c.current_state() == state::close_wait);
}
