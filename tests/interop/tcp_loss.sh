#!/usr/bin/env bash
# TCP loss recovery against the Linux kernel: nftables in the test's own
# namespace drops a share of the frames on tap0 in each direction (Linux has
# no netem here), while BYTES go each way through services-direct's echo.
# What comes back must be byte-identical (sha256), SACK must have been
# negotiated and used to recover (RFC 2018, RFC 6675), and the stack must exit
# cleanly on SIGTERM.
#   tcp_loss.sh SERVICES_DIRECT TCP_CLIENT WORKDIR [BYTES] [PERCENT]
source "$(dirname "$0")/lib.sh"
require_root_and_tun
command -v nft >/dev/null || skip "no nft (Debian's nftables; scripts/setup.sh installs it)"
services=$1 client=$2 work=$3 bytes=${4:-67108864} percent=${5:-2}
mkdir -p "$work"
new_namespace "uk-tcp-loss-$$"

ip netns exec "$NS" "$services" --interface=tap0 --ipv4=10.0.0.2/24 -l '*:info,tcp:debug' >"$work/services.log" 2>&1 &
pid=$!
wait_for_link tap0
kernel_side tap0 10.0.0.1/24
# Drop PERCENT % of the TCP segments each way, at random, on the kernel's side of the TAP.
in_ns nft -f - <<NFT
table inet uk_loss {
  chain input { type filter hook input priority 0; iifname "tap0" ip protocol tcp numgen random mod 100 < $percent drop; }
  chain output { type filter hook output priority 0; oifname "tap0" ip protocol tcp numgen random mod 100 < $percent drop; }
}
NFT

echo "== $bytes bytes each way through echo, $percent % of the segments dropped each way"
expected=$("$client" pattern "$bytes" | sha256sum | cut -d' ' -f1)
start=$(date +%s.%N)
got=$(in_ns timeout 300 "$client" echo 10.0.0.2 7 "$bytes" | sha256sum | cut -d' ' -f1)
end=$(date +%s.%N)
echo "sent     $expected"
echo "echoed   $got"
[ "$expected" = "$got" ] || fail "the echoed bytes differ from the sent ones"
echo "$(echo "scale=1; 2 * $bytes / ($end - $start) / 1000000" | bc) MB/s both directions together under loss"
in_ns nft list ruleset | grep -E "drop|packets" | head -4 || true

echo "== SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || fail "services-direct exited with $status"
totals=$(grep -E "tcp: connections: " "$work/services.log" | tail -1)
echo "$totals"
recoveries=$(sed -E 's/.*sack_recoveries=([0-9]+).*/\1/' <<<"$totals")
blocks_in=$(sed -E 's/.*sack_blocks: in=([0-9]+).*/\1/' <<<"$totals")
blocks_out=$(sed -E 's/.* out=([0-9]+) invalid.*/\1/' <<<"$totals")
[ "${recoveries:-0}" -gt 0 ] || fail "no SACK recovery: was SACK negotiated with Linux?"
[ "${blocks_in:-0}" -gt 0 ] || fail "Linux sent no SACK blocks"
[ "${blocks_out:-0}" -gt 0 ] || fail "the stack sent no SACK blocks"
echo "PASSED"
