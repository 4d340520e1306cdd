// uk::direct::arp over uk::direct::ethernet over uk::net::memory_link, on
// virtual time: our stack on end a, the test on end b acting as the peer
// host(s), building and checking exact frames with uk::wire.
#include "uk/direct/arp.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uk/direct/ethernet.hpp"
#include "uk/log.hpp"
#include "uk/net/memory_link.hpp"
#include "uk/wire/arp.hpp"
#include "uk/wire/ethernet.hpp"

namespace {

using namespace std::chrono_literals;
namespace arp_wire = uk::wire::arp;
namespace ethernet_wire = uk::wire::ethernet;
using uk::instant;
using uk::ipv4_address;
using uk::mac_address;
using eth_t = uk::direct::ethernet<uk::net::memory_link::end>;
using arp_t = uk::direct::arp<eth_t>;

static_assert(uk::arp_layer<arp_t>);

constexpr ipv4_address our_ip = ipv4_address::from_octets(10, 0, 0, 2);
constexpr ipv4_address peer_ip = ipv4_address::from_octets(10, 0, 0, 1);
constexpr ipv4_address dead_ip = ipv4_address::from_octets(10, 0, 0, 66);
constexpr mac_address zero_mac{};
constexpr mac_address other_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x77}};
constexpr std::uint16_t ipv4_type = ethernet_wire::ethertype::ipv4;
constexpr std::uint16_t arp_type = ethernet_wire::ethertype::arp;
constexpr instant start = instant{} + 100s;

ipv4_address host(std::uint8_t last) { return ipv4_address::from_octets(10, 0, 0, last); }
mac_address mac_of(std::uint8_t last) { return {{0x02, 0x00, 0x00, 0x00, 0x01, last}}; }

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out(text.size());
  std::transform(text.begin(), text.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
  return out;
}

/// An Ethernet frame carrying an ARP packet: 14 + 28 bytes, unpadded.
std::vector<std::byte> arp_frame(mac_address dst, mac_address src, const arp_wire::repr& packet) {
  std::vector<std::byte> frame(ethernet_wire::header_length + arp_wire::packet_length);
  ethernet_wire::emit({dst, src, arp_type, std::nullopt}, frame);
  arp_wire::emit(packet, std::span(frame).subspan(ethernet_wire::header_length));
  return frame;
}

std::vector<std::byte> ip_frame(mac_address dst, mac_address src, std::string_view payload) {
  std::vector<std::byte> frame(ethernet_wire::header_length + payload.size());
  ethernet_wire::emit({dst, src, ipv4_type, std::nullopt}, frame);
  const auto p = bytes_of(payload);
  std::copy(p.begin(), p.end(), frame.begin() + ethernet_wire::header_length);
  return frame;
}

arp_wire::repr request(mac_address sender_mac, ipv4_address sender_ip, ipv4_address target) {
  return arp_wire::repr::request(sender_mac, sender_ip, target);
}
arp_wire::repr reply(mac_address sender_mac, ipv4_address sender_ip, mac_address target_mac, ipv4_address target) {
  return {arp_wire::operation::reply, sender_mac, sender_ip, target_mac, target};
}

struct captured {
  instant at;
  std::vector<std::byte> bytes;
};

/// The ARP packet in a captured frame, if it is one.
std::optional<arp_wire::repr> arp_in(const captured& c) {
  const auto frame = ethernet_wire::parse(c.bytes);
  if (!frame || frame->ethertype() != arp_type) return std::nullopt;
  const auto packet = arp_wire::parse(frame->payload());
  if (!packet) return std::nullopt;
  return arp_wire::repr::from(*packet);
}

mac_address destination_of(const captured& c) { return ethernet_wire::parse(c.bytes)->dst(); }

uk::direct::arp_options quiet_options() {
  uk::direct::arp_options o;
  o.announcements = 0;  // most tests look at the frames that follow, not at the announcement
  return o;
}

uk::net::memory_link_options link_options(std::size_t queue_limit = 128) {
  uk::net::memory_link_options o;
  o.start = start;
  o.transmit_queue_limit = queue_limit;
  return o;
}

/// Our ethernet + arp on end a (address our_ip unless told otherwise); the
/// test is the peer on end b and sees every frame we send in `wire`.
struct harness {
  uk::net::memory_link link;
  eth_t eth;
  arp_t arp;
  std::vector<captured> wire;

