// uk::net::pcap_writer: the file is a classic pcap file (read back with
// tests/support/pcap_file.hpp, and by tshark when it is installed), frames in
// both directions are recorded with the clock's time, and failures to write
// are logged once, counted, and never stop the traffic.
#include <catch2/catch.hpp>

#include <uk/keys.hpp>
#include <uk/net/memory_link.hpp>
#include <uk/net/pcap_writer.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/pcap_file.hpp"

namespace {

using namespace std::chrono_literals;
using uk::net::memory_link;
using uk::net::pcap_writer;

std::filesystem::path scratch_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("uk-d1-" + std::to_string(::getpid()) + "-" + name);
}

/// An Ethernet frame from `src` to `dst` of `length` bytes, the payload counting from `seed`.
std::vector<std::byte> ethernet_frame(uk::mac_address dst, uk::mac_address src, std::size_t length,
                                      std::uint8_t seed) {
  std::vector<std::byte> f(length);
  for (std::size_t i = 0; i < 6; ++i) {
    f[i] = std::byte{dst.octets[i]};
    f[6 + i] = std::byte{src.octets[i]};
  }
  f[12] = std::byte{0x88};  // EtherType 0x88b5: IEEE 802 local experimental
  f[13] = std::byte{0xb5};
  for (std::size_t i = 14; i < length; ++i) f[i] = std::byte(static_cast<std::uint8_t>(seed + i));
  return f;
}

template <class Netif>
bool send(Netif& n, const std::vector<std::byte>& frame) {
  auto copy = [&](std::span<std::byte> out) {
    std::copy(frame.begin(), frame.end(), out.begin());
    return frame.size();
  };
  return n.transmit(frame.size(), uk::frame_filler(copy));
}

std::vector<std::string> logged;
void keep_line(std::string_view line) { logged.emplace_back(line); }

}  // namespace

static_assert(uk::netif<pcap_writer<memory_link::end>>);

TEST_CASE("pcap_writer: frames sent and received are written, in order, with the clock's time") {
  const auto path = scratch_file("both.pcap");
  memory_link link({.start = uk::instant{1500ms}});
  std::vector<std::vector<std::byte>> sent;
  std::size_t received_above = 0;
  auto count = [&](uk::frame) { ++received_above; };
  {
    pcap_writer<memory_link::end> traced(link.a(), path, {.clock = link.clock()});
    traced.set_receiver(uk::frame_handler(count));
    CHECK(traced.capturing());
    CHECK(traced.mac() == link.a().mac());
    CHECK(traced.mtu() == link.a().mtu());
    CHECK(traced.transmit_queue_limit() == link.a().transmit_queue_limit());

    sent.push_back(ethernet_frame(link.b().mac(), link.a().mac(), 60, 1));       // a -> b at 1.5 s
    REQUIRE(send(traced, sent.back()));
    link.advance(250ms);
    sent.push_back(ethernet_frame(link.a().mac(), link.b().mac(), 1514, 2));     // b -> a at 1.75 s
    REQUIRE(send(link.b(), sent.back()));
    link.deliver();
    link.advance(2s);
    sent.push_back(ethernet_frame(uk::mac_address::broadcast(), link.a().mac(), 42, 3));  // at 3.75 s
    REQUIRE(send(traced, sent.back()));
    link.deliver();

    CHECK(received_above == 1);
    CHECK(traced.pcap_stats().frames_written == 3);
    CHECK(traced.pcap_stats().bytes_written == 60 + 1514 + 42);
    CHECK(traced.pcap_stats().write_errors == 0);
    CHECK(&traced.counters() == &link.a().counters());  // the wrapped netif's counters
  }

  const uk::test::pcap_file file = uk::test::read_pcap(path.string());
  CHECK(file.linktype == 1);
  REQUIRE(file.packets.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(file.packets[i].data == sent[i]);
  CHECK(file.packets[0].seconds == 1);
  CHECK(file.packets[0].microseconds == 500000);
  CHECK(file.packets[1].seconds == 1);
  CHECK(file.packets[1].microseconds == 750000);
  CHECK(file.packets[2].seconds == 3);
  CHECK(file.packets[2].microseconds == 750000);

  // The global header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen 65535, Ethernet.
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(bytes.size() >= 24);
  auto u32 = [&](std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  auto u16 = [&](std::size_t at) {
    std::uint16_t v;
    std::memcpy(&v, bytes.data() + at, 2);
    return v;
  };
  CHECK(u32(0) == 0xa1b2c3d4u);
  CHECK(u16(4) == 2);
  CHECK(u16(6) == 4);
  CHECK(u32(8) == 0);
  CHECK(u32(12) == 0);
  CHECK(u32(16) == 65535);
  CHECK(u32(20) == 1);
  CHECK(bytes.size() == 24 + 3 * 16 + 60 + 1514 + 42);

  // tshark opens it and lists the three frames with their lengths.
  if (std::system("command -v tshark >/dev/null 2>&1") == 0) {
    const std::string command = "tshark -r '" + path.string() + "' -T fields -e frame.len 2>/dev/null";
    std::FILE* out = ::popen(command.c_str(), "r");
    REQUIRE(out != nullptr);
    std::string listing;
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, out) != nullptr) listing += buffer;
    CHECK(::pclose(out) == 0);
    CHECK(listing == "60\n1514\n42\n");
  } else {
    WARN("tshark is not installed: the pcap file was not opened with it");
  }
  std::filesystem::remove(path);
}

