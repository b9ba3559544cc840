# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Hardening cases for ftpalgd (sourced by run_all.sh after lib.sh/cases.sh;
# ftpalgd mode only): privileges, and floods checked through the daemon's own
# counters (SIGUSR1) and its memory (/proc/PID/status VmRSS/VmHWM).
#
# The daemon is restarted for these cases as user nobody with small caps so
# that every limit is reached quickly:
#   --max-sessions 2000 --max-expectations 256 --max-expectations-per-session 8
# Load: 20,000 raw SYNs to port 21 from random source ports; 3,000 idle
# control connections held open; 10,000 PORT commands in one session. The
# load goes to an FTP-shaped fake server (hardening.py server) on its own
# outside address, so vsftpd is not involved.

HARD_SRV4=203.0.113.5
HARD_MAX_SESSIONS=${HARD_MAX_SESSIONS:-2000} HARD_MAX_EXP=256 HARD_MAX_EXP_SESSION=8
# Memory bound asserted after each flood (peak RSS, kB). Measured: see
# README "Limits and memory"; the bound leaves room for allocator slack.
HARD_RSS_LIMIT_KB=${HARD_RSS_LIMIT_KB:-32768}
HARD_FAKE_PID=""

hard_args() {
  echo "--user nobody --max-sessions $HARD_MAX_SESSIONS --max-expectations $HARD_MAX_EXP" \
    "--max-expectations-per-session $HARD_MAX_EXP_SESSION"
}

# SIGUSR1, then the counter lines it logged into $CASE_DIR/counters.txt.
hard_counters() {
  local off i
  off=$(stat -c %s "$ALG_LOG")
  kill -USR1 "$ALG_PID" 2>/dev/null || return 1
  for ((i = 0; i < 30; i++)); do
    sleep 0.1
    [[ $(tail -c +"$((off + 1))" "$ALG_LOG" | grep -c 'counters:') == 4 ]] && break
  done
  tail -c +"$((off + 1))" "$ALG_LOG" | grep 'counters:' >"$CASE_DIR/counters.txt"
}
cval() { # NAME -> value from the last hard_counters (0 when absent)
  local v
  v=$(grep -oE "(: | )$1=[0-9]+" "$CASE_DIR/counters.txt" | tail -n1 | cut -d= -f2)
  echo "${v:-0}"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$ALG_PID/status" 2>/dev/null; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$ALG_PID/status" 2>/dev/null; }
pending_set_size() { gw ipset list -t ftpalg-pend4 2>/dev/null | awk -F': ' '/^Number of entries/ { print $2 }'; }
# Data-connection conntracks to/from the fake server (anything not port 21).
hard_data_conntracks() {
  gw conntrack -L -p tcp 2>/dev/null | grep -F "$HARD_SRV4" | grep -vc 'dport=21 ' || true
}

hard_note() { echo "$*" >>"$T/hardening.txt"; echo "  $*"; }

# Common checks after a flood: still running, bounded memory, queue flowing.
hard_after_flood() { # LABEL
  local hwm
  kill -0 "$ALG_PID" 2>/dev/null || { fail "$1: ftpalgd died"; return 1; }
  hwm=$(hwm_kb)
  ((hwm <= HARD_RSS_LIMIT_KB)) || fail "$1: peak RSS ${hwm} kB > ${HARD_RSS_LIMIT_KB} kB"
  (($(cval sessions) <= HARD_MAX_SESSIONS)) || fail "$1: sessions=$(cval sessions) > $HARD_MAX_SESSIONS"
  (($(cval pending) <= HARD_MAX_EXP)) || fail "$1: plane pending=$(cval pending) > $HARD_MAX_EXP"
  # The queue keeps flowing: an ordinary active transfer with a rewrite.
  cli "${CURL[@]}" --ftp-port - --disable-eprt --interface "$CLI4_GROW" "ftp://$SRV4/hello.txt" \
    -o "$CASE_DIR/after-hello.txt" >"$CASE_DIR/after.out" 2>"$CASE_DIR/after.err" ||
    fail "$1: active transfer after the flood failed"
  expect_sha "$CASE_DIR/after-hello.txt" "$SMALL_SHA" "$1: transfer after the flood"
}

