#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd unit (part of `make packaging-test`):
#  1. `systemd-analyze verify` on the unit as `make install` writes it (into a
#     scratch PREFIX, so its Exec paths and man pages exist): no output at all.
#  2. (root) the daemon under the unit's own restrictions, read from the unit:
#     an unprivileged uid with CAP_NET_ADMIN as its only (ambient, bounding)
#     capability and no_new_privs, as DynamicUser=/AmbientCapabilities= give
#     it, traced with strace in a scratch network namespace through start,
#     SIGHUP, SIGUSR1 (and --stats when it has them) and SIGTERM: every system
#     call it makes must be allowed by the unit's SystemCallFilter= lines
#     (expanded by systemd-analyze), every socket family by
#     RestrictAddressFamilies=, and it must stop with status 0. Its
#     NOTIFY_SOCKET is a unix datagram socket this test owns
#     (notify_sink.py, WATCHDOG_USEC=2 s, WATCHDOG_PID the daemon's): READY=1
#     (with STATUS=) after its queues are bound, then WATCHDOG=1 from the
#     packet loop every second, RELOADING=1 (MONOTONIC_USEC=) and READY=1
#     around SIGHUP, STOPPING=1 last (Type=notify).
# systemd does not run as PID 1 in CI, so the unit is not started for real.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
BUILD=${BUILD:-build}
DAEMON=$(cd "$BUILD" 2>/dev/null && pwd)/ftpalgd
fails=0 checks=0
fail() { echo "FAIL unit: $*"; fails=$((fails + 1)); }
ok() { checks=$((checks + 1)); }
command -v systemd-analyze >/dev/null || {
  echo "SKIPPED unit: systemd-analyze missing (apt-get install systemd)"; exit 0; }

tmp=$(mktemp -d)
NS=""
cleanup() {
  [[ -n ${TRACE_PID:-} ]] && kill "$TRACE_PID" 2>/dev/null
  [[ -n ${SINK_PID:-} ]] && kill "$SINK_PID" 2>/dev/null
  if [[ -n $NS ]]; then
    ip netns exec "$NS" "$REPO/scripts/ftpalg-rules" remove >/dev/null 2>&1
    ip netns del "$NS" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

make -s install BUILD="$BUILD" PREFIX="$tmp/usr" SYSCONFDIR="$tmp/etc" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; echo "FAIL unit: make install into $tmp failed"; exit 1; }
UNIT=$tmp/usr/lib/systemd/system/ftpalgd.service
out=$(MANPATH=$tmp/usr/share/man systemd-analyze verify "$UNIT" 2>&1)
rc=$?
if ((rc == 0)) && [[ -z $out ]]; then
  ok; echo "unit: systemd-analyze verify ftpalgd.service: clean"
else
  fail "systemd-analyze verify (rc $rc): $out"
fi
for key in 'Type=notify' 'WatchdogSec=' 'Restart=on-failure' 'ExecStartPre=+' 'ExecStopPost=+' 'ExecReload=' 'DynamicUser=yes' \
  'AmbientCapabilities=CAP_NET_ADMIN' 'CapabilityBoundingSet=CAP_NET_ADMIN' 'NoNewPrivileges=yes' \
  'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'RuntimeDirectory=ftpalg' \
  'CPUSchedulingPolicy=fifo' 'CPUSchedulingPriority=' 'RestrictRealtime=yes'; do
  grep -q "^$key" "$UNIT" && ok || fail "unit lacks $key"
done
if exposure=$(MANPATH=$tmp/usr/share/man systemd-analyze security --offline=yes "$UNIT" 2>/dev/null |
  sed -n 's/.*Overall exposure level for ftpalgd.service: \([0-9.]*\).*/\1/p') && [[ -n $exposure ]]; then
  awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' && ok ||
    fail "systemd-analyze security: exposure $exposure, above 2.0"
  echo "unit: systemd-analyze security: exposure $exposure"
fi

