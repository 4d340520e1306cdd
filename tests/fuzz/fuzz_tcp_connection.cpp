// libFuzzer target for the TCP connection state machine
// (uk::direct::tcp::connection, RFC 9293 3.10): arbitrary segments, time
// steps and application calls fed to a connection that starts in one of
// several states (SYN-SENT, SYN-RECEIVED, ESTABLISHED from a handshake or a
// SYN cookie, FIN-WAIT-1, CLOSE-WAIT, with and without timestamps and
// window scaling; SACK-permitted whenever the peer's SYN has options, so
// SACK blocks in either direction and RFC 6675 recovery are exercised).
//
// Input: byte 0 picks the starting state and options; then records, each an
// opcode byte and its operands:
//   0 L1 L0 bytes[L]  a segment whose SEQ and ACK are offsets from RCV.NXT
//                     and SND.UNA (so that most land near the windows)
//   1 L1 L0 bytes[L]  a segment with absolute SEQ and ACK
//   2 t1 t0           advance time by t milliseconds, then poll
//   3 n               write n * 37 bytes
//   4 n               read up to n * 37 bytes
//   5                 shutdown_send     6  close     7  abort
//   8                 run to the next deadline
// A segment's ports are forced to the connection's and its checksum
// recomputed, as the layer would only hand over verified segments of this tuple.
//
// Checks: nothing crashes or reads out of bounds (ASan/UBSan), every
// segment sent is well-formed and re-parses, payloads fit the MSS and the
// pieces add up, SACK blocks only once SACK is negotiated and within the
// 40 option bytes, buffers stay within their bounds, deadlines never lie in
// the past after a poll, and a closed connection sends nothing more.
#include <uk/direct/tcp/connection.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace tcp = uk::direct::tcp;
namespace wire = uk::wire::tcp;
using namespace std::chrono_literals;

namespace {

void expect(bool ok) {
  if (!ok) std::abort();
}

const tcp::four_tuple tuple{{uk::ipv4_address::from_octets(10, 0, 0, 1), 80},
                            {uk::ipv4_address::from_octets(10, 0, 0, 2), 40000}};

struct harness {
  std::unique_ptr<tcp::connection> conn;
  tcp::connection_config config;
  uk::instant now{std::chrono::seconds{10}};
  std::vector<std::byte> scratch;
  bool closed_seen = false;
  std::size_t sent_after_close = 0;

  bool on_send(const tcp::four_tuple& t, const tcp::outgoing_segment& s) {
    expect(t == tuple);
    expect(s.header.options.fits());
    expect(s.payload[0].size() + s.payload[1].size() == s.header.payload_length);
    if (!s.header.flags.has(wire::flags::syn)) expect(s.header.payload_length <= config.mss);
    if (s.header.options.sack_count > 0) {
      expect(conn->sack_enabled());
      expect(s.header.options.sack_count <= (s.header.options.timestamps ? 3u : 4u));
    }
    expect(s.header.buffer_length() <= 0xffff);
    std::vector<std::byte> bytes(s.header.buffer_length());
    std::size_t at = s.header.header_length();
    for (const auto& p : s.payload) {
      std::copy(p.begin(), p.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at));
      at += p.size();
    }
    wire::emit(s.header, bytes, t.local.address, t.remote.address);
    const auto parsed = wire::parse(bytes, t.local.address, t.remote.address);
    expect(parsed.has_value());
    if (closed_seen) ++sent_after_close;
    return true;
  }
  bool allow(uk::instant) { return true; }
  std::uint32_t clock(uk::instant t) {
    return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  }

  tcp::connection_counters counters;
  tcp::connection_environment environment = env();

  tcp::connection_environment env() {
    tcp::connection_environment e;
    e.counters = &counters;
    e.send = tcp::segment_sink::bind<&harness::on_send>(*this);
    e.challenge_ack_allowed = uk::delegate<bool(uk::instant)>::bind<&harness::allow>(*this);
    e.timestamp_clock = uk::delegate<std::uint32_t(uk::instant)>::bind<&harness::clock>(*this);
    return e;
  }

