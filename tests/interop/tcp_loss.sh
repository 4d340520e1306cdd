#!/usr/bin/env bash
# TCP loss recovery against the Linux kernel, with real loss in both
# directions: the stack's namespace routes between its TAP (10.0.0.0/24) and
# a veth pair to a second namespace holding the Linux client (10.0.1.0/24),
# and nftables drops a share of the forwarded TCP segments each way (this
# kernel has no netem; a drop in the OUTPUT hook would only make Linux's TCP
# send again locally, never a loss on the wire). BYTES go each way through
# services-direct's echo; what comes back must be byte-identical (sha256),
# SACK must have been used in both directions (RFC 2018, RFC 6675), and the
# stack must exit cleanly on SIGTERM.
#   tcp_loss.sh SERVICES_DIRECT TCP_CLIENT WORKDIR [BYTES] [PERCENT]
source "$(dirname "$0")/lib.sh"
require_root_and_tun
command -v nft >/dev/null || skip "no nft (Debian's nftables; scripts/setup.sh installs it)"
services=$1 client=$2 work=$3 bytes=${4:-67108864} percent=${5:-2}
mkdir -p "$work"
new_namespace "uk-tcp-loss-$$"
client_ns="uk-tcp-loss-client-$$"
ip netns add "$client_ns" || skip "cannot create a second network namespace"
trap 'ip netns del "$client_ns" 2>/dev/null || true; cleanup_namespace' EXIT
in_client() { ip netns exec "$client_ns" "$@"; }

ip netns exec "$NS" "$services" --interface=tap0 --ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1 \
  -l '*:info,tcp:debug' >"$work/services.log" 2>&1 &
pid=$!
wait_for_link tap0
kernel_side tap0 10.0.0.1/24
# The router: the stack's namespace forwards between tap0 and the veth pair.
in_ns ip link add veth0 type veth peer name veth1 netns "$client_ns"
in_ns ip addr add 10.0.1.1/24 dev veth0
in_ns ip link set veth0 up
in_ns sysctl -qw net.ipv4.ip_forward=1
in_client ip link set lo up
in_client ip addr add 10.0.1.2/24 dev veth1
in_client ip link set veth1 up
in_client ip route add 10.0.0.0/24 via 10.0.1.1
# Drop PERCENT % of the forwarded TCP segments each way, at random.
in_ns nft -f - <<NFT
table inet uk_loss {
  chain forward { type filter hook forward priority 0; ip protocol tcp numgen random mod 100 < $percent counter drop; }
}
NFT

echo "== $bytes bytes each way through echo, $percent % of the segments dropped each way in the router"
expected=$("$client" pattern "$bytes" | sha256sum | cut -d' ' -f1)
start=$(date +%s.%N)
got=$(in_client timeout 300 "$client" echo 10.0.0.2 7 "$bytes" | sha256sum | cut -d' ' -f1)
end=$(date +%s.%N)
echo "sent     $expected"
echo "echoed   $got"
[ "$expected" = "$got" ] || fail "the echoed bytes differ from the sent ones"
echo "$(echo "scale=1; 2 * $bytes / ($end - $start) / 1000000" | bc) MB/s both directions together under loss"
in_ns nft list ruleset | grep -E "counter" || true

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
