// uk::direct::arp_cache: the sans-IO core of ARP (RFC 826): the translation
// table of IPv4 to MAC addresses, its timers, and the packets waiting for a
// resolution. It sends nothing and reads no clock: every call that needs the
// time takes `now`, and the requests it wants sent are returned (transmit
// path) or handed to a callback (poll). uk::direct::arp<Eth> drives it.
//
// Bounds (arp_cache_options, all preallocated at construction):
//   capacity entries. When full, a new entry evicts the least recently used
//   dynamic entry (counted: evictions); static entries are never evicted.
//   "Used" means used by us to send: entries learnt from the network enter
//   at the cold end, so a flood of ARP packets from many addresses evicts
//   its own entries first, not the ones we are talking to.
//   A queue of packets awaiting resolution: at most pending_per_address
//   packets per address and pending_bytes bytes in all (each packet takes
//   its length plus an 8-byte record header). Overflow is dropped and
//   counted. RFC 1122 2.3.2.2: "The link layer SHOULD save (rather than
//   discard) at least one (the latest) packet of each set of packets
//   destined to the same unresolved IP address"; we keep the oldest ones
//   instead (a datagram's first fragments), and drop the newest on overflow.
//
// Entry states and timers (RFC 1122 2.3.2.1: an implementation "MUST
// provide a mechanism to flush out-of-date cache entries" and a mechanism
// "to prevent ARP flooding", "the recommended maximum rate is 1 per second
// per destination"). The design is mirage/arp's (a simplified IPv6 NUD,
// RFC 4861 7.3.2) and close to Linux's neighbour table:
//
//   (absent) --send--> incomplete: a broadcast request now, retried after
//       retry_initial, then x retry_factor each time (1 s, 2 s, 4 s by
//       default: never more than 1 request per second); packets queue.
//   incomplete --reply--> reachable: queued packets are flushed in order.
//   incomplete --request_tries sent, no answer--> failed: the queue is
//       dropped (counted); for failed_hold, sends to it are dropped at once
//       without a new request (a flood of sends to a dead host does not turn
//       into a flood of requests); then the entry is forgotten.
//   reachable --reachable_time after the last confirmation--> stale: still
//       used as it is (RFC 1122 2.3.2.1 (1) "Timeout": entries time out "even
//       if they are in use").
//   stale --used--> probe: the packet still goes to the known MAC, and a
//       unicast request polls the host (RFC 1122 2.3.2.1 (2) "Unicast Poll"),
//       with the same retries; an answer makes it reachable again, silence
//       removes the entry ("delete the entry if no ARP Reply is received from
//       N successive polls"), and the next send resolves by broadcast.
//   stale --unused until stale_timeout after the last confirmation--> removed.
//   permanent (static): never aged, never evicted, never overwritten by ARP.
#pragma once

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "uk/addr.hpp"
#include "uk/concepts/netif.hpp"
#include "uk/log.hpp"
#include "uk/time.hpp"

