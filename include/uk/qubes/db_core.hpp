// uk::qubes::db_core: the VM side of QubesDB over vchan as a sans-IO state
// machine (qubes-protocols.md section 1.5; mirage-qubes' DB does the same).
// No Asio, no clock, no I/O: the device (uk/qubes/db.hpp) feeds it the bytes
// dom0 sends and writes out what it produces.
//
//   connected()            a channel to dom0 is open: queues the one MULTIREAD
//                          (empty path) of this connection (1.5 step 1)
//   receive(bytes)         dom0's bytes, any split: the MULTIREAD answer (one
//                          RESP_MULTIREAD per entry, then the end marker, 1.4),
//                          then pushed WRITE and RM, each applied and answered
//                          RESP_OK with the same path (1.5 steps 3-4)
//   take_output(buffer)    what to send to dom0
//   write(), remove()      local changes, applied at once and forwarded to
//                          dom0 once it has answered the MULTIREAD (1.5 step 5)
//   disconnected()         the channel is gone; the next connected() starts
//                          over with a fresh MULTIREAD, whose answer replaces
//                          the database (entries dom0 dropped meanwhile go)
//
// Never sent, because the dom0 daemon treats them as fatal (1.5): a second
// MULTIREAD on one connection, an RM of a path the database does not hold,
// an invalid path or value. An RM pushed for a path this side lacks is
// ignored (and answered), as section 1.5 advises a reimplementation.
//
// Bounds: the number of entries (max_entries; a write of a new key beyond it
// is refused and counted), the local changes waiting for a sync
// (max_pending_changes), and the unsent output (max_output_bytes). Input is
// taken one message at a time (at most 72 + 3071 bytes). Malformed input is
// counted: a message with a bad type, path or value is skipped by its
// data_len; a data_len >= 3072 leaves no way to find the next message, so
// receive() returns false and the device drops the connection (and
// reconnects, with a fresh MULTIREAD).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uk/delegate.hpp"
#include "uk/log.hpp"
#include "uk/wire/qubes_db.hpp"

namespace uk::qubes {

namespace qdb = wire::qubes_db;

/// The bounds of one database.
struct db_limits {
  std::size_t max_entries = 4096;         ///< entries held (dom0 writes ~30 for a plain AppVM)
  std::size_t max_pending_changes = 256;  ///< local changes made before dom0 answered the MULTIREAD
  std::size_t max_output_bytes = 1 << 20; ///< bytes queued for dom0 and not yet taken
};

/// What the core counts.
struct db_counters {
  std::uint64_t messages_received = 0;
  std::uint64_t syncs = 0;                   ///< MULTIREAD answers completed
  std::uint64_t entries_synced = 0;          ///< RESP_MULTIREAD entries received
  std::uint64_t pushed_writes = 0;           ///< WRITE from dom0, applied
  std::uint64_t pushed_removes = 0;          ///< RM from dom0 that removed something
  std::uint64_t removes_of_missing = 0;      ///< RM from dom0 for a path not held: ignored
  std::uint64_t acks_received = 0;           ///< RESP_OK from dom0 (to our WRITE/RM)
  std::uint64_t errors_received = 0;         ///< RESP_ERROR / RESP_ERROR_NOENT from dom0
  std::uint64_t local_writes = 0, local_removes = 0;
  std::uint64_t dropped_malformed = 0;       ///< bad type, path or value: skipped
  std::uint64_t dropped_unexpected = 0;      ///< a valid message dom0 never sends on the vchan
  std::uint64_t entries_refused_full = 0;    ///< new keys beyond max_entries
  std::uint64_t pending_refused_full = 0;    ///< local changes beyond max_pending_changes
  std::uint64_t output_overflows = 0;        ///< output beyond max_output_bytes
  std::uint64_t protocol_errors = 0;         ///< the stream lost its framing: connection dropped
};

/// One change of the database, as the change handler sees it (valid during the call).
struct db_change {
  enum class kind : std::uint8_t { written, removed };
  kind what = kind::written;
  std::string_view path;
  std::string_view value;  ///< the new value (empty for removed)
};

enum class db_state : std::uint8_t {
  disconnected,  ///< no channel to dom0
  syncing,       ///< MULTIREAD sent, its answer not complete
  synced,        ///< dom0 answered: changes flow both ways
};

/// What a local write or remove did.
enum class db_local_result : std::uint8_t {
  done,           ///< applied, and forwarded to dom0 (or queued until the sync ends)
  invalid_path,   ///< not a path the daemons accept (section 1.3), or empty
  invalid_value,  ///< longer than 3071 bytes or holding a NUL
  no_such_key,    ///< remove() of a path (or prefix) the database does not hold: nothing sent
  full,           ///< a bound was hit (entries, pending changes, output): counted, nothing done
};

constexpr std::string_view to_string(db_local_result r) noexcept {
  switch (r) {
    case db_local_result::done: return "done";
    case db_local_result::invalid_path: return "invalid path";
    case db_local_result::invalid_value: return "invalid value";
    case db_local_result::no_such_key: return "no such key";
    case db_local_result::full: return "full";
  }
  return "unknown";
}

class db_core {
 public:
  using entry_map = std::map<std::string, std::string, std::less<>>;

