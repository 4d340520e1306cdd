// uk::net::tap. Without root: its error messages, and its receive and
// transmit paths over a datagram socket pair (the same one-frame-per-read
// contract as a TAP descriptor). As root: a TAP device in a network namespace
// of its own (created in a child process, so no device ever appears in the
// host's namespace) exchanges ARP with the Linux kernel.
#include <catch2/catch.hpp>

#include <uk/net/tap.hpp>

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using uk::net::tap;

/// Runs `body` in a forked child and returns what it returned, or why it did not.
std::string in_child(const std::function<std::string()>& body) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    std::string result;
    try {
      result = body();
    } catch (const std::exception& e) {
      result = std::string("exception: ") + e.what();
    }
    const char* p = result.data();
    std::size_t left = result.size();
    while (left > 0) {
      const ssize_t n = ::write(pipe_fds[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::_exit(0);  // no atexit handlers: Catch belongs to the parent
  }
  ::close(pipe_fds[1]);
  std::string result;
  char buffer[512];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    result.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) result += " (child died, status " + std::to_string(status) + ")";
  return result;
}

std::string error_of(const std::function<void()>& open) {
  try {
    open();
  } catch (const uk::device_error& e) {
    return e.what();
  }
  return "no error";
}

/// A datagram socket pair: [0] for the device, [1] for the test (the "kernel side").
struct socket_pair {
  int fds[2] = {-1, -1};
  socket_pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) == 0); }
  ~socket_pair() {
    if (fds[1] >= 0) ::close(fds[1]);
  }
  int take_device_end() { return std::exchange(fds[0], -1); }
};

std::vector<std::byte> numbered_frame(std::uint16_t n, std::size_t length = 60) {
  std::vector<std::byte> f(length, std::byte{0xee});
  f[0] = std::byte(static_cast<std::uint8_t>(n >> 8));
  f[1] = std::byte(static_cast<std::uint8_t>(n));
  return f;
}

bool send(tap& t, const std::vector<std::byte>& frame) {
  auto copy = [&](std::span<std::byte> out) {
    std::memcpy(out.data(), frame.data(), frame.size());
    return frame.size();
  };
  return t.transmit(frame.size(), uk::frame_filler(copy));
}

/// Runs the loop until `done` or the time runs out.
bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(10ms);
  }
  return done();
}

bool is_root() { return ::geteuid() == 0; }

}  // namespace

static_assert(uk::netif<tap>);

TEST_CASE("tap: an interface name that is empty, too long or invalid is refused, saying why") {
  asio::io_context io;
  CHECK(error_of([&] { tap t(io.get_executor(), ""); }) == "the interface name is empty (--interface=NAME)");
  CHECK(error_of([&] { tap t(io.get_executor(), "a-name-that-is-too-long"); }) ==
        "the interface name \"a-name-that-is-too-long\" is too long: at most 15 characters");
  CHECK(error_of([&] { tap t(io.get_executor(), "tap/0"); }) ==
        "\"tap/0\" is not a valid interface name (no '/', ':' or spaces)");
}

TEST_CASE("tap: a missing clone device is a clear error") {
  asio::io_context io;
  CHECK(error_of([&] { tap t(io.get_executor(), "uktest0", {.clone_device = "/nonexistent/net/tun"}); }) ==
        "cannot open /nonexistent/net/tun: No such file or directory (load the tun module: modprobe tun)");
}

