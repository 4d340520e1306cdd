#!/usr/bin/env bash
# Issue 9: TCP over TAP between the uk direct stack and the Linux kernel, next
# to the kernel talking to itself over a veth pair and through a bare TAP
# forwarder, in one run, with the same tool (benchmarks/tools/tcp_pump.cpp)
# and the same size each way. Everything runs in network namespaces this
# script creates and deletes; nothing is routed out of them.
#
#   benchmarks/tap_vs_veth.sh [BUILD_DIR]     (default build/release; root)
#
# BUILD_DIR must hold a release build of services-direct, tcp_pump and
# tap_forwarder:
#   cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release
#   cmake --build build/release -j2 --target services-direct tcp_pump tap_forwarder
# UK_BENCH_BYTES sets the size of each transfer (default 512 MiB).
#
# Paths (A -> B is the client sending, B -> A the server sending):
#   uk over TAP    Linux (10.0.0.1, namespace) <-> services-direct (10.0.0.2):
#                  discard (RFC 863, port 9) takes A -> B, chargen (RFC 864,
#                  port 19, --chargen-bytes) sends B -> A
#   forwarder      Linux <-> tap_forwarder <-> Linux, two namespaces, one
#                  thread moving frames between two TAP devices
#   veth           Linux <-> Linux over a veth pair, two namespaces
# A transfer counts from connect to the peer's FIN; B -> A checks the byte
# count, A -> B that the peer took every byte and closed cleanly (no RST).
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "SKIPPED: needs root (network namespaces, TAP and veth devices)"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIPPED: no /dev/net/tun"; exit 77; }
command -v ip >/dev/null || { echo "SKIPPED: no ip (iproute2)"; exit 77; }

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
bytes=${UK_BENCH_BYTES:-536870912}
services=$(find "$build" -name services-direct -type f -perm -u+x 2>/dev/null | head -n1)
pump=$build/benchmarks/tcp_pump
forwarder=$build/benchmarks/tap_forwarder
for program in "$services" "$pump" "$forwarder"; do
  [ -n "$program" ] && [ -x "$program" ] || {
    echo "missing services-direct, tcp_pump or tap_forwarder in $build: see the comment at the top of $0"
    exit 1
  }
done

tag=$$
namespaces=()
cleanup() {
  for ns in "${namespaces[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
  done
  sleep 0.2
  for ns in "${namespaces[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT
new_ns() {
  ip netns add "$1"
  namespaces+=("$1")
  ip netns exec "$1" ip link set lo up
}
wait_for_link() {  # NS DEV
  for _ in $(seq 100); do
    ip netns exec "$1" ip link show "$2" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "the device $2 never appeared in $1"
  exit 1
}
# measure NS send|recv HOST PORT: prints the MB/s figure, or "failed" (error,
# or slower than the 25 s each transfer may take, which keeps the run under 3 minutes).
measure() {
  local out
  out=$(timeout 25 ip netns exec "$1" "$pump" "$2" "$3" "$4" "$bytes") || { echo failed; return 0; }
  echo "$out" | awk '/^MB\/s/ { print $2 }'
}
# ratio A B: A / B, or "-" when either is not a figure.
ratio() {
  [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]] || { echo -; return 0; }
  echo "scale=2; $1 / $2" | bc
}

echo "== $bytes bytes each way per path"

# uk direct stack over TAP.
uk=uk-bench-uk-$tag
new_ns "$uk"
ip netns exec "$uk" "$services" --interface=tap0 --ipv4=10.0.0.2/24 --chargen-bytes="$bytes" -l '*:warning' \
  >/tmp/uk-bench-services-$tag.log 2>&1 &
wait_for_link "$uk" tap0
ip netns exec "$uk" ip addr add 10.0.0.1/24 dev tap0
ip netns exec "$uk" ip link set tap0 up
uk_ab=$(measure "$uk" send 10.0.0.2 9)
uk_ba=$(measure "$uk" recv 10.0.0.2 19)
echo "uk over TAP: Linux->uk $uk_ab MB/s, uk->Linux $uk_ba MB/s"

# The bare forwarder: two kernels through one userspace thread and two TAPs.
fwd=uk-bench-fwd-$tag fa=uk-bench-fa-$tag fb=uk-bench-fb-$tag
new_ns "$fwd"; new_ns "$fa"; new_ns "$fb"
ip netns exec "$fwd" "$forwarder" fwda fwdb &
wait_for_link "$fwd" fwda
wait_for_link "$fwd" fwdb
ip netns exec "$fwd" ip link set fwda netns "$fa"
ip netns exec "$fwd" ip link set fwdb netns "$fb"
ip netns exec "$fa" ip addr add 10.0.2.1/24 dev fwda
ip netns exec "$fa" ip link set fwda up
ip netns exec "$fb" ip addr add 10.0.2.2/24 dev fwdb
ip netns exec "$fb" ip link set fwdb up
ip netns exec "$fb" "$pump" discard-server 5001 &
fwd_ab=$(measure "$fa" send 10.0.2.2 5001)
ip netns exec "$fb" "$pump" source-server 5002 "$bytes" &
fwd_ba=$(measure "$fa" recv 10.0.2.2 5002)
echo "forwarder: A->B $fwd_ab MB/s, B->A $fwd_ba MB/s"

# The kernel to itself over a veth pair.
va=uk-bench-va-$tag vb=uk-bench-vb-$tag
new_ns "$va"; new_ns "$vb"
ip netns exec "$va" ip link add vetha type veth peer name vethb netns "$vb"
ip netns exec "$va" ip addr add 10.0.1.1/24 dev vetha
ip netns exec "$va" ip link set vetha up
ip netns exec "$vb" ip addr add 10.0.1.2/24 dev vethb
ip netns exec "$vb" ip link set vethb up
ip netns exec "$vb" "$pump" discard-server 5001 &
veth_ab=$(measure "$va" send 10.0.1.2 5001)
ip netns exec "$vb" "$pump" source-server 5002 "$bytes" &
veth_ba=$(measure "$va" recv 10.0.1.2 5002)
echo "veth: A->B $veth_ab MB/s, B->A $veth_ba MB/s"

status=0
for figure in "$uk_ab" "$uk_ba" "$fwd_ab" "$fwd_ba" "$veth_ab" "$veth_ba"; do
  [[ "$figure" =~ ^[0-9.]+$ ]] || status=1
done
if [ "$status" -eq 0 ]; then
  rm -f /tmp/uk-bench-services-$tag.log
else
  echo "a transfer failed or took over 25 s (services-direct's log: /tmp/uk-bench-services-$tag.log)"
fi

echo
printf '%-34s %14s %14s\n' "path ($bytes bytes)" "Linux->peer" "peer->Linux"
printf '%-34s %14s %14s\n' "uk direct over TAP (MB/s)" "$uk_ab" "$uk_ba"
printf '%-34s %14s %14s\n' "bare TAP forwarder (MB/s)" "$fwd_ab" "$fwd_ba"
printf '%-34s %14s %14s\n' "Linux veth pair (MB/s)" "$veth_ab" "$veth_ba"
printf '%-34s %14s %14s\n' "uk / forwarder" "$(ratio "$uk_ab" "$fwd_ab")" "$(ratio "$uk_ba" "$fwd_ba")"
printf '%-34s %14s %14s\n' "uk / veth" "$(ratio "$uk_ab" "$veth_ab")" "$(ratio "$uk_ba" "$veth_ba")"
exit "$status"
