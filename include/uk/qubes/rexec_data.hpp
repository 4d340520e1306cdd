// One qrexec data vchan (qubes-protocols.md 2.4 and 2.5), as a sans-IO
// state machine. Two roles:
//
//   service  this VM runs the command: it receives MSG_DATA_STDIN and sends
//            MSG_DATA_STDOUT, MSG_DATA_STDERR and MSG_DATA_EXIT_CODE
//            (dom0 or another VM called us; we are the vchan client)
//   caller   this VM called a service: it sends MSG_DATA_STDIN and receives
//            the rest (we are the vchan server)
//
// Both ends send MSG_HELLO at once and never wait for the peer's before
// sending it (2.4 step 3); the data version is min(ours, theirs), at least 2.
// A data message carries at most max_data_chunk(version) bytes (4096 at 2,
// 65536 from 3): longer writes are cut into chunks, longer messages received
// end the channel. A zero-length data message is that stream's EOF.
// On exit the service sends STDOUT EOF, STDERR EOF, then EXIT_CODE: the
// upstream order (2.4 step 4), whatever it closed before.
//
// Messages the role never receives, and data after a stream's EOF, are
// counted, logged at debug and dropped. No Asio, no clock, no I/O.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "uk/log.hpp"
#include "uk/qubes/rexec_reader.hpp"
#include "uk/result.hpp"
#include "uk/wire/qubes_rexec.hpp"

namespace uk::qubes {

enum class rexec_data_role { service, caller };

/// Something the peer sent on the data vchan. `bytes` is valid until the
/// next receive() or next_event().
struct rexec_data_event {
  enum class kind { negotiated, stdin_data, stdin_eof, stdout_data, stdout_eof, stderr_data, stderr_eof, exit_code };
  kind what = kind::negotiated;
  std::span<const std::byte> bytes;
  std::uint32_t version = 0;  ///< for `negotiated`
  std::int32_t exit_code = 0;  ///< for `exit_code`
};

/// Why the data vchan cannot go on.
enum class rexec_data_error {
  hello_expected,    ///< the first message was not MSG_HELLO
  bad_hello,         ///< a HELLO body that is not 4 bytes
  version_too_old,   ///< a peer below version 2
  message_too_long,  ///< more than the version's chunk limit
  bad_exit_code,     ///< an EXIT_CODE body that is not 4 bytes
};

constexpr std::string_view to_string(rexec_data_error e) noexcept {
  switch (e) {
    case rexec_data_error::hello_expected: return "the first message is not MSG_HELLO";
    case rexec_data_error::bad_hello: return "a MSG_HELLO of the wrong length";
    case rexec_data_error::version_too_old: return "the peer's protocol version is below 2";
    case rexec_data_error::message_too_long: return "a data message above the chunk limit";
    case rexec_data_error::bad_exit_code: return "a MSG_DATA_EXIT_CODE of the wrong length";
  }
  return "?";
}

struct rexec_data_counters {
  std::uint64_t unexpected_messages = 0;  ///< types this role never receives, or unknown ones
  std::uint64_t data_after_eof = 0;       ///< data on a stream the peer had closed
  std::uint64_t extra_hellos = 0;
};

class rexec_data {
 public:
  explicit rexec_data(rexec_data_role role, std::uint32_t own_version = rexec_wire::max_version)
      : role_(role), own_version_(own_version) {}

  /// Queues our HELLO: send it before anything else, without waiting.
  void start() {
    std::byte hello[rexec_wire::header_length + rexec_wire::hello_body_length];
    append(std::span(hello, rexec_wire::emit_hello(hello, own_version_)));
  }

  void receive(std::span<const std::byte> bytes) { reader_.append(bytes); }

  result<std::optional<rexec_data_event>, rexec_data_error> next_event() {
    using event = rexec_data_event;
    for (;;) {
      rexec_message m;
      switch (reader_.next(m)) {
        case rexec_reader::status::need_more: return std::optional<event>{};
        case rexec_reader::status::too_long: return failure{rexec_data_error::message_too_long};
        case rexec_reader::status::message: break;
      }
      if (!version_) {
        if (!m.header.is(type::hello)) return failure{rexec_data_error::hello_expected};
        const auto peer = rexec_wire::parse_hello(m.body);
        if (!peer) return failure{rexec_data_error::bad_hello};
        if (*peer < rexec_wire::min_version) return failure{rexec_data_error::version_too_old};
        version_ = std::min(own_version_, *peer);
        reader_.set_max_body(rexec_wire::max_data_chunk(*version_));
        return std::optional<event>{event{event::kind::negotiated, {}, *version_, 0}};
      }
      const bool service = role_ == rexec_data_role::service;
      if (m.header.is(type::hello)) {
        ++counters_.extra_hellos;
      } else if (service && m.header.is(type::data_stdin)) {
        if (auto e = stream_event(stdin_eof_, m, event::kind::stdin_data, event::kind::stdin_eof)) return *e;
      } else if (!service && m.header.is(type::data_stdout)) {
        if (auto e = stream_event(stdout_eof_, m, event::kind::stdout_data, event::kind::stdout_eof)) return *e;
      } else if (!service && m.header.is(type::data_stderr)) {
        if (auto e = stream_event(stderr_eof_, m, event::kind::stderr_data, event::kind::stderr_eof)) return *e;
      } else if (!service && m.header.is(type::data_exit_code)) {
        const auto code = rexec_wire::parse_exit_code(m.body);
        if (!code) return failure{rexec_data_error::bad_exit_code};
        exit_received_ = true;
        return std::optional<event>{event{event::kind::exit_code, {}, 0, *code}};
      } else {
        ++counters_.unexpected_messages;
        log::debug(log::source::qubes_rexec, "data: dropped {} (0x{:x}) of {} bytes", rexec_wire::name(m.header.type),
                   m.header.type, m.header.length);
      }
    }
  }

