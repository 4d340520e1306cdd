// libFuzzer target for uk/direct/dhcp_client.hpp: arbitrary server messages
// fed to a DHCP client in each state. The first byte picks the state the
// client is driven into by a well-behaved server (SELECTING, REQUESTING,
// CHECKING, BOUND, RENEWING, REBINDING, REBOOTING); the rest is a script:
//   0 LEN(2) BYTES   a raw UDP payload
//   1 LEN(2) BYTES   the same, patched to pass the first checks (op reply,
//                    our xid, our chaddr, the magic cookie), to reach the
//                    option handling and the state machine
//   2 SECS(2)        virtual time passes; poll()
//   3                an ARP conflict for the address being checked
//   4                release()
// After every event: poll() never asks to be woken in the past; a lease
// exists exactly in BOUND, RENEWING and REBINDING, its address can be a
// host's and its times are ordered; every message the client sends parses
// as a BOOTREQUEST with a message type and fits 576 octets. The client's
// memory is fixed at construction, so it cannot grow.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "uk/direct/dhcp_client.hpp"
#include "uk/log.hpp"
#include "uk/wire/dhcp.hpp"

namespace {

using namespace std::chrono_literals;
namespace dhcp = uk::wire::dhcp;
using uk::instant;
using uk::ipv4_address;
using uk::direct::dhcp_state;

constexpr uk::mac_address our_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x2a}};
constexpr ipv4_address server_ip = ipv4_address::from_octets(10, 0, 0, 1);
constexpr ipv4_address offered_ip = ipv4_address::from_octets(10, 0, 0, 100);

[[noreturn]] void fail() { std::abort(); }

struct driver {
  instant now = instant{} + 1000s;
  uk::direct::dhcp_client client;

  static uk::direct::dhcp_client_options options(bool reboot) {
    uk::direct::dhcp_client_options o;
    o.mac = our_mac;
    o.hostname = "fuzz";
    o.seed = 7;
    if (reboot) o.remembered = offered_ip;
    return o;
  }
  explicit driver(bool reboot) : client(options(reboot)) {
    client.set_send_handler(uk::direct::dhcp_client::send_handler::bind<&driver::on_send>(*this));
  }

  bool on_send(ipv4_address, std::span<const std::byte> m) {
    if (m.size() > dhcp::default_max_message_length) fail();
    const auto v = dhcp::parse(m);
    if (!v || v->op() != dhcp::opcode::boot_request || !v->options().message_type) fail();
    return true;
  }

  void reply(dhcp::message_type type, std::uint32_t lease = 3600) {
    dhcp::repr r;
    r.op = dhcp::opcode::boot_reply;
    r.xid = client.xid();
    r.yiaddr = offered_ip;
    r.set_client_mac(our_mac);
    r.options.message_type = type;
    r.options.server_id = server_ip;
    r.options.lease_time = lease;
    r.options.subnet_mask = ipv4_address::from_octets(255, 255, 255, 0);
    r.options.routers.push_back(server_ip);
    std::vector<std::byte> m(r.length());
    dhcp::emit(r, m);
    client.receive(m, now);
  }

  void advance(uk::duration d) {
    const instant until = now + d;
    for (instant next = client.poll(now); next <= until; next = client.poll(now)) now = next;
    now = until;
    check(client.poll(now));
  }

  void check(instant next) const {
    if (next <= now) fail();
    const auto s = client.state();
    const bool leased = s == dhcp_state::bound || s == dhcp_state::renewing || s == dhcp_state::rebinding;
    if (leased != client.lease().has_value()) fail();
    if (const auto& l = client.lease()) {
      if (uk::direct::invalid_host_address(l->address.address)) fail();
      if (l->address.length == 0 || l->address.length > 32) fail();
      if (!(l->renew_at <= l->rebind_at && l->rebind_at <= l->expires_at)) fail();
    }
  }

  /// Drives the client into the state `which` picks, with a polite server.
  void enter(std::uint8_t which) {
    client.start(now);
    switch (which % 7) {
      case 0: return;  // SELECTING
      case 6: return;  // REBOOTING (remembered address)
      default: break;
    }
    reply(dhcp::message_type::offer);
    if (which % 7 == 1) return;  // REQUESTING
    reply(dhcp::message_type::ack);
    if (which % 7 == 2) return;  // CHECKING
    advance(10s);
    if (which % 7 == 3) return;  // BOUND
    advance(1800s);
    if (which % 7 == 4) return;  // RENEWING
    advance(1400s);              // REBINDING
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (auto s : uk::log::all_sources) uk::log::set_level(s, uk::log::level::quiet);
  if (size == 0) return 0;
  driver d(data[0] % 7 == 6);
  d.enter(data[0]);
  std::size_t at = 1;
  auto u16 = [&]() -> std::size_t {
    if (size - at < 2) return 0;
    const std::size_t v = std::size_t{data[at]} << 8 | data[at + 1];
    at += 2;
    return v;
  };
  while (at < size) {
    const std::uint8_t kind = data[at++] % 5;
    switch (kind) {
      case 0:
      case 1: {
        const std::size_t length = std::min(u16(), size - at);
        std::vector<std::byte> m(length);
        std::transform(data + at, data + at + length, m.begin(), [](std::uint8_t b) { return std::byte{b}; });
        at += length;
        if (kind == 1 && m.size() >= dhcp::options_offset) {
          m[dhcp::field::op] = std::byte{2};
          m[dhcp::field::htype] = std::byte{1};
          m[dhcp::field::hlen] = std::byte{6};
          const std::uint32_t xid = d.client.xid();
          for (int i = 0; i < 4; ++i) m[dhcp::field::xid + i] = static_cast<std::byte>(xid >> (24 - 8 * i));
          for (int i = 0; i < 6; ++i) m[dhcp::field::chaddr + i] = std::byte{our_mac.octets[i]};
          const std::uint8_t cookie[] = {99, 130, 83, 99};
          for (int i = 0; i < 4; ++i) m[dhcp::field::cookie + i] = std::byte{cookie[i]};
        }
        d.client.receive(m, d.now);
        break;
      }
      case 2: d.advance(std::chrono::seconds(u16())); break;
      case 3:
        if (auto c = d.client.candidate()) d.client.conflict(*c, d.now);
        break;
      case 4: d.client.release(d.now); break;
    }
    d.check(d.client.poll(d.now));
  }
  return 0;
}
