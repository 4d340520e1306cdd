// The QubesDB client core (qubes-protocols.md sections 1.4, 1.5) replaying
// the real daemons' exchange byte for byte, then its bounds and hostile input.
#include <catch2/catch.hpp>

#include <uk/qubes/db_core.hpp>

#include <string>
#include <vector>

#include "unit/qubes_db/socat_transcript.hpp"

namespace qdb = uk::wire::qubes_db;
using uk::qubes::db_change;
using uk::qubes::db_core;
using uk::qubes::db_local_result;
using uk::qubes::db_state;
using uk::test::qdb::read_socat_transcript;

namespace {

/// Upstream senders leave garbage after the path's NUL and in the padding:
/// zero it in every header of a stream of messages, as uk sends them.
std::vector<std::byte> canonical(std::vector<std::byte> stream) {
  std::size_t at = 0;
  while (at + qdb::header_length <= stream.size()) {
    bool after_nul = false;
    for (std::size_t i = qdb::field::path; i < qdb::field::data_len; ++i) {
      if (i >= qdb::field::padding || after_nul) stream[at + i] = std::byte{0};
      if (stream[at + i] == std::byte{0}) after_nul = true;
    }
    at += qdb::header_length + qdb::detail::load_le32(stream.data() + at + qdb::field::data_len);
  }
  return stream;
}

std::vector<std::byte> take(db_core& core) {
  std::vector<std::byte> out;
  core.take_output(out);
  return out;
}

std::vector<std::byte> message(qdb::message_type type, std::string_view path, std::string_view value = {}) {
  std::vector<std::byte> m(qdb::header_length + value.size());
  qdb::emit_message(m, type, path, value);
  return m;
}

std::vector<std::byte> multiread_answer(std::initializer_list<std::pair<std::string_view, std::string_view>> entries) {
  std::vector<std::byte> out;
  for (const auto& [path, value] : entries) {
    const auto m = message(qdb::message_type::resp_multiread, path, value);
    out.insert(out.end(), m.begin(), m.end());
  }
  const auto end = message(qdb::message_type::resp_multiread, "");
  out.insert(out.end(), end.begin(), end.end());
  return out;
}

struct change_log {
  std::vector<std::string> lines;
  void operator()(const db_change& c) {
    lines.push_back((c.what == db_change::kind::written ? "write " : "rm ") + std::string(c.path) +
                    (c.what == db_change::kind::written ? "=" + std::string(c.value) : ""));
  }
};

db_core synced_core(std::initializer_list<std::pair<std::string_view, std::string_view>> entries,
                    uk::qubes::db_limits limits = {}) {
  db_core core(limits);
  core.connected();
  take(core);
  REQUIRE(core.receive(multiread_answer(entries)));
  REQUIRE(core.state() == db_state::synced);
  return core;
}

}  // namespace

TEST_CASE("QubesDB 1.5: the upstream exchange replays byte for byte (sync, pushed write and rm, local write)") {
  const auto t = read_socat_transcript("qubesdb-vchan-socat.txt");
  REQUIRE(t.size() == 8);
  db_core core;
  change_log log;
  core.set_change_handler(log);

  // 1. The VM connects and sends one MULTIREAD with an empty path.
  core.connected();
  CHECK(core.state() == db_state::syncing);
  CHECK(take(core) == canonical(t[0].bytes));

  // 2. dom0 answers every entry in descending order, then the end marker. Nothing to send back.
  REQUIRE(core.receive(t[1].bytes));
  CHECK(core.state() == db_state::synced);
  CHECK_FALSE(core.has_output());
  CHECK(core.entries().size() == 7);
  REQUIRE(core.find("/qubes-ip"));
  CHECK(*core.find("/qubes-ip") == "10.137.0.5");
  CHECK(*core.find("/qubes-gateway") == "10.137.0.1");
  CHECK(*core.find("/qubes-secondary-dns") == "10.139.1.2");
  CHECK(*core.find("/name") == "testvm");
  CHECK(log.lines.size() == 7);  // the sync is seen as changes (watches fire for synced entries, 1.4)

  // 3-4. dom0 pushes a WRITE: applied, answered RESP_OK with the same path.
  REQUIRE(core.receive(t[2].bytes));
  CHECK(*core.find("/qubes-test-key") == "hello");
  REQUIRE(t[3].direction == '>');
  CHECK(take(core) == canonical(t[3].bytes));

  // dom0 pushes an RM: applied, answered RESP_OK.
  REQUIRE(core.receive(t[4].bytes));
  CHECK(core.find("/qubes-secondary-dns") == nullptr);
  CHECK(take(core) == canonical(t[5].bytes));

  // 5. A local write goes to dom0, which answers RESP_OK.
  CHECK(core.write("/qubes-from-vm", "yes") == db_local_result::done);
  CHECK(take(core) == canonical(t[6].bytes));
  REQUIRE(core.receive(t[7].bytes));
  CHECK(core.counters().acks_received == 1);
  CHECK_FALSE(core.has_output());

  CHECK(log.lines.back() == "write /qubes-from-vm=yes");
  CHECK(log.lines[log.lines.size() - 2] == "rm /qubes-secondary-dns");
  CHECK(core.counters().pushed_writes == 1);
  CHECK(core.counters().pushed_removes == 1);
  CHECK(core.counters().dropped_malformed == 0);
}

