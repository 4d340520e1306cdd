// The TCP connection: the sans-IO state machine of RFC 9293 (3.3.2, 3.10).
// Bytes and the current time in, segments and the next deadline out.
//
// Pieces split out by concern: sequence.hpp (modular arithmetic), rto.hpp
// (RFC 6298 estimator), congestion_controller.hpp (the congestion policy:
// CUBIC, RFC 9438, or NewReno, RFC 5681), scoreboard.hpp (RFC 6675's SACK
// scoreboard), send_buffer.hpp and receive_buffer.hpp (rings held only while
// data is queued, from the layer's buffer_pool.hpp; bounded out-of-order
// reassembly). Loss recovery is here: RFC 6675 with SACK, RFC 6582 without,
// RFC 3042 limited transmit.
// This file holds the state machine: the handshake, SEGMENT ARRIVES in the
// RFC's order of checks, the output decision (window, Nagle, silly-window
// avoidance), and the timers (retransmission, persist, delayed ACK,
// keep-alive, TIME-WAIT).
//
// Nothing here reads a clock or does I/O, and nothing allocates but the
// buffers' storage, taken from the pool when data is queued: segments leave
// through the environment's segment_sink.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

#include "uk/delegate.hpp"
#include "uk/direct/tcp/config.hpp"
#include "uk/direct/tcp/congestion_controller.hpp"
#include "uk/direct/tcp/four_tuple.hpp"
#include "uk/direct/tcp/receive_buffer.hpp"
#include "uk/direct/tcp/rto.hpp"
#include "uk/direct/tcp/scoreboard.hpp"
#include "uk/direct/tcp/send_buffer.hpp"
#include "uk/direct/tcp/sequence.hpp"
#include "uk/log.hpp"
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

/// What a connection counts: every segment dropped, every bound hit, every
/// timer that fired. The counters are shared: a layer adds up all its
/// connections in one struct (as `netstat -s` does), which keeps 200 bytes
/// out of every connection.
struct connection_counters {
  std::uint64_t rx_segments = 0, tx_segments = 0;
  std::uint64_t tx_refused = 0;             ///< the layer's sink returned false (counted as lost)
  std::uint64_t rx_not_synchronized = 0;    ///< arrived in CLOSED or LISTEN: ignored
  std::uint64_t rx_unacceptable = 0;        ///< RFC 9293 3.10.7.4 first check failed (ACK sent)
  std::uint64_t rx_paws_rejected = 0;       ///< RFC 7323 5.3 R1: TSval older than TS.Recent
  std::uint64_t rx_missing_timestamp = 0;   ///< RFC 7323 3.2: no TSopt once negotiated (dropped)
  std::uint64_t rx_bad_ack = 0;             ///< ACK outside RFC 5961 5.2's range, or no ACK bit
  std::uint64_t rx_rst_accepted = 0;
  std::uint64_t rx_rst_challenged = 0;      ///< RFC 5961 3.2: in window but not RCV.NXT
  std::uint64_t rx_syn_challenged = 0;      ///< RFC 5961 4.2: SYN in a synchronized state
  std::uint64_t challenge_acks_sent = 0;
  std::uint64_t challenge_acks_limited = 0; ///< RFC 5961 7: suppressed by the layer's rate limit
  std::uint64_t rx_out_of_order = 0;        ///< segments held for reassembly
  std::uint64_t rx_reassembly_full = 0;     ///< bound hit: no out-of-order range left (segment dropped)
  std::uint64_t rx_window_trimmed = 0;      ///< segments cut to the receive window
  std::uint64_t rx_data_after_close = 0;    ///< data after close(): answered with RST (RFC 2525 2.17)
  std::uint64_t rx_duplicate_acks = 0;
  std::uint64_t retransmission_timeouts = 0;
  std::uint64_t syn_retransmissions = 0;
  std::uint64_t fast_retransmissions = 0;
  std::uint64_t persist_probes = 0;
  std::uint64_t keepalive_probes = 0;
  std::uint64_t delayed_acks = 0;           ///< ACKs sent by the delayed-ACK timer
  std::uint64_t window_updates = 0;         ///< ACKs sent because the application read (mirage-tcpip #340)
  std::uint64_t peer_mss_raised = 0;        ///< bound hit: the peer's MSS was below min_send_mss
  // SACK (RFC 2018) and loss recovery (RFC 6675, RFC 3042).
  std::uint64_t sack_blocks_sent = 0;
  std::uint64_t sack_blocks_received = 0;   ///< valid blocks fed to the scoreboard
  std::uint64_t sack_blocks_invalid = 0;    ///< empty, reversed or beyond SND.MAX: ignored
  std::uint64_t sack_blocks_old = 0;        ///< wholly below SND.UNA (D-SACK, RFC 2883, or stale): ignored
  std::uint64_t sack_blocks_unnegotiated = 0; ///< SACK blocks from a peer that did not negotiate SACK: ignored
  std::uint64_t sack_scoreboard_full = 0;   ///< bound hit: a SACKed range forgotten (it may be resent)
  std::uint64_t sack_recoveries = 0;        ///< RFC 6675 5 loss recovery entered
  std::uint64_t sack_retransmissions = 0;   ///< segments resent by NextSeg() rules 1, 3 and 4
  std::uint64_t rescue_retransmissions = 0; ///< RFC 6675 4 NextSeg() rule 4
  std::uint64_t limited_transmits = 0;      ///< RFC 3042 new segments on the first two duplicate ACKs
};

/// What the layer shares with all its connections. A connection keeps a
/// reference: the environment outlives every connection made with it.
struct connection_environment {
  segment_sink send;
  delegate<bool(instant)> challenge_ack_allowed;     ///< RFC 5961 7: global rate limit, owned by the layer
  delegate<std::uint32_t(instant)> timestamp_clock;  ///< RFC 7323 5.4 TSval clock
  connection_counters* counters = nullptr;           ///< where the connections count (required)
  buffer_pool* buffers = nullptr;                    ///< the buffers' storage (nullptr: the heap)
};

class connection {
 public:
  /// The smallest send MSS used whatever the peer announces (a tiny MSS
  /// would turn every byte into a segment). Linux uses 48 after options.
  static constexpr std::uint16_t min_send_mss = 64;
  /// RFC 9293 3.7.1: "the default value of 536 [MSS] is used when no MSS option is received".
  static constexpr std::uint16_t default_peer_mss = 536;
  /// RFC 9293 3.8.6.3: the delay of an ACK "MUST be less than 0.5 seconds"; this core caps it at 200 ms.
  static constexpr duration max_delayed_ack = std::chrono::milliseconds{200};
  /// RFC 7323 5.5: TS.Recent older than 24 days is invalid for PAWS.
  static constexpr duration paws_idle_limit = std::chrono::hours{24 * 24};
  /// RFC 5681 3.2: "The fast retransmit algorithm uses the arrival of 3 duplicate ACKs".
  static constexpr unsigned duplicate_threshold = 3;

