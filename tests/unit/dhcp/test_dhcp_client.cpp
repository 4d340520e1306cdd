// uk::direct::dhcp_client, the sans-IO DHCP client (RFC 2131, RFC 5227
// address check), on virtual time: every transition of RFC 2131 figure 5,
// lost and duplicated messages, NAK, conflict, expiry, server change, and
// the replies it must drop.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>

#include "dhcp_harness.hpp"

using namespace dhcp_test;
using mt = dhcp::message_type;

namespace {
std::chrono::seconds seconds_between(instant a, instant b) {
  return std::chrono::duration_cast<std::chrono::seconds>(b - a);
}
}  // namespace

TEST_CASE("RFC 2131 4.4.1: INIT broadcasts a DHCPDISCOVER with client id, hostname and the parameters it needs",
          "[dhcp]") {
  harness h;
  h.start();
  REQUIRE(h.sent.size() == 1);
  CHECK(h.client.state() == dhcp_state::selecting);
  const auto& m = h.last();
  CHECK(m.to == ipv4_address::broadcast());
  const auto v = m.view();
  CHECK(v.op() == dhcp::opcode::boot_request);
  CHECK(*v.options().message_type == mt::discover);
  CHECK(v.client_mac() == client_mac);
  CHECK(v.ciaddr() == ipv4_address{});
  // RFC 2131 4.1: we cannot take unicast before we have an address.
  CHECK(v.broadcast());
  // RFC 2132 9.14: type 1 (Ethernet) and the MAC.
  REQUIRE(v.options().client_id);
  CHECK(v.options().client_id->size() == 7);
  CHECK((*v.options().client_id)[0] == 1);
  CHECK((*v.options().client_id)[6] == 0x2a);
  CHECK(v.options().hostname == std::string_view("uk-test"));
  REQUIRE(v.options().parameter_request_list);
  for (std::uint8_t code : {1, 3, 6, 51, 58, 59}) CHECK(v.options().parameter_request_list->contains(code));
  // Table 5: no server identifier in a DISCOVER.
  CHECK_FALSE(v.options().server_id);
  CHECK(h.client.counters().tx_discover == 1);
}

TEST_CASE("RFC 2131 4.1: DISCOVER is retransmitted after 4, 8, 16, 32, 64, 64 s, each +-1 s, with the same xid",
          "[dhcp]") {
  harness h;
  h.start();
  const std::uint32_t xid = h.client.xid();
  h.advance(400s);
  REQUIRE(h.sent.size() >= 7);
  const int expected[] = {4, 8, 16, 32, 64, 64};
  for (std::size_t i = 0; i < 6; ++i) {
    const auto gap = h.sent[i + 1].at - h.sent[i].at;
    CHECK(gap >= std::chrono::seconds(expected[i] - 1));
    CHECK(gap <= std::chrono::seconds(expected[i] + 1));
    CHECK(h.sent[i + 1].view().xid() == xid);
    CHECK(h.sent[i + 1].type() == mt::discover);
  }
  // "secs": seconds since the client began acquiring.
  CHECK(h.sent[3].view().secs() == seconds_between(h.sent[0].at, h.sent[3].at).count());
}

TEST_CASE("RFC 2131 3.1: DISCOVER, OFFER, REQUEST, ACK, ARP probes (RFC 5227 2.1.1), then BOUND", "[dhcp]") {
  harness h;
  h.start();
  const std::uint32_t xid = h.client.xid();
  h.receive({.type = mt::offer, .xid = xid});
  CHECK(h.client.state() == dhcp_state::requesting);
  REQUIRE(h.sent.size() == 2);
  {
    // Table 5, REQUEST in SELECTING: requested IP and server id MUST, ciaddr 0, broadcast, same xid.
    const auto v = h.last().view();
    CHECK(h.last().to == ipv4_address::broadcast());
    CHECK(*v.options().message_type == mt::request);
    CHECK(v.xid() == xid);
    CHECK(v.options().requested_ip == offered_ip);
    CHECK(v.options().server_id == server_ip);
    CHECK(v.ciaddr() == ipv4_address{});
  }
  h.receive({.type = mt::ack, .xid = xid, .t1 = 1000, .t2 = 2000});
  CHECK(h.client.state() == dhcp_state::checking);
  CHECK_FALSE(h.client.lease());
  CHECK(h.changes == 0);
  // PROBE_WAIT (0-1 s), 3 probes 1-2 s apart, ANNOUNCE_WAIT 2 s: at most 7 s.
  h.advance(7s);
  CHECK(h.probes == std::vector<ipv4_address>{offered_ip, offered_ip, offered_ip});
  CHECK(h.client.state() == dhcp_state::bound);
  CHECK(h.changes == 1);
  const auto lease = *h.client.lease();
  CHECK(lease.address == uk::ipv4_prefix{offered_ip, 24});
  CHECK(lease.router == server_ip);
  CHECK(lease.server == server_ip);
  REQUIRE(lease.dns_servers.size() == 1);
  CHECK(lease.dns_servers[0] == dns_ip);
  CHECK(lease.lease_time == 3600s);
  // The server's T1/T2, not a fixed timer; counted from the REQUEST.
  CHECK(lease.renewal_time == 1000s);
  CHECK(lease.rebinding_time == 2000s);
  CHECK(lease.renew_at == h.sent[0].at + 1000s);
  CHECK(h.client.counters().leases == 1);
  CHECK(h.sent.size() == 2);
}