case_hard_privileges() {
  local st rc out
  case_begin "ftpalgd-user-nobody"
  stop_pid "$ALG_PID" TERM; ALG_PID=""
  FTPALGD_ARGS="$FTPALGD_ARGS_BASE $(hard_args)"
  if ! ftpalgd_spawn; then fail "ftpalgd --user nobody did not start"; case_report; return; fi
  HARD_MODE=1
  st=$(cat "/proc/$ALG_PID/status")
  grep -qE '^Uid:\s+65534\s+65534\s+65534\s+65534' <<<"$st" || fail "not running as nobody: $(grep ^Uid <<<"$st")"
  grep -qE '^CapEff:\s+0000000000001000$' <<<"$st" || fail "effective caps are not CAP_NET_ADMIN alone: $(grep ^CapEff <<<"$st")"
  grep -qE '^CapPrm:\s+0000000000001000$' <<<"$st" || fail "permitted caps: $(grep ^CapPrm <<<"$st")"
  grep -qE '^CapBnd:\s+0000000000001000$' <<<"$st" || fail "bounding set: $(grep ^CapBnd <<<"$st")"
  grep -qE '^NoNewPrivs:\s+1' <<<"$st" || fail "no_new_privs not set"
  expect_log ALG_LOG 'privileges: uid 65534 gid 65534, capabilities cap_net_admin=ep' "no privileges line in the log"
  cli "${CURL[@]}" --ftp-port - --disable-eprt --interface "$CLI4_GROW" "ftp://$SRV4/" -o "$CASE_DIR/list" \
    "ftp://$SRV4/big.bin" -o "$CASE_DIR/big.bin" >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  expect_rc0 $? "curl PORT as nobody"
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin as nobody"
  # Without CAP_NET_ADMIN: a clear refusal, exit status 1.
  if command -v capsh >/dev/null; then
    out=$(gw capsh --drop=cap_net_admin -- -c "exec $FTPALGD --queue 9" 2>&1); rc=$?
  else
    out=$(gw setpriv --bounding-set=-net_admin --inh-caps=-net_admin -- "$FTPALGD" --queue 9 2>&1); rc=$?
  fi
  echo "$out" >"$CASE_DIR/nocap.out"
  ((rc == 1)) || fail "ftpalgd without CAP_NET_ADMIN exited $rc, expected 1"
  grep -q 'needs CAP_NET_ADMIN' <<<"$out" || fail "ftpalgd without CAP_NET_ADMIN: no clear message ($out)"
  hard_counters
  hard_note "baseline (--user nobody, after one transfer): VmRSS $(rss_kb) kB, VmHWM $(hwm_kb) kB"
  case_end 2 2
}

hard_fake_server() {
  ip -n "$NS_SRV" addr add $HARD_SRV4/24 dev eth0 2>/dev/null
  HARD_FAKE_PID=$(start_bg "$T/hard-server.out" "$NS_SRV" "$PY" "$E2E_LIB_DIR/hardening.py" server $HARD_SRV4 \
    --max 5000 --seconds 300)
  wait_listen srv "$HARD_SRV4:21" 21 5
}

case_hard_synflood() {
  local before_ev out
  case_begin "flood-syn-20000"
  hard_counters; before_ev=$(cval sessions_evicted)
  out=$(cli timeout 60 "$PY" "$E2E_LIB_DIR/hardening.py" synflood $HARD_SRV4 --src "$CLI4" --count 20000 2>&1)
  echo "$out" >"$CASE_DIR/flood.out"
  grep -q 'SYNS sent=20000' <<<"$out" || fail "SYN generator: $out"
  sleep 2   # let the queue drain
  hard_counters
  hard_note "SYN flood: $out; sessions=$(cval sessions) sessions_created=$(cval sessions_created)" \
    "sessions_evicted=+$(($(cval sessions_evicted) - before_ev)) resolver_cached=$(cval resolver_cached)" \
    "resolver_evictions=$(cval resolver_evictions) VmRSS $(rss_kb) kB VmHWM $(hwm_kb) kB;" \
    "gateway conntracks $(gw conntrack -C 2>/dev/null); $(KernelQueueLine)"
  (($(cval sessions_evicted) - before_ev > 0)) || fail "sessions_evicted did not move"
  grep -q 'kernel q0 portid=' "$CASE_DIR/counters.txt" || fail "counters: kernel queue stats unreadable"
  grep -q 'kernel q0 .* user_dropped=0' "$CASE_DIR/counters.txt" || hard_note "  (kernel queue drops during the flood: fail-open let them pass)"
  hard_after_flood "SYN flood"
  case_end 1 1
}

KernelQueueLine() { grep -o 'kernel q0[^;]*' "$CASE_DIR/counters.txt" | tail -n1; }