  explicit harness(const uk::direct::arp_options& options = quiet_options(),
                   std::optional<ipv4_address> address = our_ip,
                   const uk::net::memory_link_options& lo = link_options())
      : link(lo), eth(link.a()), arp(eth, link.clock(), options) {
    link.b().set_receiver(uk::frame_handler::bind<&harness::on_peer>(*this));
    if (address) arp.set_address(*address);
    link.deliver();
  }

  mac_address our_mac() const { return const_cast<harness*>(this)->link.a().mac(); }
  mac_address peer_mac() const { return const_cast<harness*>(this)->link.b().mac(); }
  instant now() const { return link.now(); }

  void on_peer(uk::frame f) { wire.push_back({link.now(), {f.begin(), f.end()}}); }

  /// The peer sends a frame; our stack handles it (and whatever it answers reaches the peer).
  void peer_sends(const std::vector<std::byte>& frame) {
    auto copy = [&](std::span<std::byte> out) {
      std::copy(frame.begin(), frame.end(), out.begin());
      return frame.size();
    };
    REQUIRE(link.b().transmit(frame.size(), uk::frame_filler(copy)));
    link.deliver();
  }

  /// What the IPv4 layer would do: send a datagram (here, text) to `ip`.
  bool send_ip(ipv4_address ip, std::string_view text, bool deliver = true) {
    auto fill = [&](std::span<std::byte> out) {
      std::transform(text.begin(), text.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
      return text.size();
    };
    const bool ok = arp.transmit(ip, ipv4_type, text.size(), uk::frame_filler(fill));
    if (deliver) link.deliver();
    return ok;
  }

  /// Runs the stack as the runtime would until `t`: poll at every deadline
  /// arp returns, delivering frames as they are sent.
  void run_until(instant t) {
    for (int guard = 0; guard < 100000; ++guard) {
      const instant next = arp.poll(link.now());
      link.deliver();
      if (next > t) break;
      link.advance_to(next);
    }
    link.advance_to(t);
    arp.poll(t);
    link.deliver();
  }
  void run_for(uk::duration d) { run_until(link.now() + d); }

  /// The peer resolves us and we learn the peer: a request for our address.
  void learn_peer() {
    peer_sends(arp_frame(mac_address::broadcast(), peer_mac(), request(peer_mac(), peer_ip, our_ip)));
    REQUIRE(arp.lookup(peer_ip) == peer_mac());
    wire.clear();
  }

  std::vector<captured> arp_frames() const {
    std::vector<captured> out;
    for (const auto& c : wire)
      if (arp_in(c)) out.push_back(c);
    return out;
  }
};

// Log capture, to check what is logged at warning.
std::vector<std::string>* log_lines = nullptr;
void capture_line(std::string_view line) {
  if (log_lines) log_lines->emplace_back(line);
}

}  // namespace

// ---- RFC 5227: announcing our address ----

TEST_CASE("RFC 5227 2.3: setting an address broadcasts ANNOUNCE_NUM ARP Announcements ANNOUNCE_INTERVAL apart",
          "[direct][arp]") {
  harness h(uk::direct::arp_options{}, std::nullopt);
  CHECK(h.wire.empty());
  h.arp.set_address(our_ip);
  h.link.deliver();
  REQUIRE(h.wire.size() == 1);
  // The exact frame: broadcast, ARP; a request (RFC 5227 3) whose sender and
  // target IP are both ours, target hardware address zero (2.1.1, 2.3).
  const std::vector<std::uint8_t> expected = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // destination: broadcast
      0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,  // source: our MAC
      0x08, 0x06,                          // ARP
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04,  // Ethernet, IPv4, 6, 4
      0x00, 0x01,                          // request
      0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,  // sender MAC: ours
      10,   0,    0,    2,                 // sender IP: ours
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // target MAC: zero
      10,   0,    0,    2,                 // target IP: ours
  };
  REQUIRE(h.wire[0].bytes.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(std::to_integer<std::uint8_t>(h.wire[0].bytes[i]) == expected[i]);
  CHECK(h.wire[0].at == start);

  h.run_for(30s);
  REQUIRE(h.wire.size() == 2);  // ANNOUNCE_NUM = 2
  CHECK(h.wire[1].at == start + 2s);
  CHECK(h.wire[1].bytes == h.wire[0].bytes);
  CHECK(h.arp.counters().gratuitous_out == 2);
  CHECK(h.arp.counters().requests_out == 2);
  CHECK(h.arp.poll(h.now()) == uk::never);
}

