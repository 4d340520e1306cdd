// libFuzzer target for uk/wire/icmpv4.hpp: parse() must never read outside
// its input, the type-specific accessors must be safe wherever their
// preconditions hold (quoted datagrams included), and an accepted message
// must survive repr, emit and parse again. Seeds in corpus/icmpv4/: messages
// the Linux kernel sent (tests/data/*.pcap): echo request and reply, port
// unreachable, fragmentation needed, both time exceeded codes, a quote with
// IP options, and a hand-made timestamp request (a type without a repr).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "uk/wire/icmpv4.hpp"

namespace icmpv4 = uk::wire::icmpv4;
namespace ipv4 = uk::wire::ipv4;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool inside(std::span<const std::byte> part, std::span<const std::byte> whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  std::vector<std::byte> input(size);
  for (std::size_t i = 0; i < size; ++i) input[i] = std::byte{data[i]};

  const auto v = icmpv4::parse(input);
  if (!v) return 0;
  check(v->message().size() == input.size() && v->header().size() == icmpv4::header_length);
  check(inside(v->payload(), input) && v->payload().size() + 8 == input.size());
  (void)v->type(), (void)v->code(), (void)v->checksum(), (void)v->rest_of_header();
  if (v->is_echo()) {
    (void)v->identifier(), (void)v->sequence_number();
    check(v->echo_data().size() == v->payload().size());
  }
  if (v->type() == icmpv4::message_type::destination_unreachable &&
      v->code() == static_cast<std::uint8_t>(icmpv4::unreachable_code::fragmentation_needed)) {
    (void)v->next_hop_mtu();
  }
  if (v->quotes_datagram()) {
    check(inside(v->quoted(), input));
    for (const auto mode : {ipv4::checksum_check::verify, ipv4::checksum_check::skip}) {
      const auto q = v->quoted_datagram(mode);
      if (!q) continue;
      check(inside(q->datagram(), v->quoted()) && inside(q->payload(), q->datagram()));
      check(q->header_length() >= 20 && q->total_length() >= q->header_length());
      (void)q->src(), (void)q->dst(), (void)q->protocol(), (void)q->options();
    }
  }

  // repr -> emit over the same payload -> parse gives the same fields.
  const auto r = icmpv4::repr::from(*v);
  std::vector<std::byte> out(input);
  check(icmpv4::emit(r, out) == icmpv4::header_length);
  const auto again = icmpv4::parse(out);
  check(again && icmpv4::repr::from(*again) == r);
  // Echo (with the code 0 of RFC 792) and other types carry every header bit
  // in their repr: byte-exact but for the checksum, where 0x0000 and 0xffff
  // may both verify (RFC 1071).
  if ((v->is_echo() && v->code() == 0) ||
      std::holds_alternative<icmpv4::other_message>(r.message)) {
    check(std::equal(out.begin(), out.begin() + 2, input.begin()));
    check(std::equal(out.begin() + 4, out.end(), input.begin() + 4, input.end()));
  }
  return 0;
}
