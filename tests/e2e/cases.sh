# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# End-to-end cases. Each case_* function runs one scenario inside the lab of
# lib.sh and prints "PASS name" or "FAIL name: reasons". Besides exit codes and
# checksums every case checks (case_end): the data connections were RELATED,
# no INVALID drops, conntrack -S invalid unchanged, no RST from the gateway,
# and no kernel helper (ftpalgd mode). Most cases also check what the server
# logged (the address in PORT/EPRT, the peer address).

CURL=(curl -q -sS -v --connect-timeout 10 --max-time 20)

curl_opts() { # MODE -> CURL_MODE array
  case $1 in
    port) CURL_MODE=(--ftp-port - --disable-eprt) ;;
    eprt) CURL_MODE=(--ftp-port -) ;;
    pasv) CURL_MODE=(--disable-epsv --no-ftp-skip-pasv-ip) ;;
    epsv) CURL_MODE=(--ftp-pasv) ;;
  esac
}

# CURL_ACTIVE_SMALL=0 (the impaired suite): active-mode curl cases transfer
# big.bin only, no LIST or hello.txt. curl gives up on an active transfer
# when the control connection's reply (226) arrives before it could accept
# the data connection ("Ctrl conn has data while waiting for data conn",
# error 8): with a small file and frames reordered across the two
# connections that happens with any ALG (seen with the kernel helper).
CURL_ACTIVE_SMALL=${CURL_ACTIVE_SMALL:-1}

# What the server must have seen for a client behind MASQUERADE (v4).
# LOGVAR MODE [pyftpd]
expect_server_saw_public4() {
  local lv=$1 mode=$2 kind=${3:-vsftpd}
  if [[ $kind == vsftpd ]]; then
    expect_log "$lv" "Client \"$GW_PUB4\"" "server did not see the masquerade address as peer"
    expect_no_log "$lv" 'Client "(192\.168|10\.7)\.' "server saw a private peer address"
  else
    expect_log "$lv" "$GW_PUB4:[0-9]+-" "server did not see the masquerade address as peer"
  fi
  case $mode in
    port) expect_log "$lv" "PORT 203,0,113,1,[0-9]+,[0-9]+" "server did not receive PORT 203,0,113,1,..." ;;
    eprt) expect_log "$lv" "EPRT \|1\|203\.0\.113\.1\|[0-9]+\|" "server did not receive EPRT |1|203.0.113.1|...|" ;;
    active) expect_log "$lv" "(PORT 203,0,113,1,|EPRT \|1\|203\.0\.113\.1\|)" "server did not receive PORT/EPRT with 203.0.113.1" ;;
  esac
  expect_no_log "$lv" "(PORT|EPRT).*$RE_PRIV4" "server received a private address"
}

# --- A: client behind MASQUERADE -> outside vsftpd (or pyftpdlib) ----------
# MODE port|eprt|pasv|epsv, SRC grow|shrink, [SERVER vsftpd|pyftpd]
case_curl_out() {
  local mode=$1 which=$2 kind=${3:-vsftpd} src host lv rc nrw=0 ndata=2 list=1
  src=$CLI4; [[ $which == grow ]] && src=$CLI4_GROW
  host=$SRV4 lv=SRV4_LOG
  [[ $kind == pyftpd ]] && host=$PYSRV4 lv=PY_LOG
  curl_opts "$mode"
  [[ $mode == port || $mode == eprt ]] && nrw=2
  if ((nrw > 0 && CURL_ACTIVE_SMALL == 0)); then list=0 nrw=1 ndata=1; fi
  case_begin "curl-$mode-$which${3:+-$3}"
  local urls=("ftp://$host/" -o "$CASE_DIR/list")
  ((list == 1)) || urls=()
  cli "${CURL[@]}" "${CURL_MODE[@]}" --interface "$src" \
    "${urls[@]}" "ftp://$host/big.bin" -o "$CASE_DIR/big.bin" \
    >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  rc=$?
  expect_rc0 $rc curl
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  ((list == 0)) || expect_grep "$CASE_DIR/list" 'big\.bin' "LIST output lacks big.bin"
  case $mode in
    port) expect_grep "$CASE_DIR/curl.err" "^> PORT ${src//./,}," "client did not send PORT with its own address" ;;
    eprt) expect_grep "$CASE_DIR/curl.err" "^> EPRT \|1\|${src//./\\.}\|" "client did not send EPRT with its own address" ;;
    pasv) expect_grep "$CASE_DIR/curl.err" "^< 227 .*\(?203,0,113,${host##*.}," "client did not get 227 with the server address" ;;
    epsv) expect_grep "$CASE_DIR/curl.err" '^< 229 ' "client did not get 229" ;;
  esac
  expect_server_saw_public4 "$lv" "$mode" "$kind"
  case_end "$ndata" "$nrw"
}

