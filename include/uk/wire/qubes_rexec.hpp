// The qrexec messages exchanged by dom0's qrexec-daemon and a VM's agent, on
// the control vchan (port 512) and on the data vchans (ports 513..768)
// (qubes-protocols.md section 2, from qubes-core-qrexec libqrexec/qrexec.h).
//
//   struct msg_header { u32 type; u32 len; }        8 bytes, then `len` bytes of body
//
// Every integer is little-endian (host order of x86_64, the only Qubes
// architecture). Fixed-size strings are NUL-terminated and NUL-padded.
//
// Each parse_* takes one message body (the `len` bytes after a header) and
// returns its validated fields, or an error:
//   body shorter or longer than the message allows ...... bad_length
//   a string without its NUL, or with an embedded NUL ..... malformed
// The string_views of a parsed body point into the caller's buffer.
// Each emit_* writes one whole message (header and body) at the start of a
// caller-provided buffer, asserts that it is large enough, and returns the
// number of bytes written. Nothing here allocates, reads a clock or throws.
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

namespace uk::wire::qubes_rexec {

// ---- Constants (qubes-protocols.md 2.1) ---------------------------------------

/// The control vchan's port (VCHAN_BASE_PORT); the agent is its server.
inline constexpr int control_port = 512;
/// The data vchans' ports: 513 + i, i in [0, 255] (MAX_CLIENTS = 256).
inline constexpr int first_data_port = 513;
inline constexpr int last_data_port = 768;

/// Protocol versions (peer_info.version): 2 = R3.0-R4.0, 3 = R4.1-R4.2
/// (64 KiB chunks, MSG_TRIGGER_SERVICE3), 4 = R4.3+ (MSG_TRIGGER_SERVICE4).
/// Daemons refuse agents below 2.
inline constexpr std::uint32_t min_version = 2;
inline constexpr std::uint32_t max_version = 4;

/// The largest data message body per version (MAX_DATA_CHUNK_V2, _V3);
/// receivers reject bigger `len`.
inline constexpr std::size_t max_data_chunk_v2 = 4096;
inline constexpr std::size_t max_data_chunk_v3 = 65536;
constexpr std::size_t max_data_chunk(std::uint32_t version) noexcept {
  return version >= 3 ? max_data_chunk_v3 : max_data_chunk_v2;
}

/// MAX_SERVICE_NAME_LEN and MAX_QREXEC_CMD_LEN.
inline constexpr std::size_t max_service_name_length = 65000;
inline constexpr std::size_t max_command_length = 65535;

/// Exit codes with a meaning to qrexec (QREXEC_EXIT_*).
inline constexpr int exit_problem = 125;
inline constexpr int exit_request_refused = 126;
inline constexpr int exit_service_not_found = 127;

/// The fixed string fields' sizes (including the NUL).
inline constexpr std::size_t ident_length = 32;        ///< service_params.ident, request ids
inline constexpr std::size_t domain_name_length = 64;  ///< trigger_service_params3/4 domains
inline constexpr std::size_t v2_service_name_length = 64;  ///< trigger_service_params.service_name
inline constexpr std::size_t v2_target_length = 32;        ///< trigger_service_params.target_domain

// ---- Header (qubes-protocols.md 2.2) -------------------------------------------

inline constexpr std::size_t header_length = 8;

/// msg_header.type.
enum class message_type : std::uint32_t {
  exec_cmdline = 0x200,           ///< dom0 -> VM: run a command, data on the port given
  just_exec = 0x201,              ///< dom0 -> VM: run a command, no data but its exit code
  service_connect = 0x202,        ///< dom0 -> VM: the service this VM asked for is allowed
  service_refused = 0x203,        ///< dom0 -> VM: ... or refused
  trigger_service = 0x210,        ///< VM -> dom0: call a service (version 2)
  connection_terminated = 0x211,  ///< VM -> dom0: a data port is free again
  trigger_service3 = 0x212,       ///< VM -> dom0: call a service (version 3)
  trigger_service4 = 0x213,       ///< VM -> dom0: call a service (version 4)
  hello = 0x300,                  ///< both, first message of every vchan
  data_stdin = 0x190,             ///< data: caller -> service; empty = EOF
  data_stdout = 0x191,            ///< data: service -> caller; empty = EOF
  data_stderr = 0x192,            ///< data: service -> caller; empty = EOF
  data_exit_code = 0x193,         ///< data: service -> caller, int32
};

/// The name of a message type, for logs ("unknown" for others).
constexpr std::string_view name(std::uint32_t type) noexcept {
  switch (static_cast<message_type>(type)) {
    case message_type::exec_cmdline: return "MSG_EXEC_CMDLINE";
    case message_type::just_exec: return "MSG_JUST_EXEC";
    case message_type::service_connect: return "MSG_SERVICE_CONNECT";
    case message_type::service_refused: return "MSG_SERVICE_REFUSED";
    case message_type::trigger_service: return "MSG_TRIGGER_SERVICE";
    case message_type::connection_terminated: return "MSG_CONNECTION_TERMINATED";
    case message_type::trigger_service3: return "MSG_TRIGGER_SERVICE3";
    case message_type::trigger_service4: return "MSG_TRIGGER_SERVICE4";
    case message_type::hello: return "MSG_HELLO";
    case message_type::data_stdin: return "MSG_DATA_STDIN";
    case message_type::data_stdout: return "MSG_DATA_STDOUT";
    case message_type::data_stderr: return "MSG_DATA_STDERR";
    case message_type::data_exit_code: return "MSG_DATA_EXIT_CODE";
  }
  return "unknown";
}

/// msg_header: the type (kept as a number: a peer may send any) and the body length.
struct header {
  std::uint32_t type = 0;
  std::uint32_t length = 0;

