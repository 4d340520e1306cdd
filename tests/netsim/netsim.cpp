// The netsim table (issue 9, after smoltcp's tests/netsim.rs): one bulk
// transfer between two sans-IO TCP connections over a simulated path, for
// every cell of a grid of random loss, round-trip time, socket buffer size,
// congestion control and SACK. Seeded and on virtual time, so the table is
// the same on every machine; it is kept in tests/netsim/snapshot.txt and a
// change in the core's behaviour shows as a diff.
//
// The path (each direction alike): a bottleneck link of `link_rate` bits per
// second with a drop-tail queue of `queue_packets` packets in front of it,
// then a propagation delay of RTT / 2, then random loss. Packets are sized
// as IPv4 datagrams (TCP segment + 20 bytes).
//
//   uk_netsim                     print the table
//   uk_netsim --snapshot FILE     print it and compare with FILE (exit 1 and a diff if it differs)
//   uk_netsim --snapshot FILE --update   rewrite FILE
//
// Documented in docs/netsim.md; scripts/netsim_plot.py draws docs/netsim.svg from the snapshot.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "uk/direct/tcp/connection.hpp"

namespace tcp = uk::direct::tcp;
namespace wire = uk::wire::tcp;
using namespace std::chrono_literals;
using uk::duration;
using uk::instant;
using uk::never;

namespace {

// ------------------------------------------------------------------ the grid

constexpr std::uint64_t link_rate = 100'000'000;  // bits per second
constexpr std::size_t queue_packets = 64;         // drop-tail queue at the bottleneck
constexpr std::uint64_t seed = 0x9e3779b97f4a7c15u;
/// A run that has not delivered everything after this much virtual time is reported as "timeout".
constexpr duration virtual_time_limit = 120s;

constexpr unsigned loss_per_mille[] = {0, 1, 10, 20, 50, 100, 200, 300};  // 0 to 30 %
constexpr unsigned rtt_ms[] = {1, 10, 50, 200};
constexpr std::size_t buffer_bytes[] = {64 * 1024, 256 * 1024, 1024 * 1024};

/// The transfer shrinks as loss grows, so the lossy corners stay affordable.
std::size_t transfer_bytes(unsigned loss) {
  if (loss <= 10) return 4 * 1024 * 1024;
  if (loss <= 50) return 1024 * 1024;
  if (loss <= 200) return 256 * 1024;  // 30 %: 64 KiB
  return 64 * 1024;
}

struct cell {
  tcp::congestion_algorithm algorithm;
  bool sack;
  unsigned loss;  // per mille
  unsigned rtt;   // ms
  std::size_t buffer;
};

struct outcome {
  bool complete = false;
  bool failed = false;           // the sender gave up (error::timed_out) or the data differed
  duration elapsed{};            // SYN sent to the last byte read by the receiver
  std::size_t delivered = 0;
  std::uint64_t retransmitted = 0;  // data segments sent again (counted on the wire)
  std::uint64_t timeouts = 0;       // the sender's retransmission timeouts
  std::uint64_t queue_drops = 0;    // packets dropped by the full bottleneck queue
};

// ------------------------------------------------------------------ the path

/// One direction of the path: drop-tail queue, bottleneck link, delay, loss.
struct one_way_path {
  duration delay{};
  unsigned loss_per_mille = 0;
  instant busy_until{};              // when the link finishes what it holds
  std::deque<instant> departures;    // when each queued packet leaves the link
  std::uint64_t drops = 0;

