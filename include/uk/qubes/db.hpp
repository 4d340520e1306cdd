// uk::qubes::db: the QubesDB device of a Qubes VM (mirage-qubes' DB), the
// Asio side of uk::qubes::db_core (uk/qubes/db_core.hpp).
//
// It connects to dom0's QubesDB as a vchan client on port 111 (through the
// domains device), sends the one MULTIREAD of the connection and completes
// connect() once dom0 has answered it, so the boot sees a full database.
// Then it applies what dom0 pushes, forwards local writes and removals, and
// wakes coroutines waiting for changes. When the channel ends (dom0's daemon
// restarted, or sent what cannot be followed) it reconnects, retrying every
// retry interval, and synchronises again with a fresh MULTIREAD; the entries
// stay readable meanwhile.
//
//   db.read("/qubes-ip")                     the value, if the key exists
//   co_await db.write("/k", "v")             local write, forwarded to dom0
//   co_await db.remove("/k")                 local removal, forwarded when the key exists
//   co_await db.changed()                    the next change of any key
//   co_await db.changed("/qubes-")           the next change of a key starting with the prefix
//   co_await db.wait_for_commit("/p")        the next write of an empty value to "/p", the
//                                            commit marker dom0 writes after the entries
//                                            under "/p/" (section 1.7); returns those entries
//
// Everything runs on the device's executor (one thread, like the rest of uk).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "uk/asio.hpp"
#include "uk/concepts/qubes.hpp"
#include "uk/log.hpp"
#include "uk/qubes/db_core.hpp"
#include "uk/qubes/domains.hpp"
#include "uk/runtime/device.hpp"

namespace uk::qubes {

/// How long the device waits before connecting again after losing dom0.
inline constexpr std::chrono::milliseconds default_db_reconnect_interval{200};

class db {
 public:
  using keys = key_list<>;
  using dependencies = device_list<domains>;
  static constexpr std::string_view device_name = "qubesdb";
  using entry_map = db_core::entry_map;
  using channel = domains::channel;

  explicit db(domains& d, db_limits limits = {},
              std::chrono::steady_clock::duration reconnect_interval = default_db_reconnect_interval)
      : domains_(d),
        core_(limits),
        reconnect_interval_(reconnect_interval),
        wake_(d.executor(), asio::steady_timer::time_point::max()),
        retry_(d.executor()) {
    core_.set_change_handler(delegate<void(const db_change&)>::bind<&db::on_change>(*this));
  }

  /// As uk::run creates it.
  template <class Keys>
  db(device_context&, const Keys&, domains& d) : db(d) {}

  db(const db&) = delete;
  db& operator=(const db&) = delete;
  ~db() { stop(); }

  /// Starts the connection to dom0 and completes once dom0 has answered the first MULTIREAD.
  asio::awaitable<void> connect() {
    start();
    co_await synchronised();
  }

  /// Starts the connection to dom0 (and reconnections) in the background.
  void start() {
    if (started_) return;
    started_ = true;
    asio::co_spawn(domains_.executor(), run(), asio::detached);
  }

  /// Completes once dom0 has answered a MULTIREAD (at once if it already has).
  asio::awaitable<void> synchronised() {
    while (core_.counters().syncs == 0 && !stopping_) co_await sleep();
  }

  /// Closes the channel and stops reconnecting; waiters are woken.
  void stop() {
    stopping_ = true;
    if (channel_) channel_->close();
    retry_.cancel();
    wake_.cancel();
  }

  // ---- uk::qubes_db --------------------------------------------------------

  std::optional<std::string> read(std::string_view key) const {
    if (const auto* v = core_.find(key)) return *v;
    return std::nullopt;
  }

  /// Writes locally and forwards to dom0. Throws std::invalid_argument for a
  /// path or value QubesDB does not accept (section 1.3); a write beyond a
  /// bound is dropped, counted and logged.
  asio::awaitable<void> write(std::string_view key, std::string_view value) {
    check(core_.write(key, value), "write", key);
    flush();
    co_return;
  }

  /// Removes locally and forwards to dom0; a key ending in '/' removes every
  /// entry under it. A key that is not there is not sent (dom0 would exit on it).
  asio::awaitable<void> remove(std::string_view key) {
    check(core_.remove(key), "remove", key);
    flush();
    co_return;
  }

  /// Completes at the next change of any key.
  asio::awaitable<void> changed() { return changed(std::string()); }

  /// Completes at the next change of a key starting with `prefix`.
  asio::awaitable<void> changed(std::string prefix) {
    waiter w{std::move(prefix), waiter::kind::any};
    co_await wait(w);
  }

  /// Waits for dom0 to write the empty commit marker at `prefix` (section 1.7,
  /// mirage-qubes' DB.got_new_commit) and returns the entries under `prefix + "/"`.
  asio::awaitable<entry_map> wait_for_commit(std::string prefix) {
    waiter w{prefix, waiter::kind::commit};
    co_await wait(w);
    co_return entries(prefix + "/");
  }

  // ---- beyond the concept --------------------------------------------------

