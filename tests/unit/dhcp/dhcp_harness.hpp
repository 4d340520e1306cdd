// A DHCP client core on virtual time, and a test server that forges its
// replies: what the tests of uk::direct::dhcp_client are written with.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "uk/direct/dhcp_client.hpp"
#include "uk/wire/dhcp.hpp"

namespace dhcp_test {

using namespace std::chrono_literals;
namespace dhcp = uk::wire::dhcp;
using uk::instant;
using uk::ipv4_address;
using uk::mac_address;
using uk::direct::dhcp_state;

constexpr mac_address client_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x2a}};
constexpr mac_address other_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x77}};
constexpr ipv4_address server_ip = ipv4_address::from_octets(10, 0, 0, 1);
constexpr ipv4_address server2_ip = ipv4_address::from_octets(10, 0, 0, 254);
constexpr ipv4_address offered_ip = ipv4_address::from_octets(10, 0, 0, 100);
constexpr ipv4_address other_ip = ipv4_address::from_octets(10, 0, 0, 101);
constexpr ipv4_address dns_ip = ipv4_address::from_octets(10, 0, 0, 53);
constexpr instant boot = instant{} + 1000s;

/// What a test server puts in a reply.
struct reply_spec {
  dhcp::message_type type = dhcp::message_type::offer;
  std::uint32_t xid = 0;
  ipv4_address yiaddr = offered_ip;
  std::optional<ipv4_address> server = server_ip;
  std::optional<std::uint32_t> lease = 3600;
  std::optional<std::uint32_t> t1{};
  std::optional<std::uint32_t> t2{};
  std::optional<ipv4_address> mask = ipv4_address::from_octets(255, 255, 255, 0);
  std::optional<ipv4_address> router = server_ip;
  mac_address chaddr = client_mac;
  dhcp::opcode op = dhcp::opcode::boot_reply;
  bool with_type = true;
};

inline std::vector<std::byte> make_reply(const reply_spec& s) {
  dhcp::repr r;
  r.op = s.op;
  r.xid = s.xid;
  r.yiaddr = s.type == dhcp::message_type::nak ? ipv4_address{} : s.yiaddr;
  r.set_client_mac(s.chaddr);
  if (s.with_type) r.options.message_type = s.type;
  r.options.server_id = s.server;
  if (s.type != dhcp::message_type::nak) {
    r.options.lease_time = s.lease;
    r.options.renewal_time = s.t1;
    r.options.rebinding_time = s.t2;
    r.options.subnet_mask = s.mask;
    if (s.router) r.options.routers.push_back(*s.router);
    r.options.dns_servers.push_back(dns_ip);
  }
  std::vector<std::byte> out(r.length());
  dhcp::emit(r, out);
  return out;
}

/// One message the client sent.
struct sent_message {
  ipv4_address to{};
  instant at{};
  std::vector<std::byte> bytes;

  dhcp::view view() const { return *dhcp::parse(bytes); }
  dhcp::message_type type() const { return *view().options().message_type; }
};

/// The client, its outputs, and virtual time.
struct harness {
  instant now = boot;
  uk::direct::dhcp_client client;
  std::vector<sent_message> sent;
  std::vector<ipv4_address> probes;
  int changes = 0;
  bool refuse_sends = false;

  static uk::direct::dhcp_client_options default_options() {
    uk::direct::dhcp_client_options o;
    o.mac = client_mac;
    o.hostname = "uk-test";
    o.seed = 42;
    return o;
  }

  explicit harness(const uk::direct::dhcp_client_options& o = default_options()) : client(o) {
    client.set_send_handler(uk::direct::dhcp_client::send_handler::bind<&harness::on_send>(*this));
    client.set_probe_handler(uk::direct::dhcp_client::probe_handler::bind<&harness::on_probe>(*this));
    client.set_change_handler(uk::delegate<void()>::bind<&harness::on_change>(*this));
  }
  harness(const harness&) = delete;

  bool on_send(ipv4_address to, std::span<const std::byte> m) {
    if (refuse_sends) return false;
    sent.push_back({to, now, {m.begin(), m.end()}});
    return true;
  }
  void on_probe(ipv4_address a) { probes.push_back(a); }
  void on_change() { ++changes; }

  void start() { client.start(now); }
  /// Runs the client's timers up to `t` (each deadline at its exact time).
  void run_until(instant t) {
    for (instant next = client.poll(now); next <= t; next = client.poll(now)) now = next;
    now = t;
    client.poll(now);
  }
  void advance(uk::duration d) { run_until(now + d); }
  void receive(const reply_spec& s) { client.receive(make_reply(s), now); }
  const sent_message& last() const { return sent.back(); }

  /// From boot to BOUND on `offered_ip` with the reply spec's times.
  void acquire(reply_spec ack = {}) {
    start();
    receive({.type = dhcp::message_type::offer, .xid = client.xid()});
    ack.type = dhcp::message_type::ack;
    ack.xid = client.xid();
    receive(ack);
    advance(10s);  // the ARP probes of RFC 5227 2.1.1, and ANNOUNCE_WAIT
  }
};

}  // namespace dhcp_test