namespace uk::direct {

struct arp_cache_options {
  /// Entries in the table (RFC 826 "translation table"), static ones included.
  std::size_t capacity = 256;
  /// How long an entry is trusted after it was last confirmed by an ARP
  /// packet from its host (RFC 1122 2.3.2.1: "on the order of a minute";
  /// Linux's base_reachable_time is 30 s, mirage/arp's refresh 60 s).
  duration reachable_time = std::chrono::seconds(60);
  /// An entry not used since it went stale is removed this long after its
  /// last confirmation (mirage/arp's `timeout`: 20 minutes).
  duration stale_timeout = std::chrono::minutes(20);
  /// Requests sent for one resolution (or one unicast poll) before giving up.
  unsigned request_tries = 3;
  /// Wait after the first request; each later wait is retry_factor times
  /// the previous one. Keep it >= 1 s to honour RFC 1122 2.3.2.1's rate.
  duration retry_initial = std::chrono::seconds(1);
  unsigned retry_factor = 2;
  /// How long a failed resolution is remembered (sends to it are dropped
  /// without a request meanwhile).
  duration failed_hold = std::chrono::seconds(1);
  /// Packets queued per unresolved address. 64 holds every fragment of the
  /// largest IPv4 datagram at MTU 1500 (65535 / 1480 -> 45): with fewer, a
  /// large datagram to an unresolved host is always lost. (Linux bounds the
  /// queue in bytes: unres_qlen_bytes, 212992 per neighbour.)
  std::size_t pending_per_address = 64;
  /// Bytes of queued packets across all addresses, 8 bytes of record header
  /// per packet included: the size of the preallocated queue.
  std::size_t pending_bytes = 128 * 1024;
};

enum class arp_state : std::uint8_t {
  incomplete,  ///< broadcast requests outstanding; packets wait in the queue
  reachable,   ///< confirmed less than reachable_time ago
  stale,       ///< not confirmed for reachable_time; still used; the next use polls it
  probe,       ///< stale and in use: unicast requests outstanding; packets still go out
  failed,      ///< resolution gave up; sends are dropped until failed_hold passes
  permanent,   ///< a static entry
};

constexpr std::string_view to_string(arp_state s) noexcept {
  switch (s) {
    case arp_state::incomplete: return "incomplete";
    case arp_state::reachable: return "reachable";
    case arp_state::stale: return "stale";
    case arp_state::probe: return "probe";
    case arp_state::failed: return "failed";
    case arp_state::permanent: return "permanent";
  }
  return "?";
}

/// An entry of the table, as find() shows it.
struct arp_entry {
  ipv4_address ip{};
  mac_address mac{};            ///< meaningless while incomplete or failed
  arp_state state = arp_state::incomplete;
  std::uint8_t tries = 0;       ///< requests sent in the current resolution or poll
  instant confirmed{};          ///< when an ARP packet from the host last confirmed it
  instant deadline = never;     ///< its next timer: retry, give up, go stale, removal
  std::uint32_t pending = 0;    ///< packets queued for it
};

struct arp_cache_counters {
  std::uint64_t cache_hits = 0;    ///< sends that found a usable MAC
  std::uint64_t cache_misses = 0;  ///< sends that found none (absent, incomplete, failed)
  std::uint64_t evictions = 0;     ///< entries evicted to make room (least recently used)
  std::uint64_t expired = 0;       ///< stale entries removed unused
  std::uint64_t resolution_failures = 0;  ///< broadcast resolutions that got no answer
  std::uint64_t probe_failures = 0;       ///< unicast polls that got no answer (entry removed)
  std::uint64_t static_protected = 0;     ///< ARP packets that would have changed a static entry
  std::uint64_t tx_dropped_failed = 0;    ///< sends to an address whose resolution failed
  std::uint64_t tx_dropped_no_room = 0;   ///< sends needing a new entry while every entry is static

  std::uint64_t pending_queued = 0;                ///< packets copied into the queue
  std::uint64_t pending_flushed = 0;               ///< queued packets handed out once resolved
  std::uint64_t pending_dropped_address_full = 0;  ///< pending_per_address reached
  std::uint64_t pending_dropped_total_full = 0;    ///< pending_bytes reached (or packet too large)
  std::uint64_t pending_dropped_failed = 0;        ///< queued packets of a failed resolution
  std::uint64_t pending_dropped_evicted = 0;       ///< queued packets of an evicted entry
};

/// What to do with one packet sent to an address (arp_cache::resolve).
struct arp_send_plan {
  /// Send the packet now to this MAC (it was not copied).
  std::optional<mac_address> send_to{};
  /// Send an ARP request for the address now, to this MAC: broadcast to
  /// resolve, the known MAC for a unicast poll.
  std::optional<mac_address> request_to{};
  /// The packet was copied into the queue; it goes out when resolved.
  bool queued = false;

  /// Neither sent nor queued: the packet is lost (the reason is counted).
  bool dropped() const noexcept { return !send_to && !queued; }
};

/// How a received ARP packet's sender met the table (RFC 826 merge step).
enum class arp_merge {
  absent,     ///< not in the table: Merge_flag stays false
  updated,    ///< its MAC was updated and it is reachable: Merge_flag := true
  protected_, ///< a static entry, left alone: Merge_flag := true all the same
};

class arp_cache {
 public:
  /// Bytes of record header per queued packet.
  static constexpr std::size_t record_header = 8;

