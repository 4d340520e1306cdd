#!/usr/bin/env bash
# Captures Linux kernel ICMP error messages for the IPv4/ICMPv4 wire tests.
#
# Three network namespaces joined by veth pairs, nothing routed outside them:
#   a (192.0.2.1/24) <-> r (192.0.2.254/24 | 198.51.100.254/24, forwards) <-> c (198.51.100.2/24)
# The r-c link has MTU 1280. Writes, next to this script:
#   kernel_icmp_errors.pcap, captured on a's interface, in this order:
#   1. UDP a -> c port 33434 (closed) and c's port unreachable (type 3 code 3),
#      which quotes the probe as c received it (TTL 63);
#   2. UDP a -> c with TTL 1 and r's time exceeded in transit (type 11 code 0);
#   3. ping -M do -s 1400 a -> c and r's fragmentation needed (type 3 code 4,
#      next-hop MTU 1280, RFC 1191);
#   4. a lone first fragment (MF set) a -> r, and r's fragment reassembly time
#      exceeded (type 11 code 1) after r's ipfrag_time of 1 s;
#   5. UDP a -> c carrying the IP options NOP, NOP, timestamp (RFC 791 3.1),
#      and c's port unreachable (quoting the header with its options).
# Needs root, iproute2, iputils ping, python3 and tshark. Usage: capture_ip.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
a=uk-w2-a
r=uk-w2-r
c=uk-w2-c
py=/usr/bin/python3

cleanup() {
  [ -n "${cap_pid:-}" ] && kill "$cap_pid" 2>/dev/null || true
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$r" 2>/dev/null || true
  ip netns del "$c" 2>/dev/null || true
}
trap cleanup EXIT
cleanup

for ns in "$a" "$r" "$c"; do
  ip netns add "$ns"
  # No IPv6: keeps neighbour discovery and MLD out of the capture.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$a" link add veth-a address 02:00:00:00:01:01 type veth peer name veth-ra netns "$r" address 02:00:00:00:01:fe
ip -n "$c" link add veth-c address 02:00:00:00:02:02 type veth peer name veth-rc netns "$r" address 02:00:00:00:02:fe
ip -n "$c" link set veth-c mtu 1280
ip -n "$r" link set veth-rc mtu 1280
ip -n "$a" addr add 192.0.2.1/24 dev veth-a
ip -n "$r" addr add 192.0.2.254/24 dev veth-ra
ip -n "$r" addr add 198.51.100.254/24 dev veth-rc
ip -n "$c" addr add 198.51.100.2/24 dev veth-c
for l in "$a veth-a" "$r veth-ra" "$r veth-rc" "$c veth-c"; do
  set -- $l
  ip -n "$1" link set "$2" up
done
ip -n "$a" route add default via 192.0.2.254
ip -n "$c" route add default via 198.51.100.254
ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$r" sysctl -qw net.ipv4.ipfrag_time=1
# One ICMP error per event: no rate limit in the capture.
for ns in "$r" "$c"; do ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0; done
sleep 1
# Resolve neighbours first so ARP stays out of the ICMP sequence.
ip netns exec "$a" ping -q -c 1 -W 2 198.51.100.2 >/dev/null

out="$here/kernel_icmp_errors.pcap"
log=$(mktemp)
ip netns exec "$a" tshark -q -i veth-a -F pcap -w "$out.tmp" -f "icmp or udp" >"$log" 2>&1 &
cap_pid=$!
for _ in $(seq 50); do grep -q "Capturing on" "$log" && break; sleep 0.1; done
sleep 0.5
rm -f "$log"

# 1. Port unreachable.
ip netns exec "$a" "$py" - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 40000))
s.sendto(b"uk port unreachable probe", ("198.51.100.2", 33434))
PY
sleep 0.3
# 2. Time exceeded in transit (TTL 1 expires at r).
ip netns exec "$a" "$py" - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 40001))
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
s.sendto(b"uk ttl probe", ("198.51.100.2", 33435))
PY
sleep 0.3
# 3. Fragmentation needed (RFC 1191).
ip netns exec "$a" ping -q -c 1 -W 1 -M do -s 1400 198.51.100.2 >/dev/null || true
sleep 0.3
# 4. Fragment reassembly time exceeded: a first fragment whose rest never comes.
ip netns exec "$a" "$py" - <<'PY'
import socket, struct
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
payload = struct.pack("!HHHH", 40002, 33436, 48, 0) + b"uk first fragment only!!"
hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x7531, 0x2000, 64, 17, 0,
                  socket.inet_aton("192.0.2.1"), socket.inet_aton("192.0.2.254"))
hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(hdr + payload, ("192.0.2.254", 0))
PY
sleep 2.5
# 5. IP options: NOP, NOP, timestamp (type 68, length 12, pointer 5, flag 0: times only).
ip netns exec "$a" "$py" - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 40003))
s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([1, 1, 68, 12, 5, 0]) + bytes(8))
s.sendto(b"uk options probe", ("198.51.100.2", 33437))
PY
sleep 1
kill -INT "$cap_pid"
wait "$cap_pid" || true
cap_pid=
mv "$out.tmp" "$out"
chmod 644 "$out"
echo "wrote $out"
