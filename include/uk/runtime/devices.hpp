// The devices a configuration offers to applications and init jobs, in
// dependency order. uk::run connects only those that something asks for.
#pragma once

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "uk/runtime/clock.hpp"
#include "uk/runtime/lifecycle.hpp"
#include "uk/runtime/random.hpp"
#include "uk/stack_for.hpp"
#include "uk/target.hpp"

namespace uk {

/// Every device `Target`/`Net` can give an application: its stack, the
/// lifecycle, a clock and a random source (and, as its issue lands, the
/// Qubes agents).
template <target_tag Target, net_tag Net>
inline constexpr auto devices_for =
    boost::hana::tuple_t<stack_for<Target, Net>, lifecycle, monotonic_clock, os_random>;

/// A direct configuration also offers its network interface.
template <target_tag Target>
inline constexpr auto devices_for<Target, net::direct> =
    boost::hana::tuple_t<stack_for<Target, net::direct>, netif_for<Target, net::direct>, lifecycle, monotonic_clock,
                         os_random>;

}  // namespace uk

// The qubes configuration adds its own devices (QubesDB, ...): only where it is selected.
#if UK_DETAIL_CAT(UK_DETAIL_TARGET_, UK_TARGET) == UK_DETAIL_TARGET_qubes
#include "uk/qubes/devices.hpp"
#endif