  /// When a packet of `bytes` offered at `now` arrives, or nullopt if lost.
  std::optional<instant> offer(std::size_t bytes, instant now, std::mt19937_64& rng) {
    while (!departures.empty() && departures.front() <= now) departures.pop_front();
    if (departures.size() >= queue_packets) {
      ++drops;
      return std::nullopt;
    }
    const duration transmission{static_cast<duration::rep>(bytes * 8 * 1'000'000'000 / link_rate)};
    busy_until = std::max(busy_until, now) + transmission;
    departures.push_back(busy_until);
    // The standard fixes mt19937_64's output, so this is the same everywhere
    // (unlike std::uniform_real_distribution).
    if (rng() % 1000 < loss_per_mille) return std::nullopt;
    return busy_until + delay;
  }
};

/// The byte at `offset` of the transfer: a pattern the receiver checks.
std::byte pattern(std::size_t offset) {
  return static_cast<std::byte>((offset * 2654435761u) >> 11);
}

// ------------------------------------------------------------------ one run

struct simulation {
  std::mt19937_64 rng;
  instant now{std::chrono::seconds{1}};
  one_way_path forward, backward;  // sender to receiver (data), and back (ACKs)
  // In flight: arrival time -> (to the receiver?, the IPv4 payload).
  std::multimap<instant, std::pair<bool, std::vector<std::byte>>> in_flight;
  // A connection keeps its config, environment and counters by reference:
  // they are declared before the connections, which are destroyed first.
  tcp::connection_config config;
  tcp::connection_counters sender_counters, receiver_counters;
  tcp::connection_environment sender_environment, receiver_environment;
  std::unique_ptr<tcp::connection> sender, receiver;
  std::size_t total = 0, written = 0, received = 0;
  bool corrupt = false;
  std::uint32_t highest_sent = 0;  // sequence space (relative to the ISN) sent so far
  bool any_sent = false;
  std::uint64_t retransmitted = 0;

  static constexpr std::uint32_t sender_iss = 0x7ffffff0u;

  static tcp::four_tuple sender_tuple() {
    return {{uk::ipv4_address::from_octets(10, 0, 0, 1), 40000}, {uk::ipv4_address::from_octets(10, 0, 0, 2), 80}};
  }
  static tcp::four_tuple receiver_tuple() { return {sender_tuple().remote, sender_tuple().local}; }

  bool from_sender(const tcp::four_tuple& t, const tcp::outgoing_segment& s) {
    if (s.header.payload_length > 0) {
      // A data segment that does not reach past what was sent before is a retransmission.
      const std::uint32_t end = s.header.sequence_number - sender_iss + static_cast<std::uint32_t>(s.header.payload_length);
      if (any_sent && end <= highest_sent) ++retransmitted;
      if (!any_sent || end > highest_sent) highest_sent = end;
      any_sent = true;
    }
    return carry(t, s, true);
  }
  bool from_receiver(const tcp::four_tuple& t, const tcp::outgoing_segment& s) { return carry(t, s, false); }

  bool carry(const tcp::four_tuple& t, const tcp::outgoing_segment& s, bool to_receiver) {
    std::vector<std::byte> bytes(s.header.buffer_length());
    std::size_t at = s.header.header_length();
    for (const auto& piece : s.payload) {
      std::copy(piece.begin(), piece.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at));
      at += piece.size();
    }
    wire::emit(s.header, bytes, t.local.address, t.remote.address);
    one_way_path& path = to_receiver ? forward : backward;
    if (auto arrival = path.offer(bytes.size() + 20, now, rng)) {
      in_flight.emplace(*arrival, std::make_pair(to_receiver, std::move(bytes)));
    }
    return true;
  }
  void make_environments() {
    sender_environment.send = tcp::segment_sink::bind<&simulation::from_sender>(*this);
    sender_environment.counters = &sender_counters;
    receiver_environment.send = tcp::segment_sink::bind<&simulation::from_receiver>(*this);
    receiver_environment.counters = &receiver_counters;
  }

  void deliver(bool to_receiver, const std::vector<std::byte>& bytes) {
    const tcp::four_tuple t = to_receiver ? receiver_tuple() : sender_tuple();
    auto parsed = wire::parse(bytes, t.remote.address, t.local.address);
    if (!parsed) {
      corrupt = true;
      return;
    }
    if (!to_receiver) {
      if (!sender->is_closed()) sender->on_segment(*parsed, now);
      return;
    }
    if (!receiver) {
      if (!parsed->syn() || parsed->ack()) return;  // a listener ignores anything but a SYN
      receiver = std::make_unique<tcp::connection>(receiver_tuple(), config, receiver_environment);
      receiver->open_from_syn(tcp::seq{0xfffff000u}, *parsed, now);
      return;
    }
    if (!receiver->is_closed()) receiver->on_segment(*parsed, now);
  }

  void pump_applications() {
    std::array<std::byte, 16384> chunk;
    while (written < total) {
      const std::size_t n = std::min(chunk.size(), total - written);
      for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern(written + i);
      const std::size_t accepted = sender->write(std::span(chunk).first(n), now);
      written += accepted;
      if (accepted < n) break;
    }
    if (!receiver) return;
    for (;;) {
      const std::size_t n = receiver->read(chunk, now);
      if (n == 0) break;
      for (std::size_t i = 0; i < n; ++i) {
        if (chunk[i] != pattern(received + i)) corrupt = true;
      }
      received += n;
    }
  }

  outcome run(const cell& c) {
    rng.seed(seed ^ (std::uint64_t{c.loss} << 40) ^ (std::uint64_t{c.rtt} << 20) ^ c.buffer);
    total = transfer_bytes(c.loss);
    config.send_buffer = config.receive_buffer = c.buffer;
    config.congestion = c.algorithm;
    config.sack = c.sack;
    forward.delay = backward.delay = std::chrono::microseconds{c.rtt * 500};
    forward.loss_per_mille = backward.loss_per_mille = c.loss;

    const instant started = now;
    make_environments();
    sender = std::make_unique<tcp::connection>(sender_tuple(), config, sender_environment);
    sender->open(tcp::seq{sender_iss}, now);
    outcome o;
    while (now - started < virtual_time_limit) {
      pump_applications();
      if (received >= total || corrupt || sender->is_closed()) break;
      instant next = sender->next_deadline();
      if (receiver) next = std::min(next, receiver->next_deadline());
      if (!in_flight.empty()) next = std::min(next, in_flight.begin()->first);
      if (next == never) break;  // stuck: nothing will ever happen again
      now = std::max(now, next);
      while (!in_flight.empty() && in_flight.begin()->first <= now) {
        auto node = in_flight.extract(in_flight.begin());
        deliver(node.mapped().first, node.mapped().second);
      }
      if (sender->next_deadline() <= now) sender->poll(now);
      if (receiver && receiver->next_deadline() <= now) receiver->poll(now);
    }
    o.complete = received == total && !corrupt;
    o.failed = corrupt || (sender->is_closed() && received < total);
    o.elapsed = now - started;
    o.delivered = received;
    o.retransmitted = retransmitted;
    o.timeouts = sender_counters.retransmission_timeouts;
    o.queue_drops = forward.drops + backward.drops;
    return o;
  }
};

// ------------------------------------------------------------------ the table

const char* name(tcp::congestion_algorithm a) {
  return a == tcp::congestion_algorithm::cubic ? "cubic" : "newreno";
}

std::string row(const cell& c, const outcome& o) {
  char loss[16], completion[24], rate[24];
  std::snprintf(loss, sizeof loss, "%u.%u", c.loss / 10, c.loss % 10);
  const auto us = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(o.elapsed).count());
  // Integer arithmetic only: the same digits on every machine.
  const std::uint64_t kbit_per_s = us == 0 ? 0 : o.delivered * 8 * 1000 / us;
  std::snprintf(rate, sizeof rate, "%llu.%03llu", static_cast<unsigned long long>(kbit_per_s / 1000),
                static_cast<unsigned long long>(kbit_per_s % 1000));
  if (o.complete) {
    std::snprintf(completion, sizeof completion, "%llu", static_cast<unsigned long long>(us / 1000));
  } else {
    std::snprintf(completion, sizeof completion, "%s", o.failed ? "failed" : "timeout");
  }
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %-4s %5s %5u %6zu %8zu %10s %9s %7llu %6llu %7llu", name(c.algorithm),
                c.sack ? "on" : "off", loss, c.rtt, c.buffer / 1024, o.delivered / 1024, completion, rate,
                static_cast<unsigned long long>(o.retransmitted), static_cast<unsigned long long>(o.timeouts),
                static_cast<unsigned long long>(o.queue_drops));
  return line;
}

