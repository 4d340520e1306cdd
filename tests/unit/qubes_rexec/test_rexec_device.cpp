// Tests of the qrexec agent device (uk/qubes/rexec.hpp) against the fake dom0
// qrexec-daemon of tests/qubes, over real socket vchans in a temporary
// directory: an exec with stdout, stderr and an exit code, a service call
// both ways, version negotiation at 2, 3 and 4, refusals, reconnection.
#include <uk/qubes/rexec.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>

#include "qubes/fake_qrexec_peer.hpp"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
// (not `using uk::qubes::rexec`: <netdb.h> declares a function ::rexec)
using agent_type = uk::qubes::rexec;
using uk::qubes::rexec_flow;
using uk::qubes::service_request;
using uk::test::fake_qrexec_daemon;

namespace {

constexpr int vm_domid = 5;

/// An io_context whose services can be shut down while the devices still
/// exist (as uk::run does): pending coroutines go first.
struct test_io : asio::io_context {
  using asio::execution_context::shutdown;
};

std::filesystem::path fresh_dir() {
  static std::atomic<int> n{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("uk-qrexec-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Boots an agent of `agent_version`, connects a fake daemon of
/// `daemon_version`, lets `setup` register services, then runs `body`.
template <class Setup, class Body>
void with_dom0(std::uint32_t agent_version, std::uint32_t daemon_version, Setup setup, Body body) {
  if (std::getenv("UK_TEST_DEBUG")) uk::log::set_level(uk::log::source::qubes_rexec, uk::log::level::debug);
  const auto dir = fresh_dir();
  test_io io;
  uk::qubes::domains domains(io.get_executor(), dir, vm_domid);
  agent_type agent(domains, agent_version);
  setup(agent);
  fake_qrexec_daemon dom0(io.get_executor(), dir, vm_domid, daemon_version);
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await (agent.connect() && dom0.connect());
    asio::co_spawn(io, agent.run(), asio::detached);
    co_await body(agent, dom0);
  }, [&](std::exception_ptr e) {
    failure = e;
    done = true;
    io.stop();
  });
  io.run_for(std::chrono::seconds(20));  // a safety net for a hang, not a timing
  io.shutdown();
  std::filesystem::remove_all(dir);
  REQUIRE(done);
  if (failure) std::rethrow_exception(failure);
}

void no_services(agent_type&) {}

/// test.Hello: greets stdin on stdout, complains on stderr, exits 3.
void hello_service(agent_type& agent) {
  agent.register_service("test.Hello", [](const service_request& r, rexec_flow& flow) -> asio::awaitable<int> {
    const std::string input = co_await flow.read_all();
    const std::string greeting = "hello " + input + " from " + r.source + " arg=" + r.argument + "\n";
    co_await flow.write(greeting);
    co_await flow.write_stderr("a warning\n");
    co_return 3;
  });
}

}  // namespace

TEST_CASE("qrexec 2.4: an exec of a registered service gives its stdout, stderr and exit code, EOFs in order",
          "[qrexec][device]") {
  with_dom0(4, 4, hello_service, [](agent_type& agent, fake_qrexec_daemon& dom0) -> asio::awaitable<void> {
    CHECK(agent.protocol_version() == 4);
    const auto r = co_await dom0.exec("user:QUBESRPC test.Hello+x work", "world");
    CHECK(r.data_version == 4);
    CHECK(r.out == "hello world from work arg=x\n");
    CHECK(r.err == "a warning\n");
    CHECK(r.exit_code == 3);
    REQUIRE(r.order.size() >= 3);
    // 2.4 step 4: STDOUT EOF, STDERR EOF, EXIT_CODE, last.
    CHECK(r.order[r.order.size() - 3] == "stdout-eof");
    CHECK(r.order[r.order.size() - 2] == "stderr-eof");
    CHECK(r.order.back() == "exit");
    CHECK(agent.counters().execs == 1);
  });
}

TEST_CASE("qrexec 2.1: a Qubes-unaware agent answers any command 'service not found' with exit code 127",
          "[qrexec][device]") {
  with_dom0(4, 4, no_services, [](agent_type& agent, fake_qrexec_daemon& dom0) -> asio::awaitable<void> {
    const auto shell = co_await dom0.exec("root:echo hello-from-vm; exit 3", "");
    CHECK(shell.exit_code == 127);
    CHECK(shell.out.empty());
    CHECK(shell.err == "echo: service not found\n");
    const auto rpc = co_await dom0.exec("user:QUBESRPC qubes.WaitForSession+ dom0");
    CHECK(rpc.exit_code == 127);
    CHECK(rpc.err == "qubes.WaitForSession: service not found\n");
    // The EOFs in the upstream order, then the exit code.
    CHECK(rpc.order == std::vector<std::string>{"stderr", "stdout-eof", "stderr-eof", "exit"});
    CHECK(agent.counters().services_not_found == 2);
  });
}

TEST_CASE("qrexec 2.4: MSG_JUST_EXEC gets the exit code alone: 0 when the service started, 127 when unknown",
          "[qrexec][device]") {
  bool ran = false;
  with_dom0(
      4, 4,
      [&](agent_type& agent) {
        agent.register_service("test.Start", [&](const service_request&, rexec_flow& flow) -> asio::awaitable<int> {
          ran = true;
          const std::string input = co_await flow.read_all();
          CHECK(input.empty());  // no caller: EOF at once
          co_return 0;
        });
      },
      [&](agent_type&, fake_qrexec_daemon& dom0) -> asio::awaitable<void> {
        const auto started = co_await dom0.exec("user:QUBESRPC test.Start dom0", {}, true);
        CHECK(started.exit_code == 0);
        CHECK(started.order == std::vector<std::string>{"exit"});
        const auto unknown = co_await dom0.exec("user:QUBESRPC test.Nothing dom0", {}, true);
        CHECK(unknown.exit_code == 127);
        CHECK(unknown.order == std::vector<std::string>{"exit"});
      });
  CHECK(ran);
}

TEST_CASE("qrexec 2.5: this VM calls dom0's test.Echo+arg1 and reads its answer and exit code", "[qrexec][device]") {
  with_dom0(4, 4, no_services, [](agent_type& agent, fake_qrexec_daemon& dom0) -> asio::awaitable<void> {
    auto vm_side = [&]() -> asio::awaitable<std::string> {
      auto flow = co_await agent.call("@adminvm", "test.Echo+arg1");
      co_await flow.write("stdin-data\n");
      co_await flow.close_write();
      std::string out = co_await flow.read_all();
      const int code = co_await flow.exit_code();
      CHECK(code == 0);
      CHECK(flow.stderr_text().empty());
      co_return out;
    };
    auto dom0_side = [&]() -> asio::awaitable<std::string> {
      const auto t = co_await dom0.expect_trigger();
      CHECK(t.target == "@adminvm");
      CHECK(t.service == "test.Echo+arg1");
      co_return co_await dom0.serve_echo(t, "dom0 service arg=[arg1] remote=testvm\n");
    };
    const auto [out, dom0_read] = co_await (vm_side() && dom0_side());
    CHECK(out == "dom0 service arg=[arg1] remote=testvm\nstdin-data\n");
    CHECK(dom0_read == "stdin-data\n");
    CHECK(agent.counters().calls == 1);
  });
}

TEST_CASE("qrexec 2.5: a call dom0's policy refuses throws rexec_error", "[qrexec][device]") {
  with_dom0(4, 4, no_services, [](agent_type& agent, fake_qrexec_daemon& dom0) -> asio::awaitable<void> {
    auto vm_side = [&]() -> asio::awaitable<bool> {
      try {
        co_await agent.call("work", "test.Denied");
      } catch (const uk::qubes::rexec_error&) {
        co_return true;
      }
      co_return false;
    };
    auto dom0_side = [&]() -> asio::awaitable<void> {
      const auto t = co_await dom0.expect_trigger();
      co_await dom0.refuse(t);
    };
    const bool refused = co_await (vm_side() && dom0_side());
    CHECK(refused);
    CHECK(agent.counters().calls_refused == 1);
  });
}

TEST_CASE("qrexec 2.3: versions 2, 3 and 4 negotiate, pick the trigger type and serve execs", "[qrexec][device]") {
  struct pair {
    std::uint32_t agent, daemon, expected;
  };
  for (const pair p : {pair{2, 4, 2}, pair{3, 4, 3}, pair{4, 4, 4}, pair{4, 3, 3}, pair{4, 2, 2}}) {
    CAPTURE(p.agent, p.daemon);
    with_dom0(p.agent, p.daemon, hello_service, [&](agent_type& agent, fake_qrexec_daemon& dom0) -> asio::awaitable<void> {
      CHECK(agent.protocol_version() == p.expected);
      CHECK(dom0.agent_version() == p.agent);
      // A trigger of the wrong type for the version makes the fake (as the real daemon) fail.
      auto vm_side = [&]() -> asio::awaitable<std::string> {
        auto flow = co_await agent.call("@adminvm", "test.Echo");
        co_await flow.close_write();
        co_return co_await flow.read_all();
      };
      auto dom0_side = [&]() -> asio::awaitable<std::uint32_t> {
        const auto t = co_await dom0.expect_trigger();
        co_await dom0.serve_echo(t, "v\n");
        co_return t.type;
      };
      const auto [out, type] = co_await (vm_side() && dom0_side());
      CHECK(out == "v\n");
      CHECK(type == static_cast<std::uint32_t>(uk::wire::qubes_rexec::trigger_type(p.expected)));
      // Data chunks: 5000 bytes arrive whole whatever the version.
      const auto r = co_await dom0.exec("user:QUBESRPC test.Hello dom0", std::string(5000, 'z'));
      CHECK(r.out.size() == std::string("hello  from dom0 arg=\n").size() + 5000);
    });
  }
}

TEST_CASE("qrexec: when dom0's qrexec-daemon goes away, the agent serves the next one", "[qrexec][device]") {
  with_dom0(4, 4, hello_service, [](agent_type& agent, fake_qrexec_daemon& dom0) -> asio::awaitable<void> {
    dom0.disconnect();
    co_await dom0.connect();  // a new daemon
    const auto r = co_await dom0.exec("user:QUBESRPC test.Hello dom0", "again");
    CHECK(r.exit_code == 3);
    CHECK(agent.counters().reconnects == 1);
  });
}