  constexpr bool is(message_type t) const noexcept { return type == static_cast<std::uint32_t>(t); }
  friend bool operator==(const header&, const header&) = default;
};

namespace detail {

using uk::detail::load_le32;  // uk/detail/endian.hpp
using uk::detail::store_le32;

/// The string in a fixed NUL-padded field: up to its first NUL, or nullopt without one.
constexpr std::optional<std::string_view> fixed_string(std::span<const std::byte> field) noexcept {
  for (std::size_t i = 0; i < field.size(); ++i)
    if (field[i] == std::byte{0}) return std::string_view(reinterpret_cast<const char*>(field.data()), i);
  return std::nullopt;
}

/// A string that must end exactly at the field's end with its only NUL.
constexpr std::optional<std::string_view> terminated_string(std::span<const std::byte> field) noexcept {
  if (field.empty() || field.back() != std::byte{0}) return std::nullopt;
  const auto text = fixed_string(field);
  if (!text || text->size() != field.size() - 1) return std::nullopt;
  return text;
}

/// Writes `text` NUL-padded into a field of `size` bytes; `text` must be shorter than `size`.
inline void store_fixed(std::byte* p, std::size_t size, std::string_view text) noexcept {
  assert(text.size() < size);
  std::fill(p, p + size, std::byte{0});
  std::copy(text.begin(), text.end(), reinterpret_cast<char*>(p));
}

inline std::size_t store_header(std::span<std::byte> out, message_type type, std::size_t body_length) noexcept {
  assert(out.size() >= header_length + body_length);
  store_le32(out.data(), static_cast<std::uint32_t>(type));
  store_le32(out.data() + 4, static_cast<std::uint32_t>(body_length));
  return header_length;
}

}  // namespace detail

/// Reads a header from the first 8 bytes of `bytes` (truncated when fewer).
constexpr parse_result<header> parse_header(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < header_length) return failure{error::truncated};
  return header{detail::load_le32(bytes.data()), detail::load_le32(bytes.data() + 4)};
}

// ---- MSG_HELLO (peer_info) ----------------------------------------------------

inline constexpr std::size_t hello_body_length = 4;

/// peer_info.version. The body is exactly 4 bytes (upstream rejects any other len).
constexpr parse_result<std::uint32_t> parse_hello(std::span<const std::byte> body) noexcept {
  if (body.size() != hello_body_length) return failure{error::bad_length};
  return detail::load_le32(body.data());
}

