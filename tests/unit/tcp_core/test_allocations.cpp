// The connection's hot path allocates nothing: its buffers take their
// storage from a buffer_pool when data is first queued and give it back when
// they drain, and the pool lends the same blocks again. This file replaces the
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

TEST_CASE("The connection's data path allocates nothing once its pool lent each buffer once") {
  quiet_sink sink;
  uk::direct::tcp::buffer_pool pool(2);
  connection_environment env;
  uk::direct::tcp::connection_counters counters;
  env.counters = &counters;
  env.send = uk::direct::tcp::segment_sink::bind<&quiet_sink::on_send>(sink);
  env.buffers = &pool;
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

  c.open_from_syn(seq{local_iss}, parse(syn), now);
  c.on_segment(parse(from_peer[0]), now);
  REQUIRE(c.current_state() == state::established);
  // Established and idle: no buffer held.
  CHECK(pool.counters().bytes_lent == 0);
  CHECK(pool.counters().allocations == 0);

  // The first round takes both buffers from the heap; every later one reuses them.
  now += 10ms;
  c.write(chunk, now);
  c.on_segment(parse(from_peer[1]), now);
  c.read(out, now);
  c.poll(now);
  CHECK(pool.counters().allocations == 2);

  allocation_counter allocations;
  for (std::size_t i = 2; i < from_peer.size(); ++i) {
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
  CHECK(pool.counters().reuses > 10);  // the buffers drained and were lent again
  CHECK(pool.counters().allocations == 2);
}

TEST_CASE("An idle connection holds no buffer: storage is taken when data is queued and given back when it drains") {
  quiet_sink sink;
  uk::direct::tcp::buffer_pool pool(4);
  uk::direct::tcp::connection_counters counters;
  connection_environment env;
  env.send = uk::direct::tcp::segment_sink::bind<&quiet_sink::on_send>(sink);
  env.buffers = &pool;
  env.counters = &counters;
  connection_config config;
  config.send_buffer = 32 * 1024;
  config.receive_buffer = 16 * 1024;
  config.timestamps = false;
  connection c(fixture::tuple(), config, env);
  instant now{std::chrono::seconds{1}};
  const auto parse = [](const std::vector<std::byte>& b) {
    return *wire::parse(b, remote_address, local_address);
  };
  c.open_from_syn(seq{local_iss}, parse(fixture::bytes({flags::syn, remote_iss, 0, 65535})), now);
  c.on_segment(parse(fixture::bytes({flags::ack, remote_iss + 1, local_iss + 1, 65535})), now);
  REQUIRE(c.current_state() == state::established);
  CHECK(pool.counters().bytes_lent == 0);
  const std::size_t window = sink.last.window;

  // The peer sends 100 bytes: the receive buffer is lent, and the window is
  // still the capacity minus what is held (RFC 9293 3.8.6.2.2).
  c.on_segment(parse(fixture::bytes({flags::ack | flags::psh, remote_iss + 1, local_iss + 1, 65535, data(100)})), now);
  CHECK(pool.counters().bytes_lent == 16 * 1024 + uk::direct::tcp::receive_buffer::max_ranges * sizeof(uk::direct::tcp::receive_buffer::range));  // the ring and its range list
  c.poll(now + 1s);  // the delayed ACK
  CHECK(sink.last.window == window - 100);
  std::array<std::byte, 200> out{};
  CHECK(c.read(out, now + 1s) == 100);
  CHECK(pool.counters().bytes_lent == 0);

  // The application writes 10 bytes: the send buffer is lent until the peer acknowledges them.
  const std::array<std::byte, 10> ten{};
  CHECK(c.write(ten, now + 1s) == 10);
  CHECK(pool.counters().bytes_lent == 32 * 1024);
  c.on_segment(parse(fixture::bytes({flags::ack, remote_iss + 101, local_iss + 6, 65535})), now + 1s);
  CHECK(pool.counters().bytes_lent == 32 * 1024);  // half acknowledged: still held
  c.on_segment(parse(fixture::bytes({flags::ack, remote_iss + 101, local_iss + 11, 65535})), now + 1s);
  CHECK(pool.counters().bytes_lent == 0);
  CHECK(pool.cached() == 2);
  CHECK(pool.counters().releases == 2);
}

TEST_CASE("buffer_pool: keeps at most max_cached drained blocks and frees the rest") {
  uk::direct::tcp::buffer_pool pool(2);
  std::byte* a = pool.acquire(4096);
  std::byte* b = pool.acquire(4096);
  std::byte* c = pool.acquire(4096);
  CHECK(pool.counters().allocations == 3);
  CHECK(pool.counters().bytes_lent == 3 * 4096);
  pool.release(a, 4096);
  pool.release(b, 4096);
  pool.release(c, 4096);
  CHECK(pool.cached() == 2);
  CHECK(pool.counters().freed == 1);
  CHECK(pool.counters().bytes_cached == 2 * 4096);
  CHECK(pool.counters().bytes_lent == 0);
  std::byte* d = pool.acquire(4096);
  CHECK((d == b || d == a));
  CHECK(pool.counters().reuses == 1);
  std::byte* e = pool.acquire(1024);  // another size: from the heap
  CHECK(pool.counters().allocations == 4);
  pool.release(d, 4096);
  pool.release(e, 1024);
  CHECK(pool.cached() == 2);  // 4096 cached; the 1024 block found the cache full
  pool.trim(0);
  CHECK(pool.cached() == 0);
  CHECK(pool.counters().bytes_cached == 0);
}
