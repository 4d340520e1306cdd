#!/usr/bin/env bash
# Sets up, builds everything and runs the whole test suite:
#   1. a RelWithDebInfo build of everything (-Wall -Wextra -Werror), every public
#      header compiled on its own, all tests (unit, static, packaging, interop);
#   2. the tests again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. every libFuzzer target for a few seconds, and a smoke run of the benchmarks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${UK_JOBS:-$(nproc)}
fuzz_seconds=${UK_FUZZ_SECONDS:-5}

scripts/setup.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$jobs"
cmake --build build/release -j"$jobs" --target all_verify_interface_header_sets

echo "== benchmarks (smoke run)"
for b in build/release/benchmarks/bench_*; do
  [ -x "$b" ] || continue
  "$b" --benchmark_min_time=0.001 >/dev/null 2>&1 || { echo "$b failed"; "$b" --benchmark_min_time=0.001; exit 1; }
done

echo "== fuzzers (${fuzz_seconds}s each)"
scripts/fuzz.sh "$fuzz_seconds" build/fuzz

echo "== tests under ASan+UBSan (Debug)"
cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DUK_SANITIZE=ON -DUK_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build/sanitize -j"$jobs"
(cd build/sanitize && ctest --output-on-failure -j"$jobs" -E '^package:')

echo "== tests (RelWithDebInfo)"
(cd build/release && ctest --output-on-failure -j"$jobs")