inline std::size_t emit_hello(std::span<std::byte> out, std::uint32_t version) noexcept {
  detail::store_header(out, message_type::hello, hello_body_length);
  detail::store_le32(out.data() + header_length, version);
  return header_length + hello_body_length;
}

// ---- exec_params: MSG_EXEC_CMDLINE, MSG_JUST_EXEC, MSG_CONNECTION_TERMINATED --

inline constexpr std::size_t exec_params_length = 8;

/// exec_params: where to connect the data vchan, and the NUL-terminated command.
struct exec_params {
  std::uint32_t connect_domain = 0;
  std::uint32_t connect_port = 0;
  std::string_view cmdline;  ///< "user:command", without its NUL
};

/// The body of MSG_EXEC_CMDLINE or MSG_JUST_EXEC: 8 bytes, then a command
/// NUL-terminated at the end of the body, with no other NUL, at most
/// MAX_QREXEC_CMD_LEN long.
constexpr parse_result<exec_params> parse_exec_params(std::span<const std::byte> body) noexcept {
  if (body.size() <= exec_params_length || body.size() > exec_params_length + max_command_length)
    return failure{error::bad_length};
  const auto cmdline = detail::terminated_string(body.subspan(exec_params_length));
  if (!cmdline) return failure{error::malformed};
  return exec_params{detail::load_le32(body.data()), detail::load_le32(body.data() + 4), *cmdline};
}

/// The length of MSG_EXEC_CMDLINE/MSG_JUST_EXEC carrying `cmdline`.
constexpr std::size_t exec_message_length(std::string_view cmdline) noexcept {
  return header_length + exec_params_length + cmdline.size() + 1;
}

/// Writes MSG_EXEC_CMDLINE or MSG_JUST_EXEC (what dom0 sends; for test peers).
inline std::size_t emit_exec(std::span<std::byte> out, message_type type, std::uint32_t connect_domain,
                             std::uint32_t connect_port, std::string_view cmdline) noexcept {
  assert(type == message_type::exec_cmdline || type == message_type::just_exec);
  const std::size_t body = exec_params_length + cmdline.size() + 1;
  detail::store_header(out, type, body);
  std::byte* p = out.data() + header_length;
  detail::store_le32(p, connect_domain);
  detail::store_le32(p + 4, connect_port);
  std::copy(cmdline.begin(), cmdline.end(), reinterpret_cast<char*>(p + exec_params_length));
  p[body - 1] = std::byte{0};
  return header_length + body;
}

/// A data port, as MSG_CONNECTION_TERMINATED carries it (exec_params without cmdline).
struct port_ref {
  std::uint32_t connect_domain = 0;
  std::uint32_t connect_port = 0;
  friend bool operator==(const port_ref&, const port_ref&) = default;
};

inline constexpr std::size_t connection_terminated_length = header_length + exec_params_length;

constexpr parse_result<port_ref> parse_connection_terminated(std::span<const std::byte> body) noexcept {
  if (body.size() != exec_params_length) return failure{error::bad_length};
  return port_ref{detail::load_le32(body.data()), detail::load_le32(body.data() + 4)};
}

inline std::size_t emit_connection_terminated(std::span<std::byte> out, port_ref port) noexcept {
  detail::store_header(out, message_type::connection_terminated, exec_params_length);
  detail::store_le32(out.data() + header_length, port.connect_domain);
  detail::store_le32(out.data() + header_length + 4, port.connect_port);
  return connection_terminated_length;
}

// ---- MSG_SERVICE_CONNECT, MSG_SERVICE_REFUSED ----------------------------------

/// MSG_SERVICE_CONNECT: exec_params whose "cmdline" is the 32-byte request id.
struct service_connect {
  std::uint32_t connect_domain = 0;
  std::uint32_t connect_port = 0;
  std::string_view ident;  ///< the request id the VM chose, echoed back
};

