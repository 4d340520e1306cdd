# Shared helpers of the interop tests: each test runs in a network namespace
# it creates and deletes; nothing is routed out of it. Sourced by the tests.
set -euo pipefail

skip() { echo "SKIPPED: $*"; exit 77; }

require_root_and_tun() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and TAP devices)"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  command -v ip >/dev/null || skip "no ip (iproute2)"
}

# new_namespace NAME: creates it, brings lo up, deletes it (and kills what runs in it) on exit.
new_namespace() {
  NS=$1
  ip netns add "$NS" || skip "cannot create a network namespace"
  trap cleanup_namespace EXIT
  in_ns ip link set lo up
}

cleanup_namespace() {
  local pids
  pids=$(ip netns pids "$NS" 2>/dev/null || true)
  [ -n "$pids" ] && kill $pids 2>/dev/null || true
  sleep 0.2
  pids=$(ip netns pids "$NS" 2>/dev/null || true)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
}

in_ns() { ip netns exec "$NS" "$@"; }

# wait_for_link DEV: until the unikernel has created its TAP device.
wait_for_link() {
  for _ in $(seq 100); do
    in_ns ip link show "$1" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "the TAP device $1 never appeared"; return 1
}

# kernel_side DEV ADDR/LEN: gives the kernel end of the TAP an address.
kernel_side() {
  in_ns ip addr add "$2" dev "$1"
  in_ns ip link set "$1" up
}

fail() { echo "FAILED: $*"; exit 1; }
