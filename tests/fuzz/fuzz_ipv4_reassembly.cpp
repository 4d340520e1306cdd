// libFuzzer target for uk/direct/ipv4_reassembly.hpp: arbitrary sequences of
// fragments (key, offset, length, MF, header length and the passing of time
// all drawn from the input) go into two reassembly cores, a default one and a
// tiny one whose every bound is hit quickly. Checked after every call:
//   - the buffered bytes never exceed the pool (memory bounded), nor the
//     datagrams in progress the table;
//   - a completed datagram holds exactly the data that was sent: every
//     fragment carries the bytes of one reference datagram per key (a
//     function of the key and the absolute offset), so any misplaced, stale or
//     mixed-up byte shows;
//   - an expiry reports a valid first header and leading data of the right bytes;
//   - poll() returns a deadline in the future, or never.
// Each record of the input is 6 bytes:
//   [0] key: bits 0-2 identification, bit 3 source, bit 4 protocol;
//       bit 5 MF; bits 6-7 header options (0, 4, 12 or 28 bytes)
//   [1..2] fragment offset in 8-octet units (13 bits)
//   [3..4] data length: bit 15 picks a multiple of 8 (bits 0-11 x 8), else bits 0-11 as is
//   [5] time: advance by this many 100 ms steps (0: none), then poll when odd
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "uk/direct/ipv4_reassembly.hpp"

namespace {

namespace ipv4 = uk::wire::ipv4;
using uk::direct::ipv4_reassembly;

void check(bool ok) {
  if (!ok) std::abort();
}

/// The reference byte at data offset `at` of the datagram with key `key`.
std::byte reference(std::uint32_t key, std::size_t at) {
  std::uint32_t x = key * 0x9e3779b9u ^ static_cast<std::uint32_t>(at) * 0x85ebca6bu;
  x ^= x >> 13;
  return static_cast<std::byte>(x * 0xc2b2ae35u >> 24);
}

std::uint32_t key_of(std::span<const std::byte> header) {
  const auto v = ipv4::parse_quoted(header, ipv4::checksum_check::skip);
  check(v.has_value());
  return (v->src().value & 1) << 3 | (v->protocol() == ipv4::protocol_number::udp ? 1u << 4 : 0u) |
         (v->identification() & 7);
}

void check_data(std::uint32_t key, std::span<const std::byte> data) {
  for (std::size_t i = 0; i < data.size(); ++i) check(data[i] == reference(key, i));
}

struct expiry_checker {
  void operator()(const ipv4_reassembly::expired_datagram& e) const {
    check(e.header.size() >= 20 && e.header.size() <= 60);
    const auto v = ipv4::parse_quoted(e.header, ipv4::checksum_check::skip);
    check(v.has_value() && v->fragment_offset() == 0 && v->more_fragments());
    check(e.leading_data.size() >= 8);
    check_data(key_of(e.header), e.leading_data);
  }
};

/// Builds the fragment of one record and gives it to `core`.
void feed(ipv4_reassembly& core, uk::instant now, std::uint8_t key_byte, std::size_t offset, std::size_t length,
          std::vector<std::byte>& buffer) {
  const std::uint32_t key = key_byte & 0x1f;
  const std::size_t options = std::size_t{4} * (std::size_t{1} << ((key_byte >> 6) & 3)) - 4;  // 0, 4, 12, 28
  const std::size_t header_length = 20 + options;
  const std::size_t total = header_length + length;
  if (total > ipv4::max_total_length) return;  // not a datagram that can exist on the wire

  ipv4::repr r;
  r.src = uk::ipv4_address{0x0a000010u + ((key >> 3) & 1)};  // key_of reads bit 0 back
  r.dst = uk::ipv4_address{0x0a000002u};
  r.protocol = (key >> 4) & 1 ? ipv4::protocol_number::udp : ipv4::protocol_number::icmp;
  r.identification = static_cast<std::uint16_t>(key & 7);
  r.more_fragments = (key_byte & 0x20) != 0;
  r.fragment_offset = static_cast<std::uint16_t>(offset);
  r.payload_length = static_cast<std::uint16_t>(length + options);
  buffer.assign(total, std::byte{1});  // options: NOPs
  ipv4::emit(r, buffer);
  // Turn the 20-byte header into one with options: IHL and total length.
  buffer[0] = static_cast<std::byte>(0x40 | header_length / 4);
  uk::detail::store_be16(buffer.data() + 2, static_cast<std::uint16_t>(total));
  uk::detail::store_be16(buffer.data() + 10, 0);
  uk::detail::store_be16(buffer.data() + 10, uk::wire::checksum::compute(std::span(buffer).first(header_length)));
  for (std::size_t i = 0; i < length; ++i) buffer[header_length + i] = reference(key, offset + i);

  const auto v = ipv4::parse(buffer);
  check(v.has_value());
  const auto result = core.add(now, *v);
  if (result.state == ipv4_reassembly::status::complete) {
    check(result.header.size() >= 20 && result.header.size() <= 60);
    check(result.header.size() + result.payload.size() <= core.options().max_datagram_size);
    check_data(key_of(result.header), result.payload);
    const auto first = ipv4::parse_quoted(result.header, ipv4::checksum_check::skip);
    check(first.has_value() && first->fragment_offset() == 0);
  }
  check(core.bytes_buffered() <= core.memory_cap());
  check(core.memory_cap() <= core.options().max_bytes_total);
  check(core.in_progress() <= core.options().max_datagrams);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The cores are built once (their pools are large) and are empty again at
  // the end of every input (checked below), so each input starts alike.
  static const expiry_checker on_expiry;
  static ipv4_reassembly normal;
  static ipv4_reassembly tiny({.max_datagrams = 3,
                               .max_bytes_total = 6 * 512,
                               .max_fragments_per_datagram = 5,
                               .timeout = std::chrono::seconds{2},
                               .max_datagram_size = 4000,
                               .chunk_size = 512});
  normal.set_expiry_handler(ipv4_reassembly::expiry_handler(on_expiry));
  tiny.set_expiry_handler(ipv4_reassembly::expiry_handler(on_expiry));
  static std::vector<std::byte> buffer;
  uk::instant now{};

  for (std::size_t at = 0; at + 6 <= size; at += 6) {
    const std::uint8_t* record = data + at;
    const std::size_t offset = std::size_t{(static_cast<unsigned>(record[1]) << 8 | record[2]) & 0x1fffu} * 8;
    const unsigned length_field = static_cast<unsigned>(record[3]) << 8 | record[4];
    const std::size_t length =
        (length_field & 0x8000u) ? std::size_t{length_field & 0x0fffu} * 8 : std::size_t{length_field & 0x0fffu};
    feed(normal, now, record[0], offset, length, buffer);
    // The tiny core sees offsets folded into its 4000-byte range, so that it completes datagrams too.
    feed(tiny, now, record[0], offset % 4096, length % 1024, buffer);
    if (record[5] != 0) {
      now += std::chrono::milliseconds{100} * record[5];
      if (record[5] & 1) {
        for (ipv4_reassembly* core : {&normal, &tiny}) {
          const uk::instant next = core->poll(now);
          check(next == uk::never || next > now);
        }
      }
    }
  }
  for (ipv4_reassembly* core : {&normal, &tiny}) {
    core->poll(now + std::chrono::hours{1});
    check(core->in_progress() == 0 && core->bytes_buffered() == 0);
  }
  return 0;
}
