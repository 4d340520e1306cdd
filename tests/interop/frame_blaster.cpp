// Hostile input for the interop tests: writes malformed and flooding frames
// into a TAP device from the kernel side (an AF_PACKET socket on the
// interface), aimed at the stack on the other end.
//   frame_blaster IFNAME TARGET_MAC TARGET_IP COUNT_PER_KIND SEED
// Kinds: truncated frames, bad IPv4 header checksums, impossible IPv4
// lengths, bad UDP checksums, a fragment flood (first fragments of distinct
// datagrams that never complete), an ARP flood (requests for other hosts and
// unsolicited replies from random senders), and random bytes.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uk/addr.hpp>
#include <uk/wire/checksum.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

using bytes = std::vector<std::byte>;

void put16(bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = std::byte(v >> 8);
  b[at + 1] = std::byte(v & 0xff);
}
void put32(bytes& b, std::size_t at, std::uint32_t v) {
  put16(b, at, std::uint16_t(v >> 16));
  put16(b, at + 2, std::uint16_t(v));
}

bytes ethernet(const uk::mac_address& dst, const uk::mac_address& src, std::uint16_t type, std::size_t payload) {
  bytes f(14 + payload);
  std::memcpy(f.data(), dst.octets.data(), 6);
  std::memcpy(f.data() + 6, src.octets.data(), 6);
  put16(f, 12, type);
  return f;
}

/// An IPv4 header at offset 14 with a correct checksum.
void ipv4(bytes& f, uk::ipv4_address src, uk::ipv4_address dst, std::uint8_t proto, std::uint16_t total,
          std::uint16_t id, std::uint16_t flags_offset) {
  f[14] = std::byte{0x45};
  put16(f, 16, total);
  put16(f, 18, id);
  put16(f, 20, flags_offset);
  f[22] = std::byte{64};
  f[23] = std::byte{proto};
  put32(f, 26, src.value);
  put32(f, 30, dst.value);
  put16(f, 24, uk::wire::checksum::compute(std::span(f).subspan(14, 20)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: frame_blaster IFNAME TARGET_MAC TARGET_IP COUNT SEED\n");
    return 2;
  }
  const auto target_mac = uk::mac_address::parse(argv[2]);
  const auto target_ip = uk::ipv4_address::parse(argv[3]);
  const long count = std::atol(argv[4]);
  if (!target_mac || !target_ip || count <= 0) return 2;
  std::mt19937_64 random(std::strtoull(argv[5], nullptr, 10));

  const int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) {
    std::perror("socket(AF_PACKET)");
    return 1;
  }
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(if_nametoindex(argv[1]));
  to.sll_halen = 6;
  if (to.sll_ifindex == 0) {
    std::perror("if_nametoindex");
    return 1;
  }
  long sent = 0, refused = 0;
  auto send = [&](const bytes& f) {
    if (sendto(fd, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      ++refused;
      usleep(100);  // the TAP queue is full: let the stack drain it
    } else {
      ++sent;
    }
  };
  const uk::mac_address us{{0x02, 0xba, 0xd0, 0x00, 0x00, 0x01}};
  const uk::ipv4_address peer = *uk::ipv4_address::parse("10.0.0.1");
  auto random_mac = [&] {
    uk::mac_address m;
    for (auto& o : m.octets) o = static_cast<std::uint8_t>(random());
    m.octets[0] &= 0xfe;  // unicast
    return m;
  };

  for (long i = 0; i < count; ++i) {
    // A valid UDP datagram to port 7, then mutilated in each way.
    bytes good = ethernet(*target_mac, us, 0x0800, 20 + 8 + 32);
    ipv4(good, peer, *target_ip, 17, 60, std::uint16_t(i), 0);
    put16(good, 34, 40000);
    put16(good, 36, 7);
    put16(good, 38, 40);

    bytes truncated = good;
    truncated.resize(random() % good.size());
    send(truncated);

    bytes bad_header = good;
    bad_header[25] ^= std::byte{0x5a};
    send(bad_header);

    bytes bad_length = good;
    put16(bad_length, 16, std::uint16_t(60 + 1 + random() % 1000));  // longer than the frame
    put16(bad_length, 24, 0);
    put16(bad_length, 24, uk::wire::checksum::compute(std::span(bad_length).subspan(14, 20)));
    send(bad_length);

    bytes bad_udp = good;
    put16(bad_udp, 40, 0x1234);  // wrong UDP checksum
    send(bad_udp);

    // A first fragment (MF, offset 0) of a datagram that never completes.
    bytes fragment = ethernet(*target_mac, us, 0x0800, 20 + 1024);
    ipv4(fragment, peer, *target_ip, 17, 20 + 1024, std::uint16_t(random()), 0x2000);
    send(fragment);

    // ARP: a request for another host from a random sender, and an unsolicited reply.
    bytes arp = ethernet(uk::mac_address::broadcast(), random_mac(), 0x0806, 28);
    put16(arp, 14, 1);
    put16(arp, 16, 0x0800);
    arp[18] = std::byte{6};
    arp[19] = std::byte{4};
    put16(arp, 20, static_cast<std::uint16_t>(1 + random() % 2));
    std::memcpy(arp.data() + 22, arp.data() + 6, 6);
    put32(arp, 28, static_cast<std::uint32_t>(random()));
    put32(arp, 38, static_cast<std::uint32_t>(random()));
    send(arp);

    bytes noise(14 + random() % 1500);
    for (auto& b : noise) b = std::byte(random());
    std::memcpy(noise.data(), target_mac->octets.data(), 6);
    send(noise);
  }
  std::printf("frame_blaster: %ld frames sent, %ld refused by the kernel\n", sent, refused);
  close(fd);
  return 0;
}
