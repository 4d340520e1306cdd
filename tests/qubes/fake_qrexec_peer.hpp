// A fake dom0 qrexec-daemon (and its qrexec-client / service side), written
// from qubes-protocols.md section 2, over the socket vchan. Used by the unit
// tests of uk::qubes::rexec and by the fake_qrexec tool.
//
//   connect()            connects to the VM agent's control vchan (port 512),
//                        reads its HELLO, answers min(agent's, ours) (the real
//                        daemon at version 4 echoes the agent's version)
//   exec(cmdline, in)    MSG_EXEC_CMDLINE (or MSG_JUST_EXEC), then serves
//                        the data vchan as qrexec-client does: HELLO, stdin
//                        and its EOF, collects stdout, stderr and the exit code,
//                        and checks MSG_CONNECTION_TERMINATED for the port
//   answer_call(...)     waits for the VM's MSG_TRIGGER_SERVICE[3|4], checks
//                        its type against the version, then refuses or sends
//                        MSG_SERVICE_CONNECT and plays the service (echo)
//
// Everything it does not expect throws std::runtime_error with what it saw.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "uk/asio.hpp"
#include "uk/qubes/rexec_reader.hpp"
#include "uk/qubes/vchan_socket.hpp"
#include "uk/wire/qubes_rexec.hpp"

namespace uk::test {

namespace rexec_wire = wire::qubes_rexec;

/// One side of a qrexec vchan in the fake: whole messages in and out.
class fake_qrexec_link {
 public:
  explicit fake_qrexec_link(qubes::vchan_socket s) : socket_(std::move(s)) {}

  asio::awaitable<void> send(std::vector<std::byte> bytes) {
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
  }

  asio::awaitable<void> send_hello(std::uint32_t version) {
    std::vector<std::byte> m(12);
    rexec_wire::emit_hello(m, version);
    co_await send(std::move(m));
  }

  asio::awaitable<void> send_hello_if_open(std::uint32_t version) {
    std::vector<std::byte> m(12);
    rexec_wire::emit_hello(m, version);
    boost::system::error_code ignored;
    co_await asio::async_write(socket_, asio::buffer(m.data(), m.size()),
                               asio::redirect_error(asio::use_awaitable, ignored));
  }

  asio::awaitable<void> send_data(rexec_wire::message_type type, std::string_view data) {
    std::vector<std::byte> m(rexec_wire::header_length + data.size());
    rexec_wire::emit_data_header(m, type, data.size());
    std::copy(data.begin(), data.end(), reinterpret_cast<char*>(m.data() + rexec_wire::header_length));
    co_await send(std::move(m));
  }

  /// As send_data, but a peer that already closed the vchan is not an error:
  /// a service may answer and close before reading its stdin (qrexec-client
  /// then just stops writing).
  asio::awaitable<void> send_data_if_open(rexec_wire::message_type type, std::string_view data) {
    std::vector<std::byte> m(rexec_wire::header_length + data.size());
    rexec_wire::emit_data_header(m, type, data.size());
    std::copy(data.begin(), data.end(), reinterpret_cast<char*>(m.data() + rexec_wire::header_length));
    boost::system::error_code ignored;
    co_await asio::async_write(socket_, asio::buffer(m.data(), m.size()),
                               asio::redirect_error(asio::use_awaitable, ignored));
  }

  /// The next whole message; nullopt at EOF.
  asio::awaitable<std::optional<std::pair<rexec_wire::header, std::vector<std::byte>>>> receive() {
    for (;;) {
      qubes::rexec_message m;
      const auto status = reader_.next(m);
      if (status == qubes::rexec_reader::status::too_long) throw std::runtime_error("fake dom0: message too long");
      if (status == qubes::rexec_reader::status::message)
        co_return std::pair{m.header, std::vector<std::byte>(m.body.begin(), m.body.end())};
      std::byte buffer[8192];
      boost::system::error_code ec;
      const std::size_t n = co_await socket_.async_read_some(asio::buffer(buffer, sizeof buffer),
                                                             asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return std::nullopt;
      reader_.append(std::span(buffer, n));
    }
  }

  /// The next message, which must be of `type`.
  asio::awaitable<std::vector<std::byte>> expect(rexec_wire::message_type type) {
    auto m = co_await receive();
    if (!m) throw std::runtime_error(fmt::format("fake dom0: EOF instead of {}", rexec_wire::name(std::uint32_t(type))));
    if (!m->first.is(type))
      throw std::runtime_error(fmt::format("fake dom0: {} instead of {}", rexec_wire::name(m->first.type),
                                           rexec_wire::name(std::uint32_t(type))));
    co_return std::move(m->second);
  }

  /// Reads the peer's HELLO and returns its version.
  asio::awaitable<std::uint32_t> expect_hello() {
    const auto body = co_await expect(rexec_wire::message_type::hello);
    const auto v = rexec_wire::parse_hello(body);
    if (!v) throw std::runtime_error("fake dom0: bad HELLO");
    co_return *v;
  }

  qubes::vchan_socket& socket() { return socket_; }

 private:
  qubes::vchan_socket socket_;
  qubes::rexec_reader reader_{rexec_wire::exec_params_length + rexec_wire::max_command_length + 1};
};

/// What a command run by the fake qrexec-client gave back.
struct fake_exec_result {
  std::uint32_t data_version = 0;
  std::string out;
  std::string err;
  std::int32_t exit_code = -1;
  std::vector<std::string> order;  ///< "stdout", "stdout-eof", "stderr", "stderr-eof", "exit"
};

/// A service call the VM made, as the fake daemon saw it.
struct fake_trigger {
  std::uint32_t type = 0;
  std::string target;
  std::string request_id;
  std::string service;
};

class fake_qrexec_daemon {
 public:
  static constexpr std::chrono::steady_clock::duration retry_interval = std::chrono::milliseconds(5);