  explicit db_core(db_limits limits = {}) : limits_(limits) {}

  // ---- the connection ------------------------------------------------------

  /// A channel to dom0 is open: queues this connection's only MULTIREAD (empty path: everything).
  void connected() {
    input_size_ = 0;
    output_.clear();
    staging_.clear();
    state_ = db_state::syncing;
    std::array<std::byte, qdb::header_length> m{};
    qdb::emit_header(m, qdb::message_type::multiread, "", 0);
    output_.insert(output_.end(), m.begin(), m.end());
  }

  /// The channel is gone: unsent output and a partial message are dropped.
  /// The entries stay readable until the next sync replaces them.
  void disconnected() {
    state_ = db_state::disconnected;
    input_size_ = 0;
    output_.clear();
    staging_.clear();
  }

  db_state state() const noexcept { return state_; }

  /// Takes dom0's bytes. Returns false when the connection must be dropped:
  /// a data_len >= 3072 (no way to find the next message) or output beyond its bound.
  bool receive(std::span<const std::byte> bytes) {
    if (state_ == db_state::disconnected) return false;
    while (!bytes.empty()) {
      const std::size_t want = wanted();
      const std::size_t n = std::min(want - input_size_, bytes.size());
      std::copy_n(bytes.begin(), n, input_.begin() + static_cast<std::ptrdiff_t>(input_size_));
      input_size_ += n;
      bytes = bytes.subspan(n);
      if (input_size_ < qdb::header_length) continue;
      const std::uint32_t data_len = qdb::detail::load_le32(input_.data() + qdb::field::data_len);
      if (data_len >= qdb::max_data) {
        ++counters_.protocol_errors;
        log::debug(log::source::qubes_db, "data_len {} from dom0: the stream cannot be followed", data_len);
        return false;
      }
      if (input_size_ < qdb::header_length + data_len) continue;
      input_size_ = 0;
      ++counters_.messages_received;
      handle(std::span<const std::byte>(input_.data(), qdb::header_length + data_len));
      if (broken_) {
        broken_ = false;
        return false;
      }
    }
    return true;
  }

  /// Moves the bytes to send to dom0 into `into` (which the caller owns while writing them).
  void take_output(std::vector<std::byte>& into) {
    into.clear();
    std::swap(into, output_);
  }
  bool has_output() const noexcept { return !output_.empty(); }

  // ---- the database --------------------------------------------------------

  const std::string* find(std::string_view path) const {
    const auto it = entries_.find(path);
    return it == entries_.end() ? nullptr : &it->second;
  }
  const entry_map& entries() const noexcept { return entries_; }

  /// Writes locally and forwards to dom0 (section 1.5 step 5).
  db_local_result write(std::string_view path, std::string_view value) {
    if (path.empty() || !qdb::valid_path(path)) return db_local_result::invalid_path;
    if (!qdb::valid_value(value)) return db_local_result::invalid_value;
    if (!entries_.contains(path) && entries_.size() >= limits_.max_entries) {
      ++counters_.entries_refused_full;
      log::debug(log::source::qubes_db, "local write of {} refused: {} entries", path, entries_.size());
      return db_local_result::full;
    }
    if (!forward_or_queue(qdb::message_type::write, path, value)) return db_local_result::full;
    ++counters_.local_writes;
    apply_write(entries_, path, value, true);
    return db_local_result::done;
  }

