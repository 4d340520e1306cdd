// Conversions between uk's address types and Asio's.
#pragma once

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "uk/addr.hpp"
#include "uk/asio.hpp"

namespace uk::socket {

inline asio::ip::address_v4 to_asio(ipv4_address a) { return asio::ip::address_v4(a.value); }
inline ipv4_address from_asio(const asio::ip::address_v4& a) { return ipv4_address{a.to_uint()}; }

inline asio::ip::udp::endpoint to_asio_udp(ipv4_endpoint e) { return {to_asio(e.address), e.port}; }
inline asio::ip::tcp::endpoint to_asio_tcp(ipv4_endpoint e) { return {to_asio(e.address), e.port}; }

/// An Asio endpoint as uk's; a non-IPv4 endpoint (the socket stack only opens IPv4) maps to 0.0.0.0.
template <class Endpoint>
ipv4_endpoint from_asio(const Endpoint& e) {
  const auto a = e.address();
  return {a.is_v4() ? from_asio(a.to_v4()) : ipv4_address{}, e.port()};
}

}  // namespace uk::socket
