#!/usr/bin/env bash
# The www example against curl, in a network namespace of its own:
#   socket variant: on the namespace's loopback, port 8080;
#   direct variant: uk's stack on a TAP device (10.0.0.2), port 80;
#   qubes variant: the same stack with its address from a fake dom0 QubesDB
#     (10.137.0.5/32, on-link gateway 10.137.0.1) and the fake qrexec and GUI
#     daemons, over the socket vchan.
# Every file of a generated site fetched with sha256 compared; HEAD, 404, 405,
# Range, If-Modified-Since; 1000 requests on one kept-alive connection;
# pipelining; 100 concurrent clients; a malformed request gets 400 and the
# server keeps serving; a path escaping the root is refused; SIGTERM exits 0.
#   www.sh socket|direct WWW_BINARY WORKDIR
#   www.sh qubes WWW_BINARY WORKDIR FAKE_QUBESDB FAKE_QREXEC FAKE_GUI
source "$(dirname "$0")/lib.sh"
require_root_and_tun
variant=$1 www=$2 work=$3
command -v curl >/dev/null || skip "no curl"
rm -rf "$work" && mkdir -p "$work/site/sub dir"
new_namespace "uk-www-$variant-$$"

echo "== the test site"
site=$work/site
: >"$site/empty.txt"
printf 'x' >"$site/one.txt"
head -c 1024 /dev/urandom >"$site/1k.bin"
head -c 100000 /dev/urandom >"$site/100k.bin"
head -c 5000000 /dev/urandom >"$site/5m.bin"
echo '<h1>index</h1>' >"$site/index.html"
echo 'nested' >"$site/sub dir/nested file.txt"
echo 'secret' >"$work/outside.txt"
ln -s "$work/outside.txt" "$site/escape.txt"

case $variant in
  socket)
    host=127.0.0.1 port=8080
    ip netns exec "$NS" "$www" --root="$site" -l '*:info' >"$work/www.log" 2>&1 &
    pid=$! ;;
  direct)
    host=10.0.0.2 port=80
    ip netns exec "$NS" "$www" --root="$site" --interface=tap0 --ipv4=10.0.0.2/24 -l '*:info' >"$work/www.log" 2>&1 &
    pid=$!
    wait_for_link tap0
    kernel_side tap0 10.0.0.1/24 ;;
  qubes)
    host=10.137.0.5 port=80 vm=5
    fake_qubesdb=$4 fake_qrexec=$5 fake_gui=$6
    mkdir -p "$work/vchan"
    ip netns exec "$NS" "$fake_qubesdb" --vchan-dir="$work/vchan" --vm-domid=$vm /name=www-vm \
      /qubes-ip=10.137.0.5 /qubes-gateway=10.137.0.1 /qubes-netmask=255.255.255.0 >"$work/dom0.log" 2>&1 &
    ip netns exec "$NS" "$fake_qrexec" --vchan-dir="$work/vchan" --domid=$vm --stay >"$work/qrexec.log" 2>&1 &
    ip netns exec "$NS" "$fake_gui" --vchan-dir="$work/vchan" --domid=$vm --stay >"$work/gui.log" 2>&1 &
    ip netns exec "$NS" "$www" --root="$site" --interface=tap0 --vchan-dir="$work/vchan" --qubes-domid=$vm \
      -l '*:info' >"$work/www.log" 2>&1 &
    pid=$!
    wait_for_link tap0
    # The kernel plays the netvm: the gateway's address and a host route to the VM (Qubes' /32 scheme).
    in_ns ip addr add 10.137.0.1/32 dev tap0
    in_ns ip link set tap0 up
    in_ns ip route add 10.137.0.5/32 dev tap0 ;;
  *) fail "unknown variant $variant" ;;
esac
base=http://$host:$port
for _ in $(seq 100); do in_ns curl -s -o /dev/null "$base/" && break; sleep 0.1; done
echo "-- boot log"; head -12 "$work/www.log"
show_log() { echo "-- www log (last lines)"; tail -20 "$work/www.log"; }
trap 'show_log; cleanup_namespace' EXIT

