# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Metrics for a stock Prometheus (sourced by run_all.sh after lib.sh and
# cases.sh; ftpalgd mode only). After a real transfer through the gateway,
# scripts/ftpalg-textfile (what ftpalg-textfile.timer runs) writes the lab
# daemon's counters into a textfile directory of the case, and Debian's
# prometheus-node-exporter, started in the gateway namespace on its loopback
# with only the textfile collector, serves them over HTTP to curl in the same
# namespace: the ftpalg families with HELP and TYPE, the transfer's rewrite
# counted, ftpalg_up 1, node_textfile_scrape_error 0. Then with no daemon
# answering (a socket path nobody listens on): ftpalg_up 0, the file replaced
# by a rename (new inode), no temporary file left. docs/metrics.md must list
# every family the daemon exports, with its type and HELP text.

METRICS_PORT=${METRICS_PORT:-9100}

metrics_scrape() { # OUTFILE: node_exporter's /metrics, from inside the gateway namespace
  gw curl -q -sS --max-time 10 "http://127.0.0.1:$METRICS_PORT/metrics" >"$1" 2>>"$CASE_DIR/curl-metrics.err"
}

# The families ftpalgd exports that the checks and the alert rules rely on.
METRICS_FAMILIES=(ftpalg_up:gauge ftpalg_info:gauge ftpalg_uptime_seconds:gauge
  ftpalg_rewrites_total:counter ftpalg_expectations_total:counter ftpalg_refusals_total:counter
  ftpalg_queue_bound:gauge ftpalg_queue_dropped_total:counter ftpalg_queue_user_dropped_total:counter
  ftpalg_nfqueue_errors_total:counter ftpalg_plane_install_failures_total:counter
  ftpalg_plane_related_failed_total:counter ftpalg_expectations_failed_total:counter
  ftpalg_rules_gone_warnings_total:counter)

