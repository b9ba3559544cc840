# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2004
#
# FTPS that returns to cleartext (RFC 4217 CCC), end to end: ProFTPD 1.3.8 +
# mod_tls (Debian's proftpd-core and proftpd-mod-crypto, unpacked by
# scripts/install-deps.sh --e2e into $PROFTPD_ROOT: they conflict with the
# installed vsftpd) and curl --ssl-reqd --ftp-ssl-ccc, through the lab's NAT
# gateway. Sourced by run_all.sh after lib.sh and cases.sh. Addresses added
# here (on top of lib.sh's topology, removed with the namespaces):
#   srv 203.0.113.21  ProFTPD "outside": cli (behind MASQUERADE) -> PORT/EPRT
#   cli 192.168.10.21 ProFTPD "inside", DNATed from gw 203.0.113.22:21; the
#                    outside client (srv 203.0.113.2) -> 227/EPSV
# A self-signed certificate is made at test time with openssl.

PROFTPD_ROOT=${PROFTPD_ROOT:-/opt/ftpalg-e2e/proftpd}
# Not .5 (hardening.sh) nor .9 (bench.sh).
PF_OUT4=203.0.113.21 PF_IN4=192.168.10.21 PF_PUB4=203.0.113.22
PF_OUT_LOG="" PF_IN_LOG="" PF_READY=""  # PF_READY: "" not tried, 1 up, else why not
CURL_TLS=(--ssl-reqd --insecure)

# Why ProFTPD cannot run here, or nothing.
proftpd_missing() {
  local bin=$PROFTPD_ROOT/usr/sbin/proftpd mod=$PROFTPD_ROOT/usr/lib/proftpd/mod_tls.so
  [[ -x $bin ]] || { echo "$bin missing (scripts/install-deps.sh --e2e unpacks proftpd-core)"; return; }
  [[ -f $mod ]] || { echo "$mod missing (scripts/install-deps.sh --e2e unpacks proftpd-mod-crypto)"; return; }
  command -v openssl >/dev/null || { echo "openssl missing"; return; }
  local nf
  nf=$({ ldd "$bin"; ldd "$mod"; } 2>&1 | awk '/not found/ { print $1 }' | sort -u | tr '\n' ' ')
  [[ -z $nf ]] || echo "shared libraries not found: $nf(scripts/install-deps.sh --e2e installs them)"
}

write_proftpd_conf() { # FILE ADDR ROOT LOGDIR
  local f=$1 addr=$2 root=$3 d=$4
  cat >"$f" <<EOF
ServerType standalone
ServerName "ftpalg lab proftpd"
DefaultServer on
Port 21
DefaultAddress $addr
SocketBindTight on
UseIPv6 off
User nobody
Group nogroup
PidFile $d/proftpd.pid
ScoreboardFile $d/proftpd.scoreboard
DelayTable none
WtmpLog off
UseReverseDNS off
ModulePath $PROFTPD_ROOT/usr/lib/proftpd
LoadModule mod_tls.c
SystemLog $d/system.log
TransferLog $d/xfer.log
ExtendedLog $d/commands.log ALL
# PORT/EPRT must name the control connection's peer (the default; said here
# because the e2e checks rely on it).
AllowForeignAddress off
TLSEngine on
TLSLog $d/tls.log
TLSProtocol TLSv1.2 TLSv1.3
TLSRSACertificateFile $T/pf-cert.pem
TLSRSACertificateKeyFile $T/pf-key.pem
TLSVerifyClient off
TLSRequired off
TLSOptions NoSessionReuseRequired
<Anonymous $root>
  User ftp
  Group nogroup
  UserAlias anonymous ftp
  RequireValidShell off
  <Limit WRITE>
    DenyAll
  </Limit>
</Anonymous>
EOF
}