TEST_CASE("RFC 2131 4.4.5: without T1 and T2 the lease is renewed at 0.5 and rebound at 0.875 of its time",
          "[dhcp]") {
  harness h;
  h.acquire({.lease = 800});
  const auto lease = *h.client.lease();
  CHECK(lease.renewal_time == 400s);
  CHECK(lease.rebinding_time == 700s);
}

TEST_CASE("RFC 2131 4.4.5: at T1, RENEWING unicasts a REQUEST with ciaddr to the server, and an ACK extends the lease",
          "[dhcp]") {
  harness h;
  h.acquire({.lease = 120, .t1 = 60, .t2 = 105});
  const auto before = h.sent.size();
  const instant t1 = h.client.lease()->renew_at;
  h.run_until(t1);
  CHECK(h.client.state() == dhcp_state::renewing);
  REQUIRE(h.sent.size() == before + 1);
  const auto v = h.last().view();
  CHECK(h.last().to == server_ip);
  CHECK(*v.options().message_type == mt::request);
  CHECK(v.ciaddr() == offered_ip);
  CHECK_FALSE(v.options().requested_ip);  // table 5: MUST NOT in RENEWING
  CHECK_FALSE(v.options().server_id);
  CHECK_FALSE(v.broadcast());
  h.receive({.type = mt::ack, .xid = v.xid(), .lease = 120, .t1 = 60, .t2 = 105});
  CHECK(h.client.state() == dhcp_state::bound);
  CHECK(h.client.counters().renewals == 1);
  CHECK(h.client.lease()->renew_at == t1 + 60s);
  CHECK(h.changes == 1);  // same address and router: nothing for the stack to redo
}

TEST_CASE("RFC 2131 4.4.5: RENEWING retransmits at half the time to T2 (at least 60 s), then REBINDING broadcasts",
          "[dhcp]") {
  harness h;
  h.acquire({.lease = 3600});  // T1 1800 s, T2 3150 s
  const instant t1 = h.client.lease()->renew_at, t2 = h.client.lease()->rebind_at;
  const auto first = h.sent.size();
  h.run_until(t2 - 1s);
  // At T1, then at T1 + 675 (half of 1350), then half of 675...
  REQUIRE(h.sent.size() >= first + 3);
  CHECK(h.sent[first].at == t1);
  CHECK(h.sent[first + 1].at == t1 + 675s);
  CHECK(h.sent[first + 2].at - h.sent[first + 1].at == std::chrono::nanoseconds(675s) / 2);
  for (std::size_t i = first + 1; i < h.sent.size(); ++i) CHECK(h.sent[i].at - h.sent[i - 1].at >= 60s);
  h.run_until(t2);
  CHECK(h.client.state() == dhcp_state::rebinding);
  CHECK(h.last().at == t2);
  CHECK(h.last().to == ipv4_address::broadcast());
  CHECK(h.last().view().ciaddr() == offered_ip);
}

