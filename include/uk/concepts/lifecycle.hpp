// Module type LIFECYCLE (Mirage's OS.Lifecycle): how the outside world asks
// the application to stop.
#pragma once

#include <concepts>

#include "uk/asio.hpp"

namespace uk {

/// What was asked (Mirage: `Poweroff | `Reboot).
enum class shutdown_request { poweroff, reboot };

/// A lifecycle device.
///   co_await l.await_shutdown_request()  completes when the host (SIGINT/SIGTERM)
///                                        or dom0 asks the unikernel to stop
template <class L>
concept lifecycle_device = requires(L& l) {
  { l.await_shutdown_request() } -> std::same_as<asio::awaitable<shutdown_request>>;
};

}  // namespace uk
