// The qrexec agent's control channel (vchan port 512, this VM the server,
// dom0's qrexec-daemon the client), as a sans-IO state machine
// (qubes-protocols.md 2.3 to 2.5).
//
//   start()                     queues our MSG_HELLO: the agent speaks first (2.3 step 1)
//   receive(bytes)              what was read from the vchan
//   next_event()                the next thing dom0 said, or nothing yet, or a fatal error
//   trigger_service(t, s)       asks dom0 to connect this VM to service `s` in `t` (2.5)
//   connection_terminated(p)    tells dom0 that data port `p` is free again (2.4 step 5)
//   output(), consume_output(n) the bytes to write to the vchan
//
// Version negotiation (2.3): the daemon answers our HELLO with our own
// version echoed back, so the version used is min(ours, received); a peer
// below 2 is refused. The trigger message follows the version:
// MSG_TRIGGER_SERVICE at 2, _SERVICE3 at 3, _SERVICE4 at 4.
//
// Bounds: a message body is at most what the longest legal message needs
// (exec_params + MAX_QREXEC_CMD_LEN); the pending service calls are capped
// (max_pending_calls). Unknown message types, malformed bodies and answers to
// requests this agent never made are counted, logged at debug and dropped.
// No Asio, no clock, no I/O.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "uk/log.hpp"
#include "uk/qubes/rexec_reader.hpp"
#include "uk/result.hpp"
#include "uk/wire/qubes_rexec.hpp"

namespace uk::qubes {

/// dom0's HELLO arrived: the version both ends now speak.
struct rexec_negotiated {
  std::uint32_t version = 0;
};

/// MSG_EXEC_CMDLINE or MSG_JUST_EXEC: run `command` as `user`, with the data
/// vchan on (connect_domain, connect_port), this VM its client (2.4 step 2).
struct rexec_exec_request {
  bool just_exec = false;
  std::uint32_t connect_domain = 0;
  std::uint32_t connect_port = 0;
  std::string user;
  bool nogui = false;
  std::string command;
};

/// MSG_SERVICE_CONNECT for a call of ours: serve the data vchan on
/// (connect_domain, connect_port), this VM its server (2.5 step 3).
struct rexec_service_connect {
  std::uint32_t connect_domain = 0;
  std::uint32_t connect_port = 0;
  std::string request_id;
};

/// MSG_SERVICE_REFUSED for a call of ours: dom0's policy said no.
struct rexec_service_refused {
  std::string request_id;
};

using rexec_control_event =
    std::variant<rexec_negotiated, rexec_exec_request, rexec_service_connect, rexec_service_refused>;

/// Why the control channel cannot go on (dom0 broke the protocol).
enum class rexec_control_error {
  hello_expected,   ///< the first message was not MSG_HELLO (2.3)
  bad_hello,        ///< a HELLO body that is not 4 bytes
  version_too_old,  ///< the peer speaks a version below 2
  message_too_long, ///< a header announced a body longer than any legal message
};

constexpr std::string_view to_string(rexec_control_error e) noexcept {
  switch (e) {
    case rexec_control_error::hello_expected: return "the first message is not MSG_HELLO";
    case rexec_control_error::bad_hello: return "a MSG_HELLO of the wrong length";
    case rexec_control_error::version_too_old: return "the peer's protocol version is below 2";
    case rexec_control_error::message_too_long: return "a message longer than the protocol allows";
  }
  return "?";
}

/// Why trigger_service did not send a request.
enum class rexec_call_error {
  not_connected,     ///< no HELLO from dom0 yet
  invalid_service,   ///< a name dom0 would refuse or rewrite (2.2), or too long for the version
  invalid_target,    ///< a target domain dom0 would refuse or rewrite
  invalid_request_id,  ///< a request id dom0 would refuse
  too_many_pending,  ///< max_pending_calls requests await dom0's answer
};

constexpr std::string_view to_string(rexec_call_error e) noexcept {
  switch (e) {
    case rexec_call_error::not_connected: return "the qrexec control channel is not connected";
    case rexec_call_error::invalid_service: return "invalid service name";
    case rexec_call_error::invalid_target: return "invalid target domain";
    case rexec_call_error::invalid_request_id: return "invalid request id";
    case rexec_call_error::too_many_pending: return "too many service calls await dom0's answer";
  }
  return "?";
}

/// What the control channel dropped.
struct rexec_control_counters {
  std::uint64_t unknown_messages = 0;    ///< types an agent never receives, skipped by their length
  std::uint64_t malformed_messages = 0;  ///< known types with a bad body
  std::uint64_t unmatched_answers = 0;   ///< SERVICE_CONNECT/REFUSED for no pending request
  std::uint64_t extra_hellos = 0;        ///< a HELLO after the first
  std::uint64_t calls_over_bound = 0;    ///< trigger_service refused by max_pending_calls
};

class rexec_control {
 public:
  /// The most service calls awaiting dom0's answer at once.
  static constexpr std::size_t max_pending_calls = 64;
  /// The longest body dom0 may send: an exec with the longest command.
  static constexpr std::size_t max_body = rexec_wire::exec_params_length + rexec_wire::max_command_length + 1;

