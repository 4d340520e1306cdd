// Packet-level fixture for the TCP core, in the style of smoltcp's socket
// tests: a connection is put in a state, fed exact segments at exact virtual
// times, and every segment it sends is captured for exact assertions.
//
// "Local" is the connection under test (10.0.0.1:80), "remote" the peer
// (10.0.0.2:49152). The local ISS is 1000 and the remote ISS 5000 unless a
// test says otherwise, so sequence numbers read like the RFC's figures.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "uk/direct/tcp/connection.hpp"

namespace uk::test::tcp {

using namespace std::chrono_literals;
using uk::never;
using uk::instant;
using uk::duration;
using uk::direct::tcp::connection;
using uk::direct::tcp::connection_config;
using uk::direct::tcp::connection_counters;
using uk::direct::tcp::connection_environment;
using uk::direct::tcp::four_tuple;
using uk::direct::tcp::outgoing_segment;
using uk::direct::tcp::seq;
using uk::direct::tcp::state;
using uk::direct::tcp::error;
namespace wire = uk::wire::tcp;
using wire::flags;

inline const ipv4_address local_address = ipv4_address::from_octets(10, 0, 0, 1);
inline const ipv4_address remote_address = ipv4_address::from_octets(10, 0, 0, 2);
inline constexpr std::uint16_t local_port = 80, remote_port = 49152;
inline constexpr std::uint32_t local_iss = 1000, remote_iss = 5000;

inline std::string describe(const wire::repr& r) {
  std::string f;
  if (r.flags.has(flags::syn)) f += "S";
  if (r.flags.has(flags::fin)) f += "F";
  if (r.flags.has(flags::rst)) f += "R";
  if (r.flags.has(flags::psh)) f += "P";
  if (r.flags.has(flags::ack)) f += ".";
  std::string o;
  if (r.options.mss) o += fmt::format(" mss={}", *r.options.mss);
  if (r.options.window_scale) o += fmt::format(" ws={}", *r.options.window_scale);
  if (r.options.timestamps) o += fmt::format(" ts={}/{}", r.options.timestamps->tsval, r.options.timestamps->tsecr);
  if (r.options.sack_permitted) o += " sackOK";
  for (const auto& b : r.options.sack()) o += fmt::format(" sack={}-{}", b.left_edge, b.right_edge);
  return fmt::format("[{} seq={} ack={} win={} len={}{}]", f, r.sequence_number, r.acknowledgment_number,
                     r.window, r.payload_length, o);
}

/// A segment the connection sent: its header and a copy of its payload.
struct sent_segment {
  wire::repr header;
  std::vector<std::byte> payload;
};

/// The segment the peer sends, described field by field.
struct segment {
  flags f{};
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 65535;
  std::vector<std::byte> payload{};
  wire::options options{};
};

inline std::vector<std::byte> data(std::size_t n, std::uint8_t first = 0) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(static_cast<std::uint8_t>(first + i));
  return v;
}

struct fixture {
  connection_config config = default_config();
  std::vector<sent_segment> sent;
  bool challenge_allowed = true;
  bool sink_accepts = true;
  unsigned changes = 0;
  instant now{std::chrono::seconds{100}};
  connection_counters counters;
  connection_environment env;
  std::unique_ptr<connection> conn;

  static connection_config default_config() {
    connection_config c;
    c.initial_window_segments = 4;  // the RFC 5681 examples: IW = 4 * SMSS for SMSS 1000
    c.congestion = uk::direct::tcp::congestion_algorithm::newreno;  // the RFC 5681 / 6582 examples
    c.send_buffer = 16384;
    c.receive_buffer = 16384;
    c.timestamps = false;
    c.window_scaling = false;
    return c;
  }

  bool on_send(const four_tuple& t, const outgoing_segment& s) {
    REQUIRE(t == tuple());
    sent_segment out{s.header, {}};
    for (const auto& piece : s.payload) out.payload.insert(out.payload.end(), piece.begin(), piece.end());
    REQUIRE(out.payload.size() == s.header.payload_length);
    sent.push_back(std::move(out));
    return sink_accepts;
  }
  bool on_challenge(instant) { return challenge_allowed; }
  /// TSval: milliseconds of virtual time (RFC 7323 5.4 allows any monotonic 1 ms..1 s clock).
  std::uint32_t on_timestamp(instant t) {
    return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  }
  void on_change() { ++changes; }

  static four_tuple tuple() { return {{local_address, local_port}, {remote_address, remote_port}}; }

