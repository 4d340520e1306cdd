// The socket vchan (qubes-protocols.md section 4) and the domains device.
#include <catch2/catch.hpp>

#include <uk/qubes/domains.hpp>
#include <uk/qubes/vchan_socket.hpp>

#include <stdlib.h>

#include <array>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using uk::qubes::vchan_address;
using uk::qubes::vchan_socket;

namespace {

/// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "uk-vchan-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

asio::awaitable<std::string> read_exactly(vchan_socket& s, std::size_t n) {
  std::string out(n, '\0');
  co_await asio::async_read(s, asio::buffer(out), asio::use_awaitable);
  co_return out;
}

asio::awaitable<void> write_all(vchan_socket& s, std::string_view text) {
  co_await asio::async_write(s, asio::buffer(text), asio::use_awaitable);
}

}  // namespace

TEST_CASE("vchan socket path: vchan.<server>.<client>.<port>.sock in the vchan directory (section 4)") {
  CHECK(vchan_address{"/var/run/vchan", 0, 5, 111}.socket_path() == "/var/run/vchan/vchan.0.5.111.sock");
  CHECK(vchan_address{"/tmp/v", 7, 0, 512}.socket_path() == "/tmp/v/vchan.7.0.512.sock");
  CHECK(fmt::format("{}", vchan_address{"/d", 0, 3, 111}) == "vchan 3->0 port 111");
}

TEST_CASE("vchan socket: the server accepts one client and bytes flow both ways until close gives EOF") {
  temp_dir dir;
  const vchan_address address{dir.path, 0, 3, 111};
  asio::io_context io;
  std::optional<vchan_socket> server, client;
  std::string server_got, client_got;
  bool client_saw_eof = false;

  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    server.emplace(co_await vchan_socket::listen(io.get_executor(), address));
    server_got = co_await read_exactly(*server, 5);
    co_await write_all(*server, "world");
    server->close();
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    client.emplace(co_await vchan_socket::connect(io.get_executor(), address, std::chrono::milliseconds(1)));
    co_await write_all(*client, "hello");
    client_got = co_await read_exactly(*client, 5);
    std::array<char, 1> more{};
    boost::system::error_code ec;
    co_await client->async_read_some(asio::buffer(more), asio::redirect_error(asio::use_awaitable, ec));
    client_saw_eof = ec == asio::error::eof;
  }, asio::detached);
  io.run();

  CHECK(server_got == "hello");
  CHECK(client_got == "world");
  CHECK(client_saw_eof);
  CHECK(std::filesystem::is_socket(address.socket_path()));  // upstream leaves the file
  CHECK_FALSE(server->is_open());
}

TEST_CASE("vchan socket: a client started before its server retries while the socket file is absent") {
  temp_dir dir;
  const vchan_address address{dir.path, 0, 9, 6000};
  asio::io_context io;
  bool connected = false;
  std::exception_ptr failure;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto c = co_await vchan_socket::connect(io.get_executor(), address, std::chrono::milliseconds(1));
    connected = c.is_open();
  }, [&](std::exception_ptr e) { failure = e; });
  for (int i = 0; i < 10; ++i) io.poll();  // the first attempts find no file
  REQUIRE_FALSE(std::filesystem::exists(address.socket_path()));
  REQUIRE_FALSE(connected);
  REQUIRE_FALSE(failure);

  std::optional<vchan_socket> server;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    server.emplace(co_await vchan_socket::listen(io.get_executor(), address));
  }, asio::detached);
  io.run();
  CHECK_FALSE(failure);
  CHECK(connected);
  CHECK(server.has_value());
}

