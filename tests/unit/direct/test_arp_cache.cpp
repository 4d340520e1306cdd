// uk::direct::arp_cache, the sans-IO core of ARP: driven directly with
// explicit instants, no link, no clock.
#include "uk/direct/arp_cache.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using uk::instant;
using uk::ipv4_address;
using uk::mac_address;
using uk::direct::arp_cache;
using uk::direct::arp_cache_options;
using uk::direct::arp_merge;
using uk::direct::arp_state;

constexpr instant t0 = instant{} + 1000s;
constexpr std::uint16_t ipv4_type = 0x0800;

constexpr ipv4_address host(std::uint8_t last) { return ipv4_address::from_octets(10, 0, 0, last); }
constexpr mac_address mac_of(std::uint8_t last) { return {{0x02, 0, 0, 0, 0, last}}; }

/// A frame_filler that writes `text`.
struct text_filler {
  std::string text;
  std::size_t operator()(std::span<std::byte> out) const {
    const std::size_t n = std::min(out.size(), text.size());
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>(text[i]);
    return n;
  }
};

/// resolve() with a text payload.
uk::direct::arp_send_plan send(arp_cache& cache, ipv4_address ip, std::string text, instant now,
                               std::uint16_t type = ipv4_type) {
  text_filler fill{std::move(text)};
  return cache.resolve(ip, type, fill.text.size(), uk::frame_filler(fill), now);
}

/// hit(), as a value.
std::optional<mac_address> hit(arp_cache& cache, ipv4_address ip) {
  const mac_address* mac = cache.hit(ip);
  return mac ? std::optional(*mac) : std::nullopt;
}

/// The requests poll() asks for.
struct request_log {
  std::vector<std::pair<ipv4_address, mac_address>> sent;
  void operator()(ipv4_address ip, mac_address to) { sent.emplace_back(ip, to); }
};

/// The packets queued for `ip`, taken out of the cache in order.
std::vector<std::pair<std::uint16_t, std::string>> take(arp_cache& cache, ipv4_address ip) {
  std::vector<std::pair<std::uint16_t, std::string>> out;
  cache.take_pending(ip, [&](std::uint16_t type, std::span<const std::byte> bytes) {
    std::string s;
    for (std::byte b : bytes) s.push_back(static_cast<char>(b));
    out.emplace_back(type, s);
  });
  return out;
}

/// Polls at every deadline up to `until`, collecting the requests.
void poll_until(arp_cache& cache, instant until, request_log& log) {
  instant at = cache.next_deadline();
  while (at <= until) {
    at = cache.poll(at, log);
  }
  cache.poll(until, log);
}

}  // namespace

TEST_CASE("ARP cache: a send to an unknown address queues the packet and asks for a broadcast request",
          "[direct][arp_cache]") {
  arp_cache cache;
  const auto plan = send(cache, host(1), "first", t0);
  CHECK_FALSE(plan.send_to);
  REQUIRE(plan.request_to);
  CHECK(*plan.request_to == mac_address::broadcast());
  CHECK(plan.queued);
  const auto* e = cache.find(host(1));
  REQUIRE(e);
  CHECK(e->state == arp_state::incomplete);
  CHECK(e->tries == 1);
  CHECK(e->deadline == t0 + 1s);
  CHECK(e->pending == 1);
  CHECK(cache.pending_packets() == 1);
  CHECK(cache.pending_bytes() == arp_cache::record_header + 5);
  CHECK_FALSE(cache.lookup(host(1)));
  CHECK(cache.next_deadline() == t0 + 1s);

  SECTION("a second send while resolving queues without another request") {
    const auto again = send(cache, host(1), "second", t0 + 100ms);
    CHECK_FALSE(again.request_to);
    CHECK(again.queued);
    CHECK(cache.find(host(1))->pending == 2);
  }
  CHECK(cache.counters().cache_misses >= 1);
  CHECK(cache.counters().cache_hits == 0);
}