  /// Builds a checksummed segment for the tuple from fuzz bytes.
  wire::view segment(std::span<const std::byte> raw, bool relative) {
    scratch.assign(raw.begin(), raw.end());
    if (scratch.size() < wire::min_header_length) scratch.resize(wire::min_header_length);
    // Data Offset: keep the fuzzer's if it fits, else no options.
    const std::size_t offset = std::to_integer<std::size_t>(scratch[12]) >> 4;
    if (offset < 5 || offset * 4 > scratch.size()) scratch[12] = std::byte{0x50};
    uk::detail::store_be16(scratch.data() + 0, tuple.remote.port);
    uk::detail::store_be16(scratch.data() + 2, tuple.local.port);
    if (relative) {
      uk::detail::store_be32(scratch.data() + 4, uk::detail::load_be32(scratch.data() + 4) + conn->receive_next().value);
      uk::detail::store_be32(scratch.data() + 8,
                             uk::detail::load_be32(scratch.data() + 8) + conn->send_unacknowledged().value);
    }
    uk::detail::store_be16(scratch.data() + 16, 0);
    const auto sum = wire::pseudo_header_sum(tuple.remote.address, tuple.local.address,
                                             static_cast<std::uint16_t>(scratch.size()));
    uk::detail::store_be16(scratch.data() + 16, uk::wire::checksum::finish(uk::wire::checksum::partial(scratch, sum)));
    return wire::view::unchecked(scratch);
  }

  void feed(const wire::view& v) {
    // The layer hands over only segments that parse (options included).
    if (!wire::parse(v.bytes(), tuple.remote.address, tuple.local.address)) return;
    conn->on_segment(v, now);
  }

  void check() {
    expect(conn->readable() <= config.receive_buffer);
    expect(conn->writable() <= config.send_buffer);
    expect(conn->unacknowledged() <= config.send_buffer);
    if (conn->is_closed()) {
      expect(conn->next_deadline() == uk::never);
      closed_seen = true;
    }
  }
};

