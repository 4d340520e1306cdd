// The Qubes GUI protocol between a VM's GUI agent (vchan server, port 6000)
// and dom0's qubes-guid (qubes-protocols.md section 3, from qubes-gui-common's
// qubes-gui-protocol.h).
//
// Handshake (3.2), no headers:
//   agent -> daemon   u32 version (major << 16 | minor)
//   daemon -> agent   u32 negotiated version, only when the agent announced >= 1.4
//   daemon -> agent   struct msg_xconf { u32 w, h, depth, mem }     16 bytes
// Then headed messages both ways (3.3):
//   struct msg_hdr { u32 type; u32 window; u32 untrusted_len; }   12 bytes, then the body
//
// Integers are little-endian. Parsers take exactly the bytes of one field
// and report truncated/bad_length/malformed; emitters write one message at
// the start of a caller buffer (asserting its size) and return its length.
// Nothing here allocates, reads a clock or throws.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "uk/detail/endian.hpp"
#include "uk/wire/error.hpp"

namespace uk::wire::qubes_gui {

/// The GUI vchan's port; the agent is its server.
inline constexpr int port = 6000;

/// A protocol version word: major << 16 | minor.
constexpr std::uint32_t version(std::uint32_t major, std::uint32_t minor) noexcept { return major << 16 | minor; }
constexpr std::uint32_t major_of(std::uint32_t v) noexcept { return v >> 16; }
constexpr std::uint32_t minor_of(std::uint32_t v) noexcept { return v & 0xffff; }

/// The version the current agent and daemon speak (1.8), the one mirage-qubes
/// announces (1.1), and the first one with bidirectional negotiation (1.4).
inline constexpr std::uint32_t version_1_8 = version(1, 8);
inline constexpr std::uint32_t version_1_1 = version(1, 1);
inline constexpr std::uint32_t version_1_4 = version(1, 4);

inline constexpr std::size_t version_length = 4;

/// struct msg_xconf: the daemon's screen.
struct xconf {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t depth = 0;
  std::uint32_t mem = 0;  ///< width * height * 4 / 1024 + 1 from upstream daemons
  friend bool operator==(const xconf&, const xconf&) = default;
};
inline constexpr std::size_t xconf_length = 16;

namespace detail {

using uk::detail::load_le32;  // uk/detail/endian.hpp
using uk::detail::store_le32;

}  // namespace detail

/// A version word (exactly 4 bytes).
constexpr parse_result<std::uint32_t> parse_version(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() != version_length) return failure{error::bad_length};
  return detail::load_le32(bytes.data());
}

inline std::size_t emit_version(std::span<std::byte> out, std::uint32_t v) noexcept {
  assert(out.size() >= version_length);
  detail::store_le32(out.data(), v);
  return version_length;
}

/// struct msg_xconf (exactly 16 bytes).
constexpr parse_result<xconf> parse_xconf(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() != xconf_length) return failure{error::bad_length};
  const std::byte* p = bytes.data();
  return xconf{detail::load_le32(p), detail::load_le32(p + 4), detail::load_le32(p + 8), detail::load_le32(p + 12)};
}

inline std::size_t emit_xconf(std::span<std::byte> out, const xconf& x) noexcept {
  assert(out.size() >= xconf_length);
  detail::store_le32(out.data(), x.width);
  detail::store_le32(out.data() + 4, x.height);
  detail::store_le32(out.data() + 8, x.depth);
  detail::store_le32(out.data() + 12, x.mem);
  return xconf_length;
}

// ---- Headed messages (3.3) --------------------------------------------------

inline constexpr std::size_t header_length = 12;

/// msg_hdr.type (MSG_MIN = 123 < every type < MSG_MAX = 150).
enum class message_type : std::uint32_t {
  keypress = 124,
  button = 125,
  motion = 126,
  crossing = 127,
  focus = 128,
  resize = 129,
  create = 130,
  destroy = 131,
  map = 132,
  unmap = 133,
  configure = 134,
  mfndump = 135,
  shmimage = 136,
  close = 137,
  execute = 138,
  clipboard_req = 139,
  clipboard_data = 140,
  wmname = 141,
  keymap_notify = 142,
  dock = 143,
  window_hints = 144,
  window_flags = 145,
  wmclass = 146,
  window_dump = 147,
  cursor = 148,
  window_dump_ack = 149,
};
inline constexpr std::uint32_t message_min = 123;
inline constexpr std::uint32_t message_max = 150;

/// The body length the table of 3.3 gives a message type, or -1 where it
/// varies (CLIPBOARD_DATA, MFNDUMP, WINDOW_DUMP) or the type is unknown.
constexpr long body_length(std::uint32_t type) noexcept {
  switch (static_cast<message_type>(type)) {
    case message_type::keypress: return 20;
    case message_type::button: return 20;
    case message_type::motion: return 16;
    case message_type::crossing: return 28;
    case message_type::focus: return 12;
    case message_type::resize: return 8;
    case message_type::create: return 24;
    case message_type::destroy: return 0;
    case message_type::map: return 8;
    case message_type::unmap: return 0;
    case message_type::configure: return 20;
    case message_type::shmimage: return 16;
    case message_type::close: return 0;
    case message_type::execute: return 255;
    case message_type::clipboard_req: return 0;
    case message_type::wmname: return 128;
    case message_type::keymap_notify: return 32;
    case message_type::dock: return 0;
    case message_type::window_hints: return 36;
    case message_type::window_flags: return 8;
    case message_type::wmclass: return 128;
    case message_type::cursor: return 4;
    case message_type::window_dump_ack: return 0;
    case message_type::mfndump:
    case message_type::clipboard_data:
    case message_type::window_dump: return -1;
  }
  return -1;
}

