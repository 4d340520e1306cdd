// fake_qubesdb: a fake dom0 QubesDB daemon for interop tests and demos
// (tests/qubes/fake_qubesdb_peer.hpp does the protocol). It serves the
// entries given on its command line to one VM over the socket vchan, logs
// every message it receives, and can change entries later:
//
//   fake_qubesdb --vchan-dir=DIR --vm-domid=N [--dom0-domid=0]
//                [--push-after=MS:/path=value] [--remove-after=MS:/path]
//                [--on-usr1=/path=value | --on-usr1=-/path] ...
//                /path=value ...
//
//   --push-after, --remove-after   a write or removal MS milliseconds after start
//   --on-usr1                      one write (or, with a leading '-', removal) per
//                                  SIGUSR1, in the order given
//   SIGHUP                         drops the connection and listens again, as a
//                                  restarted daemon would
//   SIGINT, SIGTERM                exit 0
//
// Exit status: 0 when stopped by a signal, 2 on a usage error, 3 when the VM
// sent what the real daemon treats as fatal (the reason is logged).
#include <csignal>
#include <cstdio>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "qubes/fake_qubesdb_peer.hpp"

namespace asio = boost::asio;

namespace {

struct action {
  bool remove = false;
  std::string path, value;
};

int usage(std::string_view what) {
  std::fprintf(stderr,
               "fake_qubesdb: %.*s\nusage: fake_qubesdb --vchan-dir=DIR --vm-domid=N [--dom0-domid=N] "
               "[--push-after=MS:/path=value] [--remove-after=MS:/path] [--on-usr1=[-]/path[=value]] /path=value...\n",
               static_cast<int>(what.size()), what.data());
  return 2;
}

bool parse_entry(std::string_view text, std::string& path, std::string& value) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  path = text.substr(0, eq);
  value = text.substr(eq + 1);
  return uk::wire::qubes_db::valid_path(path) && uk::wire::qubes_db::valid_value(value);
}

bool parse_action(std::string_view text, action& a) {
  if (text.starts_with('-')) {
    a.remove = true;
    a.path = text.substr(1);
    return !a.path.empty() && uk::wire::qubes_db::valid_path(a.path);
  }
  return parse_entry(text, a.path, a.value);
}

void log_line(std::string_view line) {
  std::printf("fake_qubesdb: %.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int vm = -1, dom0 = 0;
  uk::test::fake_qubesdb::entry_map entries;
  std::vector<std::pair<long, action>> timed;
  std::deque<action> on_usr1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value_of = [&](std::string_view key) -> std::optional<std::string_view> {
      if (arg.starts_with(key)) return arg.substr(key.size());
      return std::nullopt;
    };
    if (auto v = value_of("--vchan-dir=")) {
      dir = *v;
    } else if (auto v = value_of("--vm-domid=")) {
      vm = std::atoi(std::string(*v).c_str());
    } else if (auto v = value_of("--dom0-domid=")) {
      dom0 = std::atoi(std::string(*v).c_str());
    } else if (auto v = value_of("--push-after="); v || (v = value_of("--remove-after="))) {
      const auto colon = v->find(':');
      action a;
      if (colon == std::string_view::npos) return usage("expected MS:ACTION in " + std::string(arg));
      const std::string spec = (arg.starts_with("--remove") ? "-" : "") + std::string(v->substr(colon + 1));
      if (!parse_action(spec, a)) return usage("bad entry in " + std::string(arg));
      timed.emplace_back(std::atol(std::string(v->substr(0, colon)).c_str()), a);
    } else if (auto v = value_of("--on-usr1=")) {
      action a;
      if (!parse_action(*v, a)) return usage("bad entry in " + std::string(arg));
      on_usr1.push_back(a);
    } else if (!arg.starts_with("--")) {
      std::string path, value;
      if (!parse_entry(arg, path, value)) return usage("bad entry " + std::string(arg));
      entries[path] = value;
    } else {
      return usage("unknown option " + std::string(arg));
    }
  }
  if (dir.empty() || vm < 0) return usage("--vchan-dir and --vm-domid are required");

  asio::io_context io;
  const uk::qubes::vchan_address address{dir, dom0, vm, uk::wire::qubes_db::vchan_port};
  uk::test::fake_qubesdb daemon(io.get_executor(), address, entries);
  daemon.on_log = log_line;
  int status = 0;
  daemon.on_event = [&] {
    if (daemon.fatal()) {
      status = 3;
      io.stop();
    }
  };
  auto apply = [&](const action& a) {
    log_line(a.remove ? "push RM " + a.path : "push WRITE " + a.path + "=" + a.value);
    if (a.remove)
      daemon.push_remove(a.path);
    else
      daemon.push_write(a.path, a.value);
  };

  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  for (const auto& [ms, a] : timed) {
    auto& t = timers.emplace_back(std::make_unique<asio::steady_timer>(io, std::chrono::milliseconds(ms)));
    t->async_wait([&, a = a](boost::system::error_code ec) {
      if (!ec) apply(a);
    });
  }

  asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  stop_signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
  asio::signal_set control(io, SIGUSR1, SIGHUP);
  std::function<void(boost::system::error_code, int)> on_control = [&](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      daemon.restart();
    } else if (on_usr1.empty()) {
      log_line("SIGUSR1: nothing left to push");
    } else {
      apply(on_usr1.front());
      on_usr1.pop_front();
    }
    control.async_wait(on_control);
  };
  control.async_wait(on_control);

  log_line("serving " + std::to_string(entries.size()) + " entries on " + address.socket_path().string());
  daemon.start();
  io.run();
  if (daemon.fatal()) status = 3;
  log_line("exiting with status " + std::to_string(status));
  return status;
}
