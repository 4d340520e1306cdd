// A fake dom0 QubesDB daemon, written from qubes-protocols.md section 1.5:
// the vchan server on port 111 that a VM's QubesDB client talks to.
//
// It serves one VM at a time over uk::qubes::vchan_socket, as the real
// `qubesdb-daemon <domid> <name>` does over the socket vchan:
//   - waits for the VM's MULTIREAD, answers every entry in descending path
//     order and the end marker (section 1.4), then counts the VM as synced;
//   - pushes push_write()/push_remove() to a synced VM (never before);
//   - applies the VM's WRITE and RM and answers RESP_OK;
//   - treats what the real daemon treats as fatal as fatal (a second
//     MULTIREAD, an RM of a missing path, an invalid header or a message type
//     not allowed on the vchan, a VM leaving before its MULTIREAD was
//     answered): it answers RM of a missing path RESP_ERROR_NOENT, records
//     the reason in fatal() and stops serving, as the real daemon exits;
//   - when a synced VM disconnects, listens again for the next connection;
//   - restart() drops the connection and serves a fresh socket, as a
//     restarted daemon would.
// Every message it receives is logged as one line ("MULTIREAD ''",
// "WRITE /k=v", "RM /k", "RESP_OK /k").
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <uk/qubes/vchan_socket.hpp>
#include <uk/wire/qubes_db.hpp>

namespace uk::test {

class fake_qubesdb {
 public:
  using entry_map = std::map<std::string, std::string>;

  fake_qubesdb(asio::any_io_executor executor, qubes::vchan_address address, entry_map entries)
      : executor_(std::move(executor)), address_(std::move(address)), entries_(std::move(entries)) {}

  fake_qubesdb(const fake_qubesdb&) = delete;
  fake_qubesdb& operator=(const fake_qubesdb&) = delete;

  /// Starts serving (in the background).
  void start() { asio::co_spawn(executor_, serve(), asio::detached); }

  /// Writes an entry as a dom0 client would: pushed to the VM once it is synced.
  void push_write(const std::string& path, const std::string& value) {
    entries_[path] = value;
    if (synced_) send(wire::qubes_db::message_type::write, path, value);
  }

  /// Removes an entry (a path ending in '/' removes every entry under it); pushed to a synced VM.
  void push_remove(const std::string& path) {
    if (path.ends_with('/'))
      std::erase_if(entries_, [&](const auto& e) { return e.first.starts_with(path); });
    else
      entries_.erase(path);
    if (synced_) send(wire::qubes_db::message_type::rm, path, {});
  }

  /// Drops the connection and serves a fresh socket, as a restarted daemon would.
  void restart() {
    log("restart");
    if (channel_) channel_->close();
  }

  /// Stops serving: the connection is closed and nothing more is accepted
  /// (a listen in progress stays until its executor is shut down).
  void stop() {
    stopping_ = true;
    if (channel_) channel_->close();
  }

  const entry_map& entries() const noexcept { return entries_; }
  const std::vector<std::string>& received() const noexcept { return received_; }
  bool synced() const noexcept { return synced_; }
  int connections() const noexcept { return connections_; }
  /// Why the real daemon would have exited, if it would have.
  const std::optional<std::string>& fatal() const noexcept { return fatal_; }

  /// Called with each log line (the tool prints them).
  std::function<void(std::string_view)> on_log;
  /// Called whenever a VM has been answered its MULTIREAD, or a message from it was handled.
  std::function<void()> on_event;

 private:
  using message_type = wire::qubes_db::message_type;

  void log(std::string line) {
    if (on_log) on_log(line);
  }
  /// A message from the VM: logged and recorded.
  void got(std::string line) {
    log(line);
    received_.push_back(std::move(line));
  }
  void event() {
    if (on_event) on_event();
  }

  void die(std::string reason) {
    log("fatal: " + reason);
    fatal_ = std::move(reason);
    stop();
    event();
  }

