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
  curl                                        # the www example's interop tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

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
