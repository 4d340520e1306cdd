// Mirage's first tutorial, in uk: log "hello" four times, a second apart,
// then exit 0. The same source builds for every target.
#include <chrono>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <uk/stack.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// --hello: what to say (Mirage's tutorial has the same key).
struct hello_key {
  using value_type = std::string;
  static constexpr std::string_view name = "hello";
  static constexpr std::string_view group = "hello";
  static constexpr std::string_view doc = "What to say.";
  static constexpr std::string_view default_text = "hello";
};

/// --count: how many times to say it.
struct count_key {
  using value_type = int;
  static constexpr std::string_view name = "count";
  static constexpr std::string_view group = "hello";
  static constexpr std::string_view doc = "How many times to say it, a second apart.";
  static constexpr std::string_view default_text = "4";
  static constexpr long long min = 0, max = 1000;
};

struct hello {
  using keys = uk::key_list<hello_key, count_key>;
  // A start function names the devices it needs; hello needs a clock.
  template <uk::clock Clock>
  static asio::awaitable<int> start(Clock& clock) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const std::string& greeting = uk::key_value<hello_key>();
    for (int i = 0; i < uk::key_value<count_key>(); ++i) {
      if (i > 0) {
        timer.expires_after(1s);
        co_await timer.async_wait(asio::use_awaitable);
      }
      uk::log::info(uk::log::source::app, "{} (at {:.3f} s)", greeting,
                    std::chrono::duration<double>(clock.now().time_since_epoch()).count());
    }
    co_return 0;
  }
};

int main(int argc, char** argv) { return uk::run<hello>(argc, argv); }
