// libFuzzer target for uk/wire/ethernet.hpp: parse() must never read outside
// its input; every frame it accepts must re-emit to the same header bytes and
// parse again to the same fields.
// Seeds in corpus/ethernet/: an ARP request and an ICMP echo request captured
// from the Linux kernel (tests/data/kernel_arp_icmp.pcap), a VLAN-tagged
// frame, and an IEEE 802.3 length-field frame (rejected).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "uk/wire/ethernet.hpp"

namespace ethernet = uk::wire::ethernet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  std::vector<std::byte> input(size);
  for (std::size_t i = 0; i < size; ++i) input[i] = std::byte{data[i]};
  const auto parsed = ethernet::parse(input);
  if (!parsed) return 0;

  const auto header = parsed->header();
  const auto payload = parsed->payload();
  if (header.size() + payload.size() != size || header.data() != input.data() ||
      payload.data() != input.data() + header.size())
    std::abort();
  if (parsed->ethertype() < ethernet::min_ethertype || parsed->ethertype() == ethernet::ethertype::vlan)
    std::abort();
  (void)parsed->vlan_id();
  (void)parsed->vlan_pcp();

  const auto r = ethernet::repr::from(*parsed);
  std::array<std::byte, ethernet::tagged_header_length> out{};
  const std::size_t n = ethernet::emit(r, out);
  if (n != header.size()) std::abort();
  for (std::size_t i = 0; i < n; ++i)
    if (out[i] != header[i]) std::abort();
  const auto again = ethernet::parse(std::span(out).first(n));
  if (!again || !(ethernet::repr::from(*again) == r)) std::abort();
  return 0;
}
