#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package, for real (part of `make packaging-test`; root):
#   make deb -> lintian --pedantic on the source and binary packages (no
#   error, no warning: overrides only in debian/ftpalg.lintian-overrides, each
#   with its reason) -> apt-get install ./build/ftpalg_<v>_<arch>.deb (dependencies
#   from the Debian mirror) -> files, conffiles, Depends, the service is
#   neither enabled nor started, the programs run -> apt-get purge -> nothing
#   of it left (programs, unit, man pages, /etc/ftpalg, /etc/default/ftpalgd).
# It installs into this machine's /usr, so it refuses to touch an ftpalg
# package it did not install itself (SKIPPED, loudly).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MARKER=/var/tmp/ftpalg-deb-test.installed
fails=0 checks=0
fail() { echo "FAIL deb: $*"; fails=$((fails + 1)); }
ok() { checks=$((checks + 1)); }

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIPPED deb: needs root (installs and purges the package on this machine)"; exit 0
fi
for t in dpkg-buildpackage dh apt-get lintian; do
  command -v "$t" >/dev/null || { echo "FAIL deb: $t missing (scripts/install-deps.sh --e2e)"; exit 1; }
done
if grep -q 'install ok installed' <<<"$(dpkg-query -W -f='${Status}' ftpalg 2>/dev/null)"; then
  if [[ -e $MARKER ]]; then
    echo "deb: removing the ftpalg package an interrupted run of this test left"
    apt-get purge -y -qq ftpalg >/dev/null 2>&1 || true
  else
    echo "SKIPPED deb: an ftpalg package is installed on this machine and this test did not" \
      "install it: not replacing or purging it (remove it, or run the test elsewhere)"
    exit 0
  fi
fi
if [[ -e /usr/sbin/ftpalgd || -e /etc/ftpalg ]]; then
  echo "SKIPPED deb: /usr/sbin/ftpalgd or /etc/ftpalg exists outside the package manager: not overwriting"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
make -s deb BUILD="$BUILD" >"$BUILD/deb-make.log" 2>&1 || { tail -n 30 "$BUILD/deb-make.log"; echo "FAIL deb: make deb"; exit 1; }
deb=$(sed -n 's/^make deb: //p' "$BUILD/deb-make.log" | tail -n1)
[[ -f $deb ]] || { echo "FAIL deb: make deb named no file"; exit 1; }
echo "deb: built $deb ($(stat -c %s "$deb") bytes)"

depends=$(dpkg-deb -f "$deb" Depends)
for d in iptables ipset libnetfilter-queue1 libmnl0 libpcap0.8 libcap2; do
  [[ $depends == *"$d"* ]] && ok || fail "Depends lacks $d: $depends"
done
[[ $depends == *libsystemd0* ]] && ok || fail "Depends lacks libsystemd0 (sd_notify): $depends"
# Hardening: dpkg-buildflags' CPPFLAGS (-D_FORTIFY_SOURCE=2), CXXFLAGS and
# LDFLAGS reach every compile and link rule (lintian
# hardening-no-fortify-functions): the programs call glibc's checked
# functions (__*_chk), and hardening-check (devscripts) passes them: PIE,
# stack protector, fortify, RELRO, BIND_NOW. Not control-flow protection:
# Debian 12's dpkg-buildflags and gcc do not enable -fcf-protection on any
# package (lintian does not ask for it).
hx=$(mktemp -d)
dpkg-deb -x "$deb" "$hx"
for b in usr/sbin/ftpalgd usr/bin/ftpalg-replay; do
  # Whole names ending in _chk (__stack_chk_fail is the stack protector's).
  chk=$(nm -D --undefined-only "$hx/$b" 2>/dev/null | awk '{ sub(/@.*/, "", $NF); print $NF }' |
    grep -E '^__[a-z0-9_]+_chk$' | sort -u | tr '\n' ' ')
  [[ -n $chk ]] && ok || fail "/$b calls no fortified function (__*_chk): built without -D_FORTIFY_SOURCE?"
  if command -v hardening-check >/dev/null; then
    out=$(hardening-check --nocfprotection "$hx/$b" 2>&1) && ok || fail "hardening-check /$b: $out"
  else
    echo "SKIPPED deb: hardening-check missing (devscripts; scripts/install-deps.sh --e2e)"
  fi
  echo "deb: /$b fortified: $chk"
