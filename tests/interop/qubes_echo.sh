#!/usr/bin/env bash
# echo-qubes against a fake dom0 QubesDB over the socket vchan, in a network
# namespace of its own: it boots with the address QubesDB gives (a /32 with
# an on-link gateway), answers ping and UDP from Linux over TAP, follows
# dom0 when /qubes-ip changes, reconnects with a fresh MULTIREAD when dom0's
# daemon restarts, and exits 0 on SIGTERM. A VM whose /qubes-ip is malformed
# or missing does not boot: exit status 2 and a message naming the key.
# The fake qrexec-daemon and qubes-guid let it boot (init_for<qubes> connects
# both agents before the application starts); a qrexec command is answered
# "service not found", exit code 127.
#   qubes_echo.sh ECHO_QUBES FAKE_QUBESDB UDP_PROBE WORKDIR FAKE_QREXEC FAKE_GUI
source "$(dirname "$0")/lib.sh"
require_root_and_tun
echo_bin=$1 fake=$2 probe=$3 work=$4 fake_qrexec=$5 fake_gui=$6
rm -rf "$work" && mkdir -p "$work/vchan" "$work/vchan-bad" "$work/vchan-none"
new_namespace "uk-qdb-$$"
vm=5

wait_for_line() {  # wait_for_line FILE REGEX
  for _ in $(seq 200); do grep -Eq "$2" "$1" && return 0; sleep 0.05; done
  echo "--- $1"; cat "$1"; return 1
}

# ip netns exec execs the program: $! is its pid, for the signals below.
ip netns exec "$NS" "$fake" --vchan-dir="$work/vchan" --vm-domid=$vm \
  --on-usr1=/qubes-ip=10.137.0.6 \
  /name=echo-vm /qubes-ip=10.137.0.5 /qubes-gateway=10.137.0.1 /qubes-netmask=255.255.255.255 \
  /qubes-primary-dns=10.139.1.1 /qubes-secondary-dns=10.139.1.2 >"$work/dom0.log" 2>&1 &
dom0=$!
ip netns exec "$NS" "$fake_qrexec" --vchan-dir="$work/vchan" --domid=$vm \
  --exec='user:QUBESRPC qubes.WaitForSession+ dom0' --stay >"$work/qrexec.log" 2>&1 &
qrexec=$!
ip netns exec "$NS" "$fake_gui" --vchan-dir="$work/vchan" --domid=$vm --stay >"$work/gui.log" 2>&1 &
gui=$!  # (the namespace cleanup of lib.sh stops both)
ip netns exec "$NS" "$echo_bin" --interface=tap0 --vchan-dir="$work/vchan" --qubes-domid=$vm -l '*:info' >"$work/echo.log" 2>&1 &
pid=$!
wait_for_link tap0
wait_for_line "$work/echo.log" "echoing UDP on port 7" || fail "echo-qubes did not boot"
grep -q "IPv4 from QubesDB: 10.137.0.5/32 gateway 10.137.0.1" "$work/echo.log" || fail "no address from QubesDB"
grep -q "MULTIREAD ''" "$work/dom0.log" || fail "dom0 saw no MULTIREAD"
wait_for_line "$work/qrexec.log" "exit code 127" || fail "qrexec did not answer 'service not found'"
grep -q "qubes.WaitForSession: service not found" "$work/qrexec.log" || fail "no 'service not found' on stderr"
grep -q "protocol 1.8" "$work/gui.log" || fail "no GUI handshake at 1.8"

# The kernel plays the netvm: the gateway's address, and a host route to the VM (Qubes' /32 scheme).
in_ns ip addr add 10.137.0.1/32 dev tap0
in_ns ip link set tap0 up
in_ns ip route add 10.137.0.5/32 dev tap0

echo "== ping the address QubesDB gave"
in_ns ping -c 20 -i 0.05 -W 2 10.137.0.5 | tee "$work/ping.txt" | tail -2
grep -q " 0% packet loss" "$work/ping.txt" || fail "ping lost packets"

echo "== UDP echo"
in_ns "$probe" 10.137.0.5 7 1 100 1472 4000 || fail "UDP echo"

echo "== dom0 changes /qubes-ip: the stack follows"
kill -USR1 $dom0
wait_for_line "$work/echo.log" "IPv4 from QubesDB changed: 10.137.0.6/32" || fail "the change was not followed"
in_ns ip route add 10.137.0.6/32 dev tap0
in_ns ping -c 5 -i 0.1 -W 2 10.137.0.6 | tee "$work/ping6.txt" | tail -2
grep -q " 0% packet loss" "$work/ping6.txt" || fail "the new address does not answer"

echo "== dom0's daemon restarts: a fresh MULTIREAD, and the VM keeps working"
kill -HUP $dom0
for _ in $(seq 200); do [ "$(grep -c "MULTIREAD ''" "$work/dom0.log")" -ge 2 ] && break; sleep 0.05; done
[ "$(grep -c "MULTIREAD ''" "$work/dom0.log")" -eq 2 ] || fail "no second MULTIREAD after the restart"
in_ns "$probe" 10.137.0.6 7 10 || fail "UDP echo after dom0's restart"

echo "== SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
cat "$work/echo.log"
[ "$status" -eq 0 ] || fail "echo-qubes exited with $status"
grep -q "fatal" "$work/dom0.log" && fail "the fake dom0 saw what the real daemon treats as fatal"
kill -TERM $dom0; wait $dom0 || true
echo "--- dom0.log"; cat "$work/dom0.log"

echo "== a malformed /qubes-ip stops the boot with exit status 2"
in_ns "$fake" --vchan-dir="$work/vchan-bad" --vm-domid=$vm /qubes-ip=10.137.0 /qubes-gateway=10.137.0.1 \
  >"$work/dom0-bad.log" 2>&1 &
status=0
in_ns timeout 30 "$echo_bin" --interface=tap1 --vchan-dir="$work/vchan-bad" --qubes-domid=$vm >"$work/bad.log" 2>&1 || status=$?
cat "$work/bad.log"
[ "$status" -eq 2 ] || fail "a malformed /qubes-ip gave exit status $status, not 2"
grep -q "/qubes-ip is '10.137.0', not an IPv4 address" "$work/bad.log" || fail "no clear message"

echo "== a VM without /qubes-ip does not boot either"
in_ns "$fake" --vchan-dir="$work/vchan-none" --vm-domid=$vm /name=offline-vm >"$work/dom0-none.log" 2>&1 &
status=0
in_ns timeout 30 "$echo_bin" --interface=tap2 --vchan-dir="$work/vchan-none" --qubes-domid=$vm >"$work/none.log" 2>&1 || status=$?
cat "$work/none.log"
[ "$status" -eq 2 ] || fail "a missing /qubes-ip gave exit status $status, not 2"
grep -q "no /qubes-ip" "$work/none.log" || fail "no clear message"
echo "PASSED"
