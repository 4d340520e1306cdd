// uk::direct::tcp::layer<Ip>: the TCP packet layer over the direct stack's
// IPv4 layer. No Asio, no clock (time is an argument), no I/O of its own.
//
// It owns everything the connections share:
//   - demultiplexing of received segments by 4-tuple (RFC 9293 3.3.1), after
//     IPv4 verified the header and wire::tcp::parse the checksum (mirage-tcpip #217);
//   - listeners with a backlog: a SYN queue (connections in SYN-RECEIVED) and
//     an accept queue (ESTABLISHED, not yet accepted), each bounded; SYN
//     cookies (syn_cookies.hpp) when the SYN queue is full (smoltcp #852);
//   - RST for segments to no connection (RFC 9293 3.10.7.1);
//   - initial sequence numbers (isn.hpp), ephemeral ports (port_allocator.hpp),
//     a cap on connections, the timestamp clock and the challenge-ACK budget;
//   - TIME-WAIT reincarnation by a new SYN when the connection allows it
//     (connection::accepts_new_syn, RFC 6191);
//   - the timers: poll(now) visits only the connections that are due, from a
//     deadline heap, and frees connections that are CLOSED and no longer held.
//
// Connections live in slots that are reused (a slot's generation tells a
// stale handle from a live one), so the table never grows past the cap.
// Every call into a connection is followed by settle(): the layer never acts
// on a connection from inside the connection's own change callback.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "uk/addr.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/delegate.hpp"
#include "uk/direct/tcp/buffer_pool.hpp"
#include "uk/direct/tcp/config.hpp"
#include "uk/direct/tcp/connection.hpp"
#include "uk/direct/tcp/four_tuple.hpp"
#include "uk/direct/tcp/isn.hpp"
#include "uk/direct/tcp/port_allocator.hpp"
#include "uk/direct/tcp/sequence.hpp"
#include "uk/direct/tcp/syn_cookies.hpp"
#include "uk/direct/tcp/tuple_table.hpp"
#include "uk/log.hpp"
#include "uk/result.hpp"
#include "uk/time.hpp"
#include "uk/wire/tcp.hpp"

namespace uk::direct::tcp {

/// What the layer counts; every bound it enforces has its counter.
struct layer_counters {
  std::uint64_t rx_segments = 0;              ///< parsed and demultiplexed
  std::uint64_t tx_segments = 0;              ///< handed to IPv4
  std::uint64_t rx_malformed = 0;             ///< truncated, bad header length or option
  std::uint64_t rx_bad_checksum = 0;          ///< checksum did not verify (mirage-tcpip #217)
  std::uint64_t rx_bad_address = 0;           ///< broadcast or multicast source or destination (RFC 1122 4.2.3.10)
  std::uint64_t rx_no_connection = 0;         ///< no connection and no listener: answered with RST
  std::uint64_t rx_dropped_listen = 0;        ///< a segment a listener ignores (RST, or neither SYN nor ACK)
  std::uint64_t tx_resets = 0;                ///< RSTs sent by the layer itself (RFC 9293 3.10.7.1)
  std::uint64_t tx_dropped = 0;               ///< refused by IPv4 (no route, ARP queue full, device full)
  std::uint64_t connections_opened = 0;       ///< active and passive, cookies included
  std::uint64_t connections_freed = 0;
  std::uint64_t connection_cap_hit = 0;       ///< a SYN or connect refused: max_connections reached
  std::uint64_t syn_queue_full = 0;           ///< a SYN met a full SYN queue (cookie sent, or dropped)
  std::uint64_t accept_queue_full = 0;        ///< a SYN or cookie ACK dropped: the accept queue was full
  std::uint64_t syn_cookies_sent = 0;
  std::uint64_t syn_cookies_accepted = 0;
  std::uint64_t syn_cookies_rejected = 0;     ///< an ACK whose cookie was forged or expired (answered with RST)
  std::uint64_t time_wait_reused = 0;         ///< TIME-WAIT ended early by a new SYN (RFC 6191)
  std::uint64_t ports_exhausted = 0;          ///< a connect found no free ephemeral port for its destination
  std::uint64_t listeners_full = 0;           ///< listen() refused: max_listeners reached
  std::uint64_t challenge_acks_limited = 0;   ///< challenge ACKs held back by the RFC 5961 7 budget
};

/// The limits and defaults of a layer.
struct layer_options {
  std::size_t max_connections = 4096;   ///< connections of every state at once
  std::size_t max_listeners = 64;
  /// RFC 5961 7: challenge ACKs sent per second, over all connections (Linux: 1000).
  std::uint32_t challenge_acks_per_second = 1000;
  /// Drained send and receive buffers kept for reuse (buffer_pool.hpp); more are freed.
  std::size_t max_cached_buffers = 16;
  /// Per-connection tunables; mss is clamped to the IPv4 MTU - 20.
  connection_config connection{};
};

/// The backlog of one listener (smoltcp #852: one listener, many pending connections).
struct listen_options {
  std::size_t syn_queue = 256;     ///< connections in SYN-RECEIVED (Linux: tcp_max_syn_backlog)
  std::size_t accept_queue = 128;  ///< established, waiting for accept() (Linux: SOMAXCONN)
  bool syn_cookies = true;         ///< answer with a SYN cookie when the SYN queue is full (RFC 4987 3.6)
};

/// Names a connection held by the application; stale once the slot is reused.
struct connection_handle {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  friend constexpr bool operator==(const connection_handle&, const connection_handle&) = default;
};

/// Names a listener; stale once it is closed.
struct listener_handle {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;
};

/// The secrets of a layer (RFC 6528 3, RFC 4987 3.6, RFC 6056 3.3.3): from the OS random source.
struct layer_secrets {
  siphash_key isn, cookies, ports;
  std::uint32_t timestamp_offset = 0;  ///< RFC 7323 5.4: TSval need not start at zero

