// Reads classic libpcap files (the format tcpdump -w and tshark -F pcap
// write) for tests that replay captured packets. Test-only helper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace uk::test {

struct pcap_packet {
  std::uint32_t seconds = 0;
  std::uint32_t microseconds = 0;
  std::vector<std::byte> data;  // the captured bytes (incl_len)
};

struct pcap_file {
  std::uint32_t linktype = 0;  // 1: Ethernet
  std::vector<pcap_packet> packets;
};

/// Reads a whole pcap file; throws std::runtime_error if it is not one.
inline pcap_file read_pcap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
  auto u32 = [&](std::size_t at, bool swap) {
    if (at + 4 > bytes.size()) throw std::runtime_error(path + ": truncated pcap");
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  const std::uint32_t magic = u32(0, false);
  bool swap;
  if (magic == 0xa1b2c3d4u) swap = false;
  else if (magic == 0xd4c3b2a1u) swap = true;
  else throw std::runtime_error(path + ": not a microsecond pcap file");
  pcap_file file;
  file.linktype = u32(20, swap);
  std::size_t at = 24;
  while (at < bytes.size()) {
    pcap_packet p;
    p.seconds = u32(at, swap);
    p.microseconds = u32(at + 4, swap);
    const std::uint32_t incl = u32(at + 8, swap);
    at += 16;
    if (at + incl > bytes.size()) throw std::runtime_error(path + ": truncated record");
    p.data.resize(incl);
    std::memcpy(p.data.data(), bytes.data() + at, incl);
    at += incl;
    file.packets.push_back(std::move(p));
  }
  return file;
}

}  // namespace uk::test
