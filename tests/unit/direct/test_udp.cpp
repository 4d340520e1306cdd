// uk::direct::udp over an IPv4 double: RFC 768 rules, bindings, ephemeral
// ports, unreachable reporting; and the application socket's receive buffer.
#include <catch2/catch.hpp>

#include <uk/direct/udp.hpp>
#include <uk/direct/udp_service.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <set>
#include <string>
#include <vector>

namespace {

using uk::ipv4_address;
namespace udp_wire = uk::wire::udp;

const ipv4_address our_ip = *ipv4_address::parse("10.0.0.2");
const ipv4_address peer_ip = *ipv4_address::parse("10.0.0.1");

/// Records what UDP hands down; lets the test deliver datagrams up.
struct ipv4_double {
  std::optional<uk::ipv4_prefix> address() const { return uk::ipv4_prefix{our_ip, 24}; }
  std::optional<ipv4_address> gateway() const { return std::nullopt; }
  std::size_t mtu() const { return 1500; }
  bool transmit(ipv4_address dst, std::uint8_t proto, std::size_t size, uk::frame_filler fill) {
    if (refuse) return false;
    std::vector<std::byte> datagram(size);
    datagram.resize(fill(datagram));
    sent.push_back({dst, proto, std::move(datagram)});
    return true;
  }
  void set_receiver(std::uint8_t proto, uk::ipv4_handler h) {
    REQUIRE(proto == 17);
    receiver = h;
  }
  uk::instant poll(uk::instant) { return uk::never; }
  int counters() const { return 0; }

  /// Delivers a UDP datagram from peer to us, as IPv4 would.
  void deliver(std::span<const std::byte> datagram, ipv4_address from = peer_ip, ipv4_address to = our_ip) {
    receiver(uk::ipv4_datagram_info{from, to, 17, 64, {}}, datagram);
  }