  template <class Random>
  static layer_secrets from(Random& random) {
    layer_secrets s;
    s.isn = {random(), random()};
    s.cookies = {random(), random()};
    s.ports = {random(), random()};
    s.timestamp_offset = static_cast<std::uint32_t>(random());
    return s;
  }
};

template <ipv4_layer Ip>
class layer {
 public:
  /// `clock` is read once per received segment (the layer below passes no time).
  layer(Ip& ip, clock_ref clock, const layer_secrets& secrets, layer_options options = {})
      : ip_(ip),
        clock_(clock),
        options_(options),
        isn_(secrets.isn),
        cookies_(secrets.cookies),
        ports_(secrets.ports),
        timestamp_offset_(secrets.timestamp_offset),
        buffers_(options.max_cached_buffers),
        table_(options.max_connections) {
    environment_.send = segment_sink::bind<&layer::send_segment>(*this);
    environment_.challenge_ack_allowed = delegate<bool(instant)>::bind<&layer::challenge_ack_allowed>(*this);
    environment_.timestamp_clock = delegate<std::uint32_t(instant)>::bind<&layer::timestamp_clock>(*this);
    environment_.counters = &connection_counters_;
    // The config every new connection gets (and keeps a reference to): the
    // MSS clamped to what the MTU leaves after the TCP header.
    connection_config_ = options_.connection;
    const std::size_t mtu = ip_.mtu();
    const std::size_t room = mtu > 20 ? mtu - wire::tcp::min_header_length : 0;
    connection_config_.mss = static_cast<std::uint16_t>(std::min<std::size_t>({connection_config_.mss, room, 0xffff}));
    environment_.buffers = &buffers_;
    changed_.reserve(64);
    heap_.reserve(64);
    ip_.set_receiver(wire::tcp::ip_protocol, ipv4_handler::bind<&layer::on_datagram>(*this));
  }
  layer(const layer&) = delete;
  layer& operator=(const layer&) = delete;
  ~layer() { ip_.set_receiver(wire::tcp::ip_protocol, {}); }

  // ---- listeners -------------------------------------------------------------

  /// Listens on `port` (0: a free ephemeral port). nullopt when the port is
  /// taken or max_listeners are open.
  std::optional<listener_handle> listen(std::uint16_t port, listen_options backlog = {}) {
    if (port == 0) {
      auto p = ports_.allocate(ipv4_address::any(), {}, [&](std::uint16_t q) { return find_listener(q) != nullptr; });
      if (!p) return std::nullopt;
      port = *p;
    }
    if (find_listener(port)) return std::nullopt;
    std::uint32_t index = 0;
    while (index < listeners_.size() && listeners_[index].open) ++index;
    if (index == listeners_.size()) {
      if (listeners_.size() >= options_.max_listeners) {
        ++counters_.listeners_full;
        return std::nullopt;
      }
      listeners_.emplace_back();
    }
    listener_slot& l = listeners_[index];
    l.open = true;
    ++l.generation;
    l.port = port;
    l.backlog = backlog;
    l.syn_queue_length = 0;
    l.accept_queue.clear();
    l.accept_queue.reserve(backlog.accept_queue);
    l.on_acceptable = {};
    return listener_handle{index, l.generation};
  }