  /// Removes locally and forwards to dom0; a path ending in '/' removes every
  /// entry under it. A path the database does not hold is not sent (dom0
  /// would exit on it, section 1.5).
  db_local_result remove(std::string_view path) {
    if (path.empty() || !qdb::valid_path(path)) return db_local_result::invalid_path;
    if (!holds(entries_, path)) return db_local_result::no_such_key;
    if (!forward_or_queue(qdb::message_type::rm, path, {})) return db_local_result::full;
    ++counters_.local_removes;
    apply_remove(entries_, path, true);
    return db_local_result::done;
  }

  /// Called with every change of the entries: pushed by dom0, made locally,
  /// or found by a sync (the differences from the previous entries).
  void set_change_handler(delegate<void(const db_change&)> h) noexcept { on_change_ = h; }

  /// Counts the changes so far: waiters compare it.
  std::uint64_t generation() const noexcept { return generation_; }

  const db_counters& counters() const noexcept { return counters_; }
  const db_limits& limits() const noexcept { return limits_; }

 private:
  struct pending_change {
    qdb::message_type type;
    std::string path, value;
  };

  std::size_t wanted() const noexcept {
    if (input_size_ < qdb::header_length) return qdb::header_length;
    return qdb::header_length + qdb::detail::load_le32(input_.data() + qdb::field::data_len);
  }

  void handle(std::span<const std::byte> message) {
    const auto header = qdb::parse_header(message);
    if (!header) {
      ++counters_.dropped_malformed;
      log::debug(log::source::qubes_db, "dropped a malformed message from dom0: {}", wire::to_string(header.error()));
      return;
    }
    const auto value = qdb::parse_value(message.subspan(qdb::header_length));
    if (!value) {
      ++counters_.dropped_malformed;
      log::debug(log::source::qubes_db, "dropped {} {}: the value holds a NUL", qdb::to_string(header->type),
                 header->path);
      return;
    }
    switch (header->type) {
      case qdb::message_type::resp_multiread: return on_multiread_entry(*header, *value);
      case qdb::message_type::write: return on_pushed_write(header->path, *value);
      case qdb::message_type::rm: return on_pushed_remove(header->path);
      case qdb::message_type::resp_ok: ++counters_.acks_received; return;
      case qdb::message_type::resp_error:
      case qdb::message_type::resp_error_noent:
        ++counters_.errors_received;
        log::debug(log::source::qubes_db, "dom0 answered {} for {}", qdb::to_string(header->type), header->path);
        return;
      default:
        ++counters_.dropped_unexpected;
        log::debug(log::source::qubes_db, "dropped {} {}: not a message dom0 sends on the vchan",
                   qdb::to_string(header->type), header->path);
        return;
    }
  }

  // Section 1.4: one RESP_MULTIREAD per entry, then one with an empty path and no value.
  void on_multiread_entry(const qdb::header& h, std::string_view value) {
    if (state_ != db_state::syncing) {
      ++counters_.dropped_unexpected;
      log::debug(log::source::qubes_db, "dropped RESP_MULTIREAD {}: no MULTIREAD pending", h.path);
      return;
    }
    if (h.is_multiread_end()) return finish_sync();
    if (h.path.empty()) {
      ++counters_.dropped_malformed;
      return;
    }
    ++counters_.entries_synced;
    if (!staging_.contains(h.path) && staging_.size() >= limits_.max_entries) {
      ++counters_.entries_refused_full;
      log::debug(log::source::qubes_db, "sync entry {} dropped: {} entries", h.path, staging_.size());
      return;
    }
    staging_.insert_or_assign(std::string(h.path), std::string(value));
  }

  void finish_sync() {
    // The answer replaces the entries; the differences are changes.
    entry_map old = std::exchange(entries_, std::move(staging_));
    staging_.clear();
    state_ = db_state::synced;
    ++counters_.syncs;
    log::debug(log::source::qubes_db, "synchronised with dom0: {} entries", entries_.size());
    for (const auto& [path, value] : old)
      if (!entries_.contains(path)) notify(db_change::kind::removed, path, {});
    for (const auto& [path, value] : entries_) {
      const auto it = old.find(path);
      if (it == old.end() || it->second != value) notify(db_change::kind::written, path, value);
    }
    // Local changes made while dom0 was away go now, against the fresh entries.
    auto pending = std::exchange(pending_, {});
    for (const auto& change : pending) {
      if (change.type == qdb::message_type::write)
        write(change.path, change.value);
      else
        remove(change.path);
    }
  }

