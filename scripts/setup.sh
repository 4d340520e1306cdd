#!/usr/bin/env bash
# Installs what uk needs on Debian 12, from Debian's own packages.
# As root it runs apt-get; otherwise it says exactly what to install.
set -euo pipefail

packages=(
  g++ cmake make pkg-config binutils          # toolchain (g++ 12), nm for the static tests
  libboost1.81-dev                            # Boost.Hana, Boost.Asio, Boost.Beast (header-only)
  libfmt-dev                                  # logging
  catch2                                      # unit tests (Catch2 v2)
  libbenchmark-dev                            # Google Benchmark
  clang-14 libclang-rt-14-dev                 # libFuzzer targets
  iproute2 iputils-ping iputils-arping tshark # interop tests in network namespaces, pcap checks
  dnsmasq-base busybox                        # DHCP peers for the test captures and interop tests
  nftables                                    # the TCP loss interop test drops frames in its namespace
  curl                                        # the www example's interop tests
  dpkg-dev valgrind python3                   # benchmarks: lwIP's source (apt-get source), callgrind, run.sh
)

# The benchmarks build lwIP 2.1.3 from Debian's source package (apt-get
# source lwip), which needs a deb-src entry.
deb_src=/etc/apt/sources.list.d/uk-deb-src.sources
added_deb_src=0
if [ "$(id -u)" -eq 0 ] && [ -d /etc/apt/sources.list.d ] && [ ! -e "$deb_src" ] &&
   ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src ' /etc/apt/sources.list; then
  cat >"$deb_src" <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  echo "uk setup: added $deb_src (lwIP's source for the benchmarks)"
  added_deb_src=1
fi


missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  [ "$added_deb_src" -eq 1 ] && apt-get update -qq
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  echo "uk setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "uk setup: these Debian packages are missing; install them as root with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