# Two rewrites on one control connection: three URLs, one curl, one session.
case_two_rewrites() {
  local rc n rw0=0 ex0=0 prom
  case_begin "curl-port-two-rewrites-one-session"
  if [[ $ALG == ftpalgd ]]; then rw0=$(alg_stat rewrites); ex0=$(alg_stat expectations); fi
  local urls=("ftp://$SRV4/" -o "$CASE_DIR/list" "ftp://$SRV4/hello.txt" -o "$CASE_DIR/hello.txt")
  ((CURL_ACTIVE_SMALL == 1)) ||
    urls=("ftp://$SRV4/big.bin" -o "$CASE_DIR/big0.bin" "ftp://$SRV4/big.bin" -o "$CASE_DIR/big1.bin")
  cli "${CURL[@]}" --ftp-port - --disable-eprt --interface "$CLI4_GROW" \
    "${urls[@]}" "ftp://$SRV4/big.bin" -o "$CASE_DIR/big.bin" >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  rc=$?
  expect_rc0 $rc curl
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  if ((CURL_ACTIVE_SMALL == 1)); then
    expect_sha "$CASE_DIR/hello.txt" "$SMALL_SHA" "RETR hello.txt"
  else
    expect_sha "$CASE_DIR/big0.bin" "$BIG_SHA" "RETR big.bin (first)"
    expect_sha "$CASE_DIR/big1.bin" "$BIG_SHA" "RETR big.bin (second)"
  fi
  n=$(grep -c '^\* Connected to' "$CASE_DIR/curl.err")
  ((n == 1)) || fail "curl opened $n control connections, expected 1"
  # All PORTs of one session are logged under one vsftpd pid.
  n=$(log_new SRV4_LOG | grep -E '"PORT 203,0,113,1,' | grep -o '\[pid [0-9]*\]' | sort | uniq -c | sort -rn | awk 'NR==1 {print $1+0}')
  ((${n:-0} >= 3)) || fail "server saw ${n:-0} rewritten PORTs in one session, expected 3"
  expect_server_saw_public4 SRV4_LOG port
  if [[ $ALG == ftpalgd ]]; then
    # The counters over the stats socket moved with this session.
    n=$(alg_stat rewrites)
    ((${n:-0} - ${rw0:-0} >= 3)) || fail "ftpalgd --stats: rewrites ${rw0:-?} -> ${n:-?}, expected +3"
    n=$(alg_stat expectations)
    ((${n:-0} - ${ex0:-0} >= 3)) || fail "ftpalgd --stats: expectations ${ex0:-?} -> ${n:-?}, expected +3"
    prom=$(alg_stats --prometheus) || fail "ftpalgd --stats --prometheus failed"
    n=$(awk '$1 == "ftpalg_rewrites_total" {print $2}' <<<"$prom")
    ((${n:-0} - ${rw0:-0} >= 3)) || fail "prometheus ftpalg_rewrites_total ${n:-missing}"
    n=$(awk '$1 == "ftpalg_expectations_total" {print $2}' <<<"$prom")
    ((${n:-0} - ${ex0:-0} >= 3)) || fail "prometheus ftpalg_expectations_total ${n:-missing}"
    grep -qx '# TYPE ftpalg_rewrites_total counter' <<<"$prom" || fail "prometheus: no TYPE line for ftpalg_rewrites_total"
    grep -q '^ftpalg_refusals_total{reason="bounce"} [0-9]' <<<"$prom" || fail "prometheus: no refusals by reason"
    n=$(log_new ALG_LOG | grep -cE ' #[0-9]+ expectation installed \(')
    ((n >= 3)) || fail "ftpalgd logged $n 'expectation installed' lines, expected >= 3"
  fi
  case_end 3 3
}

# 50 PORT lines in one segment (a client pipelining): every one must be
# rewritten (vsftpd answers 200 only to a PORT naming the peer, i.e. the
# public address). ftpalgd's ledger borrows a block of change points from
# its pool for the burst (bounded memory) and returns it once acknowledged.
case_port_pipeline50() {
  local out blocks0=0 n
  case_begin "port-50-one-segment"
  [[ $ALG == ftpalgd ]] && blocks0=$(alg_stat ledger_blocks)
  out=$(cli timeout 60 "$PY" "$E2E_LIB_DIR/hardening.py" pipeline "$SRV4" --src "$CLI4_GROW" --count 50 2>&1)
  echo "$out" >"$CASE_DIR/pipeline.out"
  grep -q 'PIPELINE bytes=[0-9]* sent=50 ok=50 refused=0' <<<"$out" || fail "50 pipelined PORTs: $out"
  n=$(log_new SRV4_LOG | grep -cE '"PORT 203,0,113,1,')
  ((n >= 50)) || fail "server saw $n rewritten PORTs, expected 50"
  expect_no_log SRV4_LOG "PORT $RE_PRIV4" "server received a private address"
  if [[ $ALG == ftpalgd ]]; then
    n=$(alg_stat ledger_blocks)
    ((${n:-0} > ${blocks0:-0})) || fail "ledger_blocks did not move (${blocks0:-?} -> ${n:-?}): was it one segment?"
  fi
  case_end 0 50
}

# lftp, several transfers on one control connection. MODE active|passive
case_lftp() {
  local mode=$1 pm=off rc n
  [[ $mode == passive ]] && pm=on
  case_begin "lftp-$mode-multi"
  cli timeout 60 lftp -d -c "set net:max-retries 1; set net:timeout 10; set net:reconnect-interval-base 1;
    set ftp:passive-mode $pm; set ftp:prefer-epsv no; set net:socket-bind-ipv4 $CLI4_GROW; set xfer:clobber on;
    set cmd:fail-exit yes; open ftp://$SRV4; ls; get big.bin -o $CASE_DIR/big1.bin;
    get hello.txt -o $CASE_DIR/hello.txt; get big.bin -o $CASE_DIR/big2.bin; bye" \
    >"$CASE_DIR/lftp.out" 2>"$CASE_DIR/lftp.err"
  rc=$?
  expect_rc0 $rc lftp
  expect_grep "$CASE_DIR/lftp.out" 'big\.bin' "ls output lacks big.bin"
  expect_sha "$CASE_DIR/big1.bin" "$BIG_SHA" "get big.bin #1"
  expect_sha "$CASE_DIR/big2.bin" "$BIG_SHA" "get big.bin #2"
  expect_sha "$CASE_DIR/hello.txt" "$SMALL_SHA" "get hello.txt"
  n=$(log_new SRV4_LOG | grep -c 'OK LOGIN')
  ((n == 1)) || fail "expected 1 login (one control session), server logged $n"
  if [[ $mode == active ]]; then
    expect_server_saw_public4 SRV4_LOG active
    n=$(log_new SRV4_LOG | grep -Ec '"(PORT 203,0,113,1,|EPRT \|1\|203\.0\.113\.1\|)')
    ((n >= 4)) || fail "server saw $n rewritten PORT/EPRT, expected 4"
    case_end 4 4
  else
    expect_server_saw_public4 SRV4_LOG passive
    case_end 4 0
  fi
}

