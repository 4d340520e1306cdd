// The application side of the direct stack's TCP: uk::tcp_layer with Asio
// awaitables over the packet layer tcp::layer<Ip> (as udp_service.hpp is for UDP).
//
//   co_await tcp.listen(port)          a listener with the default backlog
//   co_await tcp.connect(to, timeout)  an established flow, or system_error:
//                                      connection_refused (RST to our SYN),
//                                      timed_out (SYN retries or `timeout`),
//                                      address_not_available (no free port),
//                                      no_buffer_space (connection cap)
#pragma once

#include <chrono>
#include <cstdint>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include "uk/asio.hpp"
#include "uk/concepts/tcp.hpp"
#include "uk/direct/tcp/flow.hpp"
#include "uk/direct/tcp/layer.hpp"
#include "uk/direct/tcp/listener.hpp"

namespace uk::direct::tcp {

template <class Layer>
class service {
 public:
  using flow_type = flow<Layer>;
  using listener_type = listener<Layer>;

  /// A connect() without a timeout of its own gives up after this long (as the socket stack).
  static constexpr duration default_connect_timeout = std::chrono::seconds(75);

  /// `changed` is called after each send so the stack can re-arm its timer.
  service(asio::any_io_executor executor, Layer& layer, clock_ref clock, delegate<void()> changed)
      : context_{layer, clock, std::move(executor), changed} {}
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Listens on `port` (0: an ephemeral port); throws address_in_use when taken.
  asio::awaitable<listener_type> listen(std::uint16_t port) { return listen(port, listen_options{}); }

  asio::awaitable<listener_type> listen(std::uint16_t port, listen_options backlog) {
    auto h = context_.layer.listen(port, backlog);
    if (!h) throw boost::system::system_error(asio::error::address_in_use, "listen");
    co_return listener_type(context_, *h);
  }

  asio::awaitable<flow_type> connect(ipv4_endpoint to) { return connect(to, default_connect_timeout); }

  /// RFC 9293 3.10.1 OPEN, active; waits for ESTABLISHED or failure, at most `timeout`.
  asio::awaitable<flow_type> connect(ipv4_endpoint to, duration timeout) {
    auto h = context_.layer.connect(to, context_.now());
    if (!h) {
      using ce = typename Layer::connect_error;
      switch (h.error()) {
        case ce::no_address: throw boost::system::system_error(asio::error::network_unreachable, "connect");
        case ce::no_port: throw boost::system::system_error(make_error_code(boost::system::errc::address_not_available), "connect");
        default: throw boost::system::system_error(asio::error::no_buffer_space, "connect");
      }
    }
    context_.after_send();
    flow_type f(context_, *h);
    auto& st = *f.state_;
    st.writable.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(timeout));
    for (;;) {
      const connection* c = st.conn();
      if (c->current_state() != state::syn_sent && c->current_state() != state::syn_received) break;
      boost::system::error_code ec;
      co_await st.writable.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {  // the timer expired rather than being woken
        f.abort();
        throw boost::system::system_error(asio::error::timed_out, "connect");
      }
    }
    st.writable.expires_at(asio::steady_timer::time_point::max());
    const connection* c = st.conn();
    if (c->last_error() != error::none) throw boost::system::system_error(to_error_code(c->last_error()), "connect");
    if (c->is_closed()) throw boost::system::system_error(asio::error::connection_aborted, "connect");
    co_return f;
  }

  Layer& layer() { return context_.layer; }

 private:
  service_context<Layer> context_;
};

}  // namespace uk::direct::tcp
