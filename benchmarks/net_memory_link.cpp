// Frames through uk::net::memory_link: one transmit (the filler copies a
// prepared frame into the link's slot) and its delivery to the other end's
// receiver (which reads it), at 64 and 1514 bytes. Per iteration: one frame,
// or a burst of 32 frames delivered together. Also the cost of a
// fault_injector with no faults configured in front of the link.
#include <benchmark/benchmark.h>

#include <uk/net/fault_injector.hpp>
#include <uk/net/memory_link.hpp>

#include <cstring>
#include <vector>

namespace {

struct prepared_frame {
  std::vector<std::byte> bytes;
  std::size_t operator()(std::span<std::byte> out) const {
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return bytes.size();
  }
};

struct reader {
  std::uint64_t sum = 0;
  void operator()(uk::frame f) { sum += std::to_integer<std::uint64_t>(f[0]) + f.size(); }
};

prepared_frame frame_of(std::size_t length) {
  return prepared_frame{std::vector<std::byte>(length, std::byte{0x5a})};
}

void report(benchmark::State& state, std::size_t frames_per_iteration, std::size_t length) {
  const auto frames = static_cast<std::int64_t>(state.iterations() * frames_per_iteration);
  state.SetItemsProcessed(frames);
  state.SetBytesProcessed(frames * static_cast<std::int64_t>(length));
}

void memory_link_one_frame(benchmark::State& state) {
  const auto length = static_cast<std::size_t>(state.range(0));
  uk::net::memory_link link;
  reader at_b;
  link.b().set_receiver(uk::frame_handler(at_b));
  prepared_frame frame = frame_of(length);
  for (auto _ : state) {
    link.a().transmit(length, uk::frame_filler(frame));
    benchmark::DoNotOptimize(link.deliver());
  }
  benchmark::DoNotOptimize(at_b.sum);
  report(state, 1, length);
}
BENCHMARK(memory_link_one_frame)->Arg(64)->Arg(1514);

void memory_link_burst_of_32(benchmark::State& state) {
  const auto length = static_cast<std::size_t>(state.range(0));
  uk::net::memory_link link;
  reader at_b;
  link.b().set_receiver(uk::frame_handler(at_b));
  prepared_frame frame = frame_of(length);
  for (auto _ : state) {
    for (int i = 0; i < 32; ++i) link.a().transmit(length, uk::frame_filler(frame));
    benchmark::DoNotOptimize(link.deliver());
  }
  benchmark::DoNotOptimize(at_b.sum);
  report(state, 32, length);
}
BENCHMARK(memory_link_burst_of_32)->Arg(64)->Arg(1514);

void fault_injector_without_faults(benchmark::State& state) {
  const auto length = static_cast<std::size_t>(state.range(0));
  uk::net::memory_link link;
  uk::net::fault_injector<uk::net::memory_link::end> faulty(link.a(), {});
  reader at_b;
  link.b().set_receiver(uk::frame_handler(at_b));
  prepared_frame frame = frame_of(length);
  for (auto _ : state) {
    faulty.transmit(length, uk::frame_filler(frame));
    benchmark::DoNotOptimize(link.deliver());
  }
  benchmark::DoNotOptimize(at_b.sum);
  report(state, 1, length);
}
BENCHMARK(fault_injector_without_faults)->Arg(64)->Arg(1514);

}  // namespace