TEST_CASE("RFC 2131 4.4.5: a new server's ACK in REBINDING takes the lease over (server change)", "[dhcp]") {
  harness h;
  h.acquire({.lease = 3600});
  h.run_until(h.client.lease()->rebind_at);
  REQUIRE(h.client.state() == dhcp_state::rebinding);
  h.receive({.type = mt::ack, .xid = h.client.xid(), .server = server2_ip, .lease = 7200, .router = server2_ip});
  CHECK(h.client.state() == dhcp_state::bound);
  CHECK(h.client.lease()->server == server2_ip);
  CHECK(h.client.lease()->router == server2_ip);
  CHECK(h.changes == 2);  // the router changed
  // The next renewal goes to the new server.
  h.run_until(h.client.lease()->renew_at);
  CHECK(h.last().to == server2_ip);
}

TEST_CASE("RFC 2131 4.4.5: in RENEWING, an ACK from another server than ours is dropped", "[dhcp]") {
  harness h;
  h.acquire();
  h.run_until(h.client.lease()->renew_at);
  h.receive({.type = mt::ack, .xid = h.client.xid(), .server = server2_ip});
  CHECK(h.client.state() == dhcp_state::renewing);
  CHECK(h.client.counters().rx_wrong_server == 1);
}

TEST_CASE("RFC 2131 4.4.5: when the lease expires the address is removed, the stack told, and INIT starts over",
          "[dhcp]") {
  harness h;
  h.acquire({.lease = 600});
  const instant expiry = h.client.lease()->expires_at;
  h.run_until(expiry - 1ms);
  CHECK(h.client.state() == dhcp_state::rebinding);
  CHECK(h.changes == 1);
  h.run_until(expiry);
  CHECK_FALSE(h.client.lease());
  CHECK(h.changes == 2);
  CHECK(h.client.counters().expiries == 1);
  CHECK(h.client.state() == dhcp_state::selecting);
  CHECK(h.last().type() == mt::discover);
  CHECK(h.last().at == expiry);
}

TEST_CASE("RFC 2131 3.1 step 5: a DHCPNAK in REQUESTING sends the client back to INIT", "[dhcp]") {
  harness h;
  h.start();
  h.receive({.type = mt::offer, .xid = h.client.xid()});
  h.receive({.type = mt::nak, .xid = h.client.xid()});
  CHECK(h.client.state() == dhcp_state::selecting);
  CHECK(h.last().type() == mt::discover);
  CHECK(h.last().view().xid() != h.sent[0].view().xid());
  CHECK(h.client.counters().rx_nak == 1);
  CHECK(h.changes == 0);
}

TEST_CASE("RFC 2131 4.4.5: a DHCPNAK in RENEWING loses the lease at once", "[dhcp]") {
  harness h;
  h.acquire();
  h.run_until(h.client.lease()->renew_at);
  h.receive({.type = mt::nak, .xid = h.client.xid()});
  CHECK_FALSE(h.client.lease());
  CHECK(h.changes == 2);
  CHECK(h.client.state() == dhcp_state::selecting);
}

TEST_CASE("RFC 2131 4.4.1: no answer to REQUEST after its retransmissions: back to INIT", "[dhcp]") {
  harness h;
  h.start();
  h.receive({.type = mt::offer, .xid = h.client.xid()});
  h.advance(4s + 8s + 16s + 32s + 5s);
  CHECK(std::count_if(h.sent.begin(), h.sent.end(), [](const auto& m) { return m.type() == mt::request; }) == 4);
  CHECK(h.client.counters().request_timeouts == 1);
  CHECK(h.client.state() == dhcp_state::selecting);
  CHECK(h.last().type() == mt::discover);
}

TEST_CASE("RFC 5227 2.1.1 and RFC 2131 3.1 step 5: a conflict while probing sends DHCPDECLINE and waits 10 s",
          "[dhcp]") {
  harness h;
  h.start();
  h.receive({.type = mt::offer, .xid = h.client.xid()});
  h.receive({.type = mt::ack, .xid = h.client.xid()});
  h.advance(2s);
  REQUIRE(h.client.state() == dhcp_state::checking);
  h.client.conflict(offered_ip, h.now);
  CHECK(h.client.counters().conflicts == 1);
  const auto v = h.last().view();
  CHECK(*v.options().message_type == mt::decline);
  CHECK(h.last().to == ipv4_address::broadcast());
  CHECK(v.options().requested_ip == offered_ip);  // table 5: MUST
  CHECK(v.options().server_id == server_ip);      // MUST
  CHECK(v.ciaddr() == ipv4_address{});
  CHECK(h.client.state() == dhcp_state::init);
  CHECK_FALSE(h.client.lease());
  CHECK(h.changes == 0);  // the address was never used
  const auto declined_at = h.now;
  h.advance(9s);
  CHECK(h.last().type() == mt::decline);
  h.advance(1s);
  CHECK(h.last().type() == mt::discover);
  CHECK(h.last().at == declined_at + 10s);
  // The same address offered again soon after is refused; another one is taken.
  h.receive({.type = mt::offer, .xid = h.client.xid()});
  CHECK(h.client.state() == dhcp_state::selecting);
  CHECK(h.client.counters().rx_bad_offer == 1);
  h.receive({.type = mt::offer, .xid = h.client.xid(), .yiaddr = other_ip});
  CHECK(h.client.state() == dhcp_state::requesting);
  CHECK(h.last().view().options().requested_ip == other_ip);
}

