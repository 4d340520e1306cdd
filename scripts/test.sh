#!/usr/bin/env bash
# Sets up, builds everything and runs the whole test suite:
#   1. a RelWithDebInfo build (-Wall -Wextra -Werror) of the examples, tools,
#      benchmarks and static/packaging checks; a smoke run of the benchmarks;
#   2. every libFuzzer target for a few seconds;
#   3. a Debug build under AddressSanitizer + UndefinedBehaviorSanitizer of
#      everything but the benchmarks, every public header compiled on its own,
#      and all tests (unit, static, interop) run under the sanitizers;
#   4. the static, packaging and interop tests again on the optimized build
#      (the interop tests then move the full 1 GiB each way).
# The unit tests are built once, in step 3: building the template-heavy test
# executables at -O2 -g as well doubled the time for no test they do not run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${UK_JOBS:-$(nproc)}
fuzz_seconds=${UK_FUZZ_SECONDS:-5}

scripts/setup.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUK_BUILD_UNIT_TESTS=OFF >/dev/null
cmake --build build/release -j"$jobs"

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
cmake --build build/sanitize -j"$jobs" --target all_verify_interface_header_sets
(cd build/sanitize && ctest --output-on-failure -j"$jobs" -E '^package:')

echo "== tests (RelWithDebInfo)"
(cd build/release && ctest --output-on-failure -j"$jobs")
