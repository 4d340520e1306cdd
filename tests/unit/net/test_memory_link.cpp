// uk::net::memory_link: delivery in send order, the transmit queue bound,
// virtual time and latency, the ping-pong guard.
#include <catch2/catch.hpp>

#include <uk/net/memory_link.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace {

using namespace std::chrono_literals;
using uk::net::memory_link;

/// Writes `length` bytes of `value` (the first byte is the value, the others count up).
struct pattern_filler {
  std::uint8_t value;
  std::size_t length;
  std::size_t operator()(std::span<std::byte> out) const {
    for (std::size_t i = 0; i < length; ++i) out[i] = std::byte(static_cast<std::uint8_t>(value + i));
    return length;
  }
};

bool send(memory_link::end& e, std::uint8_t value, std::size_t length = 60) {
  pattern_filler fill{value, length};
  return e.transmit(length, uk::frame_filler(fill));
}

/// Keeps every frame it receives, and the time it arrived.
struct recorder {
  recorder() = default;
  explicit recorder(const memory_link* l) : link(l) {}
  const memory_link* link = nullptr;
  std::vector<std::vector<std::byte>> frames;
  std::vector<uk::instant> times;
  void operator()(uk::frame f) {
    frames.emplace_back(f.begin(), f.end());
    if (link) times.push_back(link->now());
  }
};

}  // namespace

static_assert(uk::netif<memory_link::end>);

TEST_CASE("memory_link: each end is a netif with its own MAC, the MTU and the queue limit given") {
  memory_link link({.mtu = 1000, .transmit_queue_limit = 7});
  CHECK(link.a().mac() != link.b().mac());
  CHECK(link.a().mac().is_unicast());
  CHECK((link.a().mac().octets[0] & 0x02) != 0);  // locally administered
  CHECK(link.a().mtu() == 1000);
  CHECK(link.b().transmit_queue_limit() == 7);
  CHECK(&link.a().peer() == &link.b());
  CHECK(&link.b().peer() == &link.a());
}

TEST_CASE("memory_link: a frame sent on one end reaches the other end's receiver on deliver()") {
  memory_link link;
  recorder at_b;
  link.b().set_receiver(uk::frame_handler(at_b));
  REQUIRE(send(link.a(), 0x10, 64));
  CHECK(at_b.frames.empty());  // nothing happens until the test delivers
  CHECK(link.a().queued() == 1);
  CHECK(link.in_flight() == 1);

  CHECK(link.deliver() == 1);
  REQUIRE(at_b.frames.size() == 1);
  REQUIRE(at_b.frames[0].size() == 64);
  CHECK(at_b.frames[0][0] == std::byte{0x10});
  CHECK(at_b.frames[0][63] == std::byte{0x10 + 63});
  CHECK(link.in_flight() == 0);

  CHECK(link.a().counters().tx_frames == 1);
  CHECK(link.a().counters().tx_bytes == 64);
  CHECK(link.b().counters().rx_frames == 1);
  CHECK(link.b().counters().rx_bytes == 64);
  CHECK(link.deliver() == 0);
}

TEST_CASE("memory_link: frames of both directions are delivered in the order they were sent") {
  memory_link link;
  std::vector<int> order;
  auto at_a = [&](uk::frame f) { order.push_back(100 + std::to_integer<int>(f[0])); };
  auto at_b = [&](uk::frame f) { order.push_back(200 + std::to_integer<int>(f[0])); };
  link.a().set_receiver(uk::frame_handler(at_a));
  link.b().set_receiver(uk::frame_handler(at_b));
  send(link.a(), 1);
  send(link.b(), 2);
  send(link.a(), 3);
  send(link.b(), 4);
  CHECK(link.deliver() == 4);
  CHECK(order == std::vector<int>{201, 102, 203, 104});
}

TEST_CASE("memory_link: the transmit queue is bounded: a full queue refuses frames and counts them") {
  memory_link link({.transmit_queue_limit = 3});
  recorder at_b;
  link.b().set_receiver(uk::frame_handler(at_b));
  CHECK(send(link.a(), 1));
  CHECK(send(link.a(), 2));
  CHECK(send(link.a(), 3));
  CHECK_FALSE(send(link.a(), 4));
  CHECK_FALSE(send(link.a(), 5));
  CHECK(link.a().counters().tx_dropped_queue_full == 2);
  CHECK(link.a().counters().tx_frames == 3);
  CHECK(send(link.b(), 9));  // the other direction has its own queue

  CHECK(link.deliver() == 4);
  REQUIRE(at_b.frames.size() == 3);
  CHECK(at_b.frames[2][0] == std::byte{3});
  CHECK(send(link.a(), 6));  // room again
}

TEST_CASE("memory_link: a frame longer than MTU + 14 is refused and counted, and an empty one is not sent") {
  memory_link link({.mtu = 100});
  recorder at_b;
  link.b().set_receiver(uk::frame_handler(at_b));
  CHECK(send(link.a(), 1, 114));
  CHECK_FALSE(send(link.a(), 1, 115));
  CHECK(link.a().counters().tx_dropped_oversize == 1);
  CHECK(link.a().counters().tx_dropped_queue_full == 0);

  auto nothing = [](std::span<std::byte>) -> std::size_t { return 0; };
  CHECK(link.a().transmit(60, uk::frame_filler(nothing)));
  auto shorter = [](std::span<std::byte> out) -> std::size_t {
    out[0] = std::byte{7};
    return 1;
  };
  CHECK(link.a().transmit(60, uk::frame_filler(shorter)));
  CHECK(link.deliver() == 2);
  REQUIRE(at_b.frames.size() == 2);
  CHECK(at_b.frames[0].size() == 114);
  CHECK(at_b.frames[1].size() == 1);  // the length fill returned, not the size asked for
}