TEST_CASE("RFC 5227: a conflict for another address, or after the check, changes nothing", "[dhcp]") {
  harness h;
  h.acquire();
  h.client.conflict(offered_ip, h.now);  // BOUND: ARP defends the address (RFC 5227 2.4)
  h.client.conflict(other_ip, h.now);
  CHECK(h.client.state() == dhcp_state::bound);
  CHECK(h.client.counters().conflicts == 0);
}

TEST_CASE("RFC 2131 3.2: INIT-REBOOT asks for the remembered address with no server id, then checks and binds",
          "[dhcp]") {
  auto o = harness::default_options();
  o.remembered = other_ip;
  harness h(o);
  h.start();
  CHECK(h.client.state() == dhcp_state::rebooting);
  const auto v = h.last().view();
  CHECK(*v.options().message_type == mt::request);
  CHECK(v.options().requested_ip == other_ip);  // table 5: MUST
  CHECK_FALSE(v.options().server_id);           // MUST NOT
  CHECK(v.ciaddr() == ipv4_address{});
  CHECK(h.last().to == ipv4_address::broadcast());
  h.receive({.type = mt::ack, .xid = h.client.xid(), .yiaddr = other_ip});
  h.advance(7s);
  CHECK(h.client.state() == dhcp_state::bound);
  CHECK(h.client.lease()->address.address == other_ip);
}

TEST_CASE("RFC 2131 3.2 step 4: a DHCPNAK to INIT-REBOOT restarts in INIT and forgets the address", "[dhcp]") {
  auto o = harness::default_options();
  o.remembered = other_ip;
  harness h(o);
  h.start();
  h.receive({.type = mt::nak, .xid = h.client.xid(), .server = server_ip});
  CHECK(h.client.state() == dhcp_state::selecting);
  CHECK_FALSE(h.last().view().options().requested_ip);
}

TEST_CASE("RFC 2131 3.2: INIT-REBOOT with no server answering falls back to INIT", "[dhcp]") {
  auto o = harness::default_options();
  o.remembered = other_ip;
  harness h(o);
  h.start();
  h.advance(70s);
  CHECK(h.client.counters().request_timeouts == 1);
  CHECK(h.client.state() == dhcp_state::selecting);
  CHECK(h.last().view().options().requested_ip == other_ip);  // 4.4.1: a DISCOVER MAY suggest it
}

TEST_CASE("Lost messages: a lost OFFER is made up by the DISCOVER retransmission", "[dhcp]") {
  harness h;
  h.start();
  h.advance(5s);  // the first OFFER never arrived
  REQUIRE(h.sent.size() == 2);
  h.receive({.type = mt::offer, .xid = h.client.xid()});
  CHECK(h.client.state() == dhcp_state::requesting);
}

TEST_CASE("Lost messages: a lost ACK is made up by the REQUEST retransmission", "[dhcp]") {
  harness h;
  h.start();
  h.receive({.type = mt::offer, .xid = h.client.xid()});
  h.advance(5s);
  REQUIRE(h.last().type() == mt::request);
  REQUIRE(h.sent.size() == 3);
  h.receive({.type = mt::ack, .xid = h.client.xid()});
  h.advance(7s);
  CHECK(h.client.state() == dhcp_state::bound);
}

