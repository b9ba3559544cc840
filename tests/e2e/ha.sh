#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Two gateways, one service (issue 7): ftpalgd on two gateways kept in sync by
# conntrackd (FTFW over a dedicated veth), failover as keepalived does it
# (tests/e2e/ha_lib.sh has the topology). Called by `make e2e` / `make e2e-ha`.
#
#   tests/e2e/ha.sh                 every case
#   tests/e2e/ha.sh 'ha-pending-*'  only cases whose name matches a glob
#
# Knobs: HA_RESYNC=auto|cmd|usr2|restart (how the new master's ftpalgd
# re-reads its sessions, see ha_lib.sh), HA_KEEPALIVED=1 (real keepalived
# moves the VIPs and calls the notify script; needs the keepalived package,
# not in install-deps), HA_RACE=1 (fail over right after a step, while the
# client's delayed ACK may still be on its way), E2E_KEEP=1 keeps the temp dir, HA_BUDGET (s,
# default 240) bounds the whole run.
#
# Each case holds ONE control connection (tests/e2e/ha_client.py) through
# failovers and asserts per transfer: the sha256 of the file, the gateway
# that was active did the rewrite (its ftpalgd logged REWRITE, the other did
# not), the data connection was RELATED on that gateway (FORWARD counter),
# and the server saw only the public VIP in PORT/227 terms; per case: no
# TCP RST sent by either gateway, no INVALID drop, and after each failover
# the control conntrack is in the new master's table (committed by
# conntrackd) and its ftpalgd took the session's offsets from the labels.
set -uo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIPPED: HA e2e tests need root (network namespaces, iptables, conntrackd); run 'sudo make e2e-ha'"
  exit 0
fi
for tool in ip iptables conntrack conntrackd vsftpd ss; do
  command -v "$tool" >/dev/null || { echo "FAIL ha-setup: $tool missing (scripts/install-deps.sh --e2e)"; exit 1; }
done

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"
# shellcheck source=tests/e2e/ha_lib.sh
source "$HERE/ha_lib.sh"

FILTERS=("$@")

# ------------------------------------------------------- case framework --
HCASE="" HCASE_DIR="" HCASE_ERR=() HCASE_T0=0
HPASS=0 HFAIL=0 HFAILED=()
declare -A HS_RST HS_INV HS_NOSYN HLOGOFF

hfail() { HCASE_ERR+=("$*"); }

hlog_mark() { # byte offsets of the logs a case reads
  local f
  for f in "$H_SRV_LOG" "$H_INS_LOG" "${HA_ALG_LOG[1]}" "${HA_ALG_LOG[2]}"; do
    HLOGOFF[$f]=$(stat -c %s "$f" 2>/dev/null || echo 0)
  done
}
hlog_new() { # FILE: what was appended since hlog_mark
  [[ -f $1 ]] && tail -c +"$((${HLOGOFF[$1]:-0} + 1))" "$1"
}

hcase_begin() { # NAME
  HCASE=$1 HCASE_ERR=() HCASE_T0=$(date +%s.%N)
  HCASE_DIR=$HA_T/cases/$HCASE
  mkdir -p "$HCASE_DIR"
  local n
  for n in 1 2; do
    HS_RST[$n]=$(ha_out_rsts "$n") HS_INV[$n]=$(ha_fw_count "$n" ha-invalid) HS_NOSYN[$n]=$(ha_fw_count "$n" ha-new-nosyn)
  done
  hlog_mark
  echo "== $HCASE" >>"$HA_T/events.log"
}