  // Section 1.5 step 4: apply, answer RESP_OK with the same path.
  void on_pushed_write(std::string_view path, std::string_view value) {
    if (path.empty()) {
      ++counters_.dropped_malformed;
      return;
    }
    auto& target = state_ == db_state::syncing ? staging_ : entries_;
    if (!target.contains(path) && target.size() >= limits_.max_entries) {
      ++counters_.entries_refused_full;
      log::debug(log::source::qubes_db, "pushed write of {} dropped: {} entries", path, target.size());
    } else {
      ++counters_.pushed_writes;
      apply_write(target, path, value, &target == &entries_);
    }
    acknowledge(path);
  }

  void on_pushed_remove(std::string_view path) {
    if (path.empty()) {
      ++counters_.dropped_malformed;
      return;
    }
    auto& target = state_ == db_state::syncing ? staging_ : entries_;
    if (holds(target, path)) {
      ++counters_.pushed_removes;
      apply_remove(target, path, &target == &entries_);
    } else {
      ++counters_.removes_of_missing;  // upstream's VM daemon dies here; section 1.5 says ignore
      log::debug(log::source::qubes_db, "dom0 removed {}, which is not here: ignored", path);
    }
    acknowledge(path);
  }

  void acknowledge(std::string_view path) {
    if (!append(qdb::message_type::resp_ok, path, {})) broken_ = true;
  }

  /// Sends a local change now if dom0 has answered the MULTIREAD, else keeps it for then.
  bool forward_or_queue(qdb::message_type type, std::string_view path, std::string_view value) {
    if (state_ == db_state::synced) return append(type, path, value);
    if (pending_.size() >= limits_.max_pending_changes) {
      ++counters_.pending_refused_full;
      log::debug(log::source::qubes_db, "local change of {} refused: {} changes wait for dom0", path,
                 pending_.size());
      return false;
    }
    pending_.push_back({type, std::string(path), std::string(value)});
    return true;
  }

  bool append(qdb::message_type type, std::string_view path, std::string_view value) {
    const std::size_t size = qdb::header_length + value.size();
    if (output_.size() + size > limits_.max_output_bytes) {
      ++counters_.output_overflows;
      log::debug(log::source::qubes_db, "{} {} not sent: {} bytes wait for dom0", qdb::to_string(type), path,
                 output_.size());
      return false;
    }
    const std::size_t at = output_.size();
    output_.resize(at + size);
    qdb::emit_message(std::span<std::byte>(output_).subspan(at), type, path, value);
    return true;
  }

  /// Whether `path` (or, ending in '/', any entry under it) is held.
  static bool holds(const entry_map& m, std::string_view path) {
    if (path.back() != '/') return m.contains(path);
    const auto it = m.lower_bound(path);
    return it != m.end() && it->first.starts_with(path);
  }

  void apply_write(entry_map& m, std::string_view path, std::string_view value, bool notify_change) {
    const auto it = m.find(path);
    if (it == m.end())
      m.emplace(std::string(path), std::string(value));
    else
      it->second.assign(value);
    if (notify_change) notify(db_change::kind::written, path, value);
  }

  // Section 1.4: RM P removes P exactly, or with a trailing '/', every entry under P.
  void apply_remove(entry_map& m, std::string_view path, bool notify_change) {
    if (path.back() != '/') {
      const auto it = m.find(path);
      if (it == m.end()) return;
      std::string gone = it->first;
      m.erase(it);
      if (notify_change) notify(db_change::kind::removed, gone, {});
      return;
    }
    auto it = m.lower_bound(path);
    while (it != m.end() && it->first.starts_with(path)) {
      std::string gone = it->first;
      it = m.erase(it);
      if (notify_change) notify(db_change::kind::removed, gone, {});
    }
  }

  void notify(db_change::kind what, std::string_view path, std::string_view value) {
    ++generation_;
    if (on_change_) on_change_(db_change{what, path, value});
  }

  db_limits limits_;
  db_state state_ = db_state::disconnected;
  entry_map entries_, staging_;
  std::deque<pending_change> pending_;
  std::array<std::byte, qdb::max_message_length> input_{};
  std::size_t input_size_ = 0;
  std::vector<std::byte> output_;
  bool broken_ = false;
  std::uint64_t generation_ = 0;
  db_counters counters_;
  delegate<void(const db_change&)> on_change_;
};

}  // namespace uk::qubes