TEST_CASE("RFC 826: a merge resolves the entry and its packets come out in the order they were queued",
          "[direct][arp_cache]") {
  arp_cache cache;
  send(cache, host(1), "one", t0);
  send(cache, host(2), "other host", t0);
  send(cache, host(1), "two", t0, 0x86dd);
  send(cache, host(1), "three", t0);
  CHECK(cache.merge(host(1), mac_of(1), t0 + 10ms) == arp_merge::updated);
  const auto* e = cache.find(host(1));
  CHECK(e->state == arp_state::reachable);
  CHECK(e->mac == mac_of(1));
  CHECK(e->confirmed == t0 + 10ms);
  CHECK(e->deadline == t0 + 10ms + 60s);
  const auto packets = take(cache, host(1));
  REQUIRE(packets.size() == 3);
  CHECK(packets[0] == std::pair<std::uint16_t, std::string>{ipv4_type, "one"});
  CHECK(packets[1] == std::pair<std::uint16_t, std::string>{0x86dd, "two"});
  CHECK(packets[2] == std::pair<std::uint16_t, std::string>{ipv4_type, "three"});
  CHECK(cache.find(host(1))->pending == 0);
  // The other address's packet stays, intact, after the compaction.
  CHECK(cache.pending_packets() == 1);
  CHECK(cache.pending_bytes() == arp_cache::record_header + 10);
  CHECK(take(cache, host(2)).size() == 1);  // take_pending hands out whatever is queued, whatever the state
  CHECK(cache.pending_packets() == 0);
  CHECK(cache.counters().pending_queued == 4);
  CHECK(cache.counters().pending_flushed == 4);
  // Now resolved: the fast path.
  CHECK(hit(cache, host(1)) == mac_of(1));
  CHECK(cache.counters().cache_hits == 1);
}

TEST_CASE("ARP cache: retries back off exponentially, then the resolution fails and the queue is dropped",
          "[direct][arp_cache]") {
  arp_cache_options o;  // 3 tries, 1 s, x2, failed_hold 1 s
  arp_cache cache(o);
  request_log log;
  send(cache, host(1), "a", t0);
  send(cache, host(1), "b", t0);
  CHECK(cache.poll(t0 + 999ms, log) == t0 + 1s);
  CHECK(log.sent.empty());
  CHECK(cache.poll(t0 + 1s, log) == t0 + 3s);
  CHECK(cache.poll(t0 + 3s, log) == t0 + 7s);
  REQUIRE(log.sent.size() == 2);
  CHECK(log.sent[0] == std::pair{host(1), mac_address::broadcast()});
  CHECK(log.sent[1] == std::pair{host(1), mac_address::broadcast()});
  CHECK(cache.find(host(1))->tries == 3);
  CHECK(cache.find(host(1))->pending == 2);
  // After the third request's 4 s: give up.
  CHECK(cache.poll(t0 + 7s, log) == t0 + 8s);
  CHECK(log.sent.size() == 2);
  CHECK(cache.find(host(1))->state == arp_state::failed);
  CHECK(cache.pending_packets() == 0);
  CHECK(cache.pending_bytes() == 0);
  CHECK(cache.counters().resolution_failures == 1);
  CHECK(cache.counters().pending_dropped_failed == 2);

  SECTION("RFC 1122 2.3.2.1: while failed, sends are dropped without a new request") {
    const auto plan = send(cache, host(1), "c", t0 + 7500ms);
    CHECK(plan.dropped());
    CHECK_FALSE(plan.request_to);
    CHECK(cache.counters().tx_dropped_failed == 1);
  }
  SECTION("after failed_hold the entry is forgotten and a send resolves again") {
    CHECK(cache.poll(t0 + 8s, log) == uk::never);
    CHECK(cache.find(host(1)) == nullptr);
    const auto plan = send(cache, host(1), "d", t0 + 8s);
    CHECK(plan.request_to == mac_address::broadcast());
    CHECK(plan.queued);
  }
}

TEST_CASE("ARP cache: retry_wait is retry_initial times retry_factor to the power of the tries before",
          "[direct][arp_cache]") {
  arp_cache_options o;
  o.retry_initial = 500ms;
  o.retry_factor = 3;
  o.request_tries = 5;
  arp_cache cache(o);
  CHECK(cache.retry_wait(1) == 500ms);
  CHECK(cache.retry_wait(2) == 1500ms);
  CHECK(cache.retry_wait(3) == 4500ms);
  CHECK(cache.retry_wait(200) > 24h);  // saturates rather than overflows
  request_log log;
  send(cache, host(7), "x", t0);
  poll_until(cache, t0 + 60s, log);  // requests at 0, 0.5, 2, 6.5 and 20 s
  CHECK(log.sent.size() == 4);        // (the first one asked for by resolve())
  CHECK(cache.counters().resolution_failures == 0);
  poll_until(cache, t0 + 60500ms, log);  // 20 s + 40.5 s: give up
  CHECK(cache.counters().resolution_failures == 1);
}

