// Built in GNU mode (where g++ predefines the macro `unix`) and in ISO mode;
// also compiled with bad -DUK_TARGET / -DUK_NET values, which must fail.
#if defined(__GNUC__) && !defined(__STRICT_ANSI__) && !defined(unix)
#error "this test expects g++'s GNU mode to predefine the macro unix"
#endif

#include <uk/target.hpp>

#include <cstdio>
#include <type_traits>

static_assert(std::is_same_v<uk::selected_target, uk::target::unix>);
static_assert(std::is_same_v<uk::selected_net, uk::net::socket>);
static_assert(uk::target::unix::name == "unix");

int main() {
  std::printf("selected uk::target::%s, uk::net::%s\n", uk::selected_target::name.data(),
              uk::selected_net::name.data());
}
