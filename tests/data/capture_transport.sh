#!/usr/bin/env bash
# Captures Linux kernel UDP and TCP traffic for the wire tests (udp.hpp, tcp.hpp).
#
# Three network namespaces, nothing routed outside them:
#
#   uk-w3-a 192.0.2.1 --veth-- 192.0.2.254 uk-w3-r 198.51.100.254 --veth-- 198.51.100.2 uk-w3-b
#   (client)                   (router)                                    (server, capture here)
#
# The router exists to lose packets: this kernel has no sch_netem, so SACK is
# provoked with a tbf qdisc with a tiny queue on the router's egress to b
# during a bulk transfer. Drops there are real losses for the client's TCP
# (a drop at the sender's own qdisc would only be a local retry), so b sees
# holes and answers with SACK blocks (RFC 2018).
#
# Offloads are off on every veth (ethtool -K ... tx off tso off gso off gro off)
# so the captured checksums are the ones the kernel computed in software and
# every frame is at most 1514 bytes.
#
# Writes, next to this script:
#   kernel_udp_tcp.pcap  captured on b's veth, Ethernet II + 20-byte IPv4 headers:
#     - UDP a:40000 -> b:7777 "hello uk udp\n" (13 bytes, odd) and b's echo back;
#       UDP a:40000 -> b:7777 "uk!!" (4 bytes) and b's echo back;
#     - TCP a:40001 -> b:8080: handshake (Linux SYN: MSS, SACK-permitted,
#       timestamps, NOP, window scale), 22 bytes of data, b answers "bye\n",
#       FIN from both sides;
#     - TCP a:40002 -> b:8080 through the lossy router: handshake, the first
#       data segments, the first pure ACKs from b that carry SACK blocks, and
#       the RST the client sends when it closes with SO_LINGER 0.
#   Only those frames are kept (tshark -Y on the frame numbers), so the file stays small.
# Needs root, iproute2 (ip, tc with tbf), ethtool, python3 and tshark.
# Usage: capture_transport.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
a=uk-w3-a
r=uk-w3-r
b=uk-w3-b
ip_a=192.0.2.1
ip_ra=192.0.2.254
ip_rb=198.51.100.254
ip_b=198.51.100.2
work=$(mktemp -d)

cleanup() {
  [ -n "${cap_pid:-}" ] && kill "$cap_pid" 2>/dev/null || true
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  for ns in "$a" "$r" "$b"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cleanup
work=$(mktemp -d)

for ns in "$a" "$r" "$b"; do
  ip netns add "$ns"
  # No IPv6: keeps neighbour discovery and MLD out of the capture.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$a" link add veth-a type veth peer name veth-ra netns "$r"
ip -n "$b" link add veth-b type veth peer name veth-rb netns "$r"
ip -n "$a" addr add "$ip_a/24" dev veth-a
ip -n "$r" addr add "$ip_ra/24" dev veth-ra
ip -n "$r" addr add "$ip_rb/24" dev veth-rb
ip -n "$b" addr add "$ip_b/24" dev veth-b
for pair in "$a veth-a" "$r veth-ra" "$r veth-rb" "$b veth-b"; do
  set -- $pair
  ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1
  ip -n "$1" link set "$2" up
done
ip -n "$a" route add default via "$ip_ra"
ip -n "$b" route add default via "$ip_rb"
ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
sleep 1

cat >"$work/server.py" <<'EOF'
# b: echoes two UDP datagrams, then serves two TCP connections on 8080.
import socket, sys
ip = sys.argv[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((ip, 7777))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((ip, 8080))
t.listen(4)
print("ready", flush=True)
for _ in range(2):
    data, peer = u.recvfrom(2048)
    u.sendto(data, peer)
# Connection 1: read until the client's FIN, answer, close (our FIN).
c, _ = t.accept()
while c.recv(4096):
    pass
c.sendall(b"bye\n")
c.close()
# Connection 2: read the bulk transfer, say "ok", then the client resets.
c, _ = t.accept()
want, got = int(sys.argv[2]), 0
while got < want:
    chunk = c.recv(65536)
    if not chunk:
        break
    got += len(chunk)
c.sendall(b"ok")
try:
    while c.recv(4096):
        pass
except ConnectionResetError:
    pass
c.close()
EOF

cat >"$work/client.py" <<'EOF'
# a: phase "small" sends the UDP datagrams and TCP connection 1;
# phase "bulk" sends N bytes on connection 2 and closes with RST (SO_LINGER 0).
import socket, struct, sys
ip, phase = sys.argv[1], sys.argv[2]
if phase == "small":
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 40000))
    u.settimeout(5)
    for msg in (b"hello uk udp\n", b"uk!!"):
        u.sendto(msg, (ip, 7777))
        u.recvfrom(2048)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", 40001))
    s.connect((ip, 8080))
    s.sendall(b"hello from uk capture\n")
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
else:
    n = int(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", 40002))
    s.connect((ip, 8080))
    s.sendall(bytes(i % 251 for i in range(n)))
    got = b""
    while len(got) < 2:
        got += s.recv(2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
EOF

bulk=600000
full="$work/full.pcap"
log="$work/tshark.log"
ip netns exec "$b" tshark -q -i veth-b -F pcap -w "$full" -f "udp or tcp" >"$log" 2>&1 &
cap_pid=$!
for _ in $(seq 50); do grep -q "Capturing on" "$log" && break; sleep 0.1; done
sleep 0.5

ip netns exec "$b" python3 "$work/server.py" "$ip_b" "$bulk" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do grep -q ready "$work/server.log" && break; sleep 0.1; done

ip netns exec "$a" python3 "$work/client.py" "$ip_b" small
sleep 0.5
# Loss for connection 2 only: a small token bucket whose queue overflows on bursts.
ip netns exec "$r" tc qdisc add dev veth-rb root tbf rate 20mbit burst 8kb limit 12kb
ip netns exec "$a" python3 "$work/client.py" "$ip_b" bulk "$bulk"
ip netns exec "$r" tc qdisc del dev veth-rb root
wait "$server_pid"
server_pid=

sleep 1
kill -INT "$cap_pid"
wait "$cap_pid" || true
cap_pid=

# Keep: all UDP, all of connection 1, and from connection 2 its SYNs, the first
# 3 data segments, the first 6 pure ACKs with SACK blocks, and the RST(s).
keep=$(
  {
    tshark -r "$full" -Y "udp or tcp.port == 40001" -T fields -e frame.number
    tshark -r "$full" -Y "tcp.port == 40002 and (tcp.flags.syn == 1 or tcp.flags.reset == 1)" -T fields -e frame.number
    tshark -r "$full" -Y "tcp.srcport == 40002 and tcp.len > 0" -T fields -e frame.number | head -3
    tshark -r "$full" -Y "tcp.dstport == 40002 and tcp.options.sack_le" -T fields -e frame.number | head -6
  } 2>/dev/null | sort -n | uniq | paste -sd, -
)
out="$here/kernel_udp_tcp.pcap"
tshark -r "$full" -Y "frame.number in {$keep}" -F pcap -w "$out.tmp" 2>/dev/null
mv "$out.tmp" "$out"
chmod 644 "$out"
tshark -r "$out" 2>/dev/null
echo "wrote $out"