  explicit arp_cache(const arp_cache_options& options = {})
      : options_(options),
        entries_(options.capacity),
        index_(index_size(options.capacity), no_entry),
        queue_(options.pending_bytes) {
    assert(options.capacity >= 1 && options.capacity < no_entry);
    assert(options.request_tries >= 1 && options.request_tries <= 255);
    assert(options.retry_factor >= 1 && options.retry_initial > duration{0});
    index_mask_ = index_.size() - 1;
    free_.reserve(options.capacity);
    for (std::size_t i = options.capacity; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
  }
  arp_cache(const arp_cache&) = delete;
  arp_cache& operator=(const arp_cache&) = delete;

  const arp_cache_options& options() const noexcept { return options_; }
  std::size_t capacity() const noexcept { return entries_.size(); }
  std::size_t size() const noexcept { return entries_.size() - free_.size(); }
  /// Bytes of the queue in use (packets plus their record headers); <= options().pending_bytes.
  std::size_t pending_bytes() const noexcept { return queue_used_; }
  std::size_t pending_packets() const noexcept { return queue_packets_; }
  const arp_cache_counters& counters() const noexcept { return counters_; }

  /// The entry of `ip`, if any.
  const arp_entry* find(ipv4_address ip) const noexcept {
    const std::uint32_t i = index_of(ip);
    return i == no_entry ? nullptr : &entries_[i].entry;
  }

  /// The MAC of `ip` if it has a usable one (reachable, stale, probe, permanent).
  std::optional<mac_address> lookup(ipv4_address ip) const noexcept {
    const arp_entry* e = find(ip);
    if (e == nullptr || !usable(e->state)) return std::nullopt;
    return e->mac;
  }

  /// Every entry, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (const slot& s : entries_)
      if (s.in_use) f(s.entry);
  }

  // ---- the transmit path ----

  /// The fast path, no time needed: the MAC of `ip` if its entry can be used
  /// as it is (reachable, probe, permanent); marks it used. Counts a hit.
  /// Otherwise nullptr: nothing changes and the caller goes through resolve().
  /// The pointer is valid until the next call that changes the table.
  const mac_address* hit(ipv4_address ip) noexcept {
    const std::uint32_t i = index_of(ip);
    if (i == no_entry) return nullptr;
    slot& s = entries_[i];
    const arp_state st = s.entry.state;
    if (st != arp_state::reachable && st != arp_state::probe && st != arp_state::permanent) return nullptr;
    touch(i);
    ++counters_.cache_hits;
    return &s.entry.mac;
  }

  /// What to do with a packet of `size` bytes of type `type` sent to `ip`
  /// at `now`. Copies the packet into the queue (calling `fill` once) when
  /// the address is being resolved; starts a resolution when it is absent;
  /// starts a unicast poll when it is stale.
  arp_send_plan resolve(ipv4_address ip, std::uint16_t type, std::size_t size, frame_filler fill, instant now) {
    std::uint32_t i = index_of(ip);
    if (i == no_entry) {
      ++counters_.cache_misses;
      i = allocate(ip, now, /*hot=*/true);
      if (i == no_entry) {
        ++counters_.tx_dropped_no_room;
        log::debug(log::source::arp, "no room to resolve {}: every entry is static", ip);
        return {};
      }
      arp_entry& e = entries_[i].entry;
      e.state = arp_state::incomplete;
      e.tries = 1;
      e.deadline = now + retry_wait(1);
      schedule(e.deadline);
      log::debug(log::source::arp, "resolving {}", ip);
      return {std::nullopt, mac_address::broadcast(), enqueue(i, type, size, fill)};
    }
    arp_entry& e = entries_[i].entry;
    switch (e.state) {
      case arp_state::reachable:
      case arp_state::probe:
      case arp_state::permanent:
        touch(i);
        ++counters_.cache_hits;
        return {e.mac, std::nullopt, false};
      case arp_state::stale:
        // RFC 1122 2.3.2.1 (2) "Unicast Poll": keep using the entry, and ask
        // its host directly whether it is still there.
        touch(i);
        ++counters_.cache_hits;
        e.state = arp_state::probe;
        e.tries = 1;
        e.deadline = now + retry_wait(1);
        schedule(e.deadline);
        log::debug(log::source::arp, "polling {} at {}", ip, e.mac);
        return {e.mac, e.mac, false};
      case arp_state::incomplete:
        touch(i);
        ++counters_.cache_misses;
        return {std::nullopt, std::nullopt, enqueue(i, type, size, fill)};
      case arp_state::failed:
        ++counters_.cache_misses;
        ++counters_.tx_dropped_failed;
        log::debug(log::source::arp, "dropped a packet to {}: its resolution failed", ip);
        return {};
    }
    return {};
  }

