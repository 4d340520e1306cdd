#!/usr/bin/env bash
# The direct stack's DHCP client against dnsmasq over TAP, in a namespace of
# its own: it gets a lease and answers ping on the leased address; it renews
# at the server's T1 (10 s); when dnsmasq stops it keeps its address, and
# when dnsmasq comes back it rebinds at T2; SIGTERM releases the lease.
#   dhcp_lease.sh ECHO_DIRECT WORKDIR
source "$(dirname "$0")/lib.sh"
require_root_and_tun
echo_bin=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
source "$(dirname "$0")/dhcp_common.sh"
new_namespace "uk-dhcp-lease-$$"
trap 'stop_dnsmasq; cleanup_namespace' EXIT

# A persistent TAP made beforehand: it outlives the unikernel, so the kernel
# still takes the DHCPRELEASE written just before the process exits (a TAP
# the process creates is deleted with it, and with it the frames the kernel
# has not processed yet).
in_ns ip tuntap add dev tap0 mode tap
ip netns exec "$NS" "$echo_bin" --interface=tap0 --mac=02:00:00:00:00:02 --dhcp-hostname=uk-dhcp-test \
  -l '*:info,dhcp:debug' >"$work/app.log" 2>&1 &
pid=$!
wait_for_link tap0
kernel_side tap0 10.0.0.1/24
start_dnsmasq tap0

echo "== a lease"
wait_for_log "$work/app.log" "leased from 10.0.0.1" 30 || fail "no lease: $(cat "$work/app.log")"
address=$(leased_address "$work/app.log")
echo "leased $address"
grep "DHCPACK" "$work/dnsmasq.log" | head -1
grep -q "DHCPACK(tap0) $address 02:00:00:00:00:02 uk-dhcp-test" "$work/dnsmasq.log" || fail "dnsmasq did not ACK $address to uk-dhcp-test"
grep -q "echoing UDP on port 7" "$work/app.log" || fail "the app did not start after the lease"

echo "== ping $address"
in_ns ping -c 3 -i 0.2 -W 2 "$address" | tail -2 | tee "$work/ping.txt"
grep -q " 0% packet loss" "$work/ping.txt" || fail "ping lost packets"

echo "== a renewal at T1 (10 s), unicast"
wait_for_log "$work/app.log" "renewed by 10.0.0.1" 30 || fail "no renewal: $(tail -20 "$work/app.log")"
grep "DHCPREQUEST\|DHCPACK" "$work/dnsmasq.log" | tail -2
[ "$(grep -c "DHCPACK(tap0) $address" "$work/dnsmasq.log")" -ge 2 ] || fail "dnsmasq logged no second ACK"

echo "== dnsmasq stops: the lease is kept; it comes back: REBINDING at T2 gets an ACK"
stop_dnsmasq
wait_for_log "$work/app.log" "BOUND -> RENEWING" 30 2 || fail "no renewal attempt while dnsmasq is down"
in_ns ping -c 3 -i 0.2 -W 2 "$address" >"$work/ping_down.txt" || true
grep -q " 0% packet loss" "$work/ping_down.txt" || fail "the address was dropped while the lease is valid"
renewals=$(grep -c "renewed by" "$work/app.log")
start_dnsmasq tap0
wait_for_log "$work/app.log" "renewed by 10.0.0.1" 40 $((renewals + 1)) || fail "no renewal after dnsmasq came back"
grep -q "RENEWING -> REBINDING" "$work/app.log" || echo "(renewed before T2)"
in_ns ping -c 2 -i 0.2 -W 2 "$address" | tail -2 | tee "$work/ping2.txt"
grep -q " 0% packet loss" "$work/ping2.txt" || fail "ping lost packets after the rebinding"

echo "== SIGTERM: DHCPRELEASE"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || fail "echo-direct exited with $status"
wait_for_log "$work/dnsmasq.log" "DHCPRELEASE(tap0) $address" 5 || fail "dnsmasq saw no DHCPRELEASE"

echo "== dnsmasq's log of the lease, the renewals and the release"
grep -E "DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK|RELEASE)" "$work/dnsmasq.log"
echo "PASSED"