  connection& make() {
    env.counters = &counters;
    env.send = uk::direct::tcp::segment_sink::bind<&fixture::on_send>(*this);
    env.challenge_ack_allowed = delegate<bool(instant)>::bind<&fixture::on_challenge>(*this);
    env.timestamp_clock = delegate<std::uint32_t(instant)>::bind<&fixture::on_timestamp>(*this);
    conn = std::make_unique<connection>(tuple(), config, env);
    conn->set_change_handler(delegate<void()>::bind<&fixture::on_change>(*this));
    return *conn;
  }

  /// Bytes of a segment from the peer, checksummed as on the wire.
  static std::vector<std::byte> bytes(const segment& s) {
    wire::repr r;
    r.source_port = remote_port;
    r.destination_port = local_port;
    r.sequence_number = s.seq;
    r.acknowledgment_number = s.ack;
    r.flags = s.f;
    r.window = s.window;
    r.options = s.options;
    r.payload_length = s.payload.size();
    std::vector<std::byte> out(r.buffer_length());
    std::copy(s.payload.begin(), s.payload.end(), out.begin() + static_cast<std::ptrdiff_t>(r.header_length()));
    wire::emit(r, out, remote_address, local_address);
    return out;
  }

  /// Feeds the peer's segment to the connection (after the layer's checks: parse with checksum).
  void receive(const segment& s) {
    const auto b = bytes(s);
    auto parsed = wire::parse(b, remote_address, local_address);
    REQUIRE(parsed.has_value());
    conn->on_segment(*parsed, now);
  }

  wire::view syn_view(const segment& s, std::vector<std::byte>& storage) {
    storage = bytes(s);
    return *wire::parse(storage, remote_address, local_address);
  }

  /// Advances virtual time and polls.
  void advance(duration d) {
    now += d;
    conn->poll(now);
  }
  /// Jumps to the connection's next deadline and polls; returns how far that was.
  duration run_to_deadline() {
    const instant at = conn->next_deadline();
    REQUIRE(at != never);
    const duration d = at - now;
    now = at;
    conn->poll(now);
    return d;
  }

  std::vector<sent_segment> take() {
    auto out = std::move(sent);
    sent.clear();
    return out;
  }

  /// The header we expect from the connection (no options unless given).
  static wire::repr ours(flags f, std::uint32_t s, std::uint32_t a, std::uint16_t window,
                         std::size_t payload_length = 0, wire::options o = {}) {
    wire::repr r;
    r.source_port = local_port;
    r.destination_port = remote_port;
    r.sequence_number = s;
    r.acknowledgment_number = a;
    r.flags = f;
    r.window = window;
    r.options = o;
    r.payload_length = payload_length;
    return r;
  }

  // ------------------------------------------------ states set by the fixture

  /// A peer's SYN (remote ISS 5000), with the given options.
  segment peer_syn(wire::options o = {}) const {
    return segment{flags::syn, remote_iss, 0, 65535, {}, o};
  }

  /// The round trip of the fixture's handshake: RFC 6298 2.2 gives SRTT 100 ms,
  /// RTTVAR 50 ms, RTO 300 ms once ESTABLISHED.
  duration handshake_rtt = 100ms;

  /// Passive open through to ESTABLISHED: SYN in, SYN-ACK out, ACK in. after handshake_rtt.
  connection& established(wire::options syn_options = {}) {
    make();
    std::vector<std::byte> storage;
    conn->open_from_syn(seq{local_iss}, syn_view(peer_syn(syn_options), storage), now);
    now += handshake_rtt;
    receive({flags::ack, remote_iss + 1, local_iss + 1, 65535, {}, ack_options()});
    REQUIRE(conn->current_state() == state::established);
    take();
    return *conn;
  }

  /// Timestamps for the peer's segments when the test negotiated them.
  std::optional<wire::timestamps_option> peer_ts;
  wire::options ack_options() const {
    wire::options o;
    if (peer_ts) o.timestamps = peer_ts;
    return o;
  }

  /// The peer acknowledges everything up to `ack`.
  void peer_acks(std::uint32_t ack, std::uint16_t window = 65535, std::uint32_t peer_seq = remote_iss + 1) {
    receive({flags::ack, peer_seq, ack, window, {}, ack_options()});
  }
};

}  // namespace uk::test::tcp

namespace Catch {
template <>
struct StringMaker<uk::wire::tcp::repr> {
  static std::string convert(const uk::wire::tcp::repr& r) { return uk::test::tcp::describe(r); }
};
}  // namespace Catch