TEST_CASE("pcap_writer: without a clock, timestamps are the system's wall time") {
  const auto path = scratch_file("wall.pcap");
  memory_link link;
  const auto before = std::chrono::system_clock::now();
  {
    pcap_writer<memory_link::end> traced(link.a(), path);
    send(traced, ethernet_frame(link.b().mac(), link.a().mac(), 60, 0));
  }
  const auto after = std::chrono::system_clock::now();
  const auto file = uk::test::read_pcap(path.string());
  REQUIRE(file.packets.size() == 1);
  const auto stamp = std::chrono::system_clock::time_point{std::chrono::seconds{file.packets[0].seconds} +
                                                           std::chrono::microseconds{file.packets[0].microseconds}};
  CHECK(stamp >= std::chrono::time_point_cast<std::chrono::seconds>(before));
  CHECK(stamp <= after);
  std::filesystem::remove(path);
}

TEST_CASE("pcap_writer: without a path it passes frames through and writes nothing") {
  memory_link link;
  pcap_writer<memory_link::end> traced(link.a());
  std::size_t received = 0;
  auto count = [&](uk::frame) { ++received; };
  traced.set_receiver(uk::frame_handler(count));
  CHECK_FALSE(traced.capturing());
  CHECK(send(traced, ethernet_frame(link.b().mac(), link.a().mac(), 60, 0)));
  CHECK(send(link.b(), ethernet_frame(link.a().mac(), link.b().mac(), 60, 0)));
  CHECK(link.deliver() == 2);
  CHECK(received == 1);
  CHECK(traced.pcap_stats().frames_written == 0);
}

TEST_CASE("pcap_writer: a frame the device refuses is not recorded") {
  const auto path = scratch_file("refused.pcap");
  memory_link link({.transmit_queue_limit = 1});
  {
    pcap_writer<memory_link::end> traced(link.a(), path, {.clock = link.clock()});
    CHECK(send(traced, ethernet_frame(link.b().mac(), link.a().mac(), 60, 0)));
    CHECK_FALSE(send(traced, ethernet_frame(link.b().mac(), link.a().mac(), 60, 1)));
    CHECK(traced.pcap_stats().frames_written == 1);
  }
  CHECK(uk::test::read_pcap(path.string()).packets.size() == 1);
  std::filesystem::remove(path);
}

TEST_CASE("pcap_writer: a file that cannot be created is an error that names it") {
  memory_link link;
  const std::filesystem::path path = "/nonexistent-directory-uk/capture.pcap";
  try {
    pcap_writer<memory_link::end> traced(link.a(), path);
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) ==
          "cannot create the pcap file /nonexistent-directory-uk/capture.pcap: No such file or directory");
  }
}

TEST_CASE("pcap_writer: write errors are logged once, counted, and the traffic goes on") {
  const auto path = scratch_file("full.pcap");
  memory_link link;
  std::size_t received = 0;
  auto count = [&](uk::frame) { ++received; };
  // The file may grow to the global header and one 60-byte frame: the second frame fails (EFBIG).
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  logged.clear();
  uk::log::set_sink(&keep_line);
  {
    pcap_writer<memory_link::end> traced(link.a(), path, {.clock = link.clock()});
    traced.set_receiver(uk::frame_handler(count));
    rlimit small = saved;
    small.rlim_cur = 24 + 16 + 60;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    for (int i = 0; i < 5; ++i) CHECK(send(traced, ethernet_frame(link.b().mac(), link.a().mac(), 60, 0)));
    for (int i = 0; i < 3; ++i) send(link.b(), ethernet_frame(link.a().mac(), link.b().mac(), 60, 0));
    CHECK(link.deliver() == 8);
    ::setrlimit(RLIMIT_FSIZE, &saved);
    CHECK(received == 3);
    CHECK(traced.pcap_stats().frames_written == 1);
    CHECK(traced.pcap_stats().write_errors == 7);
    CHECK_FALSE(traced.capturing());
  }
  uk::log::set_sink(nullptr);
  std::signal(SIGXFSZ, old_handler);
  std::size_t error_lines = 0;
  for (const auto& line : logged)
    if (line.find("pcap: cannot write to") != std::string::npos) ++error_lines;
  CHECK(error_lines == 1);
  CHECK(uk::test::read_pcap(path.string()).packets.size() == 1);
  std::filesystem::remove(path);
}

TEST_CASE("pcap_writer: uk::run builds it from --pcap over the netif it depends on") {
  const auto path = scratch_file("key.pcap");
  memory_link link;
  using writer = pcap_writer<memory_link::end>;
  struct no_context {};
  no_context context;
  const char* args[] = {"--pcap", path.c_str()};
  const auto parsed = uk::parse_keys<uk::net::pcap_key>("test", args);
  REQUIRE(parsed);
  const auto& keys = *parsed;
  static_assert(std::is_same_v<writer::dependencies, boost::hana::tuple<boost::hana::type<memory_link::end>>>);
  static_assert(std::is_same_v<writer::keys, boost::hana::tuple<boost::hana::type<uk::net::pcap_key>>>);
  {
    writer traced(context, keys, link.a());
    CHECK(traced.capturing());
    CHECK(traced.path() == path);
  }
  CHECK(uk::test::read_pcap(path.string()).packets.empty());
  std::filesystem::remove(path);
}
