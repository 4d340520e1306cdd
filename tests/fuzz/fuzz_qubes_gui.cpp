// libFuzzer target for the GUI protocol's parsers (uk/wire/qubes_gui.hpp)
// and the agent core (uk/qubes/gui_session.hpp).
//
// Input: byte 0 picks the announced version (even: 1.8, odd: 1.1), byte 1
// the piece size the stream is fed in; the rest is what the daemon sends.
// Checks that nothing reads outside the input, that kept bodies are whole
// and small, and that skipped messages are never buffered.
#include <uk/qubes/gui_session.hpp>
#include <uk/wire/qubes_gui.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace gui = uk::wire::qubes_gui;

namespace {
void expect(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto* p = reinterpret_cast<const std::byte*>(data);
  const std::vector<std::byte> rest(p + 2, p + size);
  const std::span<const std::byte> input(rest);

  if (const auto c = gui::parse_configure(input.first(std::min<std::size_t>(20, input.size())))) {
    std::vector<std::byte> out(32);
    gui::emit_configure(out, 1, *c);
    expect(std::equal(out.begin() + 12, out.end(), input.begin()));
  }
  (void)gui::parse_header(input);

  uk::qubes::gui_session s(data[0] % 2 ? gui::version_1_1 : gui::version_1_8);
  s.start();
  const std::size_t piece = std::size_t{data[1]} + 1;
  for (std::size_t at = 0; at < input.size(); at += piece) {
    s.receive(input.subspan(at, std::min(piece, input.size() - at)));
    for (;;) {
      auto e = s.next_event();
      if (!e) return 0;  // a version the agent refuses: the channel ends
      if (!e->has_value()) break;
      const auto& ev = **e;
      if (ev.what == uk::qubes::gui_event::kind::message) {
        expect(ev.skipped ? ev.body.empty() : ev.body.size() == ev.header.untrusted_length);
        expect(ev.body.size() <= uk::qubes::gui_session::max_kept_body);
      } else {
        expect(gui::major_of(ev.version) == 1);
      }
    }
  }
  return 0;
}