# ---- 2. the daemon inside the unit's restrictions ---------------------------
# What the fake notify socket received (notify_sink.py's log): in order,
# READY=1 with STATUS= once queues 0 and 1 were bound, WATCHDOG=1 about every
# second (half of WATCHDOG_USEC), RELOADING=1 with MONOTONIC_USEC= then
# READY=1 (SIGHUP), STOPPING=1 last.
check_notifications() { # LOG
  local log=$1 out
  out=$(awk '
    { t = $1; q = $2; $1 = ""; $2 = ""; m = substr($0, 3); n++ }
    n == 1 { if (m !~ /^READY=1\|STATUS=sessions [0-9]+, rewrites [0-9]+/) print "first notification is not READY=1 with STATUS=: " m
             if (q !~ /^bound=0,1$/) print "READY=1 before queues 0 and 1 were bound (" q ")"; next }
    m == "WATCHDOG=1" { if (!reload) { pings++; if (last && (t - last < 600 || t - last > 1700)) print "ping after " t - last " ms (expected about 1000)"; last = t }; next }
    m ~ /^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|/ { if (pings < 3) print "only " pings + 0 " watchdog pings before SIGHUP"; reload = 1; next }
    m ~ /^READY=1\|STATUS=/ { if (reload == 1) reload = 2; else print "READY=1 again without RELOADING=1"; next }
    m ~ /^STATUS=/ { next }
    m ~ /^STOPPING=1/ { stopping = n; next }
    { print "unexpected notification: " m }
    END { if (n == 0) print "no notification at all"
          if (reload != 2) print "no RELOADING=1 then READY=1 around SIGHUP"
          if (stopping != n) print "STOPPING=1 is not the last notification" }' "$log")
  if [[ -z $out ]]; then
    ok; echo "unit: notify socket: READY=1 after the queues were bound, $(grep -c ' WATCHDOG=1$' "$log") watchdog pings, RELOADING=1/READY=1, STOPPING=1"
  else
    fail "notify socket: $out"; sed 's/^/unit:   /' "$log"
  fi
}

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIPPED unit: sandbox check needs root (network namespace, capabilities)"
elif ! command -v strace >/dev/null || ! command -v setpriv >/dev/null; then
  echo "SKIPPED unit: sandbox check needs strace and setpriv (scripts/install-deps.sh --e2e)"
else
  # The groups the unit allows, minus those it denies, expanded to names.
  expand() { # GROUP-or-syscall...
    local x line
    for x in "$@"; do
      if [[ $x != @* ]]; then echo "$x"; continue; fi
      systemd-analyze syscall-filter "$x" 2>/dev/null | tail -n +2 |
        sed 's/^[[:space:]]*//; /^#/d; /^$/d' | while read -r line; do expand "$line"; done
    done
  }
  allow=() deny=()
  while read -r v; do
    if [[ $v == ~* ]]; then read -ra w <<<"${v#\~}"; deny+=("${w[@]}"); else read -ra w <<<"$v"; allow+=("${w[@]}"); fi
  done < <(sed -n 's/^SystemCallFilter=//p' "$UNIT")
  expand "${allow[@]}" | sort -u >"$tmp/allow"
  expand "${deny[@]}" | sort -u >"$tmp/deny"
  comm -23 "$tmp/allow" "$tmp/deny" >"$tmp/allowed"
  (($(wc -l <"$tmp/allowed") > 100)) && ok || fail "could not expand the unit's SystemCallFilter"
  families=$(sed -n 's/^RestrictAddressFamilies=//p' "$UNIT")

  NS=ftpalg-unit-$$
  ip netns add "$NS" && ip -n "$NS" link set lo up &&
    ip netns exec "$NS" scripts/ftpalg-rules install >/dev/null || fail "netns/rules setup failed"
  extra=()
  grep -q -- '--stats-socket' <<<"$("$BUILD/ftpalgd" --help)" && extra=(--stats-socket "$tmp/run/ftpalgd.sock")
  mkdir -p "$tmp/run" && chmod 0755 "$tmp" && chmod 0777 "$tmp/run"
  # The service manager's notify socket, in the daemon's namespace (it
  # notes which queues are bound when each datagram arrives).
  ip netns exec "$NS" /usr/bin/python3 tests/e2e/notify_sink.py "$tmp/run/notify" "$tmp/notify.log" \
    2>"$tmp/sink.err" &
  SINK_PID=$!
  for ((i = 0; i < 50; i++)); do [[ -S $tmp/run/notify ]] && break; sleep 0.1; done
  [[ -S $tmp/run/notify ]] || fail "notify_sink.py did not bind $tmp/run/notify: $(cat "$tmp/sink.err")"
  # setpriv gives what DynamicUser= + AmbientCapabilities= +
  # CapabilityBoundingSet= + NoNewPrivileges= give: uid/gid 61234 (in the
  # dynamic range), no groups, CAP_NET_ADMIN ambient and bounding only.
  # systemd's environment for Type=notify with WatchdogSec=2s; the shell
  # sets WATCHDOG_PID to its own pid, which exec makes the daemon's.
  # JOURNAL_STREAM names the log file as systemd names the journal stream
  # it gives stderr: every line then starts with its priority (<6>info: ...).
  # chrt: the unit's CPUSchedulingPolicy=/CPUSchedulingPriority=, which
  # systemd sets before it drops anything.
  : >"$tmp/log"
  prio=$(sed -n 's/^CPUSchedulingPriority=\([0-9]*\)$/\1/p' "$UNIT")
  NOTIFY_SOCKET=$tmp/run/notify WATCHDOG_USEC=2000000 JOURNAL_STREAM=$(stat -c '%d:%i' "$tmp/log") \
    FTPALGD_DEFAULT_CONFIG='' strace -f -qq -o "$tmp/trace" \
    ip netns exec "$NS" chrt --fifo "${prio:-10}" setpriv --reuid=61234 --regid=61234 --clear-groups \
    --inh-caps=-all,+net_admin --ambient-caps=+net_admin --bounding-set=-all,+net_admin \
    --no-new-privs /bin/sh -c 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$0" "$@"' \
    "$DAEMON" --log-level debug "${extra[@]}" \
    </dev/null >"$tmp/stdout" 2>"$tmp/log" &
  TRACE_PID=$!
  for ((i = 0; i < 100; i++)); do grep -qs ready "$tmp/log" && break; sleep 0.1; done
  pid=$(sed -n "s|^\([0-9]*\) *execve(\"$DAEMON\".*= 0$|\1|p" "$tmp/trace" | head -n1)
  if ! grep -q ready "$tmp/log" || [[ -z $pid ]]; then
    fail "ftpalgd did not get ready under the unit's credentials:"; tail -n 20 "$tmp/log"
  else
    ok
    grep -E 'privileges:|scheduling:' "$tmp/log" | sed 's/^/unit:   /'
    grep -qx "<6>info: scheduling: SCHED_FIFO priority ${prio:-10}" "$tmp/log" && ok ||
      fail "ftpalgd did not log 'scheduling: SCHED_FIFO priority ${prio:-10}' under the unit's scheduling"
    # Three watchdog pings (one a second) while the loop turns.
    for ((i = 0; i < 60; i++)); do
      (($(grep -c ' WATCHDOG=1$' "$tmp/notify.log" 2>/dev/null) >= 3)) && break; sleep 0.1
    done
    kill -HUP "$pid"; sleep 0.3
    kill -USR1 "$pid"; sleep 0.3
    if ((${#extra[@]})); then
      FTPALGD_DEFAULT_CONFIG='' "$BUILD/ftpalgd" --stats "${extra[@]}" >"$tmp/stats" 2>&1 && ok ||
        fail "ftpalgd --stats against the sandboxed daemon: $(head -n3 "$tmp/stats")"
    fi
    kill -TERM "$pid"
    wait "$TRACE_PID"; rc=$?
    TRACE_PID=""
    ((rc == 0)) && ok || { fail "ftpalgd exited $rc on SIGTERM:"; tail -n 5 "$tmp/log"; }
    grep -q 'reload' "$tmp/log" && ok || fail "no reload logged after SIGHUP"
    check_notifications "$tmp/notify.log"
    bad=$(grep -cvE '^<[3467]>(error|warn|info|debug): ' "$tmp/log")
    if ((bad == 0)) && grep -qx '<6>info: ready' "$tmp/log"; then
      ok; echo "unit: JOURNAL_STREAM: all $(wc -l <"$tmp/log") log lines carry their journald priority"
    else
      fail "JOURNAL_STREAM set: $bad log lines without a <N> priority prefix (or no <6>info: ready):"
      grep -vE '^<[3467]>' "$tmp/log" | head -n 5
    fi
    awk -v p="$pid" -v d="execve(\"$DAEMON\"" '$1 == p && seen { print } $1 == p && index($0, d) { seen = 1 }' "$tmp/trace" |
      sed -E 's/^[0-9]+ +//' | grep -oE '^[a-z_0-9]+\(' | tr -d '(' | sort -u >"$tmp/used"
    denied=$(comm -23 "$tmp/used" "$tmp/allowed" | tr '\n' ' ')
    if [[ -z $denied ]]; then
      ok; echo "unit: sandboxed ftpalgd made $(wc -l <"$tmp/used") distinct system calls, all allowed by the unit"
    else
      fail "system calls outside the unit's SystemCallFilter: $denied"
    fi
    bad_af=""
    for af in $(awk -v p="$pid" -v d="execve(\"$DAEMON\"" '$1 == p && seen { print } $1 == p && index($0, d) { seen = 1 }' "$tmp/trace" | grep -oE 'socket\(AF_[A-Z0-9]+' | sed 's/socket(//' | sort -u); do
      [[ " $families " == *" $af "* ]] || bad_af+=" $af"
    done
    [[ -z $bad_af ]] && ok || fail "socket families outside RestrictAddressFamilies ($families):$bad_af"
  fi
fi

echo "unit: $checks passed, $fails failed"
((fails == 0))
