// uk::net::fault_injector: each kind of fault at its configured rate over
// 10000 frames, exactly reproducible from the seed, each direction on its own.
#include <catch2/catch.hpp>

#include <uk/net/fault_injector.hpp>
#include <uk/net/memory_link.hpp>
#include <uk/net/pcap_writer.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

using namespace std::chrono_literals;
using uk::net::fault_config;
using uk::net::fault_injector;
using uk::net::memory_link;
using injector = fault_injector<memory_link::end>;

constexpr std::size_t frame_length = 100;
constexpr std::uint32_t frame_count = 10000;

/// A frame carrying its number in its first four bytes, the rest derived from it.
std::vector<std::byte> numbered_frame(std::uint32_t n, std::size_t length = frame_length) {
  std::vector<std::byte> f(length);
  std::memcpy(f.data(), &n, std::min<std::size_t>(4, length));
  for (std::size_t i = 4; i < length; ++i) f[i] = std::byte(static_cast<std::uint8_t>(n * 7 + i));
  return f;
}

std::uint32_t number_of(const std::vector<std::byte>& f) {
  std::uint32_t n = 0;
  std::memcpy(&n, f.data(), std::min<std::size_t>(4, f.size()));
  return n;
}

template <class Netif>
bool send(Netif& n, const std::vector<std::byte>& frame) {
  auto copy = [&](std::span<std::byte> out) {
    std::memcpy(out.data(), frame.data(), frame.size());
    return frame.size();
  };
  return n.transmit(frame.size(), uk::frame_filler(copy));
}

struct recorder {
  std::vector<std::vector<std::byte>> frames;
  void operator()(uk::frame f) { frames.emplace_back(f.begin(), f.end()); }
};

/// What came out of `count` frames sent through the injector (tx: a -> b) or
/// into it (rx: b -> a), one at a time.
struct outcome {
  std::vector<std::vector<std::byte>> frames;
  uk::net::fault_counters faults;
};

outcome run_tx(const fault_config& config, std::uint32_t count = frame_count) {
  memory_link link;
  injector faulty(link.a(), config, link.clock());
  recorder at_b;
  link.b().set_receiver(uk::frame_handler(at_b));
  for (std::uint32_t n = 0; n < count; ++n) {
    REQUIRE(send(faulty, numbered_frame(n)));
    link.deliver();
  }
  faulty.flush();
  link.deliver();
  return {std::move(at_b.frames), faulty.tx_faults()};
}

outcome run_rx(const fault_config& config, std::uint32_t count = frame_count) {
  memory_link link;
  injector faulty(link.a(), config, link.clock());
  recorder at_a;
  faulty.set_receiver(uk::frame_handler(at_a));
  for (std::uint32_t n = 0; n < count; ++n) {
    REQUIRE(send(link.b(), numbered_frame(n)));
    link.deliver();
  }
  faulty.flush();
  return {std::move(at_a.frames), faulty.rx_faults()};
}

/// Within 5 standard deviations of the binomial mean n p.
bool near_binomial(std::uint64_t observed, std::uint64_t n, double p) {
  const double mean = static_cast<double>(n) * p;
  const double sd = std::sqrt(mean * (1 - p));
  return std::abs(static_cast<double>(observed) - mean) <= 5 * sd + 1;
}

std::size_t differing_bits(const std::vector<std::byte>& a, const std::vector<std::byte>& b) {
  std::size_t bits = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    bits += static_cast<std::size_t>(std::popcount(std::to_integer<unsigned>(a[i] ^ b[i])));
  return bits;
}

}  // namespace

static_assert(uk::netif<injector>);
static_assert(uk::netif<fault_injector<uk::net::pcap_writer<memory_link::end>>>);

TEST_CASE("fault_injector: with no faults every frame passes unchanged, both ways") {
  const auto tx = run_tx({}, 1000);
  REQUIRE(tx.frames.size() == 1000);
  for (std::uint32_t n = 0; n < 1000; ++n) CHECK(tx.frames[n] == numbered_frame(n));
  CHECK(tx.faults == uk::net::fault_counters{.frames = 1000});
  const auto rx = run_rx({}, 1000);
  REQUIRE(rx.frames.size() == 1000);
  for (std::uint32_t n = 0; n < 1000; ++n) CHECK(rx.frames[n] == numbered_frame(n));
}

TEST_CASE("fault_injector: it is a netif with the wrapped netif's MAC, MTU, queue limit and counters") {
  memory_link link({.mtu = 576, .transmit_queue_limit = 9});
  injector faulty(link.a(), {});
  CHECK(faulty.mac() == link.a().mac());
  CHECK(faulty.mtu() == 576);
  CHECK(faulty.transmit_queue_limit() == 9);
  CHECK(&faulty.counters() == &link.a().counters());
}

