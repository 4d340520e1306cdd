// init_for<target::qubes>: the jobs a Qubes VM starts before the application,
// as mirage-qubes' unikernels register `~init:[qrexec_init; gui_init]`.
//
//   qubes::rexec_job   serves dom0's qrexec requests (uk::qubes::rexec::run)
//   qubes::gui_job     consumes the GUI daemon's messages (uk::qubes::gui::run)
//
// uk::run connects each job's device before the application starts (the
// qrexec HELLO with dom0's qrexec-daemon, the GUI handshake with qubes-guid:
// a Qubes VM that never answers them is not accepted by dom0), then
// co_spawns the jobs. A Qubes-unaware application therefore boots unchanged:
// every qrexec command it gets is answered "service not found", exit code
// 127. A Qubes-aware one asks for the same devices in its start
// (`start(Stack&, uk::qubes::rexec&)`) to register services or call others;
// uk::run_with<App>(devices, jobs, argc, argv) picks other jobs (none, or
// only rexec_job for a VM without GUI).
//
// Shutdown: none of these protocols carries a shutdown request (dom0 asks
// a VM to stop through Xen's control/shutdown xenstore key, which the hosted
// socket-vchan target has not): on this target uk::lifecycle stays the
// SIGINT/SIGTERM device.
#pragma once

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "uk/asio.hpp"
#include "uk/init_for.hpp"
#include "uk/qubes/gui.hpp"
#include "uk/qubes/rexec.hpp"
#include "uk/target.hpp"

namespace uk::qubes {

/// Serves qrexec for the lifetime of the VM.
struct rexec_job {
  static asio::awaitable<void> start(rexec& agent) { co_await agent.run(); }
};

/// Keeps the GUI daemon's vchan drained for the lifetime of the VM.
struct gui_job {
  static asio::awaitable<void> start(gui& agent) { co_await agent.run(); }
};

}  // namespace uk::qubes

namespace uk {

/// A Qubes VM runs the qrexec and GUI agents.
template <>
inline constexpr auto init_for<target::qubes> = boost::hana::tuple_t<qubes::rexec_job, qubes::gui_job>;

}  // namespace uk
