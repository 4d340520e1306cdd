// The congestion-control policy a connection runs, chosen at run time by
// connection_config::congestion: NewReno (congestion.hpp) or CUBIC
// (cubic.hpp). It forwards the `congestion_control` concept to the one it
// holds, so the connection sees a single type.
#pragma once

#include <cstddef>
#include <variant>

#include "uk/direct/tcp/config.hpp"
#include "uk/direct/tcp/congestion.hpp"
#include "uk/direct/tcp/cubic.hpp"
#include "uk/time.hpp"

namespace uk::direct::tcp {

class congestion_controller {
 public:
  congestion_controller(std::size_t mss, const connection_config& config) noexcept
      : policy_(make(mss, config)) {}

  congestion_algorithm algorithm() const noexcept {
    return std::holds_alternative<cubic>(policy_) ? congestion_algorithm::cubic : congestion_algorithm::newreno;
  }
  /// The policy itself, for inspection (nullptr when the other one runs).
  const cubic* as_cubic() const noexcept { return std::get_if<cubic>(&policy_); }
  const newreno* as_newreno() const noexcept { return std::get_if<newreno>(&policy_); }

  std::size_t window() const noexcept {
    return std::visit([](const auto& p) { return p.window(); }, policy_);
  }
  std::size_t slow_start_threshold() const noexcept {
    return std::visit([](const auto& p) { return p.slow_start_threshold(); }, policy_);
  }
  void set_mss(std::size_t mss) noexcept {
    std::visit([&](auto& p) { p.set_mss(mss); }, policy_);
  }
  void on_ack(const ack_event& e) noexcept {
    std::visit([&](auto& p) { p.on_ack(e); }, policy_);
  }
  void on_congestion_event(std::size_t flight, instant now) noexcept {
    std::visit([&](auto& p) { p.on_congestion_event(flight, now); }, policy_);
  }
  void on_recovery_end(std::size_t flight, instant now) noexcept {
    std::visit([&](auto& p) { p.on_recovery_end(flight, now); }, policy_);
  }
  void on_timeout(std::size_t flight, instant now) noexcept {
    std::visit([&](auto& p) { p.on_timeout(flight, now); }, policy_);
  }

 private:
  using policy = std::variant<newreno, cubic>;

  static policy make(std::size_t mss, const connection_config& config) noexcept {
    switch (config.congestion) {
      case congestion_algorithm::newreno: return policy{std::in_place_type<newreno>, mss, config.initial_window_segments};
      case congestion_algorithm::cubic: break;
    }
    return policy{std::in_place_type<cubic>, mss, config.initial_window_segments};
  }

  policy policy_;
};

static_assert(congestion_control<congestion_controller>);

}  // namespace uk::direct::tcp