TEST_CASE("tap: a clone device without a driver behind it says the kernel lacks TUN/TAP support") {
  if (!is_root()) {
    WARN("skipped: making a device node needs root");
    return;
  }
  // Major 60 is reserved for local and experimental use (Linux's devices.txt): nothing answers there.
  std::ifstream devices("/proc/devices");
  std::string line;
  while (std::getline(devices, line))
    if (line == " 60 " || line.starts_with(" 60 ")) {
      WARN("skipped: character major 60 is in use here");
      return;
    }
  const std::string node = "/tmp/uk-d1-" + std::to_string(::getpid()) + "-tun";
  REQUIRE(::mknod(node.c_str(), S_IFCHR | 0600, ::makedev(60, 0)) == 0);
  asio::io_context io;
  const std::string error = error_of([&] { tap t(io.get_executor(), "uktest0", {.clone_device = node}); });
  ::unlink(node.c_str());
  CHECK(error == "cannot open " + node +
                     ": No such device or address (the kernel has no TUN/TAP support: modprobe tun)");
}

TEST_CASE("tap: without the privilege, the error says to run as root or give CAP_NET_ADMIN") {
  if (!is_root()) {
    asio::io_context io;
    const std::string error = error_of([&] { tap t(io.get_executor(), "uktest0"); });
    CHECK_THAT(error, Catch::Matchers::EndsWith("(run as root or give CAP_NET_ADMIN)"));
    return;
  }
  // As root: a child in a namespace of its own becomes "nobody" and tries.
  const std::string error = in_child([] {
    if (::unshare(CLONE_NEWNET) != 0) return std::string("unshare failed: ") + std::strerror(errno);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return std::string("setuid failed");
    asio::io_context io;
    return error_of([&] { tap t(io.get_executor(), "uktest0"); });
  });
  // /dev/net/tun is 0600 on some systems (open fails), 0666 on others (TUNSETIFF fails).
  const bool open_refused = error == "cannot open /dev/net/tun: Permission denied (run as root or give CAP_NET_ADMIN)";
  const bool create_refused =
      error == "cannot create or attach to the TAP device uktest0: Operation not permitted (run as root or give CAP_NET_ADMIN)";
  INFO(error);
  CHECK((open_refused || create_refused));
}