TEST_CASE("fault_injector: drop loses frames at the configured rate") {
  fault_config config{.seed = 1};
  config.tx.drop = 0.1;
  const auto tx = run_tx(config);
  CHECK(near_binomial(tx.faults.dropped, frame_count, 0.1));
  CHECK(tx.frames.size() == frame_count - tx.faults.dropped);
  for (std::size_t i = 1; i < tx.frames.size(); ++i) CHECK(number_of(tx.frames[i - 1]) < number_of(tx.frames[i]));

  config.rx = config.tx;
  config.tx = {};
  const auto rx = run_rx(config);
  CHECK(near_binomial(rx.faults.dropped, frame_count, 0.1));
  CHECK(rx.frames.size() == frame_count - rx.faults.dropped);
}

TEST_CASE("fault_injector: duplicate passes frames on twice, back to back") {
  fault_config config{.seed = 2};
  config.tx.duplicate = 0.2;
  const auto tx = run_tx(config);
  CHECK(near_binomial(tx.faults.duplicated, frame_count, 0.2));
  CHECK(tx.frames.size() == frame_count + tx.faults.duplicated);
  std::size_t repeats = 0;
  for (std::size_t i = 1; i < tx.frames.size(); ++i)
    if (tx.frames[i] == tx.frames[i - 1]) ++repeats;
  CHECK(repeats == tx.faults.duplicated);
}

TEST_CASE("fault_injector: reorder holds a frame back until the next one has passed") {
  fault_config config{.seed = 3};
  config.rx.reorder = 0.1;
  const auto rx = run_rx(config);
  CHECK(rx.frames.size() == frame_count);  // nothing lost (flush released the last held frame, if any)
  // Each held frame n comes right after n + 1: count the swapped pairs.
  std::size_t swaps = 0;
  std::vector<bool> seen(frame_count);
  for (std::size_t i = 0; i < rx.frames.size(); ++i) {
    const std::uint32_t n = number_of(rx.frames[i]);
    seen[n] = true;
    if (i > 0 && number_of(rx.frames[i - 1]) == n + 1) ++swaps;
  }
  CHECK(std::count(seen.begin(), seen.end(), true) == frame_count);
  // A frame held at the very end is released by flush() in order: not a swap.
  CHECK((swaps == rx.faults.reordered || swaps + 1 == rx.faults.reordered));
  // A frame passes while another is held, so the rate is a little under p.
  CHECK(rx.faults.reordered > frame_count * 0.1 * 0.8);
  CHECK(rx.faults.reordered < frame_count * 0.1 * 1.05);
}

TEST_CASE("fault_injector: corrupt flips exactly one bit of a frame") {
  fault_config config{.seed = 4};
  config.tx.corrupt = 0.05;
  const auto tx = run_tx(config);
  CHECK(near_binomial(tx.faults.corrupted, frame_count, 0.05));
  REQUIRE(tx.frames.size() == frame_count);
  std::size_t damaged = 0;
  for (std::uint32_t n = 0; n < frame_count; ++n) {
    const std::size_t bits = differing_bits(tx.frames[n], numbered_frame(n));
    CHECK(bits <= 1);
    CHECK(tx.frames[n].size() == frame_length);
    damaged += bits;
  }
  CHECK(damaged == tx.faults.corrupted);
}

TEST_CASE("fault_injector: truncate cuts frames to a shorter length, keeping their start") {
  fault_config config{.seed = 5};
  config.rx.truncate = 0.05;
  const auto rx = run_rx(config);
  CHECK(near_binomial(rx.faults.truncated, frame_count, 0.05));
  REQUIRE(rx.frames.size() == frame_count);
  std::size_t shorter = 0;
  for (std::uint32_t n = 0; n < frame_count; ++n) {
    const auto& f = rx.frames[n];
    const auto original = numbered_frame(n);
    REQUIRE(f.size() >= 1);
    REQUIRE(f.size() <= frame_length);
    CHECK(std::equal(f.begin(), f.end(), original.begin()));
    if (f.size() < frame_length) ++shorter;
  }
  CHECK(shorter == rx.faults.truncated);
}

TEST_CASE("fault_injector: the rate limit is a token bucket on the clock's time, in frames") {
  memory_link link;
  fault_config config;
  config.tx.limit = {.per_second = 100, .burst = 10, .in = uk::net::rate_unit::frames};
  injector faulty(link.a(), config, link.clock());
  recorder at_b;
  link.b().set_receiver(uk::frame_handler(at_b));
  for (std::uint32_t n = 0; n < 20; ++n) CHECK(send(faulty, numbered_frame(n)));
  link.deliver();
  CHECK(at_b.frames.size() == 10);  // the burst
  CHECK(faulty.tx_faults().rate_limited == 10);
  link.advance(50ms);  // 5 tokens
  for (std::uint32_t n = 0; n < 10; ++n) send(faulty, numbered_frame(n));
  link.deliver();
  CHECK(at_b.frames.size() == 15);
  link.advance(10s);  // the bucket fills up to the burst only
  for (std::uint32_t n = 0; n < 30; ++n) send(faulty, numbered_frame(n));
  link.deliver();
  CHECK(at_b.frames.size() == 25);
  CHECK(faulty.tx_faults().rate_limited == 10 + 5 + 20);
  // Over a long run at twice the rate, half the frames pass.
  for (int ms = 0; ms < 10000; ms += 5) {
    link.advance(5ms);
    send(faulty, numbered_frame(0));
  }
  link.deliver();
  CHECK(at_b.frames.size() == 25 + 1000);
}