  /// Stops listening: connections not yet accepted are reset (as Linux does).
  void close_listener(listener_handle h, instant now) {
    listener_slot* l = get(h);
    if (!l) return;
    l->open = false;
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      slot& s = slots_[i];
      if (s.conn && s.listener == h.index && s.queue != queue_state::none) {
        s.queue = queue_state::none;
        s.conn->abort(now);
        mark_changed(s);
      }
    }
    l->accept_queue.clear();
    l->syn_queue_length = 0;
    settle(now);
  }

  /// Called whenever a listener's accept queue gains a connection.
  void set_acceptable_handler(listener_handle h, delegate<void()> handler) {
    if (listener_slot* l = get(h)) l->on_acceptable = handler;
  }

  /// The oldest established connection of the accept queue; the caller now holds it.
  std::optional<connection_handle> accept(listener_handle h) {
    listener_slot* l = get(h);
    if (!l || l->accept_queue.empty()) return std::nullopt;
    const connection_handle c = l->accept_queue.front();
    l->accept_queue.erase(l->accept_queue.begin());
    slot& s = slots_[c.slot];
    s.queue = queue_state::none;
    s.held = true;
    return c;
  }

  std::size_t accept_queue_length(listener_handle h) const {
    const listener_slot* l = get(h);
    return l ? l->accept_queue.size() : 0;
  }
  std::size_t syn_queue_length(listener_handle h) const {
    const listener_slot* l = get(h);
    return l ? l->syn_queue_length : 0;
  }
  std::uint16_t listener_port(listener_handle h) const {
    const listener_slot* l = get(h);
    return l ? l->port : 0;
  }
  bool is_listening(listener_handle h) const { return get(h) != nullptr; }

  // ---- active open -----------------------------------------------------------

  enum class connect_error { none, no_address, no_port, too_many_connections };

  /// RFC 9293 3.10.1 OPEN, active: a connection to `to` from an ephemeral
  /// port, which sends its SYN now. The caller holds the handle.
  result<connection_handle, connect_error> connect(ipv4_endpoint to, instant now) {
    const std::optional<ipv4_prefix> me = ip_.address();
    if (!me) return failure{connect_error::no_address};
    if (live_ >= options_.max_connections) {
      ++counters_.connection_cap_hit;
      return failure{connect_error::too_many_connections};
    }
    auto port = ports_.allocate(me->address, to, [&](std::uint16_t p) {
      return table_.find(four_tuple{{me->address, p}, to}, tuple_of()).has_value() || find_listener(p) != nullptr;
    });
    if (!port) {
      ++counters_.ports_exhausted;
      return failure{connect_error::no_port};
    }
    const four_tuple tuple{{me->address, *port}, to};
    slot& s = create(tuple);
    s.held = true;
    s.conn->open(seq{isn_(tuple.local, tuple.remote, now)}, now);
    mark_changed(s);
    const connection_handle h = handle_of(s);
    settle(now);
    return h;
  }

  // ---- connections held by the application ---------------------------------

  /// The connection `h` names, or nullptr when the handle is stale.
  connection* find(connection_handle h) {
    slot* s = slot_of(h);
    return s ? &*s->conn : nullptr;
  }
  const connection* find(connection_handle h) const {
    const slot* s = slot_of(h);
    return s ? &*s->conn : nullptr;
  }

  /// Called after anything that may change the connection (readable, writable, state).
  void set_change_handler(connection_handle h, delegate<void()> handler) {
    if (slot* s = slot_of(h)) s->on_change = handler;
  }

  /// See connection::write: `more` holds the data for the next piece of a gather write.
  std::size_t write(connection_handle h, std::span<const std::byte> data, instant now, bool more = false) {
    return with(h, now, [&](connection& c) { return c.write(data, now, more); });
  }
  std::size_t read(connection_handle h, std::span<std::byte> out, instant now) {
    return with(h, now, [&](connection& c) { return c.read(out, now); });
  }
  void shutdown_send(connection_handle h, instant now) {
    with(h, now, [&](connection& c) { c.shutdown_send(now); return 0; });
  }
  void close(connection_handle h, instant now) {
    with(h, now, [&](connection& c) { c.close(now); return 0; });
  }
  void abort(connection_handle h, instant now) {
    with(h, now, [&](connection& c) { c.abort(now); return 0; });
  }
  /// The application lets go of `h`: the connection carries on (closing) and is
  /// freed when CLOSED. Call close() or abort() first.
  void release(connection_handle h, instant now) {
    slot* s = slot_of(h);
    if (!s) return;
    s->held = false;
    s->on_change = {};
    mark_changed(*s);
    settle(now);
  }

  // ---- timers ----------------------------------------------------------------

