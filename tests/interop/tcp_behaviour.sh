#!/usr/bin/env bash
# TCP behaviours of the direct stack against the Linux kernel over TAP, in a
# namespace of its own (services-direct on the stack side, tcp_client on Linux):
#   200 concurrent connections to echo, each checked byte by byte;
#   a connect to a closed port is refused (RST, RFC 9293 3.10.7.1);
#   Linux resets a connection with unread data (SO_LINGER 0): the stack drops it;
#   Linux closes first (half-close, then the stack's FIN);
#   the stack closes first (chargen with --chargen-bytes);
#   a slow Linux reader with a small receive buffer: the window closes and reopens;
# and at the end every connection is gone from the stack's table.
#   tcp_behaviour.sh SERVICES_DIRECT TCP_CLIENT WORKDIR
source "$(dirname "$0")/lib.sh"
require_root_and_tun
services=$1 client=$2 work=$3
mkdir -p "$work"
new_namespace "uk-tcp-behaviour-$$"

# A short MSL so that TIME-WAIT (2 MSL) is over before the end of the test.
ip netns exec "$NS" "$services" --interface=tap0 --ipv4=10.0.0.2/24 --chargen-bytes=3000000 --tcp-msl=1s \
  --pcap="$work/services.pcap" -l '*:info,tcp:debug' >"$work/services.log" 2>&1 &
pid=$!
wait_for_link tap0
kernel_side tap0 10.0.0.1/24

echo "== 200 concurrent connections to echo, 20000 bytes each"
in_ns timeout 120 "$client" many 10.0.0.2 7 200 20000 || fail "concurrent echo"

echo "== connection refused on a closed port"
in_ns timeout 10 "$client" refused 10.0.0.2 8 || fail "no refusal"

echo "== Linux resets a connection with data in flight"
in_ns timeout 10 "$client" reset 10.0.0.2 7 || fail "reset"
in_ns timeout 10 "$client" echo 10.0.0.2 7 1000 >/dev/null || fail "echo after a reset"

echo "== Linux closes first (half-close, the stack finishes its half)"
in_ns timeout 30 "$client" echo 10.0.0.2 7 1000000 | cmp - <("$client" pattern 1000000) || fail "half-close echo"

echo "== the stack closes first (chargen sends 3000000 bytes, then closes)"
in_ns timeout 30 "$client" chargen 10.0.0.2 19 3000000 || fail "chargen"

echo "== a slow Linux reader: the window closes, then reopens"
in_ns timeout 60 "$client" chargen 10.0.0.2 19 3000000 100 || fail "slow reader"

sleep 3  # TIME-WAIT is 2 s here
echo "== SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
grep -E "tcp: counters" "$work/services.log" || true
[ "$status" -eq 0 ] || fail "services-direct exited with $status"
grep -q "tcp: counters: .* connections=0 " "$work/services.log" || fail "connections left in the table"
grep -Eq "tcp: counters: .* no_connection=[1-9]" "$work/services.log" || fail "the refused connect was not counted"

if command -v tshark >/dev/null; then
  echo "== tshark: zero windows and window updates from the stack"
  tshark -r "$work/services.pcap" -Y "ip.src==10.0.0.2 && tcp.srcport==19" >/dev/null 2>&1 || true
  zero=$(tshark -r "$work/services.pcap" -Y "tcp.analysis.zero_window_probe || tcp.analysis.zero_window" 2>/dev/null | wc -l)
  echo "zero-window segments and probes: $zero"
  [ "$zero" -gt 0 ] || fail "the slow reader never closed the window"
fi
echo "PASSED"
