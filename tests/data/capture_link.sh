#!/usr/bin/env bash
# Captures Linux kernel link-layer and IPv4 traffic for the wire tests.
#
# Two network namespaces joined by a veth pair, nothing routed outside them.
# Writes, next to this script:
#   kernel_arp_icmp.pcap  14 untagged Ethernet II frames, 02:00:00:00:00:01
#                         (192.0.2.1) <-> 02:00:00:00:00:02 (192.0.2.2):
#                         1-2 arping's ARP request (target MAC ff:..:ff) and
#                         the reply; 3-4 the kernel's own request (target MAC
#                         zero) and reply; 5-6 a small ICMP echo and reply;
#                         7-12 ping -s 3000, three IPv4 fragments each way;
#                         13-14 ping -M do -s 1400 (DF set, fits in 1500).
# (No 802.1Q capture: this machine's kernel has no vlan link type; the VLAN
# tests build tagged frames by hand.)
# The unit tests of ethernet, arp, checksum, ipv4 and icmpv4 assert fields of
# this capture (sizes, IP identifications, checksums, ICMP ids): re-running
# the script writes new values, and those tests must then be updated.
# Needs root, iproute2, iputils ping/arping and tshark. Usage: capture_link.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
a=uk-w1-a
b=uk-w1-b
mac_a=02:00:00:00:00:01
mac_b=02:00:00:00:00:02
ip_a=192.0.2.1
ip_b=192.0.2.2

cleanup() {
  [ -n "${cap_pid:-}" ] && kill "$cap_pid" 2>/dev/null || true
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip netns add "$a"
ip netns add "$b"
for ns in "$a" "$b"; do
  # No IPv6: keeps neighbour discovery and MLD out of the captures.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$a" link add veth-a address "$mac_a" type veth peer name veth-b netns "$b" address "$mac_b"
ip -n "$a" addr add "$ip_a/24" dev veth-a
ip -n "$b" addr add "$ip_b/24" dev veth-b
ip -n "$a" link set veth-a up
ip -n "$b" link set veth-b up
sleep 1

# start_capture FILE FILTER: tshark on veth-a in namespace a, pcap format.
start_capture() {
  local log
  log=$(mktemp)
  ip netns exec "$a" tshark -q -i veth-a -F pcap -w "$1" -f "$2" >"$log" 2>&1 &
  cap_pid=$!
  for _ in $(seq 50); do grep -q "Capturing on" "$log" && break; sleep 0.1; done
  sleep 0.5
  rm -f "$log"
}
stop_capture() {
  sleep 1
  kill -INT "$cap_pid"
  wait "$cap_pid" || true
  cap_pid=
}

out="$here/kernel_arp_icmp.pcap"
start_capture "$out.tmp" "arp or icmp"
ip netns exec "$a" arping -q -c 1 -w 2 -I veth-a "$ip_b"          # ARP request + reply
ip netns exec "$a" ping -q -c 1 -W 2 -p 75 "$ip_b" >/dev/null         # small echo (56 bytes of data)
ip netns exec "$a" ping -q -c 1 -W 2 -s 3000 "$ip_b" >/dev/null       # fragmented (3 fragments each way)
ip netns exec "$a" ping -q -c 1 -W 2 -M do -s 1400 "$ip_b" >/dev/null # DF set, fits in 1500
stop_capture
mv "$out.tmp" "$out"

chmod 644 "$out"
echo "wrote $out"