TEST_CASE("RFC 5227 2.3: announcements are an option; Mirage sends one", "[direct][arp]") {
  uk::direct::arp_options o;
  o.announcements = 1;
  harness h(o);
  h.run_for(10s);
  CHECK(h.wire.size() == 1);
}

TEST_CASE("ARP: with no address (0.0.0.0) nothing is announced and no request is answered", "[direct][arp]") {
  harness h(uk::direct::arp_options{}, ipv4_address::any());
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, ipv4_address::any())));
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, our_ip)));
  h.run_for(10s);
  CHECK(h.wire.empty());
  CHECK(h.arp.counters().replies_out == 0);
  CHECK(h.arp.counters().rx_ignored_not_for_us == 2);

  SECTION("and configuring an address later starts answering") {
    h.arp.set_address(our_ip);
    h.link.deliver();
    h.wire.clear();
    h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, our_ip)));
    CHECK(h.arp_frames().size() == 1);
  }
  SECTION("and unconfiguring it again stops the announcements") {
    h.arp.set_address(our_ip);
    h.arp.set_address(ipv4_address::any());
    h.link.deliver();
    h.wire.clear();
    h.run_for(10s);
    CHECK(h.wire.empty());
  }
}

// ---- RFC 826 Packet Reception ----

TEST_CASE("RFC 826: a request for our address is answered with our MAC, swapped fields, to the requester",
          "[direct][arp]") {
  harness h;
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, our_ip)));
  REQUIRE(h.wire.size() == 1);
  const std::vector<std::uint8_t> expected = {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,  // destination: the requester
      0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,  // source: us
      0x08, 0x06,                          // ARP
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04,  // Ethernet, IPv4, 6, 4
      0x00, 0x02,                          // reply
      0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,  // sender MAC: ours
      10,   0,    0,    2,                 // sender IP: ours
      0x02, 0x00, 0x00, 0x00, 0x00, 0x0b,  // target MAC: the requester's
      10,   0,    0,    1,                 // target IP: the requester's
  };
  REQUIRE(h.wire[0].bytes.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(std::to_integer<std::uint8_t>(h.wire[0].bytes[i]) == expected[i]);
  // "If Merge_flag is false, add the triplet": we learnt the requester.
  CHECK(h.arp.lookup(peer_ip) == h.peer_mac());
  CHECK(h.arp.counters().requests_in == 1);
  CHECK(h.arp.counters().replies_out == 1);
  // So answering it needs no request of our own.
  h.wire.clear();
  CHECK(h.send_ip(peer_ip, "echo reply"));
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes == ip_frame(h.peer_mac(), h.our_mac(), "echo reply"));
}

TEST_CASE("RFC 826: a request padded to the 60-byte minimum frame (Linux) is answered all the same",
          "[direct][arp]") {
  harness h;
  auto frame = arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, our_ip));
  frame.resize(ethernet_wire::min_frame_length);
  h.peer_sends(frame);
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes ==
        arp_frame(h.peer_mac(), h.our_mac(), reply(h.our_mac(), our_ip, h.peer_mac(), peer_ip)));
}

TEST_CASE("RFC 826: a request for another address is not answered and creates no entry (ARP-flood protection)",
          "[direct][arp]") {
  harness h;
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, host(3))));
  // Nor does a gratuitous ARP from a host we do not know.
  h.peer_sends(arp_frame(mac_address::broadcast(), other_mac, request(other_mac, host(4), host(4))));
  // Nor a flood of requests between other hosts.
  for (std::uint8_t i = 10; i < 210; ++i)
    h.peer_sends(arp_frame(mac_address::broadcast(), mac_of(i), request(mac_of(i), host(i), host(3))));
  CHECK(h.wire.empty());
  CHECK(h.arp.cache().size() == 0);
  CHECK_FALSE(h.arp.lookup(peer_ip));
  CHECK(h.arp.counters().rx_ignored_not_for_us == 202);
  CHECK(h.arp.counters().requests_in == 202);
}

TEST_CASE("RFC 826: a reply for us that we did not ask for is added (the target is us)", "[direct][arp]") {
  harness h;
  h.peer_sends(arp_frame(h.our_mac(), h.peer_mac(), reply(h.peer_mac(), peer_ip, h.our_mac(), our_ip)));
  CHECK(h.arp.lookup(peer_ip) == h.peer_mac());
  CHECK(h.arp.counters().replies_in == 1);
  CHECK(h.wire.empty());
}

