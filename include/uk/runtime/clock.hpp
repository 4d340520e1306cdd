// The hosted monotonic clock device (Mirage's Mclock on unix).
#pragma once

#include <chrono>
#include <string_view>

#include <boost/hana/tuple.hpp>

#include "uk/runtime/device.hpp"
#include "uk/time.hpp"

namespace uk {

/// Reads CLOCK_MONOTONIC through std::chrono::steady_clock; instants count from its creation.
class monotonic_clock {
 public:
  using keys = key_list<>;
  static constexpr std::string_view device_name = "clock";

  monotonic_clock() noexcept : start_(std::chrono::steady_clock::now()) {}
  template <class Keys>
  monotonic_clock(device_context&, const Keys&) noexcept : monotonic_clock() {}

  instant now() const noexcept {
    return instant{std::chrono::duration_cast<duration>(std::chrono::steady_clock::now() - start_)};
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace uk