  // ---- the receive path (RFC 826 "Packet Reception") ----

  /// "If the pair <protocol type, sender protocol address> is already in my
  /// translation table, update the sender hardware address field of the
  /// entry with the new information in the packet and set Merge_flag to
  /// true." The entry becomes reachable (RFC 1122 2.3.2.1 (1): the timeout
  /// "should be restarted when the cache entry is 'refreshed'"). Static
  /// entries are not changed. When this resolves an entry with queued
  /// packets, the caller sends them with take_pending().
  arp_merge merge(ipv4_address ip, mac_address mac, instant now) {
    const std::uint32_t i = index_of(ip);
    if (i == no_entry) return arp_merge::absent;
    arp_entry& e = entries_[i].entry;
    if (e.state == arp_state::permanent) {
      if (e.mac != mac) {
        ++counters_.static_protected;
        log::debug(log::source::arp, "kept the static entry {} at {} (ARP says {})", ip, e.mac, mac);
      }
      return arp_merge::protected_;
    }
    if (usable(e.state) && e.mac != mac) log::debug(log::source::arp, "{} moved from {} to {}", ip, e.mac, mac);
    confirm(e, mac, now);
    return arp_merge::updated;
  }

  /// RFC 826: "If Merge_flag is false, add the triplet <protocol type,
  /// sender protocol address, sender hardware address> to the translation
  /// table." The new entry is reachable and enters at the cold end of the
  /// recency order. False when there is no room (every entry is static).
  bool add(ipv4_address ip, mac_address mac, instant now) {
    if (const std::uint32_t i = index_of(ip); i != no_entry) {
      if (entries_[i].entry.state == arp_state::permanent) return false;
      confirm(entries_[i].entry, mac, now);
      return true;
    }
    const std::uint32_t i = allocate(ip, now, /*hot=*/false);
    if (i == no_entry) return false;
    confirm(entries_[i].entry, mac, now);
    log::debug(log::source::arp, "learnt {} at {}", ip, mac);
    return true;
  }

  /// A permanent entry (replacing any dynamic one: its queued packets stay,
  /// for take_pending()). False when the table is full of static entries.
  bool set_static(ipv4_address ip, mac_address mac) {
    std::uint32_t i = index_of(ip);
    if (i == no_entry) {
      i = allocate(ip, instant{}, /*hot=*/false);
      if (i == no_entry) return false;
    }
    slot& s = entries_[i];
    if (s.entry.state != arp_state::permanent) lru_unlink(i);
    s.entry.state = arp_state::permanent;
    s.entry.mac = mac;
    s.entry.tries = 0;
    s.entry.deadline = never;
    return true;
  }

  /// Forgets `ip` (its queued packets are dropped, counted as failed).
  /// False if it was not in the table.
  bool remove(ipv4_address ip) {
    const std::uint32_t i = index_of(ip);
    if (i == no_entry) return false;
    release(i);
    return true;
  }

