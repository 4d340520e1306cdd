// QubesDB messages (qubes-protocols.md section 1): a fixed 72-byte
// `struct qdb_hdr` followed by `data_len` value bytes. All integers are
// little-endian (Qubes runs on x86_64 only; mirage-qubes hard-codes it too).
//
//   offset size field
//   0      1    type      (enum qdb_msg, table 1.2)
//   1      64   path      NUL-terminated; bytes after the NUL are the sender's garbage
//   65     3    padding   (compiler-inserted, contents undefined)
//   68     4    data_len  value length; the value has no NUL terminator and no NUL byte
//   72     ...  data
//
// parse_header() validates what the daemons validate (section 1.3): a known
// type, a path of the allowed characters, data_len < 3072, and no value for
// the commands that carry none. parse_value() checks the value. emit_header()
// writes a header with zeroed path padding and padding bytes.
//
// Nothing here allocates, reads a clock or throws.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "uk/detail/endian.hpp"
#include "uk/wire/error.hpp"

namespace uk::wire::qubes_db {

/// sizeof(struct qdb_hdr).
inline constexpr std::size_t header_length = 72;
/// QDB_MAX_PATH: the path field's size, NUL included; a path has at most 63 characters.
inline constexpr std::size_t path_field_length = 64;
inline constexpr std::size_t max_path_length = path_field_length - 1;
/// QDB_MAX_DATA: the daemon rejects data_len >= 3072, so a value has at most 3071 bytes.
inline constexpr std::size_t max_data = 3072;
inline constexpr std::size_t max_value_length = max_data - 1;
/// The largest message: a header and the largest value.
inline constexpr std::size_t max_message_length = header_length + max_value_length;
/// QUBESDB_VCHAN_PORT: dom0 serves QubesDB to each VM on this vchan port.
inline constexpr int vchan_port = 111;

namespace field {
inline constexpr std::size_t type = 0;
inline constexpr std::size_t path = 1;
inline constexpr std::size_t padding = 65;
inline constexpr std::size_t data_len = 68;
}  // namespace field

/// enum qdb_msg (section 1.2).
enum class message_type : std::uint8_t {
  read = 0,
  write = 1,
  multiread = 2,
  list = 3,
  rm = 4,
  watch = 5,
  unwatch = 6,
  resp_ok = 7,
  resp_error_noent = 8,
  resp_error = 9,
  resp_read = 10,
  resp_multiread = 11,
  resp_list = 12,
  resp_watch = 13,
};
inline constexpr std::uint8_t max_message_type = 13;

constexpr std::string_view to_string(message_type t) noexcept {
  switch (t) {
    case message_type::read: return "QDB_CMD_READ";
    case message_type::write: return "QDB_CMD_WRITE";
    case message_type::multiread: return "QDB_CMD_MULTIREAD";
    case message_type::list: return "QDB_CMD_LIST";
    case message_type::rm: return "QDB_CMD_RM";
    case message_type::watch: return "QDB_CMD_WATCH";
    case message_type::unwatch: return "QDB_CMD_UNWATCH";
    case message_type::resp_ok: return "QDB_RESP_OK";
    case message_type::resp_error_noent: return "QDB_RESP_ERROR_NOENT";
    case message_type::resp_error: return "QDB_RESP_ERROR";
    case message_type::resp_read: return "QDB_RESP_READ";
    case message_type::resp_multiread: return "QDB_RESP_MULTIREAD";
    case message_type::resp_list: return "QDB_RESP_LIST";
    case message_type::resp_watch: return "QDB_RESP_WATCH";
  }
  return "unknown";
}

/// Whether a message of this type never carries a value (section 1.3:
/// "READ/RM/MULTIREAD/LIST must carry data_len == 0").
constexpr bool carries_no_value(message_type t) noexcept {
  return t == message_type::read || t == message_type::rm || t == message_type::multiread ||
         t == message_type::list;
}

/// Whether `c` may appear in a path: [A-Za-z0-9_/.:@-] (section 1.3).
constexpr bool is_path_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '/' ||
         c == '.' || c == ':' || c == '@' || c == '-';
}

/// Whether the daemons accept `path`: at most 63 allowed characters, not
/// starting with '-' (section 1.3). The empty path is valid (MULTIREAD of
/// everything, the MULTIREAD terminator).
constexpr bool valid_path(std::string_view path) noexcept {
  if (path.size() > max_path_length) return false;
  if (!path.empty() && path.front() == '-') return false;
  return std::all_of(path.begin(), path.end(), is_path_char);
}