  /// Runs the timers of the connections that are due and returns the next
  /// deadline (uk::never when no connection has one).
  instant poll(instant now) {
    while (!heap_.empty() && heap_.front().deadline <= now) {
      const timer_entry due = heap_.front();
      std::pop_heap(heap_.begin(), heap_.end(), later);
      heap_.pop_back();
      if (is_stale(due)) continue;
      slot& s = slots_[due.slot];
      s.armed = never;
      if (s.scheduled > now) {
        // The connection's deadline moved later since this entry was pushed
        // (a timer restarted by an ACK): put it back at the new time.
        if (s.scheduled != never) arm(s, s.scheduled);
        continue;
      }
      s.scheduled = never;
      s.conn->poll(now);
      mark_changed(s);
    }
    settle(now);
    return next_deadline();
  }

  /// When poll() should run next: never later than the earliest deadline of
  /// a connection, and at most one early wake per connection whose deadline
  /// moved later (see reschedule()).
  instant next_deadline() const { return heap_.empty() ? never : heap_.front().deadline; }

  // ---- inspection ------------------------------------------------------------

  /// Connections in the table (every state, held or not).
  std::size_t connection_count() const noexcept { return live_; }
  /// Slots allocated so far (they are reused; never more than max_connections).
  std::size_t slot_count() const noexcept { return slots_.size(); }
  std::size_t listener_count() const noexcept {
    return static_cast<std::size_t>(std::count_if(listeners_.begin(), listeners_.end(),
                                                  [](const listener_slot& l) { return l.open; }));
  }
  const layer_counters& counters() const noexcept { return counters_; }
  /// The storage of the connections' buffers, and its counters.
  const buffer_pool& buffers() const noexcept { return buffers_; }
  const layer_options& options() const noexcept { return options_; }
  /// What all connections counted, added up (the counters are shared, as in `netstat -s`).
  const connection_counters& connection_totals() const noexcept { return connection_counters_; }
  /// The connection config every new connection gets (mss clamped to the MTU).
  const connection_config& connection_defaults() const noexcept { return connection_config_; }

  /// Visits every connection in the table (tests, diagnostics).
  template <class F>
  void for_each_connection(F&& f) const {
    slots_.for_each([&](const slot& s) {
      if (s.conn) f(*s.conn);
    });
  }

 private:
  enum class queue_state : std::uint8_t { none, syn_queue, accept_queue };

  struct slot {
    std::optional<connection> conn;
    std::uint32_t index = 0;
    std::uint32_t generation = 0;
    bool held = false;          // the application has a handle
    bool in_table = false;      // reachable by its tuple
    bool changed = false;       // on the changed_ list
    queue_state queue = queue_state::none;
    std::uint32_t listener = 0; // when queued: the listener's index
    instant scheduled = never;  // the connection's next deadline, as last seen
    instant armed = never;      // the deadline of its one live heap entry (never: none)
    delegate<void()> on_change; // the application's
    layer* owner = nullptr;

    void connection_changed() { owner->mark_changed(*this); }
  };

  /// Slots stored contiguously in blocks of `block_size`: stable addresses,
  /// one allocation per block rather than per connection.
  class slot_store {
   public:
    static constexpr std::size_t block_size = 64;
    std::size_t size() const noexcept { return size_; }
    slot& operator[](std::size_t i) noexcept { return blocks_[i / block_size][i % block_size]; }
    const slot& operator[](std::size_t i) const noexcept { return blocks_[i / block_size][i % block_size]; }
    slot& emplace_back() {
      if (size_ == blocks_.size() * block_size) blocks_.push_back(std::make_unique<slot[]>(block_size));
      return (*this)[size_++];
    }
    slot& back() noexcept { return (*this)[size_ - 1]; }
    template <class F>
    void for_each(F&& f) const {
      for (std::size_t i = 0; i < size_; ++i) f((*this)[i]);
    }
    template <class F>
    void for_each(F&& f) {
      for (std::size_t i = 0; i < size_; ++i) f((*this)[i]);
    }

   private:
    std::vector<std::unique_ptr<slot[]>> blocks_;
    std::size_t size_ = 0;
  };

  struct listener_slot {
    bool open = false;
    std::uint32_t generation = 0;
    std::uint16_t port = 0;
    listen_options backlog{};
    std::size_t syn_queue_length = 0;
    std::vector<connection_handle> accept_queue;  // capacity reserved at listen
    delegate<void()> on_acceptable;
  };

  struct timer_entry {
    instant deadline;
    std::uint32_t slot;
    std::uint32_t generation;
  };
  static bool later(const timer_entry& a, const timer_entry& b) { return a.deadline > b.deadline; }

  // ---- slots -------------------------------------------------------------------

