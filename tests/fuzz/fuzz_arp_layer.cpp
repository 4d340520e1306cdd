// libFuzzer target for uk/direct/ethernet.hpp + uk/direct/arp.hpp: the
// input is a script of events for a whole ethernet+arp stack over a netif
// double with a virtual clock: raw frames, well-formed ARP packets with
// fuzz-chosen fields (to reach deep into the cache), sends, time steps and
// polls, static entries, address changes, a device that refuses frames.
// After every event: the table never exceeds its capacity, the queue of
// packets awaiting resolution never exceeds its byte cap, every frame the
// stack sends parses (and every ARP one is Ethernet/IPv4 ARP), and poll()
// never asks to be woken in the past.
//
// Seeds in corpus/arp_layer/: a resolution answered by a reply, a request
// for our address, a dead host polled until it fails.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "uk/direct/arp.hpp"
#include "uk/direct/ethernet.hpp"
#include "uk/log.hpp"
#include "uk/wire/arp.hpp"
#include "uk/wire/ethernet.hpp"

namespace {

namespace arp_wire = uk::wire::arp;
namespace ethernet_wire = uk::wire::ethernet;
using uk::instant;
using uk::ipv4_address;
using uk::mac_address;

constexpr mac_address our_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}};
constexpr std::size_t link_mtu = 1500;

[[noreturn]] void fail() { std::abort(); }

/// A netif that checks every frame the stack writes.
struct checking_netif {
  uk::netif_counters counts;
  uk::frame_handler receiver;
  bool refuse = false;
  std::vector<std::byte> slot = std::vector<std::byte>(link_mtu + 14);

  mac_address mac() const { return our_mac; }
  std::size_t mtu() const { return link_mtu; }
  std::size_t transmit_queue_limit() const { return 16; }
  void set_receiver(uk::frame_handler h) { receiver = h; }
  const uk::netif_counters& counters() const { return counts; }

  bool transmit(std::size_t size, uk::frame_filler fill) {
    if (size > slot.size()) fail();
    if (refuse) {
      ++counts.tx_dropped_queue_full;
      return false;
    }
    const std::size_t written = fill(std::span(slot).first(size));
    if (written > size) fail();
    if (written == 0) return true;
    const auto frame = ethernet_wire::parse(std::span<const std::byte>(slot).first(written));
    if (!frame || frame->src() != our_mac || frame->tagged()) fail();
    if (frame->ethertype() == ethernet_wire::ethertype::arp) {
      const auto packet = arp_wire::parse(frame->payload());
      if (!packet || packet->sender_mac() != our_mac) fail();
    }
    ++counts.tx_frames;
    counts.tx_bytes += written;
    return true;
  }
};

struct virtual_clock {
  instant now{};
  instant read() { return now; }
};

/// Reads the script.
struct reader {
  const std::uint8_t* data;
  std::size_t size;
  bool empty() const { return size == 0; }
  std::uint8_t byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() << 8 | byte()); }
};

// A few addresses, so that events meet the same entries again.
ipv4_address address(std::uint8_t b) {
  switch (b % 8) {
    case 0: return ipv4_address::any();
    case 1: return ipv4_address::broadcast();
    case 2: return ipv4_address::from_octets(224, 0, 0, b);
    default: return ipv4_address::from_octets(10, 0, 0, static_cast<std::uint8_t>((b >> 3) % 24));  // ours: 19
  }
}
mac_address mac(std::uint8_t b) {
  if (b == 0xff) return mac_address::broadcast();
  if (b == 0xfe) return our_mac;
  return {{static_cast<std::uint8_t>(b & 0x01 ? 0x03 : 0x02), 0, 0, 0, 0, static_cast<std::uint8_t>(b % 16)}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    for (auto s : uk::log::all_sources) uk::log::set_level(s, uk::log::level::quiet);
    return true;
  }();
  (void)quiet;

  checking_netif netif;
  virtual_clock clock;
  clock.now = instant{} + std::chrono::seconds(1000);
  uk::direct::ethernet<checking_netif> eth(netif);
  uk::direct::arp_options options;
  options.cache.capacity = 8;
  options.cache.pending_per_address = 3;
  options.cache.pending_bytes = 512;
  options.cache.reachable_time = std::chrono::seconds(30);
  options.cache.stale_timeout = std::chrono::seconds(90);
  uk::direct::arp<decltype(eth)> arp(eth, uk::clock_ref::bind<&virtual_clock::read>(clock), options);
  arp.set_address(ipv4_address::from_octets(10, 0, 0, 2));

  std::vector<std::byte> frame;
  reader in{data, size};
  while (!in.empty()) {
    switch (in.byte() % 8) {
      case 0: {  // a raw frame
        frame.resize(in.byte());
        for (auto& b : frame) b = std::byte{in.byte()};
        netif.receiver(frame);
        break;
      }
      case 1:
      case 2: {  // a well-formed ARP packet with chosen fields, to us or broadcast
        const arp_wire::repr packet{in.byte() & 1 ? arp_wire::operation::reply : arp_wire::operation::request,
                                    mac(in.byte()), address(in.byte()), mac(in.byte()), address(in.byte())};
        frame.assign(ethernet_wire::header_length + arp_wire::packet_length + (in.byte() % 4) * 8, std::byte{0});
        ethernet_wire::emit({in.byte() & 1 ? mac_address::broadcast() : our_mac, mac(in.byte() & 0xfe),
                             ethernet_wire::ethertype::arp, std::nullopt},
                            frame);
        arp_wire::emit(packet, std::span(frame).subspan(ethernet_wire::header_length));
        netif.receiver(frame);
        break;
      }
      case 3: {  // time passes, the runtime polls
        clock.now += std::chrono::milliseconds(in.u16()) * (in.byte() % 4 == 0 ? 100 : 1);
        const instant next = arp.poll(clock.now);
        if (next <= clock.now) fail();
        break;
      }
      case 4: {  // the IPv4 layer sends
        const ipv4_address to = address(in.byte());
        const std::size_t length = in.byte() * 7u;
        const std::uint8_t pattern = in.byte();
        auto fill = [&](std::span<std::byte> out) {
          for (auto& b : out) b = std::byte{pattern};
          return out.size();
        };
        arp.transmit(to, ethernet_wire::ethertype::ipv4, length, uk::frame_filler(fill));
        break;
      }
      case 5:
        arp.add_static(address(in.byte()), mac(in.byte()));
        break;
      case 6:
        arp.set_address(in.byte() % 4 == 0 ? ipv4_address::any() : address(in.byte()));
        break;
      case 7:
        netif.refuse = !netif.refuse;
        break;
    }
    const auto& cache = arp.cache();
    if (cache.size() > options.cache.capacity) fail();
    if (cache.pending_bytes() > options.cache.pending_bytes) fail();
    std::size_t pending = 0;
    cache.for_each([&](const uk::direct::arp_entry& e) {
      pending += e.pending;
      if (e.pending > options.cache.pending_per_address) fail();
      if (cache.find(e.ip) != &e) fail();
    });
    if (pending != cache.pending_packets()) fail();
  }
  return 0;
}
