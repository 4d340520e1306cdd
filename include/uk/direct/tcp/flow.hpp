// A TCP connection of the direct stack as the application sees it: an Asio
// AsyncReadStream and AsyncWriteStream (uk::tcp_flow) over a connection held
// in the packet layer (layer.hpp).
//
// Operations work with any completion token (asio::async_compose), so
// asio::async_read/async_write and Boost.Beast run on them:
//   - async_read_some completes with the bytes available (at least one), with
//     asio::error::eof at the end of the stream (FIN received and all read);
//   - async_write_some completes once some data is buffered in the send
//     buffer (partial writes allowed, as write_some), not when it is acknowledged;
//   - errors: connection_refused, connection_reset, timed_out (the retry
//     limit of RFC 6298 / RFC 9293 3.8.3), operation_aborted (closed or aborted
//     here), shut_down (a write after shutdown_send).
// An operation never completes inside its initiating function: a result ready
// at once is posted. A waiting operation sleeps on a timer that never expires
// and is cancelled by the layer's change notification (as udp_service does).
//
// Destroying a flow closes it gracefully (FIN after the buffered data); the
// layer keeps the connection until it is CLOSED.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "uk/addr.hpp"
#include "uk/asio.hpp"
#include "uk/delegate.hpp"
#include "uk/direct/tcp/connection.hpp"
#include "uk/direct/tcp/layer.hpp"
#include "uk/time.hpp"

namespace uk::direct::tcp {

/// What flows and listeners share with their service: the layer, the time,
/// the executor and the stack's "something was sent: re-poll" hook.
template <class Layer>
struct service_context {
  Layer& layer;
  clock_ref clock;
  asio::any_io_executor executor;
  delegate<void()> changed;

  instant now() const { return clock(); }
  void after_send() const {
    if (changed) changed();
  }
};

/// The Asio error for a connection's error (connection.hpp's error).
inline boost::system::error_code to_error_code(error e) {
  switch (e) {
    case error::refused: return asio::error::connection_refused;
    case error::reset: return asio::error::connection_reset;
    case error::timed_out: return asio::error::timed_out;
    case error::aborted: return asio::error::operation_aborted;
    case error::none: break;
  }
  return {};
}

template <class Layer>
class flow;

namespace detail {

/// A flow's state, at a stable address (the layer's change handler points at it).
template <class Layer>
struct flow_state {
  flow_state(service_context<Layer>& c, connection_handle h)
      : context(c),
        handle(h),
        tuple(c.layer.find(h)->tuple()),
        readable(c.executor, asio::steady_timer::time_point::max()),
        writable(c.executor, asio::steady_timer::time_point::max()) {
    context.layer.set_change_handler(handle, delegate<void()>::bind<&flow_state::on_change>(*this));
  }
  flow_state(const flow_state&) = delete;
  flow_state& operator=(const flow_state&) = delete;

  /// The layer says the connection changed: wake whatever waits.
  void on_change() {
    readable.cancel();
    writable.cancel();
  }

  const connection* conn() const { return released ? nullptr : context.layer.find(handle); }

  /// Lets go of the connection: FIN (or RST) already asked for.
  void release() {
    if (released) return;
    released = true;
    context.layer.release(handle, context.now());
    context.after_send();
    on_change();
  }

  service_context<Layer>& context;
  connection_handle handle;
  four_tuple tuple;
  asio::steady_timer readable;  // never expires: cancelled on each change
  asio::steady_timer writable;
  bool released = false;       // close() or abort() was called: the handle is gone
  bool send_shut = false;      // shutdown_send() was called
};

/// async_read_some's operation.
template <class Layer, class Buffers>
struct read_op {
  flow_state<Layer>* fs;
  Buffers buffers;
  bool posted = false;

  template <class Self>
  void operator()(Self& self, boost::system::error_code = {}) {
    if (!posted) {  // never complete inside the initiating function
      posted = true;
      if (ready()) {
        asio::post(fs->context.executor, std::move(self));
        return;
      }
    }
    if (!ready()) {
      fs->readable.async_wait(std::move(self));
      return;
    }
    complete(self);
  }

  bool ready() const {
    const connection* c = fs->conn();
    if (!c || asio::buffer_size(buffers) == 0) return true;
    return c->readable() > 0 || c->read_finished() || c->is_closed() || c->last_error() != error::none;
  }