  /// `config` and `env` are kept by reference: they are the layer's (or a
  /// test's), shared by its connections, and outlive them. Values out of
  /// range are clamped where they are used (delayed_ack, mss).
  connection(const four_tuple& tuple, const connection_config& config, const connection_environment& env)
      : tuple_(tuple),
        config_(config),
        env_(env),
        counters_(*env.counters),
        tx_(config.send_buffer, env.buffers),
        rx_(config.receive_buffer, env.buffers),
        rto_(config.initial_rto, config.min_rto, config.max_rto),
        cc_(default_peer_mss, config) {
    // RFC 7323 2.3: the shift that lets the buffer be advertised, at most 14.
    if (config_.window_scaling) {
      while (rcv_wscale_ < wire::tcp::max_window_scale && (config_.receive_buffer >> rcv_wscale_) > 0xffff) {
        ++rcv_wscale_;
      }
    }
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // ---------------------------------------------------------------- opening

  /// RFC 9293 3.10.1 OPEN, active: CLOSED -> SYN-SENT, sends the SYN now.
  void open(seq iss, instant now) {
    if (state_ != state::closed) return;
    iss_ = snd_una_ = iss;
    snd_nxt_ = snd_max_ = iss + 1;
    data_start_ = iss + 1;
    state_ = state::syn_sent;
    last_rx_ = now;
    send_syn(now);
    start_rtt(iss, now);
    rtx_deadline_ = now + rto_.rto();
    changed_ = true;
    notify();
  }

  /// Passive open, the layer having matched a SYN to a listener (RFC 9293 3.10.7.2):
  /// LISTEN -> SYN-RECEIVED, sends the SYN-ACK now (options negotiated from the SYN).
  void open_from_syn(seq iss, const wire::tcp::view& syn, instant now) {
    if (state_ != state::closed && state_ != state::listen) return;
    passive_ = true;
    iss_ = snd_una_ = iss;
    snd_nxt_ = snd_max_ = iss + 1;
    data_start_ = iss + 1;
    irs_ = seq{syn.sequence_number()};
    rcv_nxt_ = rcv_adv_ = irs_ + 1;
    const wire::tcp::options o = syn.options();
    negotiate(o.mss, o.window_scale_clamped(), o.timestamps, o.sack_permitted);
    if (ts_ok_) update_ts_recent(o.timestamps->tsval, now);
    // RFC 7323 2.2: the window of a SYN is never scaled.
    snd_wnd_ = syn.window();
    max_snd_wnd_ = snd_wnd_;
    snd_wl1_ = irs_;
    snd_wl2_ = iss_;
    state_ = state::syn_received;
    last_rx_ = now;
    send_syn(now);
    start_rtt(iss, now);
    rtx_deadline_ = now + rto_.rto();
    changed_ = true;
    notify();
  }

  /// The final ACK of a handshake answered with a SYN cookie (RFC 4987 3.6): straight to ESTABLISHED.
  struct cookie_handshake {
    seq iss, irs;
    std::uint16_t peer_mss = default_peer_mss;
    std::optional<std::uint8_t> peer_window_scale;
    bool peer_sack_permitted = false;
    /// When set, timestamps are in use; tsval is the peer's (TS.Recent).
    std::optional<wire::tcp::timestamps_option> timestamps;
  };
  void open_from_cookie(const cookie_handshake& c, const wire::tcp::view& ack, instant now) {
    if (state_ != state::closed && state_ != state::listen) return;
    passive_ = true;
    iss_ = c.iss;
    snd_una_ = snd_nxt_ = snd_max_ = c.iss + 1;
    data_start_ = c.iss + 1;
    irs_ = c.irs;
    rcv_nxt_ = c.irs + 1;
    // The layer's stateless SYN-ACK offered at most an unscaled 65535 (RFC 7323 2.2).
    rcv_adv_ = rcv_nxt_ + static_cast<std::uint32_t>(std::min<std::size_t>(rx_.free(), 0xffff));
    last_ack_sent_ = rcv_nxt_;  // the SYN-ACK's (RFC 7323 4.3 Last.ACK.sent)
    negotiate(c.peer_mss, c.peer_window_scale, c.timestamps, c.peer_sack_permitted);
    if (ts_ok_) update_ts_recent(c.timestamps->tsval, now);
    // The window update rule below takes SEG.WND from this ACK (SND.WL1 < SEG.SEQ).
    snd_wl1_ = irs_;
    snd_wl2_ = iss_;
    state_ = state::established;
    last_rx_ = now;
    arm_keepalive(now);
    changed_ = true;
    on_segment(ack, now);
  }

  // ------------------------------------------------------- segment arrives

  /// Every segment for this tuple in every state but CLOSED/LISTEN (RFC 9293
  /// 3.10.7.3 onwards). The segment was checksum-verified by the layer.
  void on_segment(const wire::tcp::view& segment, instant now) {
    ++counters_.rx_segments;
    switch (state_) {
      case state::closed:
      case state::listen: ++counters_.rx_not_synchronized; break;
      case state::syn_sent: on_segment_syn_sent(segment, now); break;
      default: on_segment_synchronized(segment, now); break;
    }
    if (state_ != state::closed) transmit(now);
    notify();
  }

  // ---------------------------------------------------------------- timers

  /// Does what is due at `now` and returns the next deadline (uk::never when none).
  instant poll(instant now) {
    if (state_ == state::closed) return never;
    if (wait_deadline_ <= now) {
      // RFC 9293 3.10.8: TIME-WAIT timeout (and the FIN-WAIT-2 orphan timeout).
      enter_closed(error::none);
      notify();
      return never;
    }
    if (rtx_deadline_ <= now) on_retransmission_timeout(now);
    if (state_ != state::closed && persist_deadline_ <= now) on_persist_timeout(now);
    if (state_ != state::closed && keepalive_deadline_ <= now) on_keepalive_timeout(now);
    if (state_ != state::closed && delack_deadline_ <= now) {
      ++counters_.delayed_acks;
      ack_now_ = true;
    }
    if (state_ != state::closed) transmit(now);
    notify();
    return next_deadline();
  }

  /// The deadline poll() would return now, without doing anything.
  instant next_deadline() const {
    if (state_ == state::closed) return never;
    return std::min({rtx_deadline_, persist_deadline_, delack_deadline_, keepalive_deadline_, wait_deadline_});
  }

  // ------------------------------------------------------- application side

  /// Bytes accepted into the send buffer (0 when full, or after shutdown); may send now.
  /// `more` says another piece follows at once (the next buffer of a gather
  /// write): the data waits for it, so that pieces written together leave in
  /// full segments, as one buffer would; otherwise Nagle (RFC 9293 3.7.4)
  /// holds the last short piece until the peer's (perhaps delayed) ACK.
  /// A piece that does not fit whole is sent at once whatever `more` says.
  std::size_t write(std::span<const std::byte> data, instant now, bool more = false) {
    if (writable() == 0) {
      if (synchronized()) transmit(now);  // a previous `more` may have left data waiting
      return 0;
    }
    const std::size_t n = tx_.write(data);
    if (n > 0 && synchronized() && (!more || n < data.size())) transmit(now);
    notify();
    return n;
  }

  /// Bytes copied out; may send a window update (mirage-tcpip #340).
  std::size_t read(std::span<std::byte> out, instant now) {
    const std::size_t n = rx_.read(out);
    if (n > 0 && can_receive()) {
      // RFC 9293 3.8.6.2.2: tell the peer once the window has opened by
      // min(RCV.BUFF / 2, MSS) beyond what it was last told, and (as Linux
      // does) only when that at least doubles it: a sender with a wide
      // window open needs no update, the next ACK carries it.
      const std::size_t wnd = window_to_advertise();
      const seq edge = rcv_nxt_ + static_cast<std::uint32_t>(wnd);
      if (edge - rcv_adv_ >= static_cast<std::int32_t>(receive_sws_threshold()) &&
          std::size_t{receive_window()} * 2 <= wnd) {
        ++counters_.window_updates;
        ack_now_ = true;
        transmit(now);
      }
    }
    notify();
    return n;
  }

  /// Bytes waiting to be read.
  std::size_t readable() const { return rx_.readable(); }
  /// FIN received and every byte before it read: end of stream.
  bool read_finished() const { return fin_received_ && rx_.readable() == 0; }
  /// Free space in the send buffer (0 after shutdown_send/close, and once closed).
  std::size_t writable() const {
    if (fin_queued_) return 0;
    switch (state_) {
      case state::syn_sent:
      case state::syn_received:
      case state::established:
      case state::close_wait: return tx_.free();
      default: return 0;
    }
  }

  /// FIN after the buffered data (RFC 9293 3.10.4 CLOSE on the send side).
  void shutdown_send(instant now) {
    if (fin_queued_) return;
    switch (state_) {
      case state::syn_sent:
      case state::syn_received:
        fin_queued_ = true;  // "queue for processing after entering ESTABLISHED state"
        break;
      case state::established:
        fin_queued_ = true;
        state_ = state::fin_wait_1;
        break;
      case state::close_wait:
        fin_queued_ = true;
        state_ = state::last_ack;
        break;
      default: return;
    }
    changed_ = true;
    if (synchronized()) transmit(now);
    notify();
  }

  /// Both directions (RFC 9293 3.10.4): unread data, or data arriving
  /// later, is answered with RST (RFC 1122 4.2.2.13, RFC 2525 2.17).
  void close(instant now) {
    if (state_ == state::closed) return;
    app_closed_ = true;
    if (state_ == state::listen || state_ == state::syn_sent) {
      enter_closed(error::none);
      notify();
      return;
    }
    if (rx_.readable() > 0) {
      abort_with(error::aborted, now);
      notify();
      return;
    }
    shutdown_send(now);
    if (state_ == state::fin_wait_2) wait_deadline_ = now + 2 * config_.msl;
    notify();
  }

  /// RST now, CLOSED (RFC 9293 3.10.5).
  void abort(instant now) {
    if (state_ == state::closed) return;
    abort_with(error::aborted, now);
    notify();
  }

  state current_state() const { return state_; }
  error last_error() const { return error_; }
  /// CLOSED: the layer may free it (TIME-WAIT expiry ends here too).
  bool is_closed() const { return state_ == state::closed; }

  /// RFC 6191 / RFC 9293 3.6.1: in TIME-WAIT, whether a new SYN may reincarnate the tuple now.
  bool accepts_new_syn(const wire::tcp::view& syn) const {
    if (state_ != state::time_wait || !syn.syn() || syn.ack() || syn.rst()) return false;
    const auto ts = syn.options().timestamps;
    // RFC 6191 2: with timestamps, the new SYN's TSval must be greater than TS.Recent.
    if (ts_ok_ && ts) return static_cast<std::int32_t>(ts->tsval - ts_recent_) > 0;
    // RFC 9293 3.6.1 / RFC 1122 4.2.2.13: otherwise its ISN must be beyond the old RCV.NXT.
    return seq{syn.sequence_number()} > rcv_nxt_;
  }

  /// Called after anything that may change readable(), writable(),
  /// read_finished(), state or error.
  void set_change_handler(delegate<void()> h) { on_change_ = h; }
  const four_tuple& tuple() const { return tuple_; }
  const connection_counters& counters() const { return counters_; }

  // Inspection, for tests and the layer's statistics.
  seq send_unacknowledged() const { return snd_una_; }
  seq send_next() const { return snd_nxt_; }
  seq receive_next() const { return rcv_nxt_; }
  std::uint32_t send_window() const { return snd_wnd_; }
  std::size_t send_mss() const { return send_mss_; }
  std::uint8_t send_window_scale() const { return snd_wscale_; }
  std::uint8_t receive_window_scale() const { return rcv_wscale_; }
  bool timestamps_enabled() const { return ts_ok_; }
  const rto_estimator& rto() const { return rto_; }
  const congestion_controller& congestion() const { return cc_; }
  /// In loss recovery (RFC 6582 3.2) until SND.UNA passes `recover`.
  bool in_recovery() const { return in_recovery_; }
  /// The window the sender uses now: cwnd, or during NewReno recovery the
  /// inflated recovery window (RFC 6582 3.2 steps 3 to 5).
  std::size_t congestion_window() const { return in_recovery_ && !sack_ok_ ? recovery_window_ : cc_.window(); }
  /// Both SYNs carried SACK-permitted (RFC 2018 2).
  bool sack_enabled() const { return sack_ok_; }
  /// What the peer SACKed above SND.UNA (RFC 6675 4).
  const tcp::scoreboard& sack_scoreboard() const { return scoreboard_; }
  /// Bytes written and not yet acknowledged.
  std::size_t unacknowledged() const { return tx_.size(); }

 private:
  // --------------------------------------------------------- state helpers

  bool synchronized() const {
    return state_ != state::closed && state_ != state::listen && state_ != state::syn_sent &&
           state_ != state::syn_received;
  }
  /// States in which received text is accepted (RFC 9293 3.10.7.4 seventh).
  bool can_receive() const {
    return state_ == state::established || state_ == state::fin_wait_1 || state_ == state::fin_wait_2;
  }
  seq data_end() const { return data_start_ + static_cast<std::uint32_t>(tx_.size()); }
  /// The FIN's sequence number, once shutdown_send() queued it.
  seq fin_seq() const { return data_end(); }
  bool fin_acked() const { return fin_queued_ && snd_una_ > fin_seq(); }
  std::size_t flight() const { return static_cast<std::size_t>(snd_nxt_ - snd_una_); }

  void notify() {
    if (changed_) {
      changed_ = false;
      if (on_change_) on_change_();
    }
  }

  void enter_closed(error e) {
    if (state_ == state::closed) return;
    state_ = state::closed;
    if (error_ == error::none) error_ = e;
    rtx_deadline_ = persist_deadline_ = delack_deadline_ = keepalive_deadline_ = wait_deadline_ = never;
    rx_.drop_out_of_order();
    changed_ = true;
  }

  void enter_time_wait(instant now) {
    state_ = state::time_wait;
    // RFC 9293 3.10.7.4 eighth: "Start the time-wait timer, turn off the other timers."
    rtx_deadline_ = persist_deadline_ = keepalive_deadline_ = never;
    wait_deadline_ = now + 2 * config_.msl;
    changed_ = true;
  }

  void abort_with(error e, instant now) {
    // RFC 9293 3.10.5 ABORT: SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2 and
    // CLOSE-WAIT send <SEQ=SND.NXT><CTL=RST>; the closing states just go.
    switch (state_) {
      case state::syn_received:
      case state::established:
      case state::fin_wait_1:
      case state::fin_wait_2:
      case state::close_wait: send_reset(snd_nxt_, now); break;
      default: break;
    }
    enter_closed(e);
  }

  /// Options agreed from the peer's SYN (or SYN-ACK, or cookie).
  void negotiate(std::optional<std::uint16_t> peer_mss, std::optional<std::uint8_t> peer_scale,
                 const std::optional<wire::tcp::timestamps_option>& peer_ts, bool peer_sack_permitted) {
    // RFC 2018 2: SACK only when both SYNs carried SACK-permitted.
    sack_ok_ = config_.sack && peer_sack_permitted;
    // RFC 7323 1.3 / 2.2: window scaling only when both sides sent the option.
    peer_offered_window_scale_ = config_.window_scaling && peer_scale.has_value();
    if (peer_offered_window_scale_) {
      snd_wscale_ = std::min(*peer_scale, wire::tcp::max_window_scale);
    } else {
      snd_wscale_ = 0;
      rcv_wscale_ = 0;
    }
    // RFC 7323 3.2: timestamps only when both SYNs carried them.
    ts_ok_ = config_.timestamps && peer_ts.has_value();
    // RFC 9293 3.7.1: SendMSS from the option (536 when absent), never above
    // our own (the MTU clamp), minus the option bytes every segment carries.
    std::size_t mss = std::min<std::size_t>(peer_mss.value_or(default_peer_mss), our_mss());
    if (ts_ok_) mss -= std::min<std::size_t>(mss, 12);
    if (mss < min_send_mss) {
      ++counters_.peer_mss_raised;
      log::debug(log::source::tcp, "{}: peer MSS {} raised to {}", tuple_.remote, mss, min_send_mss);
      mss = min_send_mss;
    }
    send_mss_ = mss;
    cc_.set_mss(mss);
  }

  void update_ts_recent(std::uint32_t tsval, instant now) {
    ts_recent_ = tsval;
    ts_recent_time_ = now;
  }

  // ----------------------------------------------- RFC 9293 3.10.7.3 SYN-SENT

  void on_segment_syn_sent(const wire::tcp::view& s, instant now) {
    const seq seg_seq{s.sequence_number()};
    const seq seg_ack{s.acknowledgment_number()};
    // First: check the ACK bit. "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send
    // a reset (unless the RST bit is set, if so drop the segment and return)".
    bool ack_acceptable = false;
    if (s.ack()) {
      if (seg_ack <= iss_ || seg_ack > snd_nxt_) {
        ++counters_.rx_bad_ack;
        if (!s.rst()) send_reset(seg_ack, now);
        return;
      }
      ack_acceptable = snd_una_ <= seg_ack && seg_ack <= snd_nxt_;
    }
    // Second: the RST bit. Accepted only with an acceptable ACK (RFC 5961 3.2
    // keeps this rule): "the connection was refused".
    if (s.rst()) {
      if (ack_acceptable) {
        ++counters_.rx_rst_accepted;
        enter_closed(error::refused);
      } else {
        ++counters_.rx_rst_challenged;
      }
      return;
    }
    // Fourth: the SYN bit.
    if (!s.syn()) return;  // fifth: "drop the segment and return"
    const wire::tcp::options o = s.options();
    irs_ = seg_seq;
    rcv_nxt_ = seg_seq + 1;
    // RCV.WND is what our SYN offered (unscaled, RFC 7323 2.2).
    rcv_adv_ = rcv_nxt_ + static_cast<std::uint32_t>(std::min<std::size_t>(rx_.free(), 0xffff));
    negotiate(o.mss, o.window_scale_clamped(), o.timestamps, o.sack_permitted);
    if (ts_ok_) update_ts_recent(o.timestamps->tsval, now);
    if (ack_acceptable) {
      // "If SND.UNA > ISS (our SYN has been ACKed), change the connection state
      // to ESTABLISHED, form an ACK segment and send it."
      on_new_ack(seg_ack, now);
      snd_wnd_ = s.window();  // RFC 7323 2.2: a SYN's window is not scaled
      max_snd_wnd_ = snd_wnd_;
      snd_wl1_ = seg_seq;
      snd_wl2_ = seg_ack;
      enter_established(now);
      ack_now_ = true;
    } else {
      // Simultaneous open (RFC 9293 3.5 figure 7): "enter SYN-RECEIVED, form a
      // SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it."
      snd_wnd_ = s.window();
      max_snd_wnd_ = snd_wnd_;
      snd_wl1_ = seg_seq;
      snd_wl2_ = iss_;
      state_ = state::syn_received;
      rtt_timing_ = false;  // the SYN-ACK resends our ISN: Karn
      send_syn(now);
      rtx_deadline_ = now + rto_.rto();
      changed_ = true;
    }
  }

  void enter_established(instant now) {
    state_ = fin_queued_ ? state::fin_wait_1 : state::established;
    if (syn_retransmitted_) rto_.after_syn_timeout();
    retransmissions_ = 0;
    arm_keepalive(now);
    changed_ = true;
  }

  // ------------------------------------------- RFC 9293 3.10.7.4 other states

  void on_segment_synchronized(const wire::tcp::view& s, instant now) {
    seq seg_seq{s.sequence_number()};
    const seq seg_ack{s.acknowledgment_number()};
    std::span<const std::byte> text = s.payload();
    bool syn = s.syn(), fin = s.fin();
    const wire::tcp::options o = s.options();

    // A retransmitted SYN in SYN-RECEIVED: our SYN-ACK was lost; send it again
    // (IncludeOS #542 left connections stuck without it).
    if (state_ == state::syn_received && syn && !s.ack() && !s.rst() && seg_seq == irs_) {
      ++counters_.syn_retransmissions;
      send_syn(now);
      return;
    }

    // Simultaneous open (RFC 9293 3.5 figure 7): the peer's SYN-ACK repeats a
    // SYN we hold already; what counts is its ACK.
    if (state_ == state::syn_received && !passive_ && syn && s.ack() && seg_seq == irs_) {
      syn = false;
      seg_seq += 1;
    }

    // RFC 7323 5.3 R1 (before the sequence check): PAWS.
    if (ts_ok_ && !s.rst()) {
      if (!o.timestamps) {
        // RFC 7323 3.2: "If a non-<RST> segment is received without a TSopt, a
        // TCP SHOULD silently drop the segment."
        ++counters_.rx_missing_timestamp;
        return;
      }
      if (static_cast<std::int32_t>(o.timestamps->tsval - ts_recent_) < 0) {
        if (now - ts_recent_time_ > paws_idle_limit) {
          // RFC 7323 5.5: a TS.Recent idle for 24 days is no longer valid.
          ts_recent_ = o.timestamps->tsval;
        } else {
          ++counters_.rx_paws_rejected;
          send_ack(now);
          return;
        }
      }
    }

    // First: the sequence number (RFC 9293 3.10.7.4, the four cases).
    const std::uint32_t seg_len = static_cast<std::uint32_t>(text.size()) + (syn ? 1 : 0) + (fin ? 1 : 0);
    const std::uint32_t rcv_wnd = receive_window();
    bool acceptable;
    if (seg_len == 0) {
      acceptable = rcv_wnd == 0 ? seg_seq == rcv_nxt_ : in_range(rcv_nxt_, seg_seq, rcv_nxt_ + rcv_wnd);
    } else if (rcv_wnd == 0) {
      // "special allowance should be made to accept valid ACKs, URGs, and RSTs":
      // a zero-window probe at RCV.NXT is processed for its ACK, its text dropped.
      acceptable = seg_seq == rcv_nxt_;
    } else {
      acceptable = in_range(rcv_nxt_, seg_seq, rcv_nxt_ + rcv_wnd) ||
                   in_range(rcv_nxt_, seg_seq + (seg_len - 1), rcv_nxt_ + rcv_wnd);
    }
    if (!acceptable) {
      // "If an incoming segment is not acceptable, an acknowledgment should be
      // sent in reply (unless the RST bit is set...)".
      ++counters_.rx_unacceptable;
      if (!s.rst()) {
        // RFC 9293 3.10.7.4 eighth, TIME-WAIT: a retransmitted FIN restarts the 2 MSL timeout.
        if (state_ == state::time_wait && fin) wait_deadline_ = now + 2 * config_.msl;
        send_ack(now);
      }
      return;
    }
    // Trim to the window: "segments with higher beginning sequence numbers
    // may be held", the part before RCV.NXT and beyond the window is dropped.
    if (seg_seq < rcv_nxt_) {
      std::uint32_t cut = static_cast<std::uint32_t>(rcv_nxt_ - seg_seq);
      if (syn) {
        syn = false;
        --cut;
        seg_seq += 1;
      }
      const std::size_t drop = std::min<std::size_t>(cut, text.size());
      text = text.subspan(drop);
      seg_seq += static_cast<std::uint32_t>(drop);
    }
    const std::uint32_t room = rcv_wnd - std::min<std::uint32_t>(rcv_wnd, static_cast<std::uint32_t>(seg_seq - rcv_nxt_));
    if (text.size() > room) {
      ++counters_.rx_window_trimmed;
      text = text.first(room);
      fin = false;  // the FIN lies beyond the window
      ack_now_ = true;
    }

    // RFC 7323 4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent then SEG.TSval is copied to TS.Recent".
    if (ts_ok_ && o.timestamps && !s.rst() &&
        static_cast<std::int32_t>(o.timestamps->tsval - ts_recent_) >= 0 &&
        seq{s.sequence_number()} <= last_ack_sent_) {
      update_ts_recent(o.timestamps->tsval, now);
    }

    // Second: the RST bit (RFC 5961 3.2).
    if (s.rst()) {
      if (seq{s.sequence_number()} != rcv_nxt_) {
        // "If the RST bit is set and the sequence number does not exactly match
        // the next expected sequence value, yet is within the current receive
        // window, TCP MUST send an acknowledgment (challenge ACK)".
        ++counters_.rx_rst_challenged;
        send_challenge_ack(now);
        return;
      }
      ++counters_.rx_rst_accepted;
      switch (state_) {
        case state::syn_received:
          // Passive: back to LISTEN, which for us is freeing the connection;
          // active (simultaneous open): "the connection was refused".
          enter_closed(passive_ ? error::reset : error::refused);
          break;
        case state::closing:
        case state::last_ack:
        case state::time_wait: enter_closed(error::none); break;
        default: enter_closed(error::reset); break;
      }
      return;
    }

    // Fourth: the SYN bit (RFC 5961 4.2, RFC 9293 3.10.7.4): in a
    // synchronized state, "irrespective of the sequence number, TCP endpoints
    // MUST send a challenge ACK". A passive SYN-RECEIVED returns to LISTEN.
    if (syn) {
      if (state_ == state::syn_received && passive_) {
        enter_closed(error::reset);
        return;
      }
      ++counters_.rx_syn_challenged;
      send_challenge_ack(now);
      return;
    }

    // Fifth: the ACK field. "if the ACK bit is off, drop the segment and return".
    if (!s.ack()) {
      ++counters_.rx_bad_ack;
      return;
    }
    last_rx_ = now;
    keepalive_probes_sent_ = 0;
    persist_unanswered_ = 0;  // the peer answers: keep probing (RFC 1122 4.2.2.17)
    arm_keepalive(now);
    if (state_ == state::syn_received) {
      // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state";
      // otherwise "form a reset segment <SEQ=SEG.ACK><CTL=RST> and send it".
      if (!(snd_una_ < seg_ack && seg_ack <= snd_max_)) {
        ++counters_.rx_bad_ack;
        send_reset(seg_ack, now);
        return;
      }
      enter_established(now);
      snd_wnd_ = static_cast<std::uint32_t>(s.window()) << snd_wscale_;
      max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
      snd_wl1_ = seg_seq;
      snd_wl2_ = seg_ack;
    }
    // RFC 5961 5.2: "the ACK value is acceptable only if it is in the range
    // ((SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT)"; otherwise discard
    // it and send an ACK. (SND.MAX: the highest sequence number sent.)
    if (seg_ack > snd_max_ || seg_ack < snd_una_ - std::max<std::uint32_t>(max_snd_wnd_, 1)) {
      ++counters_.rx_bad_ack;
      send_challenge_ack(now);
      return;
    }
    // RFC 6675 5: "Upon the receipt of any ACK containing SACK information,
    // the scoreboard MUST be updated via the Update () routine."
    const bool sack_news = o.sack_count > 0 && update_scoreboard(o, seq_max(seg_ack, snd_una_));
    if (seg_ack > snd_una_) {
      on_new_ack(seg_ack, now);
    } else if (seg_ack == snd_una_ && text.empty() && !fin && snd_max_ > snd_una_ && !probing_ && snd_wnd_ > 0 &&
               (sack_news || (static_cast<std::uint32_t>(s.window()) << snd_wscale_) == snd_wnd_)) {
      // RFC 5681 2 "DUPLICATE ACKNOWLEDGMENT": no data, window unchanged, data
      // outstanding (a window probe's answer is not one); with SACK, an ACK
      // that SACKs new data is one too (RFC 6675 2).
      ++counters_.rx_duplicate_acks;
      on_duplicate_ack(now);
    }
    // "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated.
    // If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK))".
    if (snd_wl1_ < seg_seq || (snd_wl1_ == seg_seq && snd_wl2_ <= seg_ack)) {
      const std::uint32_t wnd = static_cast<std::uint32_t>(s.window()) << snd_wscale_;
      if (wnd != snd_wnd_) changed_ = true;
      snd_wnd_ = wnd;
      max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
      snd_wl1_ = seg_seq;
      snd_wl2_ = seg_ack;
      if (snd_wnd_ > 0 && probing_) {
        // The window opened: leave the persist state. A probe byte not yet
        // acknowledged was dropped by the peer: send it again with the rest.
        probing_ = false;
        persist_deadline_ = never;
        persist_backoff_ = 0;
        snd_nxt_ = snd_una_;
      }
    }
    // State-specific parts of the fifth check.
    switch (state_) {
      case state::fin_wait_1:
        if (fin_acked()) {
          state_ = state::fin_wait_2;
          if (app_closed_) wait_deadline_ = now + 2 * config_.msl;  // orphan timeout
          changed_ = true;
        }
        break;
      case state::closing:
        if (fin_acked()) enter_time_wait(now);
        return;
      case state::last_ack:
        if (fin_acked()) enter_closed(error::none);
        return;
      case state::time_wait: break;
      default: break;
    }

    // Seventh: the segment text.
    if (!text.empty()) {
      if (app_closed_) {
        // Nobody will read it: RFC 2525 2.17, reset.
        ++counters_.rx_data_after_close;
        abort_with(error::aborted, now);
        return;
      }
      if (can_receive()) accept_text(seq_offset(seg_seq), text, now);
    }

    // Eighth: the FIN bit, processed once every byte before it arrived.
    if (fin && can_receive_fin()) {
      remote_fin_ = seg_seq + static_cast<std::uint32_t>(text.size());
      remote_fin_known_ = true;
      ack_now_ = true;
    }
    if (remote_fin_known_ && !fin_received_ && remote_fin_ == rcv_nxt_) accept_fin(now);
  }

  bool can_receive_fin() const { return can_receive() || state_ == state::syn_received; }

  std::size_t seq_offset(seq s) const { return static_cast<std::size_t>(s - rcv_nxt_); }

  void accept_text(std::size_t offset, std::span<const std::byte> text, instant now) {
    std::size_t advanced = 0;
    if (rx_.insert(offset, text, advanced) == receive_buffer::insert_result::no_range_left) {
      ++counters_.rx_reassembly_full;
      log::debug(log::source::tcp, "{}: reassembly full, segment dropped", tuple_.remote);
      ack_now_ = true;
      return;
    }
    if (offset > 0) {
      // RFC 5681 4.2: "A TCP receiver SHOULD send an immediate duplicate ACK
      // when an out-of-order segment arrives."
      ++counters_.rx_out_of_order;
      remember_sack_segment(rcv_nxt_ + static_cast<std::uint32_t>(offset));
      ack_now_ = true;
      return;
    }
    rcv_nxt_ += static_cast<std::uint32_t>(advanced);
    changed_ = true;
    if (advanced > text.size() || !rx_.in_order()) {
      // RFC 5681 4.2: immediate ACK when a segment fills (part of) a gap.
      ack_now_ = true;
    } else if (receive_window() < our_mss()) {
      // Less than a segment of window left: the sender is stalled until it
      // hears from us, so delaying the ACK would cap throughput (smoltcp #415).
      ack_now_ = true;
    } else if (text.size() >= our_mss() - (ts_ok_ ? 12u : 0u)) {
      // RFC 9293 3.8.6.3: "an ACK SHOULD be generated for at least every second full-sized segment".
      if (++full_segments_unacked_ >= 2) ack_now_ = true;
      else arm_delayed_ack(now);
    } else {
      arm_delayed_ack(now);
    }
  }

  /// RFC 2018 4: the first SACK block reports the segment that triggered
  /// the ACK, the others "the most recently reported SACK blocks": the
  /// starts of the latest out-of-order segments, most recent first.
  void remember_sack_segment(seq start) {
    std::size_t keep = std::min<std::size_t>(sack_recent_count_, sack_recent_.size() - 1);
    std::move_backward(sack_recent_.begin(), sack_recent_.begin() + static_cast<std::ptrdiff_t>(keep),
                       sack_recent_.begin() + static_cast<std::ptrdiff_t>(keep + 1));
    sack_recent_[0] = start;
    sack_recent_count_ = static_cast<std::uint8_t>(keep + 1);
  }

  /// RFC 2018 4: the SACK blocks of an ACK while data is held out of order.
  /// At most 3 with timestamps (40 option bytes), 4 without; a segment
  /// carrying data gets only what its MSS leaves room for (RFC 9293 3.7.1:
  /// options count against the segment size).
  void add_sack_blocks(wire::tcp::options& o, std::size_t payload_length) {
    std::size_t room = o.timestamps ? 3 : wire::tcp::max_sack_blocks;
    if (payload_length > 0) {
      const std::size_t spare = send_mss_ > payload_length ? send_mss_ - payload_length : 0;
      room = std::min(room, spare >= 12 ? (spare - 4) / 8 : 0);
    }
    const auto block_of = [this](std::size_t i) {
      const receive_buffer::range r = rx_.held_range(i);
      return wire::tcp::sack_block{(rcv_nxt_ + static_cast<std::uint32_t>(r.begin)).value,
                                   (rcv_nxt_ + static_cast<std::uint32_t>(r.end)).value};
    };
    const auto included = [&o](const wire::tcp::sack_block& b) {
      for (const auto& x : o.sack()) if (x == b) return true;
      return false;
    };
    const auto add = [&](const wire::tcp::sack_block& b) {
      if (o.sack_count < room && !included(b)) o.add_sack(b);
    };
    // The block holding each recently received segment, most recent first
    // ("not subsets of a SACK block already included": the same block).
    for (std::size_t k = 0; k < sack_recent_count_; ++k) {
      if (sack_recent_[k] < rcv_nxt_) continue;  // since delivered in order
      const std::size_t at = static_cast<std::size_t>(sack_recent_[k] - rcv_nxt_);
      for (std::size_t i = 0; i < rx_.ranges(); ++i) {
        const receive_buffer::range r = rx_.held_range(i);
        if (r.begin <= at && at < r.end) add(block_of(i));
      }
    }
    // Then the other ranges held, lowest first.
    for (std::size_t i = 0; i < rx_.ranges(); ++i) add(block_of(i));
    counters_.sack_blocks_sent += o.sack_count;
  }

  void arm_delayed_ack(instant now) {
    const duration delay = std::min(config_.delayed_ack, max_delayed_ack);
    if (delay <= duration::zero()) {
      ack_now_ = true;
      return;
    }
    if (delack_deadline_ == never) delack_deadline_ = now + delay;
  }

  void accept_fin(instant now) {
    rcv_nxt_ += 1;
    fin_received_ = true;
    ack_now_ = true;
    changed_ = true;
    switch (state_) {
      case state::syn_received:
      case state::established: state_ = state::close_wait; break;
      case state::fin_wait_1:
        // Simultaneous close (RFC 9293 3.6 figure 13): CLOSING until our FIN is
        // acknowledged; "If our FIN has been ACKed ... enter TIME-WAIT".
        if (fin_acked()) enter_time_wait(now);
        else state_ = state::closing;
        break;
      case state::fin_wait_2: enter_time_wait(now); break;
      default: break;
    }
  }

  /// Feeds an ACK's SACK blocks to the scoreboard (RFC 6675 4 Update());
  /// true when they SACKed data not SACKed before.
  bool update_scoreboard(const wire::tcp::options& o, seq snd_una_after) {
    if (!sack_ok_) {
      // RFC 2018 2: no SACK option unless SACK-permitted was negotiated.
      counters_.sack_blocks_unnegotiated += o.sack_count;
      return false;
    }
    const scoreboard::update_result r = scoreboard_.update(o.sack(), snd_una_after, snd_max_);
    counters_.sack_blocks_received += r.valid;
    counters_.sack_blocks_invalid += r.invalid;
    counters_.sack_blocks_old += r.old;
    if (r.bound_hits > 0) {
      counters_.sack_scoreboard_full += r.bound_hits;
      log::debug(log::source::tcp, "{}: SACK scoreboard full, a range forgotten", tuple_.remote);
    }
    return r.new_data;
  }

  /// RFC 6675 4 IsLost(SND.UNA): three segments' worth SACKed above it, or three holes.
  bool first_segment_lost() const {
    return sack_ok_ && scoreboard_.lost_boundary(send_mss_, snd_una_) > snd_una_;
  }

  /// RFC 5681 3.2, RFC 6582 3.2 and RFC 6675 5: a duplicate ACK.
  void on_duplicate_ack(instant now) {
    if (in_recovery_) {
      // RFC 6582 3.2 step 4: inflate by one SMSS (transmit() sends); with
      // SACK the pipe estimate already counts what left the network.
      if (!sack_ok_) recovery_window_ += send_mss_;
      return;
    }
    // RFC 6675 5 (1) and (2): DupThresh duplicate ACKs, or SACKs that show
    // the first segment lost already.
    if (++duplicate_acks_ < duplicate_threshold && !first_segment_lost()) {
      limited_transmit(now);
      return;
    }
    duplicate_acks_ = 0;
    // RFC 6582 3.2 step 2: enter fast retransmit only when the ACK covers
    // more than `recover` (no second reduction for losses of one window);
    // RFC 6675 5.1: with SACK, not before "HighACK is greater than or equal
    // to" RecoveryPoint (HighACK = SND.UNA - 1, RecoveryPoint = recover - 1).
    if (sack_ok_) {
      if (recover_valid_ && snd_una_ < recover_) return;
      enter_sack_recovery(now);
      return;
    }
    if (recover_valid_ && snd_una_ <= recover_) return;
    ++counters_.fast_retransmissions;
    cc_.on_congestion_event(flight(), now);
    // Step 3: recover = highest sequence number sent; cwnd = ssthresh + 3*SMSS.
    recover_ = snd_max_;
    recover_valid_ = true;
    in_recovery_ = true;
    recovery_window_ = cc_.slow_start_threshold() + duplicate_threshold * send_mss_;
    rtt_timing_ = false;
    retransmit_first(now);
  }

  /// RFC 3042 2: on the first and second duplicate ACK, one segment of new
  /// data "if the receiver's advertised window allows, the total FlightSize
  /// would remain less than or equal to cwnd plus 2*SMSS, and ... new data
  /// is available". A short segment only where Nagle would send it.
  void limited_transmit(instant now) {
    if (snd_nxt_ != snd_max_ || state_ == state::time_wait || state_ == state::fin_wait_2) return;
    const std::size_t offset = static_cast<std::size_t>(snd_nxt_ - data_start_);
    if (offset >= tx_.size()) return;
    const std::size_t avail = tx_.size() - offset;
    const std::size_t in_flight = flight();
    const std::size_t rwnd = snd_wnd_ > in_flight ? snd_wnd_ - in_flight : 0;
    const std::size_t length = std::min({avail, rwnd, send_mss_});
    if (length == 0 || in_flight + length > cc_.window() + 2 * send_mss_) return;
    if (length < send_mss_ && !(length == avail && config_.nodelay)) return;
    ++counters_.limited_transmits;
    send_new(length, now);
  }

  /// Sends `length` bytes of new data at SND.NXT = SND.MAX (with the FIN when
  /// they are the last and the FIN is queued).
  std::size_t send_new(std::size_t length, instant now) {
    const std::size_t offset = static_cast<std::size_t>(snd_nxt_ - data_start_);
    return send_at_next(length, fin_queued_ && offset + length == tx_.size(), now);
  }

  /// Sends `length` bytes (and the FIN if `with_fin`) at SND.NXT and moves
  /// SND.NXT past them, and SND.MAX with it, timing the first new segment;
  /// returns the sequence space sent.
  std::size_t send_at_next(std::size_t length, bool with_fin, instant now) {
    const seq at = snd_nxt_;
    send_data(at, length, with_fin, now);
    snd_nxt_ += static_cast<std::uint32_t>(length + (with_fin ? 1 : 0));
    if (snd_nxt_ > snd_max_) {
      if (!rtt_timing_) start_rtt(at, now);
      snd_max_ = snd_nxt_;
    }
    // RFC 6298 5.1: start the timer when sending data and it is not running.
    if (rtx_deadline_ == never && !probing_) rtx_deadline_ = now + rto_.rto();
    return length + (with_fin ? 1 : 0);
  }

  /// RFC 6675 5 step (4): fast retransmit and loss recovery with SACK.
  void enter_sack_recovery(instant now) {
    ++counters_.sack_recoveries;
    ++counters_.fast_retransmissions;
    snd_nxt_ = snd_max_;
    // (4.1) RecoveryPoint = HighData; (4.2) ssthresh and cwnd from the policy
    // (RFC 5681 3.2 FlightSize: the data outstanding).
    recover_ = snd_max_;
    recover_valid_ = true;
    in_recovery_ = true;
    cc_.on_congestion_event(static_cast<std::size_t>(snd_max_ - snd_una_), now);
    high_rxt_ = snd_una_;
    rescue_valid_ = false;
    rtt_timing_ = false;
    // (4.3) "Retransmit the first data segment presumed dropped".
    const scoreboard::range hole = scoreboard_.next_hole(snd_una_, snd_max_);
    if (hole.begin < hole.end) {
      const std::size_t n = resend(hole.begin, hole.end, now);
      high_rxt_ = hole.begin + static_cast<std::uint32_t>(n);
    }
    // (4.4) SetPipe and step (C) happen in transmit().
  }

  /// Resends up to one SMSS from `begin`, not past `end` (the FIN too when
  /// the range holds it); returns the sequence space sent.
  std::size_t resend(seq begin, seq end, instant now) {
    if (begin < data_start_) return 0;
    const std::size_t offset = static_cast<std::size_t>(begin - data_start_);
    const std::size_t avail = tx_.size() > offset ? tx_.size() - offset : 0;
    const std::size_t length = std::min({send_mss_, avail, static_cast<std::size_t>(end - begin)});
    const bool fin_sent = fin_queued_ && snd_max_ > fin_seq();
    const bool with_fin = fin_sent && offset + length == tx_.size() && end > fin_seq();
    if (length == 0 && !with_fin) return 0;
    ++counters_.sack_retransmissions;
    send_data(begin, length, with_fin, now);
    return length + (with_fin ? 1 : 0);
  }

  /// RFC 6675 4 SetPipe(): the octets in flight, counted over the unSACKed
  /// octets between SND.UNA and SND.MAX: once if not lost (IsLost), once
  /// more if retransmitted (below HighRxt).
  std::size_t pipe() const {
    const seq lost_end = scoreboard_.lost_boundary(send_mss_, snd_una_);
    std::size_t n = 0;
    seq at = snd_una_;
    while (at < snd_max_) {
      const scoreboard::range h = scoreboard_.next_hole(at, snd_max_);
      if (!(h.begin < h.end)) break;
      if (h.end > lost_end) n += static_cast<std::size_t>(h.end - seq_max(h.begin, lost_end));
      if (high_rxt_ > h.begin) n += static_cast<std::size_t>(seq_min(h.end, high_rxt_) - h.begin);
      at = h.end;
    }
    return n;
  }

  /// RFC 6675 5 (C): while cwnd - pipe >= 1 SMSS, send what NextSeg() picks.
  void send_recovery(instant now) {
    if (state_ == state::time_wait || state_ == state::fin_wait_2) return;
    std::size_t in_pipe = pipe();
    while (cc_.window() >= in_pipe + send_mss_) {
      const std::size_t n = send_next_segment(now);
      if (n == 0) break;
      in_pipe += n;  // (C.4)
    }
  }

  /// RFC 6675 4 NextSeg() and the transmission of its segment; returns the
  /// sequence space sent (0: nothing to send).
  std::size_t send_next_segment(instant now) {
    const seq lost_end = scoreboard_.lost_boundary(send_mss_, snd_una_);
    const seq high_sack = scoreboard_.high_sacked(snd_una_);
    const scoreboard::range hole = scoreboard_.next_hole(seq_max(high_rxt_, snd_una_), high_sack);
    const bool have_hole = hole.begin < hole.end;
    // Rule 1: the first unSACKed octet above HighRxt, below HighSACK, that IsLost.
    if (have_hole && hole.begin < lost_end) return resend_hole(hole, now);
    // Rule 2: new data, if the receiver's window allows (Nagle as in send_queued).
    const std::size_t offset = static_cast<std::size_t>(snd_max_ - data_start_);
    const std::size_t avail = tx_.size() > offset ? tx_.size() - offset : 0;
    const std::size_t outstanding = static_cast<std::size_t>(snd_max_ - snd_una_);
    const std::size_t rwnd = snd_wnd_ > outstanding ? snd_wnd_ - outstanding : 0;
    const std::size_t length = std::min({avail, rwnd, send_mss_});
    const bool fin_unsent = fin_queued_ && snd_max_ <= fin_seq();
    if ((length == send_mss_) || (length > 0 && length == avail && (config_.nodelay || fin_queued_)) ||
        (avail == 0 && fin_unsent)) {
      snd_nxt_ = snd_max_;
      return send_new(length, now);
    }
    // Rule 3: an unSACKed octet above HighRxt and below HighSACK, not lost.
    if (have_hole) return resend_hole(hole, now);
    // Rule 4: one rescue retransmission per recovery, of the highest
    // outstanding unSACKed data; HighRxt is not updated.
    if ((!rescue_valid_ || snd_una_ > rescue_rxt_) && snd_una_ < snd_max_) {
      seq at = snd_una_;
      scoreboard::range last{snd_max_, snd_max_};
      while (at < snd_max_) {
        const scoreboard::range h = scoreboard_.next_hole(at, snd_max_);
        if (!(h.begin < h.end)) break;
        last = h;
        at = h.end;
      }
      if (last.begin < last.end) {
        rescue_rxt_ = recover_;
        rescue_valid_ = true;
        ++counters_.rescue_retransmissions;
        const std::size_t span = static_cast<std::size_t>(last.end - last.begin);
        const seq from = span > send_mss_ ? last.end - static_cast<std::uint32_t>(send_mss_) : last.begin;
        return resend(from, last.end, now);
      }
    }
    return 0;
  }

  std::size_t resend_hole(const scoreboard::range& hole, instant now) {
    const std::size_t n = resend(hole.begin, hole.end, now);
    if (n == 0) return 0;
    high_rxt_ = hole.begin + static_cast<std::uint32_t>(n);
    return n;
  }

  /// New data acknowledged: SND.UNA < SEG.ACK =< SND.MAX.
  void on_new_ack(seq ack, instant now) {
    const std::size_t acked = static_cast<std::size_t>(ack - snd_una_);
    const std::size_t flight_before = static_cast<std::size_t>(snd_max_ - snd_una_);
    // Drop acknowledged data from the send buffer (the SYN and FIN are not in it).
    if (ack > data_start_) {
      const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(ack - data_start_), tx_.size());
      tx_.consume(n);
      data_start_ += static_cast<std::uint32_t>(n);
      if (n > 0) changed_ = true;
    }
    // RFC 6298 3 (Karn): only a segment sent once gives a sample.
    if (rtt_timing_ && ack > rtt_seq_) {
      rto_.sample(now - rtt_start_);
      rtt_timing_ = false;
    }
    snd_una_ = ack;
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
    retransmissions_ = 0;
    persist_unanswered_ = 0;
    scoreboard_.acknowledge(snd_una_);
    if (state_ != state::syn_sent && state_ != state::syn_received) {
      duplicate_acks_ = 0;
      if (!in_recovery_) {
        cc_.on_ack({acked, flight_before, now, rto_.srtt()});
      } else if (ack >= recover_) {
        // RFC 6582 3.2 step 3 / RFC 6675 5: a full acknowledgment (of
        // RecoveryPoint) ends recovery.
        in_recovery_ = false;
        cc_.on_recovery_end(flight(), now);
      } else if (sack_ok_) {
        // RFC 6675 5 (C): a partial ACK; transmit() sends what pipe allows.
      } else {
        // Step 5, partial acknowledgment: retransmit the first unacknowledged
        // segment; deflate the window by the amount acknowledged and add back
        // one SMSS if that was at least one SMSS.
        recovery_window_ = (recovery_window_ > acked ? recovery_window_ - acked : 0) +
                           (acked >= send_mss_ ? send_mss_ : 0);
        retransmit_first(now);
      }
    }
    // RFC 6298 5.2: all outstanding data acknowledged: turn off the timer;
    // 5.3: otherwise restart it.
    if (snd_una_ == snd_max_) rtx_deadline_ = never;
    else if (!probing_) rtx_deadline_ = now + rto_.rto();
  }

