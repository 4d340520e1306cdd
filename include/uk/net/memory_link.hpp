// uk::net::memory_link: two netifs joined by a virtual wire, in one process,
// for tests and benchmarks (smoltcp's Loopback, mirage-tcpip's vnetif).
//
//   uk::net::memory_link link;                  // link.a() <-> link.b()
//   ethernet<memory_link::end> left(link.a()), right(link.b());
//   left.transmit(...);                          // queued on the wire
//   link.deliver();                              // right's receiver runs, and so on until idle
//   link.advance(10ms);                          // or: virtual time passes, frames arrive after their latency
//
// Time is virtual: link.now() moves only in advance(), and link.clock() is a
// uk::clock_ref to it for the layers under test. Frames sent by one end wait
// in that end's bounded queue (transmit_queue_limit() frames; beyond it
// transmit() returns false and counts tx_dropped_queue_full) until the test
// delivers them. No Asio, no threads; no allocation after construction.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

#include "uk/addr.hpp"
#include "uk/concepts/netif.hpp"
#include "uk/net/detail/counters.hpp"
#include "uk/net/detail/frame_ring.hpp"
#include "uk/time.hpp"

namespace uk::net {

struct memory_link_options {
  /// Payload bytes per frame, Ethernet header excluded; frames are up to mtu + 14 bytes.
  std::size_t mtu = 1500;
  /// Frames each end queues before transmit() refuses more.
  std::size_t transmit_queue_limit = 128;
  /// How long a frame takes from one end to the other, in advance(). deliver() ignores it.
  duration latency{0};
  mac_address mac_a{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}};
  mac_address mac_b{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}};
  /// The virtual time when the link is created.
  instant start{};
};

class memory_link {
  struct in_flight_info {
    instant arrival{};
    std::uint64_t sequence = 0;  // global send order, to interleave both directions faithfully
  };

 public:
  /// The most frames one deliver() or advance() hands over unless told otherwise:
  /// two ends that answer each other forever stop there.
  static constexpr std::size_t default_max_frames = 1'000'000;

  /// One end of the link: a uk::netif.
  class end {
   public:
    end(const end&) = delete;
    end& operator=(const end&) = delete;

    mac_address mac() const noexcept { return mac_; }
    std::size_t mtu() const noexcept { return mtu_; }
    std::size_t transmit_queue_limit() const noexcept { return outbox_.capacity(); }

    /// Queues a frame of at most `size` bytes that `fill` writes in place;
    /// false (and counted) when this end's queue is full or `size` exceeds
    /// mtu() + 14. A frame that `fill` leaves empty is not sent.
    bool transmit(std::size_t size, frame_filler fill) {
      if (size > outbox_.slot_size()) {
        ++counters_.tx_dropped_oversize;
        return false;
      }
      if (outbox_.full()) {
        ++counters_.tx_dropped_queue_full;
        return false;
      }
      const std::span<std::byte> slot = outbox_.tail_slot().first(size);
      const std::size_t written = fill(slot);
      assert(written <= size);
      const std::size_t length = std::min(written, size);
      if (length == 0) return true;
      outbox_.push(length, {link_->now_ + link_->latency_, link_->next_sequence_++});
      ++counters_.tx_frames;
      counters_.tx_bytes += length;
      return true;
    }

    /// Frames arriving at this end go to `h` (an empty delegate: they are dropped and counted).
    void set_receiver(frame_handler h) noexcept { receiver_ = h; }

    const device_counters& counters() const noexcept { return counters_; }

    /// Frames this end sent that have not been delivered yet.
    std::size_t queued() const noexcept { return outbox_.size(); }

    /// The other end.
    end& peer() noexcept { return *peer_; }

   private:
    friend class memory_link;
    end(memory_link& link, mac_address mac, const memory_link_options& o)
        : link_(&link), mac_(mac), mtu_(o.mtu), outbox_(o.transmit_queue_limit, o.mtu + ethernet_header_length) {}

    memory_link* link_;
    end* peer_ = nullptr;
    mac_address mac_;
    std::size_t mtu_;
    detail::frame_ring<in_flight_info> outbox_;  // frames on the wire from this end to the peer
    frame_handler receiver_;
    device_counters counters_;
  };

