// Module type ICMPV4 (Mirage's Icmpv4.S): echo replies and error reports.
#pragma once

#include <concepts>
#include <cstdint>

#include "uk/concepts/ipv4.hpp"

namespace uk {

/// An ICMPv4 layer. It answers echo requests by itself (RFC 1122 3.2.2.6).
///   i.port_unreachable(info, datagram)
///                       reports that nobody listens on the port `datagram` (the
///                       offending datagram's IP payload, transport header onward;
///                       its IP header is info.header) was sent to (RFC 792;
///                       RFC 1122 3.2.2.1); rate-limited
template <class I>
concept icmpv4_layer = requires(I& i, const ipv4_datagram_info& info, frame datagram) {
  { i.port_unreachable(info, datagram) } -> std::same_as<void>;
};

}  // namespace uk
