// Prints and checks the composed types of each configuration in this version,
// then boots an app that asks for every device of unix/socket. The nm test
// runs on this binary: a unix build with the whole runtime holds no Qubes code.
#include <uk/stack.hpp>

#include <boost/core/demangle.hpp>
#include <boost/hana/length.hpp>

#include <cstdio>
#include <typeinfo>

template <class T>
void print(const char* what) {
  std::printf("%-28s %s\n", what, boost::core::demangle(typeid(T).name()).c_str());
}

struct every_device_app {
  template <uk::stack S, uk::lifecycle_device L, uk::clock C, uk::random_source R>
  static boost::asio::awaitable<int> start(S& net, L&, C&, R& random) {
    auto socket = co_await net.udp().bind(0);
    std::printf("every device connected; UDP port %u bound; random %016llx\n", socket.local_port(),
                static_cast<unsigned long long>(random()));
    co_return 0;
  }
};

int main(int argc, char** argv) {
  using socket_stack = uk::stack_for<uk::target::unix, uk::net::socket>;
  static_assert(std::is_same_v<socket_stack, uk::socket::stack>);
  static_assert(uk::stack<socket_stack>);
  static_assert(boost::hana::length(uk::init_for<uk::target::unix>) == boost::hana::size_c<0>);
  using direct_stack = uk::stack_for<uk::target::unix, uk::net::direct>;
  static_assert(uk::udp_stack<direct_stack> && uk::direct_stack<direct_stack>);
  static_assert(uk::netif<uk::netif_for<uk::target::unix, uk::net::direct>>);
  print<socket_stack>("stack_for<unix, socket>");
  print<direct_stack>("stack_for<unix, direct>");
  print<direct_stack::udp_type>("  its udp layer");
  print<decltype(uk::init_for<uk::target::unix>)>("init_for<unix>");
  print<decltype(uk::devices_for<uk::target::unix, uk::net::socket>)>("devices_for<unix, socket>");
  return uk::run<every_device_app>(argc, argv);
}