TEST_CASE("Duplicated messages: a second OFFER, or a second ACK, is counted and ignored", "[dhcp]") {
  harness h;
  h.start();
  const std::uint32_t xid = h.client.xid();
  h.receive({.type = mt::offer, .xid = xid});
  h.receive({.type = mt::offer, .xid = xid});
  CHECK(h.sent.size() == 2);  // one REQUEST
  h.receive({.type = mt::ack, .xid = xid});
  h.receive({.type = mt::ack, .xid = xid});
  h.advance(7s);
  h.receive({.type = mt::ack, .xid = xid});
  CHECK(h.client.state() == dhcp_state::bound);
  CHECK(h.client.counters().rx_unexpected == 3);
  CHECK(h.client.counters().leases == 1);
  CHECK(h.changes == 1);
}

TEST_CASE("RFC 2131 4.4.6: release() unicasts DHCPRELEASE with ciaddr and server id, and the address goes", "[dhcp]") {
  harness h;
  h.acquire();
  h.client.release(h.now);
  const auto v = h.last().view();
  CHECK(*v.options().message_type == mt::release);
  CHECK(h.last().to == server_ip);
  CHECK(v.ciaddr() == offered_ip);
  CHECK(v.options().server_id == server_ip);
  CHECK_FALSE(v.options().requested_ip);
  CHECK_FALSE(h.client.lease());
  CHECK(h.changes == 2);
  CHECK(h.client.state() == dhcp_state::stopped);
  CHECK(h.client.poll(h.now) == uk::never);
}

TEST_CASE("release() without a lease sends nothing", "[dhcp]") {
  harness h;
  h.start();
  h.client.release(h.now);
  CHECK(h.sent.size() == 1);
  CHECK(h.client.state() == dhcp_state::stopped);
}

TEST_CASE("RFC 2131 3.3: an infinite lease is never renewed", "[dhcp]") {
  harness h;
  h.acquire({.lease = dhcp::infinite_lease});
  CHECK(h.client.lease()->infinite);
  CHECK(h.client.poll(h.now) == uk::never);
}

TEST_CASE("Bad input: replies to another transaction or another client are dropped and counted", "[dhcp]") {
  harness h;
  h.start();
  const std::uint32_t xid = h.client.xid();
  h.receive({.type = mt::offer, .xid = xid + 1});
  h.receive({.type = mt::offer, .xid = xid, .chaddr = other_mac});
  h.receive({.type = mt::offer, .xid = xid, .op = dhcp::opcode::boot_request});
  h.receive({.type = mt::offer, .xid = xid, .with_type = false});  // BOOTP
  h.receive({.type = mt::offer, .xid = xid, .server = std::nullopt});
  h.receive({.type = mt::offer, .xid = xid, .yiaddr = ipv4_address::broadcast()});
  h.receive({.type = mt::discover, .xid = xid});
  const auto& c = h.client.counters();
  CHECK(c.rx_wrong_xid == 1);
  CHECK(c.rx_wrong_chaddr == 1);
  CHECK(c.rx_not_reply == 1);
  CHECK(c.rx_not_dhcp == 1);
  CHECK(c.rx_bad_offer == 2);
  CHECK(c.rx_unexpected == 1);
  CHECK(h.client.state() == dhcp_state::selecting);
  CHECK(h.sent.size() == 1);
}

TEST_CASE("Bad input: a reply echoing another client identifier is dropped (RFC 6842)", "[dhcp]") {
  harness h;
  h.start();
  dhcp::repr r;
  r.op = dhcp::opcode::boot_reply;
  r.xid = h.client.xid();
  r.yiaddr = offered_ip;
  r.set_client_mac(client_mac);
  r.options.message_type = mt::offer;
  r.options.server_id = server_ip;
  const std::array<std::byte, 7> id{std::byte{1}, std::byte{2}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0x99}};
  r.options.client_id = dhcp::octet_string{id};
  std::vector<std::byte> m(r.length());
  dhcp::emit(r, m);
  h.client.receive(m, h.now);
  CHECK(h.client.counters().rx_wrong_client_id == 1);
  CHECK(h.client.state() == dhcp_state::selecting);
}

