// libFuzzer target for uk/wire/ipv4.hpp: parse() and parse_quoted() must never
// read outside their input, every span of a view must lie inside it, and an
// accepted header must survive repr, emit and parse again. Seeds in
// corpus/ipv4/: datagrams the Linux kernel sent (tests/data/*.pcap): echo,
// fragments, a header with options, ICMP errors, a padded frame payload.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "uk/wire/ipv4.hpp"

namespace ipv4 = uk::wire::ipv4;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool inside(std::span<const std::byte> part, std::span<const std::byte> whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_view(const ipv4::view& v, std::span<const std::byte> input) {
  check(v.version() == 4);
  check(v.header_length() >= ipv4::min_header_length);
  check(v.header_length() <= ipv4::max_header_length);
  check(v.options().size() <= ipv4::max_options_length);
  check(v.total_length() >= v.header_length());
  check(v.datagram().data() == input.data());
  check(inside(v.datagram(), input));
  check(inside(v.header(), v.datagram()) && inside(v.options(), v.header()));
  check(inside(v.payload(), v.datagram()));
  check(v.header().size() + v.payload().size() == v.datagram().size());
  check(v.fragment_offset() % 8 == 0);
  (void)v.dscp(), (void)v.ecn(), (void)v.identification(), (void)v.ttl(), (void)v.protocol();
  (void)v.src(), (void)v.dst(), (void)v.is_fragment();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  std::vector<std::byte> input(size);
  for (std::size_t i = 0; i < size; ++i) input[i] = std::byte{data[i]};

  for (const auto mode : {ipv4::checksum_check::verify, ipv4::checksum_check::skip}) {
    const auto quoted = ipv4::parse_quoted(input, mode);
    if (quoted) check_view(*quoted, input);
    const auto v = ipv4::parse(input, mode);
    if (!v) continue;
    check_view(*v, input);
    check(v->payload_is_complete());
    check(v->datagram().size() == v->total_length());
    // What parse accepts, parse_quoted accepts identically.
    check(quoted && quoted->datagram().size() == v->datagram().size());

    // repr -> emit -> parse gives the same fields (options are not emitted).
    const auto r = ipv4::repr::from(*v);
    std::vector<std::byte> out(r.total_length());
    check(ipv4::emit(r, out) == ipv4::min_header_length);
    std::copy(v->payload().begin(), v->payload().end(), out.begin() + 20);
    const auto again = ipv4::parse(out);
    check(again && ipv4::repr::from(*again) == r);
    check(std::equal(again->payload().begin(), again->payload().end(), v->payload().begin(),
                     v->payload().end()));

    // RFC 1624: a TTL rewrite keeps a verified header verified.
    if (mode == ipv4::checksum_check::verify) {
      std::vector<std::byte> header(v->header().begin(), v->header().end());
      ipv4::set_ttl(header, static_cast<std::uint8_t>(v->ttl() - 1));
      check(uk::wire::checksum::verifies(header));
    }
  }
  return 0;
}