  slot& create(const four_tuple& tuple) {
    std::uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
      slots_.back().index = index;
      slots_.back().owner = this;
    }
    slot& s = slots_[index];
    s.conn.emplace(tuple, connection_defaults(), environment_);
    s.conn->set_change_handler(delegate<void()>::bind<&slot::connection_changed>(s));
    s.held = false;
    s.changed = false;
    s.queue = queue_state::none;
    s.scheduled = s.armed = never;
    s.on_change = {};
    s.in_table = true;
    table_.insert(tuple, index);
    ++live_;
    ++counters_.connections_opened;
    return s;
  }

  void destroy(slot& s) {
    if (s.in_table) table_.erase(s.conn->tuple(), tuple_of());
    s.in_table = false;
    s.conn.reset();
    ++s.generation;  // stale handles and heap entries no longer match
    s.scheduled = s.armed = never;
    s.on_change = {};
    s.held = false;
    free_.push_back(s.index);
    --live_;
    ++counters_.connections_freed;
  }

  slot* slot_of(connection_handle h) {
    if (h.slot >= slots_.size()) return nullptr;
    slot& s = slots_[h.slot];
    return s.conn && s.generation == h.generation ? &s : nullptr;
  }
  const slot* slot_of(connection_handle h) const {
    if (h.slot >= slots_.size()) return nullptr;
    const slot& s = slots_[h.slot];
    return s.conn && s.generation == h.generation ? &s : nullptr;
  }
  static connection_handle handle_of(const slot& s) { return {s.index, s.generation}; }
  /// For the table: the tuple of a slot it holds (such a slot always has its connection).
  auto tuple_of() const {
    return [this](std::uint32_t index) -> const four_tuple& { return slots_[index].conn->tuple(); };
  }

  listener_slot* get(listener_handle h) {
    if (h.index >= listeners_.size()) return nullptr;
    listener_slot& l = listeners_[h.index];
    return l.open && l.generation == h.generation ? &l : nullptr;
  }
  const listener_slot* get(listener_handle h) const {
    if (h.index >= listeners_.size()) return nullptr;
    const listener_slot& l = listeners_[h.index];
    return l.open && l.generation == h.generation ? &l : nullptr;
  }
  listener_slot* find_listener(std::uint16_t port) {
    for (auto& l : listeners_)
      if (l.open && l.port == port) return &l;
    return nullptr;
  }
  std::uint32_t index_of(const listener_slot& l) const { return static_cast<std::uint32_t>(&l - listeners_.data()); }

  template <class F>
  std::size_t with(connection_handle h, instant now, F&& f) {
    slot* s = slot_of(h);
    if (!s) return 0;
    const std::size_t n = f(*s->conn);
    mark_changed(*s);
    settle(now);
    return n;
  }

  // ---- after every call into connections ---------------------------------------

  void mark_changed(slot& s) {
    if (s.changed) return;
    s.changed = true;
    changed_.push_back(s.index);
  }

  /// Acts on every connection that changed: reschedules its timer, moves it
  /// along its listener's queues, tells the application, frees it when CLOSED.
  void settle(instant now) {
    // The application's handlers may not call back into the layer (the
    // service posts its completions), so the list only grows from connections.
    for (std::size_t i = 0; i < changed_.size(); ++i) {
      slot& s = slots_[changed_[i]];
      s.changed = false;
      if (!s.conn) continue;
      connection& c = *s.conn;
      const state st = c.current_state();
      if (s.queue == queue_state::syn_queue && st != state::syn_received) promote(s, now);
      if (st == state::closed) {
        if (s.in_table) {
          table_.erase(c.tuple(), tuple_of());
          s.in_table = false;
        }
        if (s.queue == queue_state::accept_queue) unqueue(s);
        if (s.on_change) s.on_change();
        if (!s.held && s.queue == queue_state::none) destroy(s);
        continue;
      }
      reschedule(s);
      if (s.on_change) s.on_change();
    }
    changed_.clear();
    if (heap_.size() > 2 * live_ + 64) rebuild_heap();
    // Keep the top current, so next_deadline() is exact: stale entries below it wait their turn.
    while (!heap_.empty() && is_stale(heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      heap_.pop_back();
    }
  }

  bool is_stale(const timer_entry& e) const {
    const slot& s = slots_[e.slot];
    return !s.conn || s.generation != e.generation || s.armed != e.deadline;
  }

  /// A passive connection left SYN-RECEIVED: to the accept queue when the
  /// handshake completed, out of the backlog when it failed.
  void promote(slot& s, instant now) {
    listener_slot& l = listeners_[s.listener];
    if (l.syn_queue_length > 0) --l.syn_queue_length;
    s.queue = queue_state::none;
    const state st = s.conn->current_state();
    if (st == state::closed || st == state::syn_sent) return;
    enqueue_accepted(l, s, now);
  }

  void enqueue_accepted(listener_slot& l, slot& s, instant now) {
    if (!l.open) return;
    if (l.accept_queue.size() >= l.backlog.accept_queue) {
      ++counters_.accept_queue_full;
      log::debug(log::source::tcp, "accept queue of port {} full: reset {}", l.port, s.conn->tuple().remote);
      s.conn->abort(now);
      return;
    }
    s.queue = queue_state::accept_queue;
    s.listener = index_of(l);
    l.accept_queue.push_back(handle_of(s));
    if (l.on_acceptable) l.on_acceptable();
  }

  void unqueue(slot& s) {
    listener_slot& l = listeners_[s.listener];
    auto it = std::find(l.accept_queue.begin(), l.accept_queue.end(), handle_of(s));
    if (it != l.accept_queue.end()) l.accept_queue.erase(it);
    s.queue = queue_state::none;
  }

  void reschedule(slot& s) {
    // A deadline that moved later keeps its earlier heap entry, which poll()
    // re-arms when it comes up: a retransmission timer restarted by every
    // ACK costs no heap operation. Only an earlier deadline is pushed.
    const instant d = s.conn->next_deadline();
    s.scheduled = d;
    if (d < s.armed) arm(s, d);
  }

  void arm(slot& s, instant d) {
    s.armed = d;  // an older entry of this slot goes stale
    // Stale entries make room before the heap grows: the hot path stays allocation-free.
    if (heap_.size() == heap_.capacity() && heap_.size() > live_) {
      rebuild_heap();  // from every slot's `scheduled`: this one's new deadline included
      return;
    }
    heap_.push_back({d, s.index, s.generation});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }

  void rebuild_heap() {
    heap_.clear();
    slots_.for_each([&](slot& s) {
      s.armed = s.conn ? s.scheduled : never;
      if (s.armed != never) heap_.push_back({s.armed, s.index, s.generation});
    });
    std::make_heap(heap_.begin(), heap_.end(), later);
  }

  // ---- receive -----------------------------------------------------------------

  void on_datagram(const ipv4_datagram_info& info, frame payload) {
    auto parsed = wire::tcp::parse(payload, info.source, info.destination);
    if (!parsed) {
      if (parsed.error() == wire::error::bad_checksum)
        ++counters_.rx_bad_checksum;
      else
        ++counters_.rx_malformed;
      log::debug(log::source::tcp, "dropped a segment from {}: {}", info.source, wire::to_string(parsed.error()));
      return;
    }
    // RFC 1122 4.2.3.10: a SYN to a broadcast or multicast address is discarded;
    // TCP is point to point, so no segment to or from one is valid.
    const std::optional<ipv4_prefix> me = ip_.address();
    auto not_unicast = [&](ipv4_address a) {
      return a.is_broadcast() || a.is_multicast() || a.is_unspecified() || (me && me->length < 31 && a == me->subnet_broadcast());
    };
    if (not_unicast(info.source) || not_unicast(info.destination)) {
      ++counters_.rx_bad_address;
      return;
    }
    ++counters_.rx_segments;
    const instant now = clock_();
    const wire::tcp::view& seg = *parsed;
    const four_tuple tuple{{info.destination, seg.destination_port()}, {info.source, seg.source_port()}};

    if (const auto index = table_.find(tuple, tuple_of())) {
      slot& s = slots_[*index];
      // RFC 6191 / RFC 9293 3.6.1: a new SYN may end TIME-WAIT early.
      if (seg.syn() && !seg.ack() && !seg.rst() && s.conn->current_state() == state::time_wait &&
          s.conn->accepts_new_syn(seg)) {
        if (listener_slot* l = find_listener(tuple.local.port)) {
          ++counters_.time_wait_reused;
          table_.erase(tuple, tuple_of());
          s.in_table = false;
          s.conn->abort(now);  // TIME-WAIT has nothing to reset: CLOSED quietly
          mark_changed(s);
          settle(now);
          on_listen(*l, tuple, seg, now);
          settle(now);
          return;
        }
      }
      s.conn->on_segment(seg, now);
      mark_changed(s);
      settle(now);
      return;
    }
    if (listener_slot* l = find_listener(tuple.local.port)) {
      on_listen(*l, tuple, seg, now);
      settle(now);
      return;
    }
    ++counters_.rx_no_connection;
    log::debug(log::source::tcp, "no connection for {} -> {}", tuple.remote, tuple.local);
    reset_for(tuple, seg);
  }

  /// RFC 9293 3.10.7.2: a segment to a listener.
  void on_listen(listener_slot& l, const four_tuple& tuple, const wire::tcp::view& seg, instant now) {
    if (seg.rst()) {  // "An incoming RST segment could not be valid ... it should be ignored"
      ++counters_.rx_dropped_listen;
      return;
    }
    if (seg.ack() && !seg.syn()) {
      // "Any acknowledgment is bad if it arrives on a connection still in the
      // LISTEN state": unless it brings back one of our SYN cookies.
      if (l.backlog.syn_cookies && try_cookie(l, tuple, seg, now)) return;
      reset_for(tuple, seg);
      return;
    }
    if (!seg.syn() || seg.ack()) {
      ++counters_.rx_dropped_listen;  // "Any other control or text-bearing segment ... drop it"
      return;
    }
    if (l.accept_queue.size() >= l.backlog.accept_queue) {
      ++counters_.accept_queue_full;  // as Linux: the peer retransmits its SYN later
      log::debug(log::source::tcp, "accept queue of port {} full: dropped a SYN from {}", l.port, tuple.remote);
      return;
    }
    if (l.syn_queue_length >= l.backlog.syn_queue) {
      ++counters_.syn_queue_full;
      if (l.backlog.syn_cookies) send_cookie(tuple, seg, now);
      else log::debug(log::source::tcp, "SYN queue of port {} full: dropped a SYN from {}", l.port, tuple.remote);
      return;
    }
    if (live_ >= options_.max_connections) {
      ++counters_.connection_cap_hit;
      log::debug(log::source::tcp, "connection cap {} reached: dropped a SYN from {}", options_.max_connections,
                 tuple.remote);
      return;
    }
    slot& s = create(tuple);
    s.queue = queue_state::syn_queue;
    s.listener = index_of(l);
    ++l.syn_queue_length;
    s.conn->open_from_syn(seq{isn_(tuple.local, tuple.remote, now)}, seg, now);
    mark_changed(s);
  }

  // ---- SYN cookies (RFC 4987 3.6) --------------------------------------------------

  /// Our window scale: the smallest shift that lets the receive buffer be
  /// advertised (RFC 7323 2.3), as the connection computes it for its SYNs.
  static std::uint8_t window_scale_for(std::size_t receive_buffer) {
    std::uint8_t shift = 0;
    while (shift < wire::tcp::max_window_scale && (receive_buffer >> shift) > 0xffff) ++shift;
    return shift;
  }

  void send_cookie(const four_tuple& tuple, const wire::tcp::view& syn, instant now) {
    const connection_config& config = connection_defaults();
    const auto peer = syn.options();
    const std::uint16_t peer_mss = std::min<std::uint16_t>(peer.mss.value_or(536), config.mss);
    outgoing_segment out;
    wire::tcp::repr& h = out.header;
    h.source_port = tuple.local.port;
    h.destination_port = tuple.remote.port;
    h.sequence_number = cookies_.make(tuple, seq{syn.sequence_number()}, peer_mss, now).value;
    h.acknowledgment_number = syn.sequence_number() + 1;
    h.flags = wire::tcp::flags::syn | wire::tcp::flags::ack;
    // RFC 7323 2.2: the window of a SYN-ACK is never scaled.
    h.window = static_cast<std::uint16_t>(std::min<std::size_t>(config.receive_buffer, 0xffff));
    h.options.mss = config.mss;
    if (peer.timestamps && config.timestamps) {
      cookie_options kept;
      if (peer.window_scale && config.window_scaling) kept.window_scale = *peer.window_scale;
      // RFC 2018 2: SACK-permitted answered only when the SYN offered it; the
      // cookie keeps it in the timestamp for the connection made from the ACK.
      kept.sack_permitted = peer.sack_permitted && config.sack;
      h.options.sack_permitted = kept.sack_permitted;
      h.options.timestamps = wire::tcp::timestamps_option{
          syn_cookies::encode_timestamp(timestamp_clock(now), kept), peer.timestamps->tsval};
      if (kept.window_scale) h.options.window_scale = window_scale_for(config.receive_buffer);
    }
    ++counters_.syn_cookies_sent;
    send_segment(tuple, out);
  }

  bool try_cookie(listener_slot& l, const four_tuple& tuple, const wire::tcp::view& ack, instant now) {
    const seq peer_isn = seq{ack.sequence_number()} - 1;
    const seq our_isn = seq{ack.acknowledgment_number()} - 1;
    const auto mss = cookies_.check(tuple, peer_isn, our_isn, now);
    if (!mss) {
      ++counters_.syn_cookies_rejected;
      return false;
    }
    if (l.accept_queue.size() >= l.backlog.accept_queue) {
      ++counters_.accept_queue_full;
      return true;  // dropped: the peer's retransmission may find room
    }
    if (live_ >= options_.max_connections) {
      ++counters_.connection_cap_hit;
      return true;
    }
    connection::cookie_handshake hs;
    hs.iss = our_isn;
    hs.irs = peer_isn;
    hs.peer_mss = *mss;
    const auto opts = ack.options();
    if (opts.timestamps) {
      const cookie_options kept = syn_cookies::decode_timestamp(opts.timestamps->tsecr);
      hs.peer_window_scale = kept.window_scale;
      hs.peer_sack_permitted = kept.sack_permitted;
      hs.timestamps = opts.timestamps;
    }
    ++counters_.syn_cookies_accepted;
    slot& s = create(tuple);
    s.conn->open_from_cookie(hs, ack, now);
    mark_changed(s);
    enqueue_accepted(l, s, now);
    return true;
  }

  // ---- send --------------------------------------------------------------------

  /// RFC 9293 3.10.7.1: the reset for a segment that no connection wants.
  void reset_for(const four_tuple& tuple, const wire::tcp::view& seg) {
    if (seg.rst()) return;  // "An incoming segment containing a RST is discarded"
    outgoing_segment out;
    wire::tcp::repr& h = out.header;
    h.source_port = tuple.local.port;
    h.destination_port = tuple.remote.port;
    if (seg.ack()) {
      // "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"
      h.sequence_number = seg.acknowledgment_number();
      h.flags = wire::tcp::flags::rst;
    } else {
      // "If the ACK bit is off, sequence number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"
      const auto length = static_cast<std::uint32_t>(seg.payload().size()) + (seg.syn() ? 1u : 0u) + (seg.fin() ? 1u : 0u);
      h.sequence_number = 0;
      h.acknowledgment_number = seg.sequence_number() + length;
      h.flags = wire::tcp::flags::rst | wire::tcp::flags::ack;
    }
    ++counters_.tx_resets;
    send_segment(tuple, out);
  }

  /// The segment sink of every connection: header and payload written once, in place.
  bool send_segment(const four_tuple& tuple, const outgoing_segment& out) {
    const wire::tcp::repr& h = out.header;
    const std::size_t size = h.header_length() + h.payload_length;
    auto fill = [&](std::span<std::byte> buffer) -> std::size_t {
      if (buffer.size() < size) return 0;
      std::size_t at = h.header_length();
      for (const auto& piece : out.payload) {
        if (piece.empty()) continue;
        std::memcpy(buffer.data() + at, piece.data(), piece.size());
        at += piece.size();
      }
      assert(at == size);
      wire::tcp::emit(h, buffer, tuple.local.address, tuple.remote.address);
      return size;
    };
    if (!ip_.transmit(tuple.remote.address, wire::tcp::ip_protocol, size, frame_filler(fill))) {
      ++counters_.tx_dropped;
      return false;
    }
    ++counters_.tx_segments;
    return true;
  }

  // ---- shared with the connections ------------------------------------------------

  /// RFC 5961 7: at most challenge_acks_per_second challenge ACKs in any one-second window.
  bool challenge_ack_allowed(instant now) {
    if (now - challenge_window_start_ >= std::chrono::seconds(1)) {
      challenge_window_start_ = now;
      challenge_acks_in_window_ = 0;
    }
    if (challenge_acks_in_window_ >= options_.challenge_acks_per_second) {
      ++counters_.challenge_acks_limited;
      return false;
    }
    ++challenge_acks_in_window_;
    return true;
  }

  /// RFC 7323 5.4: a TSval clock of one tick per millisecond, from a random offset.
  std::uint32_t timestamp_clock(instant now) const {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    return static_cast<std::uint32_t>(ms) + timestamp_offset_;
  }

  Ip& ip_;
  clock_ref clock_;
  layer_options options_;
  isn_generator isn_;
  syn_cookies cookies_;
  port_allocator ports_;
  std::uint32_t timestamp_offset_;
  connection_environment environment_{};
  connection_config connection_config_{};      // every connection keeps a reference: declared before the slots
  connection_counters connection_counters_{};
  buffer_pool buffers_;  // outlives the connections (declared before their slots)
  slot_store slots_;
  std::vector<std::uint32_t> free_;
  tuple_table table_;  // sized once for max_connections
  std::vector<listener_slot> listeners_;
  std::vector<timer_entry> heap_;
  std::vector<std::uint32_t> changed_;
  std::size_t live_ = 0;
  instant challenge_window_start_{};
  std::uint32_t challenge_acks_in_window_ = 0;
  layer_counters counters_;
};

}  // namespace uk::direct::tcp
