// uk::direct::ipv4_reassembly: the sans-IO core that rebuilds IPv4 datagrams
// from their fragments (RFC 791 section 3.2, RFC 1122 section 3.3.2).
//
//   ipv4_reassembly core(options);
//   auto r = core.add(now, fragment);          // a parsed fragment (wire::ipv4::view)
//   if (r.state == ipv4_reassembly::status::complete) deliver(r.header, r.payload);
//   next_deadline = core.poll(now);            // expires datagrams past their timeout
//
// Datagrams are identified by (source, destination, protocol, identification)
// (RFC 791 3.2, "the internet identification field ... together with the
// source and destination address and the protocol"). Time is an argument:
// nothing here reads a clock.
//
// Memory. Everything is allocated at construction and bounded:
// - a pool of max_bytes_total bytes cut into chunks of chunk_size bytes. A
//   datagram in progress takes the chunks its fragments touch (chunk k holds
//   data octets [k*chunk_size, (k+1)*chunk_size)), so 16 small datagrams do not
//   pin 16 x 64 KiB: the pool, not the table, bounds what peers can make us
//   buffer. bytes_buffered() <= memory_cap() <= max_bytes_total always holds;
// - a table of max_datagrams datagrams, each with room for
//   max_fragments_per_datagram fragment extents and its first fragment's header;
// - one output buffer of max_datagram_size - 20 bytes, into which a completed
//   datagram is copied so that the caller gets it contiguous.
//
// Rules (each counted in counters() when it drops something):
// - RFC 791 3.2: every fragment but the last carries a multiple of 8 data
//   octets (the offset counts 8-octet units); an MF fragment that does not, or
//   that is empty, is malformed: dropped (bad_fragment_length).
// - RFC 791 3.1: a datagram is at most 65535 octets, header included; a
//   fragment that would end beyond max_datagram_size is dropped (too_big):
//   the "ping of death" (CERT CA-1996-26) is one.
// - Overlaps: a fragment that overlaps data already held with different
//   extents drops the whole datagram (overlap). RFC 1858 section 4 and RFC
//   3128 describe how overlapping fragments rewrite the TCP header past
//   filters; RFC 5722 (now RFC 8200 4.5) made the same rule mandatory for
//   IPv6, and RFC 8200 4.5 lets an implementation drop an exact duplicate
//   instead of treating it as an overlap: an exact duplicate is ignored
//   (the first copy's data is kept) and counted.
// - The last fragment (MF = 0) fixes the data length: a later last fragment
//   with another end, a last fragment ending before data already held, or an
//   MF fragment reaching the known end, drops the datagram (inconsistent_length).
// - More than max_fragments_per_datagram fragments drop the datagram
//   (too_many_fragments): a bound on the bookkeeping per datagram.
// - Space. When the table is full, or the pool has too few free chunks for a
//   fragment, the datagram whose first fragment arrived earliest (other than
//   the fragment's own) is evicted, counted in `evicted`, as Linux did before
//   4.17 (inet_frag_evictor, oldest first).
//   Dropping the newcomer instead (Linux since 4.17) lets a flood of
//   incomplete datagrams block all reassembly for a whole timeout after the
//   flood ends; evicting the oldest lets reassembly resume at once, and a
//   datagram still incomplete after newer ones arrived has most likely lost a
//   fragment. If even evicting every other datagram leaves too few chunks
//   (max_bytes_total smaller than the datagram), the fragment's datagram is
//   dropped (no_memory).
// - Time. RFC 1122 3.3.2: the reassembly timeout SHOULD be a fixed value, not
//   set from the remaining TTL (RFC 791's procedure raised it to the TTL). It
//   runs from the first fragment; the default is 30 s, Linux's ipfrag_time,
//   rather than RFC 1122's recommended 60-120 s or RFC 791's initial 15 s:
//   RFC 4963 shows the 16-bit identification wrapping within seconds at
//   current rates, when a longer timer only raises the chance of joining
//   fragments of two different datagrams. When a datagram expires
//   and its first fragment had arrived, the expiry handler is given that
//   fragment's header and leading data, for the ICMP Time Exceeded (code 1)
//   that RFC 1122 3.3.2 asks for.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "uk/addr.hpp"
#include "uk/delegate.hpp"
#include "uk/time.hpp"
#include "uk/wire/ipv4.hpp"

