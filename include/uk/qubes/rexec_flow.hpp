// uk::qubes::rexec_flow: one qrexec data vchan as the application sees it
// (qubes-protocols.md 2.4 and 2.5), over any vchan_stream.
//
// A service handler gets one in the `service` role: read_some() reads the
// caller's stdin, write() writes stdout, write_stderr() stderr; the handler's
// return value is the exit code, sent after the EOFs in the upstream order.
// A call (rexec::call) returns one in the `caller` role: write() writes the
// service's stdin, close_write() sends its EOF, read_some() reads its stdout,
// exit_code() waits for the exit code; what the service writes on stderr is
// kept (up to max_stderr bytes, the excess counted) in stderr_text().
//
// One read and one write may be in progress at once, as on an Asio stream;
// two writes at once are not allowed. Errors of the vchan are thrown as
// boost::system::system_error; a peer that breaks the protocol as
// uk::qubes::rexec_error.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "uk/asio.hpp"
#include "uk/log.hpp"
#include "uk/qubes/rexec_data.hpp"
#include "uk/qubes/vchan.hpp"

namespace uk::qubes {

/// A qrexec peer broke the protocol, or a call was refused.
class rexec_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <vchan_stream Channel>
class basic_rexec_flow {
 public:
  /// The most stderr bytes a caller keeps.
  static constexpr std::size_t max_stderr = 64 * 1024;
  /// The most received bytes kept until read_some() takes them (while the
  /// application waits for exit_code() without reading, say).
  static constexpr std::size_t max_unread = 1024 * 1024;

  /// `on_closed` runs once when the flow is closed (the agent tells dom0
  /// that the data port is free).
  basic_rexec_flow(Channel channel, rexec_data_role role, std::uint32_t own_version,
                   std::function<void()> on_closed = {})
      : channel_(std::make_unique<Channel>(std::move(channel))), core_(role, own_version),
        on_closed_(std::move(on_closed)) {}

  basic_rexec_flow(basic_rexec_flow&&) noexcept = default;
  basic_rexec_flow& operator=(basic_rexec_flow&&) = delete;
  ~basic_rexec_flow() { close(); }

  /// Sends our HELLO and waits for the peer's (2.4 step 3: ours first).
  asio::awaitable<void> handshake() {
    core_.start();
    co_await flush();
    while (!core_.version()) {
      const bool more = co_await pump();  // (not in the condition: g++ 12 miscompiles that)
      if (!more) throw rexec_error("qrexec data vchan closed before the peer's MSG_HELLO");
    }
  }

  /// Sends our HELLO without waiting for the peer's: for an answer that
  /// needs nothing from the peer (a refusal), so that it never hangs.
  asio::awaitable<void> handshake_send_only() {
    core_.start();
    co_await flush();
  }

  /// The data version both ends speak, once handshake() is done.
  std::uint32_t version() const noexcept { return core_.version().value_or(0); }
  rexec_data_role role() const noexcept { return core_.role(); }

  /// Reads what the peer sends on the stream this role receives (stdin for
  /// a service, stdout for a caller). Returns 0 at its EOF.
  asio::awaitable<std::size_t> read_some(std::span<std::byte> out) {
    for (;;) {
      if (!pending_.empty()) {
        const std::size_t n = std::min(out.size(), pending_.size());
        std::copy_n(pending_.begin(), n, out.begin());
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
        co_return n;
      }
      if (input_ended_ || out.empty()) co_return 0;
      const bool more = co_await pump();  // (not in the condition: g++ 12 miscompiles that)
      if (!more) input_ended_ = true;
    }
  }

  /// Reads until the EOF of the stream this role receives, at most `limit` bytes.
  asio::awaitable<std::string> read_all(std::size_t limit = 1 << 20) {
    std::string all;
    std::byte buffer[4096];
    for (;;) {
      const std::size_t n = co_await read_some(buffer);
      if (n == 0) co_return all;
      all.append(reinterpret_cast<const char*>(buffer), std::min(n, limit - all.size()));
      if (all.size() >= limit) co_return all;
    }
  }

