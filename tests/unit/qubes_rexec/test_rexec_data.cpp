// Tests of the qrexec data channel core (uk/qubes/rexec_data.hpp): both
// transcripts of the real daemons replayed byte for byte, the upstream order
// of EOFs and exit code, chunk limits per version.
#include <uk/qubes/rexec_data.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "support/bytes.hpp"
#include "unit/qubes_rexec/transcript.hpp"

namespace rexec = uk::wire::qubes_rexec;
using uk::qubes::rexec_data;
using uk::qubes::rexec_data_error;
using uk::qubes::rexec_data_event;
using uk::qubes::rexec_data_role;
using kind = rexec_data_event::kind;
using uk::test::bytes_of;
using uk::test::bytes_of_text;
using uk::test::text_of;

namespace {

std::vector<std::byte> take_output(rexec_data& d) {
  std::vector<std::byte> out(d.output().begin(), d.output().end());
  d.consume_output(out.size());
  return out;
}

std::vector<std::byte> hello(std::uint32_t version) {
  std::vector<std::byte> m(12);
  rexec::emit_hello(m, version);
  return m;
}

/// An event with its bytes copied (they die at the next call).
struct seen {
  kind what;
  std::string text;
  std::int32_t exit_code = 0;
};

std::vector<seen> drain(rexec_data& d) {
  std::vector<seen> out;
  for (;;) {
    auto e = d.next_event();
    REQUIRE(e);
    if (!e->has_value()) return out;
    out.push_back({(*e)->what, text_of((*e)->bytes), (*e)->exit_code});
  }
}

rexec_data connected(rexec_data_role role, std::uint32_t own, std::uint32_t peer) {
  rexec_data d(role, own);
  d.start();
  d.receive(hello(peer));
  const auto events = drain(d);
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].what == kind::negotiated);
  take_output(d);
  return d;
}

}  // namespace

TEST_CASE("qrexec 2.4: a service run for dom0 replays qrexec-data-513-dom0-to-vm-exec byte for byte",
          "[qrexec][data]") {
  // '>' is the VM agent (data client), '<' dom0's qrexec-client.
  const auto chunks = uk::test::read_transcript("qrexec-data-513-dom0-to-vm-exec.txt");
  rexec_data vm(rexec_data_role::service, 4);
  vm.start();  // HELLO at once, without waiting for dom0's
  std::vector<seen> events;
  for (const auto& chunk : chunks) {
    if (chunk.direction != '<') continue;
    vm.receive(chunk.bytes);
    const auto more = drain(vm);
    events.insert(events.end(), more.begin(), more.end());
  }
  REQUIRE(events.size() == 2);
  CHECK(events[0].what == kind::negotiated);
  CHECK(vm.version() == 4u);
  CHECK(events[1].what == kind::stdin_eof);
  // "echo hello-from-vm; exit 3"
  vm.send_stdout(bytes_of_text("hello-from-vm\n"));
  vm.send_exit_code(3);
  CHECK(take_output(vm) == uk::test::stream_of(chunks, '>'));
}

TEST_CASE("qrexec 2.5: a call of dom0's test.Echo replays qrexec-data-513-vm-to-dom0-service byte for byte",
          "[qrexec][data]") {
  // '>' is dom0's service side (data client), '<' this VM, the caller (data server).
  const auto chunks = uk::test::read_transcript("qrexec-data-513-vm-to-dom0-service.txt");
  rexec_data vm(rexec_data_role::caller, 4);
  vm.start();
  std::vector<seen> events;
  for (const auto& chunk : chunks) {
    if (chunk.direction != '>') continue;
    vm.receive(chunk.bytes);
    const auto more = drain(vm);
    events.insert(events.end(), more.begin(), more.end());
    if (!events.empty() && events.back().what == kind::stdout_data && events.back().text.starts_with("dom0")) {
      vm.send_stdin(bytes_of_text("stdin-data\n"));
      vm.close_stdin();
    }
  }
  CHECK(take_output(vm) == uk::test::stream_of(chunks, '<'));
  REQUIRE(events.size() == 6);
  CHECK(events[0].what == kind::negotiated);
  CHECK(events[1].what == kind::stderr_eof);  // a service without stderr closes it at once
  CHECK(events[2].what == kind::stdout_data);
  CHECK(events[2].text == "dom0 service arg=[arg1] remote=testvm\n");
  CHECK(events[3].what == kind::stdout_data);
  CHECK(events[3].text == "stdin-data\n");
  CHECK(events[4].what == kind::stdout_eof);
  CHECK(events[5].what == kind::exit_code);
  CHECK(events[5].exit_code == 0);
  CHECK(vm.exit_code_received());
}

