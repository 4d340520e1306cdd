#!/usr/bin/env bash
# RFC 5227 over real ARP: dnsmasq offers the stack an address that another
# host on the link already uses (a veth peer in a second namespace, bridged
# with the TAP); the stack's ARP probe finds it, it sends DHCPDECLINE, and
# takes the next address offered, which then answers ping.
#   dhcp_decline.sh ECHO_DIRECT WORKDIR
source "$(dirname "$0")/lib.sh"
require_root_and_tun
echo_bin=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
source "$(dirname "$0")/dhcp_common.sh"
new_namespace "uk-dhcp-decline-$$"
other="uk-dhcp-other-$$"
ip netns add "$other" || skip "cannot create a second namespace"
trap 'stop_dnsmasq; ip netns del "$other" 2>/dev/null; cleanup_namespace' EXIT

# The other host: 10.0.0.50 on a veth whose peer joins the bridge.
in_ns ip link add br0 type bridge
in_ns ip link add v0 type veth peer name v1
in_ns ip link set v1 netns "$other"
ip netns exec "$other" ip addr add 10.0.0.50/24 dev v1
ip netns exec "$other" ip link set v1 up
in_ns ip link set v0 master br0
in_ns ip link set v0 up
in_ns ip addr add 10.0.0.1/24 dev br0
in_ns ip link set br0 up

ip netns exec "$NS" "$echo_bin" --interface=tap0 --mac=02:00:00:00:00:02 -l '*:info,dhcp:debug,arp:debug' \
  >"$work/app.log" 2>&1 &
pid=$!
wait_for_link tap0
in_ns ip link set tap0 master br0
in_ns ip link set tap0 up
# --dhcp-host gives our MAC the other host's address; --no-ping keeps
# dnsmasq from noticing the conflict itself, so the client must.
start_dnsmasq br0 --no-ping --dhcp-host=02:00:00:00:00:02,10.0.0.50

echo "== the offer of 10.0.0.50 is declined"
wait_for_log "$work/app.log" "10.0.0.50 is in use by another host" 30 || fail "no conflict seen: $(cat "$work/app.log")"
wait_for_log "$work/dnsmasq.log" "DHCPDECLINE(br0) 10.0.0.50" 5 || fail "dnsmasq saw no DHCPDECLINE"
grep "DHCPDECLINE" "$work/dnsmasq.log"

echo "== another address is leased"
wait_for_log "$work/app.log" "leased from 10.0.0.1" 60 || fail "no lease after the decline: $(tail -20 "$work/app.log")"
address=$(leased_address "$work/app.log")
echo "leased $address"
[ "$address" != "10.0.0.50" ] || fail "it took the address in use"
in_ns ping -c 2 -i 0.2 -W 2 10.0.0.50 >/dev/null || fail "the other host no longer answers on 10.0.0.50"
in_ns ping -c 3 -i 0.2 -W 2 "$address" | tail -2 | tee "$work/ping.txt"
grep -q " 0% packet loss" "$work/ping.txt" || fail "ping lost packets"

kill -TERM "$pid"; wait "$pid" || true
grep -E "DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK|DECLINE|RELEASE)" "$work/dnsmasq.log"
echo "PASSED"