# python ftplib STOR in active mode; checksum verified on the server's disk.
case_ftplib_stor() {
  local rc name="up-$$-$RANDOM.bin"
  case_begin "ftplib-stor-active"
  head -c 1048576 /dev/urandom >"$CASE_DIR/up.bin"
  cli timeout 30 "$PY" "$E2E_LIB_DIR/ftpc.py" put "$SRV4" --src "$CLI4_GROW" --active \
    "$CASE_DIR/up.bin" "upload/$name" >"$CASE_DIR/ftpc.out" 2>"$CASE_DIR/ftpc.err"
  rc=$?
  expect_rc0 $rc ftpc.py
  expect_sha "$SRV_ROOT/upload/$name" "$(sha_of "$CASE_DIR/up.bin")" "uploaded file on the server"
  expect_log SRV4_LOG "OK UPLOAD: .*$name" "server did not log the upload"
  expect_server_saw_public4 SRV4_LOG port
  case_end 1 1
}

case_wget_active() {
  local rc
  case_begin "wget-active"
  cli timeout 30 wget -nv --no-passive-ftp --bind-address="$CLI4" --tries=1 --timeout=10 \
    -O "$CASE_DIR/big.bin" "ftp://$SRV4/big.bin" >"$CASE_DIR/wget.out" 2>"$CASE_DIR/wget.err"
  rc=$?
  expect_rc0 $rc wget
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  expect_server_saw_public4 SRV4_LOG active
  case_end 1 1
}

# --- B: server behind DNAT (port forward 203.0.113.1/.3:21 -> dmz) ----------
# PUB 203.0.113.1 (227 shrinks: 192,168,20,2) or 203.0.113.3 (227 grows: 10,20,0,2)
case_dnat_pasv() {
  local pub=$1 mode=${2:-pasv} rc priv nrw=0
  priv=$DMZ4; [[ $pub == "$GW_PUB4B" ]] && priv=$DMZ4_GROW
  curl_opts "$mode"
  [[ $mode == pasv ]] && nrw=2
  case_begin "dnat-curl-$mode-$pub"
  srv "${CURL[@]}" "${CURL_MODE[@]}" "ftp://$pub/" -o "$CASE_DIR/list" "ftp://$pub/big.bin" -o "$CASE_DIR/big.bin" \
    >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  rc=$?
  expect_rc0 $rc curl
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  expect_grep "$CASE_DIR/list" 'big\.bin' "LIST output lacks big.bin"
  if [[ $mode == pasv ]]; then
    expect_grep "$CASE_DIR/curl.err" "^< 227 .*\(${pub//./,},[0-9]+,[0-9]+\)" "client did not see 227 (${pub//./,},...)"
    expect_log DMZ_LOG "227 Entering Passive Mode \(${priv//./,}," "server did not send its private address in 227"
    if grep -Eq "^< 227 .*${priv//./,}" "$CASE_DIR/curl.err"; then fail "client saw the private address in 227"; fi
  else
    expect_grep "$CASE_DIR/curl.err" '^< 229 .*\(\|\|\|[0-9]+\|\)' "client did not see 229"
  fi
  expect_log DMZ_LOG "Client \"$SRV4\"" "server did not see the client's address"
  case_end 2 "$nrw"
}

# Active mode to the DNATed server: its data connection (from 192.168.20.2:20
# or 10.20.0.2:20) must reach the client SNATed to the address it dialled.
case_dnat_active() {
  local pub=$1 rc peer
  case_begin "dnat-ftplib-active-$pub"
  srv timeout 30 "$PY" "$E2E_LIB_DIR/ftpc.py" get "$pub" --src "$SRV4" --active --out "$CASE_DIR" \
    big.bin hello.txt >"$CASE_DIR/ftpc.out" 2>"$CASE_DIR/ftpc.err"
  rc=$?
  expect_rc0 $rc ftpc.py
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  expect_sha "$CASE_DIR/hello.txt" "$SMALL_SHA" "RETR hello.txt"
  peer=$(awk '/^DATA/ { sub("peer=", "", $3); print $3 }' "$CASE_DIR/ftpc.out" | sort -u | tr '\n' ' ')
  [[ $peer == "$pub " ]] || fail "data connections came from '${peer% }', expected $pub"
  expect_log DMZ_LOG "PORT ${SRV4//./,}," "server did not receive the client's PORT"
  case_end 2 0
}

# --- C: IPv6, client fd00:10::2 behind NAT66 masquerade -> 2001:db8:1::2 ----
case_v6() {
  local mode=$1 rc list=1 n=2
  [[ $mode == eprt ]] && ((CURL_ACTIVE_SMALL == 0)) && list=0 n=1
  case_begin "v6-curl-$mode"
  curl_opts "$mode"
  local urls=("ftp://[$SRV6]/" -o "$CASE_DIR/list")
  ((list == 1)) || urls=()
  cli "${CURL[@]}" -g "${CURL_MODE[@]}" "${urls[@]}" "ftp://[$SRV6]/big.bin" -o "$CASE_DIR/big.bin" \
    >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  rc=$?
  expect_rc0 $rc curl
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  ((list == 0)) || expect_grep "$CASE_DIR/list" 'big\.bin' "LIST output lacks big.bin"
  expect_log SRV6_LOG "Client \"$GW_PUB6\"" "server did not see the NAT66 address as peer"
  expect_no_log SRV6_LOG 'fd00:' "server saw the ULA address"
  if [[ $mode == eprt ]]; then
    expect_grep "$CASE_DIR/curl.err" '^> EPRT \|2\|fd00:10::2\|' "client did not send EPRT |2|fd00:10::2|"
    # Any spelling of the address (the kernel helper writes it uncompressed).
    log_new SRV6_LOG | grep -o 'EPRT |2|[0-9a-fA-F:]*|' | cut -d'|' -f3 | sort -u >"$CASE_DIR/eprt-addrs"
    [[ -s $CASE_DIR/eprt-addrs ]] || fail "server received no EPRT |2|"
    "$PY" -c 'import ipaddress,sys; a={str(ipaddress.ip_address(l.strip())) for l in open(sys.argv[1])}; sys.exit(a != {sys.argv[2]})' \
      "$CASE_DIR/eprt-addrs" "$GW_PUB6" || fail "server received EPRT |2| with $(tr '\n' ' ' <"$CASE_DIR/eprt-addrs"), expected only $GW_PUB6"
    case_end "$n" "$n"
  else
    expect_grep "$CASE_DIR/curl.err" '^< 229 ' "client did not get 229"
    case_end 2 0
  fi
}