TEST_CASE("RFC 826: Merge_flag: a known host's new MAC is taken from any ARP packet it sends", "[direct][arp]") {
  harness h;
  h.learn_peer();
  SECTION("a request for another host") {
    h.peer_sends(arp_frame(mac_address::broadcast(), other_mac, request(other_mac, peer_ip, host(3))));
  }
  SECTION("its gratuitous ARP") {
    h.peer_sends(arp_frame(mac_address::broadcast(), other_mac, request(other_mac, peer_ip, peer_ip)));
  }
  SECTION("a reply to someone else") {
    // (broadcast: RFC 5227 1.2.1 allows broadcast replies)
    h.peer_sends(arp_frame(mac_address::broadcast(), other_mac, reply(other_mac, peer_ip, mac_of(5), host(5))));
  }
  CHECK(h.arp.lookup(peer_ip) == other_mac);
  CHECK(h.wire.empty());
  CHECK(h.arp.cache().find(peer_ip)->confirmed == h.now());
  h.send_ip(peer_ip, "to the new MAC");
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes == ip_frame(other_mac, h.our_mac(), "to the new MAC"));
}

TEST_CASE("ARP: a static entry is never overwritten by ARP", "[direct][arp]") {
  harness h;
  h.arp.add_static(peer_ip, other_mac);
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, our_ip)));
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, host(3))));
  CHECK(h.arp.lookup(peer_ip) == other_mac);
  CHECK(h.arp.counters().static_protected == 2);
  // The request for us is still answered, to the MAC that asked (RFC 826).
  REQUIRE(h.wire.size() == 1);
  CHECK(destination_of(h.wire[0]) == h.peer_mac());
  h.wire.clear();
  h.run_for(2h);  // never aged
  CHECK(h.arp.lookup(peer_ip) == other_mac);
  CHECK(h.send_ip(peer_ip, "static"));
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes == ip_frame(other_mac, h.our_mac(), "static"));
}

TEST_CASE("ARP: a static entry added while resolving sends the queued packets", "[direct][arp]") {
  harness h;
  h.send_ip(peer_ip, "waiting");
  h.wire.clear();
  h.arp.add_static(peer_ip, other_mac);
  h.link.deliver();
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes == ip_frame(other_mac, h.our_mac(), "waiting"));
  h.run_for(10s);
  CHECK(h.wire.size() == 1);  // no retries
}

// ---- resolution ----

TEST_CASE("RFC 826: an unresolved address is asked for by broadcast; the reply flushes the queue in order",
          "[direct][arp]") {
  harness h;
  CHECK(h.send_ip(peer_ip, "datagram 1"));
  CHECK(h.send_ip(peer_ip, "datagram 2"));
  CHECK(h.send_ip(peer_ip, "datagram 3"));
  // One request, whatever the number of packets: "who has 10.0.0.1? tell 10.0.0.2".
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes ==
        arp_frame(mac_address::broadcast(), h.our_mac(), request(h.our_mac(), our_ip, peer_ip)));
  CHECK(arp_in(h.wire[0])->target_mac == zero_mac);
  CHECK(h.arp.counters().pending_queued == 3);
  h.wire.clear();

  h.peer_sends(arp_frame(h.our_mac(), h.peer_mac(), reply(h.peer_mac(), peer_ip, h.our_mac(), our_ip)));
  REQUIRE(h.wire.size() == 3);
  CHECK(h.wire[0].bytes == ip_frame(h.peer_mac(), h.our_mac(), "datagram 1"));
  CHECK(h.wire[1].bytes == ip_frame(h.peer_mac(), h.our_mac(), "datagram 2"));
  CHECK(h.wire[2].bytes == ip_frame(h.peer_mac(), h.our_mac(), "datagram 3"));
  CHECK(h.arp.counters().pending_flushed == 3);
  CHECK(h.arp.cache().pending_bytes() == 0);
  CHECK(h.arp.lookup(peer_ip) == h.peer_mac());

  // Resolved: the next packet goes straight out, a cache hit; no more requests.
  h.wire.clear();
  CHECK(h.send_ip(peer_ip, "datagram 4"));
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes == ip_frame(h.peer_mac(), h.our_mac(), "datagram 4"));
  CHECK(h.arp.counters().cache_hits == 1);
  h.run_for(30s);
  CHECK(h.wire.size() == 1);
}

TEST_CASE("RFC 826: a resolving host's request to someone else resolves it too (merge)", "[direct][arp]") {
  harness h;
  h.send_ip(peer_ip, "queued");
  h.wire.clear();
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, host(3))));
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes == ip_frame(h.peer_mac(), h.our_mac(), "queued"));
}

