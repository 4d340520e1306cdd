#!/usr/bin/env bash
# Sets up, builds and runs the demo: the hello unikernel on kernel sockets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target hello-socket
echo "== build/release/examples/hello-socket --help"
build/release/examples/hello-socket --help || true
echo "== build/release/examples/hello-socket"
exec build/release/examples/hello-socket "$@"