  /// Calls send(type, bytes) for each packet queued for `ip`, in the order
  /// they were queued, and removes them from the queue. `bytes` is valid
  /// during the call. send() must not call back into this cache.
  template <class Send>
  void take_pending(ipv4_address ip, Send&& send) {
    const std::uint32_t i = index_of(ip);
    if (i == no_entry || entries_[i].entry.pending == 0) return;
    counters_.pending_flushed += walk_queue(i, send);
  }

  // ---- timers ----

  /// Does the work due at `now`: retries (calling request(ip, to) for each
  /// request to send: to is broadcast, or the known MAC for a unicast poll),
  /// give-ups, ageing. Returns when it next needs to be polled.
  template <class Request>
  instant poll(instant now, Request&& request) {
    if (now < next_deadline_) return next_deadline_;
    instant next = never;
    for (std::uint32_t i = 0; i < entries_.size(); ++i) {
      slot& s = entries_[i];
      if (!s.in_use) continue;
      arp_entry& e = s.entry;
      if (e.state == arp_state::permanent) continue;
      if (now >= e.deadline && !expire(i, now, request)) continue;  // removed
      next = std::min(next, e.deadline);
    }
    next_deadline_ = next;
    return next;
  }

  /// When poll() next has work to do (uk::never when nothing is pending).
  instant next_deadline() const noexcept { return next_deadline_; }

  /// The wait after the `tries`-th request: retry_initial * retry_factor^(tries-1).
  duration retry_wait(unsigned tries) const noexcept {
    duration wait = options_.retry_initial;
    for (unsigned k = 1; k < tries; ++k) {
      if (wait > duration::max() / static_cast<duration::rep>(options_.retry_factor)) return duration::max() / 2;
      wait *= options_.retry_factor;
    }
    return wait;
  }

 private:
  static constexpr std::uint32_t no_entry = std::numeric_limits<std::uint32_t>::max();

  struct slot {
    arp_entry entry{};
    bool in_use = false;
    std::uint32_t prev = no_entry, next = no_entry;  // recency list of dynamic entries
  };

  struct record {  // the header of a queued packet, stored with memcpy
    std::uint32_t entry;
    std::uint16_t type;
    std::uint16_t length;
  };
  static_assert(sizeof(record) == record_header);

  static constexpr bool usable(arp_state s) noexcept {
    return s == arp_state::reachable || s == arp_state::stale || s == arp_state::probe ||
           s == arp_state::permanent;
  }

  static std::size_t index_size(std::size_t capacity) noexcept {
    std::size_t n = 2;
    while (n < 2 * capacity) n *= 2;  // load factor <= 1/2
    return n;
  }

  std::size_t home(ipv4_address ip) const noexcept {
    // Fibonacci hashing: addresses of one subnet differ in their low bits.
    return static_cast<std::size_t>((std::uint64_t{ip.value} * 0x9e3779b97f4a7c15ull) >> 32) & index_mask_;
  }

  std::uint32_t index_of(ipv4_address ip) const noexcept {
    for (std::size_t at = home(ip);; at = (at + 1) & index_mask_) {
      const std::uint32_t i = index_[at];
      if (i == no_entry || entries_[i].entry.ip == ip) return i;
    }
  }

  void index_insert(ipv4_address ip, std::uint32_t i) noexcept {
    std::size_t at = home(ip);
    while (index_[at] != no_entry) at = (at + 1) & index_mask_;
    index_[at] = i;
  }

  void index_erase(ipv4_address ip) noexcept {
    std::size_t hole = home(ip);
    while (entries_[index_[hole]].entry.ip != ip) hole = (hole + 1) & index_mask_;
    index_[hole] = no_entry;
    // Linear probing without tombstones: shift back every later entry of the
    // run that the hole would now cut off from its home slot.
    for (std::size_t at = (hole + 1) & index_mask_; index_[at] != no_entry; at = (at + 1) & index_mask_) {
      const std::size_t h = home(entries_[index_[at]].entry.ip);
      const bool stays = hole <= at ? (hole < h && h <= at) : (hole < h || h <= at);
      if (stays) continue;
      index_[hole] = index_[at];
      index_[at] = no_entry;
      hole = at;
    }
  }