TEST_CASE("ARP: requests are retried after 1 s and 2 s more, then the resolution fails and the queue is dropped",
          "[direct][arp]") {
  harness h;
  CHECK(h.send_ip(dead_ip, "one"));
  CHECK(h.send_ip(dead_ip, "two"));
  h.run_for(20s);
  const auto requests = h.arp_frames();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].at == start);
  CHECK(requests[1].at == start + 1s);
  CHECK(requests[2].at == start + 3s);
  for (const auto& r : requests) {
    CHECK(r.bytes == arp_frame(mac_address::broadcast(), h.our_mac(), request(h.our_mac(), our_ip, dead_ip)));
  }
  CHECK(h.wire.size() == 3);  // no datagram ever left
  const auto c = h.arp.counters();
  CHECK(c.requests_out == 3);
  CHECK(c.resolution_failures == 1);
  CHECK(c.pending_dropped_failed == 2);
  CHECK(h.arp.cache().pending_bytes() == 0);
}

TEST_CASE("ARP: the give-up happens 4 s after the third request, then sends fail at once for failed_hold",
          "[direct][arp]") {
  harness h;
  h.send_ip(dead_ip, "one");
  h.run_until(start + 7s - 1ns);
  CHECK(h.arp.cache().find(dead_ip)->state == uk::direct::arp_state::incomplete);
  CHECK(h.arp.counters().pending_dropped_failed == 0);
  h.run_until(start + 7s);
  CHECK(h.arp.cache().find(dead_ip)->state == uk::direct::arp_state::failed);
  CHECK(h.arp.counters().pending_dropped_failed == 1);
  h.wire.clear();
  h.run_until(start + 7500ms);
  CHECK_FALSE(h.send_ip(dead_ip, "refused at once"));
  CHECK(h.wire.empty());
  CHECK(h.arp.counters().tx_dropped_failed == 1);
  h.run_until(start + 8s);  // failed_hold: forgotten
  CHECK(h.arp.cache().find(dead_ip) == nullptr);
  CHECK(h.send_ip(dead_ip, "tries again"));
  REQUIRE(h.arp_frames().size() == 1);
  CHECK(h.arp_frames()[0].at == start + 8s);
}

TEST_CASE("RFC 1122 2.3.2.1: a flood of sends to a dead host sends at most one request per second",
          "[direct][arp]") {
  uk::direct::arp_options o = quiet_options();
  o.cache.pending_per_address = 100;  // so that only the failed state refuses
  harness h(o);
  std::size_t accepted = 0, refused = 0;
  for (int k = 0; k < 300; ++k) {  // every 100 ms for 30 s
    h.run_until(start + k * 100ms);
    (h.send_ip(dead_ip, "flood") ? accepted : refused) += 1;
  }
  const auto requests = h.arp_frames();
  for (std::size_t i = 1; i < requests.size(); ++i) CHECK(requests[i].at - requests[i - 1].at >= 1s);
  // Cycles of 8 s: requests at 0, 1, 3; give-up at 7; failed until 8.
  REQUIRE(requests.size() == 12);
  const std::vector<uk::duration> at = {0s, 1s, 3s, 8s, 9s, 11s, 16s, 17s, 19s, 24s, 25s, 27s};
  for (std::size_t i = 0; i < at.size(); ++i) CHECK(requests[i].at - start == at[i]);
  // Refused while failed: 7.0 (the poll at 7.0 comes first) to 7.9, 15.x and 23.x.
  CHECK(refused == 30);
  CHECK(accepted == 270);
  CHECK(h.arp.counters().resolution_failures == 3);
}

// ---- ageing ----

