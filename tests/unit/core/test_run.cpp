// uk::run: start signatures, keys, boot order, failures and shutdown.
#include <catch2/catch.hpp>

#include <uk/stack.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <csignal>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

/// Runs App with the given arguments on this build's configuration.
template <class App>
int run_app(std::vector<std::string> args) {
  args.insert(args.begin(), "test-app");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return uk::run<App>(static_cast<int>(argv.size()), argv.data());
}

template <class App, class Available, class Jobs = decltype(boost::hana::tuple_t<>)>
int run_app_with(Available available, std::vector<std::string> args, Jobs jobs = {}) {
  args.insert(args.begin(), "test-app");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return uk::run_with<App>(available, jobs, static_cast<int>(argv.size()), argv.data());
}

std::vector<std::string> boot_log;  // what devices, jobs and apps did, in order

struct no_devices_app {
  static asio::awaitable<int> start() { co_return 3; }
};

struct clock_then_lifecycle_app {
  template <uk::lifecycle_device L, uk::clock C>  // parameters in any order
  static asio::awaitable<int> start(L& lifecycle, C& clock) {
    (void)lifecycle;
    co_return clock.now() >= uk::instant{} ? 5 : 6;
  }
};

struct stack_app {
  template <uk::stack S>
  static asio::awaitable<int> start(S& net) {
    auto socket = co_await net.udp().bind(0);
    co_return socket.local_port() != 0 ? 0 : 1;
  }
};

struct throwing_app {
  template <uk::clock C>
  static asio::awaitable<int> start(C&) {
    throw std::runtime_error("the app gave up");
    co_return 0;
  }
};

struct port_key {
  using value_type = std::uint16_t;
  static constexpr std::string_view name = "port";
  static constexpr std::string_view group = "test";
  static constexpr std::string_view doc = "A port.";
  static constexpr std::string_view default_text = "7";
  static constexpr long long min = 1, max = 65535;
};

struct keyed_app {
  using keys = uk::key_list<port_key>;
  static asio::awaitable<int> start() { co_return uk::key_value<port_key>(); }
};

struct signalled_app {
  template <uk::lifecycle_device L>
  static asio::awaitable<int> start(L& lifecycle) {
    asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
    co_await t.async_wait(asio::use_awaitable);
    std::raise(SIGTERM);
    auto request = co_await lifecycle.await_shutdown_request();
    co_return request == uk::shutdown_request::poweroff ? 42 : 1;
  }
};

/// Leaves a coroutine waiting on a socket when it returns: run must destroy
/// it before the stack it refers to.
struct leaves_work_behind_app {
  template <uk::stack S>
  static asio::awaitable<int> start(S& net) {
    auto executor = co_await asio::this_coro::executor;
    asio::co_spawn(executor, [&net]() -> asio::awaitable<void> {
      auto socket = co_await net.udp().bind(0);
      for (;;) co_await socket.receive();
    }, asio::detached);
    asio::steady_timer t(executor, 5ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return 0;
  }
};

// Devices for run_with: a chain with a dependency, and one that fails.
struct base_device {
  using keys = uk::key_list<>;
  static constexpr std::string_view device_name = "base";
  template <class Keys>
  base_device(uk::device_context&, const Keys&) { boot_log.push_back("base constructed"); }
  ~base_device() { boot_log.push_back("base destroyed"); }
  asio::awaitable<void> connect() {
    boot_log.push_back("base connected");
    co_return;
  }
};

struct name_key {
  using value_type = std::string;
  static constexpr std::string_view name = "upper-name";
  static constexpr std::string_view group = "upper";
  static constexpr std::string_view doc = "The upper device's name.";
  static constexpr std::string_view default_text = "up";
};

struct upper_device {
  using keys = uk::key_list<name_key>;
  using dependencies = uk::device_list<base_device>;
  static constexpr std::string_view device_name = "upper";
  template <class Keys>
  upper_device(uk::device_context&, const Keys& keys, base_device&) : name(keys.template get<name_key>()) {
    boot_log.push_back("upper constructed");
  }
  ~upper_device() { boot_log.push_back("upper destroyed"); }
  std::string name;
};

template <class T>
concept upper_like = requires(T& t) { t.name; };

struct failing_device {
  using keys = uk::key_list<>;
  static constexpr std::string_view device_name = "failing";
  template <class Keys>
  failing_device(uk::device_context&, const Keys&) {}
  asio::awaitable<void> connect() {
    throw uk::device_error("no such device: tap9");
    co_return;
  }
  int failing_marker = 0;
};

template <class T>
concept failing_like = requires(T& t) { t.failing_marker; };

struct upper_app {
  template <upper_like U>
  static asio::awaitable<int> start(U& upper) {
    boot_log.push_back("app started with " + upper.name);
    co_return 0;
  }
};

struct failing_app {
  template <failing_like F>
  static asio::awaitable<int> start(F&) {
    boot_log.push_back("app started");
    co_return 0;
  }
};

struct init_job {
  template <upper_like U>
  static asio::awaitable<void> start(U&) {
    boot_log.push_back("job started");
    co_return;
  }
};

}  // namespace

