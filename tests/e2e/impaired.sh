#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Impaired end-to-end suite (issue 11 item 4; `make e2e-impaired`, part of
# `make e2e`, which `make check` runs). The lab of lib.sh with LAB_IMPAIR=1:
# every link (client-gateway, gateway-outside server, gateway-dmz server)
# runs through build/tests/impair_bridge, which drops, duplicates and delays
# (so reorders) TCP frames in both directions, and the end hosts drop TCP at
# random in INPUT and OUTPUT (iptables statistic). The cases of cases.sh, with
# the same assertions as run_all.sh (server saw the public address, sha256,
# RELATED counters, no INVALID, no RST from the gateway), plus split and
# pipelined PORT; each case RUNS times (3), each run with its own seed.
#
#   tests/e2e/impaired.sh                    ALG=ftpalgd (default)
#   ALG=kernel tests/e2e/impaired.sh         the kernel's nf_conntrack_ftp (baseline figure)
#   tests/e2e/impaired.sh 'dnat-*' v6-*      only cases whose name matches one of the globs
#   IMPAIR_SEED=N tests/e2e/impaired.sh      repeat a run: the seeds are printed
#   RUNS=5 tests/e2e/impaired.sh             runs per case (default 3)
#   IMPAIR_BIG_BYTES=262144 ...              size of big.bin (default 1 MiB)
#   IMPAIRED_RESULTS=FILE ...                append "ALG case passes runs" lines
#                                            (for the table in BENCHMARKS.md)
# Profile knobs (lib.sh): IMPAIR_LOSS, IMPAIR_DUP, IMPAIR_DELAY_MIN_US,
# IMPAIR_DELAY_MAX_US, IMPAIR_HOST_LOSS.
#
# Prints PASS/FAIL per run, per failed run the ALG's tell-tale log lines, a
# table passes/runs per case and a summary line; exits non-zero if any run
# failed. As non-root it prints SKIPPED and exits 0.
set -uo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIPPED: impaired e2e tests need root (network namespaces, iptables, AF_PACKET); run 'sudo make e2e'"
  exit 0
fi
for tool in ip iptables ip6tables conntrack vsftpd curl lftp wget ss ethtool; do
  command -v "$tool" >/dev/null || { echo "FAIL e2e-impaired-setup: $tool missing (scripts/install-deps.sh --e2e)"; exit 1; }
done
/usr/bin/python3 -c 'import pyftpdlib' 2>/dev/null ||
  { echo "FAIL e2e-impaired-setup: /usr/bin/python3 lacks pyftpdlib (apt-get install python3-pyftpdlib)"; exit 1; }

