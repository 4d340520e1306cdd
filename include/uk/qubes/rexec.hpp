// uk::qubes::rexec: the qrexec agent of a Qubes VM (mirage-qubes' RExec),
// a device over the socket vchan (qubes-protocols.md section 2).
//
//   connect()     serves the control vchan (port 512) to dom0 and exchanges
//                 HELLOs: uk::run awaits it before the application starts
//   run()         serves dom0's requests until the device is destroyed; when
//                 dom0's qrexec-daemon goes away, it serves the vchan again
//                 and waits for the next daemon (the init job runs it)
//   register_service(name, handler)
//                 calls of `name` ("QUBESRPC name+argument source" from
//                 dom0) run `handler(request, flow)`; its result is the exit code
//   call(vm, "name+argument")
//                 asks dom0 to connect this VM to a service of `vm` and
//                 returns the flow once dom0's policy allowed it; throws
//                 rexec_error when refused
//
// A command that names no registered service (a plain shell command, which a
// unikernel cannot run, or an unknown service) gets "<service>: service not
// found" on stderr and exit code 127 (QREXEC_EXIT_SERVICE_NOT_FOUND), sent
// at once without waiting for anything from the caller: it never hangs.
// MSG_JUST_EXEC gets exit code 0 when a handler was started, else 127.
// Every data vchan this VM is done with is reported to dom0 with
// MSG_CONNECTION_TERMINATED, so its port can be reused.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "uk/asio.hpp"
#include "uk/concepts/qubes.hpp"
#include "uk/log.hpp"
#include "uk/qubes/domains.hpp"
#include "uk/qubes/rexec_control.hpp"
#include "uk/qubes/rexec_flow.hpp"
#include "uk/runtime/device.hpp"

namespace uk::qubes {

/// What a service handler is told about the call it serves.
struct service_request {
  std::string service;   ///< the name, before '+'
  std::string argument;  ///< after '+', may be empty
  std::string source;    ///< the calling VM ("dom0" for dom0)
  std::string user;      ///< the user dom0 asked for
};

/// The data flow of a qrexec service or call over this build's vchan.
using rexec_flow = basic_rexec_flow<domains::channel>;

/// Counters of the agent, beyond those of its control core.
struct rexec_counters {
  std::uint64_t execs = 0;              ///< MSG_EXEC_CMDLINE and MSG_JUST_EXEC received
  std::uint64_t services_not_found = 0; ///< ... answered 127
  std::uint64_t handler_failures = 0;   ///< handlers that threw (answered 125)
  std::uint64_t calls = 0;              ///< service calls this VM made
  std::uint64_t calls_refused = 0;      ///< ... refused by dom0
  std::uint64_t reconnects = 0;         ///< dom0's daemon went away and came back
};

class rexec {
 public:
  using keys = key_list<>;
  using dependencies = device_list<domains>;
  static constexpr std::string_view device_name = "qubes rexec";

  using flow_type = rexec_flow;
  /// Serves one call: returns the exit code.
  using service_handler = std::function<asio::awaitable<int>(const service_request&, rexec_flow&)>;

  /// `version` is the qrexec version announced (4, as the upstream agent; tests use 2 to 4).
  explicit rexec(domains& d, std::uint32_t version = rexec_wire::max_version)
      : domains_(d), version_(version), control_(version), woken_(d.executor(), never_expires()) {}

  template <class Keys>
  rexec(device_context&, const Keys&, domains& d) : rexec(d) {}

  rexec(const rexec&) = delete;
  rexec& operator=(const rexec&) = delete;
  ~rexec() { *alive_ = false; }

  /// Serves the control vchan to dom0 and waits for its HELLO.
  asio::awaitable<void> connect() {
    channel_.reset();
    ++generation_;
    control_ = rexec_control(version_);
    const vchan_address address = domains_.from(domains_.dom0(), rexec_wire::control_port);
    log::debug(log::source::qubes_rexec, "waiting for dom0's qrexec-daemon on {}", address);
    channel_ = std::make_unique<domains::channel>(co_await domains_.listen(domains_.dom0(), rexec_wire::control_port));
    control_.start();
    co_await flush();
    while (!control_.version()) {
      const bool more = co_await read_control();  // (not in the condition: g++ 12 miscompiles that)
      if (!more) throw device_error("dom0's qrexec-daemon closed the control vchan during HELLO");
    }
    log::info(log::source::qubes_rexec, "qrexec connected to dom0 (protocol version {})", *control_.version());
  }