TEST_CASE("RFC 1122 2.3.2.1: after reachable_time an entry in use is re-resolved by unicast poll, without a gap",
          "[direct][arp]") {
  harness h;
  h.learn_peer();  // confirmed at start
  h.run_until(start + 60s);
  CHECK(h.arp.cache().find(peer_ip)->state == uk::direct::arp_state::stale);
  CHECK(h.wire.empty());  // nothing is sent for an entry nobody uses

  h.run_until(start + 65s);
  CHECK(h.send_ip(peer_ip, "still flowing"));
  // The packet goes out at once to the known MAC, and the host is polled point to point.
  REQUIRE(h.wire.size() == 2);
  CHECK(h.wire[0].bytes == ip_frame(h.peer_mac(), h.our_mac(), "still flowing"));
  CHECK(h.wire[1].bytes == arp_frame(h.peer_mac(), h.our_mac(), request(h.our_mac(), our_ip, peer_ip)));
  h.wire.clear();

  SECTION("the host answers: reachable again, for another reachable_time") {
    h.peer_sends(arp_frame(h.our_mac(), h.peer_mac(), reply(h.peer_mac(), peer_ip, h.our_mac(), our_ip)));
    CHECK(h.arp.cache().find(peer_ip)->state == uk::direct::arp_state::reachable);
    h.run_until(start + 124s);
    CHECK(h.send_ip(peer_ip, "more"));
    CHECK(h.wire.size() == 1);
    CHECK(h.arp_frames().empty());
  }
  SECTION("the host is gone: polled again at +1 s and +3 s, then forgotten; the next send broadcasts") {
    for (int k = 1; k <= 40; ++k) {  // keeps sending meanwhile, every 100 ms
      h.run_until(start + 65s + k * 100ms);
      h.send_ip(peer_ip, "still flowing");
    }
    h.run_until(start + 72s);
    const auto polls = h.arp_frames();
    REQUIRE(polls.size() == 2);
    CHECK(polls[0].at == start + 66s);
    CHECK(polls[1].at == start + 68s);
    CHECK(destination_of(polls[0]) == h.peer_mac());
    CHECK(destination_of(polls[1]) == h.peer_mac());
    CHECK(h.wire.size() == 40 + 2);  // the packets kept flowing during the poll
    CHECK(h.arp.cache().find(peer_ip) == nullptr);
    CHECK(h.arp.counters().probe_failures == 1);
    h.wire.clear();
    CHECK(h.send_ip(peer_ip, "after"));
    REQUIRE(h.wire.size() == 1);
    CHECK(h.wire[0].bytes ==
          arp_frame(mac_address::broadcast(), h.our_mac(), request(h.our_mac(), our_ip, peer_ip)));
  }
}

TEST_CASE("ARP: a stale entry nobody uses is forgotten after stale_timeout", "[direct][arp]") {
  uk::direct::arp_options o = quiet_options();
  o.cache.stale_timeout = 5min;
  harness h(o);
  h.learn_peer();
  h.run_until(start + 5min);
  CHECK_FALSE(h.arp.lookup(peer_ip));
  CHECK(h.arp.counters().expired == 1);
  CHECK(h.wire.empty());
}

// ---- bounds ----

TEST_CASE("ARP: the cache is bounded; learning a host when full evicts the least recently used", "[direct][arp]") {
  uk::direct::arp_options o = quiet_options();
  o.cache.capacity = 4;
  harness h(o);
  h.learn_peer();
  h.send_ip(peer_ip, "in use");  // the peer is the one we talk to
  for (std::uint8_t i = 10; i < 20; ++i) {
    h.peer_sends(arp_frame(mac_address::broadcast(), mac_of(i), request(mac_of(i), host(i), our_ip)));
    REQUIRE(h.arp.cache().size() <= 4);
  }
  CHECK(h.arp.counters().replies_out == 11);
  CHECK(h.arp.counters().evictions == 7);
  CHECK(h.arp.lookup(peer_ip) == h.peer_mac());  // used by us: kept
  CHECK(h.arp.lookup(host(19)) == mac_of(19));   // the newest
  // Learnt entries enter at the cold end: each new one evicted the one before.
  CHECK(h.arp.lookup(host(10)) == mac_of(10));
  CHECK(h.arp.lookup(host(11)) == mac_of(11));
  for (std::uint8_t i = 12; i < 19; ++i) CHECK_FALSE(h.arp.lookup(host(i)));
}

TEST_CASE("RFC 1122 2.3.2.2: packets awaiting resolution are bounded per address and in total", "[direct][arp]") {
  uk::direct::arp_options o = quiet_options();
  o.cache.pending_per_address = 2;
  o.cache.pending_bytes = 3 * (uk::direct::arp_cache::record_header + 6);
  harness h(o);
  CHECK(h.send_ip(host(5), "five-1"));
  CHECK(h.send_ip(host(5), "five-2"));
  CHECK_FALSE(h.send_ip(host(5), "five-3"));  // per address
  CHECK(h.send_ip(host(6), "six--1"));
  CHECK_FALSE(h.send_ip(host(6), "six--2"));  // in total
  auto c = h.arp.counters();
  CHECK(c.pending_dropped_address_full == 1);
  CHECK(c.pending_dropped_total_full == 1);
  CHECK(c.pending_queued == 3);
  CHECK(h.arp.cache().pending_bytes() == o.cache.pending_bytes);
  h.wire.clear();
  h.peer_sends(arp_frame(h.our_mac(), mac_of(5), reply(mac_of(5), host(5), h.our_mac(), our_ip)));
  REQUIRE(h.wire.size() == 2);  // the first two, in order
  CHECK(h.wire[0].bytes == ip_frame(mac_of(5), h.our_mac(), "five-1"));
  CHECK(h.wire[1].bytes == ip_frame(mac_of(5), h.our_mac(), "five-2"));
  CHECK(h.send_ip(host(6), "six--2"));  // room again
}

