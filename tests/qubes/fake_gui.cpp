// fake_gui: a stand-in for dom0's qubes-guid, for interop tests of a -qubes
// unikernel over the socket vchan (tests/qubes/fake_gui_peer.hpp as a program).
//
//   fake_gui --vchan-dir=DIR --domid=N [--version=MAJOR.MINOR] [--stay]
//
// Connects to the VM's GUI agent (vchan DIR/vchan.N.0.6000.sock, waiting
// until it exists), does the handshake (version, then xconf 1024x768x24),
// prints the negotiated version, then with --stay reads and prints the
// agent's messages until SIGINT/SIGTERM or the agent goes away.
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "qubes/fake_gui_peer.hpp"

namespace asio = boost::asio;
namespace gui_wire = uk::wire::qubes_gui;

int main(int argc, char** argv) {
  std::string dir;
  int domid = -1;
  std::uint32_t version = gui_wire::version_1_8;
  bool stay = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with("--vchan-dir=")) {
      dir = std::string(a.substr(12));
    } else if (a.starts_with("--domid=")) {
      domid = std::stoi(std::string(a.substr(8)));
    } else if (a.starts_with("--version=")) {
      const std::string v(a.substr(10));
      const auto dot = v.find('.');
      if (dot == std::string::npos) return 64;
      version = gui_wire::version(static_cast<std::uint32_t>(std::stoul(v.substr(0, dot))),
                                  static_cast<std::uint32_t>(std::stoul(v.substr(dot + 1))));
    } else if (a == "--stay") {
      stay = true;
    } else {
      std::fprintf(stderr, "fake_gui: unknown argument %s\n", argv[i]);
      return 64;
    }
  }
  if (dir.empty() || domid < 0) {
    std::fputs("usage: fake_gui --vchan-dir=DIR --domid=N [--version=MAJOR.MINOR] [--stay]\n", stderr);
    return 64;
  }
  asio::io_context io;
  uk::test::fake_gui_daemon guid(io.get_executor(), dir, domid, version);
  int status = 0;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (!ec) io.stop();
  });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await guid.connect();
        std::fprintf(stderr, "fake_gui: agent of domain %d connected, protocol %u.%u (agent %u.%u)\n", domid,
                     gui_wire::major_of(guid.version()), gui_wire::minor_of(guid.version()),
                     gui_wire::major_of(guid.agent_version()), gui_wire::minor_of(guid.agent_version()));
        while (stay) {
          const auto m = co_await guid.receive();
          if (!m) break;
          std::fprintf(stderr, "fake_gui: message %u for window %u, %u bytes\n", m->first.type, m->first.window,
                       m->first.untrusted_length);
        }
      },
      [&](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            std::fprintf(stderr, "fake_gui: %s\n", x.what());
          }
          status = 1;
        }
        io.stop();
      });
  io.run();
  return status;
}