inline constexpr std::size_t service_connect_body_length = exec_params_length + ident_length;
inline constexpr std::size_t service_refused_body_length = ident_length;

constexpr parse_result<service_connect> parse_service_connect(std::span<const std::byte> body) noexcept {
  if (body.size() != service_connect_body_length) return failure{error::bad_length};
  const auto ident = detail::fixed_string(body.subspan(exec_params_length));
  if (!ident) return failure{error::malformed};
  return service_connect{detail::load_le32(body.data()), detail::load_le32(body.data() + 4), *ident};
}

/// MSG_SERVICE_REFUSED: service_params, the 32-byte request id.
constexpr parse_result<std::string_view> parse_service_refused(std::span<const std::byte> body) noexcept {
  if (body.size() != service_refused_body_length) return failure{error::bad_length};
  const auto ident = detail::fixed_string(body);
  if (!ident) return failure{error::malformed};
  return *ident;
}

/// Writes MSG_SERVICE_CONNECT (dom0's message; for test peers). `ident` < 32 bytes.
inline std::size_t emit_service_connect(std::span<std::byte> out, std::uint32_t connect_domain,
                                        std::uint32_t connect_port, std::string_view ident) noexcept {
  detail::store_header(out, message_type::service_connect, service_connect_body_length);
  std::byte* p = out.data() + header_length;
  detail::store_le32(p, connect_domain);
  detail::store_le32(p + 4, connect_port);
  detail::store_fixed(p + exec_params_length, ident_length, ident);
  return header_length + service_connect_body_length;
}

/// Writes MSG_SERVICE_REFUSED (dom0's message; for test peers). `ident` < 32 bytes.
inline std::size_t emit_service_refused(std::span<std::byte> out, std::string_view ident) noexcept {
  detail::store_header(out, message_type::service_refused, service_refused_body_length);
  detail::store_fixed(out.data() + header_length, ident_length, ident);
  return header_length + service_refused_body_length;
}

// ---- MSG_TRIGGER_SERVICE, _SERVICE3, _SERVICE4 ---------------------------------

/// A service call request of this VM. `source_domain` exists only in version 4
/// (empty = the calling VM); `service` is "name+argument".
struct trigger_request {
  std::string_view source_domain;
  std::string_view target_domain;
  std::string_view request_id;
  std::string_view service;
};

/// The trigger message type a negotiated version uses (qubes-protocols.md 2.5:
/// the daemon refuses a type that does not match the version).
constexpr message_type trigger_type(std::uint32_t version) noexcept {
  return version >= 4 ? message_type::trigger_service4
                      : version == 3 ? message_type::trigger_service3 : message_type::trigger_service;
}

/// The fixed part of each trigger body (before the service name of v3/v4).
inline constexpr std::size_t trigger_v2_body_length = v2_service_name_length + v2_target_length + ident_length;
inline constexpr std::size_t trigger_v3_fixed_length = domain_name_length + ident_length;
inline constexpr std::size_t trigger_v4_fixed_length = 2 * domain_name_length + ident_length;

/// Whether `r` fits the fixed fields of `version` (each string shorter than its field).
constexpr bool trigger_fits(std::uint32_t version, const trigger_request& r) noexcept {
  if (r.request_id.size() >= ident_length) return false;
  if (version <= 2)
    return r.service.size() < v2_service_name_length && r.target_domain.size() < v2_target_length &&
           r.source_domain.empty();
  if (r.target_domain.size() >= domain_name_length || r.service.size() > max_service_name_length) return false;
  return version >= 4 ? r.source_domain.size() < domain_name_length : r.source_domain.empty();
}

/// The length of the whole trigger message of `version` for a service name of `service_length`.
constexpr std::size_t trigger_message_length(std::uint32_t version, std::size_t service_length) noexcept {
  if (version <= 2) return header_length + trigger_v2_body_length;
  const std::size_t fixed = version >= 4 ? trigger_v4_fixed_length : trigger_v3_fixed_length;
  return header_length + fixed + service_length + 1;
}

