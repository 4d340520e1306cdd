// The composition: unix/direct uses DHCP unless --ipv4 is given; a stack over
// a DHCP configuration attaches it, polls it, and waits for its lease in connect().
#include <catch2/catch.hpp>

#include <type_traits>

#include "uk/direct/dhcp_config.hpp"
#include "uk/direct/dhcp_or_static_config.hpp"
#include "uk/direct/stack.hpp"
#include "uk/direct/static_config.hpp"
#include "uk/net/memory_link.hpp"
#include "uk/stack_for.hpp"

namespace {
template <class Config>
using stack_over = uk::direct::stack<uk::net::memory_link::end, Config>;

template <class S>
concept connects = requires(S& s) { s.connect(); };
}  // namespace

TEST_CASE("unix/direct composes default_config: DHCP unless --ipv4 is given", "[dhcp][stack]") {
  using direct = uk::stack_for<uk::target::unix, uk::net::direct>;
  STATIC_REQUIRE(std::is_same_v<std::remove_cvref_t<decltype(std::declval<direct&>().config())>,
                                uk::direct::default_config>);
  STATIC_REQUIRE(direct::dynamic_config);
}

TEST_CASE("A stack over dhcp_config attaches it and waits for its lease in connect(); over static_config it does not",
          "[dhcp][stack]") {
  STATIC_REQUIRE(stack_over<uk::direct::dhcp_config>::dynamic_config);
  STATIC_REQUIRE(connects<stack_over<uk::direct::dhcp_config>>);
  STATIC_REQUIRE_FALSE(stack_over<uk::direct::static_config>::dynamic_config);
  STATIC_REQUIRE_FALSE(connects<stack_over<uk::direct::static_config>>);
}
