// Tests of the GUI agent device (uk/qubes/gui.hpp) against the fake
// qubes-guid of tests/qubes over real socket vchans: handshakes at 1.8 and
// 1.1, daemon messages skipped, the window API, reconnection.
#include <uk/qubes/gui.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "qubes/fake_gui_peer.hpp"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
namespace gui_wire = uk::wire::qubes_gui;
using uk::test::fake_gui_daemon;

namespace {

constexpr int vm_domid = 7;

struct test_io : asio::io_context {
  using asio::execution_context::shutdown;
};

std::filesystem::path fresh_dir() {
  static std::atomic<int> n{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("uk-gui-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

template <class Body>
void with_guid(std::uint32_t agent_version, std::uint32_t daemon_version, Body body) {
  const auto dir = fresh_dir();
  test_io io;
  uk::qubes::domains domains(io.get_executor(), dir, vm_domid);
  uk::qubes::gui agent(domains, agent_version);
  fake_gui_daemon guid(io.get_executor(), dir, vm_domid, daemon_version);
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await (agent.connect() && guid.connect());
    asio::co_spawn(io, agent.run(), asio::detached);
    co_await body(agent, guid);
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

}  // namespace

TEST_CASE("GUI 3.2: the agent announces 1.8 and the daemon of 1.8 accepts it", "[gui][device]") {
  with_guid(gui_wire::version_1_8, gui_wire::version_1_8,
            [](uk::qubes::gui& agent, fake_gui_daemon& guid) -> asio::awaitable<void> {
              CHECK(guid.agent_version() == gui_wire::version_1_8);
              CHECK(agent.protocol_version() == gui_wire::version_1_8);
              CHECK(agent.screen() == gui_wire::xconf{1024, 768, 24, 3073});
              co_return;
            });
}

TEST_CASE("GUI 3.2: an agent announcing 1.1 reads only the xconf, as mirage-qubes", "[gui][device]") {
  with_guid(gui_wire::version_1_1, gui_wire::version_1_8,
            [](uk::qubes::gui& agent, fake_gui_daemon& guid) -> asio::awaitable<void> {
              CHECK(guid.version() == gui_wire::version_1_1);
              CHECK(agent.protocol_version() == gui_wire::version_1_1);
              CHECK(agent.screen().width == 1024);
              co_return;
            });
}

TEST_CASE("GUI 3.2: a daemon of 1.5 negotiates 1.5 with an agent of 1.8", "[gui][device]") {
  with_guid(gui_wire::version_1_8, gui_wire::version(1, 5),
            [](uk::qubes::gui& agent, fake_gui_daemon&) -> asio::awaitable<void> {
              CHECK(agent.protocol_version() == gui_wire::version(1, 5));
              co_return;
            });
}

TEST_CASE("GUI 3.2 step 4: the agent skips every daemon message, then its window messages reach the daemon",
          "[gui][device]") {
  with_guid(gui_wire::version_1_8, gui_wire::version_1_8,
            [](uk::qubes::gui& agent, fake_gui_daemon& guid) -> asio::awaitable<void> {
              co_await guid.send(gui_wire::message_type::keymap_notify, 0, std::vector<std::byte>(32));
              co_await guid.send(gui_wire::message_type::clipboard_data, 0, std::vector<std::byte>(100000));
              co_await guid.send(gui_wire::message_type::focus, 1, std::vector<std::byte>(12));
              co_await agent.create_window(1, {10, 20, 300, 200, 0, 0});
              co_await agent.set_title(1, "uk");
              co_await agent.map_window(1);
              co_await agent.configure_window(1, {10, 20, 300, 200, 0});
              // The fake checks every length against the table, as a daemon at >= 1.6 does.
              std::vector<std::uint32_t> types;
              for (int i = 0; i < 4; ++i) {
                const auto m = co_await guid.receive();
                REQUIRE(m);
                types.push_back(m->first.type);
              }
              CHECK(types == std::vector<std::uint32_t>{130, 141, 132, 134});
              // The agent consumes the daemon's three messages, the clipboard skipped unbuffered.
              while (agent.counters().messages < 3) co_await asio::post(asio::use_awaitable);
              CHECK(agent.counters().messages == 3);
              CHECK(agent.counters().skipped_messages == 1);
              CHECK(agent.counters().skipped_bytes == 100000);
            });
}

TEST_CASE("GUI: when the daemon goes away, the agent serves the next one", "[gui][device]") {
  with_guid(gui_wire::version_1_8, gui_wire::version_1_8,
            [](uk::qubes::gui& agent, fake_gui_daemon& guid) -> asio::awaitable<void> {
              guid.disconnect();
              co_await guid.connect();
              // The handshake of the new daemon completed: the agent answers messages again.
              co_await agent.create_window(2, {0, 0, 10, 10, 0, 0});
              const auto m = co_await guid.receive();
              REQUIRE(m);
              CHECK(m->first.type == 130);
              CHECK(agent.reconnects() == 1);
            });
}
