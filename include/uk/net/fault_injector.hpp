// uk::net::fault_injector<Netif>: a netif that damages the traffic of
// another netif on purpose, for tests (smoltcp's FaultInjector, Beast's
// fail_count): drop, duplicate, reorder, corrupt, truncate, rate limit.
//
//   uk::net::fault_config faults{.seed = 7};
//   faults.rx.drop = 0.1;                       // lose 10% of received frames
//   faults.tx.limit = {.per_second = 1000, .burst = 10, .in = uk::net::rate_unit::frames};
//   uk::net::fault_injector<memory_link::end> lossy(link.a(), faults, link.clock());
//
// Each direction (rx: frames the wrapped netif receives, tx: frames sent
// through the injector) has its own probabilities and its own random stream
// (std::mt19937_64 seeded from `seed`), so a run is reproducible: the same
// seed and the same frames give the same faults, and traffic in one direction
// does not change the faults of the other. Each frame goes through, in order:
//   1. the rate limit: a token bucket of `burst` frames or bytes refilled at
//      `per_second` per second of the clock_ref's time; a frame finding too
//      few tokens is dropped (rate_limited);
//   2. drop (dropped);
//   3. corrupt: one random bit flipped (corrupted);
//   4. truncate: cut to a random length from 1 to its length - 1 (truncated;
//      frames of one byte are left alone);
//   5. reorder: held back when no frame is held, and released right after the
//      next frame of the same direction (reordered); flush() releases it;
//   6. duplicate: passed on twice (duplicated).
// A fault whose probability is 0 draws no random number.
//
// Ownership: the injector refers to the netif it wraps, which must outlive
// it; it installs itself as that netif's receiver and removes itself when
// destroyed, so it cannot be copied or moved. counters() are the wrapped
// netif's: faults are what the wire does, the device does not see them; the
// injector's own counts are rx_faults() and tx_faults().
//
// Buffers: each frame is built (tx) or copied when damaged (rx) in the
// injector's own buffers of mtu() + 18 bytes, allocated once; a transmitted
// frame is then copied into the wrapped netif. So `fill` runs once per
// transmit even when the wrapped netif then refuses the frame (transmit
// returns false, the wrapped netif counts it). Received frames longer than
// the buffers pass unharmed (after the rate limit and drop).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <stdexcept>

#include "uk/concepts/netif.hpp"
#include "uk/time.hpp"

namespace uk::net {

enum class rate_unit : std::uint8_t { frames, bytes };

/// A token bucket: at most `burst` frames or bytes at once, refilled at
/// `per_second` per second. per_second == 0: no limit.
struct rate_limit {
  std::uint64_t per_second = 0;
  std::uint64_t burst = 0;  ///< 0: one second's worth (per_second)
  rate_unit in = rate_unit::frames;
};

/// The faults applied to one direction: probabilities from 0 to 1.
struct fault_profile {
  double drop = 0;
  double duplicate = 0;
  double reorder = 0;
  double corrupt = 0;
  double truncate = 0;
  rate_limit limit{};
};

struct fault_config {
  std::uint64_t seed = 0;
  fault_profile rx{};  ///< frames received by the wrapped netif, on their way up
  fault_profile tx{};  ///< frames transmitted through the injector, on their way down
};

/// What one direction did.
struct fault_counters {
  std::uint64_t frames = 0;  ///< frames that entered the injector in this direction
  std::uint64_t rate_limited = 0;
  std::uint64_t dropped = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t truncated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t duplicated = 0;
  friend bool operator==(const fault_counters&, const fault_counters&) = default;
};

template <netif Netif>
class fault_injector {
 public:
  /// `clock` is needed only for rate limits (std::invalid_argument without one).
  fault_injector(Netif& inner, const fault_config& config, clock_ref clock = {})
      : inner_(inner),
        clock_(clock),
        buffer_size_(inner.mtu() + max_header),
        buffers_(std::make_unique<std::byte[]>(4 * buffer_size_)),
        rx_(config.rx, config.seed ^ rx_stream, buffers_.get(), buffers_.get() + buffer_size_),
        tx_(config.tx, config.seed, buffers_.get() + 2 * buffer_size_, buffers_.get() + 3 * buffer_size_) {
    check(config);
    inner_.set_receiver(frame_handler::template bind<&fault_injector::on_receive>(*this));
  }
  fault_injector(const fault_injector&) = delete;
  fault_injector& operator=(const fault_injector&) = delete;
  ~fault_injector() { inner_.set_receiver({}); }

  // ---- uk::netif ---------------------------------------------------------------
  mac_address mac() const { return inner_.mac(); }
  std::size_t mtu() const { return inner_.mtu(); }
  std::size_t transmit_queue_limit() const { return inner_.transmit_queue_limit(); }
  decltype(auto) counters() const { return inner_.counters(); }
  void set_receiver(frame_handler h) noexcept { receiver_ = h; }

  bool transmit(std::size_t size, frame_filler fill) {
    if (size > buffer_size_) return inner_.transmit(size, fill);  // the wrapped netif refuses it
    const std::span<std::byte> work{tx_.work, size};
    const std::size_t length = std::min(fill(work), size);
    if (length == 0) return true;
    return process(tx_, work.first(length), [this](std::span<const std::byte> f) {
      auto copy = [f](std::span<std::byte> slot) {
        std::memcpy(slot.data(), f.data(), f.size());
        return f.size();
      };
      return inner_.transmit(f.size(), frame_filler(copy));
    });
  }

  // ---- the faults --------------------------------------------------------------
  const fault_counters& rx_faults() const noexcept { return rx_.counts; }
  const fault_counters& tx_faults() const noexcept { return tx_.counts; }

