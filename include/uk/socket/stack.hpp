// The socket stack: the stack concept over the host kernel's sockets
// (Mirage's `--net=socket`, stackv4_socket). The default for target::unix.
#pragma once

#include <string_view>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "uk/concepts/stack.hpp"
#include "uk/runtime/device.hpp"
#include "uk/socket/tcp.hpp"
#include "uk/socket/udp.hpp"

namespace uk::socket {

/// --ipv4 of the socket stack: the local address sockets bind to.
struct ipv4_key {
  using value_type = ipv4_prefix;
  static constexpr std::string_view name = "ipv4";
  static constexpr std::string_view group = "socket stack";
  static constexpr std::string_view doc =
      "The host address that listening and bound sockets use; 0.0.0.0/0 means every address of the host.";
  static constexpr std::string_view default_text = "0.0.0.0/0";
};

class stack {
 public:
  using keys = key_list<ipv4_key>;
  static constexpr std::string_view device_name = "socket stack";

  stack(asio::any_io_executor executor, ipv4_address bind_address)
      : udp_(executor, bind_address), tcp_(executor, bind_address) {}

  template <class Keys>
  stack(device_context& ctx, const Keys& keys)
      : stack(ctx.executor, keys.template get<ipv4_key>().address) {}

  socket::udp& udp() noexcept { return udp_; }
  socket::tcp& tcp() noexcept { return tcp_; }

 private:
  socket::udp udp_;
  socket::tcp tcp_;
};

static_assert(uk::stack<stack>);

}  // namespace uk::socket
