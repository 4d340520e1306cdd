// Module type CLOCK (Mirage's Mclock): a monotonic clock read by the runtime,
// never by the protocol cores, which take `now` as an argument.
#pragma once

#include <concepts>

#include "uk/time.hpp"

namespace uk {

/// A monotonic clock.
///   c.now()  the current instant; never decreases.
template <class C>
concept clock = requires(C& c) {
  { c.now() } -> std::same_as<instant>;
};

}  // namespace uk
