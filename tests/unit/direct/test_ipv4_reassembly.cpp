// uk::direct::ipv4_reassembly: RFC 791 3.2 reassembly, RFC 1122 3.3.2
// timeouts, and the bounds (overlaps, duplicates, sizes, memory, fragments).
#include <catch2/catch.hpp>

#include <uk/direct/ipv4_reassembly.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace {

using namespace std::chrono_literals;
using uk::ipv4_address;
using uk::direct::ipv4_reassembly;
using uk::direct::ipv4_reassembly_drop;
using uk::direct::ipv4_reassembly_options;
using status = ipv4_reassembly::status;
namespace ipv4 = uk::wire::ipv4;

const ipv4_address peer = *ipv4_address::parse("10.0.0.1");
const ipv4_address us = *ipv4_address::parse("10.0.0.2");
const uk::instant t0 = uk::instant{} + 1s;

std::vector<std::byte> pattern(std::size_t n, unsigned seed = 1) {
  std::vector<std::byte> v(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::byte>(x >> 24);
  }
  return v;
}

/// Cuts one datagram's payload into fragments, as a sender would (RFC 791 3.2).
struct datagram_source {
  ipv4::repr header;
  std::vector<std::byte> payload;

  explicit datagram_source(std::size_t size, std::uint16_t id = 0x1234, unsigned seed = 1)
      : payload(pattern(size, seed)) {
    header.src = peer;
    header.dst = us;
    header.protocol = ipv4::protocol_number::udp;
    header.identification = id;
  }

  /// The fragment carrying data octets [offset, offset + length) with MF = more.
  std::vector<std::byte> fragment(std::size_t offset, std::size_t length, bool more) const {
    ipv4::repr r = header;
    r.fragment_offset = static_cast<std::uint16_t>(offset);
    r.more_fragments = more;
    r.payload_length = static_cast<std::uint16_t>(length);
    std::vector<std::byte> out(ipv4::min_header_length + length);
    ipv4::emit(r, out);
    std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(offset), length, out.begin() + 20);
    return out;
  }

  /// Every fragment of `piece` data octets (the last shorter).
  std::vector<std::vector<std::byte>> fragments(std::size_t piece) const {
    std::vector<std::vector<std::byte>> out;
    for (std::size_t at = 0; at < payload.size(); at += piece) {
      const std::size_t n = std::min(piece, payload.size() - at);
      out.push_back(fragment(at, n, at + n < payload.size()));
    }
    return out;
  }
};

ipv4::view view_of(const std::vector<std::byte>& bytes) {
  auto v = ipv4::parse(bytes);
  REQUIRE(v);
  return *v;
}

ipv4_reassembly::add_result add(ipv4_reassembly& core, const std::vector<std::byte>& bytes, uk::instant now = t0) {
  return core.add(now, view_of(bytes));
}

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

TEST_CASE("RFC 791 3.2: fragments arriving in order are reassembled", "[ipv4_reassembly]") {
  ipv4_reassembly core;
  const datagram_source d(3000);
  const auto parts = d.fragments(1480);
  REQUIRE(parts.size() == 3);
  CHECK(add(core, parts[0]).state == status::incomplete);
  CHECK(add(core, parts[1]).state == status::incomplete);
  CHECK(core.in_progress() == 1);
  const auto r = add(core, parts[2]);
  REQUIRE(r.state == status::complete);
  CHECK(same(r.payload, d.payload));
  // The header handed back is the first fragment's, as received.
  CHECK(same(r.header, std::span(parts[0]).first(20)));
  CHECK(core.in_progress() == 0);
  CHECK(core.bytes_buffered() == 0);
  CHECK(core.counters().reassembled == 1);
  CHECK(core.counters().fragments == 3);
}

TEST_CASE("RFC 791 3.2: fragments arriving out of order are reassembled", "[ipv4_reassembly]") {
  const datagram_source d(60000);
  auto parts = d.fragments(1480);
  REQUIRE(parts.size() == 41);
  SECTION("reversed") { std::reverse(parts.begin(), parts.end()); }
  SECTION("interleaved: odd ones first") {
    std::stable_partition(parts.begin(), parts.end(), [&](const auto& p) {
      return (view_of(p).fragment_offset() / 1480) % 2 == 1;
    });
  }
  SECTION("last first, then the rest in order") { std::rotate(parts.begin(), parts.end() - 1, parts.end()); }
  ipv4_reassembly core;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) REQUIRE(add(core, parts[i]).state == status::incomplete);
  const auto r = add(core, parts.back());
  REQUIRE(r.state == status::complete);
  CHECK(same(r.payload, d.payload));
  const auto first = ipv4::parse_quoted(r.header);
  REQUIRE(first);
  CHECK(first->fragment_offset() == 0);
  CHECK(first->more_fragments());
}

