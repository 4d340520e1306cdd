// Tests of uk/wire/qubes_rexec.hpp against qubes-protocols.md section 2 and
// the bytes of the real qrexec-daemon and agent (tests/data/qubes).
#include <uk/wire/qubes_rexec.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "support/bytes.hpp"
#include "unit/qubes_rexec/transcript.hpp"

namespace rexec = uk::wire::qubes_rexec;
using uk::test::bytes_of;
using uk::wire::error;

namespace {
std::span<const std::byte> body_of(const std::vector<std::byte>& message) {
  return std::span<const std::byte>(message).subspan(rexec::header_length);
}
}  // namespace

TEST_CASE("qrexec 2.3: MSG_HELLO of version 4 is 00 03 00 00 04 00 00 00 04 00 00 00", "[wire][qrexec]") {
  std::vector<std::byte> out(12);
  REQUIRE(rexec::emit_hello(out, 4) == 12);
  CHECK(out == bytes_of({0x00, 0x03, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0}));
  const auto h = rexec::parse_header(out);
  REQUIRE(h);
  CHECK(h->is(rexec::message_type::hello));
  CHECK(h->length == 4);
  CHECK(*rexec::parse_hello(body_of(out)) == 4u);
}

TEST_CASE("qrexec 2.2: a header needs 8 bytes, a HELLO body exactly 4", "[wire][qrexec]") {
  CHECK(rexec::parse_header(bytes_of({0, 3, 0, 0, 4, 0, 0})).error() == error::truncated);
  CHECK(rexec::parse_hello(bytes_of({4, 0, 0})).error() == error::bad_length);
  CHECK(rexec::parse_hello(bytes_of({4, 0, 0, 0, 0})).error() == error::bad_length);
}

TEST_CASE("qrexec 2.4: dom0's MSG_EXEC_CMDLINE from the transcript parses to domain 0, port 513 and the command",
          "[wire][qrexec]") {
  const auto chunks = uk::test::read_transcript("qrexec-control-512-socat.txt");
  const auto& exec = chunks[2].bytes;  // "> ... length=48"
  REQUIRE(exec.size() == 48);
  const auto h = rexec::parse_header(exec);
  REQUIRE(h);
  CHECK(h->is(rexec::message_type::exec_cmdline));
  const auto p = rexec::parse_exec_params(body_of(exec));
  REQUIRE(p);
  CHECK(p->connect_domain == 0);
  CHECK(p->connect_port == 513);
  CHECK(p->cmdline == "root:echo hello-from-vm; exit 3");
  const auto line = rexec::parse_command_line(p->cmdline);
  REQUIRE(line);
  CHECK(line->user == "root");
  CHECK_FALSE(line->nogui);
  CHECK(line->command == "echo hello-from-vm; exit 3");
  CHECK(rexec::parse_rpc_call(line->command).error() == error::unsupported);

  std::vector<std::byte> again(rexec::exec_message_length(p->cmdline));
  rexec::emit_exec(again, rexec::message_type::exec_cmdline, 0, 513, p->cmdline);
  CHECK(again == exec);
}

TEST_CASE("qrexec 2.2: an exec's command must end with its only NUL", "[wire][qrexec]") {
  CHECK(rexec::parse_exec_params(bytes_of({0, 0, 0, 0, 1, 2, 0, 0})).error() == error::bad_length);
  CHECK(rexec::parse_exec_params(bytes_of({0, 0, 0, 0, 1, 2, 0, 0, 'a', ':', 'b'})).error() == error::malformed);
  CHECK(rexec::parse_exec_params(bytes_of({0, 0, 0, 0, 1, 2, 0, 0, 'a', 0, 'b', 0})).error() == error::malformed);
  CHECK(rexec::parse_exec_params(bytes_of({0, 0, 0, 0, 1, 2, 0, 0, 'a', ':', 'b', 0})));
}