std::vector<std::byte> syn_bytes(bool options) {
  wire::repr r;
  r.source_port = tuple.remote.port;
  r.destination_port = tuple.local.port;
  r.sequence_number = 5000;
  r.flags = wire::flags::syn;
  r.window = 65535;
  if (options) {
    r.options.mss = 1460;
    r.options.window_scale = 7;
    r.options.timestamps = wire::timestamps_option{100, 0};
    r.options.sack_permitted = true;
  }
  std::vector<std::byte> out(r.buffer_length());
  wire::emit(r, out, tuple.remote.address, tuple.local.address);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::span<const std::byte> in{reinterpret_cast<const std::byte*>(data), size};
  const unsigned mode = std::to_integer<unsigned>(in[0]);
  in = in.subspan(1);

  harness h;
  h.config.send_buffer = 4096;
  h.config.receive_buffer = 4096;
  h.config.mss = 536;
  h.config.timestamps = (mode & 0x10) != 0;
  h.config.window_scaling = (mode & 0x20) != 0;
  h.config.nodelay = (mode & 0x40) != 0;
  if (mode & 0x80) h.config.keepalive = tcp::keepalive_config{10s, 1s, 3};
  h.conn = std::make_unique<tcp::connection>(tuple, h.config, h.environment);
  tcp::connection& c = *h.conn;

  const bool syn_options = (mode & 0x30) != 0;
  const auto syn = syn_bytes(syn_options);
  const auto syn_view = *wire::parse(syn, tuple.remote.address, tuple.local.address);
  switch (mode % 6) {
    case 0: c.open(tcp::seq{1000}, h.now); break;
    case 1: c.open_from_syn(tcp::seq{1000}, syn_view, h.now); break;
    case 2:
    case 3:
    case 4: {
      c.open_from_syn(tcp::seq{1000}, syn_view, h.now);
      wire::repr ack;
      ack.source_port = tuple.remote.port;
      ack.destination_port = tuple.local.port;
      ack.sequence_number = 5001;
      ack.acknowledgment_number = 1001;
      ack.flags = wire::flags::ack;
      ack.window = 65535;
      if (syn_options && h.config.timestamps) ack.options.timestamps = wire::timestamps_option{101, 0};
      std::vector<std::byte> b(ack.buffer_length());
      wire::emit(ack, b, tuple.remote.address, tuple.local.address);
      c.on_segment(*wire::parse(b, tuple.remote.address, tuple.local.address), h.now);
      if (mode % 6 == 3) c.shutdown_send(h.now);
      if (mode % 6 == 4) {
        ack.flags = wire::flags::ack | wire::flags::fin;
        wire::emit(ack, b, tuple.remote.address, tuple.local.address);
        c.on_segment(*wire::parse(b, tuple.remote.address, tuple.local.address), h.now);
      }
      break;
    }
    case 5: {
      tcp::connection::cookie_handshake cookie;
      cookie.iss = tcp::seq{1000};
      cookie.irs = tcp::seq{5000};
      cookie.peer_mss = 1460;
      if (mode & 0x20) cookie.peer_window_scale = 7;
      if (mode & 0x10) cookie.timestamps = wire::timestamps_option{100, 0};
      cookie.peer_sack_permitted = (mode & 0x30) != 0;
      wire::repr ack;
      ack.source_port = tuple.remote.port;
      ack.destination_port = tuple.local.port;
      ack.sequence_number = 5001;
      ack.acknowledgment_number = 1001;
      ack.flags = wire::flags::ack;
      ack.window = 65535;
      if (cookie.timestamps) ack.options.timestamps = wire::timestamps_option{101, 0};
      std::vector<std::byte> b(ack.buffer_length());
      wire::emit(ack, b, tuple.remote.address, tuple.local.address);
      c.open_from_cookie(cookie, *wire::parse(b, tuple.remote.address, tuple.local.address), h.now);
      break;
    }
  }
  h.check();

  std::vector<std::byte> app(64 * 37);
  for (std::size_t i = 0; i < app.size(); ++i) app[i] = static_cast<std::byte>(i);
  std::vector<std::byte> out(256 * 37);
  const auto u16 = [&in]() -> std::size_t {
    if (in.size() < 2) {
      in = {};
      return 0;
    }
    const std::size_t v = uk::detail::load_be16(in.data());
    in = in.subspan(2);
    return v;
  };
  while (!in.empty()) {
    const unsigned op = std::to_integer<unsigned>(in[0]) % 9;
    in = in.subspan(1);
    switch (op) {
      case 0:
      case 1: {
        const std::size_t n = std::min(u16(), in.size());
        h.feed(h.segment(in.first(n), op == 0));
        in = in.subspan(n);
        break;
      }
      case 2:
        h.now += std::chrono::milliseconds{u16()};
        c.poll(h.now);
        break;
      case 3:
        if (!in.empty()) {
          c.write(std::span(app).first((std::to_integer<std::size_t>(in[0]) % 64) * 37), h.now);
          in = in.subspan(1);
        }
        break;
      case 4:
        if (!in.empty()) {
          c.read(std::span(out).first(std::to_integer<std::size_t>(in[0]) * 37), h.now);
          in = in.subspan(1);
        }
        break;
      case 5: c.shutdown_send(h.now); break;
      case 6: c.close(h.now); break;
      case 7: c.abort(h.now); break;
      case 8:
        if (c.next_deadline() != uk::never) {
          h.now = c.next_deadline();
          c.poll(h.now);
        }
        break;
    }
    h.check();
    expect(c.next_deadline() == uk::never || c.next_deadline() > h.now || op != 2);
    expect(h.sent_after_close == 0);
  }
  return 0;
}
