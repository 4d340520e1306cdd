// Module types of the Qubes agents (mirage-qubes' DB, RExec and GUI), the
// devices a Qubes-aware application can ask for.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "uk/asio.hpp"

namespace uk {

/// The VM side of QubesDB: a key-value store that dom0 fills and updates
/// (qubes-protocols.md section 1; the device is uk::qubes::db).
///   db.read(key)               the current value, if the key exists
///   co_await db.write(k, v)    writes locally and forwards to dom0 (an invalid
///                              path or value throws std::invalid_argument)
///   co_await db.remove(key)    removes locally and forwards to dom0; a key ending
///                              in '/' removes every key under it
///   co_await db.changed()      completes at the next change of any key (pushed by
///                              dom0, made locally, or found by a resynchronisation)
template <class D>
concept qubes_db = requires(D& db, const D& cdb, std::string_view key, std::string_view value) {
  { cdb.read(key) } -> std::same_as<std::optional<std::string>>;
  { db.write(key, value) } -> std::same_as<asio::awaitable<void>>;
  { db.remove(key) } -> std::same_as<asio::awaitable<void>>;
  { db.changed() } -> std::same_as<asio::awaitable<void>>;
};

/// The qrexec agent: serves the services this VM offers and calls others'.
///   r.register_service(name, h)   `h` serves calls of service `name`
///                                 (an unregistered service answers "not found", exit 127)
///   co_await r.call(vm, service)  a flow to `service` in the VM `vm`
template <class R>
concept qubes_rexec = requires(R& r, std::string_view name, std::string_view vm, typename R::service_handler h) {
  typename R::flow_type;
  { r.register_service(name, std::move(h)) } -> std::same_as<void>;
  { r.call(vm, name) } -> std::same_as<asio::awaitable<typename R::flow_type>>;
};

/// The GUI agent: the protocol endpoint dom0's GUI daemon talks to.
///   g.protocol_version()   the negotiated (major << 16 | minor) version
///   co_await g.run()       serves dom0's messages until the connection ends
template <class G>
concept qubes_gui = requires(G& g, const G& cg) {
  { cg.protocol_version() } -> std::same_as<std::uint32_t>;
  { g.run() } -> std::same_as<asio::awaitable<void>>;
};

}  // namespace uk
