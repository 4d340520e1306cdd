// The VM side of the Qubes GUI protocol (vchan port 6000, this VM the
// server, dom0's qubes-guid the client), as a sans-IO state machine
// (qubes-protocols.md section 3).
//
//   start()                     queues the version we announce (3.2 step 1)
//   receive(bytes)              what was read from the vchan
//   next_event()                the handshake's result, then each daemon message
//   create_window(...), ...     queue agent messages (the small window API)
//   output(), consume_output(n) the bytes to write
//
// Handshake (3.2): when we announce 1.4 or later, the daemon sends the
// negotiated version (it must be 1.x with 4 <= x <= ours, as the upstream
// agent demands), then its 16-byte xconf; below 1.4 (mirage-qubes announces
// 1.1) only the xconf comes.
// After it, every daemon message is consumed by its header's length, as a
// minimal agent must (3.2 step 4): bodies of up to max_kept_body bytes are
// handed over, longer ones (clipboard data) are skipped as they stream in,
// without being buffered. No Asio, no clock, no I/O.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "uk/log.hpp"
#include "uk/result.hpp"
#include "uk/wire/qubes_gui.hpp"

namespace uk::qubes {

namespace gui_wire = wire::qubes_gui;

/// Something the daemon said. For `message`, `body` is the whole body when
/// it is at most max_kept_body bytes, else empty with `skipped` set; valid
/// until the next receive() or next_event().
struct gui_event {
  enum class kind { handshake, message };
  kind what = kind::handshake;
  std::uint32_t version = 0;  ///< handshake: the version both ends speak
  gui_wire::xconf screen;     ///< handshake: the daemon's screen
  gui_wire::header header;    ///< message
  std::span<const std::byte> body;
  bool skipped = false;
};

enum class gui_error {
  bad_version,  ///< the daemon's version is not 1.x with 4 <= x <= ours
};

constexpr std::string_view to_string(gui_error e) noexcept {
  switch (e) {
    case gui_error::bad_version: return "the GUI daemon negotiated a version this agent does not speak";
  }
  return "?";
}

struct gui_counters {
  std::uint64_t messages = 0;          ///< daemon messages consumed
  std::uint64_t skipped_messages = 0;  ///< ... whose body was longer than max_kept_body
  std::uint64_t skipped_bytes = 0;
};

class gui_session {
 public:
  /// Bodies up to this size are handed over whole (every fixed-size daemon
  /// message fits: the largest, MSG_EXECUTE, has 255 bytes).
  static constexpr std::size_t max_kept_body = 256;

  explicit gui_session(std::uint32_t announced = gui_wire::version_1_8) : announced_(announced) {}

  void start() {
    std::byte v[gui_wire::version_length];
    append(std::span(v, gui_wire::emit_version(v, announced_)));
  }

  void receive(std::span<const std::byte> bytes) {
    // A body being skipped is dropped as it arrives, never buffered.
    while (!bytes.empty() && skip_remaining_ > 0 && input_.size() == consumed_) {
      const std::size_t n = std::min<std::size_t>(skip_remaining_, bytes.size());
      skip_remaining_ -= n;
      counters_.skipped_bytes += n;
      bytes = bytes.subspan(n);
    }
    compact();
    input_.insert(input_.end(), bytes.begin(), bytes.end());
  }