done
rm -rf "$hx"
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles 2>/dev/null)

# lintian, as a Debian maintainer runs it (every tag printed; E: and W:
# fail). The I: tags known today are spelling-error-in-binary for fragments
# such as "untill" that GCC makes when it splits string literals ("unti" +
# "l the hole fills"): no source file has those words. They are not
# overridden: an override whose context no longer matches is itself a
# warning (mismatched-override), and the fragments move with the code.
changes=$(dirname "$deb")/deb/$(basename "$deb" .deb).changes
[[ -f $changes ]] || changes=$deb
lintian --pedantic -I -E --show-overrides --suppress-tags very-long-line-length-in-source-file \
  "$changes" >"$BUILD/lintian.log" 2>&1
sed -i '/^running with root privileges is not recommended/d' "$BUILD/lintian.log"
echo "deb: lintian --pedantic $(basename "$changes"): $(grep -c '^[EWIPXO]:' "$BUILD/lintian.log") tags"
sed 's/^/deb:   /' "$BUILD/lintian.log"
bad=$(grep -E '^(E|W):' "$BUILD/lintian.log")
[[ -z $bad ]] && ok || fail "lintian errors or warnings: $(tr '\n' ';' <<<"$bad")"
grep -q 'package-supports-alternative-init-but-no-init.d-script' "$BUILD/lintian.log" &&
  ! grep -q '^O: ftpalg: package-supports-alternative-init' "$BUILD/lintian.log" &&
  fail "the lintian override was not applied (debian/ftpalg.lintian-overrides)" || ok
for c in /etc/ftpalg/ftpalgd.conf /etc/default/ftpalgd; do
  grep -qx "$c" <<<"$conffiles" && ok || fail "$c is not a conffile"
done

touch "$MARKER"
install_log=$BUILD/deb-install.log
# A stale package list must not fail the test: refresh once and retry.
if ! apt-get install -y -q "./$deb" >"$install_log" 2>&1; then
  apt-get update -qq >/dev/null 2>&1
  apt-get install -y -q "./$deb" >"$install_log" 2>&1 || { tail -n 20 "$install_log"; fail "apt-get install ./$deb"; }
fi
grep -q '^install ok installed' <<<"$(dpkg-query -W -f='${Status} ${Version}\n' ftpalg)" && ok ||
  fail "ftpalg not installed after apt-get install"
echo "deb: installed: $(dpkg-query -W -f='${Package} ${Version}' ftpalg)"
for f in /usr/sbin/ftpalgd /usr/sbin/ftpalg-rules /usr/bin/ftpalg-replay /lib/systemd/system/ftpalgd.service \
  /etc/ftpalg/ftpalgd.conf /etc/default/ftpalgd /usr/share/man/man8/ftpalgd.8.gz \
  /usr/share/man/man8/ftpalg-rules.8.gz /usr/share/man/man1/ftpalg-replay.1.gz /usr/share/doc/ftpalg/copyright \
  /usr/sbin/ftpalg-ha-notify /usr/share/man/man8/ftpalg-ha-notify.8.gz \
  /usr/sbin/ftpalg-textfile /usr/share/man/man8/ftpalg-textfile.8.gz /lib/systemd/system/ftpalg-textfile.service \
  /lib/systemd/system/ftpalg-textfile.timer /usr/share/doc/ftpalg/examples/ftpalg-alerts.yml; do
  [[ -e $f ]] && ok || fail "$f missing after install"
done
grep -q '^ExecStart=/usr/sbin/ftpalg-textfile ' /lib/systemd/system/ftpalg-textfile.service && ok ||
  fail "ftpalg-textfile.service's ExecStart does not name /usr/sbin/ftpalg-textfile"
