// Tests of init_for<target::qubes> (uk/qubes/init.hpp) through uk::run_with:
// the qrexec and GUI agents connect before the application starts, their
// jobs then serve dom0, and a Qubes-aware application gets the rexec device.
// The fake dom0 runs on its own thread and io_context, as a separate daemon would.
#include <uk/qubes/init.hpp>

#include <uk/runtime/run.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/hana/size.hpp>

#include "qubes/fake_gui_peer.hpp"
#include "qubes/fake_qrexec_peer.hpp"

namespace asio = boost::asio;
namespace hana = boost::hana;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr int vm_domid = 9;

std::filesystem::path fresh_dir() {
  static std::atomic<int> n{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("uk-qubes-init-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::atomic<bool> rexec_connected_at_start{false};

/// A Qubes-aware application: offers test.Ping, and exits when test.Stop is called.
struct pinged_app {
  static asio::awaitable<int> start(uk::qubes::rexec& agent) {
    rexec_connected_at_start = agent.protocol_version() == 4;
    bool stop = false;
    asio::steady_timer stopped(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    agent.register_service("test.Ping", [](const uk::qubes::service_request& r, uk::qubes::rexec_flow& flow)
                                            -> asio::awaitable<int> {
      const std::string answer = "pong to " + r.source + "\n";
      co_await flow.write(answer);
      co_return 0;
    });
    agent.register_service("test.Stop", [&](const uk::qubes::service_request&, uk::qubes::rexec_flow&)
                                            -> asio::awaitable<int> {
      stop = true;
      stopped.cancel();
      co_return 0;
    });
    while (!stop) {
      boost::system::error_code ignored;
      co_await stopped.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    co_return 7;
  }
};

/// What the fake dom0 saw.
struct dom0_log {
  uk::test::fake_exec_result ping, unknown, stop;  // stop: maybe cut short by the VM's exit
  std::uint32_t gui_version = 0;
  std::string error;
};

void run_fake_dom0(const std::filesystem::path& dir, dom0_log& log) {
  asio::io_context io;
  uk::test::fake_qrexec_daemon qrexec(io.get_executor(), dir, vm_domid);
  uk::test::fake_gui_daemon guid(io.get_executor(), dir, vm_domid);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    // Both daemons at once, as dom0 starts them (the VM connects its devices one after the other).
    co_await (guid.connect() && qrexec.connect());
    log.gui_version = guid.version();
    try {
      log.ping = co_await qrexec.exec("user:QUBESRPC test.Ping dom0");
      log.unknown = co_await qrexec.exec("root:echo hello");
    } catch (const std::exception& x) {
      log.error = x.what();
    }
    if (!log.error.empty()) {  // a new daemon, only to stop the application
      qrexec.disconnect();
      co_await qrexec.connect();
    }
    // The application exits as test.Stop runs: the VM may be gone before it answers.
    try {
      log.stop = co_await qrexec.exec("user:QUBESRPC test.Stop dom0");
    } catch (const std::exception&) {
    }
  }, [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        log.error = x.what();
      }
    }
  });
  io.run_for(std::chrono::seconds(20));  // a safety net for a hang, not a timing
}

}  // namespace

TEST_CASE("Composition: init_for<target::qubes> is the qrexec and GUI jobs, init_for<unix> is empty", "[qubes][init]") {
  STATIC_REQUIRE(uk::init_for<uk::target::qubes> == hana::tuple_t<uk::qubes::rexec_job, uk::qubes::gui_job>);
  STATIC_REQUIRE(hana::size(uk::init_for<uk::target::unix>) == hana::size_c<0>);
}

TEST_CASE("Composition: uk::run connects qrexec and GUI before start, the jobs serve dom0, the app's services answer",
          "[qubes][init]") {
  const auto dir = fresh_dir();
  dom0_log log;
  std::thread dom0([&] { run_fake_dom0(dir, log); });
  const std::string dir_arg = "--vchan-dir=" + dir.string();
  const std::string domid_arg = "--qubes-domid=" + std::to_string(vm_domid);
  std::vector<const char*> argv = {"init-test", dir_arg.c_str(), domid_arg.c_str(), "-l", std::getenv("UK_TEST_DEBUG") ? "*:debug" : "*:warning"};
  const int status = uk::run_with<pinged_app>(hana::tuple_t<uk::qubes::domains, uk::qubes::rexec, uk::qubes::gui>,
                                              uk::init_for<uk::target::qubes>, static_cast<int>(argv.size()),
                                              const_cast<char**>(argv.data()));
  dom0.join();
  std::filesystem::remove_all(dir);
  INFO(log.error);
  CHECK(log.error.empty());
  CHECK(status == 7);
  CHECK(rexec_connected_at_start);
  CHECK(log.gui_version == uk::wire::qubes_gui::version_1_8);
  CHECK(log.ping.out == "pong to dom0\n");
  CHECK(log.ping.exit_code == 0);
  CHECK(log.unknown.exit_code == 127);
  CHECK(log.unknown.err == "echo: service not found\n");
}
