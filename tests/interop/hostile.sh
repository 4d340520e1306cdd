#!/usr/bin/env bash
# Hostile input into the TAP (truncated frames, bad checksums and lengths, a
# fragment flood, an ARP flood, random bytes) leaves the stack answering pings,
# with its memory bounded and the drops counted.
#   hostile.sh ECHO_DIRECT FRAME_BLASTER WORKDIR
source "$(dirname "$0")/lib.sh"
require_root_and_tun
echo_bin=$1 blaster=$2 work=$3
mkdir -p "$work"
new_namespace "uk-hostile-$$"

ip netns exec "$NS" "$echo_bin" --interface=tap0 --ipv4=10.0.0.2/24 --mac=02:00:00:00:00:02 \
  -l '*:info,ethernet:debug,arp:debug,ipv4:debug,icmp:debug,udp:debug' >"$work/echo.log" 2>&1 &
pid=$!
wait_for_link tap0
kernel_side tap0 10.0.0.1/24
in_ns ping -c 3 -i 0.2 -W 2 10.0.0.2 >/dev/null || fail "no ping before the barrage"
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
before=$(rss)

echo "== barrage"
in_ns "$blaster" tap0 02:00:00:00:00:02 10.0.0.2 5000 1 | tee "$work/blaster.txt"
after_barrage=$(rss)
in_ns "$blaster" tap0 02:00:00:00:00:02 10.0.0.2 5000 2 >/dev/null
after_second=$(rss)

echo "== ping after the barrage"
in_ns ping -c 20 -i 0.05 -W 2 10.0.0.2 | tail -2 | tee "$work/ping.txt"
grep -q " 0% packet loss" "$work/ping.txt" || fail "the stack stopped answering"

echo "RSS before: ${before} kB, after 35000 hostile frames: ${after_barrage} kB, after 70000: ${after_second} kB"
# Bounded: a second barrage as large as the first must not grow memory by more than 1 MiB.
[ $((after_second - after_barrage)) -lt 1024 ] || fail "memory grows with hostile input"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || fail "echo-direct exited with $status"
grep "counters:" "$work/echo.log"
grep -Eq "ipv4: counters: .* bad_checksum=[1-9]" "$work/echo.log" || fail "bad IPv4 checksums not counted"
grep -Eq "ipv4: counters: .* bad_header=[1-9]" "$work/echo.log" || fail "bad IPv4 lengths not counted"
grep -Eq "udp: counters: .* rx_bad_checksum=[1-9]" "$work/echo.log" || fail "bad UDP checksums not counted"
grep -Eq "ethernet: counters: .* unknown_ethertype=[1-9]" "$work/echo.log" || fail "random frames not counted"
# (Frames shorter than an Ethernet header never reach the TAP: the kernel refuses to send them.)
echo "PASSED"
