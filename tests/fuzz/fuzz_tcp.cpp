// libFuzzer target for uk::wire::tcp::parse and the option parser
// (RFC 9293 3.1-3.2, RFC 7323, RFC 2018).
//
// Input: 4 bytes source address, 4 bytes destination address (big-endian),
// then the TCP segment. Each input is parsed twice: as given, and with its
// checksum recomputed, so that random bytes also reach the option parser.
// Checks that nothing reads outside the input, that the option iterator and
// parse_options agree, and that a valid segment whose options fit re-emits
// to an equal repr.
#include <uk/wire/tcp.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace tcp = uk::wire::tcp;

namespace {

void expect(bool ok) {
  if (!ok) std::abort();
}

void check_valid(const tcp::view& v, std::span<const std::byte> segment, uk::ipv4_address src,
                 uk::ipv4_address dst) {
  expect(v.data_offset() >= 5);
  expect(v.header_length() <= segment.size());
  expect(v.header().size() + v.payload().size() == segment.size());
  std::size_t walked = 0;
  tcp::options from_iterator;
  for (const tcp::option& o : v.raw_options()) {
    walked += o.wire_length();
    tcp::apply_option(o, from_iterator);
  }
  expect(walked <= v.option_bytes().size());
  const auto parsed = tcp::parse_options(v.option_bytes());
  expect(parsed.has_value());
  expect(*parsed == from_iterator);
  expect(v.options() == from_iterator);
  const auto clamped = from_iterator.window_scale_clamped();
  if (clamped) expect(*clamped <= tcp::max_window_scale);

  const auto r = tcp::repr::from(v);
  if (!r.options.fits()) return;  // another sender's compact layout can hold more than ours
  std::vector<std::byte> out(r.buffer_length());
  std::copy(v.payload().begin(), v.payload().end(), out.begin() + static_cast<std::ptrdiff_t>(r.header_length()));
  expect(tcp::emit(r, out, src, dst) == r.header_length());
  const auto again = tcp::parse(out, src, dst);
  expect(again.has_value());
  expect(tcp::repr::from(*again) == r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  const auto* p = reinterpret_cast<const std::byte*>(data);
  const uk::ipv4_address src{uk::detail::load_be32(p)};
  const uk::ipv4_address dst{uk::detail::load_be32(p + 4)};
  std::vector<std::byte> segment(p + 8, p + size);

  if (const auto v = tcp::parse(segment, src, dst)) check_valid(*v, segment, src, dst);

  // The option parser alone, on the raw bytes (at most the 40-byte option space).
  const std::span<const std::byte> raw(segment.data(), segment.size() < 40 ? segment.size() : 40);
  const auto opts = tcp::parse_options(raw);
  std::size_t walked = 0;
  for (const tcp::option& o : tcp::option_range(raw)) walked += o.wire_length();
  expect(walked <= raw.size());
  if (opts) expect(opts->sack_count <= tcp::max_sack_blocks);

  // Recompute the checksum so that the rest of parse is reached.
  if (segment.size() >= tcp::min_header_length && segment.size() <= 0xffff) {
    segment[16] = segment[17] = std::byte{0};
    const auto sum = uk::wire::checksum::finish(uk::wire::checksum::partial(
        segment, tcp::pseudo_header_sum(src, dst, static_cast<std::uint16_t>(segment.size()))));
    uk::detail::store_be16(segment.data() + 16, sum);
    const auto v = tcp::parse(segment, src, dst);
    if (v) check_valid(*v, segment, src, dst);
    else expect(v.error() != uk::wire::error::bad_checksum);
  }
  return 0;
}