case_metrics_textfile() {
  local ne dir out ne_pid rc rw0 n fam name type ino0 ino1
  case_begin "metrics-textfile-node-exporter"
  ne=$(command -v prometheus-node-exporter)
  if [[ -z $ne ]]; then
    fail "prometheus-node-exporter missing (scripts/install-deps.sh --e2e)"; case_report; return
  fi
  dir=$CASE_DIR/textfile out=$CASE_DIR/textfile/ftpalg.prom
  mkdir -p "$dir"
  rw0=$(alg_stat rewrites)
  curl_opts port
  cli "${CURL[@]}" "${CURL_MODE[@]}" --interface "$CLI4" "ftp://$SRV4/hello.txt" -o "$CASE_DIR/hello.txt" \
    >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  expect_rc0 $? curl
  expect_sha "$CASE_DIR/hello.txt" "$SMALL_SHA" "RETR hello.txt"

  "$REPO/scripts/ftpalg-textfile" --ftpalgd "$FTPALGD" --stats-socket "$ALG_STATS_SOCK" --output "$out" \
    2>"$CASE_DIR/textfile.err"
  rc=$?
  expect_rc0 $rc "ftpalg-textfile (daemon running)"
  [[ $(stat -c %a "$out" 2>/dev/null) == 644 ]] || fail "$out is not mode 0644 (node_exporter runs as prometheus)"

  ip netns exec "$NS_GW" "$ne" --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$dir" --web.listen-address="127.0.0.1:$METRICS_PORT" \
    </dev/null >"$CASE_DIR/node-exporter.out" 2>&1 &
  ne_pid=$!
  LAB_PIDS+=("$ne_pid")
  if ! wait_listen gw 127.0.0.1 "$METRICS_PORT" 10; then
    fail "node_exporter did not listen on 127.0.0.1:$METRICS_PORT in the gateway namespace"
  else
    metrics_scrape "$CASE_DIR/metrics.txt" || fail "curl /metrics failed"
    grep -qx 'node_textfile_scrape_error 0' "$CASE_DIR/metrics.txt" ||
      fail "node_textfile_scrape_error is not 0: $(grep -m1 '^node_textfile_scrape_error' "$CASE_DIR/metrics.txt")"
    grep -qE "^node_textfile_mtime_seconds\{file=\"([^\"]*/)?ftpalg\.prom\"\} " "$CASE_DIR/metrics.txt" ||
      fail "node_exporter has no node_textfile_mtime_seconds for ftpalg.prom"
    for fam in "${METRICS_FAMILIES[@]}"; do
      name=${fam%%:*} type=${fam#*:}
      grep -q "^# HELP $name [A-Za-z]" "$CASE_DIR/metrics.txt" || fail "/metrics: no HELP line for $name"
      grep -qx "# TYPE $name $type" "$CASE_DIR/metrics.txt" || fail "/metrics: no '# TYPE $name $type'"
      grep -qE "^$name(\{[^}]*\})? [0-9]" "$CASE_DIR/metrics.txt" || fail "/metrics: no sample of $name"
    done
    # Every family ftpalgd exports comes through, none dropped by the parser.
    n=$(grep -c '^# TYPE ftpalg_' "$out") fam=$(grep -c '^# TYPE ftpalg_' "$CASE_DIR/metrics.txt")
    ((n > 50 && n == fam)) || fail "$n ftpalg families written, $fam served by node_exporter"
    grep -qx 'ftpalg_up 1' "$CASE_DIR/metrics.txt" || fail "/metrics: ftpalg_up is not 1"
    # docs/metrics.md lists every family the daemon exports, with its type
    # and its HELP text as exported.
    while read -r _ _ name help; do
      type=$(sed -n "s/^# TYPE $name //p" "$out")
      row=$(grep -F "| \`$name\` | $type |" "$REPO/docs/metrics.md")
      if [[ -z $row ]]; then fail "docs/metrics.md does not list $name ($type)"
      elif [[ $row != *"| $help |" ]]; then fail "docs/metrics.md: $name's HELP differs from the exported one: $help"
      fi
    done < <(grep '^# HELP ftpalg_' "$out")
    n=$(awk '$1 == "ftpalg_rewrites_total" { print $2 }' "$CASE_DIR/metrics.txt")
    ((${n:-0} > ${rw0:-0})) || fail "/metrics: ftpalg_rewrites_total ${n:-missing}, expected > ${rw0:-?} after the PORT transfer"

    # No daemon answering: ftpalg_up 0, the file replaced by a rename.
    ino0=$(stat -c %i "$out")
    "$REPO/scripts/ftpalg-textfile" --ftpalgd "$FTPALGD" --stats-socket "$CASE_DIR/no-daemon.sock" \
      --output "$out" 2>"$CASE_DIR/textfile-down.err"
    expect_rc0 $? "ftpalg-textfile (no daemon)"
    grep -q 'did not answer' "$CASE_DIR/textfile-down.err" || fail "ftpalg-textfile did not say the daemon did not answer"
    ino1=$(stat -c %i "$out")
    [[ $ino0 != "$ino1" ]] || fail "$out was rewritten in place (inode $ino0 kept), not renamed over"
    n=$(find "$dir" -name '.ftpalg.prom.*' | wc -l)
    ((n == 0)) || fail "$n temporary files left in $dir"
    metrics_scrape "$CASE_DIR/metrics-down.txt" || fail "curl /metrics (no daemon) failed"
    grep -qx 'ftpalg_up 0' "$CASE_DIR/metrics-down.txt" || fail "/metrics (no daemon): ftpalg_up is not 0"
    grep -qx 'node_textfile_scrape_error 0' "$CASE_DIR/metrics-down.txt" || fail "/metrics (no daemon): scrape error"
    grep -q '^ftpalg_rewrites_total' "$CASE_DIR/metrics-down.txt" && fail "/metrics (no daemon): stale counters still served"
  fi
  stop_pid "$ne_pid" TERM
  case_end 1 1
}