  // ---------------------------------------------------------------- output

  /// The window we would advertise now (before rounding to the scale).
  std::size_t window_to_advertise() const {
    const std::size_t free = rx_.free();
    const std::size_t current = receive_window();
    // RFC 9293 3.8.6.2.2 (receiver SWS avoidance): move the right edge only
    // when the free space exceeds it by min(RCV.BUFF / 2, MSS).
    std::size_t wnd = free >= current + receive_sws_threshold() ? free : current;
    return std::min<std::size_t>(wnd, std::size_t{0xffff} << rcv_wscale_);
  }
  std::size_t receive_sws_threshold() const {
    return std::max<std::size_t>(1, std::min<std::size_t>(rx_.capacity() / 2, our_mss()));
  }
  /// RCV.WND: what the peer was last told, from RCV.NXT.
  std::uint32_t receive_window() const {
    return rcv_adv_ > rcv_nxt_ ? static_cast<std::uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
  }

  /// The window field for a segment now, updating the advertised right edge.
  std::uint16_t advertise_window() {
    const std::size_t wnd = window_to_advertise();
    std::size_t field = wnd >> rcv_wscale_;
    // RFC 7323 2.4 / RFC 9293 3.8.6.2.2: never shrink the window; round the
    // old right edge up when scaling cannot represent it exactly.
    const std::size_t current = receive_window();
    if ((field << rcv_wscale_) < current) field = (current + (std::size_t{1} << rcv_wscale_) - 1) >> rcv_wscale_;
    field = std::min<std::size_t>(field, 0xffff);
    const seq edge = rcv_nxt_ + static_cast<std::uint32_t>(field << rcv_wscale_);
    if (edge > rcv_adv_) rcv_adv_ = edge;
    return static_cast<std::uint16_t>(field);
  }