TEST_CASE("run: an app that asks for no device gets none and its status is returned") {
  CHECK(run_app<no_devices_app>({}) == 3);
}

TEST_CASE("run: devices are found by concept, in any parameter order") {
  CHECK(run_app<clock_then_lifecycle_app>({}) == 5);
}

TEST_CASE("run: an app asking for the stack gets this configuration's stack") {
  CHECK(run_app<stack_app>({"--ipv4=127.0.0.1/8"}) == 0);
}

TEST_CASE("run: the app's keys are parsed and readable with key_value") {
  CHECK(run_app<keyed_app>({}) == 7);
  CHECK(run_app<keyed_app>({"--port=99"}) == 99);
  CHECK(run_app<keyed_app>({"--port", "0"}) == uk::exit_usage);
  CHECK(run_app<keyed_app>({"--prot=9"}) == uk::exit_usage);
  CHECK(run_app<keyed_app>({"--help"}) == uk::exit_help);
}

TEST_CASE("run: the keys of the devices an app asks for are keys of its build") {
  CHECK(run_app<stack_app>({"--ipv4=not-an-address"}) == uk::exit_usage);
  CHECK(run_app<no_devices_app>({"--ipv4=127.0.0.1/8"}) == uk::exit_usage);  // no stack, no --ipv4
}

TEST_CASE("run: an exception escaping start is logged and exits with exit_app_failure") {
  CHECK(run_app<throwing_app>({"-l", "quiet"}) == uk::exit_app_failure);
}

TEST_CASE("run: SIGTERM becomes a shutdown request the app can await") {
  CHECK(run_app<signalled_app>({}) == 42);
}

TEST_CASE("run: work left pending by the app is destroyed before the devices") {
  CHECK(run_app<leaves_work_behind_app>({}) == 0);
}

TEST_CASE("run: dependencies are connected first, each once, then init jobs, then the app; teardown is reversed") {
  boot_log.clear();
  const auto available = uk::device_list<base_device, upper_device>{};
  const int status = run_app_with<upper_app>(available, {"--upper-name=u1"}, uk::device_list<init_job>{});
  CHECK(status == 0);
  CHECK(boot_log == std::vector<std::string>{"base constructed", "base connected", "upper constructed",
                                             "job started", "app started with u1", "upper destroyed",
                                             "base destroyed"});
}

TEST_CASE("run: a device that fails to connect stops the boot before the app starts") {
  boot_log.clear();
  const int status = run_app_with<failing_app>(uk::device_list<failing_device>{}, {"-l", "quiet"});
  CHECK(status == uk::exit_boot_failure);
  CHECK(boot_log.empty());
}