/// msg_hdr.
struct header {
  std::uint32_t type = 0;
  std::uint32_t window = 0;
  std::uint32_t untrusted_length = 0;  ///< the body length the sender claims
  friend bool operator==(const header&, const header&) = default;
};

/// Reads a header from the first 12 bytes (truncated when fewer).
constexpr parse_result<header> parse_header(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < header_length) return failure{error::truncated};
  const std::byte* p = bytes.data();
  return header{detail::load_le32(p), detail::load_le32(p + 4), detail::load_le32(p + 8)};
}

inline std::size_t emit_header(std::span<std::byte> out, const header& h) noexcept {
  assert(out.size() >= header_length);
  detail::store_le32(out.data(), h.type);
  detail::store_le32(out.data() + 4, h.window);
  detail::store_le32(out.data() + 8, h.untrusted_length);
  return header_length;
}

// ---- The messages of the small window API (agent -> daemon) --------------------

/// MSG_CREATE body: { i32 x, i32 y, u32 width, u32 height, u32 parent, u32 override_redirect }.
struct create_body {
  std::int32_t x = 0;
  std::int32_t y = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t parent = 0;
  std::uint32_t override_redirect = 0;
};

/// MSG_CONFIGURE body: { i32 x, i32 y, u32 width, u32 height, u32 override_redirect }.
struct configure_body {
  std::int32_t x = 0;
  std::int32_t y = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t override_redirect = 0;
  friend bool operator==(const configure_body&, const configure_body&) = default;
};

/// MSG_MAP body: { u32 transient_for, u32 override_redirect }.
struct map_body {
  std::uint32_t transient_for = 0;
  std::uint32_t override_redirect = 0;
};

inline constexpr std::size_t wmname_length = 128;  ///< MSG_WMNAME body: char[128], NUL-terminated

/// Window limits (3.3): at most 16384 x 6144.
inline constexpr std::uint32_t max_window_width = 16384;
inline constexpr std::uint32_t max_window_height = 6144;

inline std::size_t emit_create(std::span<std::byte> out, std::uint32_t window, const create_body& b) noexcept {
  assert(out.size() >= header_length + 24);
  emit_header(out, {static_cast<std::uint32_t>(message_type::create), window, 24});
  std::byte* p = out.data() + header_length;
  detail::store_le32(p, static_cast<std::uint32_t>(b.x));
  detail::store_le32(p + 4, static_cast<std::uint32_t>(b.y));
  detail::store_le32(p + 8, b.width);
  detail::store_le32(p + 12, b.height);
  detail::store_le32(p + 16, b.parent);
  detail::store_le32(p + 20, b.override_redirect);
  return header_length + 24;
}

inline std::size_t emit_configure(std::span<std::byte> out, std::uint32_t window, const configure_body& b) noexcept {
  assert(out.size() >= header_length + 20);
  emit_header(out, {static_cast<std::uint32_t>(message_type::configure), window, 20});
  std::byte* p = out.data() + header_length;
  detail::store_le32(p, static_cast<std::uint32_t>(b.x));
  detail::store_le32(p + 4, static_cast<std::uint32_t>(b.y));
  detail::store_le32(p + 8, b.width);
  detail::store_le32(p + 12, b.height);
  detail::store_le32(p + 16, b.override_redirect);
  return header_length + 20;
}

/// The body of a MSG_CONFIGURE the daemon sends (exactly 20 bytes).
constexpr parse_result<configure_body> parse_configure(std::span<const std::byte> body) noexcept {
  if (body.size() != 20) return failure{error::bad_length};
  const std::byte* p = body.data();
  return configure_body{static_cast<std::int32_t>(detail::load_le32(p)),
                        static_cast<std::int32_t>(detail::load_le32(p + 4)), detail::load_le32(p + 8),
                        detail::load_le32(p + 12), detail::load_le32(p + 16)};
}

inline std::size_t emit_map(std::span<std::byte> out, std::uint32_t window, const map_body& b) noexcept {
  assert(out.size() >= header_length + 8);
  emit_header(out, {static_cast<std::uint32_t>(message_type::map), window, 8});
  detail::store_le32(out.data() + header_length, b.transient_for);
  detail::store_le32(out.data() + header_length + 4, b.override_redirect);
  return header_length + 8;
}

/// MSG_WMNAME: the title, cut to 127 bytes and NUL-padded to 128.
inline std::size_t emit_wmname(std::span<std::byte> out, std::uint32_t window, std::string_view title) noexcept {
  assert(out.size() >= header_length + wmname_length);
  emit_header(out, {static_cast<std::uint32_t>(message_type::wmname), window, wmname_length});
  std::byte* p = out.data() + header_length;
  std::fill(p, p + wmname_length, std::byte{0});
  title = title.substr(0, wmname_length - 1);
  std::copy(title.begin(), title.end(), reinterpret_cast<char*>(p));
  return header_length + wmname_length;
}

}  // namespace uk::wire::qubes_gui