TEST_CASE("RFC 791 3.2: the header returned is the first fragment's, options included", "[ipv4_reassembly]") {
  const datagram_source d(1000);
  auto first = d.fragment(0, 512, true);
  // Rebuild the first fragment with IHL 6: one 4-byte option (NOP x3, EOL).
  std::vector<std::byte> with_option(24 + 512);
  std::copy_n(first.begin(), 20, with_option.begin());
  with_option[0] = std::byte{0x46};
  with_option[20] = with_option[21] = with_option[22] = std::byte{1};
  with_option[23] = std::byte{0};
  std::copy_n(first.begin() + 20, 512, with_option.begin() + 24);
  uk::detail::store_be16(with_option.data() + 2, static_cast<std::uint16_t>(with_option.size()));
  uk::detail::store_be16(with_option.data() + 10, 0);
  uk::detail::store_be16(with_option.data() + 10,
                         uk::wire::checksum::compute(std::span(with_option).first(24)));
  ipv4_reassembly core;
  CHECK(add(core, d.fragment(512, 488, false)).state == status::incomplete);
  const auto r = add(core, with_option);
  REQUIRE(r.state == status::complete);
  CHECK(r.header.size() == 24);
  CHECK(same(r.header, std::span(with_option).first(24)));
  CHECK(same(r.payload, d.payload));
}

TEST_CASE("A datagram that is not a fragment passes through untouched", "[ipv4_reassembly]") {
  const datagram_source d(100);
  const auto whole = d.fragment(0, 100, false);
  ipv4_reassembly core;
  const auto r = add(core, whole);
  REQUIRE(r.state == status::complete);
  CHECK(r.payload.data() == whole.data() + 20);
  CHECK(core.counters().fragments == 0);
}

TEST_CASE("RFC 8200 4.5: an exact duplicate fragment is ignored, the datagram kept", "[ipv4_reassembly]") {
  ipv4_reassembly core;
  const datagram_source d(3000);
  const auto parts = d.fragments(1480);
  CHECK(add(core, parts[1]).state == status::incomplete);
  CHECK(add(core, parts[1]).state == status::duplicate);
  CHECK(add(core, parts[0]).state == status::incomplete);
  CHECK(add(core, parts[0]).state == status::duplicate);
  CHECK(add(core, parts[2]).state == status::complete);
  CHECK(core.counters().duplicates == 2);
  CHECK(core.counters().dropped() == 0);
  // After completion a late duplicate starts a new (never completed) datagram.
  CHECK(add(core, parts[2]).state == status::incomplete);
  CHECK(core.in_progress() == 1);
}

TEST_CASE("RFC 1858, RFC 3128: overlapping fragments drop the whole datagram", "[ipv4_reassembly]") {
  ipv4_reassembly core;
  const datagram_source d(3000);
  CHECK(add(core, d.fragment(0, 1480, true)).state == status::incomplete);
  std::vector<std::byte> overlapping;
  SECTION("a fragment starting inside held data") { overlapping = d.fragment(1472, 1480, true); }
  SECTION("a fragment ending inside held data") {
    // held: [0,1480) and [2000,3000); new [1480, 2008) ends inside the second
    CHECK(add(core, d.fragment(2000, 1000, false)).state == status::incomplete);
    overlapping = d.fragment(1480, 528, true);
  }
  SECTION("same start, another length (the RFC 3128 tiny-fragment rewrite)") {
    overlapping = d.fragment(0, 8, true);
  }
  SECTION("a fragment covering held data") { overlapping = d.fragment(0, 1488, true); }
  SECTION("a fragment inside held data") { overlapping = d.fragment(8, 16, true); }
  const auto r = add(core, overlapping);
  CHECK(r.state == status::dropped);
  CHECK(r.reason == ipv4_reassembly_drop::overlap);
  CHECK(core.counters().dropped_overlap == 1);
  CHECK(core.in_progress() == 0);
  CHECK(core.bytes_buffered() == 0);
}