  /// New probabilities and limits from now on (the random streams go on; the
  /// seed is not used). Rate-limit buckets restart full.
  void set_config(const fault_config& config) {
    check(config);
    rx_.profile = config.rx;
    tx_.profile = config.tx;
    rx_.bucket_started = tx_.bucket_started = false;
  }

  /// Releases the frames held back for reordering, in each direction.
  void flush() {
    release_held(rx_, [this](std::span<const std::byte> f) { return deliver_up(f); });
    release_held(tx_, [this](std::span<const std::byte> f) {
      auto copy = [f](std::span<std::byte> slot) {
        std::memcpy(slot.data(), f.data(), f.size());
        return f.size();
      };
      return inner_.transmit(f.size(), frame_filler(copy));
    });
  }

  Netif& inner() noexcept { return inner_; }
  const Netif& inner() const noexcept { return inner_; }

 private:
  static constexpr std::size_t max_header = 18;  // Ethernet header and one 802.1Q tag
  static constexpr std::uint64_t rx_stream = 0x9e3779b97f4a7c15;  // a different stream for rx
  static constexpr std::uint64_t nano = 1'000'000'000;
  __extension__ using wide = unsigned __int128;

  struct direction {
    direction(const fault_profile& p, std::uint64_t seed, std::byte* work_buffer, std::byte* held_buffer)
        : profile(p), random(seed), work(work_buffer), held(held_buffer) {}
    fault_profile profile;
    std::mt19937_64 random;
    std::byte* work;  // a damaged copy of a frame
    std::byte* held;  // the frame held back for reordering
    std::size_t held_length = 0;
    bool holding = false;
    // Token bucket, in billionths of a frame or byte.
    bool bucket_started = false;
    instant bucket_time{};
    wide tokens = 0;
    fault_counters counts;
  };

  void check(const fault_config& config) const {
    for (const fault_profile* p : {&config.rx, &config.tx}) {
      for (double v : {p->drop, p->duplicate, p->reorder, p->corrupt, p->truncate})
        if (!(v >= 0.0 && v <= 1.0)) throw std::invalid_argument("fault_injector: probabilities are from 0 to 1");
      if (p->limit.per_second != 0 && !clock_)
        throw std::invalid_argument("fault_injector: a rate limit needs a clock_ref");
    }
  }

  /// True with probability p; draws nothing when p is 0.
  static bool chance(direction& d, double p) {
    if (p <= 0.0) return false;
    return static_cast<double>(d.random() >> 11) * 0x1.0p-53 < p;  // uniform in [0, 1), 53 bits
  }

  /// Takes the tokens for a frame of `length` bytes, if the bucket has them.
  bool admit(direction& d, std::size_t length) {
    const rate_limit& r = d.profile.limit;
    if (r.per_second == 0) return true;
    const wide capacity = wide{r.burst != 0 ? r.burst : r.per_second} * nano;
    const instant now = clock_();
    if (!d.bucket_started) {
      d.bucket_started = true;
      d.bucket_time = now;
      d.tokens = capacity;
    } else if (now > d.bucket_time) {
      const auto elapsed = static_cast<std::uint64_t>((now - d.bucket_time).count());
      d.tokens = std::min(capacity, d.tokens + wide{elapsed} * r.per_second);  // per_second per 1e9 ns
      d.bucket_time = now;
    }
    const wide cost = wide{r.in == rate_unit::frames ? 1 : length} * nano;
    if (d.tokens < cost) return false;
    d.tokens -= cost;
    return true;
  }

  /// Applies the faults of `d` to frame `f` and passes what is left to `emit`
  /// (which returns whether the frame was accepted). `f` may be d.work.
  template <class Emit>
  bool process(direction& d, std::span<const std::byte> f, Emit emit) {
    const fault_profile& p = d.profile;
    ++d.counts.frames;
    if (!admit(d, f.size())) {
      ++d.counts.rate_limited;
      return true;
    }
    if (chance(d, p.drop)) {
      ++d.counts.dropped;
      return true;
    }
    const bool damage_fits = f.size() <= buffer_size_;
    const bool corrupt = damage_fits && !f.empty() && chance(d, p.corrupt);
    const bool truncate = damage_fits && f.size() > 1 && chance(d, p.truncate);
    if (corrupt || truncate) {
      if (f.data() != d.work) std::memmove(d.work, f.data(), f.size());
      std::size_t length = f.size();
      if (corrupt) {
        const std::uint64_t bit = d.random() % (length * 8);
        d.work[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
        ++d.counts.corrupted;
      }
      if (truncate) {
        length = 1 + static_cast<std::size_t>(d.random() % (length - 1));
        ++d.counts.truncated;
      }
      f = {d.work, length};
    }
    if (!d.holding && damage_fits && chance(d, p.reorder)) {
      std::memcpy(d.held, f.data(), f.size());
      d.held_length = f.size();
      d.holding = true;
      ++d.counts.reordered;
      return true;
    }
    const bool accepted = emit(f);
    if (chance(d, p.duplicate)) {
      ++d.counts.duplicated;
      emit(f);
    }
    release_held(d, emit);
    return accepted;
  }

  template <class Emit>
  static void release_held(direction& d, Emit emit) {
    if (!d.holding) return;
    d.holding = false;
    emit(std::span<const std::byte>{d.held, d.held_length});
  }

  bool deliver_up(std::span<const std::byte> f) {
    if (receiver_) receiver_(f);
    return true;
  }

  void on_receive(frame f) {
    process(rx_, f, [this](std::span<const std::byte> g) { return deliver_up(g); });
  }

  Netif& inner_;
  clock_ref clock_;
  frame_handler receiver_;
  std::size_t buffer_size_;
  std::unique_ptr<std::byte[]> buffers_;
  direction rx_;
  direction tx_;
};

}  // namespace uk::net
