// The QubesDB device against a fake dom0 daemon over the socket vchan
// (qubes-protocols.md section 1.5): initial sync, pushed writes and
// removals, local changes, commit waits, dom0 restart and reconnect.
#include <catch2/catch.hpp>

#include <uk/qubes/db.hpp>

#include <boost/asio/detached.hpp>

#include "unit/qubes_db/db_fixture.hpp"

namespace asio = boost::asio;
using uk::test::fake_qubesdb;
using uk::test::qdb::fixture;
using uk::test::qdb::typical_vm;


static_assert(uk::qubes_db<uk::qubes::db>);

TEST_CASE("QubesDB device 1.5: connect() completes once dom0 answered the one MULTIREAD") {
  fixture f(typical_vm);
  f.run([&]() -> asio::awaitable<void> { co_await f.db.connect(); });
  CHECK(f.db.state() == uk::qubes::db_state::synced);
  CHECK(f.db.read("/qubes-ip") == "10.137.0.5");
  CHECK(f.db.read("/name") == "testvm");
  CHECK_FALSE(f.db.read("/absent"));
  CHECK(f.db.entries("/qubes-").size() == 5);
  CHECK(f.dom0->received() == std::vector<std::string>{"MULTIREAD ''"});
  CHECK(f.dom0->synced());
}

TEST_CASE("QubesDB device 1.5: dom0's pushed WRITE and RM wake changed() and are answered RESP_OK") {
  fixture f(typical_vm);
  f.run([&]() -> asio::awaitable<void> { co_await f.db.connect(); });

  bool woke = false;
  asio::co_spawn(f.io, [&]() -> asio::awaitable<void> {
    co_await f.db.changed();
    woke = true;
  }, asio::detached);
  f.io.poll();
  CHECK_FALSE(woke);
  f.dom0->push_write("/qubes-test-key", "hello");
  f.run_until([&] { return woke && f.dom0->received().size() == 2; });
  CHECK(f.db.read("/qubes-test-key") == "hello");
  CHECK(f.dom0->received().back() == "QDB_RESP_OK /qubes-test-key");

  // changed(prefix) ignores other keys.
  bool dns_changed = false;
  asio::co_spawn(f.io, [&]() -> asio::awaitable<void> {
    co_await f.db.changed("/qubes-secondary-dns");
    dns_changed = true;
  }, asio::detached);
  f.dom0->push_write("/other", "x");
  f.run_until([&] { return f.dom0->received().size() == 3; });
  CHECK_FALSE(dns_changed);
  f.dom0->push_remove("/qubes-secondary-dns");
  f.run_until([&] { return dns_changed && f.dom0->received().size() == 4; });
  CHECK_FALSE(f.db.read("/qubes-secondary-dns"));
  CHECK(f.dom0->received().back() == "QDB_RESP_OK /qubes-secondary-dns");
  CHECK_FALSE(f.dom0->fatal());
}

TEST_CASE("QubesDB device 1.5: local writes and removals reach dom0, and an RM of a missing key is never sent") {
  fixture f(typical_vm);
  f.run([&]() -> asio::awaitable<void> {
    co_await f.db.connect();
    co_await f.db.write("/qubes-from-vm", "yes");
    co_await f.db.remove("/never-written");  // dom0 would exit on it: not sent
    co_await f.db.remove("/name");
  });
  f.run_until([&] { return f.dom0->received().size() == 3; });
  CHECK(f.dom0->received() == std::vector<std::string>{"MULTIREAD ''", "WRITE /qubes-from-vm=yes", "RM /name"});
  CHECK(f.dom0->entries().at("/qubes-from-vm") == "yes");
  CHECK_FALSE(f.dom0->entries().contains("/name"));
  CHECK(f.db.read("/qubes-from-vm") == "yes");
  CHECK_FALSE(f.dom0->fatal());
  CHECK_THROWS_AS(f.run([&]() -> asio::awaitable<void> { co_await f.db.write("/bad path", "x"); }),
                  std::invalid_argument);
}

