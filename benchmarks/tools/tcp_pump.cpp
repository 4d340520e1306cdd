// A bulk TCP mover on Linux sockets for benchmarks/tap_vs_veth.sh: the same
// tool drives every path, so the figures compare the paths, not the tools.
//
//   tcp_pump send HOST PORT BYTES      sends BYTES, half-closes, waits for the peer's FIN
//   tcp_pump recv HOST PORT BYTES      reads until the peer closes; fails unless BYTES came
//   tcp_pump discard-server PORT       accepts one connection, reads to its end, closes (RFC 863)
//   tcp_pump source-server PORT BYTES  accepts one connection, sends BYTES, closes
// send and recv print "MB/s <figure>" (10^6 bytes per second, connect to the peer's FIN).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tcp_pump: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

int connect_to(const char* host, const char* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
  if (::inet_pton(AF_INET, host, &to.sin_addr) != 1) die(std::string("bad address ") + host);
  for (int attempt = 0;; ++attempt) {  // the server may still be starting
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) return fd;
    if (attempt == 50 || errno != ECONNREFUSED) die("connect");
    ::usleep(100000);
  }
}

int accept_one(const char* port) {
  const int l = ::socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0) die("socket");
  const int one = 1;
  ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
  if (::bind(l, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) die("bind");
  if (::listen(l, 1) != 0) die("listen");
  const int fd = ::accept(l, nullptr, nullptr);
  if (fd < 0) die("accept");
  ::close(l);
  return fd;
}

void send_all(int fd, std::uint64_t bytes) {
  std::vector<char> block(1 << 16, 'u');
  while (bytes > 0) {
    const std::size_t n = bytes < block.size() ? static_cast<std::size_t>(bytes) : block.size();
    const ssize_t w = ::send(fd, block.data(), n, MSG_NOSIGNAL);
    if (w <= 0) die("send");
    bytes -= static_cast<std::uint64_t>(w);
  }
}

std::uint64_t read_to_end(int fd) {
  std::vector<char> block(1 << 16);
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t r = ::recv(fd, block.data(), block.size(), 0);
    if (r < 0) die("recv");
    if (r == 0) return total;
    total += static_cast<std::uint64_t>(r);
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "send" && argc == 5) {
    const std::uint64_t bytes = std::strtoull(argv[4], nullptr, 10);
    const auto start = std::chrono::steady_clock::now();
    const int fd = connect_to(argv[2], argv[3]);
    send_all(fd, bytes);
    ::shutdown(fd, SHUT_WR);
    if (read_to_end(fd) != 0) { errno = 0; die("the discard server sent data"); }
    std::printf("MB/s %.1f\n", static_cast<double>(bytes) / seconds_since(start) / 1e6);
    return 0;
  }
  if (mode == "recv" && argc == 5) {
    const std::uint64_t bytes = std::strtoull(argv[4], nullptr, 10);
    const auto start = std::chrono::steady_clock::now();
    const int fd = connect_to(argv[2], argv[3]);
    const std::uint64_t got = read_to_end(fd);
    const double s = seconds_since(start);
    if (got != bytes) {
      errno = 0;
      die("received " + std::to_string(got) + " bytes, expected " + std::to_string(bytes));
    }
    std::printf("MB/s %.1f\n", static_cast<double>(bytes) / s / 1e6);
    return 0;
  }
  if (mode == "discard-server" && argc == 3) {
    const int fd = accept_one(argv[2]);
    read_to_end(fd);
    ::close(fd);
    return 0;
  }
  if (mode == "source-server" && argc == 4) {
    const int fd = accept_one(argv[2]);
    send_all(fd, std::strtoull(argv[3], nullptr, 10));
    ::close(fd);
    return 0;
  }
  std::fprintf(stderr, "usage: see the comment at the top of tcp_pump.cpp\n");
  return 2;
}