// ---- RFC 5227 conflicts and probes ----

TEST_CASE("RFC 5227 2.4: another host using our address is a conflict: counted, logged at warning, defended",
          "[direct][arp]") {
  std::vector<std::string> lines;
  log_lines = &lines;
  uk::log::set_sink(&capture_line);
  harness h;
  const auto claim = arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), our_ip, our_ip));
  h.peer_sends(claim);
  uk::log::set_sink(nullptr);
  log_lines = nullptr;

  CHECK(h.arp.counters().conflicts == 1);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("warn  arp: address conflict") != std::string::npos);
  CHECK(lines[0].find("02:00:00:00:00:0b") != std::string::npos);
  CHECK_FALSE(h.arp.lookup(our_ip));  // never merged
  // 2.4 (c): one defending announcement.
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes ==
        arp_frame(mac_address::broadcast(), h.our_mac(), request(h.our_mac(), our_ip, our_ip)));
  CHECK(h.arp.counters().defences == 1);

  // "MUST NOT send more than one defensive ARP Announcement per DEFEND_INTERVAL" (10 s).
  uk::log::set_level(uk::log::source::arp, uk::log::level::error);
  h.run_until(start + 9s);
  h.peer_sends(claim);
  CHECK(h.arp.counters().conflicts == 2);
  CHECK(h.wire.size() == 1);
  h.run_until(start + 10s);
  h.peer_sends(claim);
  CHECK(h.wire.size() == 2);
  CHECK(h.arp.counters().defences == 2);
  uk::log::set_level(uk::log::source::arp, uk::log::level::info);
}

TEST_CASE("RFC 5227 2.4: a conflicting reply is a conflict too, and our own looped packet is not",
          "[direct][arp]") {
  uk::log::set_level(uk::log::source::arp, uk::log::level::error);
  harness h;
  h.peer_sends(arp_frame(h.our_mac(), h.peer_mac(), reply(h.peer_mac(), our_ip, h.our_mac(), our_ip)));
  CHECK(h.arp.counters().conflicts == 1);
  h.peer_sends(arp_frame(mac_address::broadcast(), h.our_mac(), request(h.our_mac(), our_ip, our_ip)));
  CHECK(h.arp.counters().conflicts == 1);
  CHECK(h.arp.counters().rx_dropped_looped == 1);
  uk::log::set_level(uk::log::source::arp, uk::log::level::info);
}

TEST_CASE("RFC 5227 2.1.1: an ARP Probe for our address (sender IP 0) is answered and not cached", "[direct][arp]") {
  harness h;
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), ipv4_address::any(), our_ip)));
  REQUIRE(h.wire.size() == 1);
  CHECK(h.wire[0].bytes ==
        arp_frame(h.peer_mac(), h.our_mac(), reply(h.our_mac(), our_ip, h.peer_mac(), ipv4_address::any())));
  CHECK(h.arp.cache().size() == 0);
  // A probe for another address is none of our business.
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), ipv4_address::any(), host(3))));
  CHECK(h.wire.size() == 1);
  CHECK(h.arp.cache().size() == 0);
}

// ---- bad packets ----

TEST_CASE("ARP: a broadcast or multicast sender MAC is dropped and counted", "[direct][arp]") {
  harness h;
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(mac_address::broadcast(), peer_ip, our_ip)));
  const mac_address group{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(group, peer_ip, our_ip)));
  CHECK(h.arp.counters().rx_dropped_bad_sender_mac == 2);
  CHECK(h.wire.empty());
  CHECK(h.arp.cache().size() == 0);
}

