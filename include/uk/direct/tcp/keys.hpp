// The boot-time keys of the direct stack's TCP (Functoria-style typed keys,
// see uk/keys.hpp), and the layer options they make.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "uk/direct/tcp/layer.hpp"
#include "uk/time.hpp"

namespace uk::direct::tcp {

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

/// The layer options the keys give.
template <class Keys>
layer_options options_from(const Keys& keys) {
  layer_options o;
  o.max_connections = keys.template get<max_connections_key>();
  o.connection.msl = keys.template get<msl_key>();
  o.connection.send_buffer = o.connection.receive_buffer = keys.template get<buffer_key>();
  return o;
}

}  // namespace uk::direct::tcp
