// The devices' hot paths do not allocate: memory_link (through pcap_writer
// and fault_injector) and tap, once warmed up, send and receive frames with
// no call to operator new.
//
// This file replaces the global operator new and delete of the uk_test_net
// executable with counting versions (counting only inside an
// allocation_counter's scope). No other file of this executable may replace them.
#include <catch2/catch.hpp>

#include "support/allocation_counter.hpp"

#include <uk/net/fault_injector.hpp>
#include <uk/net/memory_link.hpp>
#include <uk/net/pcap_writer.hpp>
#include <uk/net/tap.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>

using uk::test::allocation_counter;

namespace {

constexpr std::size_t length = 1514;

/// Writes a full-size frame; the filler itself allocates nothing.
struct frame_writer {
  std::uint8_t value = 0;
  std::size_t operator()(std::span<std::byte> out) {
    out[0] = std::byte{++value};
    return out.size();
  }
};

}  // namespace

TEST_CASE("allocations: the counter sees an allocation") {
  allocation_counter counter;
  auto* p = new int(1);
  delete p;
  CHECK(counter.count() == 1);
}

TEST_CASE("allocations: memory_link, pcap_writer and fault_injector send and deliver without allocating") {
  const auto path = std::filesystem::temp_directory_path() / ("uk-d1-" + std::to_string(::getpid()) + "-alloc.pcap");
  uk::net::memory_link link({.latency = std::chrono::microseconds{5}});
  uk::net::pcap_writer<uk::net::memory_link::end> traced(link.a(), path, {.clock = link.clock()});
  uk::net::fault_config faults{.seed = 3};
  faults.tx = {.drop = 0.1, .duplicate = 0.1, .reorder = 0.1, .corrupt = 0.1, .truncate = 0.1};
  faults.rx.limit = {.per_second = 1'000'000, .burst = 100};
  uk::net::fault_injector<uk::net::pcap_writer<uk::net::memory_link::end>> faulty(traced, faults, link.clock());
  std::size_t at_a = 0, at_b = 0;
  frame_writer writer;
  auto reply = [&](uk::frame) {
    ++at_b;
    link.b().transmit(length, uk::frame_filler(writer));
  };
  auto count = [&](uk::frame) { ++at_a; };
  link.b().set_receiver(uk::frame_handler(reply));
  faulty.set_receiver(uk::frame_handler(count));

  auto round = [&] {
    faulty.transmit(length, uk::frame_filler(writer));
    link.advance(std::chrono::microseconds{10});
  };
  for (int i = 0; i < 100; ++i) round();  // warm-up: stdio's buffer
  allocation_counter counter;
  for (int i = 0; i < 10000; ++i) round();
  CHECK(counter.count() == 0);
  CHECK(at_b > 9000);
  CHECK(at_a > 9000);
  std::filesystem::remove(path);
}

TEST_CASE("allocations: tap sends and receives without allocating once warmed up") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) == 0);
  boost::asio::io_context io;
  auto t = uk::net::tap::adopt(io.get_executor(), fds[0], "pair");
  std::size_t received = 0;
  auto count = [&](uk::frame) { ++received; };
  t.set_receiver(uk::frame_handler(count));
  frame_writer writer;
  std::array<std::byte, length> buffer{};
  auto round = [&] {
    // The other side answers each frame the device sends.
    t.transmit(length, uk::frame_filler(writer));
    REQUIRE(::recv(fds[1], buffer.data(), buffer.size(), 0) == static_cast<ssize_t>(length));
    REQUIRE(::send(fds[1], buffer.data(), buffer.size(), 0) == static_cast<ssize_t>(length));
    const std::size_t before = received;
    while (received == before) io.run_one();
  };
  for (int i = 0; i < 100; ++i) round();
  allocation_counter counter;
  for (int i = 0; i < 1000; ++i) round();
  CHECK(counter.count() == 0);
  CHECK(received == 1100);
  ::close(fds[1]);
}