echo "== every file, sha256 compared"
while IFS= read -r -d '' file; do
  rel=${file#"$site"}
  url=$base$(printf '%s' "$rel" | sed 's/ /%20/g')
  want=$(sha256sum <"$file" | cut -d' ' -f1)
  got=$(in_ns curl -sf "$url" | sha256sum | cut -d' ' -f1) || fail "GET $rel"
  [ "$want" = "$got" ] || fail "GET $rel: sha256 differs"
  echo "ok $rel"
done < <(find "$site" -type f -print0)
[ "$(in_ns curl -s "$base/")" = "<h1>index</h1>" ] || fail "/ is not index.html"

echo "== HEAD"
in_ns curl -sI "$base/100k.bin" | tr -d '\r' >"$work/head.txt"
grep -q '^HTTP/1.1 200' "$work/head.txt" || fail "HEAD status"
grep -qi '^Content-Length: 100000$' "$work/head.txt" || fail "HEAD Content-Length"
grep -qi '^Last-Modified: ' "$work/head.txt" || fail "HEAD Last-Modified"
[ "$(in_ns curl -s -X HEAD -m 5 -w '%{size_download}' -o /dev/null "$base/100k.bin" 2>/dev/null || true)" = "0" ] || fail "HEAD sent a body"

echo "== 404, 405, traversal"
[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' "$base/missing")" = 404 ] || fail "no 404"
[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' -X DELETE "$base/one.txt")" = 405 ] || fail "no 405"
in_ns curl -s -D - -o /dev/null -X POST -d x "$base/one.txt" | tr -d '\r' | grep -qi '^Allow: GET, HEAD$' || fail "405 without Allow"
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' --path-as-is "$base/../outside.txt")
[ "$code" = 400 ] || fail "/../outside.txt answered $code"
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' "$base/escape.txt")
[ "$code" = 404 ] || fail "a symbolic link out of the root answered $code"

echo "== Range"
in_ns curl -s -r 1000-1999 -D "$work/range.h" "$base/100k.bin" -o "$work/range.bin"
grep -q '^HTTP/1.1 206' "$work/range.h" || fail "Range: no 206"
tr -d '\r' <"$work/range.h" | grep -qi '^Content-Range: bytes 1000-1999/100000$' || fail "Content-Range"
cmp "$work/range.bin" <(tail -c +1001 "$site/100k.bin" | head -c 1000) || fail "Range bytes differ"
in_ns curl -s -r -10 "$base/100k.bin" | cmp - <(tail -c 10 "$site/100k.bin") || fail "suffix range"
[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' -r 200000- "$base/100k.bin")" = 416 ] || fail "no 416"

echo "== If-Modified-Since"
lm=$(grep -i '^Last-Modified: ' "$work/head.txt" | cut -d' ' -f2-)
[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $lm" "$base/100k.bin")" = 304 ] || fail "no 304"
[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' -H 'If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT' "$base/100k.bin")" = 200 ] || fail "old date: no 200"

echo "== 1000 requests on one connection (and no Nagle/delayed-ACK stall: 1000 in under 20 s)"
for i in $(seq 1000); do echo "url = \"$base/1k.bin\""; echo "output = \"/dev/null\""; done >"$work/keepalive.cfg"
start=$(date +%s%N)
in_ns curl -s -K "$work/keepalive.cfg" -w '%{http_code} %{num_connects}\n' >"$work/keepalive.txt"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "1000 requests in $elapsed_ms ms"
[ "$elapsed_ms" -lt 20000 ] || fail "1000 kept-alive requests took $elapsed_ms ms (a stall per request)"
[ "$(grep -c '^200 ' "$work/keepalive.txt")" = 1000 ] || fail "keep-alive: not 1000 answers of 200"
connects=$(awk '{s += $2} END {print s}' "$work/keepalive.txt")
[ "$connects" = 1 ] || fail "keep-alive: $connects connections for 1000 requests"

echo "== pipelining: two requests in one write"
answers=$(in_ns bash -c "exec 3<>/dev/tcp/$host/$port; printf 'GET /one.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /one.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' >&3; timeout 5 cat <&3" | grep -o 'HTTP/1.1 200' | wc -l)
[ "$answers" = 2 ] || fail "pipelining: $answers answers"

echo "== 100 concurrent clients"
seq 100 | in_ns xargs -P 100 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$base/100k.bin" >"$work/concurrent.txt"
[ "$(grep -c '^200$' "$work/concurrent.txt")" = 100 ] || fail "concurrent: $(sort "$work/concurrent.txt" | uniq -c)"

echo "== a malformed request gets 400, and the server keeps serving"
bad=$(in_ns bash -c "exec 3<>/dev/tcp/$host/$port; printf 'NOT A REQUEST\r\n\r\n' >&3; timeout 5 cat <&3" | head -1 | tr -d '\r')
[ "$bad" = "HTTP/1.1 400 Bad Request" ] || fail "malformed request answered: $bad"
long=$(head -c 20000 /dev/zero | tr '\0' a)
[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' -H "X-Long: $long" "$base/one.txt")" = 431 ] || fail "no 431 for a 20 KB header"
[ "$(in_ns curl -s "$base/one.txt")" = x ] || fail "not serving after bad requests"

echo "== SIGTERM"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || fail "www exited with $status"
grep -q '"GET /1k.bin HTTP/1.1" 200 1024' "$work/www.log" || fail "no request log line"
echo "PASSED"
