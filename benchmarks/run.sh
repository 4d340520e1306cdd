#!/usr/bin/env bash
# benchmarks/run.sh: the speed comparison of issue 9, in one command.
#   1. builds the benchmarks (Release, no unit tests) in build/bench;
#   2. runs bench_tcp_compare (uk and lwIP 2.1.3 side by side, in one process)
#      and prints uk/lwIP ratios of bulk MB/s, request/response transactions/s
#      and 64-byte UDP ns/packet (medians of a few repetitions, CPU time);
#   3. counts instructions under callgrind (stable on a noisy shared machine):
#      per byte of bulk transfer and per transaction, uk against lwIP, and the
#      functions where uk's bulk path spends them;
#   4. runs the other speed benchmarks when they exist: benchmarks/tap_vs_veth.sh
#      (uk over TAP against the kernel over veth) and bench_tcp_scale.
# Environment: UK_BENCH_BUILD_DIR (default build/bench), UK_JOBS (default 2),
# UK_BENCH_MIN_TIME (seconds per benchmark, default 0.5), UK_BENCH_REPETITIONS (5).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${UK_BENCH_BUILD_DIR:-build/bench}
jobs=${UK_JOBS:-2}
min_time=${UK_BENCH_MIN_TIME:-0.5}
repetitions=${UK_BENCH_REPETITIONS:-5}
out="$build/results"

echo "== build ($build, Release)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DUK_BUILD_UNIT_TESTS=OFF -DUK_BUILD_EXAMPLES=ON \
  | grep -E '^-- lwIP' || true
# bench_tcp_compare, and what tap_vs_veth.sh runs (built only when it will run: as root).
targets=(bench_tcp_compare)
[ "$(id -u)" -eq 0 ] && [ -x benchmarks/tap_vs_veth.sh ] && targets+=(services-direct tcp_pump tap_forwarder)
have_scale=0
if cmake --build "$build" --target help | grep -w bench_tcp_scale >/dev/null; then  # not -q: pipefail
  targets+=(bench_tcp_scale)
  have_scale=1
fi
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >/dev/null
bench="$build/benchmarks/bench_tcp_compare"
mkdir -p "$out"

# Repetitions interleaved at random, so that a change in the machine's load
# during the run falls on both stacks alike.
echo "== bench_tcp_compare (${repetitions} x ${min_time}s each, interleaved; medians of CPU time)"
"$bench" --benchmark_min_time="$min_time" --benchmark_repetitions="$repetitions" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_format=json --benchmark_out="$out/tcp_compare.json" \
  --benchmark_out_format=json >/dev/null
python3 - "$out/tcp_compare.json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
median = {r["run_name"]: r for r in runs if r.get("aggregate_name") == "median"}
if not median:  # one repetition: no aggregates
    median = {r["run_name"]: r for r in runs if r.get("run_type") == "iteration"}
def get(name, key):
    r = median.get(name)
    return None if r is None or r.get("error_occurred") else r.get(key)
def ns(name):
    r = median.get(name)
    if r is None or r.get("error_occurred"): return None
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[r["time_unit"]]
    return r["cpu_time"] * scale
rows = [
    ("TCP bulk, MB/s", get("uk_tcp_bulk", "bytes_per_second"), get("lwip_tcp_bulk", "bytes_per_second"), 1e-6, "higher is better"),
    ("TCP RR 64 B, transactions/s", get("uk_tcp_rr", "items_per_second"), get("lwip_tcp_rr", "items_per_second"), 1, "higher is better"),
    ("UDP 64 B one way, ns/packet", ns("uk_udp_64"), ns("lwip_udp_64"), 1, "lower is better"),
]
print(f"{'':30} {'uk':>14} {'lwIP':>14} {'uk/lwIP':>8}")
for label, uk, lw, scale, note in rows:
    fmt = lambda v: "-" if v is None else (f"{v * scale:14,.0f}" if v * scale >= 100 else f"{v * scale:14.1f}")
    ratio = f"{uk / lw:8.2f}" if uk and lw else "       -"
    print(f"{label:30} {fmt(uk):>14} {fmt(lw):>14} {ratio}  ({note})")