  /// `own_version` is the version announced (4 upstream, 3 for mirage-qubes;
  /// tests use 2 to 4).
  explicit rexec_control(std::uint32_t own_version = rexec_wire::max_version) : own_version_(own_version) {}

  /// Queues our HELLO.
  void start() {
    std::byte hello[rexec_wire::header_length + rexec_wire::hello_body_length];
    append_output(std::span(hello, rexec_wire::emit_hello(hello, own_version_)));
  }

  void receive(std::span<const std::byte> bytes) { reader_.append(bytes); }

  /// The next event, nothing (more bytes needed), or a fatal error, after
  /// which the channel must be closed.
  result<std::optional<rexec_control_event>, rexec_control_error> next_event() {
    for (;;) {
      rexec_message m;
      switch (reader_.next(m)) {
        case rexec_reader::status::need_more: return std::optional<rexec_control_event>{};
        case rexec_reader::status::too_long: return failure{rexec_control_error::message_too_long};
        case rexec_reader::status::message: break;
      }
      if (!version_) {
        // 2.3: dom0's first message is its HELLO.
        if (!m.header.is(rexec_wire::message_type::hello)) return failure{rexec_control_error::hello_expected};
        const auto peer = rexec_wire::parse_hello(m.body);
        if (!peer) return failure{rexec_control_error::bad_hello};
        if (*peer < rexec_wire::min_version) return failure{rexec_control_error::version_too_old};
        version_ = std::min(own_version_, *peer);
        return std::optional<rexec_control_event>{rexec_negotiated{*version_}};
      }
      if (auto e = dispatch(m)) return std::optional<rexec_control_event>{std::move(*e)};
    }
  }

  /// The version both ends speak, once dom0's HELLO arrived.
  std::optional<std::uint32_t> version() const noexcept { return version_; }
  std::uint32_t own_version() const noexcept { return own_version_; }

  /// Queues a service call request to dom0 (2.5 step 1) for `service`
  /// ("name+argument") in `target` ("@adminvm", a VM name, "@dispvm", ...),
  /// and returns the request id dom0 will echo in its answer: `request_id`
  /// when given (it must be valid, see wire::qubes_rexec::valid_request_id),
  /// else "uk<n>", n counting calls.
  result<std::string, rexec_call_error> trigger_service(std::string_view target, std::string_view service,
                                                        std::string_view request_id = {}) {
    if (!version_) return failure{rexec_call_error::not_connected};
    if (!rexec_wire::valid_service_name(service)) return failure{rexec_call_error::invalid_service};
    if (!rexec_wire::valid_target(target)) return failure{rexec_call_error::invalid_target};
    if (pending_.size() >= max_pending_calls) {
      ++counters_.calls_over_bound;
      log::debug(log::source::qubes_rexec, "call of {} refused: {} calls pending", service, pending_.size());
      return failure{rexec_call_error::too_many_pending};
    }
    std::string id = request_id.empty() ? fmt::format("uk{}", next_request_++) : std::string(request_id);
    if (!rexec_wire::valid_request_id(id)) return failure{rexec_call_error::invalid_request_id};
    const rexec_wire::trigger_request r{{}, target, id, service};
    if (!rexec_wire::trigger_fits(*version_, r)) {
      // Version 2 has 64 bytes for the service name and 32 for the target.
      return failure{service.size() >= rexec_wire::v2_service_name_length ? rexec_call_error::invalid_service
                                                                         : rexec_call_error::invalid_target};
    }
    std::vector<std::byte> message(rexec_wire::trigger_message_length(*version_, service.size()));
    rexec_wire::emit_trigger(message, *version_, r);
    append_output(message);
    pending_.push_back(id);
    return id;
  }