namespace uk::direct {

struct ipv4_reassembly_options {
  /// Datagrams in progress at once.
  std::size_t max_datagrams = 16;
  /// Bytes of fragment data buffered across all datagrams (the chunk pool).
  std::size_t max_bytes_total = 256 * 1024;
  /// Fragments held per datagram.
  std::size_t max_fragments_per_datagram = 64;
  /// From a datagram's first fragment to its expiry (RFC 1122 3.3.2; see above).
  duration timeout = std::chrono::seconds{30};
  /// The largest datagram rebuilt, header included: EMTU_R of RFC 1122 3.3.2
  /// (at least 576), at most 65535 (RFC 791 3.1).
  std::size_t max_datagram_size = wire::ipv4::max_total_length;
  /// The pool's allocation unit: at least 8 (one fragment-offset unit).
  std::size_t chunk_size = 1024;
};

/// Why add() dropped a fragment (and, with it, its datagram in progress).
enum class ipv4_reassembly_drop : std::uint8_t {
  overlap,              ///< overlaps held data with different extents (RFC 1858, RFC 8200 4.5)
  too_big,              ///< would end beyond max_datagram_size (RFC 791 3.1)
  too_many_fragments,   ///< more than max_fragments_per_datagram
  inconsistent_length,  ///< contradicts the end fixed by the last fragment
  bad_fragment_length,  ///< an MF fragment with data not a non-zero multiple of 8 (RFC 791 3.2)
  no_memory,            ///< does not fit in the pool even after evicting every other datagram
};

constexpr std::string_view to_string(ipv4_reassembly_drop d) noexcept {
  switch (d) {
    case ipv4_reassembly_drop::overlap: return "overlapping fragment";
    case ipv4_reassembly_drop::too_big: return "datagram too big";
    case ipv4_reassembly_drop::too_many_fragments: return "too many fragments";
    case ipv4_reassembly_drop::inconsistent_length: return "inconsistent length";
    case ipv4_reassembly_drop::bad_fragment_length: return "bad fragment length";
    case ipv4_reassembly_drop::no_memory: return "no memory";
  }
  return "unknown";
}

struct ipv4_reassembly_counters {
  std::uint64_t fragments = 0;    ///< fragments given to add()
  std::uint64_t reassembled = 0;  ///< datagrams completed
  std::uint64_t duplicates = 0;   ///< exact duplicates ignored (RFC 8200 4.5)
  std::uint64_t timed_out = 0;    ///< datagrams expired (RFC 1122 3.3.2)
  std::uint64_t evicted = 0;      ///< datagrams dropped to make room for another
  std::uint64_t dropped_overlap = 0;
  std::uint64_t dropped_too_big = 0;
  std::uint64_t dropped_too_many_fragments = 0;
  std::uint64_t dropped_inconsistent_length = 0;
  std::uint64_t dropped_bad_fragment_length = 0;
  std::uint64_t dropped_no_memory = 0;

  /// Fragments dropped for any reason (evictions and expiries not included).
  std::uint64_t dropped() const noexcept {
    return dropped_overlap + dropped_too_big + dropped_too_many_fragments + dropped_inconsistent_length +
           dropped_bad_fragment_length + dropped_no_memory;
  }
  friend bool operator==(const ipv4_reassembly_counters&, const ipv4_reassembly_counters&) = default;
};

class ipv4_reassembly {
 public:
  enum class status : std::uint8_t {
    incomplete,  ///< held; the datagram still misses data
    duplicate,   ///< an exact duplicate of a fragment held: ignored
    complete,    ///< header and payload below are the whole datagram
    dropped,     ///< see reason
  };

  struct add_result {
    status state = status::incomplete;
    ipv4_reassembly_drop reason{};  ///< when dropped
    /// When complete: the IP header of the fragment at offset 0, as received,
    /// and the whole data. Both stay valid until the next add() or poll().
    std::span<const std::byte> header{};
    std::span<const std::byte> payload{};
  };

  /// What an expiry reports, for ICMP Time Exceeded (RFC 1122 3.3.2): valid during the call.
  struct expired_datagram {
    std::span<const std::byte> header;        ///< the first fragment's IP header
    std::span<const std::byte> leading_data;  ///< the data from offset 0 held contiguously (at least 8 octets)
  };
  using expiry_handler = delegate<void(const expired_datagram&)>;

