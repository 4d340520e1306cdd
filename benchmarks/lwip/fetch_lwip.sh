#!/usr/bin/env bash
# fetch_lwip.sh <dest>: unpacks lwIP 2.1.3 from Debian's source package into
# <dest> (the benchmarks build it with their own lwipopts.h). Cached: a <dest>
# that already holds the source is kept. When the source cannot be had (no
# deb-src entry, no network, no dpkg-source) it prints "skipped: ..." and
# exits 0 without creating <dest>; the benchmarks then leave lwIP out.
set -uo pipefail
version=2.1.3+dfsg1-2
dest=${1:?usage: fetch_lwip.sh <dest>}

skip() { echo "skipped: $*"; exit 0; }

[ -f "$dest/src/core/tcp.c" ] && { echo "lwIP source: $dest (cached)"; exit 0; }
command -v apt-get >/dev/null || skip "no apt-get"
command -v dpkg-source >/dev/null || skip "no dpkg-source (install dpkg-dev; scripts/setup.sh does)"

parent=$(dirname "$dest")
mkdir -p "$parent" || skip "cannot create $parent"
work=$(mktemp -d "$parent/lwip-fetch.XXXXXX") || skip "cannot create a work directory in $parent"
trap 'rm -rf "$work"' EXIT
# As root apt-get downloads as the _apt user, which must be able to write here.
chmod 755 "$work"
if ! (cd "$work" && timeout 120 apt-get source -qq "lwip=$version" >log 2>&1); then
  reason=$(grep -m1 -E '^E:' "$work/log" || tail -n1 "$work/log")
  skip "apt-get source lwip=$version failed (${reason:-no output}); a deb-src entry is needed (scripts/setup.sh adds one)"
fi
unpacked=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'lwip-*' | head -n1)
[ -n "$unpacked" ] && [ -f "$unpacked/src/core/tcp.c" ] || skip "apt-get source left no lwIP tree"
rm -rf "$dest"
mv "$unpacked" "$dest" || skip "cannot move the source to $dest"
echo "lwIP source: $dest (lwip $version)"