  template <class Self>
  void complete(Self& self) {
    const connection* c = fs->conn();
    if (!c) return self.complete(asio::error::operation_aborted, 0);
    if (asio::buffer_size(buffers) == 0) return self.complete({}, 0);
    std::size_t n = 0;
    if (c->readable() > 0) {
      const instant now = fs->context.now();
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
        asio::mutable_buffer b = *it;
        const std::size_t got =
            fs->context.layer.read(fs->handle, std::span(static_cast<std::byte*>(b.data()), b.size()), now);
        n += got;
        if (got < b.size()) break;
      }
      fs->context.after_send();  // a read may send a window update
      return self.complete({}, n);
    }
    if (c->last_error() != error::none) return self.complete(to_error_code(c->last_error()), 0);
    return self.complete(asio::error::eof, 0);  // FIN received and everything read, or closed cleanly
  }
};

/// async_write_some's operation.
template <class Layer, class Buffers>
struct write_op {
  flow_state<Layer>* fs;
  Buffers buffers;
  bool posted = false;

  template <class Self>
  void operator()(Self& self, boost::system::error_code = {}) {
    if (!posted) {
      posted = true;
      if (ready()) {
        asio::post(fs->context.executor, std::move(self));
        return;
      }
    }
    if (!ready()) {
      fs->writable.async_wait(std::move(self));
      return;
    }
    complete(self);
  }

  bool ready() const {
    const connection* c = fs->conn();
    if (!c || fs->send_shut || asio::buffer_size(buffers) == 0) return true;
    return c->writable() > 0 || c->is_closed() || c->last_error() != error::none || !can_send(*c);
  }

  /// The states in which the application may still queue data (RFC 9293 3.10.2 SEND).
  static bool can_send(const connection& c) {
    const tcp::state s = c.current_state();
    return s == tcp::state::syn_sent || s == tcp::state::syn_received || s == tcp::state::established ||
           s == tcp::state::close_wait;
  }

  template <class Self>
  void complete(Self& self) {
    const connection* c = fs->conn();
    if (!c) return self.complete(asio::error::operation_aborted, 0);
    if (fs->send_shut) return self.complete(asio::error::shut_down, 0);
    if (asio::buffer_size(buffers) == 0) return self.complete({}, 0);
    if (c->last_error() != error::none) return self.complete(to_error_code(c->last_error()), 0);
    if (!can_send(*c)) return self.complete(asio::error::shut_down, 0);
    const instant now = fs->context.now();
    // Every buffer but the last non-empty one is written with `more`, so a
    // gather write (a header and its body) leaves as one stream of full
    // segments rather than a short segment per buffer.
    std::size_t n = 0;
    std::size_t left = asio::buffer_size(buffers);
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      asio::const_buffer b = *it;
      if (b.size() == 0) continue;
      left -= b.size();
      const std::size_t put = fs->context.layer.write(
          fs->handle, std::span(static_cast<const std::byte*>(b.data()), b.size()), now, left > 0);
      n += put;
      if (put < b.size()) break;
    }
    fs->context.after_send();
    self.complete({}, n);
  }
};

}  // namespace detail

/// A TCP connection of the direct stack; models uk::tcp_flow.
template <class Layer>
class flow {
 public:
  using executor_type = asio::any_io_executor;

  flow(flow&&) noexcept = default;
  flow& operator=(flow&& other) noexcept {
    if (this != &other) {
      close();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~flow() { close(); }

  executor_type get_executor() { return state_->context.executor; }

  /// Reads at least one byte, or fails with eof at the end of the stream.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        detail::read_op<Layer, MutableBuffers>{state_.get(), buffers}, token, state_->context.executor);
  }

  /// Buffers some of the data (completes once it is in the send buffer).
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        detail::write_op<Layer, ConstBuffers>{state_.get(), buffers}, token, state_->context.executor);
  }

  /// FIN after the buffered data (RFC 9293 3.10.4 on the send side); reading goes on.
  void shutdown_send() {
    if (!state_ || state_->released || state_->send_shut) return;
    state_->send_shut = true;
    state_->context.layer.shutdown_send(state_->handle, state_->context.now());
    state_->context.after_send();
    state_->on_change();
  }

  /// Closes both directions (RFC 9293 3.10.4); unread data makes it a reset
  /// (RFC 2525 2.17). Pending operations complete with operation_aborted.
  void close() {
    if (!state_ || state_->released) return;
    state_->context.layer.close(state_->handle, state_->context.now());
    state_->release();
  }

  /// Resets the connection (RFC 9293 3.10.5).
  void abort() {
    if (!state_ || state_->released) return;
    state_->context.layer.abort(state_->handle, state_->context.now());
    state_->release();
  }

  ipv4_endpoint local_endpoint() const { return state_->tuple.local; }
  ipv4_endpoint remote_endpoint() const { return state_->tuple.remote; }

  /// The connection in the layer (state, counters), or nullptr once closed here.
  const connection* connection_state() const { return state_ ? state_->conn() : nullptr; }

 private:
  template <class>
  friend class service;
  template <class>
  friend class listener;

  flow(service_context<Layer>& context, connection_handle h)
      : state_(std::make_unique<detail::flow_state<Layer>>(context, h)) {}

  std::unique_ptr<detail::flow_state<Layer>> state_;
};

}  // namespace uk::direct::tcp