# Both ProFTPD instances, their addresses and the DNAT, once (lazily).
ccc_servers_start() {
  [[ -z $PF_READY ]] || { [[ $PF_READY == 1 ]]; return; }
  PF_READY=$(proftpd_missing)
  [[ -z $PF_READY ]] || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/pf-key.pem" -out "$T/pf-cert.pem" \
    -days 2 -subj /CN=ftpalg-lab >/dev/null 2>&1 || { PF_READY="openssl req failed"; return 1; }
  chmod 644 "$T/pf-key.pem"
  srv ip addr add $PF_OUT4/24 dev eth0
  cli ip addr add $PF_IN4/24 dev eth0
  gw ip addr add $PF_PUB4/24 dev pub
  gw iptables -w -t nat -A PREROUTING -i pub -d $PF_PUB4 -p tcp --dport 21 -j DNAT --to-destination $PF_IN4:21
  local side ns addr
  for side in out in; do
    if [[ $side == out ]]; then ns=$NS_SRV addr=$PF_OUT4; else ns=$NS_CLI addr=$PF_IN4; fi
    mkdir -p "$T/pf-$side"; chmod 755 "$T/pf-$side"
    make_root "$T/pf-$side/root"
    write_proftpd_conf "$T/pf-$side/proftpd.conf" $addr "$T/pf-$side/root" "$T/pf-$side"
    : >"$T/pf-$side/commands.log"
    start_bg "$T/pf-$side/proftpd.out" "$ns" "$PROFTPD_ROOT/usr/sbin/proftpd" -n -q \
      -c "$T/pf-$side/proftpd.conf" >/dev/null
  done
  PF_OUT_LOG=$T/pf-out/commands.log PF_IN_LOG=$T/pf-in/commands.log
  if ! wait_listen srv "$PF_OUT4:21" 21 || ! wait_listen cli "$PF_IN4:21" 21; then
    PF_READY="proftpd did not listen: $(tail -n 3 "$T"/pf-*/proftpd.out "$T"/pf-*/system.log 2>/dev/null | tr '\n' ' ')"
    return 1
  fi
  PF_READY=1
}

# ProFTPD's log offsets at case start (log_mark knows only lib.sh's logs).
pf_mark() { local n f; for n in PF_OUT_LOG PF_IN_LOG; do
  f=${!n}; LOGOFF[$n]=0; [[ -n $f && -f $f ]] && LOGOFF[$n]=$(stat -c %s "$f"); done; }

# ftpalgd saw both directions return to cleartext, and lost none.
expect_ccc_seen() {
  [[ $ALG == ftpalgd ]] || return 0
  expect_log ALG_LOG 'c->s stream back to cleartext after its TLS records' \
    "ftpalgd did not resume parsing the client's commands"
  expect_log ALG_LOG 's->c stream back to cleartext after its TLS records' \
    "ftpalgd did not resume parsing the server's replies"
  expect_no_log ALG_LOG 'framing lost|neither a TLS record' "ftpalgd stopped following the records"
}

# Active mode after CCC: cli (behind MASQUERADE) -> outside ProFTPD, with
# Python's ftplib (FTP_TLS.ccc(): close_notify both ways; tests/e2e/ftps_ccc.py).
# curl 7.88 cannot do active-mode FTPS with this server even without NAT (it
# fails after accepting the data connection: "sa_addr inet_ntop() failed").
# lftp (ftp:ssl-use-ccc) is not used: when the server's 200 and its
# close_notify reach it together it closes the connection (1 run in 4-7 here
# with ftpalgd, whose queueing can deliver the two segments back to back;
# 0 in 8 with the kernel helper; see docs/testing.md). MODE port|eprt.
case_ccc_active() {
  local mode=$1 rc out eprt=()
  [[ $mode == eprt ]] && eprt=(--eprt)
  case_begin "ccc-ftplib-$mode"
  pf_mark
  out=$CASE_DIR/ftps.out
  cli timeout 60 "$PY" "$E2E_LIB_DIR/ftps_ccc.py" $PF_OUT4 big.bin "${eprt[@]}" --out "$CASE_DIR/big.bin" \
    >"$out" 2>&1
  rc=$?
  expect_rc0 $rc ftps_ccc.py
  expect_grep "$out" "^\*cmd\* 'CCC'" "client did not send CCC"
  if [[ $mode == port ]]; then
    expect_grep "$out" "^\*cmd\* 'PORT ${CLI4//./,}," "client did not send PORT with its own address"
    expect_log PF_OUT_LOG "\"PORT 203,0,113,1,[0-9]+,[0-9]+\" 200" "server did not accept PORT 203,0,113,1,..."
  else
    expect_grep "$out" "^\*cmd\* 'EPRT \|1\|${CLI4//./\\.}\|" "client did not send EPRT with its own address"
    expect_log PF_OUT_LOG "\"EPRT \|1\|203\.0\.113\.1\|[0-9]+\|\" 200" "server did not accept EPRT |1|203.0.113.1|...|"
  fi
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  expect_ccc_seen
  expect_log PF_OUT_LOG "^$GW_PUB4 .*\"CCC\" 200" "server did not accept CCC from the masquerade address"
  expect_no_log PF_OUT_LOG "(PORT|EPRT).*$RE_PRIV4" "server received a private address"
  expect_log PF_OUT_LOG '"RETR big.bin" 226' "server did not complete RETR"
  case_end 1 1
}

