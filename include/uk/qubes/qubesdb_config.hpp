// uk::qubes::qubesdb_config: the IPv4 configuration dom0 gives a Qubes VM in
// QubesDB (qubes-protocols.md section 1.7; mirage-qubes' Qubesdb_ipv4). It
// satisfies uk::ipv4_config, so the direct stack's ipv4 layer takes it as a
// policy in place of static_config.
//
//   /qubes-ip        the VM's address, used as a /32
//   /qubes-gateway   the netvm's address, reached on-link (the /32 has no
//                    neighbours: the gateway lies outside it by design)
//   /qubes-netmask   a decoy (always 255.255.255.255; mirage-qubes #3, #5):
//                    not read
//   /qubes-primary-dns, /qubes-secondary-dns   offered as dns_servers()
//
// A missing or malformed /qubes-ip (or a malformed /qubes-gateway) when the
// device is created is a boot error (uk::device_error, exit status 2) that
// names the key and the value. Unlike Mirage, which reads the keys once, the
// device follows dom0: when /qubes-ip or /qubes-gateway change, the new
// configuration is applied and the change handler called; a change to
// something unusable is logged and ignored (the last good one stays).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <fmt/format.h>

#include "uk/addr.hpp"
#include "uk/asio.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/delegate.hpp"
#include "uk/direct/static_config.hpp"
#include "uk/log.hpp"
#include "uk/qubes/db.hpp"
#include "uk/result.hpp"
#include "uk/runtime/device.hpp"

namespace uk::qubes {

/// The QubesDB keys the configuration reads.
namespace qubesdb_keys {
inline constexpr std::string_view ip = "/qubes-ip";
inline constexpr std::string_view gateway = "/qubes-gateway";
inline constexpr std::string_view primary_dns = "/qubes-primary-dns";
inline constexpr std::string_view secondary_dns = "/qubes-secondary-dns";
}  // namespace qubesdb_keys

/// An address (always a /32) and an optional on-link gateway.
struct qubesdb_ipv4 {
  ipv4_prefix address;
  std::optional<ipv4_address> gateway;
  friend bool operator==(const qubesdb_ipv4&, const qubesdb_ipv4&) = default;
};

/// The configuration the values of /qubes-ip and /qubes-gateway give, or
/// what is wrong with them (a sentence naming the key).
inline result<qubesdb_ipv4, std::string> parse_qubesdb_ipv4(const std::optional<std::string>& ip,
                                                            const std::optional<std::string>& gateway) {
  if (!ip) return failure{std::string("QubesDB has no /qubes-ip: this VM has no network (is its netvm set?)")};
  const auto address = ipv4_address::parse(*ip);
  if (!address) return failure{fmt::format("QubesDB /qubes-ip is '{}', not an IPv4 address", *ip)};
  qubesdb_ipv4 c{ipv4_prefix{*address, 32}, std::nullopt};
  if (gateway) {
    const auto g = ipv4_address::parse(*gateway);
    if (!g) return failure{fmt::format("QubesDB /qubes-gateway is '{}', not an IPv4 address", *gateway)};
    c.gateway = *g;
  }
  if (auto problem = direct::invalid_configuration(c.address, c.gateway))
    return failure{fmt::format("QubesDB /qubes-ip {} and /qubes-gateway: {}", *ip, *problem)};
  return c;
}

class qubesdb_config {
 public:
  using keys = key_list<>;
  using dependencies = device_list<db>;
  static constexpr std::string_view device_name = "qubesdb ipv4 config";

  /// Reads the configuration from a synchronised `database`. Throws
  /// uk::device_error, saying what is wrong, when it is missing or malformed.
  explicit qubesdb_config(db& database) : db_(database) {
    auto c = parse_qubesdb_ipv4(db_.read(qubesdb_keys::ip), db_.read(qubesdb_keys::gateway));
    if (!c) throw device_error(c.error());
    current_ = *c;
    log::info(log::source::qubes_db, "IPv4 from QubesDB: {} gateway {}", current_.address,
              current_.gateway ? fmt::format("{}", *current_.gateway) : std::string("none"));
  }

  /// As uk::run creates it, once the QubesDB device is connected.
  template <class Keys>
  qubesdb_config(device_context&, const Keys&, db& database) : qubesdb_config(database) {}

  qubesdb_config(const qubesdb_config&) = delete;
  qubesdb_config& operator=(const qubesdb_config&) = delete;

  /// Starts following dom0's changes (uk::run calls it after construction).
  asio::awaitable<void> connect() {
    follow();
    co_return;
  }

  /// Follows changes of /qubes-ip and /qubes-gateway in the background.
  void follow() {
    if (following_) return;
    following_ = true;
    asio::co_spawn(db_.executor(), follow_changes(), asio::detached);
  }

  // ---- uk::ipv4_config ------------------------------------------------------
  std::optional<ipv4_prefix> address() const noexcept { return current_.address; }
  std::optional<ipv4_address> gateway() const noexcept { return current_.gateway; }
  void set_change_handler(delegate<void()> h) noexcept { on_change_ = h; }

  /// The DNS servers dom0 offers: /qubes-primary-dns, then /qubes-secondary-dns
  /// (those that are present and valid).
  std::vector<ipv4_address> dns_servers() const {
    std::vector<ipv4_address> out;
    for (auto key : {qubesdb_keys::primary_dns, qubesdb_keys::secondary_dns})
      if (const auto v = db_.read(key))
        if (const auto a = ipv4_address::parse(*v)) out.push_back(*a);
    return out;
  }

  /// The QubesDB device the configuration comes from.
  db& database() noexcept { return db_; }

 private:
  asio::awaitable<void> follow_changes() {
    while (!db_.stopped()) {
      co_await db_.changed("/qubes-");
      apply(parse_qubesdb_ipv4(db_.read(qubesdb_keys::ip), db_.read(qubesdb_keys::gateway)));
    }
  }

  void apply(const result<qubesdb_ipv4, std::string>& c) {
    if (!c) {
      log::warning(log::source::qubes_db, "{}: keeping {}", c.error(), current_.address);
      return;
    }
    if (*c == current_) return;
    current_ = *c;
    log::info(log::source::qubes_db, "IPv4 from QubesDB changed: {} gateway {}", current_.address,
              current_.gateway ? fmt::format("{}", *current_.gateway) : std::string("none"));
    if (on_change_) on_change_();
  }

  db& db_;
  qubesdb_ipv4 current_;
  delegate<void()> on_change_;
  bool following_ = false;
};

static_assert(ipv4_config<qubesdb_config>);

}  // namespace uk::qubes
