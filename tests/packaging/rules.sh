#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# scripts/ftpalg-rules (part of `make packaging-test`):
#  1. the native nft table it writes (`nft-include`) equals the reviewed
#     golden tests/packaging/ftpalg-q4-p21-2121.nft.golden, byte for byte;
#  2. queue and ports come from ftpalgd's configuration (a --config file, the
#     daemon's own parser), --queue/--ports override it, bad values fail;
#  3. (root) `nft -c` in a scratch network namespace: the table with its
#     queue statements taken out must load as is; the whole table must load
#     too where the kernel has nft_queue, and where it has not (this lab's
#     kernel) nft may reject only the queue statements, and only with the
#     kernel's "No such file or directory" (the syntax was accepted); the
#     rest of the table loads, and its never-jumped `ct label set` chain
#     alone gives new conntracks label space (ftpalgd --check's probe); the
#     flowtable exclusion its header documents loads after it (its define);
#  4. (root) the backend choice, live in the scratch namespace: auto picks nft
#     where nft can load a queue statement and iptables where it cannot; on an
#     iptables pick, the same four rules per family as always (iptables-save),
#     no nft table; --backend nft fails clearly without nft_queue; a kernel
#     FTP helper in nft form (ct helper object of type "ftp") is warned about;
#     `remove` leaves no ftpalg rule behind; the nft backend's whole flow
#     through an nft wrapper that loads queue statements as nothing (auto
#     picks nft, only the data-SYN rule stays in iptables, status, switching
#     back and forth, remove);
#  5. (root) `ftpalgd --check` in that namespace: exit 0 with the rules as
#     configured; 1 when the installed rules use another queue or other
#     ports, or the kernel FTP helper is attached (iptables or nft form);
#     2 for bad options or a bad config file.
set -uo pipefail
cd "$(dirname "$0")/../.."
RULES=$PWD/scripts/ftpalg-rules
GOLDEN=tests/packaging/ftpalg-q4-p21-2121.nft.golden
fails=0 checks=0
fail() { echo "FAIL rules: $*"; fails=$((fails + 1)); }
ok() { checks=$((checks + 1)); }
tmp=$(mktemp -d)
NS=""
cleanup() {
  if [[ -n $NS ]]; then
    ip netns exec "$NS" "$RULES" remove >/dev/null 2>&1
    ip netns del "$NS" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
export FTPALGD_DEFAULT_CONFIG=""  # this host's /etc/ftpalg never leaks in

# ---- 1. golden ---------------------------------------------------------------
"$RULES" nft-include --queue 4 --ports 21,2121 >"$tmp/q4.nft" || fail "nft-include exited non-zero"
if cmp -s "$tmp/q4.nft" "$GOLDEN"; then ok; else
  fail "nft-include --queue 4 --ports 21,2121 differs from $GOLDEN:"; diff -u "$GOLDEN" "$tmp/q4.nft"
fi

# ---- 2. one source of truth: ftpalgd's configuration --------------------------
printf 'queue 6\ncontrol-port 2121\ncontrol-port 990\n' >"$tmp/ftpalgd.conf"
out=$("$RULES" nft-include --config "$tmp/ftpalgd.conf")
grep -q 'queue num 6 bypass' <<<"$out" && grep -qF 'define FTPALG_CONTROL_PORTS = { 2121, 990 }' <<<"$out" &&
  ok || fail "nft-include --config did not take queue 6 and ports 2121,990 from the file: $(grep -E 'define|queue num' <<<"$out")"
out=$("$RULES" nft-include --config "$tmp/ftpalgd.conf" --queue 3)
grep -q 'queue num 3 bypass' <<<"$out" && grep -qF '{ 2121, 990 }' <<<"$out" &&
  ok || fail "--queue 3 did not override the file's queue (ports kept)"
out=$("$RULES" nft-include)
grep -q 'queue num 0 bypass' <<<"$out" && grep -qF 'define FTPALG_CONTROL_PORTS = { 21 }' <<<"$out" &&
  ok || fail "without a config file: not the daemon's defaults (queue 0, port 21)"
printf 'queue 70000\n' >"$tmp/bad.conf"
if out=$("$RULES" nft-include --config "$tmp/bad.conf" 2>&1); then
  fail "a config file with queue 70000 was accepted"
else
  grep -q 'bad.conf' <<<"$out" && ok || fail "the error does not name the config file: $out"
fi
if "$RULES" nft-include --config "$tmp/missing.conf" >/dev/null 2>&1; then
  fail "a missing --config file was accepted"
else ok; fi

# ---- 3. and 4. need root: a scratch network namespace --------------------------
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIPPED rules: nft -c and the live backend choice need root"
  echo "rules: $checks passed, $fails failed"
  ((fails == 0)); exit
fi
if ! command -v nft >/dev/null; then
  fail "nft missing (scripts/install-deps.sh installs nftables)"
  echo "rules: $checks passed, $fails failed"; exit 1
fi
NS=ftpalg-rules-$$
ip netns add "$NS" && ip -n "$NS" link set lo up || { fail "ip netns add"; exit 1; }
nsx() { ip netns exec "$NS" "$@"; }

sed 's/ queue num [0-9]* bypass//' "$tmp/q4.nft" >"$tmp/noqueue.nft"
grep -q 'queue' <<<"$(grep -v '^#' "$tmp/noqueue.nft")" && fail "could not take the queue statements out"
out=$(nsx nft -c -f "$tmp/noqueue.nft" 2>&1) && ok || fail "nft -c on the table without queue statements: $out"
# The flowtable exclusion the header tells operators to write, after the
# included table (its define): loaded with `counter` for `flow add @ft` (this
# kernel has no flowtables either), and listed with typed ports.
excl=$(sed -n 's/^#[[:space:]]*\(tcp dport != .*\) flow add @ft$/\1/p' "$tmp/q4.nft")
[[ -n $excl ]] || fail "the table's header has no flowtable exclusion line"
{ cat "$tmp/noqueue.nft"; printf 'table inet fw {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\t%s counter\n\t}\n}\n' "$excl"; } >"$tmp/excl.nft"
if out=$(nsx nft -f "$tmp/excl.nft" 2>&1); then
  grep -qF 'tcp dport != { 21, 2121 } tcp sport != { 21, 2121 } counter' <<<"$(nsx nft list chain inet fw forward)" &&
    ok || fail "the flowtable exclusion did not list as typed ports: $(nsx nft list chain inet fw forward)"
  nsx nft delete table inet fw
  nsx nft delete table inet ftpalg
else
  fail "the flowtable exclusion line does not load after the table: $out"
fi
has_queue=0
printf '%s\n' 'table inet p { chain c { type filter hook prerouting priority 0; queue num 0 bypass; }; }' |
  nsx nft -c -f - >/dev/null 2>&1 && has_queue=1
if out=$(nsx nft -c -f "$tmp/q4.nft" 2>&1); then
  ((has_queue)) && ok || fail "nft -c accepted a queue statement here, the probe said it would not"
  echo "rules: nft -c on the whole generated table: accepted (kernel has nft_queue)"
else
  errors=$(grep -c 'Error:' <<<"$out")
  queue_errors=$(grep -c 'Error: Could not process rule: No such file or directory' <<<"$out")
  rejected=$(grep -A1 'Error:' <<<"$out" | grep -vc 'Error:\|^--$')
  # every error must be the kernel's ENOENT, on a line with a queue statement
  if ((has_queue == 0 && errors == 2 && queue_errors == 2)) &&
    [[ $(grep -A1 'Error:' <<<"$out" | grep -v 'Error:\|^--$' | grep -c 'queue num 4 bypass') == "$rejected" ]]; then
    ok
    echo "rules: nft -c on the whole generated table: syntax accepted; the kernel refused only" \
      "the 2 queue statements (no nft_queue here)"
  else
    fail "nft -c on the generated table: $out"
  fi
fi

# What this kernel can run of the native table: everything but the queue
# statements. Its never-jumped `ct label set` chain alone must give new
# conntracks label space (ftpalgd --check's label probe, no iptables rule).
DAEMON=$PWD/${BUILD:-build}/ftpalgd
if [[ -x $DAEMON ]]; then
  labels=$(nsx "$DAEMON" --check 2>&1 | grep 'conntrack: labels:')
  [[ $labels == warn* ]] && ok || fail "labels available before any rule: $labels"
  nsx nft -f "$tmp/noqueue.nft" || fail "nft -f of the table without queue statements"
  labels=$(nsx "$DAEMON" --check 2>&1 | grep 'conntrack: labels:')
  [[ $labels == "ok     conntrack: labels: available"* ]] && ok ||
    fail "the label_space chain did not give conntracks labels: $labels"
  nsx nft delete table inet ftpalg
fi

out=$(nsx "$RULES" install 2>&1) || fail "install: $out"
if ((has_queue)); then
  grep -q 'backend nft' <<<"$out" && nsx nft list table inet ftpalg >/dev/null 2>&1 &&
    ok || fail "auto did not pick nft although the kernel has nft_queue: $out"
else
  grep -q 'backend iptables' <<<"$out" && ok || fail "auto did not fall back to iptables: $out"
  ! nsx nft list table inet ftpalg >/dev/null 2>&1 && ok || fail "backend iptables left a table inet ftpalg"
  saved=$(nsx iptables-save 2>/dev/null)
  n=$(grep -c -- '--comment ftpalg' <<<"$saved")
  ((n == 4)) && ok || fail "iptables backend: $n ftpalg rules in iptables-save, want 4"
  for want in '-A PREROUTING -p tcp -m tcp --dport 21 -m comment --comment ftpalg -j NFQUEUE --queue-num 0 --queue-bypass' \
    '-A PREROUTING -p tcp -m tcp --sport 21 -m comment --comment ftpalg -j NFQUEUE --queue-num 0 --queue-bypass' \
    '-A PREROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m set --match-set ftpalg-pend4 dst,dst -m comment --comment ftpalg -j NFQUEUE --queue-num 1 --queue-bypass' \
    '-A PREROUTING -p tcp -m tcp --dport 21 -m connlabel --label 127 -m comment --comment ftpalg'; do
    grep -qxF -- "$want" <<<"$(sed 's/--label "127"/--label 127/' <<<"$saved")" && ok || fail "iptables backend lacks: $want"
  done
  if out=$(nsx "$RULES" install --backend nft 2>&1); then
    fail "--backend nft succeeded on a kernel without nft_queue"
  else
    grep -q 'nft_queue' <<<"$out" && ok || fail "--backend nft: unclear error: $out"
  fi
fi
# ---- 4b. the nft backend's flow, live: this kernel has no nft_queue, so
# through an nft that loads every "queue num N bypass" as nothing: auto picks
# nft; from the iptables install above, the control and label rules leave
# iptables (the data-SYN rule stays) for table inet ftpalg; status shows the
# table; --backend iptables brings the four rules back and deletes the table;
# remove deletes both.
if ((has_queue == 0)); then
  cat >"$tmp/nft" <<'SH'
#!/bin/bash
# nft, with every "queue num N bypass" taken out of what it loads (-f).
if [[ " $* " == *" -f "* ]]; then
  n=$#
  file=${!n}
  args=("${@:1:n-1}")
  [[ $file == - ]] && file=/dev/stdin
  sed -E 's/ queue num [0-9]+ bypass//' "$file" | exec nft "${args[@]}" -
fi
exec nft "$@"
SH
  chmod +x "$tmp/nft"
  export FTPALG_NFT=$tmp/nft
  out=$(nsx "$RULES" install 2>&1) || fail "install (nft backend): $out"
  grep -q 'installed (backend nft' <<<"$out" && ok || fail "auto did not pick nft where nft loads queue statements: $out"
  n=$(nsx nft list table inet ftpalg 2>/dev/null | grep -c 'comment "ftpalg"')
  ((n == 3)) && ok || fail "nft backend: $n ftpalg rules in table inet ftpalg, want 3"
  saved=$(nsx iptables-save 2>/dev/null | grep -- '--comment ftpalg')
  [[ $(grep -c . <<<"$saved") == 1 && $saved == *'--match-set ftpalg-pend4 dst,dst'* ]] && ok ||
    fail "nft backend: iptables should keep only the data-SYN rule, has: $saved"
  grep -q '^== nft table inet ftpalg' <<<"$(nsx "$RULES" status 2>&1)" && ok || fail "status does not show the nft table"
  out=$(nsx "$RULES" install --backend iptables 2>&1) || fail "install --backend iptables: $out"
  n=$(nsx iptables-save 2>/dev/null | grep -c -- '--comment ftpalg')
  ((n == 4)) && ! nsx nft list table inet ftpalg >/dev/null 2>&1 && ok ||
    fail "back to iptables: $n ftpalg rules (want 4), table inet ftpalg $(nsx nft list table inet ftpalg >/dev/null 2>&1 && echo kept || echo gone)"
  nsx "$RULES" install >/dev/null 2>&1 || fail "install (nft backend, again)"
  nsx "$RULES" remove >/dev/null 2>&1 || fail "remove (nft backend)"
  n=$(nsx iptables-save 2>/dev/null | grep -c -- '--comment ftpalg')
  ((n == 0)) && ! nsx nft list table inet ftpalg >/dev/null 2>&1 && ok || fail "remove left $n iptables rules or the nft table"
  unset FTPALG_NFT
  nsx "$RULES" install >/dev/null 2>&1 || fail "install (iptables backend, again)"
fi

nsx nft -f - <<<'table inet fw { ct helper ftp-std { type "ftp" protocol tcp; }; }'
out=$(nsx "$RULES" install 2>&1)
grep -q 'WARNING: nft ruleset has a kernel FTP helper' <<<"$out" && ok || fail "no warning for an nft ct helper of type ftp: $out"
nsx nft delete table inet fw

# ---- 5. ftpalgd --check: its exit status and the rules it compares -------------
# (ftpalgd(8), CHECK REPORT: 0 ready, 1 not ready, 2 bad configuration)
check() { # expected-status label grep-pattern args...
  local want=$1 label=$2 pat=$3 rc
  shift 3
  out=$(nsx "$DAEMON" --check "$@" 2>&1)
  rc=$?
  if ((rc != want)); then
    fail "ftpalgd --check $* ($label): exit $rc, want $want:"; sed 's/^/  | /' <<<"$out"
  elif [[ -n $pat ]] && ! grep -qE -- "$pat" <<<"$out"; then
    fail "ftpalgd --check $* ($label): no line matching '$pat':"; sed 's/^/  | /' <<<"$out"
  else
    ok
  fi
}
if [[ ! -x $DAEMON ]]; then
  fail "$DAEMON missing (make all)"
else
  check 0 "rules as configured" '^ok     rules: match ftpalgd.s queues 0 and 1 and control ports 21$'
  check 0 "the last line is the verdict" '^ready$'
  check 1 "another queue" '^FAIL   rules: control packets go to queue 0, ftpalgd reads queue 4' --queue 4
  check 1 "other ports" '^FAIL   rules: match control ports 21, ftpalgd.s control ports are 21,2121' \
    --control-port 21 --control-port 2121
  printf 'queue 4\n' >"$tmp/q4.conf"
  nsx "$RULES" install --config "$tmp/q4.conf" >/dev/null 2>&1 || fail "install --config q4.conf"
  check 0 "rules from the same config file" '^ok     rules: match ftpalgd.s queues 4 and 5' --config "$tmp/q4.conf"
  nsx "$RULES" install >/dev/null 2>&1
  nsx nft -f - <<<'table inet fw { ct helper ftp-std { type "ftp" protocol tcp; }; chain pre { type filter hook prerouting priority filter; tcp dport 21 ct helper set "ftp-std"; }; }'
  check 1 "nft ct helper of type ftp" '^FAIL   kernel FTP helper: attached: nft table inet fw: ct helper "ftp-std"'
  check 1 "verdict" '^not ready$'
  nsx nft delete table inet fw
  nsx iptables -w -t raw -A PREROUTING -p tcp --dport 2121 -j CT --helper ftp
  check 1 "iptables CT --helper ftp" '^FAIL   kernel FTP helper: attached: -A PREROUTING .*--helper ftp'
  nsx iptables -w -t raw -D PREROUTING -p tcp --dport 2121 -j CT --helper ftp
  check 2 "bad option" '' --queue 70000
  check 2 "bad config file" '' --config "$tmp/bad.conf"
fi
nsx "$RULES" remove >/dev/null 2>&1 || fail "remove exited non-zero"
left=$(nsx iptables-save 2>/dev/null | grep -c -- '--comment ftpalg')
((left == 0)) && ! nsx nft list table inet ftpalg >/dev/null 2>&1 && ok || fail "remove left $left ftpalg rules"

echo "rules: $checks passed, $fails failed"
((fails == 0))