TEST_CASE("RFC 1122 2.3.2.2: the queue is bounded per address and in total; overflow is counted",
          "[direct][arp_cache]") {
  arp_cache_options o;
  o.pending_per_address = 2;
  o.pending_bytes = 3 * (arp_cache::record_header + 10);
  arp_cache cache(o);
  const std::string ten = "0123456789";
  CHECK(send(cache, host(1), ten, t0).queued);
  CHECK(send(cache, host(1), ten, t0).queued);
  CHECK(send(cache, host(1), ten, t0).dropped());  // the third for one address
  CHECK(cache.counters().pending_dropped_address_full == 1);
  CHECK(send(cache, host(2), ten, t0).queued);
  CHECK(send(cache, host(2), ten, t0).dropped());  // fits per address, not in total
  CHECK(cache.counters().pending_dropped_total_full == 1);
  CHECK(send(cache, host(3), "", t0).queued);       // nothing to queue: nothing lost
  CHECK(cache.pending_bytes() == o.pending_bytes);
  CHECK(cache.pending_packets() == 3);
  // The oldest packets stay (a datagram's first fragments).
  CHECK(take(cache, host(1)).size() == 2);
  CHECK(send(cache, host(2), ten, t0).queued);  // room again
}

TEST_CASE("ARP cache: a packet larger than the whole queue is dropped and counted", "[direct][arp_cache]") {
  arp_cache_options o;
  o.pending_bytes = 100;
  arp_cache cache(o);
  CHECK(send(cache, host(1), std::string(93, 'x'), t0).dropped());
  CHECK(cache.counters().pending_dropped_total_full == 1);
  CHECK(send(cache, host(1), std::string(92, 'x'), t0).queued);
}

TEST_CASE("ARP cache: the table is bounded; a new entry evicts the least recently used one", "[direct][arp_cache]") {
  arp_cache_options o;
  o.capacity = 4;
  arp_cache cache(o);
  for (std::uint8_t i = 1; i <= 4; ++i) {
    send(cache, host(i), "p", t0);
    cache.merge(host(i), mac_of(i), t0);
    take(cache, host(i));
  }
  // Use 1, 3, 4: 2 is the least recently used.
  CHECK(cache.hit(host(1)));
  CHECK(cache.hit(host(3)));
  CHECK(cache.hit(host(4)));
  send(cache, host(5), "new", t0 + 1s);
  CHECK(cache.size() == 4);
  CHECK(cache.find(host(2)) == nullptr);
  CHECK(cache.find(host(5)) != nullptr);
  CHECK(cache.counters().evictions == 1);
  // 1 is now the least recently used: evicting it drops nothing queued,
  // evicting the incomplete 5 later drops its packet (counted).
  send(cache, host(6), "x", t0 + 2s);
  CHECK(cache.find(host(1)) == nullptr);
  CHECK(cache.hit(host(3)));
  CHECK(cache.hit(host(4)));
  send(cache, host(6), "y", t0 + 2s);  // touch 6
  send(cache, host(7), "z", t0 + 3s);
  CHECK(cache.find(host(5)) == nullptr);
  CHECK(cache.counters().pending_dropped_evicted == 1);
  CHECK(cache.counters().evictions == 3);
  CHECK(cache.size() == 4);
}

TEST_CASE("ARP cache: entries learnt from the network enter at the cold end, so a flood evicts only itself",
          "[direct][arp_cache]") {
  arp_cache_options o;
  o.capacity = 4;
  arp_cache cache(o);
  send(cache, host(1), "p", t0);
  cache.merge(host(1), mac_of(1), t0);
  take(cache, host(1));
  for (std::uint32_t i = 0; i < 1000; ++i) {
    CHECK(cache.add(ipv4_address{0xc0000200u + (i % 250)}, mac_of(9), t0));
    REQUIRE(cache.size() <= 4);
  }
  CHECK(cache.lookup(host(1)) == mac_of(1));
  // Three free entries, then each new flood address evicts the previous one
  // (the cold end); the first two flood addresses stay, and their repeats
  // (i = 250, 251, 500, 501, 750, 751) merely refresh them.
  CHECK(cache.counters().evictions == 1000 - 3 - 6);
}

