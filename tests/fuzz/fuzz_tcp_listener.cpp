// libFuzzer target for uk/direct/tcp/layer.hpp with the TCP connection core:
// arbitrary segments fed to a listening port (a backlog small enough that SYN
// cookies answer) and to an established connection, between time steps,
// polls and application calls. The input is a script of events:
//   0 SEL LEN BYTES...  a segment: BYTES (at least 20) with its ports set by SEL
//                       (0: to the listener from a fuzz-chosen port, 1: to the
//                       established connection, its sequence and acknowledgment
//                       numbers made relative to the connection's, 2: as given),
//                       and its checksum fixed so that it passes parse()
//   1 N                 N * 7 ms pass, then poll()
//   2 N                 the application writes N * 64 bytes to the connection
//   3                   the application reads what is there
//   4 K                 K selects: shutdown_send, close, abort
// After every event: the connection table is within its cap, every segment
// the layer sends parses with its checksum, from our address, and poll()
// never asks to be woken in the past.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "uk/direct/tcp/layer.hpp"
#include "uk/detail/endian.hpp"
#include "uk/wire/checksum.hpp"
#include "uk/wire/tcp.hpp"

namespace {

namespace tcp_wire = uk::wire::tcp;
namespace tcp = uk::direct::tcp;
using uk::instant;
using uk::ipv4_address;

const ipv4_address our_ip{0x0a000002};
const ipv4_address peer_ip{0x0a000001};
constexpr std::uint16_t listen_port = 80, peer_port = 5000;

[[noreturn]] void fail() { std::abort(); }

struct checking_ip {
  std::optional<uk::ipv4_prefix> address() const { return uk::ipv4_prefix{our_ip, 24}; }
  std::optional<ipv4_address> gateway() const { return std::nullopt; }
  std::size_t mtu() const { return 1480; }
  bool transmit(ipv4_address dst, std::uint8_t proto, std::size_t size, uk::frame_filler fill) {
    if (proto != tcp_wire::ip_protocol || size > 65515) fail();
    buffer.resize(size);
    const std::size_t written = fill(buffer);
    if (written != size) fail();
    const auto segment = tcp_wire::parse(std::span<const std::byte>(buffer).first(written), our_ip, dst);
    if (!segment) fail();
    last = tcp_wire::repr::from(*segment);
    ++sent;
    return true;
  }
  void set_receiver(std::uint8_t, uk::ipv4_handler h) { receiver = h; }
  instant poll(instant) { return uk::never; }
  int counters() const { return 0; }

  std::vector<std::byte> buffer;
  uk::ipv4_handler receiver;
  tcp_wire::repr last{};
  std::size_t sent = 0;
};

struct virtual_clock {
  instant now{};
  instant read() { return now; }
};

struct reader {
  std::span<const std::uint8_t> rest;
  bool empty() const { return rest.empty(); }
  std::uint8_t byte() {
    if (rest.empty()) return 0;
    const std::uint8_t b = rest[0];
    rest = rest.subspan(1);
    return b;
  }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    n = std::min(n, rest.size());
    auto out = rest.first(n);
    rest = rest.subspan(n);
    return out;
  }
};

