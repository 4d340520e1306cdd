// QubesDB message format (qubes-protocols.md section 1.3), against the bytes
// of the real daemons (tests/data/qubes/qubesdb-vchan-socat.txt).
#include <catch2/catch.hpp>

#include <uk/wire/qubes_db.hpp>

#include <array>
#include <string>
#include <vector>

#include "unit/qubes_db/socat_transcript.hpp"

namespace qdb = uk::wire::qubes_db;
using uk::test::qdb::read_socat_transcript;

namespace {
std::array<std::byte, qdb::header_length> header_bytes(int type, std::string_view path, std::uint32_t data_len) {
  std::array<std::byte, qdb::header_length> h{};
  h[0] = static_cast<std::byte>(type);
  for (std::size_t i = 0; i < path.size() && i < qdb::path_field_length; ++i)
    h[1 + i] = static_cast<std::byte>(path[i]);
  for (int i = 0; i < 4; ++i) h[68 + i] = static_cast<std::byte>(data_len >> (8 * i));
  return h;
}
}  // namespace

TEST_CASE("qdb_hdr 1.3: the VM's MULTIREAD from the transcript is type 2, empty path, data_len 0, despite garbage") {
  const auto chunks = read_socat_transcript("qubesdb-vchan-socat.txt");
  REQUIRE(chunks[0].direction == '>');
  REQUIRE(chunks[0].bytes.size() == qdb::header_length);
  const auto h = qdb::parse_header(chunks[0].bytes);
  REQUIRE(h);
  CHECK(h->type == qdb::message_type::multiread);
  CHECK(h->path.empty());  // bytes after the first NUL are the sender's stack: ignored
  CHECK(h->data_len == 0);
}

TEST_CASE("qdb_hdr 1.4: dom0's first MULTIREAD entry is /qubes-secondary-dns = 10.139.1.2") {
  const auto chunks = read_socat_transcript("qubesdb-vchan-socat.txt");
  const auto& answer = chunks[1].bytes;
  const auto h = qdb::parse_header(answer);
  REQUIRE(h);
  CHECK(h->type == qdb::message_type::resp_multiread);
  CHECK(h->path == "/qubes-secondary-dns");
  REQUIRE(h->data_len == 10);
  const auto v = qdb::parse_value(std::span(answer).subspan(qdb::header_length, h->data_len));
  REQUIRE(v);
  CHECK(*v == "10.139.1.2");
}

TEST_CASE("qdb_hdr 1.4: the MULTIREAD end marker has path[0] == 0 and data_len 0, stale bytes after it") {
  const auto chunks = read_socat_transcript("qubesdb-vchan-socat.txt");
  const auto& answer = chunks[1].bytes;
  const auto end = std::span(answer).last(qdb::header_length);
  const auto h = qdb::parse_header(end);
  REQUIRE(h);
  CHECK(h->is_multiread_end());
  CHECK(end[2] == std::byte{'n'});  // "\0name": the previous entry's path
}

TEST_CASE("qdb_hdr 1.3: emit writes 72 bytes with a NUL-padded path and zero padding") {
  std::array<std::byte, qdb::header_length + 3> out{};
  out.fill(std::byte{0xee});
  CHECK(qdb::emit_message(out, qdb::message_type::write, "/qubes-from-vm", "yes") == 75);
  const auto expected = header_bytes(1, "/qubes-from-vm", 3);
  CHECK(std::equal(expected.begin(), expected.end(), out.begin()));
  CHECK(out[72] == std::byte{'y'});
  const auto h = qdb::parse_header(out);
  REQUIRE(h);
  CHECK(*h == qdb::header{qdb::message_type::write, "/qubes-from-vm", 3});
}

TEST_CASE("qdb_hdr 1.3: a header shorter than 72 bytes is truncated") {
  const auto h = header_bytes(7, "/x", 0);
  CHECK(qdb::parse_header(std::span(h).first(71)).error() == uk::wire::error::truncated);
}

TEST_CASE("qdb_hdr 1.2: types beyond QDB_RESP_WATCH (13) are unsupported") {
  CHECK(qdb::parse_header(header_bytes(13, "/x", 0)));
  CHECK(qdb::parse_header(header_bytes(14, "/x", 0)).error() == uk::wire::error::unsupported);
  CHECK(qdb::parse_header(header_bytes(0xff, "/x", 0)).error() == uk::wire::error::unsupported);
}

TEST_CASE("qdb_hdr 1.3: data_len must be below 3072, and zero on READ, RM, MULTIREAD and LIST") {
  CHECK(qdb::parse_header(header_bytes(1, "/x", 3071)));
  CHECK(qdb::parse_header(header_bytes(1, "/x", 3072)).error() == uk::wire::error::bad_length);
  CHECK(qdb::parse_header(header_bytes(1, "/x", 0xffffffff)).error() == uk::wire::error::bad_length);
  for (int t : {0, 2, 3, 4}) CHECK(qdb::parse_header(header_bytes(t, "/x", 1)).error() == uk::wire::error::bad_length);
  CHECK(qdb::parse_header(header_bytes(11, "/x", 1)));
}

TEST_CASE("qdb_hdr 1.3: paths use [A-Za-z0-9_/.:@-] and do not start with '-'") {
  CHECK(qdb::valid_path("/qubes-firewall/10.137.0.5/0001"));
  CHECK(qdb::valid_path("/mapped-ip/10.137.0.5/visible-ip"));
  CHECK(qdb::valid_path("/a:b@c_d"));
  CHECK(qdb::valid_path(""));
  CHECK_FALSE(qdb::valid_path("-x"));
  CHECK_FALSE(qdb::valid_path("/a b"));
  CHECK_FALSE(qdb::valid_path("/a*"));
  CHECK_FALSE(qdb::valid_path(std::string(64, 'a')));
  CHECK(qdb::valid_path(std::string(63, 'a')));
  CHECK(qdb::parse_header(header_bytes(1, "/a b", 0)).error() == uk::wire::error::malformed);
  CHECK(qdb::parse_header(header_bytes(1, "-a", 0)).error() == uk::wire::error::malformed);
}

TEST_CASE("qdb_hdr 1.3: a path field without NUL is cut at 63 bytes, as the daemons force byte 63 to NUL") {
  const auto h = header_bytes(1, std::string(64, 'a'), 0);
  const auto parsed = qdb::parse_header(h);
  REQUIRE(parsed);
  CHECK(parsed->path == std::string(63, 'a'));
}

TEST_CASE("qdb_hdr 1.3: a value holds no NUL and has at most 3071 bytes") {
  const std::array<std::byte, 3> with_nul{std::byte{'a'}, std::byte{0}, std::byte{'b'}};
  CHECK(qdb::parse_value(with_nul).error() == uk::wire::error::malformed);
  CHECK(qdb::parse_value({}).has_value());  // the empty value: a commit marker (1.7)
  CHECK(qdb::valid_value(std::string(3071, 'v')));
  CHECK_FALSE(qdb::valid_value(std::string(3072, 'v')));
}