  /// Writes on the stream this role sends (stdout for a service, stdin for a caller).
  asio::awaitable<void> write(std::span<const std::byte> bytes) {
    if (core_.role() == rexec_data_role::service)
      core_.send_stdout(bytes);
    else
      core_.send_stdin(bytes);
    co_await flush();
  }
  asio::awaitable<void> write(std::string_view text) {
    co_await write(std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
  }

  /// Writes on stderr (service role).
  asio::awaitable<void> write_stderr(std::string_view text) {
    core_.send_stderr(std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
    co_await flush();
  }

  /// Sends the EOF of the stream this role writes.
  asio::awaitable<void> close_write() {
    if (core_.role() == rexec_data_role::service)
      core_.close_stdout();
    else
      core_.close_stdin();
    co_await flush();
  }

  /// Caller role: reads (keeping stdout for read_some) until the service's exit code.
  asio::awaitable<std::int32_t> exit_code() {
    while (!exit_code_) {
      const bool more = co_await pump();  // (not in the condition: g++ 12 miscompiles that)
      if (!more) throw rexec_error("the service ended without an exit code");
    }
    co_return *exit_code_;
  }

  /// Caller role: what the service wrote on stderr so far (at most max_stderr bytes).
  const std::string& stderr_text() const noexcept { return stderr_; }
  std::uint64_t stderr_bytes_dropped() const noexcept { return stderr_dropped_; }
  /// Received bytes dropped because max_unread were waiting to be read.
  std::uint64_t unread_bytes_dropped() const noexcept { return unread_dropped_; }

  /// Service role: sends STDOUT EOF, STDERR EOF and the exit code, in the upstream order.
  asio::awaitable<void> finish(std::int32_t code) {
    core_.send_exit_code(code);
    co_await flush();
  }

  /// Service role, MSG_JUST_EXEC: sends the exit code alone.
  asio::awaitable<void> finish_just_exec(std::int32_t code) {
    core_.send_exit_code_only(code);
    co_await flush();
  }

  /// Closes the vchan (the peer reads EOF) and runs on_closed, once.
  void close() noexcept {
    if (!channel_) return;
    if (channel_->is_open()) channel_->close();
    if (auto f = std::exchange(on_closed_, {})) f();
  }

  const rexec_data_counters& counters() const noexcept { return core_.counters(); }

 private:
  // Writes what the core queued.
  asio::awaitable<void> flush() {
    while (!core_.output().empty()) {
      std::vector<std::byte> bytes(core_.output().begin(), core_.output().end());
      core_.consume_output(bytes.size());
      if (!channel_ || !channel_->is_open()) co_return;  // closed here (MSG_JUST_EXEC): nobody reads it
      co_await asio::async_write(*channel_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
    }
  }

  // Reads once from the vchan and handles what arrived. False at the vchan's EOF.
  asio::awaitable<bool> pump() {
    if (!channel_ || !channel_->is_open()) co_return false;  // closed here: nothing more to read
    std::byte buffer[16 * 1024];
    boost::system::error_code ec;
    const std::size_t n = co_await channel_->async_read_some(asio::buffer(buffer, sizeof buffer),
                                                            asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
      co_return false;
    if (ec) throw boost::system::system_error(ec, "qrexec data vchan");
    core_.receive(std::span(buffer, n));
    for (;;) {
      auto e = core_.next_event();
      if (!e) throw rexec_error(fmt::format("qrexec data vchan: {}", to_string(e.error())));
      if (!e->has_value()) break;
      handle(**e);
    }
    co_return true;
  }

  void handle(const rexec_data_event& e) {
    using kind = rexec_data_event::kind;
    switch (e.what) {
      case kind::stdin_data:
      case kind::stdout_data: {
        const std::size_t n = std::min(max_unread - pending_.size(), e.bytes.size());
        pending_.insert(pending_.end(), e.bytes.begin(), e.bytes.begin() + static_cast<std::ptrdiff_t>(n));
        if (n < e.bytes.size()) {
          unread_dropped_ += e.bytes.size() - n;
          log::debug(log::source::qubes_rexec, "data: {} bytes nobody read dropped", e.bytes.size() - n);
        }
        break;
      }
      case kind::stdin_eof:
      case kind::stdout_eof: input_ended_ = true; break;
      case kind::stderr_data: {
        const std::size_t room = max_stderr - stderr_.size();
        const std::size_t n = std::min(room, e.bytes.size());
        stderr_.append(reinterpret_cast<const char*>(e.bytes.data()), n);
        if (n < e.bytes.size()) {
          stderr_dropped_ += e.bytes.size() - n;
          log::debug(log::source::qubes_rexec, "data: {} bytes of stderr over the bound dropped",
                     e.bytes.size() - n);
        }
        break;
      }
      case kind::exit_code: exit_code_ = e.exit_code; break;
      case kind::negotiated:
      case kind::stderr_eof: break;
    }
  }

  std::unique_ptr<Channel> channel_;  // on the heap: a moved-from flow must not close a live channel
  rexec_data core_;
  std::function<void()> on_closed_;
  std::vector<std::byte> pending_;  // received, not read yet
  bool input_ended_ = false;       // its EOF arrived (or the vchan ended)
  std::uint64_t unread_dropped_ = 0;
  std::optional<std::int32_t> exit_code_;
  std::string stderr_;
  std::uint64_t stderr_dropped_ = 0;
};

}  // namespace uk::qubes