  explicit ipv4_reassembly(const ipv4_reassembly_options& options = {})
      : options_(options),
        chunk_size_(options.chunk_size),
        chunks_per_datagram_((max_payload() + options.chunk_size - 1) / options.chunk_size),
        slots_(options.max_datagrams),
        extents_(options.max_datagrams * options.max_fragments_per_datagram),
        chunk_map_(options.max_datagrams * chunks_per_datagram_, no_chunk),
        pool_(options.max_bytes_total / options.chunk_size * options.chunk_size),
        output_(max_payload()) {
    assert(options.max_datagrams >= 1 && options.max_fragments_per_datagram >= 1);
    assert(options.chunk_size >= 8 && options.max_bytes_total >= options.chunk_size);
    assert(options.max_datagram_size >= 576 && options.max_datagram_size <= wire::ipv4::max_total_length);
    assert(options.max_fragments_per_datagram <= std::numeric_limits<std::uint16_t>::max());
    const std::size_t chunks = pool_.size() / chunk_size_;
    assert(chunks < no_chunk);
    free_chunks_.reserve(chunks);
    for (std::size_t i = chunks; i-- > 0;) free_chunks_.push_back(static_cast<std::uint32_t>(i));
  }

  ipv4_reassembly(const ipv4_reassembly&) = delete;
  ipv4_reassembly& operator=(const ipv4_reassembly&) = delete;

  /// Called for each datagram that expires after its first fragment arrived.
  void set_expiry_handler(expiry_handler h) noexcept { on_expiry_ = h; }

  /// Takes one received fragment. A datagram that is not a fragment (MF = 0,
  /// offset 0) is returned as complete, spans into `datagram` itself.
  add_result add(instant now, const wire::ipv4::view& datagram) {
    if (!datagram.is_fragment()) return {status::complete, {}, datagram.header(), datagram.payload()};
    ++counters_.fragments;
    expire(now);

    const std::span<const std::byte> data = datagram.payload();
    const std::size_t offset = datagram.fragment_offset();
    const std::size_t end = offset + data.size();
    const bool more = datagram.more_fragments();
    const std::size_t found = find(datagram);

    // RFC 791 3.2: a fragment's data is a multiple of 8 octets, except the last's.
    if (more && (data.empty() || data.size() % 8 != 0)) return drop(found, ipv4_reassembly_drop::bad_fragment_length);
    // RFC 791 3.1: the total length (header and data) is a 16-bit count.
    if (datagram.header_length() + end > options_.max_datagram_size) return drop(found, ipv4_reassembly_drop::too_big);

    std::size_t at = 0;  // where this fragment's extent goes in the sorted list
    std::size_t index = found;
    if (index != npos) {
      const slot& s = slots_[index];
      if (!more && ((s.total_known && s.total != end) || end < s.max_end))
        return drop(index, ipv4_reassembly_drop::inconsistent_length);
      if (more && s.total_known && end >= s.total) return drop(index, ipv4_reassembly_drop::inconsistent_length);
      const std::span<const extent> held = extents_of(index).first(s.fragment_count);
      while (at < held.size() && held[at].start < offset) ++at;
      if (at < held.size() && held[at].start == offset && held[at].end == end) {
        ++counters_.duplicates;  // RFC 8200 4.5: an exact duplicate may be dropped alone
        return {status::duplicate};
      }
      const bool overlaps_previous = at > 0 && held[at - 1].end > offset;
      const bool overlaps_next = at < held.size() && held[at].start < end;
      if (overlaps_previous || overlaps_next) return drop(index, ipv4_reassembly_drop::overlap);
      if (s.fragment_count >= options_.max_fragments_per_datagram)
        return drop(index, ipv4_reassembly_drop::too_many_fragments);
    } else {
      index = start(now, datagram);
    }

    if (!reserve_chunks(index, offset, end)) return drop(index, ipv4_reassembly_drop::no_memory);
    store(index, offset, data);

    slot& s = slots_[index];
    const std::span<extent> list = extents_of(index);
    std::copy_backward(list.begin() + static_cast<std::ptrdiff_t>(at),
                       list.begin() + static_cast<std::ptrdiff_t>(s.fragment_count),
                       list.begin() + static_cast<std::ptrdiff_t>(s.fragment_count) + 1);
    list[at] = {static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(end)};
    ++s.fragment_count;
    s.received += static_cast<std::uint32_t>(data.size());
    s.max_end = std::max(s.max_end, static_cast<std::uint32_t>(end));
    if (!more) {
      s.total = static_cast<std::uint32_t>(end);
      s.total_known = true;
    }
    if (offset == 0) {
      const std::span<const std::byte> h = datagram.header();
      std::copy(h.begin(), h.end(), s.header.begin());
      s.header_length = static_cast<std::uint8_t>(h.size());
    }

    // Fragments never overlap, so the datagram is whole when the bytes held
    // add up to the length the last fragment fixed (RFC 791 3.2).
    if (!s.total_known || s.received != s.total) return {status::incomplete};
    if (s.header_length + std::size_t{s.total} > options_.max_datagram_size)
      return drop(index, ipv4_reassembly_drop::too_big);  // the first header was longer than this one
    return finish(index);
  }