  // The recency list: head_ most recently used, tail_ least.
  void lru_unlink(std::uint32_t i) noexcept {
    slot& s = entries_[i];
    if (s.prev != no_entry) entries_[s.prev].next = s.next; else if (head_ == i) head_ = s.next;
    if (s.next != no_entry) entries_[s.next].prev = s.prev; else if (tail_ == i) tail_ = s.prev;
    s.prev = s.next = no_entry;
  }
  void lru_push_front(std::uint32_t i) noexcept {
    slot& s = entries_[i];
    s.prev = no_entry;
    s.next = head_;
    if (head_ != no_entry) entries_[head_].prev = i;
    head_ = i;
    if (tail_ == no_entry) tail_ = i;
  }
  void lru_push_back(std::uint32_t i) noexcept {
    slot& s = entries_[i];
    s.next = no_entry;
    s.prev = tail_;
    if (tail_ != no_entry) entries_[tail_].next = i;
    tail_ = i;
    if (head_ == no_entry) head_ = i;
  }
  void touch(std::uint32_t i) noexcept {
    if (head_ == i || entries_[i].entry.state == arp_state::permanent) return;
    lru_unlink(i);
    lru_push_front(i);
  }

  /// A fresh entry for `ip` (evicting the least recently used dynamic entry
  /// when full), at the hot or the cold end of the recency order.
  std::uint32_t allocate(ipv4_address ip, instant now, bool hot) {
    if (free_.empty()) {
      const std::uint32_t victim = tail_;  // only dynamic entries are in the list
      if (victim == no_entry) return no_entry;
      ++counters_.evictions;
      const std::uint32_t dropped = drop_pending(victim);
      counters_.pending_dropped_evicted += dropped;
      log::debug(log::source::arp, "evicted {} ({}, {} queued packets dropped) for {}", entries_[victim].entry.ip,
                 to_string(entries_[victim].entry.state), dropped, ip);
      release(victim);
    }
    const std::uint32_t i = free_.back();
    free_.pop_back();
    slot& s = entries_[i];
    s.in_use = true;
    s.entry = arp_entry{ip, mac_address{}, arp_state::incomplete, 0, now, never, 0};
    index_insert(ip, i);
    if (hot) lru_push_front(i); else lru_push_back(i);
    return i;
  }

  void release(std::uint32_t i) {
    slot& s = entries_[i];
    assert(s.in_use);
    if (s.entry.pending != 0) counters_.pending_dropped_failed += drop_pending(i);
    index_erase(s.entry.ip);
    if (s.entry.state != arp_state::permanent) lru_unlink(i);
    s.in_use = false;
    s.entry = arp_entry{};
    free_.push_back(i);
  }

  void confirm(arp_entry& e, mac_address mac, instant now) noexcept {
    e.mac = mac;
    e.state = arp_state::reachable;
    e.tries = 0;
    e.confirmed = now;
    e.deadline = now + options_.reachable_time;
    schedule(e.deadline);
  }

  void schedule(instant deadline) noexcept { next_deadline_ = std::min(next_deadline_, deadline); }

  /// The timer of entry i fired at `now`; false when the entry was removed.
  template <class Request>
  bool expire(std::uint32_t i, instant now, Request& request) {
    arp_entry& e = entries_[i].entry;
    switch (e.state) {
      case arp_state::reachable:
        // RFC 1122 2.3.2.1 (1): no longer trusted, though still used.
        e.state = arp_state::stale;
        e.deadline = e.confirmed + options_.stale_timeout;
        if (now < e.deadline) return true;
        [[fallthrough]];
      case arp_state::stale:
        ++counters_.expired;
        log::debug(log::source::arp, "forgot {}: unused since it went stale", e.ip);
        release(i);
        return false;
      case arp_state::incomplete:
      case arp_state::probe:
        if (e.tries < options_.request_tries) {
          ++e.tries;
          e.deadline = now + retry_wait(e.tries);
          request(e.ip, e.state == arp_state::probe ? e.mac : mac_address::broadcast());
          return true;
        }
        if (e.state == arp_state::probe) {
          // RFC 1122 2.3.2.1 (2): "delete the entry if no ARP Reply is received".
          ++counters_.probe_failures;
          log::debug(log::source::arp, "{} stopped answering at {}: forgotten", e.ip, e.mac);
          release(i);
          return false;
        }
        ++counters_.resolution_failures;
        {
          const std::uint32_t dropped = drop_pending(i);
          counters_.pending_dropped_failed += dropped;
          log::debug(log::source::arp, "could not resolve {} after {} requests; dropped {} queued packets", e.ip,
                     e.tries, dropped);
        }
        e.state = arp_state::failed;
        e.deadline = now + options_.failed_hold;
        return true;
      case arp_state::failed:
        release(i);
        return false;
      case arp_state::permanent:
        return true;
    }
    return true;
  }

