// Time as the protocol cores see it: an instant on a monotonic clock that
// starts at boot, in nanoseconds (Mirage's Mclock.elapsed_ns). Cores never
// read a clock: the runtime passes `now` in, so tests run on virtual time.
#pragma once

#include <chrono>
#include <cstdint>

#include "uk/delegate.hpp"

namespace uk {

using duration = std::chrono::nanoseconds;

/// The epoch of uk instants: the moment the clock device was created.
struct boot_epoch {
  using duration = uk::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<boot_epoch, duration>;
  static constexpr bool is_steady = true;
};

/// A point in time, nanoseconds since boot.
using instant = boot_epoch::time_point;

/// An instant later than every other: "no deadline".
inline constexpr instant never = instant::max();

/// How a layer reads the time: a reference to a clock's now(), the hosted
/// clock in a program, a virtual clock in tests. Layers read it once per
/// event and pass `now` to their sans-IO cores.
using clock_ref = delegate<instant()>;

// Layers with timers follow one convention:
//   instant poll(instant now)   does the work due at `now` (retransmissions,
//                               expiries) and returns when it next needs to be
//                               polled (uk::never when nothing is pending).
// The runtime arms one timer for the earliest deadline of the whole stack and
// polls again after every batch of received frames and every send.

}  // namespace uk