TEST_CASE("qrexec 2.4: on exit, STDOUT EOF, STDERR EOF, then EXIT_CODE, each once", "[qrexec][data]") {
  auto d = connected(rexec_data_role::service, 4, 4);
  d.send_stderr(bytes_of_text("oops\n"));
  d.close_stderr();
  d.send_exit_code(1);
  d.send_exit_code(2);          // once only
  d.send_stdout(bytes_of({1}));  // nothing after the exit code
  CHECK(take_output(d) == bytes_of({0x92, 0x01, 0, 0, 5, 0, 0, 0, 'o', 'o', 'p', 's', '\n',  // stderr
                                    0x92, 0x01, 0, 0, 0, 0, 0, 0,                            // stderr EOF
                                    0x91, 0x01, 0, 0, 0, 0, 0, 0,                            // stdout EOF
                                    0x93, 0x01, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0}));
}

TEST_CASE("qrexec 2.4: MSG_JUST_EXEC is answered by EXIT_CODE alone", "[qrexec][data]") {
  auto d = connected(rexec_data_role::service, 4, 4);
  d.send_exit_code_only(0);
  CHECK(take_output(d) == bytes_of({0x93, 0x01, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_CASE("qrexec 2.1: writes are cut into 4096-byte chunks at version 2 and 65536 at 3 and 4", "[qrexec][data]") {
  for (std::uint32_t v : {2u, 3u, 4u}) {
    auto d = connected(rexec_data_role::service, 4, v);
    CHECK(d.version() == v);
    const std::vector<std::byte> big(70000, std::byte{'x'});
    d.send_stdout(big);
    const auto out = take_output(d);
    std::vector<std::size_t> lengths;
    for (std::size_t at = 0; at < out.size();) {
      const auto h = rexec::parse_header(std::span(out).subspan(at));
      REQUIRE(h);
      CHECK(h->is(rexec::message_type::data_stdout));
      lengths.push_back(h->length);
      at += 8 + h->length;
    }
    const std::size_t limit = v == 2 ? 4096 : 65536;
    std::size_t total = 0;
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      total += lengths[i];
      if (i + 1 < lengths.size()) CHECK(lengths[i] == limit);
    }
    CHECK(total == big.size());
    CHECK(lengths.size() == (big.size() + limit - 1) / limit);
  }
}

TEST_CASE("qrexec 2.1: a data message above the version's chunk limit ends the channel", "[qrexec][data][bounds]") {
  auto v2 = connected(rexec_data_role::service, 4, 2);
  v2.receive(bytes_of({0x90, 0x01, 0, 0, 0x01, 0x10, 0, 0}));  // 4097 bytes of stdin announced
  CHECK(v2.next_event().error() == rexec_data_error::message_too_long);

  auto v3 = connected(rexec_data_role::service, 4, 3);
  v3.receive(bytes_of({0x90, 0x01, 0, 0, 0x01, 0x10, 0, 0}));  // 4097 is fine at 3
  auto e = v3.next_event();
  REQUIRE(e);
  CHECK_FALSE(e->has_value());  // waiting for the body
  v3.receive(bytes_of({0x90, 0x01, 0, 0}));
}

TEST_CASE("qrexec 2.4: messages a role never receives, and data after EOF, are dropped and counted",
          "[qrexec][data]") {
  auto service = connected(rexec_data_role::service, 4, 4);
  service.receive(bytes_of({0x91, 0x01, 0, 0, 1, 0, 0, 0, 'x'}));  // stdout sent to the service
  service.receive(bytes_of({0x90, 0x01, 0, 0, 0, 0, 0, 0}));       // stdin EOF
  service.receive(bytes_of({0x90, 0x01, 0, 0, 1, 0, 0, 0, 'y'}));  // stdin after its EOF
  const auto events = drain(service);
  REQUIRE(events.size() == 1);
  CHECK(events[0].what == kind::stdin_eof);
  CHECK(service.counters().unexpected_messages == 1);
  CHECK(service.counters().data_after_eof == 1);
}

TEST_CASE("qrexec 2.4: the first data message must be a HELLO of version 2 or more", "[qrexec][data]") {
  rexec_data a(rexec_data_role::caller);
  a.receive(bytes_of({0x91, 0x01, 0, 0, 0, 0, 0, 0}));
  CHECK(a.next_event().error() == rexec_data_error::hello_expected);
  rexec_data b(rexec_data_role::caller);
  b.receive(hello(1));
  CHECK(b.next_event().error() == rexec_data_error::version_too_old);
  auto c = connected(rexec_data_role::caller, 4, 4);
  c.receive(bytes_of({0x93, 0x01, 0, 0, 2, 0, 0, 0, 0, 0}));
  CHECK(c.next_event().error() == rexec_data_error::bad_exit_code);
}
