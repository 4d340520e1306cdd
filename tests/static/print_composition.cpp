// Prints and checks the composed types of each configuration in this version.
#include <uk/stack.hpp>

#include <boost/core/demangle.hpp>
#include <boost/hana/length.hpp>

#include <cstdio>
#include <typeinfo>

template <class T>
void print(const char* what) {
  std::printf("%-28s %s\n", what, boost::core::demangle(typeid(T).name()).c_str());
}

int main() {
  using socket_stack = uk::stack_for<uk::target::unix, uk::net::socket>;
  static_assert(std::is_same_v<socket_stack, uk::socket::stack>);
  static_assert(uk::stack<socket_stack>);
  static_assert(boost::hana::length(uk::init_for<uk::target::unix>) == boost::hana::size_c<0>);
  print<socket_stack>("stack_for<unix, socket>");
  print<decltype(uk::init_for<uk::target::unix>)>("init_for<unix>");
  print<decltype(uk::devices_for<uk::target::unix, uk::net::socket>)>("devices_for<unix, socket>");
}