  std::uint32_t timestamp_now(instant now) const {
    if (env_.timestamp_clock) return env_.timestamp_clock(now);
    return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  }

  /// Builds and hands a segment to the layer. `length` bytes of the send
  /// buffer from `offset` form the payload.
  void emit(seq s, wire::tcp::flags f, std::size_t offset, std::size_t length, instant now) {
    outgoing_segment out;
    wire::tcp::repr& h = out.header;
    h.source_port = tuple_.local.port;
    h.destination_port = tuple_.remote.port;
    h.sequence_number = s.value;
    h.flags = f;
    const bool rst = f.has(wire::tcp::flags::rst);
    if (f.has(wire::tcp::flags::ack)) {
      h.acknowledgment_number = rcv_nxt_.value;
      last_ack_sent_ = rcv_nxt_;
    }
    if (f.has(wire::tcp::flags::syn)) {
      // RFC 7323 2.2: the window field of a SYN is never scaled.
      h.window = static_cast<std::uint16_t>(std::min<std::size_t>(rx_.free(), 0xffff));
      rcv_adv_ = seq_max(rcv_adv_, rcv_nxt_ + h.window);
      h.options.mss = our_mss();
      const bool syn_ack = f.has(wire::tcp::flags::ack);
      // On a SYN-ACK, offer only what the SYN offered (RFC 7323 1.3, 3.2).
      if (config_.window_scaling && (!syn_ack || peer_offered_window_scale_)) h.options.window_scale = rcv_wscale_;
      if (config_.timestamps && (!syn_ack || ts_ok_)) {
        h.options.timestamps = wire::tcp::timestamps_option{timestamp_now(now), syn_ack ? ts_recent_ : 0};
      }
      // RFC 2018 2: SACK-permitted on a SYN; on a SYN-ACK only when the SYN carried it.
      h.options.sack_permitted = config_.sack && (!syn_ack || sack_ok_);
    } else if (!rst) {
      h.window = advertise_window();
      if (ts_ok_) h.options.timestamps = wire::tcp::timestamps_option{timestamp_now(now), ts_recent_};
      if (sack_ok_ && f.has(wire::tcp::flags::ack) && !rx_.in_order()) add_sack_blocks(h.options, length);
    }
    h.payload_length = length;
    out.payload = tx_.peek(offset, length);
    if (f.has(wire::tcp::flags::ack)) {
      // Any ACK sent covers what the delayed-ACK timer waited for.
      ack_now_ = false;
      delack_deadline_ = never;
      full_segments_unacked_ = 0;
    }
    ++counters_.tx_segments;
    if (!env_.send || !env_.send(tuple_, out)) ++counters_.tx_refused;
  }