  /// A daemon for VM `vm_domid`, speaking at most `max_version`.
  fake_qrexec_daemon(asio::any_io_executor ex, std::filesystem::path dir, int vm_domid,
                     std::uint32_t max_version = rexec_wire::max_version)
      : ex_(std::move(ex)), dir_(std::move(dir)), vm_(vm_domid), max_version_(max_version) {}

  /// Connects to the agent's control vchan and does the HELLO exchange (2.3).
  asio::awaitable<void> connect() {
    const qubes::vchan_address a{dir_, vm_, 0, rexec_wire::control_port};
    control_.emplace(co_await qubes::vchan_socket::connect(ex_, a, retry_interval));
    agent_version_ = co_await control_->expect_hello();
    version_ = std::min(agent_version_, max_version_);
    // 2.3 step 3: the daemon's HELLO carries the agent's own version (or ours when lower).
    co_await control_->send_hello(version_);
  }

  std::uint32_t agent_version() const { return agent_version_; }
  std::uint32_t version() const { return version_; }

  /// Runs `cmdline` ("user:command") in the VM, with `input` on its stdin (2.4).
  asio::awaitable<fake_exec_result> exec(std::string cmdline, std::string input = {}, bool just_exec = false) {
    const int port = next_port_++;
    std::vector<std::byte> m(rexec_wire::exec_message_length(cmdline));
    rexec_wire::emit_exec(m, just_exec ? rexec_wire::message_type::just_exec : rexec_wire::message_type::exec_cmdline,
                          0, static_cast<std::uint32_t>(port), cmdline);
    co_await control_->send(std::move(m));
    // The requester serves the data vchan; the VM connects as its client.
    const qubes::vchan_address address{dir_, 0, vm_, port};  // named: g++ 12 mishandles temporaries in co_await
    fake_qrexec_link data(co_await qubes::vchan_socket::listen(ex_, address));
    // (A refusal may be sent and the vchan closed before our HELLO is: not an error.)
    co_await data.send_hello_if_open(rexec_wire::max_version);
    fake_exec_result r;
    const std::uint32_t vm_version = co_await data.expect_hello();
    r.data_version = std::min(vm_version, rexec_wire::max_version);
    if (!just_exec) {
      // In chunks of the data version's limit (2.1), as qrexec-client does.
      const std::size_t limit = rexec_wire::max_data_chunk(r.data_version);
      for (std::size_t at = 0; at < input.size(); at += limit) {
        const std::string chunk = input.substr(at, limit);
        co_await data.send_data_if_open(rexec_wire::message_type::data_stdin, chunk);
      }
      co_await data.send_data_if_open(rexec_wire::message_type::data_stdin, {});
    }
    co_await collect(data, r);
    // 2.4 step 5: the VM frees the port on the control vchan.
    const auto body = co_await control_->expect(rexec_wire::message_type::connection_terminated);
    const auto port_ref = rexec_wire::parse_connection_terminated(body);
    if (!port_ref || port_ref->connect_domain != 0 || port_ref->connect_port != static_cast<std::uint32_t>(port))
      throw std::runtime_error("fake dom0: MSG_CONNECTION_TERMINATED for the wrong port");
    co_return r;
  }