std::string table() {
  std::ostringstream out;
  out << "# uk netsim: one bulk transfer per row over a " << link_rate / 1'000'000 << " Mbit/s bottleneck with a "
      << queue_packets << "-packet drop-tail queue,\n"
      << "# random loss in both directions, RTT/2 delay each way; virtual time, limit "
      << std::chrono::duration_cast<std::chrono::seconds>(virtual_time_limit).count() << " s per run.\n"
      << "# loss in %, rtt in ms, buffer (send and receive) and sent in KiB, completion in ms\n"
      << "# (\"timeout\": not all delivered within the limit), rate = delivered / elapsed in Mbit/s,\n"
      << "# rtx = data segments sent again, rto = retransmission timeouts, qdrop = queue drops.\n"
      << "# Regenerate: uk_netsim --snapshot tests/netsim/snapshot.txt --update (docs/netsim.md)\n";
  char header[256];
  std::snprintf(header, sizeof header, "%-8s %-4s %5s %5s %6s %8s %10s %9s %7s %6s %7s", "algo", "sack", "loss",
                "rtt", "buffer", "sent", "completion", "rate", "rtx", "rto", "qdrop");
  out << header << '\n';
  for (auto algorithm : {tcp::congestion_algorithm::newreno, tcp::congestion_algorithm::cubic}) {
    for (bool sack : {false, true}) {
      for (unsigned rtt : rtt_ms) {
        for (std::size_t buffer : buffer_bytes) {
          for (unsigned loss : loss_per_mille) {
            const cell c{algorithm, sack, loss, rtt, buffer};
            simulation sim;
            out << row(c, sim.run(c)) << '\n';
          }
        }
      }
    }
  }
  return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

/// Prints the lines that differ, as "-snapshot" / "+now" pairs (the rows line up one to one).
void print_difference(const std::string& expected, const std::string& actual) {
  const auto e = lines_of(expected), a = lines_of(actual);
  const std::size_t n = std::max(e.size(), a.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string* el = i < e.size() ? &e[i] : nullptr;
    const std::string* al = i < a.size() ? &a[i] : nullptr;
    if (el && al && *el == *al) continue;
    if (el) std::printf("-%s\n", el->c_str());
    if (al) std::printf("+%s\n", al->c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* snapshot = nullptr;
  bool update = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--update") == 0) {
      update = true;
    } else if (std::strcmp(argv[i], "--snapshot") == 0 && i + 1 < argc) {
      snapshot = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--snapshot FILE [--update]]\n", argv[0]);
      return 2;
    }
  }
  const std::string now = table();
  if (!snapshot) {
    std::fputs(now.c_str(), stdout);
    return 0;
  }
  if (update) {
    std::ofstream(snapshot, std::ios::binary) << now;
    std::printf("netsim: wrote %s\n", snapshot);
    return 0;
  }
  std::ifstream in(snapshot, std::ios::binary);
  std::ostringstream expected;
  expected << in.rdbuf();
  if (expected.str() == now) {
    std::printf("netsim: the table matches %s\n", snapshot);
    return 0;
  }
  std::printf("netsim: the table differs from %s (-snapshot, +now); if the change is intended, run\n"
              "  %s --snapshot %s --update\n",
              snapshot, argv[0], snapshot);
  print_difference(expected.str(), now);
  return 1;
}