  result<std::optional<gui_event>, gui_error> next_event() {
    for (;;) {
      compact();
      auto pending = std::span<const std::byte>(input_).subspan(consumed_);
      if (skip_remaining_ > 0) {
        const std::size_t n = std::min<std::size_t>(skip_remaining_, pending.size());
        skip_remaining_ -= n;
        counters_.skipped_bytes += n;
        consumed_ += n;
        if (skip_remaining_ > 0) return std::optional<gui_event>{};
        continue;
      }
      switch (state_) {
        case state::version: {
          if (pending.size() < gui_wire::version_length) return std::optional<gui_event>{};
          const std::uint32_t v = *gui_wire::parse_version(pending.first(gui_wire::version_length));
          consumed_ += gui_wire::version_length;
          // 3.2: the upstream agent refuses a daemon version above its own or below 1.4.
          if (gui_wire::major_of(v) != 1 || v > announced_ || v < gui_wire::version_1_4)
            return failure{gui_error::bad_version};
          version_ = v;
          state_ = state::xconf;
          continue;
        }
        case state::xconf: {
          if (pending.size() < gui_wire::xconf_length) return std::optional<gui_event>{};
          screen_ = *gui_wire::parse_xconf(pending.first(gui_wire::xconf_length));
          consumed_ += gui_wire::xconf_length;
          state_ = state::messages;
          gui_event e;
          e.what = gui_event::kind::handshake;
          e.version = version_;
          e.screen = screen_;
          return std::optional<gui_event>{e};
        }
        case state::messages: {
          const auto h = gui_wire::parse_header(pending);
          if (!h) return std::optional<gui_event>{};
          gui_event e;
          e.what = gui_event::kind::message;
          e.header = *h;
          if (h->untrusted_length > max_kept_body) {
            consumed_ += gui_wire::header_length;
            skip_remaining_ = h->untrusted_length;
            e.skipped = true;
            ++counters_.skipped_messages;
          } else {
            if (pending.size() < gui_wire::header_length + h->untrusted_length) return std::optional<gui_event>{};
            e.body = pending.subspan(gui_wire::header_length, h->untrusted_length);
            consumed_ += gui_wire::header_length + h->untrusted_length;
          }
          ++counters_.messages;
          return std::optional<gui_event>{e};
        }
      }
    }
  }

  /// The version both ends speak: once the handshake is done (0 before).
  std::uint32_t version() const noexcept { return state_ == state::messages ? version_ : 0; }
  std::uint32_t announced() const noexcept { return announced_; }
  const gui_wire::xconf& screen() const noexcept { return screen_; }
  bool handshake_done() const noexcept { return state_ == state::messages; }

  // ---- The small window API: what mirage-qubes sends to show a window --------

  /// MSG_CREATE of window `id` (a number the agent picks, not 0).
  void create_window(std::uint32_t id, const gui_wire::create_body& b) {
    std::byte m[gui_wire::header_length + 24];
    append(std::span(m, gui_wire::emit_create(m, id, b)));
  }
  void map_window(std::uint32_t id, const gui_wire::map_body& b = {}) {
    std::byte m[gui_wire::header_length + 8];
    append(std::span(m, gui_wire::emit_map(m, id, b)));
  }
  void set_title(std::uint32_t id, std::string_view title) {
    std::byte m[gui_wire::header_length + gui_wire::wmname_length];
    append(std::span(m, gui_wire::emit_wmname(m, id, title)));
  }
  void configure_window(std::uint32_t id, const gui_wire::configure_body& b) {
    std::byte m[gui_wire::header_length + 20];
    append(std::span(m, gui_wire::emit_configure(m, id, b)));
  }

  std::span<const std::byte> output() const noexcept { return output_; }
  void consume_output(std::size_t n) {
    output_.erase(output_.begin(), output_.begin() + static_cast<std::ptrdiff_t>(std::min(n, output_.size())));
  }

  const gui_counters& counters() const noexcept { return counters_; }

 private:
  enum class state { version, xconf, messages };

  void compact() {
    if (consumed_ == 0) return;
    input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }

  void append(std::span<const std::byte> bytes) { output_.insert(output_.end(), bytes.begin(), bytes.end()); }

  std::uint32_t announced_;
  // Below 1.4 the daemon sends no version: the one we announced is the one used.
  state state_ = announced_ >= gui_wire::version_1_4 ? state::version : state::xconf;
  std::uint32_t version_ = announced_;
  gui_wire::xconf screen_;
  std::vector<std::byte> input_;
  std::size_t consumed_ = 0;
  std::size_t skip_remaining_ = 0;
  std::vector<std::byte> output_;
  gui_counters counters_;
};

}  // namespace uk::qubes