  /// Waits for the VM's next service call (2.5 step 1). The trigger type must
  /// match the negotiated version, as the real daemon demands.
  asio::awaitable<fake_trigger> expect_trigger() {
    auto m = co_await control_->receive();
    if (!m) throw std::runtime_error("fake dom0: EOF instead of a trigger");
    const auto type = static_cast<rexec_wire::message_type>(m->first.type);
    if (type != rexec_wire::trigger_type(version_))
      throw std::runtime_error(fmt::format("fake dom0: {} at version {}", rexec_wire::name(m->first.type), version_));
    const auto t = rexec_wire::parse_trigger(type, m->second);
    if (!t) throw std::runtime_error("fake dom0: malformed trigger");
    if (!rexec_wire::valid_service_name(t->service) || !rexec_wire::valid_request_id(t->request_id))
      throw std::runtime_error("fake dom0: a trigger the real daemon would refuse");
    co_return fake_trigger{m->first.type, std::string(t->target_domain), std::string(t->request_id),
                           std::string(t->service)};
  }

  /// Refuses the call (MSG_SERVICE_REFUSED).
  asio::awaitable<void> refuse(const fake_trigger& t) {
    std::vector<std::byte> m(40);
    rexec_wire::emit_service_refused(m, t.request_id);
    co_await control_->send(std::move(m));
  }

  /// Allows the call: MSG_SERVICE_CONNECT, then plays a service in dom0 that
  /// writes `greeting` on stdout, echoes stdin on stdout and exits with `code`
  /// (as the transcript's test.Echo did).
  asio::awaitable<std::string> serve_echo(const fake_trigger& t, std::string greeting, std::int32_t code = 0) {
    const int port = next_port_++;
    std::vector<std::byte> m(48);
    rexec_wire::emit_service_connect(m, 0, static_cast<std::uint32_t>(port), t.request_id);
    co_await control_->send(std::move(m));
    // 2.5 step 3: the calling VM serves; the service side connects.
    const qubes::vchan_address address{dir_, vm_, 0, port};
    fake_qrexec_link data(co_await qubes::vchan_socket::connect(ex_, address, retry_interval));
    co_await data.send_hello(rexec_wire::max_version);
    (void)co_await data.expect_hello();
    co_await data.send_data(rexec_wire::message_type::data_stderr, {});  // no stderr
    if (!greeting.empty()) co_await data.send_data(rexec_wire::message_type::data_stdout, greeting);
    std::string input;
    for (;;) {
      const auto body = co_await data.expect(rexec_wire::message_type::data_stdin);
      if (body.empty()) break;
      const std::string chunk(reinterpret_cast<const char*>(body.data()), body.size());
      input += chunk;
      co_await data.send_data(rexec_wire::message_type::data_stdout, chunk);
    }
    co_await data.send_data(rexec_wire::message_type::data_stdout, {});
    std::vector<std::byte> exit(12);
    rexec_wire::emit_exit_code(exit, code);
    co_await data.send(std::move(exit));
    const auto body = co_await control_->expect(rexec_wire::message_type::connection_terminated);
    const auto port_ref = rexec_wire::parse_connection_terminated(body);
    if (!port_ref || port_ref->connect_port != static_cast<std::uint32_t>(port))
      throw std::runtime_error("fake dom0: MSG_CONNECTION_TERMINATED for the wrong port");
    co_return input;
  }

  /// Closes the control vchan, as a daemon that exits.
  void disconnect() {
    if (control_) control_->socket().close();
    control_.reset();
  }

 private:
  static asio::awaitable<void> collect(fake_qrexec_link& data, fake_exec_result& r) {
    for (;;) {
      auto m = co_await data.receive();
      if (!m) throw std::runtime_error("fake dom0: data vchan ended before the exit code");
      const auto& [h, body] = *m;
      const std::string text(reinterpret_cast<const char*>(body.data()), body.size());
      if (h.is(rexec_wire::message_type::data_stdout)) {
        r.order.push_back(body.empty() ? "stdout-eof" : "stdout");
        r.out += text;
      } else if (h.is(rexec_wire::message_type::data_stderr)) {
        r.order.push_back(body.empty() ? "stderr-eof" : "stderr");
        r.err += text;
      } else if (h.is(rexec_wire::message_type::data_exit_code)) {
        r.order.push_back("exit");
        r.exit_code = *rexec_wire::parse_exit_code(body);
        co_return;
      } else {
        throw std::runtime_error(fmt::format("fake dom0: {} on the data vchan", rexec_wire::name(h.type)));
      }
    }
  }

  asio::any_io_executor ex_;
  std::filesystem::path dir_;
  int vm_;
  std::uint32_t max_version_;
  std::uint32_t agent_version_ = 0;
  std::uint32_t version_ = 0;
  int next_port_ = rexec_wire::first_data_port;
  std::optional<fake_qrexec_link> control_;
};

}  // namespace uk::test
