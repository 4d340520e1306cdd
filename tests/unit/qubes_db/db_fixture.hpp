// A VM's QubesDB device and a fake dom0 daemon over the socket vchan in a
// temporary directory, on one io_context, for the qubes_db tests.
#pragma once

#include <catch2/catch.hpp>

#include <uk/qubes/db.hpp>

#include <stdlib.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "qubes/fake_qubesdb_peer.hpp"

namespace uk::test::qdb {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "uk-qdb-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

/// An io_context whose pending coroutines are destroyed (by shutdown) before
/// the objects they refer to.
struct test_io : asio::io_context {
  using asio::execution_context::shutdown;
};

/// A VM (domain 3) with its db device, a fake dom0 serving `entries`, and the loop.
struct fixture {
  temp_dir dir;
  test_io io;
  uk::qubes::domains domains{io.get_executor(), dir.path, 3};
  uk::qubes::db db{domains, {}, 1ms};
  std::unique_ptr<fake_qubesdb> dom0;

  explicit fixture(fake_qubesdb::entry_map entries) { start_dom0(std::move(entries)); }
  ~fixture() {
    db.stop();
    if (dom0) dom0->stop();
    io.shutdown();
  }

  void start_dom0(fake_qubesdb::entry_map entries) {
    dom0 = std::make_unique<fake_qubesdb>(io.get_executor(), domains.to(0, 111), std::move(entries));
    dom0->start();
  }

  /// Runs the loop until `done()`; fails after a second without progress.
  void run_until(const std::function<bool()>& done) {
    while (!done()) REQUIRE(io.run_one_for(1s) > 0);
  }

  /// Spawns `body` and runs until it completes; rethrows what it throws.
  void run(std::function<asio::awaitable<void>()> body) {
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(io, body(), [&](std::exception_ptr e) {
      failure = e;
      finished = true;
    });
    run_until([&] { return finished; });
    if (failure) std::rethrow_exception(failure);
  }
};

inline const fake_qubesdb::entry_map typical_vm = {
    {"/name", "testvm"},           {"/qubes-ip", "10.137.0.5"},         {"/qubes-gateway", "10.137.0.1"},
    {"/qubes-netmask", "255.255.255.255"}, {"/qubes-primary-dns", "10.139.1.1"}, {"/qubes-secondary-dns", "10.139.1.2"},
};

}  // namespace uk::test::qdb
