// Targets as types, and the configuration chosen at compile time.
//
//   uk::target::unix    a hosted Linux process (Mirage's `-t unix`)
//   uk::target::qubes   a Qubes OS domU (Mirage's `-t qubes`)
//   uk::net::socket     kernel sockets through Boost.Asio (`--net=socket`)
//   uk::net::direct     uk's own TCP/IP stack over a netif (`--net=direct`)
//
// The build selects one configuration with -DUK_TARGET=unix|qubes and
// -DUK_NET=socket|direct (uk_add_unikernel() passes both); the default is
// unix + socket, and qubes implies direct. They become the types
// uk::selected_target and uk::selected_net.
//
// g++ in its GNU modes (-std=gnu++20, CMake's default) predefines the macro
// `unix` as 1, which would turn `uk::target::unix` into `uk::target::1`. This
// header therefore #undefs `unix`: the macro is a pre-POSIX relic (use
// __unix__ to test for a Unix-like system), and uk's users must be able to
// name the target the same way whatever their -std flag.
#pragma once

#include <concepts>
#include <string_view>

#ifdef unix
#undef unix
#endif

namespace uk {

namespace target {
/// A hosted Linux process: TAP or kernel sockets, SIGINT/SIGTERM for shutdown.
struct unix {
  static constexpr std::string_view name = "unix";
};
/// A Qubes OS domU: IPv4 from QubesDB, qrexec and GUI agents started at boot.
struct qubes {
  static constexpr std::string_view name = "qubes";
};
}  // namespace target

namespace net {
/// Kernel sockets (Mirage's socket stack).
struct socket {
  static constexpr std::string_view name = "socket";
};
/// uk's own Ethernet/ARP/IPv4/ICMP/UDP/TCP over a netif (Mirage's direct stack).
struct direct {
  static constexpr std::string_view name = "direct";
};
}  // namespace net

/// A target tag: one of the types in uk::target.
template <class T>
concept target_tag = std::same_as<T, target::unix> || std::same_as<T, target::qubes>;

/// A network stack kind: one of the types in uk::net.
template <class N>
concept net_tag = std::same_as<N, net::socket> || std::same_as<N, net::direct>;

/// Whether a target offers a stack kind: Qubes has no kernel sockets.
template <target_tag T, net_tag N>
inline constexpr bool supports = !(std::same_as<T, target::qubes> && std::same_as<N, net::socket>);

}  // namespace uk

// ---- Compile-time selection from -DUK_TARGET / -DUK_NET ----------------------
// The value is pasted onto a prefix, so `-DUK_TARGET=unix` selects
// UK_DETAIL_TARGET_unix. This works in GNU modes only because `unix` is
// #undef'd above, before the paste expands it.
#define UK_DETAIL_CAT2(a, b) a##b
#define UK_DETAIL_CAT(a, b) UK_DETAIL_CAT2(a, b)
#define UK_DETAIL_TARGET_unix 1
#define UK_DETAIL_TARGET_qubes 2
#define UK_DETAIL_NET_socket 1
#define UK_DETAIL_NET_direct 2

#ifndef UK_TARGET
#define UK_TARGET unix
#endif
#if UK_DETAIL_CAT(UK_DETAIL_TARGET_, UK_TARGET) == 1
#define UK_DETAIL_SELECTED_TARGET ::uk::target::unix
#elif UK_DETAIL_CAT(UK_DETAIL_TARGET_, UK_TARGET) == 2
#define UK_DETAIL_SELECTED_TARGET ::uk::target::qubes
#else
#error "UK_TARGET must be one of: unix, qubes"
#endif

#ifndef UK_NET
#if UK_DETAIL_CAT(UK_DETAIL_TARGET_, UK_TARGET) == 2
#define UK_NET direct
#else
#define UK_NET socket
#endif
#endif
#if UK_DETAIL_CAT(UK_DETAIL_NET_, UK_NET) == 1
#define UK_DETAIL_SELECTED_NET ::uk::net::socket
#elif UK_DETAIL_CAT(UK_DETAIL_NET_, UK_NET) == 2
#define UK_DETAIL_SELECTED_NET ::uk::net::direct
#else
#error "UK_NET must be one of: socket, direct"
#endif

namespace uk {
/// The target this translation unit is built for (-DUK_TARGET, default unix).
using selected_target = UK_DETAIL_SELECTED_TARGET;
/// The network stack kind this translation unit is built for (-DUK_NET).
using selected_net = UK_DETAIL_SELECTED_NET;
static_assert(supports<selected_target, selected_net>,
              "UK_TARGET=qubes has no kernel sockets: UK_NET must be direct");
}  // namespace uk
