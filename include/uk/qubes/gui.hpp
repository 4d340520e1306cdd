// uk::qubes::gui: the GUI agent of a Qubes VM (mirage-qubes' GUI), a device
// over the socket vchan (qubes-protocols.md section 3). Enough for dom0 to
// accept the VM, and a small window API.
//
//   connect()     serves vchan port 6000 to the GUI domain, announces 1.8 and
//                 reads the daemon's version and screen (uk::run awaits it
//                 before the application starts)
//   run()         consumes and skips every daemon message by its length;
//                 when qubes-guid goes away, serves the vchan again and
//                 redoes the handshake with the next one (the init job runs it)
//   create_window(...), map_window, set_title, configure_window
//                 what mirage-qubes sends to show a window (MSG_CREATE,
//                 MSG_MAP, MSG_WMNAME, MSG_CONFIGURE)
//
// Daemon messages are logged at debug and counted (gui_session::counters).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>

#include "uk/asio.hpp"
#include "uk/concepts/qubes.hpp"
#include "uk/log.hpp"
#include "uk/qubes/domains.hpp"
#include "uk/qubes/gui_session.hpp"
#include "uk/runtime/device.hpp"

namespace uk::qubes {

class gui {
 public:
  using keys = key_list<>;
  using dependencies = device_list<domains>;
  static constexpr std::string_view device_name = "qubes gui";

  /// `announced` is the version this agent offers (1.8 as upstream; tests use 1.1).
  explicit gui(domains& d, std::uint32_t announced = gui_wire::version_1_8)
      : domains_(d), announced_(announced), session_(announced) {}

  template <class Keys>
  gui(device_context&, const Keys&, domains& d) : gui(d) {}

  gui(const gui&) = delete;
  gui& operator=(const gui&) = delete;

  /// Serves the GUI vchan and does the handshake (3.2).
  asio::awaitable<void> connect() {
    channel_.reset();
    session_ = gui_session(announced_);
    const vchan_address address = domains_.from(domains_.gui(), gui_wire::port);
    log::debug(log::source::qubes_gui, "waiting for the GUI daemon on {}", address);
    channel_ = std::make_unique<domains::channel>(co_await domains_.listen(domains_.gui(), gui_wire::port));
    session_.start();
    co_await flush();
    while (!session_.handshake_done()) {
      const bool more = co_await read();  // (not in the condition: g++ 12 miscompiles that)
      if (!more) throw device_error("the GUI daemon closed the vchan during the handshake");
    }
    const auto& s = session_.screen();
    log::info(log::source::qubes_gui, "GUI connected (protocol {}.{}, screen {}x{}x{})",
              gui_wire::major_of(session_.version()), gui_wire::minor_of(session_.version()), s.width, s.height,
              s.depth);
  }

  /// Consumes the daemon's messages; reconnects when the daemon goes away.
  asio::awaitable<void> run() {
    for (;;) {
      bool open = true;
      while (open) open = co_await read();  // (g++ 12 miscompiles a co_await in a while condition)
      log::info(log::source::qubes_gui, "the GUI daemon went away; waiting for it again");
      ++reconnects_;
      co_await connect();
    }
  }

  /// The negotiated version (major << 16 | minor), 0 before connect().
  std::uint32_t protocol_version() const noexcept { return session_.version(); }
  /// The daemon's screen, as its xconf said.
  const gui_wire::xconf& screen() const noexcept { return session_.screen(); }

  asio::awaitable<void> create_window(std::uint32_t id, const gui_wire::create_body& b) {
    session_.create_window(id, b);
    co_await flush();
  }
  asio::awaitable<void> map_window(std::uint32_t id) {
    session_.map_window(id);
    co_await flush();
  }
  asio::awaitable<void> set_title(std::uint32_t id, std::string_view title) {
    session_.set_title(id, title);
    co_await flush();
  }
  asio::awaitable<void> configure_window(std::uint32_t id, const gui_wire::configure_body& b) {
    session_.configure_window(id, b);
    co_await flush();
  }

  const gui_counters& counters() const noexcept { return session_.counters(); }
  std::uint64_t reconnects() const noexcept { return reconnects_; }

 private:
  // Reads once and handles what arrived; false when the vchan ended.
  asio::awaitable<bool> read() {
    std::byte buffer[16 * 1024];
    boost::system::error_code ec;
    const std::size_t n = co_await channel_->async_read_some(asio::buffer(buffer, sizeof buffer),
                                                            asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      log::debug(log::source::qubes_gui, "GUI vchan: {}", ec.message());
      co_return false;
    }
    session_.receive(std::span(buffer, n));
    for (;;) {
      auto e = session_.next_event();
      if (!e) {
        log::warning(log::source::qubes_gui, "GUI handshake failed: {}", to_string(e.error()));
        channel_->close();
        co_return false;
      }
      if (!e->has_value()) co_return true;
      if ((*e)->what == gui_event::kind::message) {
        const auto& h = (*e)->header;
        log::debug(log::source::qubes_gui, "daemon message {} for window {}, {} bytes{}", h.type, h.window,
                   h.untrusted_length, (*e)->skipped ? " (skipped)" : "");
      }
    }
  }

  // Writes what the session queued; one writer at a time.
  asio::awaitable<void> flush() {
    if (writing_) co_return;
    writing_ = true;
    try {
      while (channel_ && !session_.output().empty()) {
        std::vector<std::byte> bytes(session_.output().begin(), session_.output().end());
        session_.consume_output(bytes.size());
        co_await asio::async_write(*channel_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
      }
    } catch (const std::exception& x) {
      log::debug(log::source::qubes_gui, "GUI vchan write: {}", x.what());
    }
    writing_ = false;
  }

  domains& domains_;
  std::uint32_t announced_;
  gui_session session_;
  std::unique_ptr<domains::channel> channel_;
  bool writing_ = false;
  std::uint64_t reconnects_ = 0;
};

static_assert(qubes_gui<gui>);

}  // namespace uk::qubes
