// The "bare forwarder" reference of benchmarks/tap_vs_veth.sh: one thread
// that only moves Ethernet frames between two TAP devices, both ways (a
// read(2) and a write(2) per frame, as any userspace stack pays). Two kernel
// namespaces talking TCP through it show what a TAP path costs before any
// protocol work. Runs until killed.
//   tap_forwarder TAP_A TAP_B
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tap_forwarder: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

int open_tap(const char* name) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (fd < 0) die("open /dev/net/tun");
  ifreq req{};
  req.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(req.ifr_name, name, IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &req) != 0) die(std::string("TUNSETIFF ") + name);
  return fd;
}

// Moves every frame waiting on `from` to `to`; a frame `to` cannot take is dropped (TCP recovers).
void drain(int from, int to, char* frame, std::size_t size) {
  for (;;) {
    const ssize_t n = ::read(from, frame, size);
    if (n < 0) {
      if (errno == EAGAIN) return;
      die("read");
    }
    if (::write(to, frame, static_cast<std::size_t>(n)) < 0 && errno != EAGAIN && errno != EIO) die("write");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: tap_forwarder TAP_A TAP_B\n");
    return 2;
  }
  const int a = open_tap(argv[1]), b = open_tap(argv[2]);
  static char frame[65536];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) die("poll");
    if (fds[0].revents & POLLIN) drain(a, b, frame, sizeof frame);
    if (fds[1].revents & POLLIN) drain(b, a, frame, sizeof frame);
  }
}