export LAB_IMPAIR=1
# Active curl cases without their small transfers: see cases.sh, CURL_ACTIVE_SMALL.
CURL_ACTIVE_SMALL=${CURL_ACTIVE_SMALL:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"
# shellcheck source=tests/e2e/cases.sh
source "$HERE/cases.sh"

[[ -x $IMPAIR_BRIDGE ]] || { echo "FAIL e2e-impaired-setup: $IMPAIR_BRIDGE missing (make $IMPAIR_BRIDGE)"; exit 1; }

RUNS=${RUNS:-3}
IMPAIR_SEED=${IMPAIR_SEED:-$(( $(date +%s) % 100000 ))}
E2E_BUDGET=${E2E_IMPAIRED_BUDGET:-600}
FILTERS=("$@")

# --- cases only this suite has: split and pipelined PORT (active, masquerade)
case_ftpsplit() { # HOW split|pipelined
  local how=$1 rc f n
  case_begin "$how-port"
  cli timeout 60 "$PY" "$HERE/ftpsplit.py" "$how" "$SRV4" --src "$CLI4_GROW" --out "$CASE_DIR" \
    hello.txt big.bin >"$CASE_DIR/ftpsplit.out" 2>"$CASE_DIR/ftpsplit.err"
  rc=$?
  expect_rc0 $rc ftpsplit.py
  for f in hello.txt:$SMALL_SHA big.bin:$BIG_SHA; do
    grep -qx "SHA256 ${f%%:*} ${f#*:}" "$CASE_DIR/ftpsplit.out" || fail "RETR ${f%%:*}: no matching SHA256 line"
  done
  expect_sha "$CASE_DIR/big.bin" "$BIG_SHA" "RETR big.bin"
  expect_server_saw_public4 SRV4_LOG port
  n=$(log_new SRV4_LOG | grep -Ec '"PORT 203,0,113,1,[0-9]+,[0-9]+"')
  ((n >= 2)) || fail "server saw $n rewritten PORTs, expected 2"
  case_end 2 2
}

# Name, function and arguments of every case (both NAT sides, active and
# passive, PORT/EPRT/PASV/EPSV, split and pipelined PORT, FEAT and several
# transfers per session with lftp, IPv6).
CASES=(
  "curl-port-grow|case_curl_out port grow"
  "curl-eprt-shrink|case_curl_out eprt shrink"
  "curl-pasv-grow|case_curl_out pasv grow"
  "curl-epsv-shrink|case_curl_out epsv shrink"
  "curl-port-two-rewrites-one-session|case_two_rewrites"
  "ftplib-stor-active|case_ftplib_stor"
  "wget-active|case_wget_active"
  "curl-eprt-shrink-pyftpd|case_curl_out eprt shrink pyftpd"
  "split-port|case_ftpsplit split"
  "pipelined-port|case_ftpsplit pipelined"
  "lftp-active-multi|case_lftp active"
  "lftp-passive-multi|case_lftp passive"
  "dnat-curl-pasv-$GW_PUB4|case_dnat_pasv $GW_PUB4 pasv"
  "dnat-curl-pasv-$GW_PUB4B|case_dnat_pasv $GW_PUB4B pasv"
  "dnat-curl-epsv-$GW_PUB4|case_dnat_pasv $GW_PUB4 epsv"
  "dnat-ftplib-active-$GW_PUB4|case_dnat_active $GW_PUB4"
  "dnat-ftplib-active-$GW_PUB4B|case_dnat_active $GW_PUB4B"
  "v6-curl-eprt|case_v6 eprt"
  "v6-curl-epsv|case_v6 epsv"
)

# 50 PORT lines in one segment, where cases.sh has that case (issue 11 item 3).
if declare -F case_port_pipeline50 >/dev/null; then
  CASES+=("port-50-one-segment|case_port_pipeline50")
fi

# What the ALG said about a failed run: the lines that name a lost session.
RE_TELL='gap in|REFUSED|no 220|not an FTP|tuple reused|parsing stopped|lost sync|resync'
declare -A RUNS_OF PASS_OF
FAIL_NOTES=()

first_errors() { local IFS=';'; echo "${CASE_ERR[*]:0:3}"; }

run_case() { # RUN NAME SEED FUNCTION ARGS...
  local r=$1 name=$2 seed=$3 f0 lines drops0; shift 3
  if ((SECONDS - T_START > E2E_BUDGET)); then
    echo "FAIL $name.r$r: not run, impaired e2e time budget of ${E2E_BUDGET} s used up"
    FAIL_N=$((FAIL_N + 1)); FAILED_CASES+=("$name.r$r")
    RUNS_OF[$name]=$((${RUNS_OF[$name]:-0} + 1))
    return 0
  fi
  if ! impair_start "$seed"; then
    echo "FAIL $name.r$r: impair_bridge did not start (seed $seed)"
    FAIL_N=$((FAIL_N + 1)); FAILED_CASES+=("$name.r$r")
    RUNS_OF[$name]=$((${RUNS_OF[$name]:-0} + 1))
    return 0
  fi
  drops0=$(impair_host_drops)
  f0=$FAIL_N
  CASE_SUFFIX=".r$r.s$seed"   # (no space or "#": CASE_DIR goes into lftp commands)
  "$@"
  CASE_SUFFIX=""
  impair_stop
  RUNS_OF[$name]=$((${RUNS_OF[$name]:-0} + 1))
  if ((FAIL_N == f0)); then
    PASS_OF[$name]=$((${PASS_OF[$name]:-0} + 1))
    return 0
  fi
  echo "  --- impairment of this run (bridges; end hosts dropped $(($(impair_host_drops) - drops0)) packets)"
  printf '%s' "$IMPAIR_LAST" | sed 's/^/  | /'
  if [[ $ALG == ftpalgd ]]; then
    lines=$(log_new ALG_LOG | grep -E -- "$RE_TELL" | head -n 6)
    if [[ -n $lines ]]; then
      echo "  --- ftpalgd: lines naming a lost session (/$RE_TELL/)"
      printf '%s\n' "$lines" | sed 's/^/  | /'
    else
      echo "  --- ftpalgd: no line matching /$RE_TELL/ in this run"
    fi
    FAIL_NOTES+=("$name.r$r.s$seed: $(first_errors)${lines:+ | ftpalgd: $(head -n 2 <<<"$lines" | sed -E 's/^[^ ]+ +//' | tr '\n' ' ')}")
  else
    FAIL_NOTES+=("$name.r$r.s$seed: $(first_errors)")
  fi
}

trap 'lab_down' EXIT
trap 'exit 130' INT TERM

T_START=$SECONDS
echo "e2e-impaired: ALG=$ALG, namespaces $P-*, $RUNS runs per case, base seed $IMPAIR_SEED (IMPAIR_SEED=$IMPAIR_SEED to repeat)"
echo "e2e-impaired: profile per link and direction: loss $IMPAIR_LOSS, duplication $IMPAIR_DUP," \
  "delay ${IMPAIR_DELAY_MIN_US}-${IMPAIR_DELAY_MAX_US} us uniform (reorders); end hosts: TCP loss $IMPAIR_HOST_LOSS in INPUT and OUTPUT"
lab_up
if [[ -n ${IMPAIR_BIG_BYTES:-} ]]; then
  # servers_start makes a 1 MiB big.bin; a smaller one for quick runs.
  servers_start
  head -c "$IMPAIR_BIG_BYTES" /dev/urandom >"$T/big.bin"
  BIG_SHA=$(sha_of "$T/big.bin")
  for d in "$SRV_ROOT" "$DMZ_ROOT" "$PY_ROOT"; do cp "$T/big.bin" "$d/big.bin"; done
else
  servers_start
fi
if ! alg_start; then
  echo "FAIL alg-start: could not start ALG=$ALG (see above)"
  echo "e2e-impaired: 0 passed, 1 failed"
  exit 1
fi

for ((r = 1; r <= RUNS; r++)); do
  i=0
  for c in "${CASES[@]}"; do
    i=$((i + 1))
    name=${c%%|*}
    case_wanted "$name" || continue
    # shellcheck disable=SC2086  # the function and its arguments
    run_case "$r" "$name" "$((IMPAIR_SEED + r * 1000 + i))" ${c#*|}
  done
done

if [[ $ALG == ftpalgd && -n $ALG_PID ]]; then
  log_mark; alg_dump_counters
  echo "e2e-impaired: ftpalgd counters (SIGUSR1):"; log_new ALG_LOG | grep 'counters:' | sed 's/^/  /'
fi
echo "e2e-impaired: passes/runs per case (ALG=$ALG):"
for c in "${CASES[@]}"; do
  name=${c%%|*}
  [[ -n ${RUNS_OF[$name]:-} ]] || continue
  printf '  %-34s %d/%d\n' "$name" "${PASS_OF[$name]:-0}" "${RUNS_OF[$name]}"
  if [[ -n ${IMPAIRED_RESULTS:-} ]]; then
    printf '%s %s %d %d\n' "$ALG" "$name" "${PASS_OF[$name]:-0}" "${RUNS_OF[$name]}" >>"$IMPAIRED_RESULTS"
  fi
done
if ((${#FAIL_NOTES[@]} > 0)); then
  echo "e2e-impaired: failed runs:"
  printf '  %s\n' "${FAIL_NOTES[@]}"
fi
echo "e2e-impaired: ALG=$ALG: $PASS_N passed, $FAIL_N failed ($((SECONDS - T_START)) s, base seed $IMPAIR_SEED)"
((FAIL_N == 0 && PASS_N > 0))