TEST_CASE("QubesDB device 1.7: wait_for_commit returns the entries under the prefix once the empty marker is written") {
  fixture f(typical_vm);
  f.run([&]() -> asio::awaitable<void> { co_await f.db.connect(); });
  std::optional<uk::qubes::db::entry_map> rules;
  asio::co_spawn(f.io, [&]() -> asio::awaitable<void> {
    rules = co_await f.db.wait_for_commit("/qubes-firewall/10.137.0.5");
  }, asio::detached);
  f.dom0->push_write("/qubes-firewall/10.137.0.5/0000", "action=accept proto=tcp dstports=80-80");
  f.dom0->push_write("/qubes-firewall/10.137.0.5/0001", "action=drop");
  f.dom0->push_write("/qubes-firewall/10.137.0.5", "not-empty");  // not a commit marker
  f.run_until([&] { return f.dom0->received().size() == 4; });
  CHECK_FALSE(rules);
  f.dom0->push_write("/qubes-firewall/10.137.0.5", "");
  f.run_until([&] { return rules.has_value(); });
  REQUIRE(rules->size() == 2);
  CHECK(rules->at("/qubes-firewall/10.137.0.5/0001") == "action=drop");
}

TEST_CASE("QubesDB device 1.5: when dom0's daemon restarts the VM reconnects with a fresh MULTIREAD") {
  fixture f(typical_vm);
  f.run([&]() -> asio::awaitable<void> { co_await f.db.connect(); });
  bool gateway_changed = false;
  asio::co_spawn(f.io, [&]() -> asio::awaitable<void> {
    co_await f.db.changed("/qubes-gateway");
    gateway_changed = true;
  }, asio::detached);

  // The daemon dies; a new one starts with changed entries.
  f.dom0->stop();
  f.run_until([&] { return f.db.state() != uk::qubes::db_state::synced; });
  CHECK(f.db.read("/qubes-ip") == "10.137.0.5");  // still readable meanwhile
  auto changed = typical_vm;
  changed["/qubes-gateway"] = "10.137.0.9";
  changed.erase("/name");
  f.start_dom0(changed);
  f.run_until([&] { return gateway_changed; });
  CHECK(f.db.state() == uk::qubes::db_state::synced);
  CHECK(f.db.read("/qubes-gateway") == "10.137.0.9");
  CHECK_FALSE(f.db.read("/name"));  // the fresh MULTIREAD replaces the entries
  CHECK(f.db.connections() == 2);
  CHECK(f.dom0->received() == std::vector<std::string>{"MULTIREAD ''"});

  // The same daemon dropping the connection (it re-listens): one more MULTIREAD, never two on one connection.
  f.dom0->restart();
  f.run_until([&] { return f.dom0->connections() == 2 && f.dom0->synced(); });
  CHECK(f.dom0->received() == std::vector<std::string>{"MULTIREAD ''", "MULTIREAD ''"});
  CHECK_FALSE(f.dom0->fatal());
  CHECK(f.db.connections() == 3);
}

TEST_CASE("QubesDB device: a change made while dom0 is away reaches it after the next sync") {
  fixture f(typical_vm);
  f.run([&]() -> asio::awaitable<void> { co_await f.db.connect(); });
  f.dom0->stop();
  f.run_until([&] { return f.db.state() != uk::qubes::db_state::synced; });
  f.run([&]() -> asio::awaitable<void> { co_await f.db.write("/qubes-from-vm", "offline"); });
  f.start_dom0(typical_vm);
  f.run_until([&] { return f.dom0->received().size() == 2; });
  CHECK(f.dom0->received() == std::vector<std::string>{"MULTIREAD ''", "WRITE /qubes-from-vm=offline"});
  CHECK(f.db.read("/qubes-from-vm") == "offline");
}