  /// Expires the datagrams whose timeout has passed and returns the next
  /// deadline, or uk::never when nothing is in progress (see uk/time.hpp).
  instant poll(instant now) {
    expire(now);
    instant next = never;
    for (const slot& s : slots_)
      if (s.in_use) next = std::min(next, s.deadline);
    return next;
  }

  const ipv4_reassembly_counters& counters() const noexcept { return counters_; }
  const ipv4_reassembly_options& options() const noexcept { return options_; }

  /// Datagrams in progress.
  std::size_t in_progress() const noexcept {
    return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const slot& s) { return s.in_use; }));
  }
  /// Bytes of the pool held by datagrams in progress (whole chunks).
  std::size_t bytes_buffered() const noexcept { return pool_.size() - free_chunks_.size() * chunk_size_; }
  /// The pool's size: max_bytes_total rounded down to whole chunks.
  std::size_t memory_cap() const noexcept { return pool_.size(); }

 private:
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
  static constexpr std::uint32_t no_chunk = std::numeric_limits<std::uint32_t>::max();

  struct extent {
    std::uint32_t start = 0, end = 0;  // data octets [start, end)
  };

  struct slot {
    bool in_use = false;
    bool total_known = false;
    std::uint8_t protocol = 0;
    std::uint8_t header_length = 0;  // 0 until the fragment at offset 0 arrives
    std::uint16_t identification = 0;
    std::uint16_t fragment_count = 0;
    ipv4_address source{}, destination{};
    std::uint32_t received = 0;  // data octets held
    std::uint32_t total = 0;     // data length, once the last fragment fixed it
    std::uint32_t max_end = 0;   // the furthest data octet held
    std::uint64_t sequence = 0;  // creation order: the smallest is the oldest
    instant deadline{};
    std::array<std::byte, wire::ipv4::max_header_length> header{};
  };

  std::size_t max_payload() const noexcept { return options_.max_datagram_size - wire::ipv4::min_header_length; }

  std::span<extent> extents_of(std::size_t index) noexcept {
    return std::span(extents_).subspan(index * options_.max_fragments_per_datagram, options_.max_fragments_per_datagram);
  }
  std::span<std::uint32_t> chunks_of(std::size_t index) noexcept {
    return std::span(chunk_map_).subspan(index * chunks_per_datagram_, chunks_per_datagram_);
  }
  std::byte* chunk(std::uint32_t c) noexcept { return pool_.data() + std::size_t{c} * chunk_size_; }

  std::size_t find(const wire::ipv4::view& d) const noexcept {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const slot& s = slots_[i];
      if (s.in_use && s.identification == d.identification() && s.source == d.src() &&
          s.destination == d.dst() && s.protocol == d.protocol())
        return i;
    }
    return npos;
  }

  /// The oldest datagram in progress other than `keep`, or npos.
  std::size_t oldest(std::size_t keep) const noexcept {
    std::size_t best = npos;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (i == keep || !slots_[i].in_use) continue;
      if (best == npos || slots_[i].sequence < slots_[best].sequence) best = i;
    }
    return best;
  }

  /// A table entry for a new datagram, evicting the oldest when all are taken.
  std::size_t start(instant now, const wire::ipv4::view& d) {
    auto free = std::find_if(slots_.begin(), slots_.end(), [](const slot& s) { return !s.in_use; });
    std::size_t index = static_cast<std::size_t>(free - slots_.begin());
    if (free == slots_.end()) {
      index = oldest(npos);
      ++counters_.evicted;
      release(index);
    }
    slot& s = slots_[index];
    s = slot{};
    s.in_use = true;
    s.source = d.src();
    s.destination = d.dst();
    s.protocol = d.protocol();
    s.identification = d.identification();
    s.sequence = next_sequence_++;
    s.deadline = now + options_.timeout;
    return index;
  }

  /// Gives datagram `index` the chunks under data octets [offset, end),
  /// evicting older datagrams while the pool is short. False when it cannot.
  bool reserve_chunks(std::size_t index, std::size_t offset, std::size_t end) {
    if (end == offset) return true;
    const std::span<std::uint32_t> map = chunks_of(index);
    const std::size_t first = offset / chunk_size_, last = (end - 1) / chunk_size_;
    std::size_t needed = 0;
    for (std::size_t c = first; c <= last; ++c) needed += map[c] == no_chunk ? 1 : 0;
    while (free_chunks_.size() < needed) {
      const std::size_t victim = oldest(index);
      if (victim == npos) return false;
      ++counters_.evicted;
      release(victim);
    }
    for (std::size_t c = first; c <= last; ++c) {
      if (map[c] != no_chunk) continue;
      map[c] = free_chunks_.back();
      free_chunks_.pop_back();
    }
    return true;
  }

  /// Copies `data` to data octets [offset, offset + size) of datagram `index`.
  void store(std::size_t index, std::size_t offset, std::span<const std::byte> data) noexcept {
    const std::span<std::uint32_t> map = chunks_of(index);
    std::size_t done = 0;
    while (done < data.size()) {
      const std::size_t at = offset + done;
      const std::size_t within = at % chunk_size_;
      const std::size_t n = std::min(chunk_size_ - within, data.size() - done);
      std::memcpy(chunk(map[at / chunk_size_]) + within, data.data() + done, n);
      done += n;
    }
  }

  /// Copies the whole datagram `index` to the output buffers and frees it.
  add_result finish(std::size_t index) {
    slot& s = slots_[index];
    const std::span<std::uint32_t> map = chunks_of(index);
    for (std::size_t at = 0; at < s.total; at += chunk_size_)
      std::memcpy(output_.data() + at, chunk(map[at / chunk_size_]), std::min<std::size_t>(chunk_size_, s.total - at));
    std::copy(s.header.begin(), s.header.begin() + s.header_length, header_out_.begin());
    const std::size_t header_length = s.header_length, total = s.total;
    release(index);
    ++counters_.reassembled;
    return {status::complete, {}, std::span<const std::byte>(header_out_).first(header_length),
            std::span<const std::byte>(output_).first(total)};
  }

  /// Returns datagram `index`'s chunks to the pool and frees its entry.
  void release(std::size_t index) noexcept {
    for (std::uint32_t& c : chunks_of(index)) {
      if (c == no_chunk) continue;
      free_chunks_.push_back(c);
      c = no_chunk;
    }
    slots_[index].in_use = false;
  }

  add_result drop(std::size_t index, ipv4_reassembly_drop reason) noexcept {
    if (index != npos) release(index);
    switch (reason) {
      case ipv4_reassembly_drop::overlap: ++counters_.dropped_overlap; break;
      case ipv4_reassembly_drop::too_big: ++counters_.dropped_too_big; break;
      case ipv4_reassembly_drop::too_many_fragments: ++counters_.dropped_too_many_fragments; break;
      case ipv4_reassembly_drop::inconsistent_length: ++counters_.dropped_inconsistent_length; break;
      case ipv4_reassembly_drop::bad_fragment_length: ++counters_.dropped_bad_fragment_length; break;
      case ipv4_reassembly_drop::no_memory: ++counters_.dropped_no_memory; break;
    }
    return {status::dropped, reason};
  }

  /// RFC 1122 3.3.2: a datagram not whole by its deadline is discarded; the
  /// handler hears of it when fragment zero had arrived.
  void expire(instant now) {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      slot& s = slots_[i];
      if (!s.in_use || s.deadline > now) continue;
      if (s.header_length != 0 && on_expiry_) {
        // Fragment zero is held: extent 0 starts at offset 0 and, being an MF
        // fragment or the whole data, holds at least 8 octets.
        const extent first = extents_of(i)[0];
        const std::size_t leading = std::min<std::size_t>(first.end, chunk_size_);
        on_expiry_(expired_datagram{std::span<const std::byte>(s.header).first(s.header_length),
                                    std::span<const std::byte>(chunk(chunks_of(i)[0]), leading)});
      }
      ++counters_.timed_out;
      release(i);
    }
  }

  ipv4_reassembly_options options_;
  std::size_t chunk_size_;
  std::size_t chunks_per_datagram_;
  std::vector<slot> slots_;
  std::vector<extent> extents_;
  std::vector<std::uint32_t> chunk_map_;
  std::vector<std::byte> pool_;
  std::vector<std::uint32_t> free_chunks_;
  std::vector<std::byte> output_;
  std::array<std::byte, wire::ipv4::max_header_length> header_out_{};
  std::uint64_t next_sequence_ = 0;
  expiry_handler on_expiry_;
  ipv4_reassembly_counters counters_;
};

}  // namespace uk::direct