  /// Serves dom0's requests; reconnects when dom0's daemon goes away.
  asio::awaitable<void> run() {
    for (;;) {
      bool open = true;
      while (open) open = co_await read_control();  // (g++ 12 miscompiles a co_await in a while condition)
      fail_pending_calls("the qrexec control vchan closed");
      ++counters_.reconnects;
      log::info(log::source::qubes_rexec, "dom0's qrexec-daemon went away; waiting for it again");
      co_await connect();
    }
  }

  /// `handler` serves calls of service `name` (without "+argument").
  void register_service(std::string_view name, service_handler handler) {
    services_[std::string(name)] = std::move(handler);
  }

  /// Calls `service` ("name+argument") in `vm` ("@adminvm" or "dom0" for
  /// dom0, a VM name, "@dispvm", "@default"). Completes with the flow when
  /// dom0's policy allowed the call and the service connected.
  asio::awaitable<rexec_flow> call(std::string_view vm, std::string_view service) {
    if (!channel_ || !control_.version()) throw rexec_error("qrexec is not connected to dom0");
    const auto id = control_.trigger_service(vm, service);
    if (!id) throw rexec_error(fmt::format("cannot call {} in {}: {}", service, vm, to_string(id.error())));
    ++counters_.calls;
    log::debug(log::source::qubes_rexec, "call of {} in {}: request {}", service, vm, *id);
    auto answer = std::make_shared<std::optional<call_answer>>();
    pending_[*id] = answer;
    co_await flush();
    while (!answer->has_value()) {
      boost::system::error_code ignored;
      co_await woken_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    pending_.erase(*id);
    log::debug(log::source::qubes_rexec, "call of {} in {}: dom0 answered", service, vm);
    const call_answer result = std::move(**answer);
    if (const auto* refused = std::get_if<std::string>(&result)) {
      ++counters_.calls_refused;
      throw rexec_error(fmt::format("call of {} in {} refused: {}", service, vm, *refused));
    }
    const auto connect = std::get<rexec_service_connect>(result);
    log::debug(log::source::qubes_rexec, "call of {} in {}: serving data port {} to domain {}", service, vm,
               connect.connect_port, connect.connect_domain);
    // 2.5 step 3: the calling VM is the data vchan's server.
    auto channel = co_await domains_.listen(static_cast<domid>(connect.connect_domain),
                                            static_cast<int>(connect.connect_port));
    rexec_flow flow(std::move(channel), rexec_data_role::caller, version_,
                    terminated_callback({connect.connect_domain, connect.connect_port}));
    co_await flow.handshake();
    co_return flow;
  }

  /// The version negotiated with dom0 (0 before connect()).
  std::uint32_t protocol_version() const noexcept { return control_.version().value_or(0); }
  const rexec_control_counters& control_counters() const noexcept { return control_.counters(); }
  const rexec_counters& counters() const noexcept { return counters_; }

 private:
  // dom0's answer to a call: the connect, or the refusal's reason.
  using call_answer = std::variant<rexec_service_connect, std::string>;

  static asio::steady_timer::time_point never_expires() { return asio::steady_timer::time_point::max(); }

  // Reads once from the control vchan and handles what arrived; false when it ended.
  asio::awaitable<bool> read_control() {
    std::byte buffer[16 * 1024];
    boost::system::error_code ec;
    const std::size_t n = co_await channel_->async_read_some(asio::buffer(buffer, sizeof buffer),
                                                            asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      log::debug(log::source::qubes_rexec, "control vchan: {}", ec.message());
      co_return false;
    }
    control_.receive(std::span(buffer, n));
    for (;;) {
      auto e = control_.next_event();
      if (!e) {
        log::warning(log::source::qubes_rexec, "dom0 broke the qrexec protocol: {}", to_string(e.error()));
        channel_->close();
        co_return false;
      }
      if (!e->has_value()) break;
      handle(std::move(**e));
    }
    co_return true;
  }

  void handle(rexec_control_event e) {
    if (auto* exec = std::get_if<rexec_exec_request>(&e)) {
      ++counters_.execs;
      asio::co_spawn(domains_.executor(), serve_exec(std::move(*exec)), [](std::exception_ptr p) {
        if (!p) return;
        try {
          std::rethrow_exception(p);
        } catch (const std::exception& x) {
          log::warning(log::source::qubes_rexec, "exec failed: {}", x.what());
        }
      });
    } else if (auto* connect = std::get_if<rexec_service_connect>(&e)) {
      const std::string id = connect->request_id;  // (the move below may come first)
      answer(id, std::move(*connect));
    } else if (auto* refused = std::get_if<rexec_service_refused>(&e)) {
      answer(refused->request_id, std::string("dom0's policy denied it"));  // (nothing moved from *refused)
    }
  }

  void answer(const std::string& id, call_answer a) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) return;  // the caller is gone
    *it->second = std::move(a);
    woken_.cancel();
  }

