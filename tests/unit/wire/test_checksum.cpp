// Tests of uk/wire/checksum.hpp: the Internet checksum (RFC 1071), its
// incremental update (RFC 1624) and the UDP/TCP pseudo-header (RFC 768,
// RFC 9293 3.1). Every kernel (scalar, 16-byte vector, AVX2) is checked
// against a 16-bit-at-a-time reference at every length and alignment.
#include "uk/wire/checksum.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "support/bytes.hpp"
#include "support/pcap_file.hpp"

namespace checksum = uk::wire::checksum;

namespace {

using uk::test::bytes_of;

std::vector<std::byte> random_bytes(std::mt19937& rng, std::size_t n) {
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng());
  return out;
}

// RFC 1071 section 4.1, word by word: the folded one's-complement sum of the
// big-endian 16-bit words, an odd last byte padded with a zero byte.
std::uint16_t reference_sum(std::span<const std::byte> data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += (std::to_integer<std::uint32_t>(data[i]) << 8) | std::to_integer<std::uint32_t>(data[i + 1]);
    sum = (sum & 0xffff) + (sum >> 16);
  }
  if (i < data.size()) sum += std::to_integer<std::uint32_t>(data[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// A kernel's machine-order sum as the big-endian folded sum partial() reports.
std::uint16_t folded(std::uint64_t native) {
  return checksum::detail::fold_to_network_order(native);
}

uk::test::pcap_file link_capture() {
  return uk::test::read_pcap(std::string(UK_TEST_DATA_DIR) + "/kernel_arp_icmp.pcap");
}

}  // namespace

TEST_CASE("RFC 1071 3: the numeric example sums to ddf2", "[wire][checksum]") {
  // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7; the one's-complement
  // sum of their 16-bit words is 0xddf2, whatever the byte order used.
  const auto data = bytes_of({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
  CHECK(checksum::fold(checksum::partial(data)) == 0xddf2);
  CHECK(checksum::compute(data) == static_cast<std::uint16_t>(~0xddf2));
  CHECK(checksum::compute(data) == 0x220d);

  SECTION("the data followed by its checksum verifies (RFC 1071 1 (3))") {
    auto with = data;
    with.push_back(std::byte{0x22});
    with.push_back(std::byte{0x0d});
    CHECK(checksum::verifies(with));
    with[3] ^= std::byte{0x01};
    CHECK_FALSE(checksum::verifies(with));
  }
  SECTION("summed in pieces at even boundaries (RFC 1071 2 (A), associativity)") {
    const std::span<const std::byte> s(data);
    CHECK(checksum::fold(checksum::partial(s.subspan(4), checksum::partial(s.first(4)))) == 0xddf2);
    CHECK(checksum::fold(checksum::partial(s.subspan(2), checksum::partial(s.first(2)))) == 0xddf2);
  }
}

TEST_CASE("RFC 1071 4.1: an odd last byte is the high byte of a zero-padded word",
          "[wire][checksum]") {
  CHECK(checksum::fold(checksum::partial(bytes_of({0xab}))) == 0xab00);
  CHECK(checksum::fold(checksum::partial(bytes_of({0x00, 0x01, 0xf2}))) == 0xf201);
  CHECK(checksum::compute(bytes_of({0x00, 0x01, 0xf2})) == static_cast<std::uint16_t>(~0xf201));
  // 7 bytes: 0x0102 + 0x0304 + 0x0506 + 0x0700.
  CHECK(checksum::fold(checksum::partial(bytes_of({1, 2, 3, 4, 5, 6, 7}))) == 0x100c);
  // The empty buffer sums to 0 and its checksum is 0xffff.
  CHECK(checksum::partial({}) == 0);
  CHECK(checksum::compute({}) == 0xffff);
}

TEST_CASE("RFC 1071 2 (C): end-around carries, including from all-ones data", "[wire][checksum]") {
  // 0xffff + 0xffff = 0x1fffe -> 0xfffe + 1 = 0xffff: ones stay ones.
  for (std::size_t n : {2u, 8u, 16u, 64u, 128u, 1500u, 4096u}) {
    const std::vector<std::byte> ones(n, std::byte{0xff});
    CHECK(checksum::fold(checksum::partial(ones)) == 0xffff);
    CHECK(checksum::compute(ones) == 0x0000);
    const std::vector<std::byte> zeros(n, std::byte{0});
    CHECK(checksum::fold(checksum::partial(zeros)) == 0x0000);
  }
  CHECK(checksum::fold(0x1ffff) == 0x0001);
  CHECK(checksum::fold(0xffffffffffffffffu) == 0xffff);
  CHECK(checksum::fold(0x0001000000000000u) == 0x0001);
  CHECK(checksum::fold(0x8000000000000000u) == 0x8000);
  CHECK(checksum::finish(0xffff) == 0x0000);
  CHECK(checksum::add16(1, 0xffff) == 0x10000);
  CHECK(checksum::fold(checksum::add32(0, 0xc0000201)) == 0xc201);
}

TEST_CASE("RFC 1071 2 (B): byte-swapping before the fold equals swapping the folded sum",
          "[wire][checksum]") {
  std::mt19937_64 rng(2);
  auto swap16 = [](std::uint16_t v) { return static_cast<std::uint16_t>((v >> 8) | (v << 8)); };
  std::vector<std::uint64_t> values{0, 1, 0xffff, 0x10000, 0xffffffffffffffffu, 0xff00ff00ff00ff00u};
  for (int i = 0; i < 1000; ++i) values.push_back(rng());
  for (std::uint64_t v : values) {
    const std::uint16_t expected =
        std::endian::native == std::endian::little ? swap16(checksum::fold(v)) : checksum::fold(v);
    REQUIRE(checksum::detail::fold_to_network_order(v) == expected);
  }
}

TEST_CASE("RFC 1071: every length 0..200 at every alignment 0..7 matches the 16-bit reference",
          "[wire][checksum]") {
  std::mt19937 rng(1071);
  const auto buffer = random_bytes(rng, 200 + 8);
  const bool avx2 =
#if UK_WIRE_CHECKSUM_AVX2
      checksum::detail::cpu_has_avx2();
#else
      false;
#endif
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t n = 0; n <= 200; ++n) {
      const std::span<const std::byte> data(buffer.data() + offset, n);
      const std::uint16_t expected = reference_sum(data);
      INFO("offset " << offset << " length " << n);
      REQUIRE(checksum::fold(checksum::partial(data)) == expected);
      REQUIRE(checksum::compute(data) == static_cast<std::uint16_t>(~expected));
      REQUIRE(folded(checksum::detail::sum_scalar(data.data(), n)) == expected);
#if UK_WIRE_CHECKSUM_VECTOR
      REQUIRE(folded(checksum::detail::sum_vector(data.data(), n)) == expected);
#endif
#if UK_WIRE_CHECKSUM_AVX2
      if (avx2) REQUIRE(folded(checksum::detail::sum_avx2(data.data(), n)) == expected);
#endif
    }
  }
  // Whether the AVX2 kernel was exercised here depends on the CPU.
  SUCCEED("AVX2 kernel checked: " << (avx2 ? "yes" : "no (CPU lacks AVX2)"));
}

TEST_CASE("RFC 1071: long buffers (jumbo, 64 KiB) at every alignment match the reference",
          "[wire][checksum]") {
  std::mt19937 rng(791);
  const auto buffer = random_bytes(rng, 65536 + 8);
  for (std::size_t n : {255u, 256u, 257u, 1499u, 1500u, 9000u, 65535u, 65536u}) {
    for (std::size_t offset = 0; offset < 8; ++offset) {
      const std::span<const std::byte> data(buffer.data() + offset, n);
      INFO("offset " << offset << " length " << n);
      REQUIRE(checksum::fold(checksum::partial(data)) == reference_sum(data));
    }
  }
  // Worst case for the deferred carries: every byte 0xff over 64 KiB.
  const std::vector<std::byte> ones(65536, std::byte{0xff});
  CHECK(checksum::fold(checksum::partial(ones)) == 0xffff);
}

TEST_CASE("RFC 1071 2 (A): partial sums over even-length pieces add up to the whole",
          "[wire][checksum]") {
  std::mt19937 rng(2);
  for (int i = 0; i < 1000; ++i) {
    const auto data = random_bytes(rng, rng() % 1600);
    const std::size_t cut = (rng() % (data.size() + 1)) & ~std::size_t{1};
    const std::span<const std::byte> s(data);
    const std::uint64_t first = checksum::partial(s.first(cut));
    REQUIRE(checksum::fold(checksum::partial(s.subspan(cut), first)) == reference_sum(s));
  }
}

TEST_CASE("RFC 1071: the checksum is usable in constant expressions", "[wire][checksum]") {
  constexpr std::array<std::byte, 8> example{std::byte{0x00}, std::byte{0x01}, std::byte{0xf2},
                                             std::byte{0x03}, std::byte{0xf4}, std::byte{0xf5},
                                             std::byte{0xf6}, std::byte{0xf7}};
  static_assert(checksum::fold(checksum::partial(example)) == 0xddf2);
  static_assert(checksum::compute(example) == 0x220d);
  static_assert(checksum::update(0xdd2f, 0x5555, 0x3285) == 0x0000);
  SUCCEED();
}

TEST_CASE("RFC 768 / RFC 9293 3.1: the pseudo-header sum equals summing the header's bytes",
          "[wire][checksum]") {
  // The pseudo-header is src (4), dst (4), zero (1), protocol (1), length (2).
  std::mt19937 rng(768);
  for (int i = 0; i < 1000; ++i) {
    const uk::ipv4_address src{static_cast<std::uint32_t>(rng())};
    const uk::ipv4_address dst{static_cast<std::uint32_t>(rng())};
    const auto protocol = static_cast<std::uint8_t>(rng());
    const auto segment = random_bytes(rng, rng() % 600);
    const auto length = static_cast<std::uint16_t>(segment.size());
    std::vector<std::byte> whole;
    for (std::uint32_t a : {src.value, dst.value})
      for (int shift : {24, 16, 8, 0}) whole.push_back(static_cast<std::byte>(a >> shift));
    whole.push_back(std::byte{0});
    whole.push_back(static_cast<std::byte>(protocol));
    whole.push_back(static_cast<std::byte>(length >> 8));
    whole.push_back(static_cast<std::byte>(length));
    whole.insert(whole.end(), segment.begin(), segment.end());
    const std::uint64_t sum = checksum::partial(segment, checksum::pseudo_header(src, dst, protocol, length));
    REQUIRE(checksum::fold(sum) == reference_sum(whole));
  }
}

TEST_CASE("RFC 768: a UDP checksum over pseudo-header and segment verifies on receipt",
          "[wire][checksum]") {
  // 192.0.2.1:5000 -> 192.0.2.2:53, 4 bytes of data; checksum field at 6.
  auto segment = bytes_of({0x13, 0x88, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'd', 'a', 't', 'a'});
  const auto src = uk::ipv4_address::from_octets(192, 0, 2, 1);
  const auto dst = uk::ipv4_address::from_octets(192, 0, 2, 2);
  const std::uint64_t pseudo = checksum::pseudo_header(src, dst, 17, 12);
  const std::uint16_t c = checksum::finish(checksum::partial(segment, pseudo));
  // By hand: c000+0201+c000+0202+0011+000c + 1388+0035+000c+0000+6461+7461.
  const std::uint32_t by_hand = 0xc000 + 0x0201 + 0xc000 + 0x0202 + 0x0011 + 0x000c + 0x1388 +
                                0x0035 + 0x000c + 0x6461 + 0x7461;
  CHECK(c == static_cast<std::uint16_t>(~checksum::fold(by_hand)));
  segment[6] = static_cast<std::byte>(c >> 8);
  segment[7] = static_cast<std::byte>(c);
  CHECK(checksum::verifies(segment, pseudo));
  CHECK_FALSE(checksum::verifies(segment, checksum::pseudo_header(src, dst, 17, 13)));
}

TEST_CASE("RFC 1624 4: equation 3 gives +0 where equation 2 gives -0", "[wire][checksum]") {
  // Two words whose sum is C = 0x22d0, so HC = ~C = 0xdd2f; the word 0x5555
  // becomes 0x3285 and the new sum is 0xffff, so a checksum computed from
  // scratch is 0x0000 (RFC 1624 section 4).
  auto data = bytes_of({0x55, 0x55, 0xcd, 0x7a});
  REQUIRE(checksum::compute(data) == 0xdd2f);
  data[0] = std::byte{0x32};
  data[1] = std::byte{0x85};
  const std::uint16_t from_scratch = checksum::compute(data);
  REQUIRE(from_scratch == 0x0000);
  CHECK(checksum::update(0xdd2f, 0x5555, 0x3285) == from_scratch);
  // RFC 1141's equation 2, HC' = HC + m + ~m', lands on the other zero.
  const std::uint16_t eqn2 = checksum::fold(std::uint64_t{0xdd2f} + 0x5555 + static_cast<std::uint16_t>(~0x3285));
  CHECK(eqn2 == 0xffff);
}

TEST_CASE("RFC 1624 3: incremental update equals recomputation for random changes",
          "[wire][checksum]") {
  std::mt19937 rng(1624);
  for (int i = 0; i < 1000; ++i) {
    auto data = random_bytes(rng, 2 + 2 * (rng() % 40));
    const std::uint16_t before = checksum::compute(data);
    const std::size_t at = 2 * (rng() % (data.size() / 2));
    const auto old_word = static_cast<std::uint16_t>((std::to_integer<unsigned>(data[at]) << 8) |
                                                     std::to_integer<unsigned>(data[at + 1]));
    // Half the time a fully random word, otherwise one byte of it (as a TTL change).
    const auto new_word = static_cast<std::uint16_t>(
        i % 2 ? rng() : ((old_word & 0x00ff) | ((old_word - 0x100) & 0xff00)));
    data[at] = static_cast<std::byte>(new_word >> 8);
    data[at + 1] = static_cast<std::byte>(new_word);
    INFO("iteration " << i);
    REQUIRE(checksum::update(before, old_word, new_word) == checksum::compute(data));
  }
  SECTION("an unchanged word leaves the checksum unchanged (RFC 1624 errata 4782's case)") {
    // HC = 0 with m = m': ~0 + ~m + m = 0xffff + 0xffff folds to 0xffff, complement 0.
    CHECK(checksum::update(0x0000, 0x5555, 0x5555) == 0x0000);
    for (int i = 0; i < 1000; ++i) {
      const auto hc = static_cast<std::uint16_t>(rng() % 0xffff);  // 0xffff only for all-zero data
      const auto m = static_cast<std::uint16_t>(rng());
      REQUIRE(checksum::update(hc, m, m) == hc);
    }
  }
}

TEST_CASE("RFC 1071 1 (3): captured kernel IPv4 headers and ICMP messages verify",
          "[wire][checksum]") {
  const auto capture = link_capture();
  REQUIRE(capture.linktype == 1);
  // Frame 5: the first echo request, 192.0.2.1 -> 192.0.2.2, header checksum 0x5e81.
  REQUIRE(capture.packets.size() >= 5);
  const auto& frame = capture.packets[4].data;
  REQUIRE(frame.size() == 98);
  const std::span<const std::byte> header = std::span(frame).subspan(14, 20);
  CHECK(checksum::verifies(header));
  CHECK(((std::to_integer<unsigned>(header[10]) << 8) | std::to_integer<unsigned>(header[11])) == 0x5e81);
  std::vector<std::byte> zeroed(header.begin(), header.end());
  zeroed[10] = zeroed[11] = std::byte{0};
  CHECK(checksum::compute(zeroed) == 0x5e81);
  zeroed[8] ^= std::byte{0x01};  // a corrupted TTL
  zeroed[10] = std::byte{0x5e};
  zeroed[11] = std::byte{0x81};
  CHECK_FALSE(checksum::verifies(zeroed));

  // Every IPv4 header in the capture verifies, and so does every unfragmented
  // ICMP message (RFC 792: the checksum covers the whole ICMP message).
  int headers = 0, messages = 0;
  for (const auto& p : capture.packets) {
    const auto& d = p.data;
    if (d.size() < 34 || d[12] != std::byte{0x08} || d[13] != std::byte{0x00}) continue;
    const std::span<const std::byte> ip = std::span(d).subspan(14);
    CHECK(checksum::verifies(ip.first(20)));
    ++headers;
    const bool fragment = (std::to_integer<unsigned>(ip[6]) & 0x3f) != 0 || ip[7] != std::byte{0};
    if (!fragment) {
      const std::size_t total = (std::to_integer<std::size_t>(ip[2]) << 8) | std::to_integer<std::size_t>(ip[3]);
      CHECK(checksum::verifies(ip.subspan(20, total - 20)));
      ++messages;
    }
  }
  CHECK(headers == 10);
  CHECK(messages == 4);
}
