// libFuzzer target for the QubesDB message parser (uk/wire/qubes_db.hpp) and
// the client core that follows dom0's stream (uk/qubes/db_core.hpp).
//
// Input: one byte giving the size of the pieces the stream arrives in, then
// the bytes dom0 sends after the MULTIREAD. Checks that a parsed header
// re-emits to the same canonical bytes, that the core never crashes, and
// that what it holds is always valid and within its bounds.
#include <uk/qubes/db_core.hpp>
#include <uk/wire/qubes_db.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace qdb = uk::wire::qubes_db;

namespace {
void expect(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = std::size_t{data[0]} + 1;
  const std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data + 1),
                                     reinterpret_cast<const std::byte*>(data + size));

  if (const auto h = qdb::parse_header(bytes)) {
    expect(qdb::valid_path(h->path) && h->data_len < qdb::max_data);
    std::vector<std::byte> out(qdb::header_length);
    qdb::emit_header(out, h->type, h->path, h->data_len);
    const auto again = qdb::parse_header(out);
    expect(again.has_value() && *again == *h);
  }

  uk::qubes::db_core core({.max_entries = 8, .max_pending_changes = 4, .max_output_bytes = 4096});
  core.connected();
  std::vector<std::byte> sent;
  core.take_output(sent);
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    const auto n = std::min(piece, bytes.size() - at);
    if (!core.receive(std::span(bytes).subspan(at, n))) break;
    core.take_output(sent);
    // Whatever the core answers is a sequence of valid RESP_OK headers.
    for (std::size_t i = 0; i + qdb::header_length <= sent.size(); i += qdb::header_length) {
      const auto h = qdb::parse_header(std::span(sent).subspan(i));
      expect(h.has_value() && h->type == qdb::message_type::resp_ok && h->data_len == 0);
    }
    expect(sent.size() % qdb::header_length == 0);
  }
  expect(core.entries().size() <= 8);
  for (const auto& [path, value] : core.entries())
    expect(!path.empty() && qdb::valid_path(path) && qdb::valid_value(value));
  return 0;
}
