#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian packages ftpalg needs to build and test. Idempotent:
# only missing packages are fetched. Usage: scripts/install-deps.sh [--e2e]
set -euo pipefail

build_pkgs=(g++ make pkg-config libmnl-dev libnetfilter-queue-dev libpcap-dev libcap-dev zlib1g-dev
            libsystemd-dev  # sd_notify: Type=notify, watchdog (adapters/systemd_notifier.cc)
            libgtest-dev libgmock-dev
            clang-14 libclang-rt-14-dev)  # libFuzzer + sanitizers (make fuzz)
# Real peers and kernel tools for the replay generators and namespace lab.
e2e_pkgs=(python3 python3-scapy python3-pyftpdlib vsftpd lftp curl wget
          iptables iproute2 conntrack conntrackd ipset tcpdump procps libcap2-bin
          ethtool   # the impaired lab turns veth offloads off (tests/e2e/impaired.sh)
          nftables  # ftpalg-rules backend nft, nft -c of its table (tests/packaging/rules.sh)
          prometheus-node-exporter  # serves ftpalg-textfile's file (tests/e2e/metrics.sh)
          openssl libhiredis0.14 libmemcached11 libmemcachedutil2 libhashkit2 libpcre2-posix3)
# ^ the last five: shared libraries of ProFTPD (FTPS/CCC e2e, tests/e2e/ccc.sh),
# whose packages conflict with vsftpd and are unpacked, not installed:
proftpd_root=${PROFTPD_ROOT:-/opt/ftpalg-e2e/proftpd}
proftpd_debs=(proftpd-core proftpd-mod-crypto)

want=("${build_pkgs[@]}")
[[ "${1:-}" == "--e2e" ]] && want+=("${e2e_pkgs[@]}")
# make packaging-test (part of make check): deb build, man lint, unit verify,
# the daemon traced under the unit's restrictions, lintian on the package,
# promtool (Debian ships it in prometheus) for the example alert rules.
pkg_pkgs=(debhelper dpkg-dev fakeroot groff-base man-db systemd strace lintian prometheus)
[[ "${1:-}" == "--e2e" ]] && want+=("${pkg_pkgs[@]}")
# hardening-check: the packaged programs keep dpkg-buildflags' hardening (deb.sh).
[[ "${1:-}" == "--e2e" ]] && want+=(devscripts)

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# ProFTPD + mod_tls for tests/e2e/ccc.sh: apt-get download, dpkg -x into
# $proftpd_root (nothing of it is installed; its libraries are, above).
unpack_proftpd() {
  [[ "${1:-}" == "--e2e" ]] || return 0
  [[ -x $proftpd_root/usr/sbin/proftpd && -f $proftpd_root/usr/lib/proftpd/mod_tls.so ]] && return 0
  [[ $(id -u) -eq 0 ]] || { echo "install-deps: run as root to unpack ProFTPD into $proftpd_root" >&2; return 1; }
  local tmp
  tmp=$(mktemp -d)
  chmod 755 "$tmp"  # apt-get download runs as _apt
  (cd "$tmp" && apt-get download -qq "${proftpd_debs[@]}" >&2) || { rm -rf "$tmp"; return 1; }
  mkdir -p "$proftpd_root"
  local deb
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$proftpd_root"; done
  rm -rf "$tmp"
  echo "install-deps: ProFTPD unpacked into $proftpd_root" >&2
}

if ((${#missing[@]} == 0)); then
  unpack_proftpd "${1:-}"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or install them) and retry" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || true
# vsftpd would try to start a system instance; tests start their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
unpack_proftpd "${1:-}"
