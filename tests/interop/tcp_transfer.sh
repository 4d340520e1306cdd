#!/usr/bin/env bash
# TCP between the direct stack and the Linux kernel over TAP, in a namespace
# of its own: BYTES (default 1 GiB) sent by Linux to services-direct's echo
# and echoed back, so BYTES flow each way; the sha256 of what came back must
# be the sha256 of what was sent. Linux half-closes first; the stack answers
# with its FIN; SIGTERM exits 0.
#   tcp_transfer.sh SERVICES_DIRECT TCP_CLIENT WORKDIR [BYTES]
source "$(dirname "$0")/lib.sh"
require_root_and_tun
services=$1 client=$2 work=$3 bytes=${4:-1073741824}
mkdir -p "$work"
new_namespace "uk-tcp-transfer-$$"

ip netns exec "$NS" "$services" --interface=tap0 --ipv4=10.0.0.2/24 -l '*:info,tcp:debug' >"$work/services.log" 2>&1 &
pid=$!
wait_for_link tap0
kernel_side tap0 10.0.0.1/24

echo "== $bytes bytes each way through echo, sha256 compared"
expected=$("$client" pattern "$bytes" | sha256sum | cut -d' ' -f1)
start=$(date +%s.%N)
got=$(in_ns "$client" echo 10.0.0.2 7 "$bytes" | sha256sum | cut -d' ' -f1)
end=$(date +%s.%N)
echo "sent     $expected"
echo "echoed   $got"
[ "$expected" = "$got" ] || fail "the echoed bytes differ from the sent ones"
echo "$bytes bytes each way in $(echo "$end - $start" | bc) s: $(echo "scale=1; 2 * $bytes / ($end - $start) / 1000000" | bc) MB/s both directions together"

echo "== SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
grep -E "tcp: counters" "$work/services.log" || true
[ "$status" -eq 0 ] || fail "services-direct exited with $status"
grep -q "bad_checksum=0 " "$work/services.log" || fail "the stack saw bad checksums from Linux"
echo "PASSED"