# --- D2: ftpalgd restarted between an announcement and its data connection -
# The newest pending data connection of a session is kept in its control
# conntrack's labels (layout v2). The client announces (PASV: unrewritten,
# public server; or PORT from 10.7.0.2: rewritten +3), then ftpalgd is
# stopped with SIGTERM (which removes its pending-set elements but keeps the
# labels) and started again; only then the data connection is opened. The
# lab's FORWARD policy drops NEW data SYNs, so the transfer works only if
# the new daemon's start-up resync re-created the pending data connection
# (pending record + ipset element) from the labels: asserted, with its log
# lines.
case_restart_pending() {
  local mode=$1 i p r ready=$T/pend.ready go=$T/pend.go args=()
  case_begin "ftpalgd-restart-pending-$mode"
  if [[ -z $ALG_PID ]] || ! kill -0 "$ALG_PID" 2>/dev/null; then
    fail "ftpalgd is not running"; case_report; return
  fi
  [[ $mode == active ]] && args=(--active)
  rm -f "$ready" "$go"
  ip netns exec "$NS_CLI" timeout 60 "$PY" "$E2E_LIB_DIR/ftpc.py" pending "$SRV4" --src "$CLI4_GROW" \
    --ready "$ready" --go "$go" "${args[@]}" hello.txt >"$CASE_DIR/pending.out" 2>"$CASE_DIR/pending.err" &
  p=$!
  for ((i = 0; i < 200; i++)); do
    [[ -e $ready ]] && break
    kill -0 $p 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -e $ready ]]; then
    fail "client did not announce its data connection"; touch "$go"; stop_pid $p; case_report; return
  fi
  stop_pid "$ALG_PID" TERM; ALG_PID=""
  if ! ftpalgd_spawn; then
    fail "ftpalgd restart failed"; touch "$go"; stop_pid $p; case_report; return
  fi
  # `ftpalgd --resync` (what a failover script runs) asks the new daemon
  # again: it forgets what it holds and re-creates the data connection from
  # the labels once more (the conntrack table is the truth).
  r=$(timeout 10 "$FTPALGD" --resync --stats-socket "$ALG_STATS_SOCK" 2>&1)
  echo "$r" >"$CASE_DIR/resync.out"
  [[ $r =~ ^resync\ .*pending_restored=1\ pending_known=0\ errors=0 ]] ||
    fail "ftpalgd --resync after the restart: '$r'"
  touch "$go"
  for ((i = 0; i < 300; i++)); do
    kill -0 $p 2>/dev/null || break
    sleep 0.1
  done
  stop_pid $p
  grep -q "^PENDING $SMALL_SHA" "$CASE_DIR/pending.out" ||
    fail "data connection announced before the restart: got '$(cat "$CASE_DIR/pending.out")'"
  expect_log ALG_LOG 'resync from conntrack: scanned [0-9]+ conntracks, [0-9]+ with ftpalg state, [1-9][0-9]* pending data connections re-created' \
    "start-up resync re-created no pending data connection"
  expect_log ALG_LOG 'resync: pending data connection .* re-created for 10\.7\.0\.[0-9]+:[0-9]+->' \
    "no 'resync: pending data connection' line for the client's session"
  log_new ALG_LOG | grep -E 'resync' >"$CASE_DIR/resync.log"
  if [[ $mode == active ]]; then case_end 1 1; else case_end 1; fi
}

