// Tests of the qrexec control channel core (uk/qubes/rexec_control.hpp):
// the real daemon's transcript replayed byte for byte, version negotiation at
// 2, 3 and 4, and what a hostile or broken dom0 gets.
#include <uk/qubes/rexec_control.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "support/bytes.hpp"
#include "unit/qubes_rexec/transcript.hpp"

namespace rexec = uk::wire::qubes_rexec;
using uk::qubes::rexec_control;
using uk::qubes::rexec_control_error;
using uk::qubes::rexec_control_event;
using uk::test::bytes_of;

namespace {

std::vector<std::byte> take_output(rexec_control& c) {
  std::vector<std::byte> out(c.output().begin(), c.output().end());
  c.consume_output(out.size());
  return out;
}

rexec_control_event next(rexec_control& c) {
  auto e = c.next_event();
  REQUIRE(e);
  REQUIRE(e->has_value());
  return std::move(**e);
}

void require_nothing(rexec_control& c) {
  auto e = c.next_event();
  REQUIRE(e);
  CHECK_FALSE(e->has_value());
}

std::vector<std::byte> hello(std::uint32_t version) {
  std::vector<std::byte> m(12);
  rexec::emit_hello(m, version);
  return m;
}

/// An agent of `own` version connected to a daemon that echoes it (2.3).
rexec_control connected(std::uint32_t own) {
  rexec_control c(own);
  c.start();
  c.receive(hello(own));
  const auto e = next(c);
  REQUIRE(std::get<uk::qubes::rexec_negotiated>(e).version == own);
  take_output(c);
  return c;
}

}  // namespace

TEST_CASE("qrexec 2.3-2.5: the agent replays qrexec-control-512 byte for byte", "[qrexec][control]") {
  // '>' is dom0's qrexec-daemon, '<' the VM agent (transcripts README).
  const auto chunks = uk::test::read_transcript("qrexec-control-512-socat.txt");
  rexec_control agent(4);
  agent.start();  // the agent speaks first
  std::vector<std::byte> sent = take_output(agent);

  std::vector<rexec_control_event> events;
  for (const auto& chunk : chunks) {
    if (chunk.direction != '>') continue;
    agent.receive(chunk.bytes);
    for (;;) {
      auto e = agent.next_event();
      REQUIRE(e);
      if (!e->has_value()) break;
      events.push_back(std::move(**e));
      // What the upstream agent did next, in the same order.
      if (auto* exec = std::get_if<uk::qubes::rexec_exec_request>(&events.back())) {
        agent.connection_terminated({exec->connect_domain, exec->connect_port});
        REQUIRE(agent.trigger_service("@adminvm", "test.Echo+arg1", "SOCKET13"));
      } else if (auto* connect = std::get_if<uk::qubes::rexec_service_connect>(&events.back())) {
        agent.connection_terminated({connect->connect_domain, connect->connect_port});
      }
      const auto out = take_output(agent);
      sent.insert(sent.end(), out.begin(), out.end());
    }
  }
  CHECK(sent == uk::test::stream_of(chunks, '<'));

  REQUIRE(events.size() == 3);
  CHECK(std::get<uk::qubes::rexec_negotiated>(events[0]).version == 4);
  const auto& exec = std::get<uk::qubes::rexec_exec_request>(events[1]);
  CHECK_FALSE(exec.just_exec);
  CHECK(exec.connect_domain == 0);
  CHECK(exec.connect_port == 513);
  CHECK(exec.user == "root");
  CHECK(exec.command == "echo hello-from-vm; exit 3");
  const auto& connect = std::get<uk::qubes::rexec_service_connect>(events[2]);
  CHECK(connect.connect_port == 513);
  CHECK(connect.request_id == "SOCKET13");
  CHECK(agent.pending_calls() == 0);
}

TEST_CASE("qrexec 2.3: the version is the minimum of ours and the echoed one, at 2, 3 and 4", "[qrexec][control]") {
  for (std::uint32_t own : {2u, 3u, 4u}) {
    for (std::uint32_t peer : {2u, 3u, 4u, 7u}) {
      rexec_control c(own);
      c.start();
      CHECK(take_output(c) == hello(own));
      c.receive(hello(peer));
      CHECK(std::get<uk::qubes::rexec_negotiated>(next(c)).version == std::min(own, peer));
      CHECK(c.version() == std::min(own, peer));
    }
  }
}

TEST_CASE("qrexec 2.5: a call uses MSG_TRIGGER_SERVICE at 2, _SERVICE3 at 3, _SERVICE4 at 4", "[qrexec][control]") {
  for (std::uint32_t v : {2u, 3u, 4u}) {
    auto c = connected(v);
    const auto id = c.trigger_service("work", "qubes.Ping+x");
    REQUIRE(id);
    CHECK(*id == "uk1");
    const auto out = take_output(c);
    const auto h = rexec::parse_header(out);
    REQUIRE(h);
    CHECK(h->type == static_cast<std::uint32_t>(rexec::trigger_type(v)));
    const auto r = rexec::parse_trigger(rexec::trigger_type(v), std::span(out).subspan(8));
    REQUIRE(r);
    CHECK(r->service == "qubes.Ping+x");
    CHECK(r->target_domain == "work");
    CHECK(r->request_id == "uk1");
  }
}