  asio::awaitable<void> serve() {
    while (!stopping_) {
      std::shared_ptr<qubes::vchan_socket> ch;
      try {
        ch = std::make_shared<qubes::vchan_socket>(co_await qubes::vchan_socket::listen(executor_, address_));
      } catch (const std::exception& e) {
        log(fmt::format("listen failed: {}", e.what()));
        co_return;
      }
      if (stopping_) co_return;
      channel_ = ch;
      ++connections_;
      log("connected");
      co_await serve_one(ch);
      const bool was_synced = synced_;
      synced_ = false;
      channel_.reset();
      ch->close();
      if (fatal_) co_return;
      if (!was_synced && !stopping_) {
        die("the VM left before its MULTIREAD was answered: domain dead");
        co_return;
      }
      log("vchan closed / reconnecting");
    }
  }

  asio::awaitable<void> serve_one(std::shared_ptr<qubes::vchan_socket> ch) {
    std::vector<std::byte> header(wire::qubes_db::header_length), data;
    for (;;) {
      boost::system::error_code ec;
      co_await asio::async_read(*ch, asio::buffer(header), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      const auto h = wire::qubes_db::parse_header(header);
      if (!h) co_return die(fmt::format("invalid header: {}", wire::to_string(h.error())));
      data.resize(h->data_len);
      co_await asio::async_read(*ch, asio::buffer(data), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      const auto value = wire::qubes_db::parse_value(data);
      if (!value) co_return die("a value holding a NUL");
      const std::string path(h->path);
      switch (h->type) {
        case message_type::multiread:
          got(fmt::format("MULTIREAD '{}'", path));
          if (synced_) co_return die("a second MULTIREAD on one connection");
          for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)  // descending (1.4)
            if (it->first.starts_with(path)) send(message_type::resp_multiread, it->first, it->second);
          send(message_type::resp_multiread, "", "");
          synced_ = true;
          break;
        case message_type::write:
          got(fmt::format("WRITE {}={}", path, *value));
          entries_[path] = std::string(*value);
          send(message_type::resp_ok, path, "");
          break;
        case message_type::rm: {
          got(fmt::format("RM {}", path));
          const auto removed = path.ends_with('/')
                                   ? std::erase_if(entries_, [&](const auto& e) { return e.first.starts_with(path); })
                                   : entries_.erase(path);
          if (removed == 0) {
            send(message_type::resp_error_noent, path, "");
            co_return die(fmt::format("failed rm of {} received from vchan", path));
          }
          send(message_type::resp_ok, path, "");
          break;
        }
        case message_type::resp_ok:
        case message_type::resp_error:
        case message_type::resp_multiread:
          got(fmt::format("{} {}", wire::qubes_db::to_string(h->type), path));
          break;
        default:
          co_return die(fmt::format("{} is not allowed on the vchan", wire::qubes_db::to_string(h->type)));
      }
      event();
    }
  }

  void send(message_type type, std::string_view path, std::string_view value) {
    std::vector<std::byte> m(wire::qubes_db::header_length + value.size());
    wire::qubes_db::emit_message(m, type, path, value);
    queue_.push_back(std::move(m));
    if (!writing_ && channel_) {
      writing_ = true;
      asio::co_spawn(executor_, write_out(channel_), asio::detached);
    }
  }

  asio::awaitable<void> write_out(std::shared_ptr<qubes::vchan_socket> ch) {
    while (!queue_.empty() && ch == channel_) {
      auto m = std::move(queue_.front());
      queue_.pop_front();
      boost::system::error_code ec;
      co_await asio::async_write(*ch, asio::buffer(m), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    if (ch != channel_) queue_.clear();
    writing_ = false;
  }

  asio::any_io_executor executor_;
  qubes::vchan_address address_;
  entry_map entries_;
  std::shared_ptr<qubes::vchan_socket> channel_;
  std::deque<std::vector<std::byte>> queue_;
  std::vector<std::string> received_;
  std::optional<std::string> fatal_;
  int connections_ = 0;
  bool synced_ = false, stopping_ = false, writing_ = false;
};

}  // namespace uk::test