# --- D: ftpalgd killed with SIGKILL mid-session, then restarted ------------
# ftpalgd keeps each rewritten session's sequence offsets in its control
# conntrack's labels (scripts/ftpalg-rules loads the label-allocating rule):
#  * Session A did an active RETR from 10.7.0.2, so its PORT grew by 3 and the
#    daemon shifts seq (c->s) and ack (s->c) by 3. SIGKILL, restart, and only
#    then A speaks again: the new daemon picks A up mid-stream, reads +3 back
#    from the labels (one CT_GET) and goes on shifting. Asserted: NOOP -> 200
#    (the server logs "NOOP", not the truncated "P" of an unshifted stream),
#    PWD -> 257, and a further active RETR in the same session (its PORT is
#    rewritten again, offset now +6) arrives intact.
#  * Session B only logged in before the kill (no rewrite, no labels): after
#    the restart it continues untouched (NOOP 200, PWD 257).
#  * While no daemon runs, NFQUEUE --queue-bypass passes port-21 packets
#    (fail-open): a new control connection works (asserted). A passive data
#    connection cannot be RELATED without an ALG and the lab's FORWARD policy
#    drops NEW data SYNs: that transfer's result is only recorded (INFO).
#  * After the restart a new active PORT session (+3) works (asserted).
# Without labels (no label rule when A started) A would break exactly like
# before this existed: its next command loses its first 3 bytes (README,
# "Daemon restart").
case_sigkill() {
  local rc i ra=$T/inflight-a.ready rb=$T/inflight-b.ready go=$T/inflight.go pa pb r
  case_begin "ftpalgd-sigkill-restart"
  if [[ -z $ALG_PID ]] || ! kill -0 "$ALG_PID" 2>/dev/null; then
    fail "ftpalgd is not running"; case_report; return
  fi
  rm -f "$ra" "$rb" "$go"
  ip netns exec "$NS_CLI" timeout 90 "$PY" "$E2E_LIB_DIR/ftpc.py" inflight "$SRV4" --src "$CLI4_GROW" --ready "$ra" --go "$go" \
    --retr-after hello.txt >"$CASE_DIR/inflight-a.out" 2>"$CASE_DIR/inflight-a.err" &
  pa=$!
  ip netns exec "$NS_CLI" timeout 90 "$PY" "$E2E_LIB_DIR/ftpc.py" inflight "$SRV4" --src "$CLI4" --ready "$rb" --go "$go" \
    --no-before hello.txt >"$CASE_DIR/inflight-b.out" 2>"$CASE_DIR/inflight-b.err" &
  pb=$!
  for ((i = 0; i < 200; i++)); do
    [[ -e $ra && -e $rb ]] && break
    kill -0 $pa 2>/dev/null || kill -0 $pb 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -e $ra || ! -e $rb ]]; then
    fail "in-flight sessions did not get ready (A: active RETR, B: login)"
    touch "$go"; stop_pid $pa; stop_pid $pb; case_report; return
  fi
  grep -q "^BEFORE $SMALL_SHA" "$CASE_DIR/inflight-a.out" || fail "session A: RETR before the kill: bad checksum"
  grep -q '^BEFORE 257 ' "$CASE_DIR/inflight-b.out" || fail "session B: PWD before the kill failed"
  log_new ALG_LOG | grep -E '^.*REWRITE' >/dev/null || fail "session A: no REWRITE before the kill"

  kill -KILL "$ALG_PID"; wait "$ALG_PID" 2>/dev/null; ALG_PID=""
  echo "killed ftpalgd with SIGKILL" >"$CASE_DIR/events.out"

  # New control connection while no daemon runs (fail-open via --queue-bypass).
  cli timeout 20 "$PY" "$E2E_LIB_DIR/ftpc.py" ctl "$SRV4" --src "$CLI4_GROW" >"$CASE_DIR/ctl.out" 2>"$CASE_DIR/ctl.err"
  rc=$?
  expect_rc0 $rc "new control connection without daemon"
  expect_grep "$CASE_DIR/ctl.out" '^NOOP 200' "new control connection: NOOP not answered"
  cli "${CURL[@]}" --max-time 5 --connect-timeout 3 "ftp://$SRV4/" -o "$CASE_DIR/nodaemon-list" \
    >"$CASE_DIR/nodaemon.out" 2>"$CASE_DIR/nodaemon.curl"
  rc=$?
  echo "INFO: EPSV LIST without daemon: curl exit $rc (data SYN is NEW under FORWARD DROP unless an ALG relates it)" |
    tee -a "$CASE_DIR/events.out"

  if ! ftpalgd_spawn; then
    fail "ftpalgd restart failed"; touch "$go"; stop_pid $pa; stop_pid $pb; case_report; return
  fi
  touch "$go"
  for ((i = 0; i < 300; i++)); do
    kill -0 $pa 2>/dev/null || kill -0 $pb 2>/dev/null || break
    sleep 0.1
  done
  stop_pid $pa; stop_pid $pb
  r=$(awk '/^AFTER1/ { $1 = ""; print substr($0, 2) }' "$CASE_DIR/inflight-a.out")
  [[ $r =~ ^200 ]] || fail "session A: NOOP after the restart: expected 200, got '$r'"
  expect_log SRV4_LOG 'FTP command: Client "203\.0\.113\.1", "NOOP"$' "server did not receive session A's NOOP intact"
  expect_no_log SRV4_LOG 'FTP command: Client "203\.0\.113\.1", "P"$' "server received a truncated command"
  grep -E '^AFTER2 257 ' "$CASE_DIR/inflight-a.out" >/dev/null ||
    fail "session A: PWD after the restart: got '$(grep '^AFTER2' "$CASE_DIR/inflight-a.out")'"
  grep -q "^AFTER3 $SMALL_SHA" "$CASE_DIR/inflight-a.out" ||
    fail "session A: active RETR after the restart: got '$(grep '^AFTER3' "$CASE_DIR/inflight-a.out")'"
  expect_log ALG_LOG 'offsets restored from conntrack: c->s 3' "restarted ftpalgd did not restore session A's offsets"
  grep -E '^AFTER1 200' "$CASE_DIR/inflight-b.out" >/dev/null ||
    fail "session B: NOOP after the restart: got '$(grep '^AFTER1' "$CASE_DIR/inflight-b.out")'"
  grep -E '^AFTER2 257 ' "$CASE_DIR/inflight-b.out" >/dev/null ||
    fail "session B: PWD after the restart: got '$(grep '^AFTER2' "$CASE_DIR/inflight-b.out")'"
  echo "after restart: A: $(grep '^AFTER' "$CASE_DIR/inflight-a.out" | tr '\n' ' '); B: $(grep '^AFTER' "$CASE_DIR/inflight-b.out" | tr '\n' ' ')" \
    >>"$CASE_DIR/events.out"

  # A new active PORT session (+3 rewrite) works after the restart.
  cli "${CURL[@]}" --ftp-port - --disable-eprt --interface "$CLI4_GROW" "ftp://$SRV4/" -o "$CASE_DIR/list" \
    "ftp://$SRV4/big.bin" -o "$CASE_DIR/big.bin" >"$CASE_DIR/after.out" 2>"$CASE_DIR/after.err"
  rc=$?
  expect_rc0 $rc "curl PORT after restart"
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin after restart"
  expect_log SRV4_LOG "PORT 203,0,113,1,[0-9]+,[0-9]+" "server did not receive a rewritten PORT after restart"
  # RELATED: A's RETR before and after the kill, and the two after the restart.
  case_end 4 4
}