TEST_CASE("qrexec 2.5: MSG_SERVICE_REFUSED answers the pending call it names", "[qrexec][control]") {
  auto c = connected(4);
  const auto id = c.trigger_service("@default", "test.Deny");
  REQUIRE(id);
  std::vector<std::byte> refused(40);
  rexec::emit_service_refused(refused, *id);
  c.receive(refused);
  CHECK(std::get<uk::qubes::rexec_service_refused>(next(c)).request_id == *id);
  CHECK(c.pending_calls() == 0);
  // The same answer again matches nothing: counted and dropped.
  c.receive(refused);
  require_nothing(c);
  CHECK(c.counters().unmatched_answers == 1);
}

TEST_CASE("qrexec 2.2: a call dom0 would refuse or rewrite is not sent", "[qrexec][control]") {
  rexec_control not_yet(4);
  CHECK(not_yet.trigger_service("@adminvm", "a").error() == uk::qubes::rexec_call_error::not_connected);
  auto c = connected(2);
  CHECK(c.trigger_service("@adminvm", "+x").error() == uk::qubes::rexec_call_error::invalid_service);
  CHECK(c.trigger_service("@adminvm", "a b").error() == uk::qubes::rexec_call_error::invalid_service);
  CHECK(c.trigger_service("a b", "a").error() == uk::qubes::rexec_call_error::invalid_target);
  CHECK(c.trigger_service("@adminvm", std::string(64, 'a')).error() == uk::qubes::rexec_call_error::invalid_service);
  CHECK(c.trigger_service("@adminvm", "a", "bad/id").error() == uk::qubes::rexec_call_error::invalid_request_id);
  CHECK(c.output().empty());
}

TEST_CASE("qrexec: pending calls are bounded, the excess refused and counted", "[qrexec][control][bounds]") {
  auto c = connected(4);
  for (std::size_t i = 0; i < rexec_control::max_pending_calls; ++i) REQUIRE(c.trigger_service("vm", "s"));
  CHECK(c.trigger_service("vm", "s").error() == uk::qubes::rexec_call_error::too_many_pending);
  CHECK(c.counters().calls_over_bound == 1);
  c.forget_call("uk1");
  CHECK(c.trigger_service("vm", "s"));
}

TEST_CASE("qrexec 2.3: a first message other than HELLO, or a peer below version 2, ends the channel",
          "[qrexec][control]") {
  {
    rexec_control c;
    std::vector<std::byte> exec(rexec::exec_message_length("root:x"));
    rexec::emit_exec(exec, rexec::message_type::exec_cmdline, 0, 513, "root:x");
    c.receive(exec);
    CHECK(c.next_event().error() == rexec_control_error::hello_expected);
  }
  {
    rexec_control c;
    c.receive(hello(1));
    CHECK(c.next_event().error() == rexec_control_error::version_too_old);
  }
  {
    rexec_control c;
    c.receive(bytes_of({0, 3, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 0}));
    CHECK(c.next_event().error() == rexec_control_error::bad_hello);
  }
}

TEST_CASE("qrexec 2.1: a header announcing more than MAX_QREXEC_CMD_LEN of command ends the channel",
          "[qrexec][control][bounds]") {
  auto c = connected(4);
  c.receive(bytes_of({0x00, 0x02, 0, 0, 0xff, 0xff, 0xff, 0x7f}));
  CHECK(c.next_event().error() == rexec_control_error::message_too_long);
}

TEST_CASE("qrexec: unknown types and malformed bodies are skipped by their length and counted",
          "[qrexec][control]") {
  auto c = connected(4);
  // An unknown type with 3 bytes, an exec without NUL, a second HELLO, then a good exec.
  c.receive(bytes_of({0x99, 0x09, 0, 0, 3, 0, 0, 0, 1, 2, 3}));
  c.receive(bytes_of({0x00, 0x02, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 'a', ':'}));
  c.receive(hello(4));
  std::vector<std::byte> exec(rexec::exec_message_length("user:QUBESRPC a.b+c src"));
  rexec::emit_exec(exec, rexec::message_type::just_exec, 3, 600, "user:QUBESRPC a.b+c src");
  // Byte by byte: a message split anywhere is reassembled.
  for (std::byte b : exec) c.receive(std::span(&b, 1));
  const auto e = std::get<uk::qubes::rexec_exec_request>(next(c));
  CHECK(e.just_exec);
  CHECK(e.connect_domain == 3);
  CHECK(e.connect_port == 600);
  CHECK(e.command == "QUBESRPC a.b+c src");
  CHECK(c.counters().unknown_messages == 1);
  CHECK(c.counters().malformed_messages == 1);
  CHECK(c.counters().extra_hellos == 1);
}
