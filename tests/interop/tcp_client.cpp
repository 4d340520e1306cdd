// The kernel side of the TCP interop tests: a small client on Linux sockets.
//
//   tcp_client pattern BYTES                 writes the test pattern to stdout (no network)
//   tcp_client echo HOST PORT BYTES          sends the pattern, writes what comes back to stdout
//                                            (then half-closes: Linux closes first)
//   tcp_client many HOST PORT COUNT BYTES    COUNT connections at once, each echoing BYTES, checked
//   tcp_client refused HOST PORT             succeeds when the connect is refused
//   tcp_client reset HOST PORT               sends, then resets (SO_LINGER 0) with data unread
//   tcp_client chargen HOST PORT BYTES [SLOW_MS]
//                                            reads until the server closes; checks BYTES of the
//                                            RFC 864 pattern came; SLOW_MS: read slowly at first,
//                                            with a small receive buffer, so the window closes
// Exit status 0 on success, 1 with a message otherwise.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tcp_client: %s%s%s\n", what.c_str(), errno ? ": " : "", errno ? std::strerror(errno) : "");
  std::exit(1);
}

/// The test pattern: a splitmix64 stream, so any shift or corruption shows.
std::uint8_t pattern_at(std::uint64_t i) {
  std::uint64_t z = (i / 8 + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<std::uint8_t>(z >> (8 * (i % 8)));
}
void fill_pattern(std::uint64_t from, std::uint8_t* out, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) out[k] = pattern_at(from + k);
}

/// RFC 864's pattern (as examples/services).
char chargen_at(std::uint64_t i) {
  const std::uint64_t line = i / 74, column = i % 74;
  if (column == 72) return '\r';
  if (column == 73) return '\n';
  return static_cast<char>(' ' + (line + column) % 95);
}

int connect_to(const char* host, const char* port, int rcvbuf = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
  if (::inet_pton(AF_INET, host, &to.sin_addr) != 1) die(std::string("bad address ") + host);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return -errno;
  return fd;
}