# --- The rules vanish under a running daemon --------------------------------
# A firewall reload that flushes the ruleset takes ftpalg's rules with it
# while ftpalgd stays bound: nothing is queued any more. Emulated by deleting
# exactly the ftpalg rules (the lab's own rules stay). An inside client then
# keeps a control connection busy (NOOP every 0.5 s) for more than two
# intervals of the rules watch (--rules-watch-s, 3 s in this lab):
# ftpalgd must log "rules gone? nothing queued for N s while M FTP control
# conntracks ..." and count rules_gone_warnings (stats socket). With the
# rules back, an active transfer is rewritten again (asserted by case_end).
case_rules_gone() {
  local w0 w1 rc i
  case_begin "ftpalgd-rules-gone"
  if [[ -z $ALG_PID ]] || ! kill -0 "$ALG_PID" 2>/dev/null; then
    fail "ftpalgd is not running"; case_report; return
  fi
  w0=$(alg_stat rules_gone_warnings)
  [[ -n $w0 ]] || fail "ftpalgd --stats has no rules_gone_warnings counter"
  gw timeout 20 "$FTPALG_RULES" remove >"$CASE_DIR/rules-remove.out" 2>&1 || fail "ftpalg-rules remove failed"
  cli timeout 30 "$PY" -c '
import ftplib, sys, time
f = ftplib.FTP()
f.connect(sys.argv[1], 21, timeout=10)
f.login()
end = time.time() + float(sys.argv[2])
n = 0
while time.time() < end:
    f.voidcmd("NOOP")
    n += 1
    time.sleep(0.5)
f.quit()
print("NOOPs:", n)
' "$SRV4" "${RULES_GONE_BUSY_S:-8}" >"$CASE_DIR/noop.out" 2>"$CASE_DIR/noop.err"
  rc=$?
  expect_rc0 $rc "ftplib NOOP session"
  for ((i = 0; i < 50; i++)); do
    grep -q 'rules gone? nothing queued for' <<<"$(log_new ALG_LOG)" && break
    sleep 0.1
  done
  expect_log ALG_LOG 'rules gone\? nothing queued for [0-9]+ s while [1-9][0-9]* FTP control conntracks saw packets' \
    "ftpalgd did not warn that its rules are gone"
  w1=$(alg_stat rules_gone_warnings)
  ((${w1:-0} > ${w0:-0})) || fail "rules_gone_warnings ${w0:-?} -> ${w1:-?}, expected to grow"
  grep -q '^ftpalg_rules_gone_warnings_total [1-9]' <<<"$(alg_stats --prometheus)" ||
    fail "prometheus: ftpalg_rules_gone_warnings_total missing or 0"
  gw timeout 20 "$FTPALG_RULES" install >"$CASE_DIR/rules-install.out" 2>&1 || fail "ftpalg-rules install failed"
  cli "${CURL[@]}" --ftp-port - --disable-eprt --interface "$CLI4_GROW" \
    "ftp://$SRV4/hello.txt" -o "$CASE_DIR/hello.txt" >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  expect_rc0 $? "curl (active) with the rules back"
  expect_sha "$CASE_DIR/hello.txt" "$SMALL_SHA" "RETR hello.txt"
  case_end 1 1
}