TEST_CASE("QubesDB 1.5: dom0's bytes may arrive split anywhere, one byte at a time") {
  const auto t = read_socat_transcript("qubesdb-vchan-socat.txt");
  db_core core;
  core.connected();
  take(core);
  for (const auto b : t[1].bytes) REQUIRE(core.receive(std::span(&b, 1)));
  for (const auto b : t[2].bytes) REQUIRE(core.receive(std::span(&b, 1)));
  CHECK(core.entries().size() == 8);
  CHECK(take(core) == canonical(t[3].bytes));
}

TEST_CASE("QubesDB 1.5: one MULTIREAD per connection, and a fresh one after a reconnect replaces the entries") {
  db_core core;
  change_log log;
  core.set_change_handler(log);
  core.connected();
  CHECK(take(core) == message(qdb::message_type::multiread, ""));
  REQUIRE(core.receive(multiread_answer({{"/b", "1"}, {"/a", "1"}})));
  CHECK_FALSE(core.has_output());  // never a second MULTIREAD on this connection

  core.disconnected();
  CHECK(core.state() == db_state::disconnected);
  CHECK(*core.find("/a") == "1");  // still readable while dom0 is away
  core.connected();
  CHECK(take(core) == message(qdb::message_type::multiread, ""));
  log.lines.clear();
  REQUIRE(core.receive(multiread_answer({{"/c", "3"}, {"/a", "2"}})));
  CHECK(core.find("/b") == nullptr);
  CHECK(*core.find("/a") == "2");
  CHECK(log.lines == std::vector<std::string>{"rm /b", "write /a=2", "write /c=3"});
  CHECK(core.counters().syncs == 2);
}

TEST_CASE("QubesDB 1.4: RM of a path ending in '/' removes every entry under it") {
  auto core = synced_core({{"/qubes-firewall/10.0.0.1/0000", "action=accept"},
                           {"/qubes-firewall/10.0.0.1/0001", "action=drop"},
                           {"/qubes-firewall/10.0.0.1", ""},
                           {"/qubes-ip", "10.0.0.1"}});
  REQUIRE(core.receive(message(qdb::message_type::rm, "/qubes-firewall/10.0.0.1/")));
  CHECK(core.entries().size() == 2);
  CHECK(core.find("/qubes-firewall/10.0.0.1"));
  CHECK(take(core) == message(qdb::message_type::resp_ok, "/qubes-firewall/10.0.0.1/"));
}

TEST_CASE("QubesDB 1.5: an RM pushed for a path this side lacks is ignored and answered") {
  auto core = synced_core({{"/a", "1"}});
  REQUIRE(core.receive(message(qdb::message_type::rm, "/nothing")));
  CHECK(core.counters().removes_of_missing == 1);
  CHECK(take(core) == message(qdb::message_type::resp_ok, "/nothing"));
}

TEST_CASE("QubesDB 1.5: a local RM of a path dom0 lacks is never sent (dom0 would exit)") {
  auto core = synced_core({{"/a", "1"}});
  CHECK(core.remove("/b") == db_local_result::no_such_key);
  CHECK(core.remove("/a/") == db_local_result::no_such_key);
  CHECK_FALSE(core.has_output());
  CHECK(core.remove("/a") == db_local_result::done);
  CHECK(take(core) == message(qdb::message_type::rm, "/a"));
}

TEST_CASE("QubesDB 1.3: local writes with invalid paths or values are refused, nothing sent") {
  auto core = synced_core({});
  CHECK(core.write("", "x") == db_local_result::invalid_path);
  CHECK(core.write("-x", "x") == db_local_result::invalid_path);
  CHECK(core.write("/a b", "x") == db_local_result::invalid_path);
  CHECK(core.write(std::string(64, 'a'), "x") == db_local_result::invalid_path);
  CHECK(core.write("/a", std::string_view("x\0y", 3)) == db_local_result::invalid_value);
  CHECK(core.write("/a", std::string(3072, 'v')) == db_local_result::invalid_value);
  CHECK_FALSE(core.has_output());
  CHECK(core.write("/a", std::string(3071, 'v')) == db_local_result::done);
}