TEST_CASE("qrexec 2.4: QUBESRPC commands name the service, its argument and the calling VM", "[wire][qrexec]") {
  const auto line = rexec::parse_command_line("user:nogui:QUBESRPC test.Echo+arg1 work");
  REQUIRE(line);
  CHECK(line->user == "user");
  CHECK(line->nogui);
  const auto call = rexec::parse_rpc_call(line->command);
  REQUIRE(call);
  CHECK(call->service == "test.Echo");
  CHECK(call->argument == "arg1");
  CHECK(call->source == "work");

  // The dom0-target variant carries "keyword adminvm" after the source.
  const auto to_dom0 = rexec::parse_rpc_call("QUBESRPC qubes.Ping dom0 keyword adminvm");
  REQUIRE(to_dom0);
  CHECK(to_dom0->service == "qubes.Ping");
  CHECK(to_dom0->argument.empty());
  CHECK(to_dom0->source == "dom0");

  CHECK(rexec::parse_command_line("no user").error() == error::malformed);
  CHECK(rexec::parse_rpc_call("QUBESRPC test.Echo").error() == error::malformed);
  CHECK(rexec::parse_rpc_call("QUBESRPC +arg vm").error() == error::malformed);
  CHECK(rexec::parse_rpc_call("QUBESRPC  vm").error() == error::malformed);
}

TEST_CASE("qrexec 2.5: MSG_TRIGGER_SERVICE4 for test.Echo+arg1 in @adminvm is the agent's 175-byte body",
          "[wire][qrexec]") {
  const auto chunks = uk::test::read_transcript("qrexec-control-512-socat.txt");
  std::vector<std::byte> captured = chunks[4].bytes;  // header
  captured.insert(captured.end(), chunks[5].bytes.begin(), chunks[5].bytes.end());
  REQUIRE(captured.size() == 8 + 175);

  const rexec::trigger_request r{"", "@adminvm", "SOCKET13", "test.Echo+arg1"};
  REQUIRE(rexec::trigger_fits(4, r));
  std::vector<std::byte> out(rexec::trigger_message_length(4, r.service.size()));
  REQUIRE(rexec::emit_trigger(out, 4, r) == out.size());
  CHECK(out == captured);

  const auto parsed = rexec::parse_trigger(rexec::message_type::trigger_service4, body_of(captured));
  REQUIRE(parsed);
  CHECK(parsed->source_domain.empty());
  CHECK(parsed->target_domain == "@adminvm");
  CHECK(parsed->request_id == "SOCKET13");
  CHECK(parsed->service == "test.Echo+arg1");
}

TEST_CASE("qrexec 2.2: the trigger message follows the version: 128 bytes at 2, 96 + name at 3, 160 + name at 4",
          "[wire][qrexec]") {
  const rexec::trigger_request r{"", "work", "uk1", "qubes.Ping+x"};
  for (std::uint32_t v : {2u, 3u, 4u}) {
    std::vector<std::byte> out(rexec::trigger_message_length(v, r.service.size()));
    rexec::emit_trigger(out, v, r);
    const auto h = rexec::parse_header(out);
    REQUIRE(h);
    CHECK(h->type == static_cast<std::uint32_t>(rexec::trigger_type(v)));
    CHECK(h->length == (v == 2 ? 128u : v == 3 ? 96u + 13u : 160u + 13u));
    const auto back = rexec::parse_trigger(rexec::trigger_type(v), body_of(out));
    REQUIRE(back);
    CHECK(back->target_domain == "work");
    CHECK(back->request_id == "uk1");
    CHECK(back->service == "qubes.Ping+x");
  }
  CHECK(rexec::trigger_type(2) == rexec::message_type::trigger_service);
  CHECK(rexec::trigger_type(3) == rexec::message_type::trigger_service3);
  CHECK(rexec::trigger_type(4) == rexec::message_type::trigger_service4);
  // Version 2's fields are 64 bytes for the service and 32 for the target.
  CHECK_FALSE(rexec::trigger_fits(2, {"", std::string(32, 'a'), "x", "s"}));
  CHECK(rexec::trigger_fits(3, {"", std::string(32, 'a'), "x", "s"}));
}