void fix_checksum(std::span<std::byte> segment, ipv4_address from, ipv4_address to) {
  uk::detail::store_be16(segment.data() + tcp_wire::field::checksum, 0);
  const auto sum = uk::wire::checksum::partial(
      segment, tcp_wire::pseudo_header_sum(from, to, static_cast<std::uint16_t>(segment.size())));
  uk::detail::store_be16(segment.data() + tcp_wire::field::checksum, uk::wire::checksum::finish(sum));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  virtual_clock clock;
  checking_ip ip;
  tcp::layer_options options;
  options.max_connections = 16;
  options.connection.send_buffer = options.connection.receive_buffer = 8192;
  tcp::layer<checking_ip> layer(ip, uk::clock_ref::bind<&virtual_clock::read>(clock), {{1, 2}, {3, 4}, {5, 6}, 7},
                                options);
  tcp::listen_options backlog;
  backlog.syn_queue = 2;
  backlog.accept_queue = 2;
  const auto listener = layer.listen(listen_port, backlog);
  if (!listener) fail();

  // An established connection: our SYN, the peer's SYN-ACK.
  const auto handle = layer.connect({peer_ip, peer_port}, clock.now);
  if (!handle) fail();
  const std::uint16_t local_port = layer.find(*handle)->tuple().local.port;
  {
    tcp_wire::repr synack;
    synack.source_port = peer_port;
    synack.destination_port = local_port;
    synack.sequence_number = 1000;
    synack.acknowledgment_number = ip.last.sequence_number + 1;
    synack.flags = tcp_wire::flags::syn | tcp_wire::flags::ack;
    synack.window = 65535;
    synack.options.mss = 1460;
    std::vector<std::byte> bytes(synack.buffer_length());
    tcp_wire::emit(synack, bytes, peer_ip, our_ip);
    ip.receiver(uk::ipv4_datagram_info{peer_ip, our_ip, 6, 64, {}}, bytes);
  }

  reader in{{data, size}};
  std::vector<std::byte> segment;
  std::array<std::byte, 4096> app{};
  for (std::size_t events = 0; !in.empty() && events < 512; ++events) {
    switch (in.byte() % 5) {
      case 0: {
        const std::uint8_t selector = in.byte() % 3;
        const std::size_t length = 20 + in.byte();
        const auto raw = in.bytes(length);
        segment.assign(reinterpret_cast<const std::byte*>(raw.data()),
                       reinterpret_cast<const std::byte*>(raw.data() + raw.size()));
        if (segment.size() < 20) break;
        auto* p = segment.data();
        if (selector == 0) {
          uk::detail::store_be16(p + tcp_wire::field::destination_port, listen_port);
        } else if (selector == 1) {
          uk::detail::store_be16(p + tcp_wire::field::source_port, peer_port);
          uk::detail::store_be16(p + tcp_wire::field::destination_port, local_port);
          if (const auto* c = layer.find(*handle)) {
            // Near the connection's numbers: small signed deltas reach every acceptability branch.
            const auto seq_delta = static_cast<std::int8_t>(uk::detail::load_be32(p + 4) & 0xff);
            const auto ack_delta = static_cast<std::int8_t>(uk::detail::load_be32(p + 8) & 0xff);
            uk::detail::store_be32(p + 4, c->receive_next().value + static_cast<std::uint32_t>(seq_delta) * 16);
            uk::detail::store_be32(p + 8, c->send_unacknowledged().value + static_cast<std::uint32_t>(ack_delta) * 16);
          }
        }
        fix_checksum(segment, peer_ip, our_ip);
        ip.receiver(uk::ipv4_datagram_info{peer_ip, our_ip, 6, 64, {}}, segment);
        break;
      }
      case 1: clock.now += std::chrono::milliseconds(7) * in.byte(); break;
      case 2: layer.write(*handle, std::span(app).first(std::size_t{64} * (in.byte() % 64)), clock.now); break;
      case 3: layer.read(*handle, app, clock.now); break;
      case 4:
        switch (in.byte() % 3) {
          case 0: layer.shutdown_send(*handle, clock.now); break;
          case 1: layer.close(*handle, clock.now); break;
          default: layer.abort(*handle, clock.now); break;
        }
        break;
    }
    // Accepted connections are taken and closed at once, as an application would.
    while (auto accepted = layer.accept(*listener)) {
      layer.close(*accepted, clock.now);
      layer.release(*accepted, clock.now);
    }
    const instant next = layer.poll(clock.now);
    if (next < clock.now) fail();
    if (layer.connection_count() > options.max_connections) fail();
  }
  return 0;
}