TEST_CASE("Bad input: absurd leases (none, 0, 5 s) and non-contiguous masks are dropped", "[dhcp]") {
  harness h;
  h.start();
  h.receive({.type = mt::offer, .xid = h.client.xid()});
  const std::uint32_t xid = h.client.xid();
  h.receive({.type = mt::ack, .xid = xid, .lease = std::nullopt});
  h.receive({.type = mt::ack, .xid = xid, .lease = 0});
  h.receive({.type = mt::ack, .xid = xid, .lease = 5});
  h.receive({.type = mt::ack, .xid = xid, .mask = ipv4_address::from_octets(255, 0, 255, 0)});
  h.receive({.type = mt::ack, .xid = xid, .mask = ipv4_address{}});
  CHECK(h.client.counters().rx_bad_lease == 5);
  CHECK(h.client.state() == dhcp_state::requesting);
  // An ACK for another address than the one requested is not ours either.
  h.receive({.type = mt::ack, .xid = xid, .yiaddr = other_ip});
  CHECK(h.client.state() == dhcp_state::requesting);
}

TEST_CASE("Bad input: T1 and T2 that do not fit the lease are replaced by the defaults", "[dhcp]") {
  harness h;
  h.acquire({.lease = 1000, .t1 = 900, .t2 = 100});
  CHECK(h.client.counters().bad_times_ignored == 1);
  CHECK(h.client.lease()->renewal_time == 500s);
  CHECK(h.client.lease()->rebinding_time == 875s);
  harness g;
  g.acquire({.lease = 1000, .t1 = 100, .t2 = 5000});
  CHECK(g.client.lease()->renewal_time == 500s);
}

TEST_CASE("Bad input: truncated, garbage and overload-looping messages are counted as malformed", "[dhcp]") {
  harness h;
  h.start();
  auto m = make_reply({.type = mt::offer, .xid = h.client.xid()});
  h.client.receive(std::span(m).first(100), h.now);
  std::vector<std::byte> garbage(400, std::byte{0xab});
  h.client.receive(garbage, h.now);
  // Overload (52) says "file and sname hold options", and file holds another
  // overload option pointing back: the parser reads each area once.
  auto loop = make_reply({.type = mt::offer, .xid = h.client.xid()});
  // Options field: replace the trailing pad with 52/1/3 before end.
  std::size_t end = dhcp::options_offset;
  while (loop[end] != std::byte{255}) end += 2 + std::to_integer<std::size_t>(loop[end + 1]);
  loop[end] = std::byte{52};
  loop[end + 1] = std::byte{1};
  loop[end + 2] = std::byte{3};
  loop[end + 3] = std::byte{255};
  for (std::size_t i = 0; i < 3; ++i) loop[dhcp::field::file + i] = static_cast<std::byte>(std::array{52, 1, 3}[i]);
  loop[dhcp::field::file + 3] = std::byte{255};
  loop[dhcp::field::sname] = std::byte{255};
  h.client.receive(loop, h.now);
  CHECK(h.client.counters().rx_malformed == 2);
  CHECK(h.client.state() == dhcp_state::requesting);  // the looping one was read once, and is a fine offer
}

TEST_CASE("A send the stack refuses is counted and retransmitted later", "[dhcp]") {
  harness h;
  h.refuse_sends = true;
  h.start();
  CHECK(h.client.counters().tx_dropped == 1);
  h.refuse_sends = false;
  h.advance(5s);
  CHECK(h.sent.size() == 1);
}

TEST_CASE("Without probes (probe_count 0) the ACKed address is bound at once", "[dhcp]") {
  auto o = harness::default_options();
  o.probe_count = 0;
  harness h(o);
  h.start();
  h.receive({.type = mt::offer, .xid = h.client.xid()});
  h.receive({.type = mt::ack, .xid = h.client.xid()});
  CHECK(h.client.state() == dhcp_state::bound);
  CHECK(h.probes.empty());
}

TEST_CASE("A hostname that is not a DNS label is refused at construction", "[dhcp]") {
  auto o = harness::default_options();
  o.hostname = "not a name";
  CHECK_THROWS_AS(uk::direct::dhcp_client(o), std::invalid_argument);
  o.hostname = std::string(64, 'a');
  CHECK_THROWS_AS(uk::direct::dhcp_client(o), std::invalid_argument);
}

TEST_CASE("A lease of 2^32 - 2 seconds (just short of infinity) gets its default T2 without overflow", "[dhcp]") {
  harness h;
  h.acquire({.lease = 0xfffffffeu});
  const auto& l = *h.client.lease();
  const uk::duration lease = std::chrono::seconds(0xfffffffeull);
  CHECK(l.rebinding_time == lease - lease / 8);
  CHECK(l.renew_at < l.rebind_at);
  CHECK(l.rebind_at < l.expires_at);
}
