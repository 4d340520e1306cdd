#!/usr/bin/env bash
# Captures a real DHCP exchange (DISCOVER, OFFER, REQUEST, ACK) for the
# DHCP wire tests (tests/unit/wire/test_dhcp.cpp).
#
# Two network namespaces joined by a veth pair, nothing routed outside them:
#   uk-w4-srv  dnsmasq as the DHCP server on 192.0.2.1/24 (DNS off: --port=0)
#   uk-w4-cli  busybox udhcpc as the client, MAC 02:00:00:00:00:02
# Writes, next to this script:
#   kernel_dhcp.pcap  the four messages, Ethernet(14) + IPv4(20) + UDP(8) + DHCP.
# The values the tests assert (lease 3600 s, router 192.0.2.1, DNS 192.0.2.53
# and 192.0.2.54, mask 255.255.255.0, hostname "uk-client") are set below.
#
# Needs root and these Debian packages: iproute2, dnsmasq-base, busybox, tshark.
# Usage: capture_dhcp.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
srv=uk-w4-srv
cli=uk-w4-cli
mac_srv=02:00:00:00:00:01
mac_cli=02:00:00:00:00:02
work=$(mktemp -d /tmp/uk-w4-dhcp.XXXXXX)

cleanup() {
  [ -n "${cap_pid:-}" ] && kill "$cap_pid" 2>/dev/null || true
  [ -n "${dns_pid:-}" ] && kill "$dns_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del "$srv" 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns del "$srv" 2>/dev/null || true
ip netns del "$cli" 2>/dev/null || true

ip netns add "$srv"
ip netns add "$cli"
for ns in "$srv" "$cli"; do
  # No IPv6: keeps neighbour discovery and MLD out of the capture.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$srv" link add veth-srv address "$mac_srv" type veth peer name veth-cli netns "$cli" address "$mac_cli"
ip -n "$srv" addr add 192.0.2.1/24 dev veth-srv
ip -n "$srv" link set veth-srv up
ip -n "$cli" link set veth-cli up
sleep 1

# tshark on the server side of the link, classic pcap, DHCP ports only.
out="$here/kernel_dhcp.pcap"
log="$work/tshark.log"
ip netns exec "$srv" tshark -q -i veth-srv -F pcap -w "$work/capture.pcap" -f "udp port 67 or udp port 68" >"$log" 2>&1 &
cap_pid=$!
for _ in $(seq 50); do grep -q "Capturing on" "$log" && break; sleep 0.1; done
sleep 0.5

ip netns exec "$srv" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
  --interface=veth-srv --bind-interfaces --no-ping --user=root \
  --dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h \
  --dhcp-option=option:router,192.0.2.1 \
  --dhcp-option=option:dns-server,192.0.2.53,192.0.2.54 \
  --dhcp-leasefile="$work/leases" --pid-file="$work/dnsmasq.pid" \
  >"$work/dnsmasq.log" 2>&1 &
dns_pid=$!
sleep 1

# -f foreground, -q quit once bound, -n fail instead of retrying forever,
# -s /bin/true: do not configure the interface, -x hostname: send option 12.
ip netns exec "$cli" timeout 20 busybox udhcpc -i veth-cli -f -q -n -s /bin/true -t 3 -T 2 \
  -x hostname:uk-client

sleep 1
kill -INT "$cap_pid"
wait "$cap_pid" || true
cap_pid=
kill "$dns_pid"
wait "$dns_pid" || true
dns_pid=

cp "$work/capture.pcap" "$out"
chmod 644 "$out"
echo "wrote $out:"
tshark -r "$out" -Y dhcp