TEST_CASE("After an overlap the remaining fragments never complete a datagram", "[ipv4_reassembly]") {
  ipv4_reassembly core;
  const datagram_source d(3000);
  const auto parts = d.fragments(1480);
  CHECK(add(core, parts[0]).state == status::incomplete);
  CHECK(add(core, d.fragment(8, 8, true)).state == status::dropped);
  CHECK(add(core, parts[1]).state == status::incomplete);
  CHECK(add(core, parts[2]).state == status::incomplete);  // fragment 0 went with the dropped datagram
  CHECK(core.counters().reassembled == 0);
}

TEST_CASE("RFC 791 3.2: a non-last fragment's data is a non-zero multiple of 8 octets", "[ipv4_reassembly]") {
  ipv4_reassembly core;
  const datagram_source d(3000);
  CHECK(add(core, d.fragment(0, 1480, true)).state == status::incomplete);
  SECTION("12 octets with MF") {
    const auto r = add(core, d.fragment(1480, 12, true));
    CHECK(r.state == status::dropped);
    CHECK(r.reason == ipv4_reassembly_drop::bad_fragment_length);
  }
  SECTION("0 octets with MF") {
    const auto r = add(core, d.fragment(1480, 0, true));
    CHECK(r.state == status::dropped);
    CHECK(r.reason == ipv4_reassembly_drop::bad_fragment_length);
  }
  CHECK(core.counters().dropped_bad_fragment_length == 1);
  CHECK(core.in_progress() == 0);
}

TEST_CASE("RFC 791 3.2: a zero-length last fragment ends the datagram", "[ipv4_reassembly]") {
  ipv4_reassembly core;
  const datagram_source d(1480);
  CHECK(add(core, d.fragment(0, 1480, true)).state == status::incomplete);
  const auto r = add(core, d.fragment(1480, 0, false));
  REQUIRE(r.state == status::complete);
  CHECK(same(r.payload, d.payload));
}

TEST_CASE("The last fragment fixes the length: contradictions drop the datagram", "[ipv4_reassembly]") {
  ipv4_reassembly core;
  const datagram_source d(4000);
  std::vector<std::byte> contradiction;
  SECTION("a second last fragment with another end") {
    CHECK(add(core, d.fragment(2960, 1040, false)).state == status::incomplete);
    contradiction = d.fragment(1480, 1480, false);
  }
  SECTION("a last fragment ending before data already held") {
    CHECK(add(core, d.fragment(2960, 1040, true)).state == status::incomplete);
    contradiction = d.fragment(1480, 1480, false);
  }
  SECTION("an MF fragment reaching past the known end") {
    CHECK(add(core, d.fragment(1480, 1480, false)).state == status::incomplete);
    contradiction = d.fragment(2960, 1040, true);
  }
  SECTION("an MF fragment ending exactly at the known end") {
    CHECK(add(core, d.fragment(2960, 1040, false)).state == status::incomplete);
    contradiction = d.fragment(1480, 1480 + 1040, true);
  }
  const auto r = add(core, contradiction);
  CHECK(r.state == status::dropped);
  CHECK(r.reason == ipv4_reassembly_drop::inconsistent_length);
  CHECK(core.counters().dropped_inconsistent_length == 1);
  CHECK(core.in_progress() == 0);
}

TEST_CASE("RFC 791 3.1: a datagram is at most 65535 octets, header included", "[ipv4_reassembly]") {
  ipv4_reassembly core;
  SECTION("the largest datagram (65515 data octets) is reassembled") {
    const datagram_source d(65515);
    auto parts = d.fragments(1480);
    std::reverse(parts.begin(), parts.end());
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) REQUIRE(add(core, parts[i]).state == status::incomplete);
    const auto r = add(core, parts.back());
    REQUIRE(r.state == status::complete);
    CHECK(same(r.payload, d.payload));
  }
  SECTION("ping of death: a fragment at offset 65528 with 16 octets") {
    const datagram_source d(65528 + 16);
    CHECK(add(core, d.fragment(0, 1480, true)).state == status::incomplete);
    const auto r = add(core, d.fragment(65528, 16, false));
    CHECK(r.state == status::dropped);
    CHECK(r.reason == ipv4_reassembly_drop::too_big);
    CHECK(core.counters().dropped_too_big == 1);
    CHECK(core.in_progress() == 0);
  }
  SECTION("one octet too many") {
    const datagram_source d(65516);
    const auto r = add(core, d.fragment(65512, 4, false));
    CHECK(r.state == status::dropped);
    CHECK(r.reason == ipv4_reassembly_drop::too_big);
  }
  SECTION("a smaller max_datagram_size is enforced") {
    ipv4_reassembly small({.max_datagram_size = 1500});
    const datagram_source d(2000);
    CHECK(small.add(t0, view_of(d.fragment(0, 1480, true))).state == status::incomplete);
    CHECK(small.add(t0, view_of(d.fragment(1480, 520, false))).reason == ipv4_reassembly_drop::too_big);
  }
}