for dep in iptables ipset; do
  grep -q 'install ok installed' <<<"$(dpkg-query -W -f='${Status}' "$dep" 2>/dev/null)" && ok || fail "dependency $dep not installed"
done
grep -q ftpalgd <<<"$(/usr/sbin/ftpalgd --version)" && ok || fail "/usr/sbin/ftpalgd --version"
grep -q install <<<"$(/usr/sbin/ftpalg-rules --help)" && ok || fail "/usr/sbin/ftpalg-rules --help"
grep -q ftpalg-replay <<<"$(/usr/bin/ftpalg-replay --version)" && ok || fail "/usr/bin/ftpalg-replay --version"
man -w ftpalgd >/dev/null 2>&1 && ok || fail "man -w ftpalgd finds no page"
# Nothing enabled or started by surprise.
for u in ftpalgd.service ftpalg-textfile.timer; do
  state=$(systemctl is-enabled "$u" 2>&1)
  [[ $state == disabled ]] && ok || fail "systemctl is-enabled $u: '$state', expected disabled"
  ls /etc/systemd/system/*.wants/"$u" >/dev/null 2>&1 && fail "an enablement symlink for $u exists" || ok
done
if [[ -d /run/systemd/system ]]; then
  state=$(systemctl is-active ftpalgd.service 2>&1)
  [[ $state == inactive ]] && ok || fail "systemctl is-active ftpalgd: '$state', expected inactive"
fi
running=""
for p in /proc/[0-9]*; do
  [[ $(readlink "$p/exe" 2>/dev/null) == /usr/sbin/ftpalgd ]] && running+=" ${p#/proc/}"
done
[[ -z $running ]] && ok || fail "/usr/sbin/ftpalgd is running (pids$running) right after install"
grep -q 'comment "\{0,1\}ftpalg' <<<"$(iptables -t raw -S PREROUTING 2>/dev/null)" &&
  fail "ftpalg rules were installed by the package" || ok

# Purge: every file gone, /etc/ftpalg too (also with an operator's extra file),
# and the metrics file the timer wrote (node_exporter would serve it frozen).
echo "# operator's note" >/etc/ftpalg/notes.txt
prom_dir=/var/lib/prometheus/node-exporter prom_made=0
if [[ ! -e $prom_dir/ftpalg.prom ]]; then
  [[ -d $prom_dir ]] || { mkdir -p "$prom_dir"; prom_made=1; }
  /usr/sbin/ftpalg-textfile --stats-socket /nonexistent/ftpalgd.sock 2>/dev/null
  grep -qx 'ftpalg_up 0' "$prom_dir/ftpalg.prom" 2>/dev/null && ok ||
    fail "installed ftpalg-textfile wrote no ftpalg_up 0 into $prom_dir/ftpalg.prom"
fi
apt-get purge -y -q ftpalg >"$BUILD/deb-purge.log" 2>&1 || { tail -n 20 "$BUILD/deb-purge.log"; fail "apt-get purge ftpalg"; }
rm -f "$MARKER"
grep -q 'installed' <<<"$(dpkg-query -W -f='${Status}' ftpalg 2>/dev/null)" && fail "ftpalg still installed after purge" || ok
for f in /usr/sbin/ftpalgd /usr/sbin/ftpalg-rules /usr/bin/ftpalg-replay /lib/systemd/system/ftpalgd.service \
  /etc/ftpalg /etc/default/ftpalgd /usr/share/man/man8/ftpalgd.8.gz /usr/share/doc/ftpalg \
  /var/lib/systemd/deb-systemd-helper-enabled/ftpalgd.service.dsh-also \
  /usr/sbin/ftpalg-textfile /lib/systemd/system/ftpalg-textfile.timer $prom_dir/ftpalg.prom \
  /var/lib/systemd/deb-systemd-helper-enabled/ftpalg-textfile.timer.dsh-also; do
  [[ ! -e $f ]] && ok || fail "$f left after purge"
done
((prom_made)) && rmdir "$prom_dir" 2>/dev/null
echo "deb: purged"

echo "deb: $checks passed, $fails failed"
((fails == 0))