TEST_CASE("ARP: a broadcast or multicast sender address is dropped and counted", "[direct][arp]") {
  harness h;
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), ipv4_address::broadcast(), our_ip)));
  h.peer_sends(arp_frame(mac_address::broadcast(), h.peer_mac(),
                         request(h.peer_mac(), ipv4_address::from_octets(224, 0, 0, 1), our_ip)));
  CHECK(h.arp.counters().rx_dropped_bad_sender_ip == 2);
  CHECK(h.wire.empty());
  CHECK(h.arp.cache().size() == 0);
}

TEST_CASE("RFC 826: malformed or foreign ARP packets are dropped and counted", "[direct][arp]") {
  harness h;
  auto good = arp_frame(mac_address::broadcast(), h.peer_mac(), request(h.peer_mac(), peer_ip, our_ip));
  SECTION("truncated") {
    good.resize(14 + 20);
    h.peer_sends(good);
    CHECK(h.arp.counters().rx_dropped_truncated == 1);
  }
  SECTION("another hardware type (IEEE 802: 6)") {
    good[14 + 1] = std::byte{6};
    h.peer_sends(good);
    CHECK(h.arp.counters().rx_dropped_unsupported == 1);
  }
  SECTION("another protocol type") {
    good[14 + 2] = std::byte{0x86};
    good[14 + 3] = std::byte{0xdd};
    h.peer_sends(good);
    CHECK(h.arp.counters().rx_dropped_unsupported == 1);
  }
  SECTION("a RARP request (RFC 903, opcode 3)") {
    good[14 + 7] = std::byte{3};
    h.peer_sends(good);
    CHECK(h.arp.counters().rx_dropped_unsupported == 1);
  }
  CHECK(h.wire.empty());
  CHECK(h.arp.counters().requests_in == 0);
  CHECK(h.arp.cache().size() == 0);
}

// ---- transmit special cases ----

TEST_CASE("RFC 894 and RFC 1112 6.4: broadcast and multicast destinations need no ARP", "[direct][arp]") {
  harness h;
  CHECK(h.send_ip(ipv4_address::broadcast(), "to all"));
  CHECK(h.send_ip(ipv4_address::from_octets(224, 0, 0, 251), "mdns"));
  CHECK(h.send_ip(ipv4_address::from_octets(239, 129, 2, 3), "group"));  // the 24th bit is not mapped
  REQUIRE(h.wire.size() == 3);
  CHECK(destination_of(h.wire[0]) == mac_address::broadcast());
  CHECK(destination_of(h.wire[1]) == mac_address{{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}});
  CHECK(destination_of(h.wire[2]) == mac_address{{0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}});
  CHECK(h.arp.cache().size() == 0);
}

TEST_CASE("ARP: a send to 0.0.0.0 is dropped and counted", "[direct][arp]") {
  harness h;
  CHECK_FALSE(h.send_ip(ipv4_address::any(), "nowhere"));
  CHECK(h.arp.counters().tx_dropped_bad_address == 1);
  CHECK(h.wire.empty());
}

TEST_CASE("ARP: a request the device refuses is counted, and retried on schedule", "[direct][arp]") {
  harness h(quiet_options(), our_ip, link_options(1));
  CHECK(h.send_ip(host(5), "a", /*deliver=*/false));  // its request fills the device queue
  CHECK(h.send_ip(host(6), "b", /*deliver=*/false));  // its request is refused; the packet waits
  CHECK(h.arp.counters().tx_dropped_refused == 1);
  CHECK(h.arp.counters().requests_out == 1);
  h.link.deliver();
  h.peer_sends(arp_frame(h.our_mac(), mac_of(5), reply(mac_of(5), host(5), h.our_mac(), our_ip)));
  CHECK(h.wire.back().bytes == ip_frame(mac_of(5), h.our_mac(), "a"));
  h.run_until(start + 1s);  // host 6's second try
  CHECK(h.arp.counters().requests_out == 2);
  CHECK(h.arp_frames().back().at == start + 1s);
  h.peer_sends(arp_frame(h.our_mac(), mac_of(6), reply(mac_of(6), host(6), h.our_mac(), our_ip)));
  CHECK(h.wire.back().bytes == ip_frame(mac_of(6), h.our_mac(), "b"));
}

TEST_CASE("ARP: poll returns the earliest deadline, and never when idle", "[direct][arp]") {
  harness h;
  CHECK(h.arp.poll(h.now()) == uk::never);
  h.learn_peer();
  CHECK(h.arp.poll(h.now()) == start + 60s);
  h.send_ip(dead_ip, "x");
  CHECK(h.arp.poll(h.now()) == start + 1s);
}
