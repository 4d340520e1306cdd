// uk::lifecycle on a hosted target: SIGINT and SIGTERM become a shutdown
// request that the application can co_await (Mirage's
// OS.Lifecycle.await_shutdown_request).
#pragma once

#include <csignal>
#include <optional>
#include <string_view>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/hana/tuple.hpp>

#include "uk/concepts/lifecycle.hpp"
#include "uk/runtime/device.hpp"

namespace uk {

class lifecycle {
 public:
  using keys = key_list<>;
  static constexpr std::string_view device_name = "lifecycle";

  explicit lifecycle(asio::any_io_executor executor)
      : signals_(executor, SIGINT, SIGTERM), requested_(executor, asio::steady_timer::time_point::max()) {
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (!ec) request(shutdown_request::poweroff);
    });
  }
  template <class Keys>
  lifecycle(device_context& ctx, const Keys&) : lifecycle(ctx.executor) {}

  lifecycle(const lifecycle&) = delete;
  lifecycle& operator=(const lifecycle&) = delete;

  /// Completes when a shutdown has been requested (at once if it already was).
  /// Any number of coroutines may wait.
  asio::awaitable<shutdown_request> await_shutdown_request() {
    while (!request_) {
      boost::system::error_code ignored;
      co_await requested_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    co_return *request_;
  }

  /// Asks for a shutdown from inside the program (as a signal would).
  void request(shutdown_request r) {
    if (request_) return;
    request_ = r;
    requested_.cancel();
  }

  bool shutdown_requested() const noexcept { return request_.has_value(); }

 private:
  asio::signal_set signals_;
  asio::steady_timer requested_;  // never expires: cancelled to wake the waiters
  std::optional<shutdown_request> request_;
};

static_assert(lifecycle_device<lifecycle>);

}  // namespace uk