TEST_CASE("vchan socket: a client retries while a stale socket refuses, and the restarted server replaces it") {
  temp_dir dir;
  const vchan_address address{dir.path, 0, 2, 111};
  asio::io_context io;
  {  // a server that bound and died: the file exists, connect() gets ECONNREFUSED
    vchan_socket::protocol::acceptor dead(io, vchan_socket::protocol::endpoint(address.socket_path().string()));
  }
  REQUIRE(std::filesystem::is_socket(address.socket_path()));

  bool connected = false;
  std::exception_ptr failure;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto c = co_await vchan_socket::connect(io.get_executor(), address, std::chrono::milliseconds(1));
    connected = c.is_open();
  }, [&](std::exception_ptr e) { failure = e; });
  for (int i = 0; i < 10; ++i) io.poll();
  REQUIRE_FALSE(connected);
  REQUIRE_FALSE(failure);

  std::optional<vchan_socket> server;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    server.emplace(co_await vchan_socket::listen(io.get_executor(), address));  // unlinks the stale file
  }, asio::detached);
  io.run();
  CHECK_FALSE(failure);
  CHECK(connected);
}

TEST_CASE("vchan socket: a client gives up at once on an error other than absent or refused") {
  temp_dir dir;
  const auto not_a_dir = dir.path / "file";
  { std::FILE* f = std::fopen(not_a_dir.c_str(), "w"); REQUIRE(f); std::fclose(f); }
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const vchan_address address{not_a_dir, 0, 1, 111};  // named: g++ 12 mishandles aggregate temporaries in co_await
    co_await vchan_socket::connect(io.get_executor(), address);
  }, [&](std::exception_ptr e) { failure = e; });
  io.run();
  REQUIRE(failure);
  CHECK_THROWS_AS(std::rethrow_exception(failure), boost::system::system_error);
}

TEST_CASE("domains: keys default to dom0 0, GUI domain 0, this VM 1, /var/run/vchan") {
  const char* argv[] = {"--qubes-domid=5", "--vchan-dir=/tmp/v"};
  auto parsed = uk::parse_keys<uk::qubes::vchan_dir_key, uk::qubes::domid_key, uk::qubes::dom0_domid_key,
                               uk::qubes::gui_domid_key>("t", std::span<const char* const>(argv, 2));
  REQUIRE(parsed);
  asio::io_context io;
  uk::device_context context{io.get_executor(), "t"};
  uk::qubes::domains d(context, *parsed);
  CHECK(d.self() == 5);
  CHECK(d.dom0() == 0);
  CHECK(d.gui() == 0);
  // QubesDB: this VM is the client of dom0's port 111; qrexec: this VM serves port 512 to dom0.
  CHECK(d.to(d.dom0(), 111).socket_path() == "/tmp/v/vchan.0.5.111.sock");
  CHECK(d.from(d.dom0(), 512).socket_path() == "/tmp/v/vchan.5.0.512.sock");

  auto defaults = uk::parse_keys<uk::qubes::vchan_dir_key, uk::qubes::domid_key>("t", {});
  REQUIRE(defaults);
  CHECK(defaults->get<uk::qubes::vchan_dir_key>() == "/var/run/vchan");
  CHECK(defaults->get<uk::qubes::domid_key>() == 1);
  const char* dom0_self[] = {"--qubes-domid=0"};
  CHECK_FALSE(uk::parse_keys<uk::qubes::domid_key>("t", std::span<const char* const>(dom0_self, 1)));
}

TEST_CASE("domains: connect and listen open the channel between this VM and a peer") {
  temp_dir dir;
  asio::io_context io;
  uk::qubes::domains vm(io.get_executor(), dir.path, 4);
  uk::qubes::domains dom0(io.get_executor(), dir.path, 0);  // dom0's view: self 0
  std::string got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto server = co_await dom0.listen(4, 111);
    got = co_await read_exactly(server, 2);
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto client = co_await vm.connect(0, 111);
    co_await write_all(client, "hi");
  }, asio::detached);
  io.run();
  CHECK(got == "hi");
  CHECK(std::filesystem::is_socket(dir.path / "vchan.0.4.111.sock"));
}
