// A Linux UDP client for the interop tests: sends datagrams of the given
// sizes to HOST PORT, checks each echo byte for byte, exits 0 when all came back.
//   udp_probe HOST PORT SIZE...
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: udp_probe HOST PORT SIZE...\n");
    return 2;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) return 2;
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  int buffer = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  int failures = 0;
  for (int i = 3; i < argc; ++i) {
    const std::size_t size = std::strtoul(argv[i], nullptr, 10);
    std::vector<unsigned char> out(size), in(size + 1);
    for (std::size_t j = 0; j < size; ++j) out[j] = static_cast<unsigned char>(j * 7 + size);
    bool ok = false;
    for (int attempt = 0; attempt < 3 && !ok; ++attempt) {
      if (sendto(fd, out.data(), size, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) != static_cast<ssize_t>(size)) {
        std::perror("sendto");
        break;
      }
      const ssize_t n = recv(fd, in.data(), in.size(), 0);
      ok = n == static_cast<ssize_t>(size) && std::memcmp(in.data(), out.data(), size) == 0;
    }
    std::printf("%zu bytes: %s\n", size, ok ? "echoed" : "LOST OR DIFFERENT");
    failures += !ok;
  }
  close(fd);
  return failures == 0 ? 0 : 1;
}