  /// Forgets a pending call (the caller gave up waiting).
  void forget_call(std::string_view request_id) { erase_pending(request_id); }

  /// Queues MSG_CONNECTION_TERMINATED for a data port this VM is done with.
  void connection_terminated(rexec_wire::port_ref port) {
    std::byte m[rexec_wire::connection_terminated_length];
    append_output(std::span(m, rexec_wire::emit_connection_terminated(m, port)));
  }

  /// The bytes to write to the vchan, in order.
  std::span<const std::byte> output() const noexcept { return output_; }
  void consume_output(std::size_t n) {
    output_.erase(output_.begin(), output_.begin() + static_cast<std::ptrdiff_t>(std::min(n, output_.size())));
  }

  std::size_t pending_calls() const noexcept { return pending_.size(); }
  const rexec_control_counters& counters() const noexcept { return counters_; }

 private:
  using type = rexec_wire::message_type;

  std::optional<rexec_control_event> dispatch(const rexec_message& m) {
    const auto& h = m.header;
    if (h.is(type::exec_cmdline) || h.is(type::just_exec)) {
      const auto params = rexec_wire::parse_exec_params(m.body);
      if (!params) return malformed(h);
      const auto line = rexec_wire::parse_command_line(params->cmdline);
      if (!line) return malformed(h);
      return rexec_exec_request{h.is(type::just_exec), params->connect_domain, params->connect_port,
                                std::string(line->user), line->nogui, std::string(line->command)};
    }
    if (h.is(type::service_connect)) {
      const auto c = rexec_wire::parse_service_connect(m.body);
      if (!c) return malformed(h);
      if (!erase_pending(c->ident)) return unmatched(h, c->ident);
      return rexec_service_connect{c->connect_domain, c->connect_port, std::string(c->ident)};
    }
    if (h.is(type::service_refused)) {
      const auto ident = rexec_wire::parse_service_refused(m.body);
      if (!ident) return malformed(h);
      if (!erase_pending(*ident)) return unmatched(h, *ident);
      return rexec_service_refused{std::string(*ident)};
    }
    if (h.is(type::hello)) {
      ++counters_.extra_hellos;
      log::debug(log::source::qubes_rexec, "control: a second MSG_HELLO, ignored");
      return std::nullopt;
    }
    ++counters_.unknown_messages;
    log::debug(log::source::qubes_rexec, "control: skipped {} (0x{:x}), {} bytes", rexec_wire::name(h.type), h.type,
               h.length);
    return std::nullopt;
  }

  std::optional<rexec_control_event> malformed(const rexec_wire::header& h) {
    ++counters_.malformed_messages;
    log::debug(log::source::qubes_rexec, "control: dropped a malformed {} of {} bytes", rexec_wire::name(h.type),
               h.length);
    return std::nullopt;
  }

  std::optional<rexec_control_event> unmatched(const rexec_wire::header& h, std::string_view ident) {
    ++counters_.unmatched_answers;
    log::debug(log::source::qubes_rexec, "control: {} for unknown request \"{}\"", rexec_wire::name(h.type),
               std::string(ident));
    return std::nullopt;
  }

  bool erase_pending(std::string_view id) {
    const auto it = std::find(pending_.begin(), pending_.end(), id);
    if (it == pending_.end()) return false;
    pending_.erase(it);
    return true;
  }

  void append_output(std::span<const std::byte> bytes) { output_.insert(output_.end(), bytes.begin(), bytes.end()); }

  std::uint32_t own_version_;
  std::optional<std::uint32_t> version_;
  rexec_reader reader_{max_body};
  std::vector<std::byte> output_;
  std::vector<std::string> pending_;
  std::uint64_t next_request_ = 1;
  rexec_control_counters counters_;
};

}  // namespace uk::qubes