TEST_CASE("tap: its MAC is a random locally administered unicast address unless given") {
  asio::io_context io;
  socket_pair a, b;
  tap first = tap::adopt(io.get_executor(), a.take_device_end(), "first");
  tap second = tap::adopt(io.get_executor(), b.take_device_end(), "second");
  CHECK(first.mac().is_unicast());
  CHECK((first.mac().octets[0] & 0x02) == 0x02);
  CHECK(first.mac() != second.mac());
  socket_pair c;
  const uk::mac_address given{{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
  tap third = tap::adopt(io.get_executor(), c.take_device_end(), "third", {.mac = given, .mtu = 9000});
  CHECK(third.mac() == given);
  CHECK(third.mtu() == 9000);
  CHECK(third.transmit_queue_limit() == 256);
  CHECK(third.name() == "third");
}

TEST_CASE("tap: a group address is refused as the stack's MAC") {
  asio::io_context io;
  socket_pair pair;
  const int fd = pair.take_device_end();
  CHECK(error_of([&] {
    tap t = tap::adopt(io.get_executor(), fd, "pair", {.mac = uk::mac_address{{0x01, 0, 0x5e, 0, 0, 1}}});
  }) == "--mac=01:00:5e:00:00:01 is a group address, not a station's");
  CHECK(::fcntl(fd, F_GETFD) == -1);  // the device closed the descriptor it was given
}

TEST_CASE("tap: frames are received on the loop, several per wake-up, in order") {
  asio::io_context io;
  socket_pair pair;
  tap t = tap::adopt(io.get_executor(), pair.take_device_end(), "pair", {.receive_batch = 64});
  std::vector<std::vector<std::byte>> received;
  auto keep = [&](uk::frame f) { received.emplace_back(f.begin(), f.end()); };
  t.set_receiver(uk::frame_handler(keep));
  for (std::uint16_t n = 0; n < 200; ++n) {
    const auto f = numbered_frame(n, 60 + n);
    REQUIRE(::write(pair.fds[1], f.data(), f.size()) == static_cast<ssize_t>(f.size()));
  }
  REQUIRE(run_until(io, [&] { return received.size() == 200; }));
  for (std::uint16_t n = 0; n < 200; ++n) CHECK(received[n] == numbered_frame(n, 60 + n));
  CHECK(t.counters().rx_frames == 200);
  CHECK(t.counters().rx_bytes == 200 * 60 + 199 * 200 / 2);
  // 200 frames waiting: four wake-ups of at most 64 frames (one more may find nothing).
  CHECK(t.counters().rx_wakeups >= 4);
  CHECK(t.counters().rx_wakeups <= 5);
}

TEST_CASE("tap: a received frame longer than MTU + 18 bytes is dropped and counted") {
  asio::io_context io;
  socket_pair pair;
  tap t = tap::adopt(io.get_executor(), pair.take_device_end(), "pair", {.mtu = 1500});
  std::vector<std::size_t> lengths;
  auto keep = [&](uk::frame f) { lengths.push_back(f.size()); };
  t.set_receiver(uk::frame_handler(keep));
  for (std::size_t length : {1514, 1518, 1519, 3000, 60}) {
    const auto f = numbered_frame(0, length);
    REQUIRE(::write(pair.fds[1], f.data(), f.size()) == static_cast<ssize_t>(f.size()));
  }
  REQUIRE(run_until(io, [&] { return lengths.size() == 3; }));
  CHECK(lengths == std::vector<std::size_t>{1514, 1518, 60});
  CHECK(t.counters().rx_dropped == 2);
}

TEST_CASE("tap: frames received before a receiver is set are dropped and counted") {
  asio::io_context io;
  socket_pair pair;
  tap t = tap::adopt(io.get_executor(), pair.take_device_end(), "pair");
  const auto f = numbered_frame(0);
  REQUIRE(::write(pair.fds[1], f.data(), f.size()) == 60);
  REQUIRE(run_until(io, [&] { return t.counters().rx_dropped == 1; }));
  CHECK(t.counters().rx_frames == 0);
}

TEST_CASE("tap: transmit writes the frame at once") {
  asio::io_context io;
  socket_pair pair;
  tap t = tap::adopt(io.get_executor(), pair.take_device_end(), "pair");
  REQUIRE(send(t, numbered_frame(7, 1514)));
  CHECK(t.queued() == 0);
  std::array<std::byte, 2000> buffer{};
  const ssize_t n = ::recv(pair.fds[1], buffer.data(), buffer.size(), MSG_DONTWAIT);
  REQUIRE(n == 1514);
  CHECK(std::vector<std::byte>(buffer.begin(), buffer.begin() + n) == numbered_frame(7, 1514));
  CHECK(t.counters().tx_frames == 1);
  CHECK(t.counters().tx_bytes == 1514);
  CHECK_FALSE(send(t, numbered_frame(8, 1515)));  // longer than MTU + 14
  CHECK(t.counters().tx_dropped_oversize == 1);
}

TEST_CASE("tap: when the kernel cannot take more, frames wait in the bounded ring, and a full ring refuses them") {
  asio::io_context io;
  socket_pair pair;
  tap t = tap::adopt(io.get_executor(), pair.take_device_end(), "pair", {.transmit_queue_limit = 4});
  // Fill the socket until it says "try again", as a busy TAP queue would.
  const int device_fd = t.native_handle();
  const auto junk = numbered_frame(0xffff, 1000);
  std::size_t junk_frames = 0;
  while (::write(device_fd, junk.data(), junk.size()) > 0) ++junk_frames;
  REQUIRE(errno == EAGAIN);

  for (std::uint16_t n = 0; n < 4; ++n) CHECK(send(t, numbered_frame(n)));
  CHECK(t.queued() == 4);
  CHECK_FALSE(send(t, numbered_frame(4)));
  CHECK_FALSE(send(t, numbered_frame(5)));
  CHECK(t.counters().tx_dropped_queue_full == 2);
  CHECK(t.counters().tx_frames == 0);

  // The other side reads: the descriptor becomes writable and the ring drains.
  std::array<std::byte, 2000> buffer{};
  for (std::size_t i = 0; i < junk_frames; ++i) REQUIRE(::recv(pair.fds[1], buffer.data(), buffer.size(), 0) == 1000);
  REQUIRE(run_until(io, [&] { return t.queued() == 0; }));
  for (std::uint16_t n = 0; n < 4; ++n) {
    const ssize_t got = ::recv(pair.fds[1], buffer.data(), buffer.size(), MSG_DONTWAIT);
    REQUIRE(got == 60);
    CHECK(std::vector<std::byte>(buffer.begin(), buffer.begin() + got) == numbered_frame(n));
  }
  CHECK(t.counters().tx_frames == 4);
  CHECK(send(t, numbered_frame(9)));  // room again
}

TEST_CASE("tap: destroying the device with waits pending is safe") {
  asio::io_context io;
  socket_pair pair;
  {
    tap t = tap::adopt(io.get_executor(), pair.take_device_end(), "pair");
    io.poll();
  }
  const auto f = numbered_frame(0);
  ::write(pair.fds[1], f.data(), f.size());
  io.restart();
  io.run_for(20ms);  // the aborted wait completes and finds the device closed
  SUCCEED();
}

TEST_CASE("tap: uk::run's constructor reads --interface, --mac, --mtu and --tx-queue-limit") {
  using keys = uk::key_values<uk::net::interface_key, uk::net::mac_key, uk::net::mtu_key, uk::net::transmit_queue_key>;
  static_assert(std::is_same_v<tap::keys, uk::key_list<uk::net::interface_key, uk::net::mac_key, uk::net::mtu_key,
                                                       uk::net::transmit_queue_key>>);
  const auto defaults = keys::defaults();
  CHECK(defaults.get<uk::net::interface_key>() == "tap0");
  CHECK(defaults.get<uk::net::mtu_key>() == 1500);
  CHECK(defaults.get<uk::net::transmit_queue_key>() == 256);
  CHECK_FALSE(defaults.get<uk::net::mac_key>());

  const char* too_long[] = {"--interface=an-interface-name-far-too-long"};
  const auto parsed = keys::parse("test", too_long);
  REQUIRE(parsed);
  asio::io_context io;
  uk::device_context context{io.get_executor(), "test"};
  CHECK_THAT(error_of([&] { tap t(context, *parsed); }), Catch::Matchers::Contains("is too long"));

  if (!is_root()) {
    WARN("skipped: opening a TAP device from keys needs root");
    return;
  }
  const std::string result = in_child([]() -> std::string {
    if (::unshare(CLONE_NEWNET) != 0) return std::string("unshare failed: ") + std::strerror(errno);
    const char* args[] = {"--interface", "uktest1", "--mac", "02:00:00:00:00:42", "--mtu", "1400",
                          "--tx-queue-limit", "8"};
    const auto keys_given = keys::parse("test", args);
    if (!keys_given) return "keys refused";
    asio::io_context io;
    uk::device_context context{io.get_executor(), "test"};
    tap t(context, *keys_given);
    // The kernel side's MTU follows ours.
    if (std::system("ip -o link show uktest1 | grep -q 'mtu 1400 '") != 0) return "kernel MTU not 1400";
    return fmt::format("{} {} {} {}", t.name(), t.mac(), t.mtu(), t.transmit_queue_limit());
  });
  CHECK(result == "uktest1 02:00:00:00:00:42 1400 8");
}

TEST_CASE("tap: in a namespace of its own, the device is created, brought up and exchanges ARP with Linux") {
  if (!is_root()) {
    WARN("skipped: creating a TAP device needs root (run the tests as root to exercise it)");
    return;
  }
  REQUIRE(::if_nametoindex("uktest0") == 0);  // and the host namespace never sees it
  const std::string result = in_child([]() -> std::string {
    if (::unshare(CLONE_NEWNET) != 0) return std::string("unshare failed: ") + std::strerror(errno);
    asio::io_context io;
    tap t(io.get_executor(), "uktest0");
    if (t.name() != "uktest0") return "wrong name " + t.name();
    if (::if_nametoindex("uktest0") == 0) return "no device";
    // Brought up by the device itself: only an address is given here.
    if (std::system("ip addr add 10.99.0.1/24 dev uktest0") != 0) return "ip addr add failed";
    if (std::system("ip -o link show uktest0 | grep -q '[<,]UP[,>]'") != 0) return "the link is not up";

    // Errors on a second open and on a device that is not a TAP.
    const std::string busy = error_of([&] { tap again(io.get_executor(), "uktest0"); });
    const std::string not_tap = error_of([&] { tap lo(io.get_executor(), "lo"); });

    // An ARP request (RFC 826) from the stack, 10.99.0.2 at our MAC, for 10.99.0.1.
    const uk::mac_address mac = t.mac();
    std::vector<std::byte> request(42);
    auto put = [&](std::size_t at, std::initializer_list<int> bytes) {
      for (int b : bytes) request[at++] = std::byte(static_cast<std::uint8_t>(b));
    };
    put(0, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
    for (std::size_t i = 0; i < 6; ++i) request[6 + i] = request[22 + i] = std::byte{mac.octets[i]};
    put(12, {0x08, 0x06});                    // EtherType ARP
    put(14, {0x00, 0x01, 0x08, 0x00, 6, 4});  // hardware Ethernet, protocol IPv4, lengths
    put(20, {0x00, 0x01});                    // op: request
    put(28, {10, 99, 0, 2});                  // sender protocol address
    put(32, {0, 0, 0, 0, 0, 0});              // target hardware address: unknown
    put(38, {10, 99, 0, 1});                  // target protocol address

    std::string reply;
    auto on_frame = [&](uk::frame f) {
      if (f.size() < 42 || f[12] != std::byte{0x08} || f[13] != std::byte{0x06}) return;  // not ARP
      if (f[20] != std::byte{0} || f[21] != std::byte{2}) return;                           // not a reply
      for (std::size_t i = 0; i < 6; ++i)
        if (f[i] != std::byte{mac.octets[i]} || f[32 + i] != std::byte{mac.octets[i]}) return;  // not to us
      const auto b = [&](std::size_t i) { return std::to_integer<int>(f[i]); };
      reply = fmt::format("{}.{}.{}.{} is at {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b(28), b(29), b(30), b(31),
                          b(22), b(23), b(24), b(25), b(26), b(27));
    };
    t.set_receiver(uk::frame_handler(on_frame));
    auto copy = [&](std::span<std::byte> out) {
      std::memcpy(out.data(), request.data(), request.size());
      return request.size();
    };
    if (!t.transmit(request.size(), uk::frame_filler(copy))) return "transmit refused";
    if (!run_until(io, [&] { return !reply.empty(); })) return "no ARP reply";
    return fmt::format("{}|{}|{}|tx {} rx {}", reply, busy, not_tap, t.counters().tx_frames,
                       t.counters().rx_frames > 0 ? "some" : "none");
  });
  INFO(result);
  REQUIRE(result.starts_with("10.99.0.1 is at "));
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t bar; (bar = result.find('|', start)) != std::string::npos; start = bar + 1)
    parts.push_back(result.substr(start, bar - start));
  parts.push_back(result.substr(start));
  REQUIRE(parts.size() == 4);
  CHECK(parts[1] ==
        "cannot create or attach to the TAP device uktest0: Device or resource busy (it is in use: another program, or "
        "another tap object, has it open)");
  CHECK(parts[2] == "cannot create or attach to the TAP device lo: Invalid argument (it exists and is not a TAP device)");
  CHECK(parts[3] == "tx 1 rx some");
  CHECK(::if_nametoindex("uktest0") == 0);  // gone with the namespace
}
