// The connection's hot path allocates nothing: its buffers are allocated
// once at construction (issue 9 may make them lazy). This file replaces the
// global operator new (support/allocation_counter.hpp): no other file of
// uk_test_tcp_core may do so.
#include "support/allocation_counter.hpp"
#include "unit/tcp_core/fixture.hpp"

using namespace uk::test::tcp;
using uk::test::allocation_counter;

namespace {

/// A sink that keeps the last segment without allocating.
struct quiet_sink {
  wire::repr last{};
  std::array<std::byte, 2048> payload{};
  std::size_t segments = 0;
  bool on_send(const four_tuple&, const outgoing_segment& s) {
    last = s.header;
    std::size_t at = 0;
    for (const auto& p : s.payload) {
      std::copy(p.begin(), p.end(), payload.begin() + static_cast<std::ptrdiff_t>(at));
      at += p.size();
    }
    ++segments;
    return true;
  }
};

}  // namespace

TEST_CASE("The connection's data path allocates nothing after construction") {
  quiet_sink sink;
  connection_environment env;
  uk::direct::tcp::connection_counters counters;
  env.counters = &counters;
  env.send = uk::direct::tcp::segment_sink::bind<&quiet_sink::on_send>(sink);
  connection_config config;
  config.send_buffer = config.receive_buffer = 64 * 1024;
  config.timestamps = true;
  config.window_scaling = true;
  connection c(fixture::tuple(), config, env);
  instant now{std::chrono::seconds{1}};

  // Everything the peer sends, built before counting.
  wire::options syn_options;
  syn_options.mss = 1460;
  syn_options.window_scale = 7;
  syn_options.timestamps = wire::timestamps_option{10, 0};
  const auto syn = fixture::bytes({flags::syn, remote_iss, 0, 65535, {}, syn_options});
  std::vector<std::vector<std::byte>> from_peer;
  wire::options ts;
  ts.timestamps = wire::timestamps_option{11, 1000};
  from_peer.push_back(fixture::bytes({flags::ack, remote_iss + 1, local_iss + 1, 1000, {}, ts}));
  for (std::uint32_t i = 0; i < 20; ++i) {
    ts.timestamps->tsval = 12 + i;
    from_peer.push_back(fixture::bytes({flags::ack, remote_iss + 1 + 1000 * i, local_iss + 1 + 1448 * i, 1000,
                                        data(1000), ts}));
  }
  std::vector<std::byte> out(4096);
  std::array<std::byte, 1448> chunk{};
  const auto parse = [](const std::vector<std::byte>& b) {
    return *wire::parse(b, remote_address, local_address);
  };

  allocation_counter allocations;
  c.open_from_syn(seq{local_iss}, parse(syn), now);
  c.on_segment(parse(from_peer[0]), now);
  REQUIRE(c.current_state() == state::established);
  for (std::size_t i = 1; i < from_peer.size(); ++i) {
    now += 10ms;
    c.write(chunk, now);
    c.on_segment(parse(from_peer[i]), now);
    c.read(out, now);
    c.poll(now);
  }
  now += 1s;
  c.poll(now);  // a retransmission
  c.close(now);
  CHECK(allocations.count() == 0);
  CHECK(sink.segments > 20);
}