  std::optional<std::uint32_t> version() const noexcept { return version_; }
  rexec_data_role role() const noexcept { return role_; }

  /// The largest body of one data message now (the version 2 limit until
  /// the peer's HELLO arrives: every peer accepts that much).
  std::size_t chunk_limit() const noexcept { return rexec_wire::max_data_chunk(version_.value_or(2)); }

  // ---- Sending, service role ------------------------------------------------

  /// Queues `bytes` on stdout, in chunks. Nothing for an empty span (an empty
  /// message would be the EOF) or after close_stdout().
  void send_stdout(std::span<const std::byte> bytes) { send_stream(type::data_stdout, stdout_closed_, bytes); }
  void send_stderr(std::span<const std::byte> bytes) { send_stream(type::data_stderr, stderr_closed_, bytes); }
  /// Queues the stream's EOF (once).
  void close_stdout() { close_stream(type::data_stdout, stdout_closed_); }
  void close_stderr() { close_stream(type::data_stderr, stderr_closed_); }

  /// Queues the end of the service in the upstream order: STDOUT EOF and
  /// STDERR EOF (those not sent yet), then EXIT_CODE. Once only.
  void send_exit_code(std::int32_t code) {
    if (exit_sent_) return;
    close_stdout();
    close_stderr();
    send_exit_code_only(code);
  }

  /// Queues EXIT_CODE alone: the whole answer to MSG_JUST_EXEC (2.4 step 4).
  void send_exit_code_only(std::int32_t code) {
    if (exit_sent_) return;
    exit_sent_ = true;
    std::byte m[rexec_wire::header_length + rexec_wire::exit_code_body_length];
    append(std::span(m, rexec_wire::emit_exit_code(m, code)));
  }

  // ---- Sending, caller role --------------------------------------------------

  void send_stdin(std::span<const std::byte> bytes) { send_stream(type::data_stdin, stdin_closed_, bytes); }
  void close_stdin() { close_stream(type::data_stdin, stdin_closed_); }

  /// The bytes to write to the vchan, in order.
  std::span<const std::byte> output() const noexcept { return output_; }
  void consume_output(std::size_t n) {
    output_.erase(output_.begin(), output_.begin() + static_cast<std::ptrdiff_t>(std::min(n, output_.size())));
  }

  bool exit_code_sent() const noexcept { return exit_sent_; }
  bool exit_code_received() const noexcept { return exit_received_; }
  bool stdin_closed_by_peer() const noexcept { return stdin_eof_; }
  bool stdout_closed_by_peer() const noexcept { return stdout_eof_; }
  bool stderr_closed_by_peer() const noexcept { return stderr_eof_; }
  const rexec_data_counters& counters() const noexcept { return counters_; }

 private:
  using type = rexec_wire::message_type;
  using event_result = result<std::optional<rexec_data_event>, rexec_data_error>;

  std::optional<event_result> stream_event(bool& eof, const rexec_message& m, rexec_data_event::kind data,
                                           rexec_data_event::kind end) {
    if (eof) {
      ++counters_.data_after_eof;
      log::debug(log::source::qubes_rexec, "data: {} after its EOF, dropped", rexec_wire::name(m.header.type));
      return std::nullopt;
    }
    if (m.body.empty()) {
      eof = true;
      return event_result(std::optional<rexec_data_event>{rexec_data_event{end, {}, 0, 0}});
    }
    return event_result(std::optional<rexec_data_event>{rexec_data_event{data, m.body, 0, 0}});
  }

  void send_stream(type t, bool closed, std::span<const std::byte> bytes) {
    if (closed || exit_sent_) return;
    const std::size_t limit = chunk_limit();
    while (!bytes.empty()) {
      const auto chunk = bytes.first(std::min(limit, bytes.size()));
      std::byte h[rexec_wire::header_length];
      rexec_wire::emit_data_header(h, t, chunk.size());
      append(h);
      append(chunk);
      bytes = bytes.subspan(chunk.size());
    }
  }

  void close_stream(type t, bool& closed) {
    if (closed || exit_sent_) return;
    closed = true;
    std::byte h[rexec_wire::header_length];
    rexec_wire::emit_data_header(h, t, 0);
    append(h);
  }

  void append(std::span<const std::byte> bytes) { output_.insert(output_.end(), bytes.begin(), bytes.end()); }

  rexec_data_role role_;
  std::uint32_t own_version_;
  std::optional<std::uint32_t> version_;
  // Before the HELLO only a HELLO may come: 4 bytes of body.
  rexec_reader reader_{rexec_wire::hello_body_length};
  std::vector<std::byte> output_;
  bool stdin_closed_ = false, stdout_closed_ = false, stderr_closed_ = false, exit_sent_ = false;
  bool stdin_eof_ = false, stdout_eof_ = false, stderr_eof_ = false, exit_received_ = false;
  rexec_data_counters counters_;
};

}  // namespace uk::qubes