  /// Copies a packet for entry i into the queue; false (counted) when full.
  bool enqueue(std::uint32_t i, std::uint16_t type, std::size_t size, frame_filler fill) {
    assert(!walking_ && "arp_cache: a queued packet was sent through the cache it came from");
    arp_entry& e = entries_[i].entry;
    if (e.pending >= options_.pending_per_address) {
      ++counters_.pending_dropped_address_full;
      log::debug(log::source::arp, "dropped a packet to {}: {} already wait for its resolution", e.ip, e.pending);
      return false;
    }
    if (size == 0) return true;  // nothing to send (the frame_filler convention)
    if (walking_ || size > std::numeric_limits<std::uint16_t>::max() ||
        record_header + size > queue_.size() - queue_used_) {
      ++counters_.pending_dropped_total_full;
      log::debug(log::source::arp, "dropped a packet of {} bytes to {}: the resolution queue is full", size, e.ip);
      return false;
    }
    std::byte* at = queue_.data() + queue_used_;
    const std::size_t written = std::min(fill(std::span<std::byte>(at + record_header, size)), size);
    if (written == 0) return true;  // nothing to send (the frame_filler convention)
    const record r{i, type, static_cast<std::uint16_t>(written)};
    std::memcpy(at, &r, sizeof r);
    queue_used_ += record_header + written;
    ++queue_packets_;
    ++e.pending;
    ++counters_.pending_queued;
    return true;
  }

  /// Drops the packets queued for entry i; returns how many.
  std::uint32_t drop_pending(std::uint32_t i) {
    if (entries_[i].entry.pending == 0) return 0;
    return walk_queue(i, [](std::uint16_t, std::span<const std::byte>) {});
  }

  /// Hands each packet of entry i to `take` in order, and compacts the queue
  /// over them (the others keep their order). Returns how many were taken.
  template <class Take>
  std::uint32_t walk_queue(std::uint32_t i, Take&& take) {
    walking_ = true;
    std::size_t read = 0, write = 0, packets = 0;
    std::uint32_t taken = 0;
    while (read < queue_used_) {
      record r;
      std::memcpy(&r, queue_.data() + read, sizeof r);
      const std::size_t length = record_header + r.length;
      if (r.entry == i) {
        take(r.type, std::span<const std::byte>(queue_.data() + read + record_header, r.length));
        ++taken;
      } else {
        if (write != read) std::memmove(queue_.data() + write, queue_.data() + read, length);
        write += length;
        ++packets;
      }
      read += length;
    }
    queue_used_ = write;
    queue_packets_ = packets;
    entries_[i].entry.pending = 0;
    walking_ = false;
    return taken;
  }
  arp_cache_options options_;
  std::vector<slot> entries_;
  std::vector<std::uint32_t> index_;  // open addressing, linear probing: entry indices
  std::size_t index_mask_ = 0;
  std::vector<std::uint32_t> free_;
  std::uint32_t head_ = no_entry, tail_ = no_entry;
  std::vector<std::byte> queue_;  // records in arrival order: record header, then the packet
  std::size_t queue_used_ = 0;
  std::size_t queue_packets_ = 0;
  bool walking_ = false;
  instant next_deadline_ = never;
  arp_cache_counters counters_;
};

}  // namespace uk::direct
