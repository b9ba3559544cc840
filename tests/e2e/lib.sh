# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2016
#
# ftpalg namespace lab: topology, gateway firewall, FTP servers, pluggable ALG,
# counters and assertions. Sourced by tests/e2e/run_all.sh, scripts/demo.sh and
# (later) the benchmark. Everything lives in network namespaces named
# "fa<pid>-*" and in one temp dir; nothing in the root namespace is changed.
#
#   source tests/e2e/lib.sh
#   trap lab_down EXIT        # always: kills our PIDs, deletes netns + temp dir
#   lab_up                    # namespaces, addresses, routes, sysctls, firewall
#   servers_start             # vsftpd (outside v4+v6, dmz) + pyftpdlib
#   alg_start                 # ALG=kernel | ftpalgd (default)
#   ... cli curl ..., case_begin NAME / case_end NAME NDATA
#   alg_stop; lab_down
#
# Topology (research/kernel-feasibility.md section 1):
#   cli  eth0 192.168.10.2/24 +10.7.0.2/24, fd00:10::2/64
#    |
#   gw   lan  192.168.10.1 +10.7.0.1, fd00:10::1      (ip_forward=1, v4+v6)
#        pub  203.0.113.1/24 +203.0.113.3, 2001:db8:1::1/64
#        dmz  192.168.20.1/24 +10.20.0.1/24
#    |                       |
#   srv  eth0 203.0.113.2 (vsftpd v4),           dmz eth0 192.168.20.2 +10.20.0.2
#             203.0.113.4 (pyftpdlib),                (vsftpd, default via gw)
#             2001:db8:1::2 (vsftpd v6)
#        only connected routes: no path to 192.168.x/10.x
#
# Knobs (environment): ALG=ftpalgd|kernel, FTPALGD_ARGS (extra daemon args),
# E2E_KEEP=1 (keep the temp dir), E2E_VERBOSE=1.
#
# Impaired lab (opt-in, LAB_IMPAIR=1; tests/e2e/impaired.sh): the same
# namespaces and addresses, but each of the three links (cli-lan, srv-pub,
# dmz-dmz) runs through build/tests/impair_bridge in a fifth namespace
# "fa<pid>-imp" (two veths per link, AF_PACKET), which drops, duplicates and
# delays (reorders) TCP frames in both directions; the end hosts (cli, srv,
# dmz) also drop TCP at random in INPUT and OUTPUT (iptables statistic).
#   cli eth0 <-> cl0 [imp: impair_bridge] cl1 <-> gw lan
#   srv eth0 <-> sv0 [imp: impair_bridge] sv1 <-> gw pub
#   dmz eth0 <-> dz0 [imp: impair_bridge] dz1 <-> gw dmz
# Profile knobs: IMPAIR_LOSS, IMPAIR_DUP (per bridge and direction),
# IMPAIR_DELAY_MIN_US / IMPAIR_DELAY_MAX_US (per frame, uniform: jitter that
# reorders), IMPAIR_HOST_LOSS (each end host, INPUT and OUTPUT). The bridges
# start with impair_start SEED (one derived seed per link) and stop with
# impair_stop (their counters go to $T/impair.log).

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${REPO:-$(cd "$E2E_LIB_DIR/../.." && pwd)}
PY=/usr/bin/python3            # Debian python with python3-pyftpdlib
ALG=${ALG:-ftpalgd}
FTPALGD=${FTPALGD:-$REPO/build/ftpalgd}
FTPALG_RULES=${FTPALG_RULES:-$REPO/scripts/ftpalg-rules}
FTPALGD_ARGS=${FTPALGD_ARGS:-}
# No /etc/ftpalg/ftpalgd.conf of the host in the lab unless asked for.
export FTPALGD_DEFAULT_CONFIG=${FTPALGD_DEFAULT_CONFIG:-}
export LC_ALL=C

P=${E2E_PREFIX:-fa$$}
NS_CLI=$P-cli NS_GW=$P-gw NS_SRV=$P-srv NS_DMZ=$P-dmz NS_IMP=$P-imp
LAB_NS=("$NS_CLI" "$NS_GW" "$NS_SRV" "$NS_DMZ")
LAB_IMPAIR=${LAB_IMPAIR:-0}
if ((LAB_IMPAIR == 1)); then LAB_NS+=("$NS_IMP"); fi
IMPAIR_BRIDGE=${IMPAIR_BRIDGE:-$REPO/build/tests/impair_bridge}
# Default profile: about 3 % loss end to end in each direction (0.5 % at each
# end host, 1 % on each of the two links a packet crosses), about 2 %
# duplicated, 0-10 ms of jitter per link.
IMPAIR_LOSS=${IMPAIR_LOSS:-0.01} IMPAIR_DUP=${IMPAIR_DUP:-0.01}
IMPAIR_DELAY_MIN_US=${IMPAIR_DELAY_MIN_US:-0} IMPAIR_DELAY_MAX_US=${IMPAIR_DELAY_MAX_US:-10000}
IMPAIR_HOST_LOSS=${IMPAIR_HOST_LOSS:-0.005}
IMPAIR_PIDS=()
T=""                           # temp dir, set by lab_up
LAB_PIDS=()                    # every long-running process we started
ALG_PID=""
LAB_IS_UP=0

