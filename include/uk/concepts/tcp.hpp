// Module type TCP (Mirage_protocols.TCP), application side: listeners and
// flows. A flow models Asio's AsyncReadStream and AsyncWriteStream, so code
// written against Asio (and Boost.Beast) runs on either stack unchanged.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "uk/addr.hpp"
#include "uk/asio.hpp"
#include "uk/time.hpp"

namespace uk {

/// A TCP connection.
///   f.async_read_some(buf, token), f.async_write_some(buf, token), f.get_executor()
///                       as Asio's AsyncReadStream / AsyncWriteStream (end of stream is
///                       asio::error::eof; a write completes once the data is buffered)
///   f.shutdown_send()   sends FIN after the buffered data (half-close)
///   f.close()           closes both directions gracefully
///   f.abort()           resets the connection (RST)
///   f.local_endpoint(), f.remote_endpoint()
template <class F>
concept tcp_flow = requires(F& f, const F& cf, asio::mutable_buffer in, asio::const_buffer out) {
  typename F::executor_type;
  { f.get_executor() } -> std::convertible_to<typename F::executor_type>;
  { f.async_read_some(in, asio::use_awaitable) } -> std::same_as<asio::awaitable<std::size_t>>;
  { f.async_write_some(out, asio::use_awaitable) } -> std::same_as<asio::awaitable<std::size_t>>;
  { f.shutdown_send() } -> std::same_as<void>;
  { f.close() } -> std::same_as<void>;
  { f.abort() } -> std::same_as<void>;
  { cf.local_endpoint() } -> std::same_as<ipv4_endpoint>;
  { cf.remote_endpoint() } -> std::same_as<ipv4_endpoint>;
};

/// A listening port.
///   co_await l.accept()   the next established connection from the accept queue
///   l.local_port()        the port listened on
///   l.close()             stops listening; pending accepts complete with operation_aborted
template <class L>
concept tcp_listener = requires(L& l, const L& cl) {
  typename L::flow_type;
  requires tcp_flow<typename L::flow_type>;
  { l.accept() } -> std::same_as<asio::awaitable<typename L::flow_type>>;
  { cl.local_port() } -> std::same_as<std::uint16_t>;
  { l.close() } -> std::same_as<void>;
};

/// A TCP layer.
///   co_await t.listen(port)            a listener (port 0: ephemeral)
///   co_await t.connect(to)             an established flow, or an error: refused, timed out
///   co_await t.connect(to, timeout)    the same, giving up after `timeout`
/// Failures are thrown as boost::system::system_error with Asio's error codes
/// (connection_refused, connection_reset, timed_out, operation_aborted).
template <class T>
concept tcp_layer = requires(T& t, std::uint16_t port, ipv4_endpoint to, duration timeout) {
  typename T::flow_type;
  typename T::listener_type;
  requires tcp_flow<typename T::flow_type>;
  requires tcp_listener<typename T::listener_type>;
  { t.listen(port) } -> std::same_as<asio::awaitable<typename T::listener_type>>;
  { t.connect(to) } -> std::same_as<asio::awaitable<typename T::flow_type>>;
  { t.connect(to, timeout) } -> std::same_as<asio::awaitable<typename T::flow_type>>;
};

}  // namespace uk