case_hard_idle() {
  local before_ev ready=$T/hold.ready go=$T/hold.go pid i held
  case_begin "flood-idle-3000"
  hard_counters; before_ev=$(cval sessions_evicted)
  rm -f "$ready" "$go"
  ip netns exec "$NS_CLI" timeout 120 "$PY" "$E2E_LIB_DIR/hardening.py" hold $HARD_SRV4 --src "$CLI4" --count 3000 \
    --ready "$ready" --go "$go" --seconds 100 >"$CASE_DIR/hold.out" 2>&1 &
  pid=$!
  for ((i = 0; i < 900; i++)); do [[ -e $ready ]] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  held=$(awk '/^HELD/ { print $2 }' "$CASE_DIR/hold.out")
  ((${held:-0} >= 3000)) || fail "held ${held:-0} idle control connections, expected 3000"
  sleep 1
  hard_counters
  hard_note "3000 idle connections: held ${held:-0}; sessions=$(cval sessions)" \
    "sessions_evicted=+$(($(cval sessions_evicted) - before_ev)) VmRSS $(rss_kb) kB VmHWM $(hwm_kb) kB"
  (($(cval sessions_evicted) - before_ev >= 1000)) ||
    fail "sessions_evicted +$(($(cval sessions_evicted) - before_ev)), expected >= 1000 (3000 sessions, cap $HARD_MAX_SESSIONS)"
  hard_after_flood "idle connections"
  touch "$go"; stop_pid $pid
  case_end 1 1
}

case_hard_ports() {
  local before_ev before_rw out pend dct
  case_begin "flood-port-10000"
  hard_counters; before_ev=$(cval expectations_evicted); before_rw=$(cval rewrites)
  out=$(cli timeout 150 "$PY" "$E2E_LIB_DIR/hardening.py" ports $HARD_SRV4 --src "$CLI4_GROW" --count 10000 \
    --seconds 140 2>&1)
  echo "$out" >"$CASE_DIR/ports.out"
  grep -q 'PORTS sent=10000 ok=10000' <<<"$out" || fail "PORT flood: $out"
  pend=$(pending_set_size); dct=$(hard_data_conntracks)
  hard_counters
  hard_note "10000 PORT commands: $out; rewrites=+$(($(cval rewrites) - before_rw))" \
    "expectations_evicted=+$(($(cval expectations_evicted) - before_ev)) pending=$(cval pending)" \
    "ipset ftpalg-pend4 entries=$pend data conntracks=$dct ledger_overflow=$(cval ledger_overflow)" \
    "snapshot_saved=$(cval snapshot_saved) snapshot_write_us=$(cval snapshot_write_us)" \
    "VmRSS $(rss_kb) kB VmHWM $(hwm_kb) kB"
  (($(cval rewrites) - before_rw >= 10000)) || fail "rewrites +$(($(cval rewrites) - before_rw)), expected 10000"
  (($(cval expectations_evicted) - before_ev >= 10000 - HARD_MAX_EXP_SESSION)) ||
    fail "expectations_evicted +$(($(cval expectations_evicted) - before_ev)), expected >= $((10000 - HARD_MAX_EXP_SESSION))"
  ((${pend:-0} <= HARD_MAX_EXP_SESSION + 2)) || fail "pending ipset holds $pend entries (per-session cap $HARD_MAX_EXP_SESSION)"
  ((dct <= HARD_MAX_EXP_SESSION)) || fail "$dct data conntracks for the flooding session"
  hard_after_flood "PORT flood"
  case_end 1 1
}

hardening_cases() {
  FTPALGD_ARGS_BASE=$FTPALGD_ARGS
  : >"$T/hardening.txt"
  HARD_MODE=0
  run ftpalgd-user-nobody case_hard_privileges
  if case_wanted flood-syn-20000 || case_wanted flood-idle-3000 || case_wanted flood-port-10000; then
    if ((HARD_MODE == 0)); then
      stop_pid "$ALG_PID" TERM; ALG_PID=""
      FTPALGD_ARGS="$FTPALGD_ARGS_BASE $(hard_args)"
      ftpalgd_spawn || { echo "FAIL hardening: ftpalgd $(hard_args) did not start"; FAIL_N=$((FAIL_N + 1)); return; }
    fi
    hard_fake_server || { echo "FAIL hardening: fake server not listening"; FAIL_N=$((FAIL_N + 1)); return; }
    run flood-syn-20000 case_hard_synflood
    run flood-idle-3000 case_hard_idle
    run flood-port-10000 case_hard_ports
    stop_pid "$HARD_FAKE_PID"
  fi
}