  struct sent_datagram {
    ipv4_address destination;
    std::uint8_t protocol;
    std::vector<std::byte> bytes;
  };
  std::vector<sent_datagram> sent;
  uk::ipv4_handler receiver;
  bool refuse = false;
};
static_assert(uk::ipv4_layer<ipv4_double>);

std::vector<std::byte> datagram(std::uint16_t src, std::uint16_t dst, std::string_view payload,
                                ipv4_address from = peer_ip, ipv4_address to = our_ip) {
  std::vector<std::byte> out(udp_wire::header_length + payload.size());
  std::memcpy(out.data() + udp_wire::header_length, payload.data(), payload.size());
  udp_wire::emit({src, dst, payload.size()}, out, from, to);
  return out;
}

std::string text(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

struct recorder {
  void on(const uk::direct::udp_datagram_info& info, uk::frame payload) {
    got.push_back({info, text(payload)});
  }
  std::vector<std::pair<uk::direct::udp_datagram_info, std::string>> got;
};

}  // namespace

TEST_CASE("RFC 768: a datagram for a bound port reaches its handler with both endpoints") {
  ipv4_double ip;
  uk::direct::udp<ipv4_double> udp(ip);
  recorder r;
  REQUIRE(udp.bind(7, uk::direct::udp_handler::bind<&recorder::on>(r)));
  auto d = datagram(5000, 7, "hello");
  ip.deliver(d);
  REQUIRE(r.got.size() == 1);
  CHECK(r.got[0].first.source == uk::ipv4_endpoint{peer_ip, 5000});
  CHECK(r.got[0].first.destination == uk::ipv4_endpoint{our_ip, 7});
  CHECK(r.got[0].second == "hello");
  CHECK(udp.counters().rx_datagrams == 1);
}

TEST_CASE("RFC 768: a datagram whose checksum does not verify is dropped and counted (mirage-tcpip #217)") {
  ipv4_double ip;
  uk::direct::udp<ipv4_double> udp(ip);
  recorder r;
  udp.bind(7, uk::direct::udp_handler::bind<&recorder::on>(r));
  auto d = datagram(5000, 7, "hello");
  d.back() ^= std::byte{0x01};
  ip.deliver(d);
  CHECK(r.got.empty());
  CHECK(udp.counters().rx_bad_checksum == 1);
  // The pseudo-header is covered too: the same bytes from another source fail.
  auto d2 = datagram(5000, 7, "hello");
  ip.deliver(d2, *ipv4_address::parse("10.0.0.9"));
  CHECK(udp.counters().rx_bad_checksum == 2);
}

TEST_CASE("RFC 768: a zero checksum means none was computed and is accepted") {
  ipv4_double ip;
  uk::direct::udp<ipv4_double> udp(ip);
  recorder r;
  udp.bind(7, uk::direct::udp_handler::bind<&recorder::on>(r));
  auto d = datagram(5000, 7, "x");
  d[6] = d[7] = std::byte{0};
  ip.deliver(d);
  CHECK(r.got.size() == 1);
}

TEST_CASE("RFC 768: truncated and impossible lengths are dropped and counted") {
  ipv4_double ip;
  uk::direct::udp<ipv4_double> udp(ip);
  auto d = datagram(5000, 7, "hello");
  for (std::size_t n = 0; n < d.size(); ++n) ip.deliver(std::span(d).first(n));
  CHECK(udp.counters().rx_malformed == d.size());
}

TEST_CASE("RFC 1122 4.1.3.1: a datagram for an unbound port is reported for ICMP port unreachable") {
  ipv4_double ip;
  uk::direct::udp<ipv4_double> udp(ip);
  int reports = 0;
  std::size_t quoted = 0;
  auto unreachable = [&](const uk::ipv4_datagram_info& info, uk::frame udp_datagram) {
    ++reports;
    quoted = udp_datagram.size();
    CHECK(info.source == peer_ip);
  };
  udp.set_unreachable_handler(unreachable);
  ip.deliver(datagram(5000, 9, "abc"));
  CHECK(reports == 1);
  CHECK(quoted == 8 + 3);
  CHECK(udp.counters().rx_no_listener == 1);
}

TEST_CASE("RFC 768: transmit writes header, payload and a checksum that verifies") {
  ipv4_double ip;
  uk::direct::udp<ipv4_double> udp(ip);
  std::string payload = "omg hi network";
  auto fill = [&](std::span<std::byte> out) {
    std::memcpy(out.data(), payload.data(), payload.size());
    return payload.size();
  };
  REQUIRE(udp.transmit(1234, {peer_ip, 7}, payload.size(), fill));
  REQUIRE(ip.sent.size() == 1);
  CHECK(ip.sent[0].destination == peer_ip);
  CHECK(ip.sent[0].protocol == 17);
  auto parsed = udp_wire::parse(ip.sent[0].bytes, our_ip, peer_ip);
  REQUIRE(parsed);
  CHECK(parsed->source_port() == 1234);
  CHECK(parsed->destination_port() == 7);
  CHECK(text(parsed->payload()) == payload);
}

TEST_CASE("udp: transmit refused by IPv4 and oversized payloads are counted") {
  ipv4_double ip;
  uk::direct::udp<ipv4_double> udp(ip);
  auto nothing = [](std::span<std::byte>) { return std::size_t{0}; };
  ip.refuse = true;
  CHECK_FALSE(udp.transmit(1, {peer_ip, 7}, 0, nothing));
  CHECK(udp.counters().tx_dropped == 1);
  ip.refuse = false;
  CHECK_FALSE(udp.transmit(1, {peer_ip, 7}, 65508, nothing));
  CHECK(udp.counters().tx_too_large == 1);
  CHECK(udp.transmit(1, {peer_ip, 7}, 65507, nothing));
}

TEST_CASE("udp: a port is bound once; unbind frees it; the table is bounded") {
  ipv4_double ip;
  uk::direct::udp<ipv4_double> udp(ip, {.max_bindings = 3});
  recorder r;
  auto h = uk::direct::udp_handler::bind<&recorder::on>(r);
  CHECK(udp.bind(7, h));
  CHECK_FALSE(udp.bind(7, h));
  CHECK_FALSE(udp.bind(0, h));
  CHECK(udp.bind(9, h));
  CHECK(udp.bind(19, h));
  CHECK_FALSE(udp.bind(20, h));
  udp.unbind(9);
  CHECK_FALSE(udp.is_bound(9));
  CHECK(udp.bind(20, h));
  ip.deliver(datagram(1, 19, "c"));
  ip.deliver(datagram(1, 20, "d"));
  ip.deliver(datagram(1, 7, "e"));
  REQUIRE(r.got.size() == 3);
  CHECK(r.got[0].second == "c");
}

TEST_CASE("RFC 6056 / RFC 6335 6: ephemeral ports are distinct and in the dynamic range") {
  ipv4_double ip;
  uk::direct::udp<ipv4_double> udp(ip, {.max_bindings = 1000});
  recorder r;
  auto h = uk::direct::udp_handler::bind<&recorder::on>(r);
  std::set<std::uint16_t> ports;
  for (int i = 0; i < 1000; ++i) {
    const auto p = udp.bind_ephemeral(h);
    REQUIRE(p >= 49152);
    ports.insert(p);
  }
  CHECK(ports.size() == 1000);
  CHECK(udp.bind_ephemeral(h) == 0);  // the table is full
}

TEST_CASE("datagram_queue: FIFO of whole datagrams, bounded, wrapping without splitting a record") {
  uk::direct::datagram_queue q(100);  // records are 12 + payload bytes
  const uk::ipv4_endpoint from{peer_ip, 1};
  auto bytes = [](std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); };
  CHECK(q.push(from, bytes("0123456789012345678901234567890123456789")));  // 52
  CHECK(q.push(from, bytes("abcdefghijklmnopqrstuvwxyz")));                 // 38 -> 90
  CHECK_FALSE(q.push(from, bytes("too long")));                            // 20 > 10 left, head 0
  CHECK(text(q.front().data).size() == 40);
  q.pop();                                                                  // head 52
  CHECK(q.push(from, bytes("wrapped to the start...")));                    // 35 <= 52: at 0
  CHECK(text(q.front().data) == "abcdefghijklmnopqrstuvwxyz");
  q.pop();
  CHECK(text(q.front().data) == "wrapped to the start...");
  CHECK(q.push(from, bytes("")));  // 12 bytes: 35..47
  q.pop();
  CHECK(q.front().data.empty());
  q.pop();
  CHECK(q.empty());
  CHECK(q.push(from, std::span<const std::byte>(std::vector<std::byte>(88))));  // resets to the start when empty
}