hcase_end() {
  local n d dt
  ha_client_stop
  sleep 0.2
  for n in 1 2; do
    d=$(($(ha_out_rsts "$n") - HS_RST[$n])); ((d == 0)) || hfail "gw$n sent $d TCP RST(s)"
    d=$(($(ha_fw_count "$n" ha-invalid) - HS_INV[$n])); ((d == 0)) || hfail "gw$n dropped $d INVALID packet(s)"
    d=$(($(ha_fw_count "$n" ha-new-nosyn) - HS_NOSYN[$n]))
    ((d == 0)) || hfail "gw$n dropped $d mid-stream packet(s) of connections it had no state for"
  done
  if hlog_new "$H_SRV_LOG" | grep -E '"(PORT|EPRT) .*(192,168,|10,7,0,)' >/dev/null; then
    hfail "outside server received a private address: $(hlog_new "$H_SRV_LOG" | grep -Em1 '"(PORT|EPRT) .*(192,168,|10,7,0,)')"
  fi
  dt=$(awk -v a="$HCASE_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if ((${#HCASE_ERR[@]} == 0)); then
    echo "PASS $HCASE (${dt}s)"; HPASS=$((HPASS + 1))
  else
    local IFS='; '
    echo "FAIL $HCASE (${dt}s): ${HCASE_ERR[*]}"; HFAIL=$((HFAIL + 1)); HFAILED+=("$HCASE")
    hcase_diag
  fi
}

hcase_diag() {
  local f
  echo "  --- client steps"; sed 's/^/  | /' "$HCASE_DIR/client.out" 2>/dev/null | cut -c1-200
  [[ -s $HCASE_DIR/client.err ]] && { echo "  --- client stderr"; tail -n 5 "$HCASE_DIR/client.err" | sed 's/^/  | /'; }
  echo "  --- events"; sed -n "/^== $HCASE\$/,\$p" "$HA_T/events.log" | tail -n 12 | sed 's/^/  | /'
  for f in 1 2; do
    echo "  --- ftpalgd gw$f (new, last 6 lines)"; hlog_new "${HA_ALG_LOG[$f]}" | tail -n 6 | cut -c1-220 | sed 's/^/  | /'
  done
  for f in 1 2; do
    [[ -s $HA_T/notify.gw$f.log ]] && { echo "  --- notify gw$f (last 6)"; tail -n 6 "$HA_T/notify.gw$f.log" | sed 's/^/  | /'; }
  done
}

# ------------------------------------------------------ scripted client --
HC_FD="" HC_PID="" HC_OUT="" HC_N=0 HC_RES=""
HA_CLIENT_FD=""
ha_client_start() { # NS HOST SRC
  local ns=$1 host=$2 src=$3 fifo=$HCASE_DIR/client.in i
  HC_OUT=$HCASE_DIR/client.out HC_N=0
  rm -f "$fifo"; mkfifo "$fifo"
  : >"$HC_OUT"
  ip netns exec "$ns" timeout 170 "$PY" "$HERE/ha_client.py" "$host" --src "$src" \
    <"$fifo" >"$HC_OUT" 2>"$HCASE_DIR/client.err" &
  HC_PID=$!
  HA_PIDS+=("$HC_PID")
  exec {HC_FD}<>"$fifo"
  HA_CLIENT_FD=$HC_FD
  for ((i = 0; i < 150; i++)); do
    grep '^READY ' "$HC_OUT" >/dev/null && return 0
    grep '^CONNECT-FAIL' "$HC_OUT" >/dev/null && break
    kill -0 "$HC_PID" 2>/dev/null || break
    sleep 0.1
  done
  hfail "control connection to $host from $src failed: $(head -c 200 "$HC_OUT")"
  return 1
}

ha_client_stop() {
  [[ -n $HC_FD ]] || return 0
  exec {HC_FD}>&-
  HC_FD="" HA_CLIENT_FD=""
  stop_pid "$HC_PID" TERM
}

# ha_step CMD [TIMEOUT_S]: send one step, wait (bounded) for its answer.
# HC_RES = the answer line; status 0 only for "OK".
ha_step() {
  local line=$1 limit=$((${2:-30} * 10)) i
  HC_N=$((HC_N + 1)) HC_RES=""
  [[ -n $HC_FD ]] || { HC_RES="no client"; return 1; }
  echo "$line" >&"$HC_FD"
  for ((i = 0; i < limit; i++)); do
    HC_RES=$(grep -m1 "^STEP $HC_N " "$HC_OUT")
    [[ -n $HC_RES ]] && break
    kill -0 "$HC_PID" 2>/dev/null || { HC_RES="client exited"; break; }
    sleep 0.1
  done
  [[ -n $HC_RES ]] || HC_RES="no answer within ${2:-30} s"
  echo "gw$HA_ACTIVE step $HC_N: $line -> $HC_RES" >>"$HA_T/events.log"
  [[ $HC_RES == "STEP $HC_N OK"* ]]
}

# ---------------------------------------------------------- assertions --
# One transfer on the current control connection, through gateway HA_ACTIVE.
#   MODE active|passive, FILE big.bin|hello.txt, REWRITES: how many rewrites
#   the active gateway must log (0: none expected, e.g. a passive transfer
#   from a public server), SRVLOG: log of the server that must have seen it.
ha_xfer() { # LABEL MODE FILE REWRITES SRVLOG [STEP]
  local label=$1 mode=$2 file=$3 nrw=$4 slog=$5 step=${6:-} a=$HA_ACTIVE b=$((3 - HA_ACTIVE))
  local rel0 rw0a rw0b sha d off custom=0
  [[ -n $step ]] && custom=1
  [[ -n $step ]] || step="retr $mode $file"
  rel0=$(ha_fw_count "$a" ha-related) rw0a=$(ha_rewrites "$a") rw0b=$(ha_rewrites "$b")
  off=$(stat -c %s "$slog")
  if ! ha_step "$step"; then
    hfail "$label: $HC_RES"
    return 1
  fi
  sha=$BIG_SHA; [[ $file == hello.txt ]] && sha=$SMALL_SHA
  [[ $HC_RES == *"sha=$sha "* ]] || hfail "$label: sha256 mismatch ($HC_RES)"
  sleep 0.1
  d=$(($(ha_fw_count "$a" ha-related) - rel0))
  ((d >= 1)) || hfail "$label: data connection not RELATED on gw$a (counter +$d)"
  d=$(($(ha_rewrites "$a") - rw0a))
  ((d >= nrw)) || hfail "$label: gw$a's ftpalgd logged $d REWRITE lines, expected >= $nrw"
  d=$(($(ha_rewrites "$b") - rw0b))
  ((d == 0)) || hfail "$label: the inactive gw$b's ftpalgd logged $d REWRITE lines"
  ((custom)) && return 0     # announced in an earlier step: checked there
  if [[ $mode == active && $slog == "$H_SRV_LOG" ]]; then
    tail -c +"$((off + 1))" "$slog" | grep -E "\"PORT ${H_VIP_WAN//./,},[0-9]+,[0-9]+\"" >/dev/null ||
      hfail "$label: outside server did not receive PORT ${H_VIP_WAN//./,},..."
  fi
  if [[ $mode == passive && $slog == "$H_INS_LOG" ]]; then
    tail -c +"$((off + 1))" "$slog" | grep -E "227 Entering Passive Mode \(${H_INS//./,}," >/dev/null ||
      hfail "$label: inside server did not announce its private address"
    [[ $HC_RES == *"227=227_Entering_Passive_Mode_(${H_VIP_WAN//./,},"* ]] ||
      hfail "$label: client did not receive 227 (${H_VIP_WAN//./,},...) ($HC_RES)"
  fi
  return 0
}

# After a failover to N: the control conntrack ORIG_SRC:SPORT -> DST:21 is in
# N's table (conntrackd committed it), and N's ftpalgd restored the offsets
# from its labels once the session spoke again (checked by ha_check_restored).
ha_check_committed() { # N SRC SPORT DST
  local n=$1 out
  out=$(gwn "$n" conntrack -L -p tcp --orig-src "$2" --sport "$3" --dport 21 2>/dev/null)
  echo "gw$n conntrack: ${out:-none}" >>"$HA_T/events.log"
  [[ $out == *ESTABLISHED* ]] || hfail "control conntrack $2:$3 not in gw$n's table after the failover (conntrack -L: '${out:-none}')"
}
ha_check_restored() { # N
  hlog_new "${HA_ALG_LOG[$1]}" | grep 'offsets restored from conntrack' >/dev/null ||
    hfail "gw$1's ftpalgd did not restore the session's offsets from the conntrack labels"
  # ftpalg-rules' label rule (mangle PREROUTING, dport 21, connlabel 127, no
  # target) counts client->server control packets whose conntrack carries
  # ftpalgd's bit 127: on a new master only if the labels were replicated
  # and committed.
  local d=$(($(ha_label_count "$1") - ${HA_L0[$1]:-0}))
  ((d > 0)) || hfail "no control packet on gw$1 matched label bit 127 since the failover/restart (labels not replicated?)"
}
declare -A HA_L0
ha_label_count() { # N
  gwn "$1" iptables -w -t mangle -vxnL PREROUTING 2>/dev/null | awk '/connlabel/ { s += $1 } END { print s + 0 }'
}

ha_failover_checked() { # FROM TO SRC SPORT DST
  # Let the client's delayed ACK of the last reply (up to 40 ms) leave
  # first: a control packet that reaches the new master between the VIP
  # move and the commit is a race of its own (HA_RACE=1 keeps it in).
  [[ ${HA_RACE:-0} == 1 ]] || sleep 0.3
  if [[ ${HA_DOWN[$2]:-0} == 1 ]]; then
    ha_recover "$2" || hfail "notify BACKUP on gw$2 failed (see notify.gw$2.log)"
    HA_DOWN[$2]=0
    sleep 1     # the recovered backup's resync request (-n) is answered
  fi
  HA_L0[$2]=$(ha_label_count "$2")
  ha_failover "$1" "$2" || hfail "failover gw$1 -> gw$2: notify MASTER failed: $(tail -n 3 "$HA_T/notify.gw$2.log" | tr '\n' ' ')"
  HA_DOWN[$1]=1
  ha_check_committed "$2" "$3" "$4" "$5"
  ha_settle
}

# HA_SETTLE_NOOP=1 (diagnosis only, printed loudly): one NOOP after each
# failover/restart before the next transfer, so a daemon that re-reads the
# session only at its next line boundary has seen one line first.
ha_settle() {
  [[ ${HA_SETTLE_NOOP:-0} == 1 ]] || return 0
  ha_step noop || hfail "NOOP after the failover/restart: $HC_RES"
}
declare -A HA_DOWN=([1]=0 [2]=0)

# Back to gw1 active with both gateways up (between cases).
ha_normalize() {
  if ((HA_ACTIVE != 1)); then
    ha_recover 1; HA_DOWN[1]=0; sleep 1
    ha_failover 2 1; HA_DOWN[2]=1
  fi
  if [[ ${HA_DOWN[2]} == 1 ]]; then ha_recover 2; HA_DOWN[2]=0; fi
  return 0
}

# For the record (events.log): what the new master knows about pending data
# connections right after the failover.
ha_pending_state() { # N
  echo "gw$1 pending ipset after failover: $(gwn "$1" ipset list ftpalg-pend4 2>&1 | sed -n '/^Members:/,$p' | tr '\n' ' ')" \
    >>"$HA_T/events.log"
}

ha_sport() { awk '/^READY/ { n = split($2, a, ":"); print a[n] }' "$HC_OUT"; }

# ---------------------------------------------------------------- cases --
# (a)/(b): client behind SNAT, active transfer (PORT rewritten) via gw1,
# failover to gw2, active + passive in the same control session, failback to
# gw1, active + passive again.
case_ha_outbound() { # NAME SRC
  local name=$1 src=$2 sport g
  hcase_begin "$name"
  ha_client_start "$NS_HCLI" "$H_SRV" "$src" || { hcase_end; return; }
  sport=$(ha_sport)
  ha_xfer "gw1 active" active big.bin 1 "$H_SRV_LOG"
  for g in 2 1; do
    ha_failover_checked "$((3 - g))" "$g" "$src" "$sport" "$H_SRV"
    ha_xfer "gw$g active after failover" active big.bin 1 "$H_SRV_LOG"
    ha_check_restored "$g"
    ha_xfer "gw$g passive after failover" passive hello.txt 0 "$H_SRV_LOG"
  done
  ha_step pwd || hfail "PWD at the end: $HC_RES"
  ha_step quit || hfail "QUIT: $HC_RES"
  local n
  n=$(hlog_new "$H_SRV_LOG" | grep -c 'OK LOGIN')
  ((n == 1)) || hfail "outside server logged $n logins, expected 1 (one control session)"
  hcase_end
}

# (c): outside client -> VIP:21 DNATed to the inside server. Passive (227
# rewritten 10,7,0,20 -> 203,0,113,1, grows by 2) via gw1, failover, passive
# + active via gw2, failback, passive again.
case_ha_dnat() {
  local sport
  hcase_begin ha-dnat-pasv
  ha_client_start "$NS_HSRV" "$H_VIP_WAN" "$H_SRV" || { hcase_end; return; }
  sport=$(ha_sport)
  ha_xfer "gw1 passive" passive big.bin 1 "$H_INS_LOG"
  ha_failover_checked 1 2 "$H_SRV" "$sport" "$H_VIP_WAN"
  ha_xfer "gw2 passive after failover" passive big.bin 1 "$H_INS_LOG"
  ha_check_restored 2
  ha_xfer "gw2 active after failover" active hello.txt 0 "$H_INS_LOG"
  ha_failover_checked 2 1 "$H_SRV" "$sport" "$H_VIP_WAN"
  ha_xfer "gw1 passive after failback" passive hello.txt 1 "$H_INS_LOG"
  ha_step quit || hfail "QUIT: $HC_RES"
  hcase_end
}

# (d) a data connection announced through gw1 opens through gw2 after the
# failover. PORT: the outside server connects to VIP:port; PASV: the outside
# client connects to VIP:port (DNATed server). Needs the pending
# announcements to survive the failover (hacore).
case_ha_pending_port() {
  local sport
  hcase_begin ha-pending-port
  ha_client_start "$NS_HCLI" "$H_SRV" "$H_CLI_GROW" || { hcase_end; return; }
  sport=$(ha_sport)
  ha_xfer "gw1 active" active hello.txt 1 "$H_SRV_LOG"
  local rw0
  rw0=$(ha_rewrites 1)
  ha_step announce-port || hfail "PORT via gw1: $HC_RES"
  (($(ha_rewrites 1) > rw0)) || hfail "gw1 did not rewrite the PORT announced before the failover"
  ha_failover_checked 1 2 "$H_CLI_GROW" "$sport" "$H_SRV"
  ha_pending_state 2
  ha_xfer "gw2 RETR over the PORT announced via gw1" active big.bin 0 "$H_SRV_LOG" "retr-pending big.bin"
  ha_xfer "gw2 active after failover" active hello.txt 1 "$H_SRV_LOG"
  ha_step quit || hfail "QUIT: $HC_RES"
  hcase_end
}

case_ha_pending_pasv() {
  local sport
  hcase_begin ha-pending-pasv-dnat
  ha_client_start "$NS_HSRV" "$H_VIP_WAN" "$H_SRV" || { hcase_end; return; }
  sport=$(ha_sport)
  ha_xfer "gw1 passive" passive hello.txt 1 "$H_INS_LOG"
  local rw0
  rw0=$(ha_rewrites 1)
  ha_step announce-pasv || hfail "PASV via gw1: $HC_RES"
  [[ $HC_RES == *"addr=$H_VIP_WAN:"* ]] || hfail "227 via gw1 not rewritten to $H_VIP_WAN: $HC_RES"
  (($(ha_rewrites 1) > rw0)) || hfail "gw1 did not rewrite the 227 announced before the failover"
  ha_failover_checked 1 2 "$H_SRV" "$sport" "$H_VIP_WAN"
  ha_pending_state 2
  ha_xfer "gw2 RETR over the 227 announced via gw1" passive big.bin 0 "$H_INS_LOG" "retr-pending big.bin"
  ha_xfer "gw2 passive after failover" passive hello.txt 1 "$H_INS_LOG"
  ha_step quit || hfail "QUIT: $HC_RES"
  hcase_end
}

# (e) ftpalgd SIGKILLed and restarted on the active gateway mid-session, then
# a failover: the labels the restarted daemon writes reach the backup too.
case_ha_restart() {
  local sport
  hcase_begin ha-ftpalgd-restart
  ha_client_start "$NS_HCLI" "$H_SRV" "$H_CLI_GROW" || { hcase_end; return; }
  sport=$(ha_sport)
  ha_xfer "gw1 active" active big.bin 1 "$H_SRV_LOG"
  HA_L0[1]=$(ha_label_count 1)
  ha_alg_stop 1 KILL
  echo "ftpalgd on gw1 killed (SIGKILL)" >>"$HA_T/events.log"
  ha_alg_start 1 || hfail "ftpalgd restart on gw1 failed"
  ha_settle
  ha_xfer "gw1 active after restart" active big.bin 1 "$H_SRV_LOG"
  ha_check_restored 1
  ha_xfer "gw1 passive after restart" passive hello.txt 0 "$H_SRV_LOG"
  ha_failover_checked 1 2 "$H_CLI_GROW" "$sport" "$H_SRV"
  ha_xfer "gw2 active after failover" active hello.txt 1 "$H_SRV_LOG"
  ha_xfer "gw2 passive after failover" passive hello.txt 0 "$H_SRV_LOG"
  ha_step quit || hfail "QUIT: $HC_RES"
  hcase_end
}

# ----------------------------------------------------------------- main --
HA_BUDGET=${HA_BUDGET:-240}
run() { # NAME FUNCTION ARGS...
  local name=$1; shift
  case_wanted "$name" || return 0
  if ((SECONDS - T_START > HA_BUDGET)); then
    echo "FAIL $name: not run, HA time budget of ${HA_BUDGET} s used up"
    HFAIL=$((HFAIL + 1)); HFAILED+=("$name"); return 0
  fi
  ha_normalize
  "$@"
}

trap 'ha_down' EXIT
trap 'exit 130' INT TERM
T_START=$SECONDS
HA_RESYNC=$(ha_resync_mode)
echo "ha: namespaces $HA_P-*, resync mode $HA_RESYNC"
[[ ${HA_SETTLE_NOOP:-0} == 1 ]] &&
  echo "ha: WARNING: HA_SETTLE_NOOP=1: a NOOP is sent after every failover/restart (diagnosis, weaker than the issue's test)"
ha_topology_up
ha_servers_start
for n in 1 2; do ha_ctd_start "$n" || { echo "FAIL ha-setup: conntrackd on gw$n"; exit 1; }; done
for n in 1 2; do
  ha_rules_install "$n" || { echo "FAIL ha-setup: ftpalg-rules on gw$n"; exit 1; }
  ha_alg_start "$n" || { echo "FAIL ha-setup: ftpalgd on gw$n"; exit 1; }
done
ha_notify_wrapper 1; ha_notify_wrapper 2
if [[ ${HA_KEEPALIVED:-0} == 1 ]]; then
  command -v keepalived >/dev/null || { echo "FAIL ha-setup: HA_KEEPALIVED=1 but keepalived is not installed"; exit 1; }
  echo "ha: keepalived moves the VIPs (HA_KEEPALIVED=1)"
  ha_keepalived_up || { echo "FAIL ha-setup: keepalived"; exit 1; }
else
  ha_notify 2 BACKUP || echo "ha: notify BACKUP on gw2 failed (see notify.gw2.log)"
fi

run ha-grow case_ha_outbound ha-grow "$H_CLI_GROW"
run ha-shrink case_ha_outbound ha-shrink "$H_CLI"
run ha-dnat-pasv case_ha_dnat
run ha-pending-port case_ha_pending_port
run ha-pending-pasv-dnat case_ha_pending_pasv
run ha-ftpalgd-restart case_ha_restart

for n in 1 2; do
  echo "ha: gw$n ftpalgd --stats (HA counters): $(ha_stats "$n" |
    awk '$1 ~ /^(sessions_restored|snapshot_loaded|snapshot_no_labels|resync_[a-z_]+|rewrites)$/ && $2 != 0 { printf "%s=%s ", $1, $2 }')"
done
echo "ha: $HPASS passed, $HFAIL failed ($((SECONDS - T_START)) s)${HFAILED[*]:+: ${HFAILED[*]}}"
((HFAIL == 0 && HPASS > 0))