/// Writes the trigger message of `version` (MSG_TRIGGER_SERVICE for 2,
/// MSG_TRIGGER_SERVICE3 for 3, MSG_TRIGGER_SERVICE4 for 4 and above).
/// Preconditions: trigger_fits(version, r); out holds trigger_message_length().
inline std::size_t emit_trigger(std::span<std::byte> out, std::uint32_t version, const trigger_request& r) noexcept {
  assert(trigger_fits(version, r));
  const std::size_t total = trigger_message_length(version, r.service.size());
  detail::store_header(out, trigger_type(version), total - header_length);
  std::byte* p = out.data() + header_length;
  if (version <= 2) {
    // trigger_service_params: service_name[64], target_domain[32], request_id[32]
    detail::store_fixed(p, v2_service_name_length, r.service);
    detail::store_fixed(p + v2_service_name_length, v2_target_length, r.target_domain);
    detail::store_fixed(p + v2_service_name_length + v2_target_length, ident_length, r.request_id);
    return total;
  }
  if (version >= 4) {  // trigger_service_params4 starts with source_domain[64]
    detail::store_fixed(p, domain_name_length, r.source_domain);
    p += domain_name_length;
  }
  detail::store_fixed(p, domain_name_length, r.target_domain);
  detail::store_fixed(p + domain_name_length, ident_length, r.request_id);
  p += domain_name_length + ident_length;
  std::copy(r.service.begin(), r.service.end(), reinterpret_cast<char*>(p));
  p[r.service.size()] = std::byte{0};
  return total;
}

/// Reads a trigger body of message `type` (what dom0 receives; for test
/// peers and fuzzing). v2: exactly 128 bytes; v3/v4: the fixed part, then a
/// service name NUL-terminated exactly at the end.
constexpr parse_result<trigger_request> parse_trigger(message_type type, std::span<const std::byte> body) noexcept {
  trigger_request r;
  if (type == message_type::trigger_service) {
    if (body.size() != trigger_v2_body_length) return failure{error::bad_length};
    const auto service = detail::fixed_string(body.first(v2_service_name_length));
    const auto target = detail::fixed_string(body.subspan(v2_service_name_length, v2_target_length));
    const auto ident = detail::fixed_string(body.subspan(v2_service_name_length + v2_target_length));
    if (!service || !target || !ident) return failure{error::malformed};
    return trigger_request{{}, *target, *ident, *service};
  }
  std::size_t fixed = 0;
  if (type == message_type::trigger_service4)
    fixed = trigger_v4_fixed_length;
  else if (type == message_type::trigger_service3)
    fixed = trigger_v3_fixed_length;
  else
    return failure{error::unsupported};
  if (body.size() <= fixed || body.size() > fixed + max_service_name_length + 1) return failure{error::bad_length};
  std::size_t at = 0;
  if (type == message_type::trigger_service4) {
    const auto source = detail::fixed_string(body.first(domain_name_length));
    if (!source) return failure{error::malformed};
    r.source_domain = *source;
    at = domain_name_length;
  }
  const auto target = detail::fixed_string(body.subspan(at, domain_name_length));
  const auto ident = detail::fixed_string(body.subspan(at + domain_name_length, ident_length));
  const auto service = detail::terminated_string(body.subspan(fixed));
  if (!target || !ident || !service) return failure{error::malformed};
  r.target_domain = *target;
  r.request_id = *ident;
  r.service = *service;
  return r;
}

// ---- Data messages ---------------------------------------------------------

/// The header of a data message of `type` carrying `length` bytes (0 = EOF).
inline std::size_t emit_data_header(std::span<std::byte> out, message_type type, std::size_t length) noexcept {
  assert(type == message_type::data_stdin || type == message_type::data_stdout ||
         type == message_type::data_stderr);
  assert(out.size() >= header_length);
  detail::store_le32(out.data(), static_cast<std::uint32_t>(type));
  detail::store_le32(out.data() + 4, static_cast<std::uint32_t>(length));
  return header_length;
}

inline constexpr std::size_t exit_code_body_length = 4;

