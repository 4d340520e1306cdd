// libFuzzer target for uk::wire::udp::parse (RFC 768).
//
// Input: 4 bytes source address, 4 bytes destination address (big-endian),
// then the IPv4 payload. Checks that parse never reads outside the input, that
// a valid datagram re-emits to itself, and that a datagram rejected only for
// its checksum is accepted once the checksum is zeroed ("none computed").
#include <uk/wire/udp.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace udp = uk::wire::udp;

namespace {
void expect(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  const auto* p = reinterpret_cast<const std::byte*>(data);
  const uk::ipv4_address src{uk::detail::load_be32(p)};
  const uk::ipv4_address dst{uk::detail::load_be32(p + 4)};
  // A heap copy of exactly the payload, so ASan sees any read past its end.
  std::vector<std::byte> bytes(p + 8, p + size);

  const auto v = udp::parse(bytes, src, dst);
  if (v) {
    expect(v->length() == v->bytes().size());
    expect(v->length() >= udp::header_length && v->length() <= bytes.size());
    expect(v->payload().size() == v->length() - udp::header_length);
    const auto r = udp::repr::from(*v);
    std::vector<std::byte> out(v->bytes().begin(), v->bytes().end());
    expect(udp::emit(r, out, src, dst) == udp::header_length);
    const auto again = udp::parse(out, src, dst);
    expect(again.has_value());
    expect(udp::repr::from(*again) == r);
    // Same header, except that a received "no checksum" is re-emitted with one.
    if (v->has_checksum()) expect(out == std::vector<std::byte>(v->bytes().begin(), v->bytes().end()));
  } else if (v.error() == uk::wire::error::bad_checksum) {
    bytes[6] = bytes[7] = std::byte{0};
    expect(udp::parse(bytes, src, dst).has_value());
  }
  return 0;
}