if not any(k.startswith("lwip_") for k in median):
    print("lwIP: skipped (its source could not be fetched; see benchmarks/lwip/fetch_lwip.sh)")
PY

echo "== instructions (valgrind --tool=callgrind; a warm connection, then a fixed amount of work)"
if ! command -v valgrind >/dev/null; then
  echo "callgrind: skipped (no valgrind; scripts/setup.sh installs it)"
else
  # Callgrind counts each byte a `rep movsb` moves as one instruction, so glibc's
  # memcpy of more than a few KiB (rep movsb on ERMS CPUs, tens of bytes per
  # cycle) would count as one instruction per byte. Raising glibc's threshold
  # makes every copy the AVX loop, counted as the CPU runs it, for both stacks.
  export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1073741824:glibc.cpu.x86_rep_stosb_threshold=1073741824
  bulk_bytes=$((16 * 1024 * 1024))
  transactions=20000
  declare -A ir
  for run in uk-bulk lwip-bulk uk-rr lwip-rr; do
    amount=$bulk_bytes
    [[ $run == *-rr ]] && amount=$transactions
    file="$out/callgrind.$run.out"
    rm -f "$file"
    if ! valgrind --tool=callgrind --callgrind-out-file="$file" --toggle-collect=uk_bench_measured \
         "$bench" --callgrind-run="$run" --callgrind-amount="$amount" >"$out/callgrind.$run.log" 2>&1; then
      echo "callgrind $run failed:"; tail -n 5 "$out/callgrind.$run.log"; continue
    fi
    grep -q "skipped" "$out/callgrind.$run.log" && continue
    ir[$run]=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  done
  python3 - "$bulk_bytes" "$transactions" "${ir[uk-bulk]:-}" "${ir[lwip-bulk]:-}" "${ir[uk-rr]:-}" "${ir[lwip-rr]:-}" <<'PY'
import sys
nbytes, nrr = int(sys.argv[1]), int(sys.argv[2])
v = [int(x) if x else None for x in sys.argv[3:7]]
rows = [("instructions per byte (bulk)", v[0], v[1], nbytes), ("instructions per transaction (RR)", v[2], v[3], nrr)]
print(f"{'':36} {'uk':>10} {'lwIP':>10} {'uk/lwIP':>8}")
for label, uk, lw, n in rows:
    fmt = lambda x: "-" if x is None else f"{x / n:10.2f}"
    ratio = f"{(uk / lw):8.2f}" if uk and lw else "       -"
    print(f"{label:36} {fmt(uk):>10} {fmt(lw):>10} {ratio}  (lower is better)")
PY
  if [ -n "${ir[uk-bulk]:-}" ]; then
    echo "-- where uk's bulk path spends its instructions (self; $out/callgrind.uk-bulk.out)"
    callgrind_annotate "$out/callgrind.uk-bulk.out" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,12p' \
      | python3 -c '
import re, sys
for line in sys.stdin:
    line = re.sub(r" \[[^]]*\]$", "", line.rstrip())
    while re.search(r"<[^<>]*>", line): line = re.sub(r"<[^<>]*>", "", line)  # template arguments
    line = re.sub(r"\([^()]*\)$", "()", line).replace("???:", "")
    print(line[:140])'
  fi
fi

unset GLIBC_TUNABLES
echo "== benchmarks/tap_vs_veth.sh"
if [ -x benchmarks/tap_vs_veth.sh ]; then
  benchmarks/tap_vs_veth.sh "$build" || echo "tap_vs_veth.sh: exit $? (77: skipped)"
else
  echo "skipped: not present"
fi
echo "== bench_tcp_scale"
if [ "$have_scale" -eq 1 ]; then
  "$build/benchmarks/bench_tcp_scale" || echo "bench_tcp_scale failed (exit $?)"
else
  echo "skipped: no such target"
fi
