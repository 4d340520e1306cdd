# Shared by the DHCP interop tests (sourced after lib.sh): dnsmasq (Debian's
# dnsmasq-base) as the DHCP server inside the test's namespace.
command -v dnsmasq >/dev/null || skip "no dnsmasq (apt-get install dnsmasq-base)"

# start_dnsmasq IFACE EXTRA-ARGS...: a DHCP-only dnsmasq in the foreground
# (-k), logging every DHCP exchange (--log-dhcp) to $work/dnsmasq.log, its
# leases in $work/leases. Leases of 2 minutes (dnsmasq's minimum) with T1 10 s
# and T2 20 s (options 58 and 59), so a renewal comes within the test.
start_dnsmasq() {
  local iface=$1; shift
  ip netns exec "$NS" dnsmasq -k --conf-file=/dev/null --port=0 --user=root \
    --bind-interfaces --interface="$iface" --except-interface=lo \
    --dhcp-range=10.0.0.100,10.0.0.150,2m --dhcp-option=option:T1,10 --dhcp-option=option:T2,20 \
    --dhcp-leasefile="$work/leases" --log-dhcp --log-facility="$work/dnsmasq.log" \
    --pid-file="$work/dnsmasq.pid" "$@" >>"$work/dnsmasq.out" 2>&1 &
  dnsmasq_pid=$!
  for _ in $(seq 100); do
    grep -q "DHCP, sockets bound" "$work/dnsmasq.log" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "dnsmasq did not start: $(cat "$work/dnsmasq.out")"
}

stop_dnsmasq() {
  kill "$dnsmasq_pid" 2>/dev/null || true
  wait "$dnsmasq_pid" 2>/dev/null || true
}

# wait_for_log FILE PATTERN SECONDS [COUNT]: until PATTERN occurs COUNT times (default 1).
wait_for_log() {
  local file=$1 pattern=$2 seconds=$3 count=${4:-1}
  for _ in $(seq $((seconds * 10))); do
    [ "$(grep -c -- "$pattern" "$file" 2>/dev/null || true)" -ge "$count" ] && return 0
    sleep 0.1
  done
  return 1
}

# leased_address LOG: the address the unikernel logged as leased.
leased_address() {
  grep -o "dhcp: [0-9.]*/[0-9]* leased" "$1" | tail -1 | sed 's|dhcp: \([0-9.]*\)/.*|\1|'
}

# On failure, show what the unikernel and dnsmasq said.
fail() {
  echo "FAILED: $*"
  echo "---- unikernel log (last 40 lines)"; tail -40 "$work/app.log" 2>/dev/null || true
  echo "---- dnsmasq DHCP exchanges"; grep -E "DHCP[A-Z]+\(" "$work/dnsmasq.log" 2>/dev/null || true
  exit 1
}
