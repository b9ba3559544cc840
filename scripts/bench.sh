#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ftpalg benchmarks (issue 5), run by `make bench` after it built everything
# optimised into build/bench. Prints one table and writes BENCHMARKS.md.
#
#   scripts/bench.sh [BUILD_DIR]      (default build/bench)
#
# 1 replay vs a bare libpcap loop (bench capture; real sessions: bench/
#   gen_real_capture over pcaps/public), peak RSS, engine alone
#                                          2 live sessions kernel vs ftpalgd
# 3 added latency per control packet       4 queue throughput (batch on/off)
# 5 sessions vs memory, lookup cost        + callgrind profile of the replay
#
# Live parts (2-4) need root and run only inside the namespaces of
# tests/e2e/lib.sh (fa<pid>-*), torn down on exit. Knobs: BENCH_REPS (3),
# BENCH_SESSIONS (100), BENCH_PACKETS (1000000), BENCH_OUT (BENCHMARKS.md),
# BENCH_PARTS (default "replay scale sessions latency throughput profile").
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
B=$(cd "${1:-$REPO/build/bench}" && pwd)
REPS=${BENCH_REPS:-3}
NSESS=${BENCH_SESSIONS:-100}
NPKT=${BENCH_PACKETS:-1000000}
OUT_MD=${BENCH_OUT:-$REPO/BENCHMARKS.md}
PARTS=${BENCH_PARTS:-replay scale sessions latency throughput profile}
W=$B/run
mkdir -p "$W"
T_BEGIN=$SECONDS

