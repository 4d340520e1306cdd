// fake_qrexec: a stand-in for dom0's qrexec-daemon and qrexec-client, for
// interop tests of a -qubes unikernel over the socket vchan (the fake peer of
// tests/qubes/fake_qrexec_peer.hpp as a program).
//
//   fake_qrexec --vchan-dir=DIR --domid=N [--version=V] [--exec=USER:CMD]... [--stdin=TEXT] [--stay]
//
// Connects to the VM's qrexec agent (vchan DIR/vchan.N.0.512.sock, waiting
// until it exists), exchanges HELLOs, runs each --exec in turn (printing its
// stdout on stdout, its stderr on stderr, and "exit code C" on stderr), then,
// with --stay, keeps the control vchan open, refusing every service call of
// the VM, until SIGINT/SIGTERM or the agent goes away. Exit status: the last
// exec's exit code (0 without --exec); 1 on a protocol error.
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include "qubes/fake_qrexec_peer.hpp"

namespace asio = boost::asio;

int main(int argc, char** argv) {
  std::string dir;
  int domid = -1;
  std::uint32_t version = uk::wire::qubes_rexec::max_version;
  std::vector<std::string> execs;
  std::string input;
  bool stay = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view key) { return std::string(a.substr(key.size())); };
    if (a.starts_with("--vchan-dir=")) dir = value("--vchan-dir=");
    else if (a.starts_with("--domid=")) domid = std::stoi(value("--domid="));
    else if (a.starts_with("--version=")) version = static_cast<std::uint32_t>(std::stoul(value("--version=")));
    else if (a.starts_with("--exec=")) execs.push_back(value("--exec="));
    else if (a.starts_with("--stdin=")) input = value("--stdin=");
    else if (a == "--stay") stay = true;
    else {
      std::fprintf(stderr, "fake_qrexec: unknown argument %s\n", argv[i]);
      return 64;
    }
  }
  if (dir.empty() || domid < 0) {
    std::fputs("usage: fake_qrexec --vchan-dir=DIR --domid=N [--version=V] [--exec=USER:CMD]... [--stdin=TEXT] [--stay]\n",
               stderr);
    return 64;
  }
  asio::io_context io;
  uk::test::fake_qrexec_daemon dom0(io.get_executor(), dir, domid, version);
  int status = 0;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (!ec) io.stop();
  });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await dom0.connect();
        std::fprintf(stderr, "fake_qrexec: agent of domain %d connected, protocol version %u (agent %u)\n", domid,
                     dom0.version(), dom0.agent_version());
        for (const auto& cmd : execs) {
          const auto r = co_await dom0.exec(cmd, input);
          std::fwrite(r.out.data(), 1, r.out.size(), stdout);
          std::fflush(stdout);
          std::fwrite(r.err.data(), 1, r.err.size(), stderr);
          std::fprintf(stderr, "fake_qrexec: %s: exit code %d\n", cmd.c_str(), r.exit_code);
          status = r.exit_code;
        }
        while (stay) {
          const auto t = co_await dom0.expect_trigger();
          std::fprintf(stderr, "fake_qrexec: refusing %s in %s\n", t.service.c_str(), t.target.c_str());
          co_await dom0.refuse(t);
        }
      },
      [&](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            std::fprintf(stderr, "fake_qrexec: %s\n", x.what());
          }
          status = stay ? 0 : 1;  // with --stay, the agent going away ends the run
        }
        io.stop();
      });
  io.run();
  return status;
}