  void send_syn(instant now) {
    if (state_ == state::syn_sent) {
      emit(iss_, wire::tcp::flags::syn, 0, 0, now);
    } else {
      emit(iss_, wire::tcp::flags::syn | wire::tcp::flags::ack, 0, 0, now);
    }
  }
  /// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, SND.NXT being the highest sent:
  /// after a timeout SND.NXT goes back to SND.UNA, and an ACK numbered below
  /// what the peer already received would be unacceptable to it (RFC 9293
  /// 3.10.7.4 first check), its ACK field ignored: both ends would trade
  /// unacceptable ACKs forever.
  void send_ack(instant now) { emit(snd_max_, wire::tcp::flags::ack, 0, 0, now); }
  void send_reset(seq s, instant now) { emit(s, wire::tcp::flags::rst, 0, 0, now); }

  /// RFC 5961 7: challenge ACKs go through the layer's global rate limit.
  void send_challenge_ack(instant now) {
    if (env_.challenge_ack_allowed && !env_.challenge_ack_allowed(now)) {
      ++counters_.challenge_acks_limited;
      log::debug(log::source::tcp, "{}: challenge ACK rate-limited", tuple_.remote);
      return;
    }
    ++counters_.challenge_acks_sent;
    send_ack(now);
  }

  void start_rtt(seq s, instant now) {
    rtt_timing_ = true;
    rtt_seq_ = s;
    rtt_start_ = now;
  }