say() { printf 'bench: %s\n' "$*" >&2; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
kv() { grep -o "$1=[^ ]*" | head -1 | cut -d= -f2; }  # KEY < "k=v k=v"
now_ns() { date +%s%N; }

ROWS=()    # "section|measure|figure|baseline|ratio|target|ok"
DETAILS=() # markdown lines
row() { ROWS+=("$1|$2|$3|$4|$5|$6|$7"); }
detail() { DETAILS+=("$*"); }

# --------------------------------------------------------- 1. replay --------
# REPS paired runs of the bare loop and ftpalg-replay over one capture; each
# under /usr/bin/time for its peak RSS. Sets PAIR_* for the caller.
replay_pair() { # capture label replay-args...
  local cap=$1 label=$2 i t0 t1; shift 2
  local loop_t=() rep_t=() loop_m=() rep_m=() loop_c=() rep_c=() tcpd_t=() tcpd_m=()
  for ((i = 0; i < REPS; i++)); do
    t0=$(now_ns)
    /usr/bin/time -f '%M %U %S' -o "$W/loop.rss" "$B/pcap_loop" "$cap" "$W/loop.pcap" 2>/dev/null || return 1
    t1=$(now_ns)
    loop_t+=("$(calc "($t1 - $t0) / 1e9" 4)"); loop_m+=("$(tail -1 "$W/loop.rss" | cut -d' ' -f1)")
    loop_c+=("$(tail -1 "$W/loop.rss" | awk '{ print $2 + $3 }')")
    t0=$(now_ns)
    /usr/bin/time -f '%M %U %S' -o "$W/replay.rss" "$B/ftpalg-replay" "$@" "$cap" "$W/replay-$label.pcap" \
      2>"$W/replay-$label.txt" || { cat "$W/replay-$label.txt" >&2; return 1; }
    t1=$(now_ns)
    rep_t+=("$(calc "($t1 - $t0) / 1e9" 4)"); rep_m+=("$(tail -1 "$W/replay.rss" | cut -d' ' -f1)")
    rep_c+=("$(tail -1 "$W/replay.rss" | awk '{ print $2 + $3 }')")
    # The issue's own reference: tcpdump -r IN -w OUT (no fsync; more code).
    if command -v tcpdump >/dev/null; then
      t0=$(now_ns)
      /usr/bin/time -f %M -o "$W/tcpdump.rss" tcpdump -r "$cap" -w "$W/tcpdump.pcap" 2>/dev/null || return 1
      t1=$(now_ns)
      tcpd_t+=("$(calc "($t1 - $t0) / 1e9" 4)"); tcpd_m+=("$(tail -1 "$W/tcpdump.rss")")
    fi
  done
  PAIR_LT=$(printf '%s\n' "${loop_t[@]}" | median); PAIR_RT=$(printf '%s\n' "${rep_t[@]}" | median)
  PAIR_LM=$(printf '%s\n' "${loop_m[@]}" | median); PAIR_RM=$(printf '%s\n' "${rep_m[@]}" | median)
  PAIR_DETAIL="ftpalg-replay wall times (s): ${rep_t[*]}, CPU time (user + sys, all threads, s): ${rep_c[*]}; bare loop (bench/pcap_loop: pcap_next_ex + pcap_dump + fsync): wall ${loop_t[*]}, CPU ${loop_c[*]}; peak RSS (KiB) replay ${rep_m[*]}, loop ${loop_m[*]}"
  if ((${#tcpd_t[@]})); then
    PAIR_DETAIL+="; for reference, tcpdump -r IN -w OUT (the issue's baseline): wall ${tcpd_t[*]} s, peak RSS ${tcpd_m[*]} KiB"
  fi
  rm -f "$W/tcpdump.pcap"
}

# The rows of one replay_pair: speed ratio and peak RSS against the loop.
replay_rows() { # label bytes
  local label=$1 bytes=$2 lpps rpps ratio mr
  lpps=$(calc "$NPKT / $PAIR_LT" 0); rpps=$(calc "$NPKT / $PAIR_RT" 0)
  ratio=$(calc "$rpps / $lpps" 2)
  row replay "ftpalg-replay packets/s (MB/s), $label" "$rpps ($(calc "$bytes / $PAIR_RT / 1e6" 0) MB/s)" \
    "$lpps ($(calc "$bytes / $PAIR_LT / 1e6" 0) MB/s) bare libpcap loop" "$ratio" ">= 0.80" \
    "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.8) ? "yes" : "NO" }')"
  mr=$(calc "$PAIR_RM / $PAIR_LM" 2)
  row replay "peak RSS, $label" "$(calc "$PAIR_RM / 1024" 1) MiB" "$(calc "$PAIR_LM / 1024" 1) MiB bare loop" \
    "$mr" "<= 2.00" "$(awk -v r="$mr" 'BEGIN { print (r <= 2) ? "yes" : "NO" }')"
}

bench_replay() {
  say "1. replay: generating $NPKT packets over 10000 sessions"
  local cap=$B/bench-1m.pcap half=$B/bench-half.pcap real=$B/real-1m.pcap i
  "$B/gen_capture" --out "$cap" --packets "$NPKT" --sessions 10000 --concurrent 1000 || return 1
  "$B/gen_capture" --out "$half" --packets $((NPKT / 2)) --sessions 10000 --concurrent 1000 2>/dev/null || return 1
  # Real sessions: the control packets of every public capture replayed with
  # the default flags (the port-443 one needs --control-port 443; the
  # gzipped one is not read by plain libpcap), copies interleaved.
  local reals=() f
  for f in "$REPO"/pcaps/public/*.pcap "$REPO"/pcaps/public/*.pcapng; do
    [[ $(cat "${f%.*}.args" 2>/dev/null) == "--public-ip 203.0.113.1 --public-ip 2001:db8:1::1" ]] && reals+=("$f")
  done
  "$B/gen_real_capture" --out "$real" --packets "$NPKT" --concurrent 1000 "${reals[@]}" 2>"$W/gen_real.txt" || { cat "$W/gen_real.txt" >&2; return 1; }
  local bytes rbytes; bytes=$(stat -c %s "$cap"); rbytes=$(stat -c %s "$real")
  replay_pair "$cap" bench --public-ip 203.0.113.1 || return 1
  replay_rows "bench capture" "$bytes"
  local detail_bench=$PAIR_DETAIL
  replay_pair "$real" real --public-ip 203.0.113.1 --public-ip 2001:db8:1::1 || return 1
  replay_rows "real sessions" "$rbytes"
  local detail_real=$PAIR_DETAIL
  # Allocations of the whole replay process: difference of two captures (the
  # shorter is a prefix of the longer), so start-up and warm-up cancel out.
  local a_full a_half
  LD_PRELOAD=$B/malloc_count.so MALLOC_COUNT_OUT=$W/mc_full "$B/ftpalg-replay" --public-ip 203.0.113.1 "$cap" "$W/r1.pcap" 2>/dev/null
  LD_PRELOAD=$B/malloc_count.so MALLOC_COUNT_OUT=$W/mc_half "$B/ftpalg-replay" --public-ip 203.0.113.1 "$half" "$W/r2.pcap" 2>/dev/null
  a_full=$(awk '{ print $2 }' "$W/mc_full"); a_half=$(awk '{ print $2 }' "$W/mc_half")
  local rep_apk; rep_apk=$(calc "($a_full - $a_half) / ($NPKT - $NPKT / 2)" 4)
  # The engine alone, in memory, counting sink: ns/packet and allocations
  # over the second half of the capture.
  local e=() line
  for ((i = 0; i < REPS; i++)); do
    line=$(LD_PRELOAD=$B/malloc_count.so MALLOC_COUNT_OUT=/dev/null "$B/engine_bench" replay "$cap" 203.0.113.1) || return 1
    e+=("$(kv ns_per_packet <<<"$line")")
  done
  local eng_ns eng_apk; eng_ns=$(printf '%s\n' "${e[@]}" | median); eng_apk=$(kv allocs_per_packet <<<"$line")
  row replay "engine alone (in memory) ns/packet" "$eng_ns ns ($(calc "1e9 / $eng_ns" 0) packets/s)" "-" "-" "<= 100 ns" \
    "$(awk -v a="$eng_ns" 'BEGIN { print (a <= 100) ? "yes" : "NO" }')"
  row replay "heap allocations/packet, engine, steady state" "$eng_apk" "0" "-" "0" \
    "$(awk -v a="$eng_apk" 'BEGIN { print (a == 0) ? "yes" : "NO" }')"
  row replay "heap allocations/packet, ftpalg-replay process" "$rep_apk" "0" "-" "0 (engine)" \
    "$(awk -v a="$rep_apk" 'BEGIN { print (a == 0) ? "yes" : "see note" }')"
  detail "### 1. Replay"
  detail ""
  detail "Bench capture: $NPKT packets, $(calc "$bytes / 1e6" 1) MB, 10000 control sessions (1000 open at a time; per session: handshake, login, 8 rounds of PORT/200, LIST/150/226, PASV/227, RETR/150/226, one PORT retransmitted and answered with a D-SACK every 3rd round, one PORT split across two segments per session, QUIT/FIN). Generated by bench/gen_capture into build/bench (not committed)."
  detail ""
  detail "ftpalg-replay reads ahead and writes behind on an I/O thread of its own, which also sums the checksums of changed packets (src/replay/record_pipeline.cc); the engine runs on the main thread. Its wall time is therefore about the engine thread's when a second core is free; its CPU time (both threads) is given beside it. engine_bench (the engine alone) still sums checksums in the engine."
  detail ""
  detail "- $detail_bench"
  detail "- replay summary: $(grep -E '^(rewrites|expectations|packets):' "$W/replay-bench.txt" | tr '\n' ';')"
  detail ""
  detail "Real sessions: $NPKT packets, $(calc "$rbytes / 1e6" 1) MB: $(sed 's/^gen_real_capture: [^:]*: [0-9]* packets, //' "$W/gen_real.txt" | tail -1) (bench/gen_real_capture: the FTP control packets of ${#reals[@]} public captures in pcaps/public, copies with their client ports moved, 1000 open at a time, one packet of each in turn; built into build/bench, not committed)."
  detail ""
  detail "- $detail_real"
  detail "- replay summary: $(grep -E '^(rewrites|expectations|packets|refusals):' "$W/replay-real.txt" | tr '\n' ';')"
  detail ""
  detail "- engine alone (bench/engine_bench replay, bench capture, counting sink, no I/O) ns/packet: ${e[*]}"
  detail "- allocations: ftpalg-replay $a_full ($NPKT packets) vs $a_half ($((NPKT / 2)) packets) -> $rep_apk per packet. These are RecordingSink's (replay's bookkeeping of the active expectations, ~77k installed), not the engine's: the engine alone does $eng_apk allocations per packet over the second half of the capture."
  detail ""
}

# ---------------------------------------------------------- 5. scale --------
bench_scale() {
  say "5. scale: 10k / 100k / 1M sessions"
  detail "### 5. Scale"
  detail ""
  detail "bench/engine_bench scale N: one Engine sized for N (max_sessions = N), its session memory advised for transparent huge pages before the first packet as ftpalgd does (adapters/huge_pages), N client SYNs, then 2M bare ACKs of uniformly random held sessions; anonymous RSS (resident - shared in /proc/self/statm: library code pages first run during the inserts are not session memory). Per size, $REPS runs (median):"
  detail ""
  detail "| sessions | RSS growth per session (B) | all engine memory / N (B) | Engine::BytesPerSession() | insert ns | lookup ns/packet | one Expire() pass (ms) |"
  detail "|---|---|---|---|---|---|---|"
  local n i line held bps all eb ins lk ex base_lk=""
  for n in 10000 100000 1000000; do
    local lks=() exs=() inss=()
    for ((i = 0; i < REPS; i++)); do
      line=$("$B/engine_bench" scale "$n") || { row scale "$n sessions held" "FAILED" "-" "-" "1M held" "NO"; return 1; }
      lks+=("$(kv lookup_ns <<<"$line")"); exs+=("$(kv expire_ms <<<"$line")"); inss+=("$(kv insert_ns <<<"$line")")
    done
    held=$(kv held <<<"$line"); bps=$(kv bytes_per_session_rss <<<"$line"); all=$(kv bytes_per_session_all <<<"$line")
    eb=$(kv engine_bytes_per_session <<<"$line")
    lk=$(printf '%s\n' "${lks[@]}" | median); ex=$(printf '%s\n' "${exs[@]}" | median); ins=$(printf '%s\n' "${inss[@]}" | median)
    [[ -z $base_lk ]] && base_lk=$lk
    detail "| $n | $bps | $all | $eb | $ins | $lk | $ex |"
    row scale "bytes/session at $n held ($held)" "$bps B (BytesPerSession $eb)" "256 B" "$(calc "$bps / 256" 2)" "<= 256 B" \
      "$(awk -v b="$bps" 'BEGIN { print (b <= 256) ? "yes" : "NO" }')"
    row scale "lookup ns/packet at $n" "$lk ns" "$base_lk ns at 10000" "$(calc "$lk / $base_lk" 2)" "<= 2.00" \
      "$(awk -v r="$(calc "$lk / $base_lk" 2)" 'BEGIN { print (r <= 2) ? "yes" : "NO" }')"
    row scale "Expire() pass at $n" "$ex ms" "-" "-" "-" "-"
  done
  detail ""
}

# ---------------------------------------------------------- callgrind -------
bench_profile() {
  command -v valgrind >/dev/null || { detail "(valgrind missing: no profile)"; return 0; }
  say "profile: callgrind on a 100k-packet capture"
  "$B/gen_capture" --out "$B/bench-100k.pcap" --packets 100000 --sessions 1000 --concurrent 100 2>/dev/null
  valgrind --tool=callgrind --callgrind-out-file="$W/callgrind.out" "$B/ftpalg-replay" \
    --public-ip 203.0.113.1 "$B/bench-100k.pcap" "$W/cg.pcap" >/dev/null 2>&1 || return 0
  detail "### Profile (callgrind, ftpalg-replay on 100k packets / 1000 sessions; instructions, exclusive)"
  detail ""
  detail '```'
  while IFS= read -r l; do detail "$l"; done < <(callgrind_annotate --threshold=95 "$W/callgrind.out" 2>/dev/null |
    grep -E '^ *[0-9,]+ \([ 0-9.]+%\)' | head -22 | sed -E 's#/[^ ]*/(src|include|bench)/#\1/#; s#\[/[^]]*\]##')
  detail '```'
  detail ""
}

# ---------------------------------------------------------- live lab --------
LIVE_OK=0
live_setup() {
  [[ $(id -u) -eq 0 ]] || { say "not root: live benchmarks skipped"; return 1; }
  local tool
  for tool in ip iptables conntrack vsftpd curl taskset; do
    command -v "$tool" >/dev/null || { say "$tool missing: live benchmarks skipped"; return 1; }
  done
  FTPALGD=$B/ftpalgd
  export FTPALGD
  # shellcheck source=tests/e2e/lib.sh
  source "$REPO/tests/e2e/lib.sh"
  trap 'lab_down' EXIT
  trap 'exit 130' INT TERM
  lab_up && servers_start || return 1
  # The ping-pong server's own address; a sink address for the generator.
  ip -n "$NS_SRV" addr add 203.0.113.5/24 dev eth0
  gw iptables -w -I FORWARD 1 -d 203.0.113.9 -p tcp --dport 21 -m comment --comment fa-bench-sink -j DROP
  LIVE_OK=1
}

# One ALG up at a time. ftpalgd at the operator's default log level.
use_alg() { # kernel|ftpalgd|none [extra ftpalgd args]
  ALG=$1 FTPALGD_ARGS="--log-level info ${2:-}"
  gw conntrack -F >/dev/null 2>&1
  alg_start
}
drop_alg() { alg_stop; gw conntrack -F >/dev/null 2>&1; sleep 0.3; }

# N curl sessions from the client namespace, one shell for all of them.
# Prints "seconds failures attempted" (a sequential run stops after 10
# failures: each costs a connect timeout).
run_sessions() { # active|passive seq|conc N
  local mode=$1 how=$2 n=$3 opts
  if [[ $mode == active ]]; then opts="--ftp-port - --disable-eprt"; else opts="--disable-epsv --no-ftp-skip-pasv-ip"; fi
  local r
  r=$(ip netns exec "$NS_CLI" timeout 200 bash -c '
    opts=$1 how=$2 n=$3 url=$4; fail=0
    t0=$(date +%s%N)
    if [[ $how == seq ]]; then
      for ((i = 0; i < n; i++)); do
        curl -q -sS --connect-timeout 3 --max-time 10 $opts -o /dev/null "$url" 2>/dev/null || fail=$((fail + 1))
        ((fail >= 10)) && { i=$((i + 1)); break; }
      done
    else
      pids=()
      for ((i = 0; i < n; i++)); do
        curl -q -sS --connect-timeout 3 --max-time 10 $opts -o /dev/null "$url" 2>/dev/null & pids+=($!)
      done
      for p in "${pids[@]}"; do wait "$p" || fail=$((fail + 1)); done
    fi
    t1=$(date +%s%N)
    [[ $how == seq ]] || i=$n
    awk -v a="$t0" -v b="$t1" -v f="$fail" -v n="$i" "BEGIN { printf \"%.4f %d %d\n\", (b - a) / 1e9, f, n }"
  ' _ "$opts" "$how" "$n" "ftp://$SRV4/hello.txt")
  [[ $r =~ ^[0-9.]+\ [0-9]+\ [0-9]+$ ]] || r="200 $n $n"  # killed by the timeout
  echo "$r"
}

bench_sessions() {
  say "2. live sessions: $NSESS sequential and concurrent, active and passive, kernel vs ftpalgd"
  declare -A TS FS STOPPED
  local rep alg mode how r secs nfail tried
  for ((rep = 0; rep < REPS; rep++)); do
    for alg in kernel ftpalgd; do
      use_alg "$alg" || { say "cannot start $alg"; return 1; }
      for how in seq conc; do
        for mode in active passive; do
          r=$(run_sessions "$mode" "$how" "$NSESS")
          read -r secs nfail tried <<<"$r"
          TS[$alg.$how.$mode]+="$secs "
          FS[$alg.$how.$mode]=$((${FS[$alg.$how.$mode]:-0} + nfail))
          ((tried < NSESS)) && STOPPED[$alg.$how.$mode]+="run $((rep + 1)) stopped after $tried sessions; "
        done
      done
      [[ $alg == ftpalgd && -f $ALG_LOG ]] && cp "$ALG_LOG" "$W/ftpalgd-sessions.log"
      drop_alg
    done
  done
  detail "### 2. Live sessions"
  detail ""
  detail "curl RETR of a 26-byte file from vsftpd ($SRV4) by the client $CLI4 behind MASQUERADE; active = PORT, passive = PASV. Wall time of $NSESS sessions (sequential: one after another; concurrent: all started at once), $REPS runs each, kernel and ftpalgd alternating:"
  detail ""
  local k a m
  for how in seq conc; do
    for mode in active passive; do
      k=$(tr ' ' '\n' <<<"${TS[kernel.$how.$mode]}" | grep . | median)
      a=$(tr ' ' '\n' <<<"${TS[ftpalgd.$how.$mode]}" | grep . | median)
      local label; label="$NSESS $([[ $how == seq ]] && echo sequential || echo concurrent) $mode"
      row sessions "$label: ftpalgd s (failures)" "$a s (${FS[ftpalgd.$how.$mode]})" \
        "$k s (${FS[kernel.$how.$mode]}) kernel helper" "$(calc "$a / $k" 2)" "<= 1.20, 0 failures" \
        "$(awk -v r="$(calc "$a / $k" 2)" -v f="${FS[ftpalgd.$how.$mode]}" 'BEGIN { print (r <= 1.2 && f == 0) ? "yes" : "NO" }')"
      detail "- $label: kernel ${TS[kernel.$how.$mode]}s; ftpalgd ${TS[ftpalgd.$how.$mode]}s; failures kernel ${FS[kernel.$how.$mode]}, ftpalgd ${FS[ftpalgd.$how.$mode]} ${STOPPED[ftpalgd.$how.$mode]:-}${STOPPED[kernel.$how.$mode]:-}"
    done
  done
  if [[ -f $W/ftpalgd-sessions.log ]]; then
    detail "- ftpalgd's scheduling (tests/e2e/lib.sh starts it as the shipped unit does, SCHED_FIFO; FTPALG_E2E_SCHED=other: as an ordinary process): \`$(grep -m1 -o 'scheduling: [A-Z_]* [a-z]* -\?[0-9]*' "$W/ftpalgd-sessions.log")\`"
    detail "- ftpalgd log of the last run: $(grep -c ' started' "$W/ftpalgd-sessions.log") sessions started, $(grep -c 'REWRITE' "$W/ftpalgd-sessions.log") REWRITE, $(grep -c 'EXPECT' "$W/ftpalgd-sessions.log") EXPECT, $(grep -ci 'not installed' "$W/ftpalgd-sessions.log") 'not installed', $(grep -c 'REFUSED' "$W/ftpalgd-sessions.log") REFUSED lines; first warnings:"
    detail '```'
    while IFS= read -r l; do detail "$l"; done < <(grep -E 'WARN|not installed|REFUSED|busy' "$W/ftpalgd-sessions.log" | head -5 | cut -c1-220)
    detail '```'
  fi
  detail ""
}

# --------------------------------------------------------- 3. latency ------
pingpong_run() { # -> "median p99" (median over REPS runs of each)
  local i line meds=() p99s=()
  for ((i = 0; i < REPS; i++)); do
    line=$(ip netns exec "$NS_CLI" timeout 60 taskset -c 0 "$B/pingpong" client 203.0.113.5 21 3000 300) || { echo "nan nan"; return 1; }
    meds+=("$(kv median_us <<<"$line")"); p99s+=("$(kv p99_us <<<"$line")")
  done
  echo "$(printf '%s\n' "${meds[@]}" | median) $(printf '%s\n' "${p99s[@]}" | median) ${meds[*]}"
}

bench_latency() {
  say "3. latency: ping-pong over port 21, everything on CPU 0"
  local srv_pid
  srv_pid=$(start_bg "$W/pingpong-server.log" "$NS_SRV" taskset -c 0 "$B/pingpong" server 203.0.113.5 21)
  wait_listen srv "203.0.113.5:21" 21 5 || { say "pingpong server did not start"; return 1; }
  local none kern bare alg
  use_alg none; none=$(pingpong_run); drop_alg
  use_alg kernel; kern=$(pingpong_run); drop_alg
  # Bare NFQUEUE: ftpalgd's rules, an accept-all consumer instead of ftpalgd.
  gw timeout 20 "$FTPALG_RULES" install >>"$W/rules.log" 2>&1
  local nfq_pid; nfq_pid=$(start_bg "$W/nfq_accept.log" "$NS_GW" taskset -c 0 "$B/nfq_accept" 0)
  sleep 0.5
  bare=$(pingpong_run)
  stop_pid "$nfq_pid" TERM
  gw timeout 20 "$FTPALG_RULES" remove >>"$W/rules.log" 2>&1
  use_alg ftpalgd && taskset -pc 0 "$ALG_PID" >/dev/null; alg=$(pingpong_run); drop_alg
  local n0 k0 b0 a0
  n0=${none%% *} k0=${kern%% *} b0=${bare%% *} a0=${alg%% *}
  local add_bare add_alg
  add_bare=$(calc "($b0 - $n0) / 2" 1); add_alg=$(calc "($a0 - $n0) / 2" 1)
  row latency "RTT no ALG, median / p99" "$n0 / $(cut -d' ' -f2 <<<"$none") us" "-" "-" "-" "-"
  row latency "RTT kernel helper, median / p99" "$k0 / $(cut -d' ' -f2 <<<"$kern") us" "$n0 us no ALG" "$(calc "$k0 / $n0" 2)" "-" "-"
  row latency "RTT bare NFQUEUE (nfq_accept), median / p99" "$b0 / $(cut -d' ' -f2 <<<"$bare") us" "$n0 us no ALG" "$(calc "$b0 / $n0" 2)" "-" "-"
  row latency "RTT ftpalgd, median / p99" "$a0 / $(cut -d' ' -f2 <<<"$alg") us" "$n0 us no ALG" "$(calc "$a0 / $n0" 2)" "-" "-"
  row latency "added per queued packet: ftpalgd" "$add_alg us" "$add_bare us bare NFQUEUE" \
    "$(calc "$add_alg / ($add_bare > 0.05 ? $add_bare : 0.05)" 2)" "<= 2.0" \
    "$(awk -v a="$add_alg" -v b="$add_bare" 'BEGIN { print (a <= 2 * b) ? "yes" : "NO" }')"
  detail "### 3. Added latency per control packet"
  detail ""
  detail "bench/pingpong: one TCP connection $CLI4 -> 203.0.113.5:21 through the gateway (MASQUERADE), server greets with 220, then 3000 timed \"NOOP\" / \"200\" round trips after 300 warm-up, TCP_NODELAY; client, server and the queue consumer pinned to CPU 0 (the same-CPU case of kernel-feasibility.md §6). Each round trip queues 2 packets (c->s in raw PREROUTING, s->c in mangle PREROUTING), so added latency per queued packet = (RTT - RTT without ALG) / 2. Bare NFQUEUE = the same ftpalg-rules with bench/nfq_accept (libnetfilter_queue, copy mode, one verdict per packet) instead of ftpalgd. Medians of the $REPS runs (run medians in us):"
  detail ""
  detail "- no ALG: ${none#* * }; kernel: ${kern#* * }; bare NFQUEUE: ${bare#* * }; ftpalgd: ${alg#* * }"
  detail ""
  stop_pid "$srv_pid" TERM
}

# ------------------------------------------------------ 4. throughput ------
alg_received() { # -> "received enobufs" of the running ftpalgd (SIGUSR1)
  local n0 i l
  n0=$(grep -c 'counters: queue received=' "$ALG_LOG")
  kill -USR1 "$ALG_PID" 2>/dev/null
  # Wait (bounded) for the new counters line: a busy daemon answers late.
  for ((i = 0; i < 50; i++)); do
    sleep 0.1
    (($(grep -c 'counters: queue received=' "$ALG_LOG") > n0)) && break
  done
  l=$(grep 'counters: queue received=' "$ALG_LOG" | tail -1)
  echo "$(kv received <<<"$l") $(kv enobufs <<<"$l")"
}

ramp() { # label -> highest zero-loss achieved rate; details
  local label=$1 rate best=0 lossy=0 before after sent ach loss line anyloss=0
  for rate in 25000 50000 100000 150000 200000 300000 400000; do
    before=$(alg_received)
    line=$(ip netns exec "$NS_CLI" timeout 60 taskset -c 0 "$B/flood" "$CLI4" 203.0.113.9 "$rate" $((rate / 2)) 64) || break
    sleep 0.5
    after=$(alg_received)
    sent=$(kv sent <<<"$line"); ach=$(kv achieved_pps <<<"$line")
    loss=$((sent - (${after%% *} - ${before%% *})))
    detail "  - $label target $rate/s: sent $sent at $ach/s, ftpalgd received $((${after%% *} - ${before%% *})), lost $loss, ENOBUFS +$((${after##* } - ${before##* }))"
    if ((loss <= 0)); then
      awk -v a="$ach" -v b="$best" 'BEGIN { exit !(a > b) }' && best=$ach
      lossy=0
    else
      anyloss=1 lossy=$((lossy + 1)); ((lossy >= 2)) && break
    fi
  done
  echo "$best $anyloss" >"$W/ramp.$label"
}

bench_throughput() {
  say "4. queue throughput: ramp with bench/flood, ftpalgd on CPU 1, generator on CPU 0"
  detail "### 4. Queue throughput"
  detail ""
  detail "bench/flood in the client namespace (CPU 0) sends in-order \"NOOP\" segments over 64 flows to port 21 of a sink address (dropped in FORWARD after the queue), each step rate/2 packets at the target rate; ftpalgd (CPU 1, default queue-maxlen 4096, fail-open) counts what it received (SIGUSR1). Loss = sent - received (fail-open passes overflow unqueued). The ramp stops after two lossy steps. Steps:"
  detail ""
  local mode rep best anyloss loss_b=0 bests_b=() bests_n=()
  for ((rep = 0; rep < REPS; rep++)); do
    for mode in batch no-batch; do
      use_alg ftpalgd "$([[ $mode == no-batch ]] && echo --no-batch)" || return 1
      taskset -pc 1 "$ALG_PID" >/dev/null
      ramp "$mode"
      read -r best anyloss <"$W/ramp.$mode"
      [[ $mode == batch ]] && { bests_b+=("$best"); loss_b=$((loss_b + anyloss)); } || bests_n+=("$best")
      drop_alg
    done
  done
  local b n
  b=$(printf '%s\n' "${bests_b[@]}" | median); n=$(printf '%s\n' "${bests_n[@]}" | median)
  row throughput "highest zero-loss rate, batching on" "$b pkt/s" "100000 pkt/s" "$(calc "$b / 100000" 2)" ">= 100000/s, 1 core" \
    "$(awk -v r="$b" -v l="$loss_b" 'BEGIN { print (r >= 100000 * 0.98) ? "yes" : (l == 0 ? "not reached: generator-bound, no loss seen" : "NO") }')"
  row throughput "highest zero-loss rate, --no-batch" "$n pkt/s" "$b pkt/s batching on" "$(calc "$n / ($b > 0 ? $b : 1)" 2)" "-" "-"
  detail ""
  detail "Highest zero-loss achieved rate per run: batching on ${bests_b[*]}; --no-batch ${bests_n[*]}"
  detail ""
}

# ------------------------------------------------------------ report -------
write_report() {
  local cpu cores kernel date
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  cores=$(nproc)
  kernel=$(uname -r)
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  local table="| # | measure | figure | baseline (same run) | ratio | target | met |
|---|---|---|---|---|---|---|"
  local r IFS_=$IFS
  for r in "${ROWS[@]}"; do
    IFS='|' read -r s m f b ra t ok <<<"$r"
    table+=$'\n'"| $s | $m | $f | $b | $ra | $t | $ok |"
  done
  IFS=$IFS_
  echo
  echo "$table"
  echo
  {
    echo "# ftpalg benchmarks"
    echo
    echo "Written by \`make bench\` (scripts/bench.sh); every ratio is against a baseline measured in the same run."
    echo
    echo "- machine: $cpu, $cores cores, Linux $kernel"
    echo "- date: $date; wall time of the run: $((SECONDS - T_BEGIN)) s; load average at the end: $load (other engineers' jobs share this 2-core VM: timings are noisy, each figure is the median of $REPS runs)"
    echo "- build: -O2 -g -DNDEBUG into build/bench"
    echo
    echo "$table"
    echo
    local d
    for d in "${DETAILS[@]}"; do echo "$d"; done
    [[ -f $REPO/bench/analysis.md ]] && cat "$REPO/bench/analysis.md"
    [[ -f $REPO/bench/impaired.md ]] && cat "$REPO/bench/impaired.md"   # tests/e2e/impaired.sh figures
  } >"$OUT_MD"
  say "wrote $OUT_MD ($((SECONDS - T_BEGIN)) s)"
}

want() { [[ " $PARTS " == *" $1 "* ]]; }
want replay && { bench_replay || say "replay benchmark failed"; }
want scale && { bench_scale || say "scale benchmark failed"; }
if want sessions || want latency || want throughput; then
  if live_setup; then
    want sessions && { bench_sessions || say "session benchmark failed"; }
    want latency && { bench_latency || say "latency benchmark failed"; }
    want throughput && { bench_throughput || say "throughput benchmark failed"; }
  else
    row live "sessions / latency / throughput" "skipped (needs root)" "-" "-" "-" "-"
  fi
fi
want profile && bench_profile
write_report