  void fail_pending_calls(std::string_view why) {
    for (auto& [id, answer] : pending_) *answer = std::string(why);
    woken_.cancel();
  }

  // Tells dom0 a data port is free once its flow is closed (2.4 step 5).
  std::function<void()> terminated_callback(rexec_wire::port_ref port) {
    // A flow may outlive the agent (destroyed with a coroutine frame at
    // shutdown): `alive` says whether `this` still exists.
    return [this, port, alive = alive_, generation = generation_] {
      if (!*alive || generation != generation_ || !channel_) return;
      control_.connection_terminated(port);
      asio::co_spawn(domains_.executor(), flush(), asio::detached);
    };
  }

  // 2.4: dom0 or another VM runs a command here.
  asio::awaitable<void> serve_exec(rexec_exec_request r) {
    log::debug(log::source::qubes_rexec, "{} for {} on domain {} port {}: {}",
               r.just_exec ? "MSG_JUST_EXEC" : "MSG_EXEC_CMDLINE", r.user, r.connect_domain, r.connect_port,
               r.command);
    const auto call = rexec_wire::parse_rpc_call(r.command);
    service_request request;
    request.user = r.user;
    const service_handler* handler = nullptr;
    if (call) {
      request.service = std::string(call->service);
      request.argument = std::string(call->argument);
      request.source = std::string(call->source);
      // As upstream looks up "name+argument" before "name".
      auto it = services_.find(request.service + "+" + request.argument);
      if (it == services_.end()) it = services_.find(request.service);
      if (it != services_.end()) handler = &it->second;
    } else {
      request.service = r.command.substr(0, r.command.find(' '));
    }
    // 2.4 step 2: this VM is the data vchan's client.
    auto channel = co_await domains_.connect(static_cast<domid>(r.connect_domain), static_cast<int>(r.connect_port));
    rexec_flow flow(std::move(channel), rexec_data_role::service, version_,
                    terminated_callback({r.connect_domain, r.connect_port}));
    if (!handler) {
      ++counters_.services_not_found;
      log::info(log::source::qubes_rexec, "{} from {}: service not found", request.service,
                request.source.empty() ? "dom0" : request.source);
      // Sent at once, after our HELLO, without waiting for the caller's.
      co_await flow.handshake_send_only();
      if (r.just_exec) {
        co_await flow.finish_just_exec(rexec_wire::exit_service_not_found);
      } else {
        const std::string message = fmt::format("{}: service not found\n", request.service);
        co_await flow.write_stderr(message);
        co_await flow.finish(rexec_wire::exit_service_not_found);
      }
      flow.close();
      co_return;
    }
    co_await flow.handshake();
    if (r.just_exec) {
      // 2.4 step 4: only an exit code, 0 once started; the handler runs on
      // without a caller (its reads see EOF, its writes go nowhere).
      co_await flow.finish_just_exec(0);
      flow.close();
    }
    int code = rexec_wire::exit_problem;
    try {
      code = co_await (*handler)(request, flow);
    } catch (const std::exception& x) {
      ++counters_.handler_failures;
      log::warning(log::source::qubes_rexec, "service {} failed: {}", request.service, x.what());
    }
    if (!r.just_exec) {
      co_await flow.finish(code);
      flow.close();
    }
  }

  // Writes what the control core queued; one writer at a time.
  asio::awaitable<void> flush() {
    if (writing_) co_return;  // the writer in progress sends it
    writing_ = true;
    try {
      while (channel_ && !control_.output().empty()) {
        std::vector<std::byte> bytes(control_.output().begin(), control_.output().end());
        control_.consume_output(bytes.size());
        co_await asio::async_write(*channel_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
      }
    } catch (const std::exception& x) {
      log::debug(log::source::qubes_rexec, "control vchan write: {}", x.what());
    }
    writing_ = false;
  }

  domains& domains_;
  std::uint32_t version_;
  rexec_control control_;
  std::unique_ptr<domains::channel> channel_;
  std::map<std::string, service_handler, std::less<>> services_;
  std::map<std::string, std::shared_ptr<std::optional<call_answer>>> pending_;
  asio::steady_timer woken_;  // never expires: cancelled when an answer arrives
  bool writing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::uint64_t generation_ = 0;
  rexec_counters counters_;
};

static_assert(qubes_rexec<rexec>);

}  // namespace uk::qubes
