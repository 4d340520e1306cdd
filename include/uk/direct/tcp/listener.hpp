// A listening port of the direct stack as the application sees it
// (uk::tcp_listener): accept() takes established connections from the
// layer's accept queue, waiting for one when it is empty.
#pragma once

#include <cstdint>
#include <memory>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include "uk/asio.hpp"
#include "uk/direct/tcp/flow.hpp"
#include "uk/direct/tcp/layer.hpp"

namespace uk::direct::tcp {

template <class Layer>
class listener {
 public:
  using flow_type = flow<Layer>;

  listener(listener&&) noexcept = default;
  listener& operator=(listener&& other) noexcept {
    if (this != &other) {
      close();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~listener() { close(); }

  /// The next established connection; throws operation_aborted once closed.
  asio::awaitable<flow_type> accept() {
    for (;;) {
      if (!state_ || state_->closed) throw boost::system::system_error(asio::error::operation_aborted, "accept");
      if (auto c = state_->context.layer.accept(state_->handle)) co_return flow_type(state_->context, *c);
      boost::system::error_code ignored;
      co_await state_->acceptable.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
  }

  std::uint16_t local_port() const { return state_ ? state_->port : 0; }

  /// Stops listening; connections not yet accepted are reset, a pending accept() fails.
  void close() {
    if (!state_ || state_->closed) return;
    state_->closed = true;
    state_->context.layer.close_listener(state_->handle, state_->context.now());
    state_->context.after_send();
    state_->acceptable.cancel();
  }

  /// Connections waiting in the accept queue.
  std::size_t backlog() const { return state_ ? state_->context.layer.accept_queue_length(state_->handle) : 0; }

 private:
  template <class>
  friend class service;

  struct state {
    state(service_context<Layer>& c, listener_handle h)
        : context(c), handle(h), port(c.layer.listener_port(h)),
          acceptable(c.executor, asio::steady_timer::time_point::max()) {
      context.layer.set_acceptable_handler(handle, delegate<void()>::bind<&state::on_acceptable>(*this));
    }
    void on_acceptable() { acceptable.cancel(); }
    service_context<Layer>& context;
    listener_handle handle;
    std::uint16_t port;
    asio::steady_timer acceptable;  // never expires: cancelled when a connection is queued
    bool closed = false;
  };

  listener(service_context<Layer>& context, listener_handle h) : state_(std::make_unique<state>(context, h)) {}

  std::unique_ptr<state> state_;
};

}  // namespace uk::direct::tcp