  /// Sends one segment of data (and FIN) at `s`, up to `length` bytes.
  void send_data(seq s, std::size_t length, bool with_fin, instant now) {
    const std::size_t offset = static_cast<std::size_t>(s - data_start_);
    wire::tcp::flags f = wire::tcp::flags::ack;
    if (with_fin) f = f | wire::tcp::flags::fin;
    if (length > 0 && offset + length == tx_.size()) f = f | wire::tcp::flags::psh;
    emit(s, f, offset, length, now);
  }

  /// Retransmits the first unacknowledged segment (fast retransmit, RFC 5681 3.2).
  void retransmit_first(instant now) {
    if (!synchronized() || snd_una_ >= snd_max_) return;
    const std::size_t offset = snd_una_ >= data_start_ ? static_cast<std::size_t>(snd_una_ - data_start_) : 0;
    const std::size_t avail = tx_.size() > offset ? tx_.size() - offset : 0;
    const std::size_t length = std::min(avail, send_mss_);
    const bool with_fin = fin_queued_ && offset + length == tx_.size() && snd_max_ > fin_seq();
    if (length == 0 && !with_fin) return;
    send_data(snd_una_, length, with_fin, now);
  }

  /// Sends what the windows, Nagle and silly-window avoidance allow, then a
  /// bare ACK if one is due and nothing else carried it.
  void transmit(instant now) {
    if (state_ == state::closed) return;
    if (synchronized()) {
      if (in_recovery_ && sack_ok_) send_recovery(now);
      else send_queued(now, false);
    }
    if (ack_now_ && synchronized()) send_ack(now);
  }