# --- systemd Type=notify -----------------------------------------------------
# ftpalgd restarted with systemd's notify environment: NOTIFY_SOCKET a unix
# datagram socket this case owns (notify_sink.py, in the gateway namespace)
# and WATCHDOG_USEC=2 s. READY=1 once queues 0 and 1 are bound; while an
# active transfer (two PORT rewrites) goes through, the packet loop keeps
# pinging: WATCHDOG=1 about every second and never 2 s apart (systemd would
# kill it then); STATUS= then counts the rewrites; STOPPING=1 at SIGTERM.
# The daemon is started again without the notify environment for the next
# cases. (A stalled loop stopping the pings: tests/daemon/service_heartbeat_test.cc.)
case_notify() {
  local sock=$T/notify.sock nlog sink rc i out
  case_begin "ftpalgd-notify-watchdog"
  nlog=$CASE_DIR/notify.log
  stop_pid "$ALG_PID" TERM; ALG_PID=""
  rm -f "$sock"
  gw "$PY" "$E2E_LIB_DIR/notify_sink.py" "$sock" "$nlog" 2>"$CASE_DIR/sink.err" &
  sink=$!
  LAB_PIDS+=("$sink")
  for ((i = 0; i < 50; i++)); do [[ -S $sock ]] && break; sleep 0.1; done
  if ! NOTIFY_SOCKET=$sock WATCHDOG_USEC=2000000 ftpalgd_spawn; then
    fail "ftpalgd with NOTIFY_SOCKET did not start"
    stop_pid "$sink"; ftpalgd_spawn; case_report; return
  fi
  cli "${CURL[@]}" --ftp-port - --disable-eprt --interface "$CLI4_GROW" "ftp://$SRV4/" -o "$CASE_DIR/list" \
    "ftp://$SRV4/big.bin" -o "$CASE_DIR/big.bin" >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  rc=$?
  expect_rc0 $rc curl
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  # STATUS= is refreshed every 5 s when it changed.
  for ((i = 0; i < 80; i++)); do
    grep -qE ' STATUS=sessions [0-9]+, rewrites [1-9]' "$nlog" && break; sleep 0.1
  done
  stop_pid "$ALG_PID" TERM; ALG_PID=""
  sleep 0.2; stop_pid "$sink"
  out=$(awk '
    { t = $1; q = $2; $1 = ""; $2 = ""; m = substr($0, 3); n++ }
    n == 1 { if (m !~ /^READY=1\|STATUS=sessions 0, /) print "first notification is not READY=1: " m
             if (q != "bound=0,1") print "READY=1 before queues 0 and 1 were bound (" q ")"
             last = t; next }
    m == "WATCHDOG=1" { pings++; if (t - last >= 2000) print "no ping for " t - last " ms"; last = t; next }
    m ~ /^STATUS=sessions [0-9]+, rewrites [1-9]/ { rewrites = 1; next }
    m ~ /^STATUS=/ { next }
    m ~ /^STOPPING=1/ { stopping = n; next }
    { print "unexpected notification: " m }
    END { if (pings < 3) print "only " pings + 0 " watchdog pings"
          if (!rewrites) print "no STATUS= with the rewrites"
          if (stopping != n || n == 0) print "STOPPING=1 is not the last notification" }' "$nlog" 2>&1)
  [[ -z $out ]] || fail "notify socket: ${out//$'\n'/; }"
  echo "notifications: $(grep -c ' WATCHDOG=1$' "$nlog") pings; $(grep -oE 'STATUS=sessions [^|]*' "$nlog" | tail -n1)" \
    >"$CASE_DIR/events.out"
  ftpalgd_spawn || fail "ftpalgd restart without NOTIFY_SOCKET failed"
  case_end 2 2
}

# --- E: NAT-binding records (ftpalgd --events, docs/events.md) -------------
# A daemon started with --events; an active PORT transfer from the client
# behind MASQUERADE and a passive 227 transfer to the DNATed server; the
# file is rotated (mv + SIGHUP) in between; the daemon is stopped so every
# session ends. The stream is read with json: each line a v1 record; the
# session start with its public binding, the data connection announced and
# installed with the right inside and public address:port, then used, and
# the session end. The public port must be the one the peer was told.
case_events() {
  local ev saved=$FTPALGD_ARGS rc out port p1 p2
  case_begin "ftpalgd-events"
  ev=$CASE_DIR/events.jsonl
  stop_pid "$ALG_PID" TERM; ALG_PID=""
  FTPALGD_ARGS="$saved --events $ev"
  if ! ftpalgd_spawn; then
    FTPALGD_ARGS=$saved; fail "ftpalgd --events did not start"; ftpalgd_spawn; case_report; return
  fi
  FTPALGD_ARGS=$saved
  curl_opts port
  cli "${CURL[@]}" "${CURL_MODE[@]}" --interface "$CLI4" "ftp://$SRV4/big.bin" -o "$CASE_DIR/active.bin" \
    >"$CASE_DIR/active.out" 2>"$CASE_DIR/active.err"
  expect_rc0 $? "curl (active)"
  expect_sha "$CASE_DIR/active.bin" "$BIG_SHA" "RETR big.bin (active)"
  mv "$ev" "$ev.1"
  kill -HUP "$ALG_PID"
  curl_opts pasv
  srv "${CURL[@]}" "${CURL_MODE[@]}" "ftp://$GW_PUB4/big.bin" -o "$CASE_DIR/passive.bin" \
    >"$CASE_DIR/passive.out" 2>"$CASE_DIR/passive.err"
  expect_rc0 $? "curl (passive)"
  expect_sha "$CASE_DIR/passive.bin" "$BIG_SHA" "RETR big.bin (passive)"
  stop_pid "$ALG_PID" TERM; ALG_PID=""
  ftpalgd_spawn || fail "ftpalgd restart failed"
  [[ -s $ev ]] || fail "no new events file after SIGHUP"
  out=$("$PY" "$E2E_LIB_DIR/check_events.py" "$ev.1" "$ev" --expect \
    "active=PORT,client,${CLI4//./\\.}:[0-9]+,${CLI4//./\\.}:[0-9]+,${GW_PUB4//./\\.}:[0-9]+,$SRV4" \
    "passive=227,server,${SRV4//./\\.}:[0-9]+,${DMZ4//./\\.}:[0-9]+,${GW_PUB4//./\\.}:[0-9]+,$SRV4" \
    2>"$CASE_DIR/check.err")
  rc=$?
  echo "$out" >"$CASE_DIR/check.out"
  expect_rc0 $rc "check_events.py ($(head -c 300 "$CASE_DIR/check.err"))"
  # The public port in the records is the one the peer was told.
  port=$(awk '$1 == "active" { n = split($2, a, ":"); print a[n] }' <<<"$out")
  if [[ -n $port ]]; then
    p1=$((port / 256)) p2=$((port % 256))
    expect_log SRV4_LOG "PORT 203,0,113,1,$p1,$p2" "server was not told the recorded public port $port"
  fi
  port=$(awk '$1 == "passive" { n = split($2, a, ":"); print a[n] }' <<<"$out")
  if [[ -n $port ]]; then
    p1=$((port / 256)) p2=$((port % 256))
    expect_grep "$CASE_DIR/passive.err" "^< 227 .*\(203,0,113,1,$p1,$p2\)" "client was not told the recorded public port $port"
  fi
  grep -q '"event":"stream_open"' "$ev" || fail "the reopened file has no stream_open"
  case_end 2 1
}

# --- F: hairpin NAT: the inside client dials the public address of the ----
# port-forwarded dmz server (hairpin_up in lib.sh: DNAT from the inside too,
# SNAT of the inside->inside traffic to the gateway's dmz address). The
# server's 227/229 must reach the client with the public address; its data
# connection to that public address:port is DNATed to the server and SNATed
# through the gateway, RELATED. Active: the client's PORT must reach the
# server with the address the server knows it by (the gateway's dmz
# address); the server's data connection is DNATed to the client and SNATed
# to the public address the client dialled. MECH: precreate (default lab:
# no helper, pre-created related conntracks) or expect (an inert irc helper
# on the hairpin control connections: kernel expectations).
case_hairpin() {
  local mode=$1 mech=$2 rc nrw=1 peer=192.168.20.1 helper=""
  [[ $mech == expect ]] && helper=irc
  case_begin "hairpin-$mode-$mech"
  if ! hairpin_up "$helper"; then
    fail "hairpin rules could not be installed"; hairpin_down; case_report; return
  fi
  curl_opts "$mode"
  cli "${CURL[@]}" "${CURL_MODE[@]}" --interface "$CLI4" "ftp://$GW_PUB4/" -o "$CASE_DIR/list" \
    "ftp://$GW_PUB4/big.bin" -o "$CASE_DIR/big.bin" >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  rc=$?
  expect_rc0 $rc curl
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  expect_grep "$CASE_DIR/list" 'big\.bin' "LIST output lacks big.bin"
  case $mode in
    pasv)
      nrw=2
      expect_grep "$CASE_DIR/curl.err" "^< 227 .*\(${GW_PUB4//./,},[0-9]+,[0-9]+\)" "client did not see 227 (${GW_PUB4//./,},...)"
      expect_log DMZ_LOG "227 Entering Passive Mode \(${DMZ4//./,}," "server did not send its private address in 227"
      if grep -Eq "^< 227 .*${DMZ4//./,}" "$CASE_DIR/curl.err"; then fail "client saw the server's private address in 227"; fi
      ;;
    epsv)
      nrw=0
      expect_grep "$CASE_DIR/curl.err" '^< 229 .*\(\|\|\|[0-9]+\|\)' "client did not see 229"
      ;;
    port)
      nrw=2
      expect_grep "$CASE_DIR/curl.err" "^> PORT ${CLI4//./,}," "client did not send PORT with its own address"
      expect_log DMZ_LOG "PORT ${peer//./,},[0-9]+,[0-9]+" "server did not receive PORT ${peer//./,},... (how it knows the client)"
      expect_no_log DMZ_LOG "PORT .*192,168,10," "server received the client's LAN address"
      ;;
  esac
  expect_log DMZ_LOG "Client \"$peer\"" "server did not see the client as the gateway's hairpin address $peer"
  expect_no_log DMZ_LOG 'Client "192\.168\.10\.' "server saw the client's LAN address"
  if [[ $mech == expect ]]; then
    expect_log ALG_LOG "data connections via kernel expectation \(helper irc\)" "ftpalgd did not use kernel expectations"
    expect_log ALG_LOG "expectation installed \(kernel expectation\)" "no kernel expectation installed"
  else
    expect_log ALG_LOG "related conntrack created: .* DNAT .* SNAT " "no related conntrack pre-created"
  fi
  log_new ALG_LOG | grep -E 'REWRITE|installed|related conntrack|REFUSED' >"$CASE_DIR/alg.lines"
  gw conntrack -L 2>/dev/null | grep -E "$DMZ4|$GW_PUB4" >"$CASE_DIR/conntrack.txt"
  # A data conntrack with both mappings: DNAT (to the server, or to the
  # client in active mode) and SNAT (through the gateway).
  local want="src=${CLI4//./\.} dst=${GW_PUB4//./\.} sport=[0-9]+ dport=[0-9]+ src=${DMZ4//./\.} dst=${peer//./\.} "
  [[ $mode == port ]] && want="src=${DMZ4//./\.} dst=${peer//./\.} sport=20 dport=[0-9]+ src=${CLI4//./\.} dst=${GW_PUB4//./\.} "
  grep -Eq -- "$want" <<<"$(grep -Ev 'dport=21 ' "$CASE_DIR/conntrack.txt")" ||
    fail "no data conntrack DNATed and SNATed through the gateway (/$want/ in conntrack.txt)"
  case_end 2 "$nrw"
  hairpin_down
}

