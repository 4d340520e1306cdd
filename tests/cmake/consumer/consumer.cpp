// A consumer of uk: the target is named uk::target::unix whether this file is
// built with -std=c++20 or -std=gnu++20 (where g++ predefines `unix` as 1).
#include <uk/stack.hpp>

#include <type_traits>

static_assert(std::is_same_v<uk::selected_target, uk::target::unix>);
static_assert(std::is_same_v<uk::selected_net, uk::net::socket>);

struct consumer {
  template <uk::clock Clock>
  static boost::asio::awaitable<int> start(Clock&) {
    uk::log::info(uk::log::source::app, "consumer of uk {}", "works");
    co_return 0;
  }
};

int main(int argc, char** argv) { return uk::run<consumer>(argc, argv); }