TEST_CASE("QubesDB 1.5: local changes before dom0 answered the MULTIREAD are sent after the sync") {
  db_core core;
  CHECK(core.write("/early", "1") == db_local_result::done);
  CHECK(*core.find("/early") == "1");
  core.connected();
  CHECK(take(core) == message(qdb::message_type::multiread, ""));  // not before the MULTIREAD
  CHECK(core.write("/during", "2") == db_local_result::done);
  CHECK_FALSE(core.has_output());
  REQUIRE(core.receive(multiread_answer({{"/x", "0"}})));
  auto expected = message(qdb::message_type::write, "/early", "1");
  const auto during = message(qdb::message_type::write, "/during", "2");
  expected.insert(expected.end(), during.begin(), during.end());
  CHECK(take(core) == expected);
  CHECK(*core.find("/early") == "1");
  CHECK(*core.find("/x") == "0");
}

TEST_CASE("QubesDB bounds: new keys beyond max_entries are refused and counted, updates still apply") {
  auto core = synced_core({{"/a", "1"}, {"/b", "1"}}, {.max_entries = 2});
  REQUIRE(core.receive(message(qdb::message_type::write, "/c", "1")));
  CHECK(core.find("/c") == nullptr);
  CHECK(core.counters().entries_refused_full == 1);
  CHECK(take(core) == message(qdb::message_type::resp_ok, "/c"));  // still answered
  REQUIRE(core.receive(message(qdb::message_type::write, "/a", "2")));
  CHECK(*core.find("/a") == "2");
  CHECK(core.write("/d", "1") == db_local_result::full);
  CHECK(core.counters().entries_refused_full == 2);

  db_core syncing({.max_entries = 1});
  syncing.connected();
  REQUIRE(syncing.receive(multiread_answer({{"/b", "1"}, {"/a", "1"}})));
  CHECK(syncing.entries().size() == 1);
  CHECK(syncing.counters().entries_refused_full == 1);
}

TEST_CASE("QubesDB bounds: local changes waiting for a sync and unsent output are bounded") {
  db_core core({.max_pending_changes = 1});
  CHECK(core.write("/a", "1") == db_local_result::done);
  CHECK(core.write("/b", "1") == db_local_result::full);
  CHECK(core.counters().pending_refused_full == 1);

  auto small = synced_core({}, {.max_output_bytes = 100});
  CHECK(small.write("/a", "1") == db_local_result::done);
  CHECK(small.write("/b", "1") == db_local_result::full);
  CHECK(small.counters().output_overflows == 1);
  // An acknowledgement that does not fit breaks the connection (the device reconnects).
  CHECK_FALSE(small.receive(message(qdb::message_type::write, "/c", "1")));
}

TEST_CASE("QubesDB hostile input: bad types, paths and values are skipped by data_len and counted") {
  auto core = synced_core({{"/a", "1"}});
  auto bad_type = message(qdb::message_type::write, "/x", "vv");
  bad_type[0] = std::byte{0x42};
  auto bad_path = message(qdb::message_type::write, "/x", "vv");
  bad_path[2] = std::byte{'*'};
  auto nul_value = message(qdb::message_type::write, "/x", "vv");
  nul_value[72] = std::byte{0};
  auto read = message(qdb::message_type::read, "/a");
  auto late_entry = message(qdb::message_type::resp_multiread, "/z", "1");
  for (const auto* m : {&bad_type, &bad_path, &nul_value, &read, &late_entry}) REQUIRE(core.receive(*m));
  CHECK(core.counters().dropped_malformed == 3);
  CHECK(core.counters().dropped_unexpected == 2);
  CHECK(core.entries().size() == 1);
  CHECK_FALSE(core.has_output());
  // The stream is still followed: the next message applies.
  REQUIRE(core.receive(message(qdb::message_type::write, "/y", "1")));
  CHECK(*core.find("/y") == "1");
}

TEST_CASE("QubesDB hostile input: a data_len of 3072 or more loses the framing: the connection is dropped") {
  auto core = synced_core({});
  auto huge = message(qdb::message_type::write, "/x");
  huge[68] = std::byte{0x00};
  huge[69] = std::byte{0x0c};  // 3072
  CHECK_FALSE(core.receive(huge));
  CHECK(core.counters().protocol_errors == 1);
}