TEST_CASE("At most max_fragments_per_datagram fragments are held per datagram", "[ipv4_reassembly]") {
  ipv4_reassembly core({.max_fragments_per_datagram = 4});
  const datagram_source d(80);
  for (std::size_t at = 0; at < 32; at += 8) REQUIRE(add(core, d.fragment(at, 8, true)).state == status::incomplete);
  const auto r = add(core, d.fragment(32, 48, false));
  CHECK(r.state == status::dropped);
  CHECK(r.reason == ipv4_reassembly_drop::too_many_fragments);
  CHECK(core.counters().dropped_too_many_fragments == 1);
  CHECK(core.in_progress() == 0);
  CHECK(core.bytes_buffered() == 0);
}

TEST_CASE("RFC 791 3.2: fragments are matched by source, destination, protocol and identification",
          "[ipv4_reassembly]") {
  ipv4_reassembly core;
  datagram_source a(2000, 7, 1), b(2000, 7, 2), c(2000, 8, 3), e(2000, 7, 4);
  b.header.protocol = ipv4::protocol_number::icmp;
  e.header.src = *ipv4_address::parse("10.0.0.3");
  for (const auto* d : {&a, &b, &c, &e}) REQUIRE(add(core, d->fragment(0, 1480, true)).state == status::incomplete);
  CHECK(core.in_progress() == 4);
  for (const auto* d : {&e, &c, &b, &a}) {
    const auto r = add(core, d->fragment(1480, 520, false));
    REQUIRE(r.state == status::complete);
    CHECK(same(r.payload, d->payload));
  }
}

TEST_CASE("RFC 1122 3.3.2: an incomplete datagram expires a fixed time after its first fragment",
          "[ipv4_reassembly]") {
  ipv4_reassembly core;  // 30 s
  const datagram_source d(3000);
  const auto parts = d.fragments(1480);
  CHECK(core.poll(t0) == uk::never);
  CHECK(add(core, parts[0], t0).state == status::incomplete);
  CHECK(core.poll(t0) == t0 + 30s);
  // A later fragment does not extend the timer (RFC 1122: not set from the TTL either).
  CHECK(add(core, parts[1], t0 + 20s).state == status::incomplete);
  CHECK(core.poll(t0 + 29s) == t0 + 30s);
  CHECK(core.in_progress() == 1);
  CHECK(core.poll(t0 + 30s) == uk::never);
  CHECK(core.in_progress() == 0);
  CHECK(core.bytes_buffered() == 0);
  CHECK(core.counters().timed_out == 1);
  // The last fragment alone now starts a new datagram.
  CHECK(add(core, parts[2], t0 + 31s).state == status::incomplete);
}

TEST_CASE("RFC 1122 3.3.2: an expired datagram is expired by add() too, without poll()", "[ipv4_reassembly]") {
  ipv4_reassembly core({.timeout = 10s});
  const datagram_source d(3000);
  const auto parts = d.fragments(1480);
  CHECK(add(core, parts[0], t0).state == status::incomplete);
  CHECK(add(core, parts[1], t0).state == status::incomplete);
  CHECK(add(core, parts[2], t0 + 10s).state == status::incomplete);
  CHECK(core.counters().timed_out == 1);
}

TEST_CASE("RFC 1122 3.3.2: expiry reports the first fragment's header for ICMP Time Exceeded",
          "[ipv4_reassembly]") {
  ipv4_reassembly core;
  struct recorder {
    std::vector<std::vector<std::byte>> headers, data;
    void operator()(const ipv4_reassembly::expired_datagram& e) {
      headers.emplace_back(e.header.begin(), e.header.end());
      data.emplace_back(e.leading_data.begin(), e.leading_data.end());
    }
  } seen;
  core.set_expiry_handler(seen);
  const datagram_source with_first(3000, 1), without_first(3000, 2);
  const auto a = with_first.fragments(1480), b = without_first.fragments(1480);
  CHECK(add(core, a[0]).state == status::incomplete);
  CHECK(add(core, b[1]).state == status::incomplete);
  core.poll(t0 + 30s);
  CHECK(core.counters().timed_out == 2);
  REQUIRE(seen.headers.size() == 1);  // only the datagram whose fragment zero arrived
  CHECK(same(seen.headers[0], std::span(a[0]).first(20)));
  REQUIRE(seen.data[0].size() >= 8);
  CHECK(same(seen.data[0], std::span(with_first.payload).first(seen.data[0].size())));
}

