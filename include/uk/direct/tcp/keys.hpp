// The boot-time keys of the direct stack's TCP (Functoria-style typed keys,
// see uk/keys.hpp), and the layer options they make.
#pragma once

#include <chrono>
#include <optional>
#include <cstddef>
#include <string_view>

#include "uk/detail/key_parsers.hpp"
#include "uk/direct/tcp/config.hpp"
#include "uk/direct/tcp/layer.hpp"
#include "uk/time.hpp"

namespace uk::direct::tcp {

/// --tcp-congestion: the congestion-control algorithm of every connection.
struct congestion_key {
  using value_type = congestion_algorithm;
  static constexpr std::string_view name = "tcp-congestion";
  static constexpr std::string_view group = "tcp";
  static constexpr std::string_view doc =
      "Congestion control: cubic (RFC 9438) or newreno (RFC 5681 and RFC 6582).";
  static constexpr std::string_view default_text = "cubic";
};

/// --tcp-sack / --no-tcp-sack: offer SACK (RFC 2018) and recover losses with it (RFC 6675).
struct sack_key {
  using value_type = bool;
  static constexpr std::string_view name = "tcp-sack";
  static constexpr std::string_view group = "tcp";
  static constexpr std::string_view doc =
      "Offer Selective Acknowledgment (RFC 2018) and recover losses from it (RFC 6675); --no-tcp-sack "
      "turns it off.";
  static constexpr std::string_view default_text = "true";
};

/// --tcp-msl: the Maximum Segment Lifetime; TIME-WAIT lasts twice as long.
struct msl_key {
  using value_type = std::chrono::nanoseconds;
  static constexpr std::string_view name = "tcp-msl";
  static constexpr std::string_view group = "tcp";
  static constexpr std::string_view doc =
      "The Maximum Segment Lifetime (RFC 9293 3.4.1); TIME-WAIT lasts twice as long.";
  static constexpr std::string_view default_text = "30s";
};

/// --tcp-max-connections: the cap on connections in every state.
struct max_connections_key {
  using value_type = std::uint32_t;
  static constexpr std::string_view name = "tcp-max-connections";
  static constexpr std::string_view group = "tcp";
  static constexpr std::string_view doc =
      "The most TCP connections at once, in every state; SYNs and connects beyond are refused and counted.";
  static constexpr std::string_view default_text = "4096";
  static constexpr long long min = 1, max = 1000000;
};

/// --tcp-buffer: the send and receive buffer of each connection.
struct buffer_key {
  using value_type = std::uint32_t;
  static constexpr std::string_view name = "tcp-buffer";
  static constexpr std::string_view group = "tcp";
  static constexpr std::string_view doc =
      "Bytes of send buffer and of receive buffer per connection; the advertised window is the free "
      "part of the receive buffer.";
  static constexpr std::string_view default_text = "262144";
  static constexpr long long min = 4096, max = 64 * 1024 * 1024;
};

}  // namespace uk::direct::tcp

/// How --tcp-congestion's text becomes an algorithm.
template <>
struct uk::key_parser<uk::direct::tcp::congestion_algorithm> {
  static constexpr std::string_view metavar = "ALGORITHM";
  static constexpr std::string_view expected = "cubic or newreno";
  static constexpr std::optional<uk::direct::tcp::congestion_algorithm> parse(std::string_view text) noexcept {
    if (text == "cubic") return uk::direct::tcp::congestion_algorithm::cubic;
    if (text == "newreno") return uk::direct::tcp::congestion_algorithm::newreno;
    return std::nullopt;
  }
};

namespace uk::direct::tcp {

/// The layer options the keys give.
template <class Keys>
layer_options options_from(const Keys& keys) {
  layer_options o;
  o.max_connections = keys.template get<max_connections_key>();
  o.connection.msl = keys.template get<msl_key>();
  o.connection.send_buffer = o.connection.receive_buffer = keys.template get<buffer_key>();
  o.connection.congestion = keys.template get<congestion_key>();
  o.connection.sack = keys.template get<sack_key>();
  return o;
}

}  // namespace uk::direct::tcp
