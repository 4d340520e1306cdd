// The TCP connection: the sans-IO state machine of RFC 9293 (3.3.2, 3.10).
// Bytes and the current time in, segments and the next deadline out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "uk/delegate.hpp"
#include "uk/direct/tcp/config.hpp"
#include "uk/direct/tcp/four_tuple.hpp"
#include "uk/direct/tcp/sequence.hpp"
#include "uk/time.hpp"
#include "uk/wire/tcp.hpp"

namespace uk::direct::tcp {

/// RFC 9293 3.3.2: the states of a connection.
enum class state { closed, listen, syn_sent, syn_received, established, fin_wait_1, fin_wait_2,
                   close_wait, closing, last_ack, time_wait };

constexpr std::string_view to_string(state s) noexcept {
  switch (s) {
    case state::closed: return "CLOSED";
    case state::listen: return "LISTEN";
    case state::syn_sent: return "SYN-SENT";
    case state::syn_received: return "SYN-RECEIVED";
    case state::established: return "ESTABLISHED";
    case state::fin_wait_1: return "FIN-WAIT-1";
    case state::fin_wait_2: return "FIN-WAIT-2";
    case state::close_wait: return "CLOSE-WAIT";
    case state::closing: return "CLOSING";
    case state::last_ack: return "LAST-ACK";
    case state::time_wait: return "TIME-WAIT";
  }
  return "?";
}

/// Why a connection ended abnormally.
enum class error { none, refused, reset, timed_out, aborted };

constexpr std::string_view to_string(error e) noexcept {
  switch (e) {
    case error::none: return "no error";
    case error::refused: return "connection refused by the peer";
    case error::reset: return "connection reset by the peer";
    case error::timed_out: return "connection timed out";
    case error::aborted: return "connection aborted";
  }
  return "?";
}

/// What the connection asks the layer to send.
struct outgoing_segment {
  wire::tcp::repr header;  ///< everything but the checksum; header.payload_length = total payload
  std::array<std::span<const std::byte>, 2> payload{};  ///< in up to two pieces (ring buffer wrap)
};

/// Sends a segment for a tuple; false when IP refused it (treated as lost).
using segment_sink = delegate<bool(const four_tuple&, const outgoing_segment&)>;

/// What the layer shares with all its connections.
struct connection_environment {
  segment_sink send;
  delegate<bool(instant)> challenge_ack_allowed;     ///< RFC 5961 7: global rate limit, owned by the layer
  delegate<std::uint32_t(instant)> timestamp_clock;  ///< RFC 7323 5.4 TSval clock
};

/// What a connection counts: every bound hit and every dropped segment.
struct connection_counters {
  std::uint64_t rx_segments = 0, tx_segments = 0;
  std::uint64_t tx_refused = 0;  ///< the layer's sink returned false
};

class connection {
 public:
  connection(const four_tuple& tuple, const connection_config& config, const connection_environment& env)
      : tuple_(tuple), config_(config), env_(env) {}
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void open(seq, instant) {}
  void open_from_syn(seq, const wire::tcp::view&, instant) {}
  struct cookie_handshake {
    seq iss, irs;
    std::uint16_t peer_mss = 536;
    std::optional<std::uint8_t> peer_window_scale;
    bool peer_sack_permitted = false;
    std::optional<wire::tcp::timestamps_option> timestamps;
  };
  void open_from_cookie(const cookie_handshake&, const wire::tcp::view&, instant) {}
  void on_segment(const wire::tcp::view&, instant) {}
  instant poll(instant) { return never; }
  instant next_deadline() const { return never; }
  std::size_t write(std::span<const std::byte>, instant) { return 0; }
  std::size_t read(std::span<std::byte>, instant) { return 0; }
  std::size_t readable() const { return 0; }
  bool read_finished() const { return false; }
  std::size_t writable() const { return 0; }
  void shutdown_send(instant) {}
  void close(instant) {}
  void abort(instant) {}
  state current_state() const { return state_; }
  error last_error() const { return error_; }
  bool is_closed() const { return state_ == state::closed; }
  bool accepts_new_syn(const wire::tcp::view&) const { return false; }
  void set_change_handler(delegate<void()> h) { on_change_ = h; }
  const four_tuple& tuple() const { return tuple_; }
  const connection_counters& counters() const { return counters_; }

 private:
  four_tuple tuple_;
  connection_config config_;
  connection_environment env_;
  state state_ = state::closed;
  error error_ = error::none;
  delegate<void()> on_change_;
  connection_counters counters_;
};

}  // namespace uk::direct::tcp