TEST_CASE("ARP cache: static entries are never evicted, aged or merged over", "[direct][arp_cache]") {
  arp_cache_options o;
  o.capacity = 3;
  arp_cache cache(o);
  REQUIRE(cache.set_static(host(1), mac_of(1)));
  REQUIRE(cache.set_static(host(2), mac_of(2)));
  CHECK(cache.merge(host(1), mac_of(99), t0) == arp_merge::protected_);
  CHECK(cache.counters().static_protected == 1);
  CHECK(cache.merge(host(1), mac_of(1), t0) == arp_merge::protected_);
  CHECK(cache.counters().static_protected == 1);  // the same MAC is no attempt to change it
  CHECK_FALSE(cache.add(host(2), mac_of(99), t0));
  for (std::uint8_t i = 10; i < 20; ++i) send(cache, host(i), "x", t0);
  CHECK(cache.lookup(host(1)) == mac_of(1));
  CHECK(cache.lookup(host(2)) == mac_of(2));
  request_log log;
  poll_until(cache, t0 + 48h, log);
  CHECK(cache.find(host(1))->state == arp_state::permanent);
  CHECK(hit(cache, host(2)) == mac_of(2));
  REQUIRE(cache.set_static(host(3), mac_of(3)));
  CHECK_FALSE(cache.set_static(host(4), mac_of(4)));  // full of static entries
  CHECK(send(cache, host(5), "x", t0 + 48h).dropped());
  CHECK(cache.counters().tx_dropped_no_room == 1);
  CHECK_FALSE(cache.add(host(6), mac_of(6), t0));
}

TEST_CASE("ARP cache: a static entry replaces a resolution in progress, keeping its packets", "[direct][arp_cache]") {
  arp_cache cache;
  send(cache, host(1), "queued", t0);
  REQUIRE(cache.set_static(host(1), mac_of(1)));
  CHECK(cache.find(host(1))->state == arp_state::permanent);
  CHECK(take(cache, host(1)).size() == 1);
  request_log log;
  poll_until(cache, t0 + 10s, log);
  CHECK(log.sent.empty());
}

TEST_CASE("RFC 1122 2.3.2.1: an entry goes stale after reachable_time and is polled by unicast when used",
          "[direct][arp_cache]") {
  arp_cache cache;  // reachable 60 s
  request_log log;
  cache.add(host(1), mac_of(1), t0);
  CHECK(cache.next_deadline() == t0 + 60s);
  CHECK(cache.poll(t0 + 60s, log) == t0 + 20min);
  CHECK(cache.find(host(1))->state == arp_state::stale);
  CHECK(cache.lookup(host(1)) == mac_of(1));
  CHECK_FALSE(cache.hit(host(1)));  // the fast path leaves stale entries to resolve()

  const auto plan = send(cache, host(1), "x", t0 + 70s);
  CHECK(plan.send_to == mac_of(1));     // still used
  CHECK(plan.request_to == mac_of(1));  // and polled, point to point
  CHECK_FALSE(plan.queued);
  CHECK(cache.find(host(1))->state == arp_state::probe);
  CHECK(hit(cache, host(1)) == mac_of(1));

  SECTION("an answer makes it reachable again") {
    cache.merge(host(1), mac_of(1), t0 + 70500ms);
    CHECK(cache.find(host(1))->state == arp_state::reachable);
    CHECK(cache.find(host(1))->deadline == t0 + 70500ms + 60s);
  }
  SECTION("silence after the polls removes it; the next send resolves by broadcast") {
    poll_until(cache, t0 + 77s, log);
    REQUIRE(log.sent.size() == 2);
    CHECK(log.sent[0] == std::pair{host(1), mac_of(1)});
    CHECK(log.sent[1] == std::pair{host(1), mac_of(1)});
    CHECK(cache.find(host(1)) == nullptr);
    CHECK(cache.counters().probe_failures == 1);
    CHECK(send(cache, host(1), "y", t0 + 78s).request_to == mac_address::broadcast());
  }
}

