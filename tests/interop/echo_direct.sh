#!/usr/bin/env bash
# The direct stack against the Linux kernel over TAP, in a namespace of its own:
# ping (100, then 8000- and 60000-byte payloads: fragments both ways), arping,
# UDP echo of 1 to 60000 bytes, the --pcap file in tshark, SIGTERM exits 0.
#   echo_direct.sh ECHO_DIRECT UDP_PROBE WORKDIR
source "$(dirname "$0")/lib.sh"
require_root_and_tun
echo_bin=$1 probe=$2 work=$3
mkdir -p "$work"
new_namespace "uk-echo-$$"

ip netns exec "$NS" "$echo_bin" --interface=tap0 --ipv4=10.0.0.2/24 --pcap="$work/echo.pcap" -l '*:info' >"$work/echo.log" 2>&1 &
pid=$!
wait_for_link tap0
kernel_side tap0 10.0.0.1/24

echo "== ping 100 times"
in_ns ping -c 100 -i 0.01 -W 2 10.0.0.2 | tee "$work/ping.txt" | tail -3
grep -q " 0% packet loss" "$work/ping.txt" || fail "ping lost packets"

echo "== ping with 8000- and 60000-byte payloads (fragmented both ways)"
in_ns ping -c 3 -i 0.2 -W 2 -s 8000 10.0.0.2 | tail -2 | tee "$work/ping8000.txt"
grep -q " 0% packet loss" "$work/ping8000.txt" || fail "8000-byte pings lost"
in_ns ping -c 3 -i 0.2 -W 2 -s 60000 10.0.0.2 | tail -2 | tee "$work/ping60000.txt"
grep -q " 0% packet loss" "$work/ping60000.txt" || fail "60000-byte pings lost"

echo "== arping"
in_ns ip neigh flush dev tap0
in_ns arping -c 3 -w 5 -I tap0 10.0.0.2 | tee "$work/arping.txt" | tail -2
grep -Eq "Received [1-9][0-9]* response" "$work/arping.txt" || fail "arping got no reply"

echo "== UDP echo, 1 to 60000 bytes"
in_ns "$probe" 10.0.0.2 7 1 2 100 1472 1473 4000 8000 30000 60000 || fail "UDP echo"

echo "== SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
cat "$work/echo.log"
[ "$status" -eq 0 ] || fail "echo-direct exited with $status"

if command -v tshark >/dev/null; then
  echo "== tshark -r echo.pcap"
  tshark -r "$work/echo.pcap" >"$work/tshark.txt" 2>/dev/null
  head -8 "$work/tshark.txt"
  grep -q "Echo (ping) reply" "$work/tshark.txt" || fail "no ping reply in the pcap"
  grep -q "ARP.*is at" "$work/tshark.txt" || fail "no ARP reply in the pcap"
fi
echo "PASSED"
