// libFuzzer target for uk/wire/arp.hpp: parse() must never read outside its
// input; every packet it accepts must re-emit to the same 28 bytes and parse
// again to the same fields.
// Seeds in corpus/arp/: a request and a reply captured from the Linux kernel
// (tests/data/kernel_arp_icmp.pcap), the kernel's own request (zero target
// MAC) padded as in a 60-byte frame, and a RARP request (rejected).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "uk/wire/arp.hpp"

namespace arp = uk::wire::arp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  std::vector<std::byte> input(size);
  for (std::size_t i = 0; i < size; ++i) input[i] = std::byte{data[i]};
  const auto parsed = arp::parse(input);
  if (!parsed) return 0;

  const auto packet = parsed->packet();
  if (packet.size() != arp::packet_length || packet.data() != input.data()) std::abort();
  if (parsed->operation() != arp::operation::request && parsed->operation() != arp::operation::reply)
    std::abort();

  const auto r = arp::repr::from(*parsed);
  std::array<std::byte, arp::packet_length> out{};
  if (arp::emit(r, out) != arp::packet_length) std::abort();
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i] != packet[i]) std::abort();
  const auto again = arp::parse(out);
  if (!again || !(arp::repr::from(*again) == r)) std::abort();
  return 0;
}