void write_all(int fd, const void* data, std::size_t n) {
  auto p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

/// Sends BYTES of pattern and reads the echo; `out` receives it (stdout) or it is checked.
bool echo_one(int fd, std::uint64_t bytes, int out_fd, bool check) {
  std::vector<std::uint8_t> tx(1 << 16), rx(1 << 16);
  std::uint64_t sent = 0, received = 0;
  bool shut = false;
  while (received < bytes || !shut) {
    pollfd p{fd, static_cast<short>(POLLIN | (sent < bytes ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 30000) <= 0) die("no progress for 30 s (sent " + std::to_string(sent) + ", received " + std::to_string(received) + ")");
    if (p.revents & POLLOUT && sent < bytes) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(tx.size(), bytes - sent));
      fill_pattern(sent, tx.data(), n);
      const ssize_t w = ::send(fd, tx.data(), n, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN) die("send");
      if (w > 0) sent += static_cast<std::uint64_t>(w);
    }
    if (sent == bytes && !shut) {
      ::shutdown(fd, SHUT_WR);  // Linux half-closes first; the echo server answers with its FIN
      shut = true;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t r = ::recv(fd, rx.data(), rx.size(), MSG_DONTWAIT);
      if (r < 0 && errno != EAGAIN) die("recv");
      if (r == 0) break;
      if (r > 0) {
        if (check) {
          for (ssize_t k = 0; k < r; ++k)
            if (rx[static_cast<std::size_t>(k)] != pattern_at(received + static_cast<std::uint64_t>(k))) {
              std::fprintf(stderr, "tcp_client: byte %llu differs\n", static_cast<unsigned long long>(received + k));
              return false;
            }
        }
        if (out_fd >= 0) write_all(out_fd, rx.data(), static_cast<std::size_t>(r));
        received += static_cast<std::uint64_t>(r);
      }
    }
  }
  // After the whole echo, the server's FIN: end of stream.
  char extra;
  const ssize_t r = ::recv(fd, &extra, 1, 0);
  if (r != 0) {
    std::fprintf(stderr, "tcp_client: expected end of stream after %llu bytes\n", static_cast<unsigned long long>(received));
    return false;
  }
  return received == bytes;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "pattern" && argc == 3) {
    const std::uint64_t bytes = std::strtoull(argv[2], nullptr, 10);
    std::vector<std::uint8_t> buf(1 << 16);
    for (std::uint64_t at = 0; at < bytes;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), bytes - at));
      fill_pattern(at, buf.data(), n);
      write_all(1, buf.data(), n);
      at += n;
    }
    return 0;
  }
  if (mode == "echo" && argc == 5) {
    const int fd = connect_to(argv[2], argv[3]);
    if (fd < 0) { errno = -fd; die("connect"); }
    return echo_one(fd, std::strtoull(argv[4], nullptr, 10), 1, false) ? 0 : 1;
  }
  if (mode == "many" && argc == 6) {
    const int count = std::atoi(argv[4]);
    const std::uint64_t bytes = std::strtoull(argv[5], nullptr, 10);
    std::vector<int> fds;
    for (int i = 0; i < count; ++i) {  // all connected before any data: COUNT at once
      const int fd = connect_to(argv[2], argv[3]);
      if (fd < 0) { errno = -fd; die("connect " + std::to_string(i)); }
      fds.push_back(fd);
    }
    std::vector<std::thread> threads;
    std::vector<int> ok(fds.size(), 0);
    for (std::size_t i = 0; i < fds.size(); ++i)
      threads.emplace_back([&, i] { ok[i] = echo_one(fds[i], bytes, -1, true); });
    for (auto& t : threads) t.join();
    int good = 0;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      good += ok[i];
      ::close(fds[i]);
    }
    std::printf("%d of %d connections echoed %llu bytes intact\n", good, count, static_cast<unsigned long long>(bytes));
    return good == count ? 0 : 1;
  }
  if (mode == "refused" && argc == 4) {
    const int fd = connect_to(argv[2], argv[3]);
    if (fd >= 0) { errno = 0; die("the connect succeeded"); }
    if (-fd != ECONNREFUSED) { errno = -fd; die("expected connection refused"); }
    std::printf("connection refused, as expected\n");
    return 0;
  }
  if (mode == "reset" && argc == 4) {
    const int fd = connect_to(argv[2], argv[3]);
    if (fd < 0) { errno = -fd; die("connect"); }
    std::vector<std::uint8_t> data(100000);
    fill_pattern(0, data.data(), data.size());
    write_all(fd, data.data(), data.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the echo is on its way back, unread
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);  // RST (SO_LINGER with a zero timeout)
    std::printf("reset sent\n");
    return 0;
  }
  if (mode == "chargen" && (argc == 5 || argc == 6)) {
    const std::uint64_t expected = std::strtoull(argv[4], nullptr, 10);
    const int slow_ms = argc == 6 ? std::atoi(argv[5]) : 0;
    const int fd = connect_to(argv[2], argv[3], slow_ms ? 4096 : 0);
    if (fd < 0) { errno = -fd; die("connect"); }
    std::vector<char> buf(1 << 16);
    std::uint64_t got = 0;
    int slow_reads = slow_ms ? 20 : 0;
    for (;;) {
      if (slow_reads > 0) {  // a slow reader: the stack's window closes, then reopens
        std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));
        --slow_reads;
      }
      const ssize_t r = ::recv(fd, buf.data(), slow_reads > 0 ? 1000 : buf.size(), 0);
      if (r < 0) die("recv");
      if (r == 0) break;
      for (ssize_t k = 0; k < r; ++k)
        if (buf[static_cast<std::size_t>(k)] != chargen_at(got + static_cast<std::uint64_t>(k))) {
          std::fprintf(stderr, "tcp_client: chargen byte %llu differs\n", static_cast<unsigned long long>(got + k));
          return 1;
        }
      got += static_cast<std::uint64_t>(r);
    }
    ::close(fd);
    std::printf("chargen: %llu bytes, the server closed first\n", static_cast<unsigned long long>(got));
    return got == expected ? 0 : 1;
  }
  std::fprintf(stderr, "usage: see the comment at the top of tcp_client.cpp\n");
  return 2;
}
