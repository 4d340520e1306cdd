// The devices a qubes configuration offers to applications and init jobs
// beyond those of every direct configuration (see uk/runtime/devices.hpp):
// a Qubes-aware application can ask for QubesDB (read, watch, write) and for
// the IPv4 configuration it gives (with the DNS servers dom0 offers), and for
// the qrexec and GUI agents (register services, call other VMs; the init
// jobs of uk/qubes/init.hpp run them in every qubes build).
//
// uk/runtime/devices.hpp includes this header only when UK_TARGET=qubes is
// selected (g++ 12 emits every inline coroutine of an included header, so
// unix binaries must not include the Qubes devices).
#pragma once

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "uk/qubes/db.hpp"
#include "uk/qubes/gui.hpp"
#include "uk/qubes/init.hpp"
#include "uk/qubes/qubesdb_config.hpp"
#include "uk/qubes/rexec.hpp"
#include "uk/qubes/stack_composition.hpp"
#include "uk/runtime/clock.hpp"
#include "uk/runtime/devices.hpp"
#include "uk/runtime/lifecycle.hpp"
#include "uk/runtime/random.hpp"

namespace uk {

template <>
inline constexpr auto devices_for<target::qubes, net::direct> =
    boost::hana::tuple_t<stack_for<target::qubes, net::direct>, netif_for<target::qubes, net::direct>, qubes::db,
                         qubes::qubesdb_config, qubes::rexec, qubes::gui, lifecycle, monotonic_clock, os_random>;

}  // namespace uk
