#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make install / make uninstall into a scratch DESTDIR (part of
# `make packaging-test`; no root needed):
#  - exactly the expected files, with the expected modes, under PREFIX=/usr/local;
#  - the installed programs run (--version, --help) and the unit names them;
#  - uninstall leaves no file behind;
#  - a modified config file is never overwritten by install and is kept (and
#    named) by uninstall; an unmodified one is removed.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
fails=0 checks=0
fail() { echo "FAIL install: $*"; fails=$((fails + 1)); }
ok() { checks=$((checks + 1)); }
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
P=/usr/local

expected="0755 $P/bin/ftpalg-replay
0755 $P/sbin/ftpalg-ha-notify
0755 $P/sbin/ftpalg-rules
0755 $P/sbin/ftpalg-textfile
0755 $P/sbin/ftpalgd
0644 $P/lib/systemd/system/ftpalg-textfile.service
0644 $P/lib/systemd/system/ftpalg-textfile.timer
0644 $P/lib/systemd/system/ftpalgd.service
0644 $P/share/doc/ftpalg/BENCHMARKS.md
0644 $P/share/doc/ftpalg/README.md
0644 $P/share/doc/ftpalg/examples/ftpalg-alerts.yml
$(for g in docs/*.md; do echo "0644 $P/share/doc/ftpalg/$g"; done)
0644 $P/share/man/man1/ftpalg-replay.1
0644 $P/share/man/man8/ftpalg-ha-notify.8
0644 $P/share/man/man8/ftpalg-rules.8
0644 $P/share/man/man8/ftpalg-textfile.8
0644 $P/share/man/man8/ftpalgd.8
0644 /etc/default/ftpalgd
0644 /etc/ftpalg/ftpalgd.conf"
files() { (cd "$D" && find . \( -type f -o -type l \) -printf '%m %p\n' | sed 's| \./| /|; s/^\([0-7]\{3\}\) /0\1 /' | sort -k2); }

make -s install BUILD="$BUILD" DESTDIR="$D" >"$D.log" 2>&1 || { cat "$D.log"; fail "make install failed"; }
got=$(files)
if [[ $got == "$(sort -k2 <<<"$expected")" ]]; then ok; else
  fail "installed files differ from the expected list:"; diff <(sort -k2 <<<"$expected") <(echo "$got")
fi
grep -q ftpalgd <<<"$("$D$P/sbin/ftpalgd" --version)" && ok || fail "installed ftpalgd --version"
grep -q -- --queue <<<"$("$D$P/sbin/ftpalgd" --help)" && ok || fail "installed ftpalgd --help"
grep -q ftpalg-replay <<<"$("$D$P/bin/ftpalg-replay" --version)" && ok || fail "installed ftpalg-replay --version"
grep -q -- --public-ip <<<"$("$D$P/bin/ftpalg-replay" --help)" && ok || fail "installed ftpalg-replay --help"
grep -q install <<<"$("$D$P/sbin/ftpalg-rules" --help)" && ok || fail "installed ftpalg-rules --help"
cmp -s dist/ftpalgd.conf "$D/etc/ftpalg/ftpalgd.conf" && ok || fail "installed config differs from dist/"
grep -q "^ExecStart=$P/sbin/ftpalgd " "$D$P/lib/systemd/system/ftpalgd.service" && ok ||
  fail "unit's ExecStart does not name $P/sbin/ftpalgd"
grep -q '@[A-Z]*@' "$D$P/lib/systemd/system/ftpalgd.service" && fail "unit has unsubstituted @VAR@" || ok
grep -q "^ExecStart=$P/sbin/ftpalg-textfile " "$D$P/lib/systemd/system/ftpalg-textfile.service" && ok ||
  fail "ftpalg-textfile.service's ExecStart does not name $P/sbin/ftpalg-textfile"
grep -q '@[A-Z]*@' "$D$P/lib/systemd/system/ftpalg-textfile.service" && fail "ftpalg-textfile.service has unsubstituted @VAR@" || ok
grep -q -- --output <<<"$("$D$P/sbin/ftpalg-textfile" --help)" && ok || fail "installed ftpalg-textfile --help"
MANPATH=$D$P/share/man man -w ftpalgd >/dev/null 2>&1 && ok || fail "man -w ftpalgd finds no page under $P/share/man"

# Uninstall: nothing left (directories of the standard hierarchy may stay).
make -s uninstall BUILD="$BUILD" DESTDIR="$D" >"$D.log" 2>&1 || { cat "$D.log"; fail "make uninstall failed"; }
left=$(files)
[[ -z $left ]] && ok || fail "files left after uninstall: $left"
[[ ! -e $D/etc/ftpalg && ! -e $D$P/share/doc/ftpalg ]] && ok || fail "/etc/ftpalg or the doc dir left behind"

# A modified config survives a re-install and an uninstall.
make -s install BUILD="$BUILD" DESTDIR="$D" >/dev/null 2>&1
echo "queue 7" >>"$D/etc/ftpalg/ftpalgd.conf"
make -s install BUILD="$BUILD" DESTDIR="$D" >"$D.log" 2>&1
grep -q 'kept existing.*ftpalgd.conf' "$D.log" && ok || fail "re-install did not say it kept the config"
grep -qx 'queue 7' <<<"$(tail -n1 "$D/etc/ftpalg/ftpalgd.conf")" && ok || fail "re-install overwrote a modified config"
make -s uninstall BUILD="$BUILD" DESTDIR="$D" >"$D.log" 2>&1
grep -q 'kept .*ftpalgd.conf (modified' "$D.log" && ok || fail "uninstall did not name the kept config"
left=$(files)
[[ $left == "0644 /etc/ftpalg/ftpalgd.conf" ]] && ok || fail "after uninstall with a modified config, left: $left"
rm -f "$D.log"

echo "install: $checks passed, $fails failed"
((fails == 0))