  /// The sending half of transmit(). `force` sends one segment despite
  /// Nagle and silly-window avoidance (a retransmission or a persist probe).
  void send_queued(instant now, bool force) {
    if (state_ == state::time_wait || state_ == state::fin_wait_2) return;
    for (;;) {
      // Going back after a timeout with SACK: what the peer SACKed is not
      // sent again (RFC 6675 5.1), and a segment stops where SACKed data starts.
      std::size_t cap = std::numeric_limits<std::size_t>::max();
      std::size_t sacked_in_flight = 0;
      if (sack_ok_ && snd_nxt_ < snd_max_ && !scoreboard_.empty()) {
        const scoreboard::range hole = scoreboard_.next_hole(snd_nxt_, snd_max_);
        snd_nxt_ = hole.begin;
        if (hole.end < snd_max_) cap = static_cast<std::size_t>(hole.end - hole.begin);
        sacked_in_flight = scoreboard_.sacked_between(snd_una_, snd_nxt_);
      }
      const std::size_t offset = static_cast<std::size_t>(snd_nxt_ - data_start_);
      const bool fin_sent = fin_queued_ && snd_nxt_ > fin_seq();
      if (fin_sent) break;
      const std::size_t avail = std::min(tx_.size() - std::min(offset, tx_.size()), cap);
      const std::size_t in_flight = flight() - std::min(flight(), sacked_in_flight);
      const std::size_t wnd = std::min<std::size_t>(snd_wnd_, congestion_window());
      const std::size_t usable = wnd > in_flight ? wnd - in_flight : 0;
      const std::size_t length = std::min({avail, usable, send_mss_});
      const bool with_fin = fin_queued_ && length == avail && cap == std::numeric_limits<std::size_t>::max();
      if (length == 0 && !with_fin) break;
      if (!force && length < send_mss_) {
        // RFC 9293 3.7.4 (Nagle) and 3.8.6.2.1 (sender SWS avoidance): send a
        // short segment only when it empties the buffer and nothing is in
        // flight (or Nagle is off), or it fills half the largest window seen.
        // A FIN is not held back by Nagle.
        const bool pushes_all = length == avail && (in_flight == 0 || config_.nodelay || with_fin);
        const bool half_window = length > 0 && length >= max_snd_wnd_ / 2;
        const bool fills_hole = cap != std::numeric_limits<std::size_t>::max() && length == avail;
        if (!pushes_all && !half_window && !fills_hole) break;
      }
      send_at_next(length, with_fin, now);
      force = false;
      if (with_fin) break;
    }
    // RFC 9293 3.8.6.1 / RFC 1122 4.2.2.17: data waiting, nothing in flight,
    // no window to send it in: the persist timer probes the window.
    const std::size_t offset = static_cast<std::size_t>(snd_nxt_ - data_start_);
    const bool waiting = offset < tx_.size();
    if (waiting && flight() == 0 && persist_deadline_ == never) {
      persist_deadline_ = now + persist_interval();
    } else if ((!waiting || flight() > 0) && !probing_) {
      persist_deadline_ = never;
    }
  }