TEST_CASE("RFC 1122 2.3.2.1: a stale entry nobody uses is removed stale_timeout after its confirmation",
          "[direct][arp_cache]") {
  arp_cache cache;
  request_log log;
  cache.add(host(1), mac_of(1), t0);
  cache.add(host(2), mac_of(2), t0 + 10min);
  poll_until(cache, t0 + 20min, log);
  CHECK(cache.find(host(1)) == nullptr);
  CHECK(cache.find(host(2))->state == arp_state::stale);
  CHECK(cache.counters().expired == 1);
  CHECK(cache.next_deadline() == t0 + 30min);
  CHECK(log.sent.empty());
}

TEST_CASE("RFC 1122 2.3.2.1: the timeout restarts whenever the entry is refreshed", "[direct][arp_cache]") {
  arp_cache cache;
  request_log log;
  cache.add(host(1), mac_of(1), t0);
  cache.merge(host(1), mac_of(1), t0 + 50s);
  poll_until(cache, t0 + 100s, log);
  CHECK(cache.find(host(1))->state == arp_state::reachable);
  poll_until(cache, t0 + 110s, log);
  CHECK(cache.find(host(1))->state == arp_state::stale);
}

TEST_CASE("RFC 826: a merge updates the MAC of a known host", "[direct][arp_cache]") {
  arp_cache cache;
  CHECK(cache.merge(host(1), mac_of(1), t0) == arp_merge::absent);
  CHECK(cache.find(host(1)) == nullptr);
  cache.add(host(1), mac_of(1), t0);
  CHECK(cache.merge(host(1), mac_of(2), t0 + 1s) == arp_merge::updated);
  CHECK(cache.lookup(host(1)) == mac_of(2));
}

TEST_CASE("ARP cache: a host that answers after its resolution failed is merged back", "[direct][arp_cache]") {
  arp_cache cache;
  request_log log;
  send(cache, host(1), "x", t0);
  cache.poll(t0 + 1s, log);
  cache.poll(t0 + 3s, log);
  cache.poll(t0 + 7s, log);
  REQUIRE(cache.find(host(1))->state == arp_state::failed);
  CHECK(cache.merge(host(1), mac_of(1), t0 + 7500ms) == arp_merge::updated);
  CHECK(hit(cache, host(1)) == mac_of(1));
}

TEST_CASE("ARP cache: remove() forgets an entry and drops its queue", "[direct][arp_cache]") {
  arp_cache cache;
  send(cache, host(1), "x", t0);
  CHECK(cache.remove(host(1)));
  CHECK_FALSE(cache.remove(host(1)));
  CHECK(cache.size() == 0);
  CHECK(cache.pending_bytes() == 0);
  CHECK(cache.counters().pending_dropped_failed == 1);
}

TEST_CASE("ARP cache: the table stays consistent with a model over random operations", "[direct][arp_cache]") {
  arp_cache_options o;
  o.capacity = 32;
  o.pending_per_address = 3;
  o.pending_bytes = 400;
  arp_cache cache(o);
  std::mt19937 rng(12345);
  instant now = t0;
  request_log log;
  for (int step = 0; step < 20000; ++step) {
    // Few distinct addresses, clustered in the hash, to exercise probing and deletion.
    const ipv4_address ip{0x0a000000u + static_cast<std::uint32_t>(rng() % 64) * 64};
    const mac_address mac = mac_of(static_cast<std::uint8_t>(rng() % 200 + 1));
    switch (rng() % 6) {
      case 0: send(cache, ip, std::string(rng() % 60, 'p'), now); break;
      case 1: cache.add(ip, mac, now); break;
      case 2: cache.merge(ip, mac, now); break;
      case 3: take(cache, ip); break;
      case 4: cache.remove(ip); break;
      case 5: now += std::chrono::milliseconds(rng() % 3000); cache.poll(now, log); break;
    }
    REQUIRE(cache.size() <= o.capacity);
    REQUIRE(cache.pending_bytes() <= o.pending_bytes);
    std::size_t entries = 0, pending = 0;
    cache.for_each([&](const uk::direct::arp_entry& e) {
      ++entries;
      pending += e.pending;
      REQUIRE(cache.find(e.ip) == &e);
      REQUIRE(e.pending <= o.pending_per_address);
      if (e.state == arp_state::failed) REQUIRE(e.pending == 0);
    });
    REQUIRE(entries == cache.size());
    REQUIRE(pending == cache.pending_packets());
    REQUIRE(cache.next_deadline() >= now);
  }
}
