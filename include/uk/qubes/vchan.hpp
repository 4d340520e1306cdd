// The vchan transport of the Qubes agents: a reliable, ordered byte stream
// between two Xen domains, named by (server domain, client domain, port).
//
// qubes-protocols.md section 0: QubesDB is a vchan client of dom0 on port
// 111, the qrexec agent a vchan server on port 512 (and client or server on
// the data ports), the GUI agent a vchan server on port 6000. None of the
// protocols adds framing: what one end writes, the other reads.
//
// The concept below is what the agents need of a channel, so that the
// socket vchan (uk/qubes/vchan_socket.hpp, byte-compatible with Qubes' own
// test transport) can later be joined by a Xen vchan (grant pages + event
// channel, published in xenstore) without touching the agents.
#pragma once

#include <concepts>
#include <cstddef>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "uk/asio.hpp"

namespace uk::qubes {

/// A Xen domain id (dom0 is 0; domUs count up from 1; ids at and above
/// DOMID_FIRST_RESERVED 0x7ff0 are special and never name a domain).
using domid = int;

/// The largest domain id of a real domain (Xen's DOMID_FIRST_RESERVED - 1).
inline constexpr domid max_domid = 0x7fef;

/// Where Qubes' socket vchan puts its sockets when $VCHAN_SOCKET_DIR is unset
/// (qubes-core-vchan-socket, qubes-protocols.md section 4).
inline constexpr std::string_view default_vchan_dir = "/var/run/vchan";

/// One vchan: who serves it, who connects to it, on which port; and, for the
/// socket vchan, the directory its socket lives in.
struct vchan_address {
  std::filesystem::path dir;
  domid server_domid = 0;
  domid client_domid = 0;
  int port = 0;

  /// `<dir>/vchan.<server>.<client>.<port>.sock`, as qubes-core-vchan-socket names it.
  std::filesystem::path socket_path() const {
    return dir / fmt::format("vchan.{}.{}.{}.sock", server_domid, client_domid, port);
  }

  friend bool operator==(const vchan_address&, const vchan_address&) = default;
};

/// A connected vchan: an Asio AsyncReadStream and AsyncWriteStream of bytes
/// (so asio::async_read and asio::async_write work on it with any completion
/// token) that can be closed. Closing ends the channel for both ends: the
/// peer reads end-of-file (the socket vchan has no close message either).
///   s.get_executor()             the executor its operations run on
///   s.async_read_some(b, token)  reads at least one byte into `b`
///   s.async_write_some(b, token) writes at least one byte of `b`
///   s.close()                    ends the channel; pending operations complete with an error
///   s.is_open()                  whether close() has not been called
template <class S>
concept vchan_stream = std::movable<S> && requires(S& s, const S& cs, asio::mutable_buffer in, asio::const_buffer out) {
  s.get_executor();
  { s.async_read_some(in, asio::use_awaitable) } -> std::same_as<asio::awaitable<std::size_t>>;
  { s.async_write_some(out, asio::use_awaitable) } -> std::same_as<asio::awaitable<std::size_t>>;
  s.close();
  { cs.is_open() } -> std::convertible_to<bool>;
};

}  // namespace uk::qubes

template <>
struct fmt::formatter<uk::qubes::vchan_address> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
  template <class Context>
  auto format(const uk::qubes::vchan_address& a, Context& ctx) const {
    return fmt::format_to(ctx.out(), "vchan {}->{} port {}", a.client_domid, a.server_domid, a.port);
  }
};