/// MSG_DATA_EXIT_CODE: an int32 (exactly 4 bytes).
constexpr parse_result<std::int32_t> parse_exit_code(std::span<const std::byte> body) noexcept {
  if (body.size() != exit_code_body_length) return failure{error::bad_length};
  return static_cast<std::int32_t>(detail::load_le32(body.data()));
}

inline std::size_t emit_exit_code(std::span<std::byte> out, std::int32_t code) noexcept {
  detail::store_header(out, message_type::data_exit_code, exit_code_body_length);
  detail::store_le32(out.data() + header_length, static_cast<std::uint32_t>(code));
  return header_length + exit_code_body_length;
}

// ---- The command line of an exec (qubes-protocols.md 2.4) ---------------------

/// "user:[nogui:]command", split.
struct command_line {
  std::string_view user;     ///< before the first ':' ("DEFAULT" is replaced by dom0)
  bool nogui = false;        ///< "nogui:" followed the user
  std::string_view command;  ///< the rest
};

/// Splits "user:[nogui:]command". A command line without ':' is malformed.
constexpr parse_result<command_line> parse_command_line(std::string_view cmdline) noexcept {
  const auto colon = cmdline.find(':');
  if (colon == std::string_view::npos) return failure{error::malformed};
  command_line c{cmdline.substr(0, colon), false, cmdline.substr(colon + 1)};
  constexpr std::string_view nogui = "nogui:";
  if (c.command.starts_with(nogui)) {
    c.nogui = true;
    c.command.remove_prefix(nogui.size());
  }
  return c;
}

/// A service call as dom0 writes it in a command:
/// "QUBESRPC service+argument source-vm[ keyword adminvm]".
struct rpc_call {
  std::string_view service;   ///< the name, before the first '+'
  std::string_view argument;  ///< after the first '+' (may be empty)
  std::string_view source;    ///< the calling VM's name
};

inline constexpr std::string_view rpc_prefix = "QUBESRPC ";

/// Reads a QUBESRPC command; `unsupported` for any other command (a plain
/// command to run, which a unikernel has no shell for), `malformed` for a
/// QUBESRPC without a service name or a source.
constexpr parse_result<rpc_call> parse_rpc_call(std::string_view command) noexcept {
  if (!command.starts_with(rpc_prefix)) return failure{error::unsupported};
  command.remove_prefix(rpc_prefix.size());
  const auto space = command.find(' ');
  if (space == std::string_view::npos || space == 0) return failure{error::malformed};
  const std::string_view service_and_argument = command.substr(0, space);
  std::string_view source = command.substr(space + 1);
  source = source.substr(0, source.find(' '));
  if (source.empty()) return failure{error::malformed};
  const auto plus = service_and_argument.find('+');
  rpc_call call{service_and_argument, {}, source};
  if (plus != std::string_view::npos) {
    call.service = service_and_argument.substr(0, plus);
    call.argument = service_and_argument.substr(plus + 1);
  }
  if (call.service.empty()) return failure{error::malformed};
  return call;
}

// ---- What dom0 accepts from an agent (qubes-protocols.md 2.2, last paragraph) --

/// A service name "name[+argument]" the daemon accepts: not empty, not
/// starting with '+', characters [A-Za-z0-9_.+-] (others would be replaced by
/// '_' upstream: this agent refuses them instead).
constexpr bool valid_service_name(std::string_view s) noexcept {
  if (s.empty() || s.front() == '+' || s.size() > max_service_name_length) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-' || c == '+';
  });
}

/// A target domain: not empty, characters [A-Za-z0-9_.-@:] ("@adminvm",
/// "@dispvm:name", "uuid:...").
constexpr bool valid_target(std::string_view s) noexcept {
  if (s.empty() || s.size() >= domain_name_length) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-' || c == '@' || c == ':';
  });
}

/// A request id: characters [0-9A-Za-z_. -], shorter than 32.
constexpr bool valid_request_id(std::string_view s) noexcept {
  if (s.size() >= ident_length) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ' ' || c == '-';
  });
}

}  // namespace uk::wire::qubes_rexec