TEST_CASE("qrexec 2.5: dom0's MSG_SERVICE_CONNECT echoes the request id SOCKET13, port 513", "[wire][qrexec]") {
  const auto chunks = uk::test::read_transcript("qrexec-control-512-socat.txt");
  std::vector<std::byte> captured = chunks[6].bytes;
  captured.insert(captured.end(), chunks[7].bytes.begin(), chunks[7].bytes.end());
  const auto h = rexec::parse_header(captured);
  REQUIRE(h);
  CHECK(h->is(rexec::message_type::service_connect));
  const auto c = rexec::parse_service_connect(body_of(captured));
  REQUIRE(c);
  CHECK(c->connect_domain == 0);
  CHECK(c->connect_port == 513);
  CHECK(c->ident == "SOCKET13");
  std::vector<std::byte> again(48);
  rexec::emit_service_connect(again, 0, 513, "SOCKET13");
  CHECK(again == captured);

  std::vector<std::byte> refused(40);
  rexec::emit_service_refused(refused, "SOCKET13");
  CHECK(*rexec::parse_service_refused(body_of(refused)) == "SOCKET13");
  // A request id filling all 32 bytes has no NUL: malformed.
  std::vector<std::byte> no_nul(32, std::byte{'a'});
  CHECK(rexec::parse_service_refused(no_nul).error() == error::malformed);
}

TEST_CASE("qrexec 2.4: MSG_CONNECTION_TERMINATED for domain 0 port 513 is the agent's 16 bytes", "[wire][qrexec]") {
  std::vector<std::byte> out(16);
  rexec::emit_connection_terminated(out, {0, 513});
  CHECK(out == bytes_of({0x11, 0x02, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0, 0}));
  CHECK(*rexec::parse_connection_terminated(body_of(out)) == rexec::port_ref{0, 513});
}

TEST_CASE("qrexec 2.4: exit code 3 is 93 01 00 00 04 00 00 00 03 00 00 00", "[wire][qrexec]") {
  std::vector<std::byte> out(12);
  rexec::emit_exit_code(out, 3);
  CHECK(out == bytes_of({0x93, 0x01, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0}));
  CHECK(*rexec::parse_exit_code(body_of(out)) == 3);
  rexec::emit_exit_code(out, -1);
  CHECK(*rexec::parse_exit_code(body_of(out)) == -1);
  CHECK(rexec::parse_exit_code(bytes_of({3, 0, 0})).error() == error::bad_length);
}

TEST_CASE("qrexec 2.1: chunks of 4096 bytes at version 2, 65536 from version 3", "[wire][qrexec]") {
  CHECK(rexec::max_data_chunk(2) == 4096);
  CHECK(rexec::max_data_chunk(3) == 65536);
  CHECK(rexec::max_data_chunk(4) == 65536);
}

TEST_CASE("qrexec 2.2: the names and targets dom0 accepts", "[wire][qrexec]") {
  CHECK(rexec::valid_service_name("test.Echo+arg1"));
  CHECK(rexec::valid_service_name("my-service_2+a.b-c"));
  CHECK_FALSE(rexec::valid_service_name(""));
  CHECK_FALSE(rexec::valid_service_name("+arg"));
  CHECK_FALSE(rexec::valid_service_name("a b"));
  CHECK_FALSE(rexec::valid_service_name("a/b"));
  CHECK(rexec::valid_target("@adminvm"));
  CHECK(rexec::valid_target("@dispvm:web"));
  CHECK_FALSE(rexec::valid_target("a b"));
  CHECK_FALSE(rexec::valid_target(""));
  CHECK(rexec::valid_request_id("SOCKET13"));
  CHECK_FALSE(rexec::valid_request_id(std::string(32, 'a')));
}