  explicit memory_link(const memory_link_options& options = {})
      : now_(options.start),
        latency_(options.latency),
        a_(*this, options.mac_a, options),
        b_(*this, options.mac_b, options) {
    assert(options.mtu > 0 && options.transmit_queue_limit > 0 && options.latency >= duration{0});
    a_.peer_ = &b_;
    b_.peer_ = &a_;
  }
  // The ends, and the delegates handed out by clock(), refer to this object.
  memory_link(const memory_link&) = delete;
  memory_link& operator=(const memory_link&) = delete;

  end& a() noexcept { return a_; }
  end& b() noexcept { return b_; }

  /// The virtual time.
  instant now() const noexcept { return now_; }
  /// A uk::clock_ref reading now(); valid while the link lives.
  clock_ref clock() const noexcept {
    // delegate::bind takes a mutable object; now() does not modify it.
    return clock_ref::bind<&memory_link::now>(const_cast<memory_link&>(*this));
  }

  duration latency() const noexcept { return latency_; }
  /// Applies to frames sent from now on.
  void set_latency(duration latency) noexcept {
    assert(latency >= duration{0});
    latency_ = latency;
  }

  /// Frames on the wire in both directions.
  std::size_t in_flight() const noexcept { return a_.queued() + b_.queued(); }

  /// Hands every queued frame to the other end's receiver now, in the order
  /// they were sent, including frames that receivers send meanwhile, until
  /// nothing is left or `max_frames` were delivered. Time does not move and
  /// latency is ignored. Returns how many frames were delivered (a result of
  /// max_frames means the ends may be answering each other forever).
  /// Not reentrant: a receiver must not call deliver() or advance().
  std::size_t deliver(std::size_t max_frames = default_max_frames) {
    return run(std::nullopt, max_frames);
  }

  /// Moves virtual time forward by `d`, delivering each frame when its latency
  /// has passed: now() reads the frame's arrival time while its receiver runs.
  /// Frames sent meanwhile arrive in the same call if they are due by the end.
  /// Returns how many frames were delivered (at most max_frames).
  std::size_t advance(duration d, std::size_t max_frames = default_max_frames) {
    assert(d >= duration{0});
    return advance_to(now_ + d, max_frames);
  }

  /// advance() to the instant `t` (no effect on time if t is not later than now()).
  std::size_t advance_to(instant t, std::size_t max_frames = default_max_frames) {
    const std::size_t delivered = run(t, max_frames);
    if (delivered < max_frames) now_ = std::max(now_, t);
    return delivered;
  }

  /// Frames the ends would send next, without delivering them: drops everything on the wire.
  void clear() noexcept {
    a_.outbox_.clear();
    b_.outbox_.clear();
  }

 private:
  /// The end whose oldest frame goes next: earliest arrival, then earliest sent.
  end* next_sender(std::optional<instant> until) noexcept {
    end* best = nullptr;
    for (end* e : {&a_, &b_}) {
      if (e->outbox_.empty()) continue;
      const in_flight_info& info = e->outbox_.front_info();
      if (until && info.arrival > *until) continue;
      if (best == nullptr) {
        best = e;
        continue;
      }
      const in_flight_info& other = best->outbox_.front_info();
      if (info.arrival < other.arrival || (info.arrival == other.arrival && info.sequence < other.sequence))
        best = e;
    }
    return best;
  }

  std::size_t run(std::optional<instant> until, std::size_t max_frames) {
    assert(!delivering_ && "memory_link::deliver/advance called from a receiver");
    if (delivering_) return 0;
    delivering_ = true;
    std::size_t delivered = 0;
    while (delivered < max_frames) {
      end* from = next_sender(until);
      if (from == nullptr) break;
      if (until) now_ = std::max(now_, from->outbox_.front_info().arrival);
      // The frame stays in its slot (counted against the sender's queue) while
      // the receiver reads it: whatever the receiver sends cannot overwrite it.
      const std::span<const std::byte> frame = from->outbox_.front();
      end& to = *from->peer_;
      if (to.receiver_) {
        ++to.counters_.rx_frames;
        to.counters_.rx_bytes += frame.size();
        to.receiver_(frame);
      } else {
        ++to.counters_.rx_dropped;
      }
      from->outbox_.pop();
      ++delivered;
    }
    delivering_ = false;
    return delivered;
  }

  instant now_;
  duration latency_;
  std::uint64_t next_sequence_ = 0;
  bool delivering_ = false;
  end a_;
  end b_;
};

static_assert(netif<memory_link::end>);

}  // namespace uk::net