TEST_CASE("udp_service: bind, receive in order, send; a full receive buffer drops and counts") {
  boost::asio::io_context io;
  ipv4_double ip;
  uk::direct::udp<ipv4_double> layer(ip);
  int changes = 0;
  auto changed = [&] { ++changes; };
  uk::direct::udp_service<uk::direct::udp<ipv4_double>> service(io.get_executor(), layer, changed);
  std::vector<std::string> received;
  std::uint64_t dropped = 0;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    auto socket = co_await service.bind(7);
    CHECK(socket.local_port() == 7);
    bool threw = false;
    try {
      co_await service.bind(7);
    } catch (const boost::system::system_error& e) {
      threw = e.code() == boost::asio::error::address_in_use;
    }
    CHECK(threw);
    // 3 datagrams arrive before anyone receives; then a 300 KiB flood overflows the buffer.
    ip.deliver(datagram(1, 7, "one"));
    ip.deliver(datagram(1, 7, "two"));
    ip.deliver(datagram(1, 7, "three"));
    std::string big(60000, 'x');
    for (int i = 0; i < 5; ++i) ip.deliver(datagram(1, 7, big));
    for (int i = 0; i < 3; ++i) {
      auto d = co_await socket.receive();
      CHECK(d.from == uk::ipv4_endpoint{peer_ip, 1});
      received.push_back(text(d.data));
    }
    dropped = socket.counters().dropped_buffer_full;
    co_await socket.send_to({peer_ip, 1}, std::as_bytes(std::span(received[0].data(), received[0].size())));
    socket.close();
    bool aborted = false;
    try {
      co_await socket.receive();
    } catch (const boost::system::system_error&) {
      aborted = true;
    }
    CHECK(aborted);
    CHECK_FALSE(layer.is_bound(7));
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run();
  CHECK(received == std::vector<std::string>{"one", "two", "three"});
  CHECK(dropped == 1);  // 4 x 60 KiB fit in 256 KiB with the three small ones; the fifth does not
  CHECK(changes == 1);
  REQUIRE(ip.sent.size() == 1);
}

TEST_CASE("udp_service: a receive waiting for a datagram wakes when one arrives") {
  boost::asio::io_context io;
  ipv4_double ip;
  uk::direct::udp<ipv4_double> layer(ip);
  uk::direct::udp_service<uk::direct::udp<ipv4_double>> service(io.get_executor(), layer, {});
  std::string got;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    auto socket = co_await service.bind(0);
    const auto port = socket.local_port();
    boost::asio::post(io, [&ip, port] { ip.deliver(datagram(1, port, "late")); });
    auto d = co_await socket.receive();
    got = text(d.data);
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run();
  CHECK(got == "late");
}