  duration persist_interval() const {
    duration d = rto_.rto();
    for (unsigned i = 0; i < persist_backoff_ && d < config_.max_rto; ++i) d *= 2;
    return std::min(d, config_.max_rto);
  }

  // ---------------------------------------------------------------- timers

  void on_retransmission_timeout(instant now) {
    rtx_deadline_ = never;
    rtt_timing_ = false;  // RFC 6298 3, Karn
    if (state_ == state::syn_sent || state_ == state::syn_received) {
      if (retransmissions_ >= config_.max_syn_retransmissions) {
        log::debug(log::source::tcp, "{}: handshake timed out", tuple_.remote);
        enter_closed(error::timed_out);
        return;
      }
      ++retransmissions_;
      ++counters_.syn_retransmissions;
      syn_retransmitted_ = true;
      rto_.back_off();
      send_syn(now);
      rtx_deadline_ = now + rto_.rto();
      return;
    }
    if (snd_una_ == snd_max_) return;
    if (snd_wnd_ == 0) {
      // The peer closed its window with data in flight: it may keep it
      // closed indefinitely (RFC 1122 4.2.2.17), so what is outstanding is
      // probed by the persist timer rather than counted toward the abort.
      snd_nxt_ = snd_una_;
      probing_ = true;
      if (persist_deadline_ == never) persist_deadline_ = now + persist_interval();
      return;
    }
    if (retransmissions_ >= config_.max_retransmissions) {
      log::debug(log::source::tcp, "{}: retransmission limit reached", tuple_.remote);
      enter_closed(error::timed_out);
      return;
    }
    ++retransmissions_;
    ++counters_.retransmission_timeouts;
    // RFC 5681 3.1 and RFC 6298 5.4-5.6: shrink cwnd, retransmit the
    // earliest segment, back off, restart the timer.
    cc_.on_timeout(static_cast<std::size_t>(snd_max_ - snd_una_), now);
    // RFC 6582 4 after a timeout: recover = the highest sequence number sent,
    // so the duplicate ACKs of the go-back retransmissions do not reduce again.
    in_recovery_ = false;
    duplicate_acks_ = 0;
    recover_ = snd_max_;
    recover_valid_ = true;
    // RFC 6675 5.1: recovery ends, RecoveryPoint = HighData (above). The
    // scoreboard is kept so that the go-back does not resend SACKed data;
    // a second timeout in a row clears it (RFC 2018 8: the receiver may have
    // reneged, and what it dropped must be sent again).
    high_rxt_ = snd_una_;
    if (retransmissions_ > 1) scoreboard_.clear();
    rto_.back_off();
    snd_nxt_ = snd_una_;  // go back: resend from the first unacknowledged byte
    send_queued(now, true);
    rtx_deadline_ = now + rto_.rto();
  }

  void on_persist_timeout(instant now) {
    persist_deadline_ = never;
    if (!synchronized()) return;
    if (persist_unanswered_ >= config_.max_retransmissions) {
      log::debug(log::source::tcp, "{}: window probes unanswered", tuple_.remote);
      enter_closed(error::timed_out);
      return;
    }
    ++counters_.persist_probes;
    ++persist_unanswered_;
    snd_nxt_ = snd_una_;
    const std::size_t offset = static_cast<std::size_t>(snd_nxt_ - data_start_);
    const std::size_t avail = tx_.size() - std::min(offset, tx_.size());
    const bool fin_outstanding = fin_queued_ && !fin_acked();
    if (avail == 0 && !fin_outstanding) {
      probing_ = false;
      return;
    }
    if (snd_wnd_ == 0) {
      // RFC 9293 3.8.6.1: probe a zero window with one byte of new data
      // (or the FIN when no data is left).
      probing_ = true;
      if (avail > 0) send_data(snd_nxt_, 1, false, now);
      else send_data(snd_nxt_, 0, true, now);
      snd_nxt_ += 1;
      if (snd_nxt_ > snd_max_) snd_max_ = snd_nxt_;
      if (persist_backoff_ < 16) ++persist_backoff_;
      persist_deadline_ = now + persist_interval();
    } else {
      // The window is open but too small for silly-window avoidance: the
      // override timeout of RFC 9293 3.8.6.2.1 sends what fits.
      send_queued(now, true);
    }
  }

  void arm_keepalive(instant now) {
    if (!config_.keepalive || !synchronized()) {
      keepalive_deadline_ = never;
      return;
    }
    keepalive_deadline_ = now + config_.keepalive->idle;
  }

  void on_keepalive_timeout(instant now) {
    keepalive_deadline_ = never;
    if (!config_.keepalive) return;
    if (state_ != state::established && state_ != state::close_wait) return;
    if (flight() > 0) {
      // Data in flight: the retransmission timer watches the peer already.
      arm_keepalive(now);
      return;
    }
    if (keepalive_probes_sent_ >= config_.keepalive->probes) {
      log::debug(log::source::tcp, "{}: keep-alive probes unanswered", tuple_.remote);
      enter_closed(error::timed_out);
      return;
    }
    // RFC 1122 4.2.3.6: a probe is a segment with SEG.SEQ = SND.NXT-1 and no
    // data, which the peer must answer with an ACK.
    ++keepalive_probes_sent_;
    ++counters_.keepalive_probes;
    emit(snd_max_ - 1, wire::tcp::flags::ack, 0, 0, now);
    keepalive_deadline_ = now + config_.keepalive->interval;
  }

  /// Our MSS (RFC 9293 3.7.1), never below min_send_mss.
  std::uint16_t our_mss() const { return std::max(config_.mss, min_send_mss); }

  // ----------------------------------------------------------------- state

  four_tuple tuple_;
  const connection_config& config_;
  const connection_environment& env_;
  connection_counters& counters_;
  delegate<void()> on_change_;

  send_buffer tx_;
  receive_buffer rx_;
  rto_estimator rto_;
  congestion_controller cc_;  // NewReno or CUBIC, per config.congestion
  // Loss recovery without SACK (RFC 6582): duplicate ACKs since the last new
  // ACK, whether in recovery, `recover`, and the inflated window.
  unsigned duplicate_acks_ = 0;
  seq recover_{};
  std::size_t recovery_window_ = 0;

  // RFC 9293 3.3.1 send sequence variables. SND.MAX: the highest sent.
  seq iss_{}, snd_una_{}, snd_nxt_{}, snd_max_{};
  std::uint32_t snd_wnd_ = 0, max_snd_wnd_ = 0;
  seq snd_wl1_{}, snd_wl2_{};
  seq data_start_{};  // sequence number of the send buffer's first byte
  std::size_t send_mss_ = default_peer_mss;

  // Receive sequence variables; rcv_adv_ is the right edge last advertised.
  seq irs_{}, rcv_nxt_{}, rcv_adv_{};
  seq remote_fin_{};

  // Options (RFC 7323).
  std::uint32_t ts_recent_ = 0;
  instant ts_recent_time_{};
  seq last_ack_sent_{};

  // Timers.
  instant rtx_deadline_ = never, persist_deadline_ = never, delack_deadline_ = never,
          keepalive_deadline_ = never, wait_deadline_ = never;
  unsigned retransmissions_ = 0;
  seq rtt_seq_{};
  instant rtt_start_{};
  unsigned persist_backoff_ = 0;
  unsigned persist_unanswered_ = 0;
  unsigned keepalive_probes_sent_ = 0;
  instant last_rx_{};

  // Delayed ACK (RFC 9293 3.8.6.3).
  unsigned full_segments_unacked_ = 0;

  // SACK (RFC 2018), both directions, and RFC 6675 loss recovery.
  std::array<seq, 4> sack_recent_{};  // receiver: starts of the latest out-of-order segments
  seq high_rxt_{}, rescue_rxt_{};     // RFC 6675 2: HighRxt, RescueRxt
  scoreboard scoreboard_;             // sender: what the peer SACKed above SND.UNA

  // Flags and small fields, together (no padding between them).
  state state_ = state::closed;
  error error_ = error::none;
  bool changed_ = false;
  bool passive_ = false;
  bool in_recovery_ = false;
  bool recover_valid_ = false;
  bool fin_queued_ = false;
  bool app_closed_ = false;
  bool remote_fin_known_ = false;
  bool fin_received_ = false;
  std::uint8_t snd_wscale_ = 0, rcv_wscale_ = 0;
  bool peer_offered_window_scale_ = false;  // so a SYN-ACK may answer it
  bool ts_ok_ = false;
  bool syn_retransmitted_ = false;
  bool rtt_timing_ = false;
  bool probing_ = false;
  bool ack_now_ = false;
  bool sack_ok_ = false;          // both SYNs carried SACK-permitted
  bool rescue_valid_ = false;     // RescueRxt defined (RFC 6675 4 NextSeg rule 4)
  std::uint8_t sack_recent_count_ = 0;
};

}  // namespace uk::direct::tcp
