// The application side of the direct stack's UDP: uk::udp_layer with Asio
// awaitables over uk::direct::udp<Ip>.
//
// Each socket owns a bounded receive buffer (like SO_RCVBUF): a datagram that
// does not fit is dropped and counted, as a kernel drops on a full socket
// buffer. The buffer is allocated once, at bind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include "uk/asio.hpp"
#include "uk/concepts/udp.hpp"
#include "uk/direct/udp.hpp"

namespace uk::direct {

struct udp_socket_counters {
  std::uint64_t received = 0;
  std::uint64_t dropped_buffer_full = 0;  ///< datagrams that did not fit the receive buffer
};

/// A byte ring of whole datagrams, FIFO: each record is [source endpoint]
/// [length][payload] and never wraps; when a record does not fit at the end,
/// it goes to the start if there is room there, and the end is skipped.
class datagram_queue {
 public:
  explicit datagram_queue(std::size_t capacity)
      : capacity_(capacity), bytes_(std::make_unique<std::byte[]>(capacity)) {}

  /// Copies the datagram in; false when it does not fit (the caller counts the drop).
  bool push(ipv4_endpoint from, std::span<const std::byte> data) {
    const std::size_t need = record_header + data.size();
    std::size_t at;
    if (!wrapped_) {
      if (need <= capacity_ - tail_) {
        at = tail_;
      } else if (need <= head_) {  // room before the oldest record: wrap
        data_end_ = tail_;
        wrapped_ = true;
        at = 0;
      } else {
        return false;
      }
    } else {
      if (need > head_ - tail_) return false;
      at = tail_;
    }
    std::byte* p = bytes_.get() + at;
    const auto length = static_cast<std::uint32_t>(data.size());
    std::memcpy(p, &from, sizeof from);
    std::memcpy(p + sizeof from, &length, sizeof length);
    if (!data.empty()) std::memcpy(p + record_header, data.data(), data.size());
    tail_ = at + need;
    ++count_;
    return true;
  }

  bool empty() const noexcept { return count_ == 0; }
  std::size_t size() const noexcept { return count_; }

  /// The oldest datagram; valid until it is popped.
  received_datagram front() const {
    const std::byte* p = bytes_.get() + head_;
    ipv4_endpoint from;
    std::uint32_t length;
    std::memcpy(&from, p, sizeof from);
    std::memcpy(&length, p + sizeof from, sizeof length);
    return {from, std::span<const std::byte>(p + record_header, length)};
  }

  void pop() {
    head_ += record_header + front().data.size();
    --count_;
    if (count_ == 0) {
      head_ = tail_ = 0;
      wrapped_ = false;
    } else if (wrapped_ && head_ == data_end_) {
      head_ = 0;
      wrapped_ = false;
    }
  }

 private:
  static constexpr std::size_t record_header = sizeof(ipv4_endpoint) + sizeof(std::uint32_t);
  std::size_t capacity_;
  std::unique_ptr<std::byte[]> bytes_;
  std::size_t head_ = 0;      // the oldest record
  std::size_t tail_ = 0;      // where the next record goes
  std::size_t data_end_ = 0;  // when wrapped: the end of the records before the wrap
  bool wrapped_ = false;      // records at [head_, data_end_) then [0, tail_)
  std::size_t count_ = 0;
};

template <class Udp>
class udp_service;

/// A bound UDP port of the direct stack; models uk::udp_socket.
template <class Udp>
class udp_socket {
 public:
  udp_socket(udp_socket&&) noexcept = default;
  udp_socket& operator=(udp_socket&&) noexcept = default;
  ~udp_socket() { close(); }

  /// The next datagram; its data stays valid until the next receive().
  asio::awaitable<received_datagram> receive() {
    if (!state_ || state_->closed) throw boost::system::system_error(asio::error::bad_descriptor, "receive");
    if (state_->delivered) {
      state_->queue.pop();
      state_->delivered = false;
    }
    while (state_->queue.empty()) {
      if (state_->closed) throw boost::system::system_error(asio::error::operation_aborted, "receive");
      boost::system::error_code ignored;
      co_await state_->arrival.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    state_->delivered = true;
    co_return state_->queue.front();
  }

  asio::awaitable<void> send_to(ipv4_endpoint to, std::span<const std::byte> data) {
    if (!state_ || state_->closed) throw boost::system::system_error(asio::error::bad_descriptor, "send_to");
    if (data.size() > Udp::max_payload) throw boost::system::system_error(asio::error::message_size, "send_to");
    auto copy = [&](std::span<std::byte> out) {
      std::memcpy(out.data(), data.data(), data.size());
      return data.size();
    };
    state_->service->layer().transmit(state_->port, to, data.size(), frame_filler(copy));
    state_->service->changed();
    co_return;
  }

  std::uint16_t local_port() const { return state_ ? state_->port : 0; }

  void close() {
    if (!state_ || state_->closed) return;
    state_->closed = true;
    state_->service->layer().unbind(state_->port);
    state_->arrival.cancel();
  }

  const udp_socket_counters& counters() const { return state_->counters; }

 private:
  friend class udp_service<Udp>;
  struct state {
    state(udp_service<Udp>* s, asio::any_io_executor ex, std::size_t buffer)
        : service(s), queue(buffer), arrival(ex, asio::steady_timer::time_point::max()) {}
    void on_datagram(const udp_datagram_info& info, frame payload) {
      if (!queue.push(info.source, payload)) {
        ++counters.dropped_buffer_full;
        return;
      }
      ++counters.received;
      arrival.cancel();  // wakes a waiting receive()
    }
    udp_service<Udp>* service;
    std::uint16_t port = 0;
    datagram_queue queue;
    asio::steady_timer arrival;  // never expires: cancelled on each arrival
    bool delivered = false;      // the front datagram was handed out by receive()
    bool closed = false;
    udp_socket_counters counters;
  };
  explicit udp_socket(std::unique_ptr<state> s) : state_(std::move(s)) {}
  std::unique_ptr<state> state_;  // stable address: the layer's delegate points at it
};

/// uk::udp_layer over the direct stack's UDP layer.
template <class Udp>
class udp_service {
 public:
  using socket_type = udp_socket<Udp>;
  /// Receive buffer per socket (Linux's default SO_RCVBUF is about 208 KiB).
  static constexpr std::size_t default_receive_buffer = 256 * 1024;

  /// `changed` is called after each send so the stack can re-arm its timer.
  udp_service(asio::any_io_executor executor, Udp& layer, delegate<void()> changed)
      : executor_(std::move(executor)), layer_(layer), changed_(changed) {}

  /// Binds `port` (0: an ephemeral port); throws address_in_use when taken.
  asio::awaitable<socket_type> bind(std::uint16_t port) {
    auto s = std::make_unique<typename socket_type::state>(this, executor_, default_receive_buffer);
    auto handler = udp_handler::bind<&socket_type::state::on_datagram>(*s);
    if (port == 0) {
      port = layer_.bind_ephemeral(handler);
      if (port == 0) throw boost::system::system_error(asio::error::no_buffer_space, "bind");
    } else if (!layer_.bind(port, handler)) {
      throw boost::system::system_error(asio::error::address_in_use, "bind");
    }
    s->port = port;
    co_return socket_type(std::move(s));
  }

  Udp& layer() { return layer_; }
  void changed() {
    if (changed_) changed_();
  }

 private:
  asio::any_io_executor executor_;
  Udp& layer_;
  delegate<void()> changed_;
};

}  // namespace uk::direct