# Passive mode after CCC: outside client -> DNATed inside ProFTPD.
# MODE pasv|epsv, CCC_MODE active|passive.
case_ccc_passive() {
  local mode=$1 ccc=$2 rc nrw=0
  curl_opts "$mode"
  [[ $mode == pasv ]] && nrw=1
  case_begin "ccc-dnat-curl-$mode-$ccc"
  pf_mark
  srv "${CURL[@]}" "${CURL_TLS[@]}" --ftp-ssl-ccc --ftp-ssl-ccc-mode "$ccc" "${CURL_MODE[@]}" \
    "ftp://$PF_PUB4/big.bin" -o "$CASE_DIR/big.bin" >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  rc=$?
  expect_rc0 $rc curl
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  expect_grep "$CASE_DIR/curl.err" '^> CCC' "client did not send CCC"
  expect_ccc_seen
  if [[ $mode == pasv ]]; then
    expect_grep "$CASE_DIR/curl.err" "^< 227 .*\(${PF_PUB4//./,},[0-9]+,[0-9]+\)" \
      "client did not see 227 (${PF_PUB4//./,},...)"
    if grep -Eq "^< 227 .*${PF_IN4//./,}" "$CASE_DIR/curl.err"; then fail "client saw the private address in 227"; fi
  else
    expect_grep "$CASE_DIR/curl.err" '^< 229 .*\(\|\|\|[0-9]+\|\)' "client did not see 229"
  fi
  expect_log PF_IN_LOG "^$SRV4 .*\"RETR big.bin\" 226" "server did not serve RETR to the client's address"
  case_end 1 "$nrw"
}

# TLS kept to the end (no CCC), client behind MASQUERADE -> outside
# ProFTPD: nothing of the dialogue can be seen, so no data connection can be
# made RELATED (the lab's FORWARD policy drops the rest: curl then reports
# "Failed to connect to HOST port 21", naming the control port for the data
# connection it could not open). The control connection must pass through
# unharmed: login, SIZE, MDTM (curl --head) and QUIT, ftpalgd stopped.
case_tls_no_ccc() {
  local rc
  case_begin "tls-no-ccc-curl-head"
  pf_mark
  cli "${CURL[@]}" "${CURL_TLS[@]}" --head "ftp://$PF_OUT4/big.bin" \
    >"$CASE_DIR/curl.out" 2>"$CASE_DIR/curl.err"
  rc=$?
  expect_rc0 $rc curl
  expect_grep "$CASE_DIR/curl.out" '^Content-Length: 1048576' "no size of big.bin (SIZE inside TLS)"
  expect_log PF_OUT_LOG "^$GW_PUB4 .*\"SIZE big.bin\" 213" "server did not answer SIZE"
  if [[ $ALG == ftpalgd ]]; then
    expect_log ALG_LOG 'AUTH accepted \(234\)' "ftpalgd did not see the 234"
    expect_no_log ALG_LOG 'back to cleartext' "ftpalgd resumed parsing inside TLS"
    expect_no_log ALG_LOG 'neither a TLS record' "ftpalgd misread the TLS records"
  fi
  case_end 0 0
}

ccc_cases() {
  local names=(ccc-ftplib-port ccc-ftplib-eprt ccc-dnat-curl-pasv-active ccc-dnat-curl-pasv-passive
    ccc-dnat-curl-epsv-passive tls-no-ccc-curl-head) n any=0
  for n in "${names[@]}"; do case_wanted "$n" && any=1; done
  ((any)) || return 0
  if ! ccc_servers_start; then
    for n in "${names[@]}"; do
      case_wanted "$n" && echo "SKIP $n: ProFTPD + mod_tls cannot run here: $PF_READY"
    done
    echo "e2e: WARNING: the FTPS/CCC cases were SKIPPED (see above)"
    return 0
  fi
  run ccc-ftplib-port case_ccc_active port
  run ccc-ftplib-eprt case_ccc_active eprt
  run ccc-dnat-curl-pasv-active case_ccc_passive pasv active
  run ccc-dnat-curl-pasv-passive case_ccc_passive pasv passive
  run ccc-dnat-curl-epsv-passive case_ccc_passive epsv passive
  run tls-no-ccc-curl-head case_tls_no_ccc
}