TEST_CASE("fault_injector: the rate limit in bytes counts frame lengths") {
  memory_link link;
  fault_config config;
  config.rx.limit = {.per_second = 1000, .burst = 250, .in = uk::net::rate_unit::bytes};
  injector faulty(link.a(), config, link.clock());
  recorder at_a;
  faulty.set_receiver(uk::frame_handler(at_a));
  for (std::uint32_t n = 0; n < 3; ++n) send(link.b(), numbered_frame(n, 100));
  link.deliver();
  CHECK(at_a.frames.size() == 2);  // 250 bytes: two frames of 100
  send(link.b(), numbered_frame(0, 50));
  link.deliver();
  CHECK(at_a.frames.size() == 3);  // 50 left
  link.advance(100ms);             // 100 more bytes
  send(link.b(), numbered_frame(0, 100));
  send(link.b(), numbered_frame(0, 1));
  link.deliver();
  CHECK(at_a.frames.size() == 4);
  CHECK(faulty.rx_faults().rate_limited == 2);
  CHECK(faulty.tx_faults().rate_limited == 0);
}

TEST_CASE("fault_injector: the same seed gives the same faults, another seed others") {
  fault_config config{.seed = 42};
  config.tx = {.drop = 0.05, .duplicate = 0.05, .reorder = 0.05, .corrupt = 0.05, .truncate = 0.05};
  const auto first = run_tx(config, 2000);
  const auto second = run_tx(config, 2000);
  CHECK(first.frames == second.frames);
  CHECK(first.faults == second.faults);
  CHECK(first.faults.dropped > 0);
  CHECK(first.faults.duplicated > 0);
  CHECK(first.faults.reordered > 0);
  CHECK(first.faults.corrupted > 0);
  CHECK(first.faults.truncated > 0);
  config.seed = 43;
  const auto other = run_tx(config, 2000);
  CHECK(other.frames != first.frames);
}

TEST_CASE("fault_injector: traffic in one direction does not change the faults of the other") {
  fault_config config{.seed = 9};
  config.rx.drop = 0.3;
  config.tx.drop = 0.3;
  auto rx_only = [&](bool with_tx) {
    memory_link link;
    injector faulty(link.a(), config, link.clock());
    recorder at_a;
    faulty.set_receiver(uk::frame_handler(at_a));
    for (std::uint32_t n = 0; n < 500; ++n) {
      if (with_tx) send(faulty, numbered_frame(n));
      send(link.b(), numbered_frame(n));
      link.deliver();
    }
    return at_a.frames;
  };
  CHECK(rx_only(false) == rx_only(true));
}

TEST_CASE("fault_injector: a frame the wrapped netif refuses makes transmit return false") {
  memory_link link({.transmit_queue_limit = 1});
  injector faulty(link.a(), {});
  CHECK(send(faulty, numbered_frame(0)));
  CHECK_FALSE(send(faulty, numbered_frame(1)));
  CHECK(link.a().counters().tx_dropped_queue_full == 1);
}

TEST_CASE("fault_injector: set_config changes the faults from now on") {
  memory_link link;
  fault_config config{.seed = 1};
  config.tx.drop = 1.0;
  injector faulty(link.a(), config);
  recorder at_b;
  link.b().set_receiver(uk::frame_handler(at_b));
  send(faulty, numbered_frame(0));
  link.deliver();
  CHECK(at_b.frames.empty());
  faulty.set_config({});
  send(faulty, numbered_frame(1));
  link.deliver();
  CHECK(at_b.frames.size() == 1);
  CHECK(faulty.tx_faults().dropped == 1);
  CHECK(faulty.tx_faults().frames == 2);
}

TEST_CASE("fault_injector: a probability outside [0, 1] or a rate limit without a clock is refused") {
  memory_link link;
  fault_config bad;
  bad.rx.drop = 1.5;
  CHECK_THROWS_AS(injector(link.a(), bad), std::invalid_argument);
  fault_config no_clock;
  no_clock.tx.limit.per_second = 10;
  CHECK_THROWS_AS(injector(link.a(), no_clock), std::invalid_argument);
  CHECK_NOTHROW(injector(link.a(), no_clock, link.clock()));
}

TEST_CASE("fault_injector: destroyed, it stops receiving from the netif it wrapped") {
  memory_link link;
  {
    injector faulty(link.a(), {});
  }
  send(link.b(), numbered_frame(0));
  CHECK(link.deliver() == 1);
  CHECK(link.a().counters().rx_dropped == 1);  // no receiver any more
}