TEST_CASE("Memory is bounded: the pool caps buffered bytes and the oldest datagram is evicted",
          "[ipv4_reassembly]") {
  // 8 chunks of 1024: each 1480-byte first fragment takes 2 chunks.
  ipv4_reassembly core({.max_bytes_total = 8 * 1024, .chunk_size = 1024});
  CHECK(core.memory_cap() == 8 * 1024);
  std::vector<datagram_source> ds;
  for (std::uint16_t id = 0; id < 6; ++id) ds.emplace_back(3000, id, id);
  for (std::size_t i = 0; i < 4; ++i) REQUIRE(add(core, ds[i].fragment(0, 1480, true)).state == status::incomplete);
  CHECK(core.bytes_buffered() == 8 * 1024);
  CHECK(core.counters().evicted == 0);
  // A fifth datagram needs 2 chunks: datagram 0, the oldest, goes.
  CHECK(add(core, ds[4].fragment(0, 1480, true)).state == status::incomplete);
  CHECK(core.counters().evicted == 1);
  CHECK(core.bytes_buffered() <= core.memory_cap());
  // Datagram 1 still completes; datagram 0 does not.
  CHECK(add(core, ds[1].fragment(1480, 1520, false)).state == status::complete);
  CHECK(add(core, ds[0].fragment(1480, 1520, false)).state == status::incomplete);
  CHECK(core.bytes_buffered() <= core.memory_cap());
}

TEST_CASE("A datagram larger than the whole pool is dropped for want of memory", "[ipv4_reassembly]") {
  ipv4_reassembly core({.max_bytes_total = 4096, .chunk_size = 1024});
  const datagram_source d(8000);
  auto parts = d.fragments(1480);
  ipv4_reassembly::add_result r;
  for (const auto& p : parts) {
    r = add(core, p);
    if (r.state != status::incomplete) break;
  }
  CHECK(r.state == status::dropped);
  CHECK(r.reason == ipv4_reassembly_drop::no_memory);
  CHECK(core.counters().dropped_no_memory == 1);
  CHECK(core.bytes_buffered() == 0);
}

TEST_CASE("The table holds max_datagrams datagrams; a new one evicts the oldest", "[ipv4_reassembly]") {
  ipv4_reassembly core({.max_datagrams = 2});
  const datagram_source a(2000, 1, 1), b(2000, 2, 2), c(2000, 3, 3);
  CHECK(add(core, a.fragment(0, 1480, true), t0).state == status::incomplete);
  CHECK(add(core, b.fragment(0, 1480, true), t0 + 1s).state == status::incomplete);
  CHECK(add(core, a.fragment(1480, 520, false), t0 + 2s).state == status::complete);  // a is done: a free entry
  CHECK(add(core, a.fragment(0, 1480, true), t0 + 3s).state == status::incomplete);   // a again (a retransmission)
  CHECK(add(core, c.fragment(0, 1480, true), t0 + 4s).state == status::incomplete);   // evicts b, the oldest
  CHECK(core.counters().evicted == 1);
  CHECK(core.in_progress() == 2);
  // b's first fragment is gone: its last one starts a new entry, evicting a (now the oldest).
  CHECK(add(core, b.fragment(1480, 520, false), t0 + 5s).state == status::incomplete);
  CHECK(core.counters().evicted == 2);
  CHECK(add(core, c.fragment(1480, 520, false), t0 + 6s).state == status::complete);
  CHECK(add(core, a.fragment(1480, 520, false), t0 + 7s).state == status::incomplete);
}

TEST_CASE("A flood of tiny first fragments stays within the memory cap", "[ipv4_reassembly]") {
  ipv4_reassembly core;  // defaults: 16 datagrams, 256 KiB
  datagram_source d(65515);
  for (std::uint32_t i = 0; i < 10000; ++i) {
    d.header.identification = static_cast<std::uint16_t>(i);
    d.header.src = ipv4_address{0x0a000000u + (i % 251) + 3};
    // Fragments scattered over the whole 64 KiB range: one chunk each.
    const std::size_t at = (i * 4104u) % 65000u / 8 * 8;
    (void)add(core, d.fragment(at, 8, true));
    REQUIRE(core.bytes_buffered() <= core.memory_cap());
    REQUIRE(core.in_progress() <= 16);
  }
  CHECK(core.counters().evicted > 0);
}