# --- Concurrent sessions on a loaded gateway ---------------------------------
# bench/analysis.md, "Concurrent sessions: rare connect timeouts": every
# queued packet waits in the kernel until ftpalgd runs. As an ordinary process
# on busy CPUs it waited 10-500 ms per packet, the handshake of a burst of
# sessions took so long that vsftpd's SYN backlog (32) overflowed into
# syncookies, and a syncookie handshake whose last ACK found the accept queue
# full left curl "connected" with no 220 until its connect timeout. Run as
# the unit runs it (SCHED_FIFO, lib.sh ftpalgd_sched_cmd), ftpalgd gets the
# CPU at once however busy the CPUs are: here busy loops of ordinary priority
# (one more than there are CPUs) spin while 20 active and 20 passive curls
# start together, and ftpalgd's average run-queue wait per wake-up
# (/proc/PID/schedstat) must stay under 1 ms (as an ordinary process, with
# FTPALG_E2E_SCHED=other: several ms), and every session must complete.
case_burst_under_load() {
  local n=20 hogs=() pids=() i p fails=0 w0 s0 w1 s1 policy ncpu rw0 rw1
  case_begin burst-under-load
  rw0=$(alg_stat rewrites)
  policy=$(chrt -p "$ALG_PID" 2>&1 | sed -n 's/.*current scheduling policy: //p')
  [[ $policy == SCHED_FIFO ]] || fail "ftpalgd runs ${policy:-?}, not SCHED_FIFO as the unit runs it"
  ncpu=$(nproc)
  # Each loop is the process ip netns exec execs (its PID is $!), and ends
  # by itself after 20 s should the case die before stopping it.
  for ((i = 0; i <= ncpu; i++)); do
    # shellcheck disable=SC2016
    ip netns exec "$NS_CLI" bash -c 'end=$((SECONDS + 20)); while ((SECONDS < end)); do :; done' \
      </dev/null >/dev/null 2>&1 &
    hogs+=("$!"); LAB_PIDS+=("$!")
  done
  sleep 0.3
  read -r _ w0 s0 <"/proc/$ALG_PID/schedstat"
  for ((i = 0; i < 2 * n; i++)); do
    curl_opts pasv; ((i < n)) && curl_opts port
    cli "${CURL[@]}" "${CURL_MODE[@]}" --interface "$CLI4" -w '%{time_connect}\n' \
      -o /dev/null "ftp://$SRV4/hello.txt" >"$CASE_DIR/$i.out" 2>"$CASE_DIR/$i.err" &
    pids+=("$!")
  done
  for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
  read -r _ w1 s1 <"/proc/$ALG_PID/schedstat"
  for p in "${hogs[@]}"; do stop_pid "$p" KILL; done
  ((fails == 0)) || fail "$fails of $((2 * n)) concurrent sessions failed"
  local waitus=$(((w1 - w0) / 1000 / (s1 - s0 > 0 ? s1 - s0 : 1)))
  echo "schedstat: +$(((w1 - w0) / 1000)) us run-queue wait over +$((s1 - s0)) wake-ups ($waitus us each); $fails failures" \
    >"$CASE_DIR/sched.txt"
  ((waitus < 1000)) || fail "ftpalgd waited $waitus us per wake-up for the CPU (over 1 ms)"
  grep -E 'scheduling: SCHED_FIFO priority [0-9]+$' "$ALG_LOG" >/dev/null ||
    fail "ftpalgd did not log 'scheduling: SCHED_FIFO priority N' at start-up"
  rw1=$(alg_stat rewrites)
  ((${rw1:-0} - ${rw0:-0} >= n)) || fail "ftpalgd rewrites ${rw0:-?} -> ${rw1:-?}, expected +$n PORTs"
  case_end "$((2 * n))"
}
