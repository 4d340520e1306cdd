#!/usr/bin/env bash
# Sets up, builds and runs the demo: the www example serving uk's own docs.
#   - www-socket on 127.0.0.1:8080 (kernel sockets);
#   - as root, also www-direct: uk's own TCP/IP stack on a TAP device inside
#     a network namespace made for the demo (10.0.0.2:80), with the curl
#     command to try it.
# Ctrl-C stops both cleanly and removes the namespace.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target www-socket www-direct
bin=build/release/examples

pids=()
ns=
stop() {
  trap - INT TERM EXIT
  echo
  echo "== stopping"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true
  exit 0
}
trap stop INT TERM EXIT

echo "== www-socket: kernel sockets, http://127.0.0.1:8080/"
"$bin/www-socket" --ipv4=127.0.0.1/8 --port=8080 &
pids+=($!)

if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
  ns=uk-demo-$$
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  echo "== www-direct: uk's own TCP/IP stack on tap0 in the network namespace $ns, http://10.0.0.2/"
  ip netns exec "$ns" "$bin/www-direct" --interface=tap0 --ipv4=10.0.0.2/24 &
  pids+=($!)
  for _ in $(seq 100); do ip netns exec "$ns" ip link show tap0 >/dev/null 2>&1 && break; sleep 0.05; done
  ip netns exec "$ns" ip addr add 10.0.0.1/24 dev tap0
  ip netns exec "$ns" ip link set tap0 up
  echo "   try: sudo ip netns exec $ns curl -i http://10.0.0.2/"
else
  echo "   (run as root to also start www-direct on uk's own stack in a network namespace)"
fi
echo "   try: curl -i http://127.0.0.1:8080/"
echo "== Ctrl-C stops the demo"
wait
