// Tests of the GUI agent core (uk/qubes/gui_session.hpp) and the GUI wire
// format: handshakes at 1.8 (the transcript of the real qubes-guid) and 1.1,
// the window messages byte for byte, every daemon message skipped by length.
#include <uk/qubes/gui_session.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

#include "support/bytes.hpp"
#include "unit/qubes_rexec/transcript.hpp"

namespace gui = uk::wire::qubes_gui;
using uk::qubes::gui_event;
using uk::qubes::gui_session;
using uk::test::bytes_of;

namespace {

std::vector<std::byte> take_output(gui_session& s) {
  std::vector<std::byte> out(s.output().begin(), s.output().end());
  s.consume_output(out.size());
  return out;
}

gui_event next(gui_session& s) {
  auto e = s.next_event();
  REQUIRE(e);
  REQUIRE(e->has_value());
  return **e;
}

std::vector<std::byte> xconf_bytes(const gui::xconf& x) {
  std::vector<std::byte> out(16);
  gui::emit_xconf(out, x);
  return out;
}

gui_session after_handshake_1_8() {
  gui_session s;
  s.start();
  s.receive(bytes_of({8, 0, 1, 0}));
  s.receive(xconf_bytes({1024, 768, 24, 3073}));
  REQUIRE(next(s).what == gui_event::kind::handshake);
  take_output(s);
  return s;
}

}  // namespace

TEST_CASE("GUI 3.2: at 1.8 the agent replays gui-6000 byte for byte: version, then CREATE, WMNAME, MAP, CONFIGURE",
          "[gui]") {
  // '>' is dom0's qubes-guid, '<' the agent.
  const auto chunks = uk::test::read_transcript("gui-6000-socat.txt");
  gui_session agent(gui::version_1_8);
  agent.start();
  auto sent = take_output(agent);
  CHECK(sent == chunks[0].bytes);
  agent.receive(uk::test::stream_of(chunks, '>'));
  const auto e = next(agent);
  CHECK(e.what == gui_event::kind::handshake);
  CHECK(e.version == gui::version_1_8);
  CHECK(e.screen == gui::xconf{1024, 768, 24, 1024 * 768 * 4 / 1024 + 1});
  CHECK(agent.version() == gui::version_1_8);

  agent.create_window(1, {10, 20, 300, 200, 0, 0});
  agent.set_title(1, "uk");
  agent.map_window(1);
  agent.configure_window(1, {10, 20, 300, 200, 0});
  const auto out = take_output(agent);
  sent.insert(sent.end(), out.begin(), out.end());
  CHECK(sent == uk::test::stream_of(chunks, '<'));
}

TEST_CASE("GUI 3.2: an agent announcing 1.1 reads only the 16-byte xconf", "[gui]") {
  gui_session agent(gui::version_1_1);
  agent.start();
  CHECK(take_output(agent) == bytes_of({1, 0, 1, 0}));
  const auto x = xconf_bytes({800, 600, 24, 1876});
  agent.receive(std::span(x).first(10));
  auto none = agent.next_event();
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  agent.receive(std::span(x).subspan(10));
  const auto e = next(agent);
  CHECK(e.version == gui::version_1_1);
  CHECK(e.screen == gui::xconf{800, 600, 24, 1876});
}

TEST_CASE("GUI 3.2: the agent accepts 1.4 to its own version, and refuses a daemon above it or below 1.4", "[gui]") {
  for (std::uint32_t minor : {4u, 5u, 7u, 8u}) {
    gui_session s;
    s.receive(bytes_of({static_cast<int>(minor), 0, 1, 0}));
    s.receive(xconf_bytes({1, 1, 24, 1}));
    CHECK(next(s).version == gui::version(1, minor));
  }
  for (std::uint32_t v : {gui::version(1, 9), gui::version(1, 3), gui::version(2, 8)}) {
    gui_session s;
    std::vector<std::byte> b(4);
    gui::emit_version(b, v);
    s.receive(b);
    CHECK(s.next_event().error() == uk::qubes::gui_error::bad_version);
  }
}

TEST_CASE("GUI 3.2 step 4: daemon messages are consumed by their length; long ones skipped unbuffered", "[gui]") {
  auto s = after_handshake_1_8();
  std::vector<std::byte> stream;
  auto add = [&](gui::message_type t, std::uint32_t window, std::vector<std::byte> body) {
    std::vector<std::byte> h(12);
    gui::emit_header(h, {static_cast<std::uint32_t>(t), window, static_cast<std::uint32_t>(body.size())});
    stream.insert(stream.end(), h.begin(), h.end());
    stream.insert(stream.end(), body.begin(), body.end());
  };
  std::vector<std::byte> configure(32);
  gui::emit_configure(configure, 1, {1, 2, 30, 40, 0});
  add(gui::message_type::keymap_notify, 0, std::vector<std::byte>(32, std::byte{0xff}));
  add(gui::message_type::clipboard_data, 0, std::vector<std::byte>(200000, std::byte{'c'}));
  add(gui::message_type::configure, 1, {configure.begin() + 12, configure.end()});
  add(static_cast<gui::message_type>(9999), 7, {std::byte{1}});  // unknown type: skipped too
  add(gui::message_type::close, 1, {});

  // In pieces of 1000 bytes, as a vchan delivers them.
  std::vector<gui_event> events;
  std::vector<std::vector<std::byte>> bodies;
  for (std::size_t at = 0; at < stream.size(); at += 1000) {
    s.receive(std::span(stream).subspan(at, std::min<std::size_t>(1000, stream.size() - at)));
    for (;;) {
      auto e = s.next_event();
      REQUIRE(e);
      if (!e->has_value()) break;
      events.push_back(**e);
      bodies.emplace_back((*e)->body.begin(), (*e)->body.end());
    }
  }
  REQUIRE(events.size() == 5);
  CHECK(events[0].header.type == 142);
  CHECK(bodies[0].size() == 32);
  CHECK(events[1].header.type == 140);
  CHECK(events[1].skipped);
  CHECK(bodies[1].empty());
  CHECK(events[2].header.window == 1);
  CHECK(*gui::parse_configure(bodies[2]) == gui::configure_body{1, 2, 30, 40, 0});
  CHECK(events[3].header.type == 9999);
  CHECK(events[4].header.type == 137);
  CHECK(s.counters().messages == 5);
  CHECK(s.counters().skipped_messages == 1);
  CHECK(s.counters().skipped_bytes == 200000);
}

TEST_CASE("GUI 3.3: the header is 12 bytes and the table gives each fixed body length", "[gui][wire]") {
  CHECK(gui::parse_header(bytes_of({0x82, 0, 0, 0, 1, 0, 0, 0, 0x18, 0, 0})).error() == uk::wire::error::truncated);
  const auto h = gui::parse_header(bytes_of({0x82, 0, 0, 0, 1, 0, 0, 0, 0x18, 0, 0, 0}));
  REQUIRE(h);
  CHECK(*h == gui::header{130, 1, 24});
  CHECK(gui::body_length(130) == 24);
  CHECK(gui::body_length(141) == 128);
  CHECK(gui::body_length(138) == 255);
  CHECK(gui::body_length(140) == -1);
  CHECK(gui::body_length(5) == -1);
  CHECK(gui::parse_xconf(bytes_of({1, 2, 3})).error() == uk::wire::error::bad_length);
  std::vector<std::byte> title(12 + 128);
  gui::emit_wmname(title, 3, std::string(300, 't'));  // cut to 127 bytes and a NUL
  CHECK(title[12 + 126] == std::byte{'t'});
  CHECK(title[12 + 127] == std::byte{0});
}