/// Whether the daemons accept `value`: shorter than 3072 bytes, no NUL (section 1.3).
constexpr bool valid_value(std::string_view value) noexcept {
  return value.size() <= max_value_length && value.find('\0') == std::string_view::npos;
}

/// A validated header. `path` points into the parsed bytes.
struct header {
  message_type type = message_type::read;
  std::string_view path;
  std::uint32_t data_len = 0;

  /// The end marker of a MULTIREAD answer: RESP_MULTIREAD with path[0] == 0 and no value (section 1.4).
  constexpr bool is_multiread_end() const noexcept {
    return type == message_type::resp_multiread && path.empty() && data_len == 0;
  }
  friend constexpr bool operator==(const header&, const header&) = default;
};

namespace detail {

using uk::detail::load_le32;  // uk/detail/endian.hpp
using uk::detail::store_le32;

}  // namespace detail

/// Reads and validates the header in the first 72 bytes of `bytes`.
///
/// The path is read up to its first NUL; like the daemons, which force a NUL
/// at byte 63, a path field without one is cut to its first 63 bytes.
///
/// Errors:
///  - truncated:   fewer than 72 bytes;
///  - unsupported: a type outside enum qdb_msg;
///  - bad_length:  data_len >= 3072, or a value on READ/RM/MULTIREAD/LIST;
///  - malformed:   a path with a character outside [A-Za-z0-9_/.:@-] or starting with '-'.
/// After `bad_length` from data_len >= 3072 the stream cannot be resynchronised.
inline parse_result<header> parse_header(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < header_length) return failure{error::truncated};
  const auto raw_type = std::to_integer<std::uint8_t>(bytes[field::type]);
  if (raw_type > max_message_type) return failure{error::unsupported};
  const auto type = static_cast<message_type>(raw_type);
  const auto* path_bytes = bytes.data() + field::path;
  std::size_t length = 0;
  while (length < max_path_length && path_bytes[length] != std::byte{0}) ++length;
  const std::string_view path(reinterpret_cast<const char*>(path_bytes), length);
  const std::uint32_t data_len = detail::load_le32(bytes.data() + field::data_len);
  if (data_len >= max_data) return failure{error::bad_length};
  if (data_len != 0 && carries_no_value(type)) return failure{error::bad_length};
  if (!valid_path(path)) return failure{error::malformed};
  return header{type, path, data_len};
}

/// Checks a value of `data_len` bytes: no NUL inside (section 1.3). Returns it as text.
inline parse_result<std::string_view> parse_value(std::span<const std::byte> data) noexcept {
  const std::string_view value(reinterpret_cast<const char*>(data.data()), data.size());
  if (!valid_value(value)) return failure{error::malformed};
  return value;
}

/// Writes a 72-byte header: the type, the path NUL-padded, zero padding, data_len.
/// Preconditions: out.size() >= 72, valid_path(path), data_len <= max_value_length.
/// Returns 72.
inline std::size_t emit_header(std::span<std::byte> out, message_type type, std::string_view path,
                               std::size_t data_len) noexcept {
  assert(out.size() >= header_length);
  assert(valid_path(path));
  assert(data_len <= max_value_length);
  std::fill(out.begin(), out.begin() + header_length, std::byte{0});
  out[field::type] = static_cast<std::byte>(type);
  std::copy(path.begin(), path.end(), reinterpret_cast<char*>(out.data() + field::path));
  detail::store_le32(out.data() + field::data_len, static_cast<std::uint32_t>(data_len));
  return header_length;
}

/// Writes a header and its value: a WRITE, or a RESP_MULTIREAD entry.
/// Preconditions: out.size() >= 72 + value.size(), valid_path(path), valid_value(value).
/// Returns the bytes written.
inline std::size_t emit_message(std::span<std::byte> out, message_type type, std::string_view path,
                                std::string_view value) noexcept {
  assert(out.size() >= header_length + value.size());
  assert(valid_value(value));
  emit_header(out, type, path, value.size());
  std::copy(value.begin(), value.end(), reinterpret_cast<char*>(out.data() + header_length));
  return header_length + value.size();
}

}  // namespace uk::wire::qubes_db