  /// The entries whose path starts with `prefix`.
  entry_map entries(std::string_view prefix = {}) const {
    entry_map out;
    for (auto it = core_.entries().lower_bound(prefix); it != core_.entries().end() && it->first.starts_with(prefix);
         ++it)
      out.emplace(it->first, it->second);
    return out;
  }

  db_state state() const noexcept { return core_.state(); }
  /// Whether stop() was called: waits complete at once from then on.
  bool stopped() const noexcept { return stopping_; }
  const asio::any_io_executor& executor() const noexcept { return domains_.executor(); }
  const db_counters& counters() const noexcept { return core_.counters(); }
  std::uint64_t connections() const noexcept { return connections_; }

 private:
  struct waiter {
    enum class kind { any, commit };
    std::string prefix;
    kind what;
    bool fired = false;
  };

  static void check(db_local_result r, std::string_view what, std::string_view key) {
    switch (r) {
      case db_local_result::invalid_path:
        throw std::invalid_argument(fmt::format("QubesDB {}: '{}' is not a valid path", what, key));
      case db_local_result::invalid_value:
        throw std::invalid_argument(fmt::format("QubesDB {} of {}: the value is too long or holds a NUL", what, key));
      case db_local_result::full:
        log::debug(log::source::qubes_db, "{} of {} dropped: a bound was hit", what, key);
        return;
      case db_local_result::no_such_key:
      case db_local_result::done:
        return;
    }
  }

  asio::awaitable<void> sleep() {
    boost::system::error_code ignored;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  asio::awaitable<void> wait(waiter& w) {
    waiters_.push_back(&w);
    struct unregister {
      db& self;
      waiter& w;
      ~unregister() { std::erase(self.waiters_, &w); }
    } guard{*this, w};
    while (!w.fired && !stopping_) co_await sleep();
  }

  void on_change(const db_change& c) {
    for (waiter* w : waiters_) {
      if (w->what == waiter::kind::any && c.path.starts_with(w->prefix)) w->fired = true;
      if (w->what == waiter::kind::commit && c.what == db_change::kind::written && c.value.empty() &&
          c.path == w->prefix)
        w->fired = true;
    }
    wake_.cancel();
  }

  asio::awaitable<void> run() {
    std::vector<std::byte> buffer(4096);
    while (!stopping_) {
      try {
        channel_ = std::make_shared<channel>(co_await domains_.connect(domains_.dom0(), wire::qubes_db::vchan_port));
      } catch (const std::exception& e) {
        log::error(log::source::qubes_db, "cannot reach dom0's QubesDB: {}", e.what());
      }
      if (!channel_) {
        co_await pause();
        continue;
      }
      if (stopping_) break;
      ++connections_;
      log::debug(log::source::qubes_db, "connected to dom0 (domain {}), sending MULTIREAD", domains_.dom0());
      core_.connected();
      flush();
      const auto syncs = core_.counters().syncs;
      bool synced_this_connection = false;
      for (;;) {
        boost::system::error_code ec;
        const auto n = co_await channel_->async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          log::info(log::source::qubes_db, "dom0 closed QubesDB ({}): reconnecting", ec.message());
          break;
        }
        if (!core_.receive(std::span(buffer).first(n))) {
          log::warning(log::source::qubes_db, "dom0 sent what QubesDB cannot follow: reconnecting");
          break;
        }
        if (core_.counters().syncs != syncs && !synced_this_connection) {
          synced_this_connection = true;
          log::info(log::source::qubes_db, "synchronised with dom0: {} entries", core_.entries().size());
          wake_.cancel();
        }
        flush();
      }
      channel_->close();
      channel_.reset();
      core_.disconnected();
      co_await pause();
    }
  }

  asio::awaitable<void> pause() {
    if (stopping_) co_return;
    retry_.expires_after(reconnect_interval_);
    boost::system::error_code ignored;
    co_await retry_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  /// Writes what the core has for dom0, one write at a time.
  void flush() {
    if (writing_ || !channel_ || !core_.has_output()) return;
    writing_ = true;
    asio::co_spawn(domains_.executor(), write_out(channel_), asio::detached);
  }

  asio::awaitable<void> write_out(std::shared_ptr<channel> ch) {
    std::vector<std::byte> out;
    while (ch == channel_ && core_.has_output()) {
      core_.take_output(out);
      boost::system::error_code ec;
      co_await asio::async_write(*ch, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        log::debug(log::source::qubes_db, "write to dom0 failed: {}", ec.message());
        ch->close();  // the reader sees it and reconnects
        break;
      }
    }
    writing_ = false;
    flush();  // a new connection may have output by now
  }

  domains& domains_;
  db_core core_;
  std::chrono::steady_clock::duration reconnect_interval_;
  asio::steady_timer wake_;   // never expires: cancelled to wake the waiters
  asio::steady_timer retry_;
  std::shared_ptr<channel> channel_;
  std::vector<waiter*> waiters_;
  std::uint64_t connections_ = 0;
  bool started_ = false, stopping_ = false, writing_ = false;
};

static_assert(qubes_db<db>);

}  // namespace uk::qubes
