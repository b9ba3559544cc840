#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ftpalg demo (`make demo`, as root): builds the namespace lab of
# tests/e2e/lib.sh, installs the NFQUEUE rules, starts build/ftpalgd and runs
#   1. an active-mode (PORT) download by a client behind MASQUERADE
#      (10.7.0.2 -> PORT text grows by 3 bytes), and
#   2. a passive-mode (PASV) download from a server behind DNAT
#      (203.0.113.1:21 -> 192.168.20.2:21, 227 text rewritten),
# then prints what happened: ftpalgd's REWRITE lines, the data connections in
# conntrack (RELATED, NAT), firewall counters and checksums. No kernel FTP
# helper is attached. The lab is torn down at the end, also on failure.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1
if [[ $(id -u) -ne 0 ]]; then
  echo "demo: needs root (network namespaces, iptables, NFQUEUE): run 'sudo make demo'" >&2
  exit 1
fi
scripts/install-deps.sh --e2e || { echo "demo: installing dependencies failed" >&2; exit 1; }
make -s all || { echo "demo: build failed" >&2; exit 1; }

ALG=ftpalgd
# shellcheck source=tests/e2e/lib.sh
source "$REPO/tests/e2e/lib.sh"
trap 'lab_down' EXIT
trap 'exit 130' INT TERM

hr() { printf '\n=== %s ===\n' "$*"; }
ok=1
bad() { echo "!!! $*"; ok=0; }

hr "lab"
lab_up
servers_start
cat <<EOF
client   $CLI4 / $CLI4_GROW  --lan--  gateway $GW_LAN4 | $GW_PUB4 (+$GW_PUB4B) | 192.168.20.1
server   $SRV4 (outside, vsftpd)      dmz server $DMZ4 (vsftpd, port-forwarded from $GW_PUB4:21)
gateway: FORWARD policy DROP, RELATED and ESTABLISHED accepted, NEW only to :21,
         MASQUERADE lan -> $GW_PUB4, DNAT $GW_PUB4:21 -> $DMZ4:21, nf_conntrack_tcp_be_liberal=0
EOF

hr "scripts/ftpalg-rules install; build/ftpalgd"
alg_start || { bad "could not start ftpalgd"; exit 1; }
cat "$T/ftpalg-rules.log"
gw iptables -w -S -t raw | grep -- '-j NFQUEUE'
gw iptables -w -S -t mangle | grep -- '-j NFQUEUE'
echo "ftpalgd pid $ALG_PID: $(grep -m1 ready "$ALG_LOG")"
if { gw iptables-save; gw ip6tables-save; } | grep -- '--helper' >/dev/null; then
  bad "a kernel helper rule is present"
else
  echo "kernel FTP helper: not attached (no --helper rule)"
fi

gw timeout 30 conntrack -E -p tcp -o timestamp >"$T/ct-events.log" 2>/dev/null &
EV_PID=$!
sleep 0.3
rel0=$(fw_count fa-related) inv0=$(fw_count fa-invalid) ctinv0=$(ct_invalid) rst0=$(gw_out_rsts)
rw0=$(alg_rewrites)
log_mark

hr "1. active mode (PORT): client $CLI4_GROW behind MASQUERADE -> ftp://$SRV4/big.bin"
mkdir -p "$T/demo"
cli timeout 20 curl -q -sS -v --ftp-port - --disable-eprt --interface "$CLI4_GROW" \
  "ftp://$SRV4/big.bin" -o "$T/demo/active.bin" 2>"$T/demo/active.err"
rc=$?
echo "client sent:     $(grep -m1 '^> PORT' "$T/demo/active.err")"
echo "server received: $(log_new SRV4_LOG | grep -m1 -o 'PORT [0-9,]*')   (vsftpd log)"
echo "server peer:     $(log_new SRV4_LOG | grep -m1 -o 'CONNECT: Client "[^"]*"')"
sum=$(sha_of "$T/demo/active.bin")
echo "curl exit $rc; sha256 $sum (server file $BIG_SHA)"
[[ $rc == 0 && $sum == "$BIG_SHA" ]] || bad "active transfer failed"

hr "2. passive mode (PASV): outside client $SRV4 -> DNAT server ftp://$GW_PUB4/big.bin"
srv timeout 20 curl -q -sS -v --disable-epsv --no-ftp-skip-pasv-ip \
  "ftp://$GW_PUB4/big.bin" -o "$T/demo/passive.bin" 2>"$T/demo/passive.err"
rc=$?
echo "server sent:     $(log_new DMZ_LOG | grep -m1 -o '227 Entering Passive Mode ([0-9,]*)')   (vsftpd log, dmz)"
echo "client received: $(grep -m1 '^< 227' "$T/demo/passive.err" | tr -d '\r')"
sum=$(sha_of "$T/demo/passive.bin")
echo "curl exit $rc; sha256 $sum (server file $BIG_SHA)"
[[ $rc == 0 && $sum == "$BIG_SHA" ]] || bad "passive transfer failed"
grep -E '^< 227 .*\(203,0,113,1,' "$T/demo/passive.err" >/dev/null || bad "client did not see the public address in 227"

sleep 0.3
hr "ftpalgd REWRITE log lines"
log_new ALG_LOG | grep REWRITE || bad "no REWRITE lines in the ftpalgd log"

hr "conntrack: data connections (gateway netns)"
# Everything that is neither the port-21 control connection nor its reply.
gw conntrack -L -p tcp 2>/dev/null | grep -v -E 'dport=21 |sport=21 ' | sed 's/^/  /'
echo "(status EXPECTED = created with a master: the connection is RELATED)"
gw conntrack -L -p tcp -u EXPECTED 2>/dev/null | sed 's/^/  EXPECTED: /'
stop_pid "$EV_PID"
echo "conntrack -E (events; [USERSPACE] = created by ftpalgd over ctnetlink):"
grep -v -E 'dport=21 |sport=21 ' "$T/ct-events.log" | grep -E 'NEW|USERSPACE' | sed 's/^/  /' | head -n 12

hr "gateway counters"
rel=$(($(fw_count fa-related) - rel0)) inv=$(($(fw_count fa-invalid) - inv0))
ctinv=$(($(ct_invalid) - ctinv0)) rst=$(($(gw_out_rsts) - rst0)) rw=$(($(alg_rewrites) - rw0))
echo "FORWARD ctstate RELATED accepted: +$rel packets (one per data connection: expected 2)"
echo "FORWARD ctstate INVALID dropped:  +$inv;  conntrack -S invalid: +$ctinv;  gateway TCP RSTs sent: +$rst"
echo "ftpalgd REWRITE lines: +$rw"
gw iptables -w -vxnL FORWARD | sed 's/^/  /'
((rel >= 2)) || bad "data connections were not RELATED"
((inv == 0 && ctinv == 0 && rst == 0)) || bad "INVALID packets or gateway RSTs"
if ct_control | grep 'helper=' >/dev/null; then bad "a control conntrack has a kernel helper"; fi
alg_dump_counters
echo "ftpalgd counters (SIGUSR1):"
tail -n 4 "$ALG_LOG" | grep counters | sed 's/^/  /'

hr "result"
alg_stop
if ((ok)); then
  echo "demo OK: active PORT and passive PASV/DNAT transfers through ftpalgd, checksums match, data connections RELATED, no kernel helper"
  exit 0
fi
echo "demo FAILED (see above); ftpalgd log tail:"
tail -n 20 "$ALG_LOG"
exit 1