# Addresses (one place, reused by tests and the benchmark).
CLI4=192.168.10.2 CLI4_GROW=10.7.0.2 CLI6=fd00:10::2
GW_LAN4=192.168.10.1 GW_PUB4=203.0.113.1 GW_PUB4B=203.0.113.3 GW_PUB6=2001:db8:1::1
SRV4=203.0.113.2 SRV6=2001:db8:1::2 PYSRV4=203.0.113.4
DMZ4=192.168.20.2 DMZ4_GROW=10.20.0.2

# Case selection: FILTERS holds the name globs a suite was given (none: all).
FILTERS=()
case_wanted() { # NAME -> 0 if selected by FILTERS
  ((${#FILTERS[@]} == 0)) && return 0
  local g
  for g in "${FILTERS[@]}"; do
    # shellcheck disable=SC2053
    [[ $1 == $g ]] && return 0
  done
  return 1
}
log()  { printf '%s\n' "$*" >&2; }
vlog() { [[ ${E2E_VERBOSE:-0} == 1 ]] && log "$@"; return 0; }
die()  { log "e2e: $*"; exit 1; }

cli() { ip netns exec "$NS_CLI" "$@"; }
gw()  { ip netns exec "$NS_GW" "$@"; }
srv() { ip netns exec "$NS_SRV" "$@"; }
dmz() { ip netns exec "$NS_DMZ" "$@"; }

# ---------------------------------------------------------------- topology --
lab_up() {
  T=$(mktemp -d /tmp/ftpalg-e2e.XXXXXX) || die "mktemp failed"
  chmod 755 "$T"
  mkdir -p "$T/home" "$T/cases"
  export HOME=$T/home            # lftp/wget/curl keep no state in root's home
  local ns
  for ns in "${LAB_NS[@]}"; do
    ip netns add "$ns" || die "ip netns add $ns"
    LAB_IS_UP=1
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.default.accept_ra=0 >/dev/null
  done
  # veths are created directly inside the namespaces (never in the root ns).
  if ((LAB_IMPAIR == 1)); then
    impair_links || die "impaired lab: link setup failed"
  else
    ip -n "$NS_CLI" link add eth0 type veth peer name lan netns "$NS_GW"
    ip -n "$NS_SRV" link add eth0 type veth peer name pub netns "$NS_GW"
    ip -n "$NS_DMZ" link add eth0 type veth peer name dmz netns "$NS_GW"
  fi

  ip -n "$NS_CLI" addr add $CLI4/24 dev eth0
  ip -n "$NS_CLI" addr add $CLI4_GROW/24 dev eth0
  ip -n "$NS_CLI" addr add $CLI6/64 dev eth0 nodad
  ip -n "$NS_GW" addr add $GW_LAN4/24 dev lan
  ip -n "$NS_GW" addr add 10.7.0.1/24 dev lan
  ip -n "$NS_GW" addr add fd00:10::1/64 dev lan nodad
  ip -n "$NS_GW" addr add $GW_PUB4/24 dev pub
  ip -n "$NS_GW" addr add $GW_PUB4B/24 dev pub
  ip -n "$NS_GW" addr add $GW_PUB6/64 dev pub nodad
  ip -n "$NS_GW" addr add 192.168.20.1/24 dev dmz
  ip -n "$NS_GW" addr add 10.20.0.1/24 dev dmz
  ip -n "$NS_SRV" addr add $SRV4/24 dev eth0
  ip -n "$NS_SRV" addr add $PYSRV4/24 dev eth0
  ip -n "$NS_SRV" addr add $SRV6/64 dev eth0 nodad
  ip -n "$NS_DMZ" addr add $DMZ4/24 dev eth0
  ip -n "$NS_DMZ" addr add $DMZ4_GROW/24 dev eth0
  for ns in "${LAB_NS[@]}"; do ip -n "$ns" link set eth0 up 2>/dev/null; done
  ip -n "$NS_GW" link set lan up; ip -n "$NS_GW" link set pub up; ip -n "$NS_GW" link set dmz up

  ip -n "$NS_CLI" route add default via $GW_LAN4
  ip -n "$NS_CLI" -6 route add default via fd00:10::1
  ip -n "$NS_DMZ" route add default via 192.168.20.1
  # srv: connected routes only (203.0.113.0/24, 2001:db8:1::/64).

  gw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
  fw_up || die "firewall setup failed"
  if ((LAB_IMPAIR == 1)); then impair_hosts_up || die "impaired lab: end-host loss rules failed"; fi
  gw sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=0 >/dev/null ||
    die "cannot set nf_conntrack_tcp_be_liberal=0 in the gateway namespace"

  # The outside server must not reach the private networks directly.
  if srv ip route get $CLI4 >/dev/null 2>&1 || srv ip route get $DMZ4 >/dev/null 2>&1; then
    die "outside server has a route to a private network"
  fi
  # Bounded wait until every veth is up (no ping in the dependency set).
  local i down
  for ((i = 0; i < 50; i++)); do
    down=0
    for ns in "$NS_CLI" "$NS_SRV" "$NS_DMZ"; do
      ip -n "$ns" -o link show eth0 | grep LOWER_UP >/dev/null || down=1
    done
    ip -n "$NS_GW" -o link show | grep -E ': (lan|pub|dmz)@' | grep -v LOWER_UP >/dev/null && down=1
    if ((LAB_IMPAIR == 1)); then
      ip -n "$NS_IMP" -o link show | grep -E ': (cl|sv|dz)[01]@' | grep -v LOWER_UP >/dev/null && down=1
    fi
    ((down == 0)) && return 0
    sleep 0.1
  done
  die "lab links did not come up"
}

# --------------------------------------------------------- impaired lab --
# Each link NS1:IF1 <-> NS2:IF2 becomes NS1:IF1 <-> imp:TAG0, imp:TAG1 <->
# NS2:IF2; impair_bridge copies frames between TAG0 and TAG1. The imp
# namespace has no addresses and no IPv6 (it sends nothing of its own).
# Offloads are off on all twelve veths: with tx checksum offload a forwarded
# frame would carry a partial checksum, with TSO/GSO/GRO frames beyond the MTU.
IMPAIR_LINKS=("$NS_CLI:eth0:$NS_GW:lan:cl" "$NS_SRV:eth0:$NS_GW:pub:sv" "$NS_DMZ:eth0:$NS_GW:dmz:dz")
impair_links() {
  local l ns1 if1 ns2 if2 tag ns dev
  command -v ethtool >/dev/null || { log "e2e: ethtool missing (scripts/install-deps.sh --e2e)"; return 1; }
  ip netns exec "$NS_IMP" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
    >/dev/null || return 1
  for l in "${IMPAIR_LINKS[@]}"; do
    IFS=: read -r ns1 if1 ns2 if2 tag <<<"$l"
    ip -n "$ns1" link add "$if1" type veth peer name "${tag}0" netns "$NS_IMP" || return 1
    ip -n "$ns2" link add "$if2" type veth peer name "${tag}1" netns "$NS_IMP" || return 1
    for dev in "$ns1:$if1" "$ns2:$if2" "$NS_IMP:${tag}0" "$NS_IMP:${tag}1"; do
      ns=${dev%%:*}
      ip netns exec "$ns" ethtool -K "${dev#*:}" tx off rx off tso off gso off gro off >/dev/null 2>&1 ||
        { log "e2e: ethtool -K ${dev#*:} (in $ns) failed"; return 1; }
    done
    ip -n "$NS_IMP" link set "${tag}0" up && ip -n "$NS_IMP" link set "${tag}1" up || return 1
  done
}

# Random loss at the end hosts, both directions (TCP only, so neighbour
# discovery and ARP are not slowed down). The kernel's own random numbers:
# not reproducible from the bridges' seed.
impair_hosts_up() {
  local ns ipt ch
  [[ $IMPAIR_HOST_LOSS == 0 || $IMPAIR_HOST_LOSS == 0.0 ]] && return 0
  for ns in "$NS_CLI" "$NS_SRV" "$NS_DMZ"; do
    for ipt in iptables ip6tables; do
      for ch in INPUT OUTPUT; do
        ip netns exec "$ns" $ipt -w -A $ch -p tcp -m statistic --mode random --probability "$IMPAIR_HOST_LOSS" \
          -m comment --comment fa-imp-loss -j DROP || return 1
      done
    done
  done
}
# Packets dropped so far by the end hosts' loss rules (all three hosts).
impair_host_drops() {
  local ns
  for ns in "$NS_CLI" "$NS_SRV" "$NS_DMZ"; do
    { ip netns exec "$ns" iptables -w -vxnL; ip netns exec "$ns" ip6tables -w -vxnL; } 2>/dev/null
  done | awk 'index($0, "/* fa-imp-loss */") { s += $1 } END { print s + 0 }'
}

# impair_start SEED: one bridge per link, seeds SEED*4+1..3; waits (bounded)
# until each has bound its sockets. Not in LAB_PIDS: bridges are restarted
# for every run, and a stale PID there could be reused by another process.
impair_start() {
  local seed=$1 l tag k=0 pid i logf
  ((LAB_IMPAIR == 1)) || return 0
  [[ -x $IMPAIR_BRIDGE ]] || { log "e2e: $IMPAIR_BRIDGE missing (make $IMPAIR_BRIDGE)"; return 1; }
  impair_stop
  for l in "${IMPAIR_LINKS[@]}"; do
    tag=${l##*:} k=$((k + 1))
    logf=$T/impair-$tag.out
    : >"$logf"
    ip netns exec "$NS_IMP" "$IMPAIR_BRIDGE" --a "${tag}0" --b "${tag}1" --name "$tag" --seed "$((seed * 4 + k))" \
      --loss "$IMPAIR_LOSS" --dup "$IMPAIR_DUP" --delay-min-us "$IMPAIR_DELAY_MIN_US" \
      --delay-max-us "$IMPAIR_DELAY_MAX_US" </dev/null >"$logf" 2>&1 &
    pid=$!
    IMPAIR_PIDS+=("$pid")
    for ((i = 0; i < 50; i++)); do
      grep -q ': ready$' "$logf" && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    grep -q ': ready$' "$logf" || { log "e2e: impair_bridge $tag did not start:"; cat "$logf" >&2; return 1; }
  done
}

# Stop the bridges (SIGTERM: they print their counters), append the counters
# to $T/impair.log, and keep the last ones in IMPAIR_LAST.
IMPAIR_LAST=""
impair_stop() {
  local pid tag
  ((${#IMPAIR_PIDS[@]} > 0)) || return 0
  for pid in "${IMPAIR_PIDS[@]}"; do stop_pid "$pid" TERM; done
  IMPAIR_PIDS=()
  IMPAIR_LAST=""
  for tag in cl sv dz; do
    [[ -f $T/impair-$tag.out ]] || continue
    IMPAIR_LAST+=$(grep -E ' (->|<-) ' "$T/impair-$tag.out")$'\n'
  done
  printf '%s' "$IMPAIR_LAST" >>"$T/impair.log"
}

# Gateway firewall required by the issue. Rules carry comments so counters can
# be found whatever ftpalg-rules inserts around them.
fw_up() {
  local ipt
  for ipt in iptables ip6tables; do
    gw $ipt -w -P FORWARD DROP || return 1
    gw $ipt -w -A FORWARD -m conntrack --ctstate RELATED -m comment --comment fa-related -j ACCEPT
    gw $ipt -w -A FORWARD -m conntrack --ctstate ESTABLISHED -m comment --comment fa-established -j ACCEPT
    gw $ipt -w -A FORWARD -m conntrack --ctstate INVALID -m comment --comment fa-invalid -j DROP
    gw $ipt -w -A FORWARD -p tcp --dport 21 -m conntrack --ctstate NEW -m comment --comment fa-new21 -j ACCEPT
    gw $ipt -w -A FORWARD -m comment --comment fa-rest -j DROP
    gw $ipt -w -A INPUT -m conntrack --ctstate INVALID -m comment --comment fa-in-invalid -j DROP
  done
  gw iptables -w -t nat -A POSTROUTING -o pub -s 192.168.10.0/24 -j MASQUERADE
  gw iptables -w -t nat -A POSTROUTING -o pub -s 10.7.0.0/24 -j MASQUERADE
  gw ip6tables -w -t nat -A POSTROUTING -o pub -s fd00:10::/64 -j MASQUERADE
  gw iptables -w -t nat -A PREROUTING -i pub -d $GW_PUB4 -p tcp --dport 21 -j DNAT --to-destination $DMZ4:21
  gw iptables -w -t nat -A PREROUTING -i pub -d $GW_PUB4B -p tcp --dport 21 -j DNAT --to-destination $DMZ4_GROW:21
}

# Hairpin NAT (docs/operating.md, "Hairpin NAT"): an inside client dials the
# public address of the port-forwarded dmz server. The gateway's usual rules:
# the port forward for traffic from the inside too, and SNAT of that
# inside->inside traffic so the server's replies come back through the
# gateway (here the client appears as the gateway's dmz address). Only the
# hairpin cases add them (hairpin_up) and take them away (hairpin_down).
# HAIRPIN_HELPER=irc: an inert kernel helper on those control connections,
# so that ftpalgd's data connections use kernel expectations (mechanism (a))
# instead of pre-created conntracks (b); inserted before ftpalg-rules' raw
# NFQUEUE rule, which ends the chain for the packets it queues.
HAIRPIN_RULES=(
  "nat PREROUTING -i lan -d $GW_PUB4 -p tcp --dport 21 -m comment --comment fa-hairpin -j DNAT --to-destination $DMZ4:21"
  "nat POSTROUTING -o dmz -s 192.168.10.0/24 -d $DMZ4 -p tcp --dport 21 -m comment --comment fa-hairpin -j MASQUERADE"
)
HAIRPIN_HELPER=""
hairpin_rule_helper() { echo "raw PREROUTING -i lan -d $GW_PUB4 -p tcp --dport 21 -m comment --comment fa-hairpin -j CT --helper $1"; }
hairpin_up() { # [HELPER]
  local r
  HAIRPIN_HELPER=${1:-}
  for r in "${HAIRPIN_RULES[@]}"; do
    # shellcheck disable=SC2086
    gw iptables -w -t ${r%% *} -A ${r#* } || return 1
  done
  if [[ -n $HAIRPIN_HELPER ]]; then
    r=$(hairpin_rule_helper "$HAIRPIN_HELPER")
    # shellcheck disable=SC2086
    gw iptables -w -t ${r%% *} -I ${r#* } || return 1
    # position 1 in the chain: before the NFQUEUE rule
    r=$(gw iptables -w -t raw -S PREROUTING | sed -n '2p')
    [[ $r == *"--helper $HAIRPIN_HELPER"* ]] || { log "e2e: hairpin helper rule not first: $r"; return 1; }
  fi
  return 0
}
hairpin_down() {
  local r
  if [[ -n $HAIRPIN_HELPER ]]; then
    r=$(hairpin_rule_helper "$HAIRPIN_HELPER")
    # shellcheck disable=SC2086
    gw iptables -w -t ${r%% *} -D ${r#* } 2>/dev/null
    # The finished hairpin control conntracks (TIME_WAIT) still carry the
    # helper: gone, so that later cases' helper checks see none.
    gw conntrack -D -p tcp -s $CLI4 -d $GW_PUB4 --dport 21 >/dev/null 2>&1
  fi
  for r in "${HAIRPIN_RULES[@]}"; do
    # shellcheck disable=SC2086
    gw iptables -w -t ${r%% *} -D ${r#* } 2>/dev/null
  done
  HAIRPIN_HELPER=""
  return 0
}

# ----------------------------------------------------------------- servers --
SRV_ROOT="" DMZ_ROOT="" PY_ROOT=""
SRV4_LOG="" SRV6_LOG="" DMZ_LOG="" PY_LOG=""
BIG_SHA="" SMALL_SHA=""

make_root() { # DIR: anon root (root-owned, read-only) with big.bin, hello.txt, upload/ (ftp-owned)
  local d=$1
  mkdir -p "$d/upload"
  cp "$T/big.bin" "$T/hello.txt" "$d/"
  chmod 755 "$d"; chmod 644 "$d/big.bin" "$d/hello.txt"
  chown ftp:ftp "$d/upload" 2>/dev/null || chmod 777 "$d/upload"
  chmod 755 "$d/upload"
}

write_vsftpd_conf() { # FILE ROOT LOG [ipv4|ipv6] [ADDR]
  local f=$1 root=$2 logf=$3 fam=${4:-ipv4} addr=${5:-}
  {
    if [[ $fam == ipv6 ]]; then
      echo "listen=NO"; echo "listen_ipv6=YES"
      [[ -n $addr ]] && echo "listen_address6=$addr"
    else
      echo "listen=YES"; echo "listen_ipv6=NO"
      [[ -n $addr ]] && echo "listen_address=$addr"
    fi
    cat <<EOF
background=NO
anonymous_enable=YES
local_enable=NO
no_anon_password=YES
anon_root=$root
write_enable=YES
anon_upload_enable=YES
anon_mkdir_write_enable=NO
anon_other_write_enable=NO
connect_from_port_20=YES
pasv_enable=YES
pasv_min_port=30000
pasv_max_port=30100
port_promiscuous=NO
pasv_promiscuous=NO
seccomp_sandbox=NO
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$logf
syslog_enable=NO
dual_log_enable=NO
use_localtime=NO
hide_ids=YES
max_per_ip=0
max_clients=0
idle_session_timeout=60
data_connection_timeout=30
accept_timeout=20
connect_timeout=20
secure_chroot_dir=/var/run/vsftpd/empty
EOF
  } >"$f"
}

wait_listen() { # NSFUNC ADDR PORT [TIMEOUT_S]
  local f=$1 a=$2 p=$3 n=$((${4:-10} * 10)) i
  for ((i = 0; i < n; i++)); do
    $f ss -Hltn "sport = :$p" 2>/dev/null | grep -F "$a" >/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Background processes are started with a plain `ip netns exec` (which execs
# the command), never through the cli/gw/srv/dmz functions: a backgrounded
# function is a subshell, and $! would be the subshell, not the server.
start_bg() { # LOGFILE NETNS CMD...  -> echoes PID, records it
  local logf=$1 ns=$2; shift 2
  ip netns exec "$ns" "$@" </dev/null >>"$logf" 2>&1 &
  local pid=$!
  LAB_PIDS+=("$pid")
  echo "$pid"
}

servers_start() {
  head -c 1048576 /dev/urandom >"$T/big.bin"
  echo "hello from ftpalg e2e lab" >"$T/hello.txt"
  BIG_SHA=$(sha256sum <"$T/big.bin" | cut -d' ' -f1)
  SMALL_SHA=$(sha256sum <"$T/hello.txt" | cut -d' ' -f1)
  SRV_ROOT=$T/srv/root DMZ_ROOT=$T/dmz/root PY_ROOT=$T/py/root
  mkdir -p "$T/srv" "$T/dmz" "$T/py"
  chmod 755 "$T/srv" "$T/dmz" "$T/py"
  make_root "$SRV_ROOT"; make_root "$DMZ_ROOT"; make_root "$PY_ROOT"
  SRV4_LOG=$T/srv/vsftpd4.log SRV6_LOG=$T/srv/vsftpd6.log DMZ_LOG=$T/dmz/vsftpd.log PY_LOG=$T/py/pyftpd.log
  : >"$SRV4_LOG"; : >"$SRV6_LOG"; : >"$DMZ_LOG"; : >"$PY_LOG"
  write_vsftpd_conf "$T/srv/vsftpd4.conf" "$SRV_ROOT" "$SRV4_LOG" ipv4 $SRV4
  write_vsftpd_conf "$T/srv/vsftpd6.conf" "$SRV_ROOT" "$SRV6_LOG" ipv6 $SRV6
  write_vsftpd_conf "$T/dmz/vsftpd.conf" "$DMZ_ROOT" "$DMZ_LOG" ipv4
  start_bg "$T/srv/vsftpd4.out" "$NS_SRV" vsftpd "$T/srv/vsftpd4.conf" >/dev/null
  start_bg "$T/srv/vsftpd6.out" "$NS_SRV" vsftpd "$T/srv/vsftpd6.conf" >/dev/null
  start_bg "$T/dmz/vsftpd.out" "$NS_DMZ" vsftpd "$T/dmz/vsftpd.conf" >/dev/null
  start_bg "$T/py/pyftpd.out" "$NS_SRV" "$PY" "$E2E_LIB_DIR/pyftpd.py" --addr $PYSRV4 --root "$PY_ROOT" \
    --log "$PY_LOG" >/dev/null
  wait_listen srv "$SRV4:21" 21 || { cat "$T/srv/vsftpd4.out" >&2; die "vsftpd (outside v4) not listening"; }
  wait_listen srv "[$SRV6]:21" 21 || { cat "$T/srv/vsftpd6.out" >&2; die "vsftpd (outside v6) not listening"; }
  wait_listen dmz ":21" 21 || { cat "$T/dmz/vsftpd.out" >&2; die "vsftpd (dmz) not listening"; }
  wait_listen srv "$PYSRV4:21" 21 || { cat "$T/py/pyftpd.out" >&2; die "pyftpdlib not listening"; }
}

# --------------------------------------------------------------------- ALG --
ALG_LOG=""
alg_start() {
  case $ALG in
    kernel)
      # Lab validation / benchmark baseline only: the kernel FTP helper.
      gw iptables -w -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp &&
        gw ip6tables -w -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
      ;;
    ftpalgd)
      ALG_LOG=${ALG_LOG:-$T/ftpalgd.log}
      [[ -x $FTPALG_RULES ]] || { log "e2e: $FTPALG_RULES missing (not built/landed yet)"; return 1; }
      [[ -x $FTPALGD ]] || { log "e2e: $FTPALGD missing (run make all)"; return 1; }
      if [[ ${ALG_RULES_INSTALLED:-0} != 1 ]]; then
        gw timeout 20 "$FTPALG_RULES" install >>"$T/ftpalg-rules.log" 2>&1 ||
          { log "e2e: ftpalg-rules install failed:"; cat "$T/ftpalg-rules.log" >&2; return 1; }
        ALG_RULES_INSTALLED=1
      fi
      ftpalgd_spawn
      ;;
    none) ;;
    *) log "e2e: unknown ALG=$ALG"; return 1 ;;
  esac
}

# How the lab schedules ftpalgd: as the shipped unit does
# (CPUSchedulingPolicy=fifo, CPUSchedulingPriority= of dist/ftpalgd.service.in),
# so that the lab's latencies are the ones of a real install.
# FTPALG_E2E_SCHED=other runs it as an ordinary process (the "before" of
# bench/analysis.md, "Concurrent sessions: rare connect timeouts").
ftpalgd_sched_cmd() {
  [[ ${FTPALG_E2E_SCHED:-unit} == other ]] && return 0
  local prio
  prio=$(sed -n 's/^CPUSchedulingPriority=\([0-9]*\)$/\1/p' "$REPO/dist/ftpalgd.service.in")
  grep -qx 'CPUSchedulingPolicy=fifo' "$REPO/dist/ftpalgd.service.in" && [[ -n $prio ]] &&
    echo "chrt --fifo $prio"
}

# Start build/ftpalgd in the gateway netns, wait (bounded) for "ready".
ftpalgd_spawn() {
  local start_lines i sched=()
  : >>"$ALG_LOG"
  start_lines=$(wc -l <"$ALG_LOG")
  read -ra sched <<<"$(ftpalgd_sched_cmd)"
  # shellcheck disable=SC2086
  ALG_STATS_SOCK=$T/ftpalgd.sock
  ip netns exec "$NS_GW" "${sched[@]}" "$FTPALGD" --log-level debug --stats-socket "$ALG_STATS_SOCK" \
    ${FTPALG_E2E_RULES_WATCH_S:+--rules-watch-s "$FTPALG_E2E_RULES_WATCH_S"} $FTPALGD_ARGS </dev/null >>"$T/ftpalgd.stdout" 2>>"$ALG_LOG" &
  ALG_PID=$!
  LAB_PIDS+=("$ALG_PID")
  for ((i = 0; i < 100; i++)); do
    tail -n +"$((start_lines + 1))" "$ALG_LOG" | grep ready >/dev/null && return 0
    kill -0 "$ALG_PID" 2>/dev/null || { log "e2e: ftpalgd exited:"; tail -n 20 "$ALG_LOG" >&2; return 1; }
    sleep 0.1
  done
  log "e2e: ftpalgd did not log 'ready' within 10 s:"; tail -n 20 "$ALG_LOG" >&2
  return 1
}

stop_pid() { # PID [SIGNAL]: signal, bounded wait, then SIGKILL
  local pid=$1 sig=${2:-TERM} i
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -"$sig" "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

alg_stop() {
  case $ALG in
    kernel)
      gw iptables -w -t raw -D PREROUTING -p tcp --dport 21 -j CT --helper ftp 2>/dev/null
      gw ip6tables -w -t raw -D PREROUTING -p tcp --dport 21 -j CT --helper ftp 2>/dev/null
      ;;
    ftpalgd)
      stop_pid "$ALG_PID" TERM; ALG_PID=""
      if [[ ${ALG_RULES_INSTALLED:-0} == 1 ]]; then
        gw timeout 20 "$FTPALG_RULES" remove >>"$T/ftpalg-rules.log" 2>&1 || log "e2e: ftpalg-rules remove failed"
        ALG_RULES_INSTALLED=0
      fi
      ;;
  esac
  return 0
}

# ftpalgd --stats [--prometheus] from the lab daemon's socket (a unix
# socket in $T: reachable from any namespace).
alg_stats() { timeout 10 "$FTPALGD" --stats --stats-socket "$ALG_STATS_SOCK" "$@"; }
# One counter from `ftpalgd --stats` (empty when missing).
alg_stat() { alg_stats | awk -v n="$1" '$1 == n {print $2}'; }

# Counters on SIGUSR1 (ftpalgd only); output goes to its log.
alg_dump_counters() { [[ $ALG == ftpalgd && -n $ALG_PID ]] && kill -USR1 "$ALG_PID" 2>/dev/null; sleep 0.2; }

# Everything a test or benchmark needs, in order (caller sets trap lab_down EXIT).
lab_start_all() { lab_up && servers_start && alg_start; }

# ---------------------------------------------------------------- teardown --
# netns_delete NS...: whatever still runs inside *our* namespaces (e.g.
# per-session vsftpd children) was started by us: end it by PID (TERM, then
# KILL), then delete the namespaces.
netns_delete() {
  local ns pid
  for ns in "$@"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
  done
  sleep 0.2
  for ns in "$@"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}

lab_down() {
  local rc=$? pid
  [[ $LAB_IS_UP == 1 ]] || return $rc
  LAB_IS_UP=0
  [[ -n ${T:-} && -d $T ]] && alg_stop
  impair_stop
  for pid in "${LAB_PIDS[@]}"; do stop_pid "$pid" TERM; done
  LAB_PIDS=()
  netns_delete "${LAB_NS[@]}"
  if [[ -n ${T:-} && -d $T ]]; then
    if [[ ${E2E_KEEP:-0} == 1 ]]; then log "e2e: kept $T"; else rm -rf "$T"; fi
  fi
  return $rc
}

# ------------------------------------------------------ counters & checks --
# FORWARD counters (packets) of our commented rules, v4 + v6.
fw_count() { # COMMENT
  { gw iptables -w -vxnL FORWARD; gw ip6tables -w -vxnL FORWARD; } 2>/dev/null |
    awk -v c="/* $1 */" 'index($0, c) { s += $1 } END { print s + 0 }'
}
fw_count_input_invalid() {
  { gw iptables -w -vxnL INPUT; gw ip6tables -w -vxnL INPUT; } 2>/dev/null |
    awk 'index($0, "/* fa-in-invalid */") { s += $1 } END { print s + 0 }'
}
ct_invalid() { gw conntrack -S 2>/dev/null | grep -o 'invalid=[0-9]*' | awk -F= '{ s += $2 } END { print s + 0 }'; }
gw_out_rsts() { gw awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutRsts") c = i; h = 1 } else print $c }' /proc/net/snmp; }
alg_rewrites() { local n=0; [[ -n $ALG_LOG && -f $ALG_LOG ]] && n=$(grep -c REWRITE "$ALG_LOG"); echo "${n:-0}"; }

# Control-connection conntracks (dport 21) in the gateway, v4 + v6.
ct_control() { { gw conntrack -L -p tcp --dport 21; gw conntrack -L -f ipv6 -p tcp --dport 21; } 2>/dev/null; }

# Assert the right kind of helper: none in ftpalgd mode, ftp in kernel mode.
check_helpers() {
  local rules ctl
  rules=$({ gw iptables-save; gw ip6tables-save; } 2>/dev/null | grep -c -- '--helper')
  ctl=$(ct_control)
  if [[ $ALG == kernel ]]; then
    ((rules >= 2)) || fail "kernel mode: CT --helper rules missing"
    [[ -z $ctl ]] || grep -q 'helper=ftp' <<<"$ctl" || fail "kernel mode: control conntrack without helper=ftp"
  else
    if [[ -n ${HAIRPIN_HELPER:-} ]]; then  # the hairpin cases' inert helper, nothing else
      rules=$({ gw iptables-save; gw ip6tables-save; } 2>/dev/null | grep -- '--helper' | grep -vc -- "--helper $HAIRPIN_HELPER\$")
      ctl=$(grep -v "helper=$HAIRPIN_HELPER" <<<"$ctl")
    fi
    ((rules == 0)) || fail "a kernel helper rule is installed (iptables-save has --helper)"
    if grep -q 'helper=' <<<"$ctl"; then fail "a control conntrack has a helper: $(grep -m1 -o 'helper=[^ ]*' <<<"$ctl")"; fi
  fi
}

# Byte offsets of the server logs at case start, to look only at new lines.
declare -A LOGOFF
log_mark() { local n; for n in SRV4_LOG SRV6_LOG DMZ_LOG PY_LOG ALG_LOG; do
  local f=${!n}; LOGOFF[$n]=0; [[ -n $f && -f $f ]] && LOGOFF[$n]=$(stat -c %s "$f"); done; }
# (No grep -q after a pipe anywhere here: with pipefail an early exit of grep
# turns a match into a failure through the writer's SIGPIPE.)
log_new() { local n=$1 f=${!1}; [[ -n $f && -f $f ]] && tail -c +"$((${LOGOFF[$n]:-0} + 1))" "$f"; }

CASE="" CASE_DIR="" CASE_ERR=() CASE_T0=0
S_REL=0 S_INV=0 S_INV_IN=0 S_CTINV=0 S_RST=0 S_RW=0
PASS_N=0 FAIL_N=0 FAILED_CASES=()

fail() { CASE_ERR+=("$*"); }

case_begin() { # NAME
  CASE=$1${CASE_SUFFIX:-} CASE_ERR=() CASE_T0=$(date +%s.%N)
  CASE_DIR=$T/cases/$CASE
  mkdir -p "$CASE_DIR"; chmod 755 "$CASE_DIR"
  S_REL=$(fw_count fa-related) S_INV=$(fw_count fa-invalid) S_INV_IN=$(fw_count_input_invalid)
  S_CTINV=$(ct_invalid) S_RST=$(gw_out_rsts) S_RW=$(alg_rewrites)
  log_mark
}

# NDATA = minimum number of data connections that must have been RELATED.
# MIN_RW = minimum number of ftpalgd REWRITE lines (ftpalgd mode only).
case_end() { # NDATA [MIN_RW]
  local ndata=${1:-0} min_rw=${2:-0} d
  sleep 0.2    # let the last FIN/ACKs cross the gateway before reading counters
  d=$(($(fw_count fa-related) - S_REL))
  ((d >= ndata)) || fail "RELATED counter +$d, expected >= $ndata data connections"
  d=$(($(fw_count fa-invalid) - S_INV)); ((d == 0)) || fail "FORWARD INVALID drops +$d"
  d=$(($(fw_count_input_invalid) - S_INV_IN)); ((d == 0)) || fail "INPUT INVALID drops +$d"
  d=$(($(ct_invalid) - S_CTINV)); ((d == 0)) || fail "conntrack -S invalid +$d"
  d=$(($(gw_out_rsts) - S_RST)); ((d == 0)) || fail "gateway sent $d TCP RST(s) (TcpOutRsts)"
  if [[ $ALG == ftpalgd ]] && ((min_rw > 0)); then
    d=$(($(alg_rewrites) - S_RW)); ((d >= min_rw)) || fail "ftpalgd logged $d REWRITE lines, expected >= $min_rw"
  fi
  check_helpers
  case_report
}

case_report() {
  local dt
  dt=$(awk -v a="$CASE_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if ((${#CASE_ERR[@]} == 0)); then
    echo "PASS $CASE (${dt}s)"; PASS_N=$((PASS_N + 1))
  else
    local IFS='; '
    echo "FAIL $CASE: ${CASE_ERR[*]}"; FAIL_N=$((FAIL_N + 1)); FAILED_CASES+=("$CASE")
    case_diag
  fi
}

# On failure: a short excerpt of what the case produced.
case_diag() {
  local f
  for f in "$CASE_DIR"/*.err "$CASE_DIR"/*.out; do
    [[ -s $f ]] || continue
    echo "  --- ${f##*/} (last 8 lines)"; tail -n 8 "$f" | sed 's/^/  | /'
  done
  if [[ $ALG == ftpalgd && -n $ALG_LOG ]]; then
    echo "  --- ftpalgd log (new, last 8 lines)"; log_new ALG_LOG | tail -n 8 | sed 's/^/  | /'
  fi
}

# ----------------------------------------------------------- assertions --
sha_of() { sha256sum <"$1" 2>/dev/null | cut -d' ' -f1; }
expect_sha() { # FILE SHA LABEL
  [[ -f $1 ]] || { fail "$3: no file"; return 1; }
  [[ $(sha_of "$1") == "$2" ]] || { fail "$3: sha256 mismatch ($(stat -c %s "$1") bytes)"; return 1; }
}
expect_rc0() { # RC LABEL
  (($1 == 0)) || { fail "$2 exited $1"; return 1; }
}
expect_log() { # LOGVAR REGEX LABEL  (extended regex on the case's new log lines)
  log_new "$1" | grep -E -- "$2" >/dev/null || fail "$3 (no /$2/ in ${1%_LOG} log)"
}
expect_no_log() { # LOGVAR REGEX LABEL
  if log_new "$1" | grep -E -- "$2" >/dev/null; then fail "$3 (${1%_LOG} log: $(log_new "$1" | grep -Em1 -- "$2"))"; fi
}
expect_grep() { # FILE REGEX LABEL
  grep -Eq -- "$2" "$1" 2>/dev/null || fail "$3"
}

# Regexes for what the servers must (not) see.
RE_PRIV4='(192,168,|10,7,0,|192\.168\.|10\.7\.0\.)'