TEST_CASE("memory_link: frames reaching an end without a receiver are dropped and counted") {
  memory_link link;
  send(link.a(), 1);
  CHECK(link.deliver() == 1);
  CHECK(link.b().counters().rx_dropped == 1);
  CHECK(link.b().counters().rx_frames == 0);
}

TEST_CASE("memory_link: deliver() goes on with the frames receivers send, until idle") {
  memory_link link;
  // Each end answers a frame whose first byte is n > 0 with n - 1.
  int replies = 0;
  auto answer = [&](memory_link::end& self) {
    return [&replies, &self](uk::frame f) {
      const auto n = std::to_integer<std::uint8_t>(f[0]);
      if (n > 0) {
        ++replies;
        send(self, static_cast<std::uint8_t>(n - 1));
      }
    };
  };
  auto at_a = answer(link.a());
  auto at_b = answer(link.b());
  link.a().set_receiver(uk::frame_handler(at_a));
  link.b().set_receiver(uk::frame_handler(at_b));
  send(link.a(), 10);
  CHECK(link.deliver() == 11);
  CHECK(replies == 10);
  CHECK(link.in_flight() == 0);
}

TEST_CASE("memory_link: two ends answering each other forever stop at max_frames") {
  memory_link link;
  auto echo_a = [&](uk::frame) { send(link.a(), 1); };
  auto echo_b = [&](uk::frame) { send(link.b(), 1); };
  link.a().set_receiver(uk::frame_handler(echo_a));
  link.b().set_receiver(uk::frame_handler(echo_b));
  send(link.a(), 1);
  CHECK(link.deliver(1000) == 1000);
  CHECK(link.in_flight() == 1);  // the game goes on if the test delivers again
  link.clear();
  CHECK(link.deliver() == 0);
}

TEST_CASE("memory_link: the frame being delivered keeps its slot while its receiver sends") {
  memory_link link({.transmit_queue_limit = 2});
  bool refused = false;
  // b's receiver (a test that holds both ends) sends on a, whose queue still
  // holds the frame being read: one slot is free, the second send is refused.
  auto at_b = [&](uk::frame f) {
    const auto first = f[0];
    CHECK(send(link.a(), 50));
    refused = !send(link.a(), 51);
    CHECK(f[0] == first);  // not overwritten
  };
  link.b().set_receiver(uk::frame_handler(at_b));
  send(link.a(), 1);
  CHECK(link.deliver(1) == 1);
  CHECK(refused);
  CHECK(link.a().queued() == 1);
}

TEST_CASE("memory_link: virtual time moves only in advance(), and clock() reads it") {
  memory_link link({.start = uk::instant{5s}});
  const uk::clock_ref clock = link.clock();
  CHECK(link.now() == uk::instant{5s});
  CHECK(clock() == uk::instant{5s});
  CHECK(link.advance(250ms) == 0);
  CHECK(link.now() == uk::instant{5250ms});
  CHECK(clock() == uk::instant{5250ms});
  CHECK(link.advance_to(uk::instant{1s}) == 0);  // never backwards
  CHECK(link.now() == uk::instant{5250ms});
}

TEST_CASE("memory_link: with a latency, advance() delivers each frame when it arrives") {
  memory_link link({.latency = 10ms});
  recorder at_b{&link};
  bool answered = false;
  recorder at_a{&link};
  auto answer = [&](uk::frame f) {
    at_b(f);
    if (!answered) {
      answered = true;
      send(link.b(), 2);  // leaves at 10 ms, arrives at 20 ms
    }
  };
  link.a().set_receiver(uk::frame_handler(at_a));
  link.b().set_receiver(uk::frame_handler(answer));

  send(link.a(), 1);  // at 0, arrives at 10 ms
  link.advance(3ms);
  send(link.a(), 3);  // at 3 ms, arrives at 13 ms
  CHECK(link.advance(6ms) == 0);
  CHECK(link.now() == uk::instant{9ms});
  CHECK(link.advance(10ms) == 2);  // the two frames for b
  REQUIRE(at_b.times.size() == 2);
  CHECK(at_b.times[0] == uk::instant{10ms});
  CHECK(at_b.times[1] == uk::instant{13ms});
  CHECK(link.now() == uk::instant{19ms});
  CHECK(at_a.frames.empty());
  CHECK(link.advance(1ms) == 1);  // the answer, at 20 ms
  REQUIRE(at_a.times.size() == 1);
  CHECK(at_a.times[0] == uk::instant{20ms});
}

TEST_CASE("memory_link: deliver() ignores the latency and leaves the time alone") {
  memory_link link({.latency = 1s});
  recorder at_b{&link};
  link.b().set_receiver(uk::frame_handler(at_b));
  send(link.a(), 1);
  CHECK(link.deliver() == 1);
  REQUIRE(at_b.times.size() == 1);
  CHECK(at_b.times[0] == uk::instant{});
  CHECK(link.now() == uk::instant{});
}

TEST_CASE("memory_link: set_latency applies to frames sent afterwards") {
  memory_link link;
  recorder at_b{&link};
  link.b().set_receiver(uk::frame_handler(at_b));
  send(link.a(), 1);
  link.set_latency(5ms);
  CHECK(link.latency() == 5ms);
  send(link.a(), 2);
  CHECK(link.advance(1ms) == 1);
  CHECK(link.advance(4ms) == 1);
  REQUIRE(at_b.times.size() == 2);
  CHECK(at_b.times[0] == uk::instant{});
  CHECK(at_b.times[1] == uk::instant{5ms});
}
