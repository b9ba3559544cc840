#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Namespace end-to-end tests (called by `make e2e`, which `make check` runs).
#
#   tests/e2e/run_all.sh                 ALG=ftpalgd (default): scripts/ftpalg-rules + build/ftpalgd
#   ALG=kernel tests/e2e/run_all.sh      kernel nf_conntrack_ftp helper (lab validation / baseline)
#   tests/e2e/run_all.sh 'dnat-*' v6-*   only cases whose name matches one of the globs
#
# Prints PASS/FAIL per case and a summary; exits non-zero if any case failed.
# Needs root (network namespaces, iptables); as non-root it prints SKIPPED and
# exits 0. E2E_KEEP=1 keeps the lab's temp dir (logs, transcripts) for debugging.
set -uo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIPPED: e2e tests need root (network namespaces, iptables, conntrack); run 'sudo make e2e'"
  exit 0
fi
for tool in ip iptables ip6tables conntrack vsftpd curl lftp wget ss; do
  command -v "$tool" >/dev/null || { echo "FAIL e2e-setup: $tool missing (scripts/install-deps.sh --e2e)"; exit 1; }
done
/usr/bin/python3 -c 'import pyftpdlib' 2>/dev/null ||
  { echo "FAIL e2e-setup: /usr/bin/python3 lacks pyftpdlib (apt-get install python3-pyftpdlib)"; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/lib.sh"
# shellcheck source=tests/e2e/cases.sh
source "$HERE/cases.sh"
# shellcheck source=tests/e2e/hardening.sh
source "$HERE/hardening.sh"
# shellcheck source=tests/e2e/metrics.sh
source "$HERE/metrics.sh"
# shellcheck source=tests/e2e/ccc.sh
source "$HERE/ccc.sh"

FILTERS=("$@")
# Overall bound: a hung ALG makes every client wait for its own timeout; past
# the budget the remaining cases fail at once instead of running.
E2E_BUDGET=${E2E_BUDGET:-420}
run() { # NAME FUNCTION ARGS...
  local name=$1; shift
  case_wanted "$name" || return 0
  if ((SECONDS - T_START > E2E_BUDGET)); then
    echo "FAIL $name: not run, e2e time budget of ${E2E_BUDGET} s used up"
    FAIL_N=$((FAIL_N + 1)); FAILED_CASES+=("$name")
    return 0
  fi
  "$@"
}

# The daemon's rules watch looks every 3 s here (20 s by default), so that
# ftpalgd-rules-gone stays short; every other case runs under it too (a
# false "rules gone?" would show in their logs).
export FTPALG_E2E_RULES_WATCH_S=${FTPALG_E2E_RULES_WATCH_S:-3}

trap 'lab_down' EXIT
trap 'exit 130' INT TERM

T_START=$SECONDS
echo "e2e: ALG=$ALG, namespaces $P-*"
lab_up
servers_start
if ! alg_start; then
  echo "FAIL alg-start: could not start ALG=$ALG (see above)"
  echo "e2e: 0 passed, 1 failed"
  exit 1
fi

for m in port eprt pasv epsv; do
  for s in grow shrink; do
    run "curl-$m-$s" case_curl_out "$m" "$s"
  done
done
run curl-port-two-rewrites-one-session case_two_rewrites
run port-50-one-segment case_port_pipeline50
run lftp-active-multi case_lftp active
run lftp-passive-multi case_lftp passive
run ftplib-stor-active case_ftplib_stor
run wget-active case_wget_active
run curl-port-grow-pyftpd case_curl_out port grow pyftpd
run curl-eprt-shrink-pyftpd case_curl_out eprt shrink pyftpd
run curl-pasv-grow-pyftpd case_curl_out pasv grow pyftpd
run "dnat-curl-pasv-$GW_PUB4" case_dnat_pasv "$GW_PUB4" pasv
run "dnat-curl-pasv-$GW_PUB4B" case_dnat_pasv "$GW_PUB4B" pasv
run "dnat-curl-epsv-$GW_PUB4" case_dnat_pasv "$GW_PUB4" epsv
run "dnat-ftplib-active-$GW_PUB4" case_dnat_active "$GW_PUB4"
run "dnat-ftplib-active-$GW_PUB4B" case_dnat_active "$GW_PUB4B"
run v6-curl-eprt case_v6 eprt
run v6-curl-epsv case_v6 epsv
for m in pasv epsv port; do
  for k in precreate expect; do
    if [[ $ALG == ftpalgd ]]; then
      run "hairpin-$m-$k" case_hairpin "$m" "$k"
    else
      case_wanted "hairpin-$m-$k" && echo "SKIP hairpin-$m-$k (ALG=$ALG: the cases check ftpalgd's mechanisms)"
    fi
  done
done
ccc_cases  # FTPS with CCC (ProFTPD + mod_tls), and TLS kept to the end
if [[ $ALG == ftpalgd ]]; then
  run ftpalgd-notify-watchdog case_notify
  run metrics-textfile-node-exporter case_metrics_textfile
  run ftpalgd-sigkill-restart case_sigkill
  run ftpalgd-restart-pending-passive case_restart_pending passive
  run ftpalgd-restart-pending-active case_restart_pending active
  run ftpalgd-rules-gone case_rules_gone
  run ftpalgd-events case_events
  run burst-under-load case_burst_under_load
  hardening_cases
  if [[ -n $ALG_PID ]]; then
    log_mark; alg_dump_counters
    echo "e2e: ftpalgd counters (SIGUSR1):"; log_new ALG_LOG | tail -n 20 | sed 's/^/  /'
  fi
else
  for c in ftpalgd-notify-watchdog metrics-textfile-node-exporter ftpalgd-sigkill-restart \
    ftpalgd-restart-pending-passive ftpalgd-restart-pending-active ftpalgd-rules-gone \
    ftpalgd-events; do
    case_wanted "$c" && echo "SKIP $c (ALG=$ALG: no daemon to restart)"
  done
  case_wanted burst-under-load && echo "SKIP burst-under-load (ALG=$ALG: it checks how ftpalgd is scheduled)"
fi

echo "e2e: ALG=$ALG: $PASS_N passed, $FAIL_N failed ($((SECONDS - T_START)) s)${FAILED_CASES[*]:+: ${FAILED_CASES[*]}}"
((FAIL_N == 0 && PASS_N > 0))
