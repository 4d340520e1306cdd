#!/usr/bin/env bash
# hello-network-direct writes "omg hi network" in an Ethernet frame: the
# kernel sees it on the TAP device.
#   hello_network.sh HELLO_NETWORK_DIRECT WORKDIR
source "$(dirname "$0")/lib.sh"
require_root_and_tun
bin=$1 work=$2
mkdir -p "$work"
new_namespace "uk-hello-$$"
command -v tshark >/dev/null || skip "needs tshark to see the frame"
# Create the TAP first so the capture can start before the frame is sent.
in_ns ip tuntap add dev tap0 mode tap
in_ns ip link set tap0 up
in_ns tshark -i tap0 -f "ether proto 0x88b5" -a duration:20 -c 1 -w "$work/hello.pcap" -F pcap >"$work/tshark.log" 2>&1 &
capture=$!
for _ in $(seq 100); do grep -q "Capturing on" "$work/tshark.log" && break; sleep 0.1; done
sleep 0.5
in_ns "$bin" --interface=tap0 2>&1 | tee "$work/hello.log"
wait "$capture" || true
grep -q "said hello!" "$work/hello.log" || fail "no 'said hello!'"
tshark -r "$work/hello.pcap" 2>/dev/null | head -3 || true
grep -aq "omg hi network" "$work/hello.pcap" || fail "the kernel did not see the frame"
echo "PASSED"
