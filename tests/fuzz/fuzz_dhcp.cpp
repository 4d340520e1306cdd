// libFuzzer target for uk/wire/dhcp.hpp: parse() must never read outside
// its input, and what it accepts must survive repr, emit and parse again.
// Seeds in corpus/dhcp/: a DISCOVER and an OFFER captured from udhcpc and
// dnsmasq, and an ACK whose options continue in file and sname (overload 3).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "uk/wire/dhcp.hpp"

namespace dhcp = uk::wire::dhcp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  std::vector<std::byte> input(size);
  for (std::size_t i = 0; i < size; ++i) input[i] = std::byte{data[i]};
  auto parsed = dhcp::parse(input);
  if (!parsed) return 0;

  std::size_t visited = 0;
  parsed->for_each_option([&](std::uint8_t, std::span<const std::byte> option) { visited += option.size(); });
  (void)parsed->server_name();
  (void)parsed->boot_file();
  (void)parsed->client_mac();

  const auto r = dhcp::repr::from(*parsed);
  std::vector<std::byte> out(r.length());
  if (dhcp::emit(r, out) != out.size()) std::abort();
  auto again = dhcp::parse(out);
  if (!again) std::abort();
  // Lists longer than address_list::capacity lose their tail: compare only
  // messages whose lists were kept whole.
  const auto& o = parsed->options();
  if (o.routers.omitted() == 0 && o.dns_servers.omitted() == 0 && !(dhcp::repr::from(*again) == r)) std::abort();
  return 0;
}
