#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Metrics for Prometheus, the parts that need no namespace (part of
# `make packaging-test`; tests/e2e/metrics.sh has node_exporter serving a
# live daemon's counters):
#  1. ftpalg-textfile.service and .timer as `make install` writes them:
#     `systemd-analyze verify` says nothing, the service's exposure
#     (`systemd-analyze security`) is at most 2.0;
#  2. dist/ftpalg-alerts.yml: `promtool check rules`, and `promtool test
#     rules` (tests/packaging/ftpalg-alerts-test.yml: each alert fires on its
#     series, none on a healthy gateway's);
#  3. scripts/ftpalg-textfile against a stand-in for `ftpalgd --stats
#     --prometheus`: ftpalg_up 1 + the answer; ftpalg_up 0 alone when the
#     daemon does not answer (exit 0) or answers with something that is not
#     exposition text (exit 1); the file replaced by a rename (new inode),
#     mode 0644, no temporary file left; bad usage exits 2; journald priority
#     prefixes under JOURNAL_STREAM.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
fails=0 checks=0
fail() { echo "FAIL metrics: $*"; fails=$((fails + 1)); }
ok() { checks=$((checks + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- 1. the units ------------------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIPPED metrics: unit checks: systemd-analyze missing (apt-get install systemd)"
else
  make -s install BUILD="$BUILD" PREFIX="$tmp/usr" SYSCONFDIR="$tmp/etc" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; echo "FAIL metrics: make install into $tmp failed"; exit 1; }
  units=$tmp/usr/lib/systemd/system
  out=$(MANPATH=$tmp/usr/share/man systemd-analyze verify "$units/ftpalg-textfile.service" \
    "$units/ftpalg-textfile.timer" 2>&1)
  rc=$?
  if ((rc == 0)) && [[ -z $out ]]; then
    ok; echo "metrics: systemd-analyze verify ftpalg-textfile.service ftpalg-textfile.timer: clean"
  else
    fail "systemd-analyze verify (rc $rc): $out"
  fi
  grep -qx "ExecStart=$tmp/usr/sbin/ftpalg-textfile --output /var/lib/prometheus/node-exporter/ftpalg.prom" \
    "$units/ftpalg-textfile.service" && ok || fail "ftpalg-textfile.service: unexpected ExecStart"
  grep -qx 'OnUnitActiveSec=15s' "$units/ftpalg-textfile.timer" && ok || fail "timer does not run every 15 s"
  exposure=$(MANPATH=$tmp/usr/share/man systemd-analyze security --offline=yes "$units/ftpalg-textfile.service" 2>/dev/null |
    sed -n 's/.*Overall exposure level for ftpalg-textfile.service: \([0-9.]*\).*/\1/p')
  if [[ -n $exposure ]]; then
    awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' && ok ||
      fail "systemd-analyze security ftpalg-textfile.service: exposure $exposure, above 2.0"
    echo "metrics: systemd-analyze security ftpalg-textfile.service: exposure $exposure"
  fi
fi

# ---- 2. the example alert rules -----------------------------------------------
if ! command -v promtool >/dev/null; then
  fail "promtool missing (scripts/install-deps.sh --e2e installs Debian's prometheus)"
else
  out=$(promtool check rules dist/ftpalg-alerts.yml 2>&1) && ok || fail "promtool check rules: $out"
  out=$(promtool test rules tests/packaging/ftpalg-alerts-test.yml 2>&1) && ok || fail "promtool test rules: $out"
  n=$(grep -c '^      - alert: ' dist/ftpalg-alerts.yml)
  echo "metrics: promtool: $n alert rules checked and unit-tested"
fi

# ---- 3. the textfile writer ------------------------------------------------------
W=scripts/ftpalg-textfile
FAKE=$tmp/fake-ftpalgd
# A stand-in for ftpalgd: $tmp/answer holds what it prints, $tmp/rc its status.
cat >"$FAKE" <<FAKE_EOF
#!/bin/sh
[ "\$*" = "--stats --prometheus --stats-socket $tmp/sock" ] || { echo "fake ftpalgd: args \$*" >&2; exit 3; }
cat "$tmp/answer"; exit "\$(cat "$tmp/rc")"
FAKE_EOF
chmod +x "$FAKE"
mkdir "$tmp/tf"
out=$tmp/tf/ftpalg.prom
run_writer() { "$W" --ftpalgd "$FAKE" --stats-socket "$tmp/sock" --output "$out"; }
printf '# HELP ftpalg_rewrites_total Announcements rewritten\n# TYPE ftpalg_rewrites_total counter\nftpalg_rewrites_total 42\nftpalg_refusals_total{reason="bounce"} 0\n' >"$tmp/answer"
echo 0 >"$tmp/rc"

run_writer 2>"$tmp/err"; rc=$?
((rc == 0)) && ok || fail "daemon answering: exit $rc: $(cat "$tmp/err")"
[[ $(head -n3 "$out") == $'# HELP ftpalg_up Whether ftpalgd answered the stats request of ftpalg-textfile (1) or not (0)\n# TYPE ftpalg_up gauge\nftpalg_up 1' ]] &&
  ok || fail "daemon answering: the file does not start with ftpalg_up 1: $(head -n3 "$out")"
[[ $(tail -n +4 "$out") == "$(cat "$tmp/answer")" ]] && ok || fail "daemon answering: the answer is not copied as it is"
[[ $(stat -c %a "$out") == 644 ]] && ok || fail "mode $(stat -c %a "$out"), expected 644 (node_exporter runs as prometheus)"
ino0=$(stat -c %i "$out")
run_writer 2>"$tmp/err"
ino1=$(stat -c %i "$out")
[[ $ino0 != "$ino1" ]] && ok || fail "second run rewrote the file in place (inode $ino0): not atomic"
left=$(find "$tmp/tf" -mindepth 1 ! -name ftpalg.prom)
[[ -z $left ]] && ok || fail "files left beside the output: $left"

echo 1 >"$tmp/rc"; echo "ftpalgd: cannot connect to $tmp/sock" >"$tmp/answer"
JOURNAL_STREAM=8:1234 run_writer 2>"$tmp/err"; rc=$?
((rc == 0)) && ok || fail "daemon not answering: exit $rc, expected 0"
[[ $(grep -v '^#' "$out") == "ftpalg_up 0" ]] && ok || fail "daemon not answering: file is not ftpalg_up 0 alone: $(cat "$out")"
grep -q '^<4>ftpalg-textfile: ftpalgd did not answer (ftpalgd: cannot connect' "$tmp/err" && ok ||
  fail "daemon not answering: no <4> warning naming the error: $(cat "$tmp/err")"

echo 0 >"$tmp/rc"; printf '# TYPE ftpalg_x counter\nftpalg_x 1 1700000000000\n' >"$tmp/answer"
run_writer 2>"$tmp/err"; rc=$?
((rc == 1)) && ok || fail "a sample with a timestamp (node_exporter refuses it): exit $rc, expected 1"
[[ $(grep -v '^#' "$out") == "ftpalg_up 0" ]] && ok || fail "invalid answer: file is not ftpalg_up 0 alone"
grep -q 'not exposition text' "$tmp/err" && ok || fail "invalid answer: not said: $(cat "$tmp/err")"
printf 'error: something\n' >"$tmp/answer"
run_writer 2>"$tmp/err"; rc=$?
((rc == 1)) && ok || fail "non-exposition answer: exit $rc, expected 1"

"$W" --output "$tmp/tf/ftpalg.txt" 2>/dev/null; rc=$?
((rc == 2)) && ok || fail "--output not ending in .prom: exit $rc, expected 2"
"$W" --output "$tmp/missing/ftpalg.prom" 2>/dev/null; rc=$?
((rc == 1)) && ok || fail "--output in a missing directory: exit $rc, expected 1"
"$W" --bogus 2>/dev/null; rc=$?
((rc == 2)) && ok || fail "unknown option: exit $rc, expected 2"
"$W" --output 2>/dev/null; rc=$?
((rc == 2)) && ok || fail "--output without a value: exit $rc, expected 2"
chmod 0555 "$tmp/tf"
if [[ $(id -u) -ne 0 ]]; then
  run_writer 2>"$tmp/err"; rc=$?
  ((rc == 1)) && ok || fail "read-only directory: exit $rc, expected 1"
fi
chmod 0755 "$tmp/tf"

echo "metrics: $checks passed, $fails failed"
((fails == 0))
