# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034,SC2016
#
# Two-gateway lab for ftpalgd with conntrackd failover (issue 7). Sourced by
# tests/e2e/ha.sh after tests/e2e/lib.sh (whose generic helpers it reuses:
# write_vsftpd_conf, make_root, wait_listen, stop_pid, sha_of, log, die).
# Everything lives in network namespaces named "fh<pid>-*" and one temp dir;
# nothing in the root namespace is changed.
#
#      LAN segment (bridge br0 in ns "lan")            WAN segment (bridge br0 in ns "wan")
#  cli eth0 192.168.10.2 +10.7.0.2  --+                 +-- eth0 203.0.113.2  srv (vsftpd,
#      default via 192.168.10.1 (VIP) |                 |   connected routes only)
#  ins eth0 10.7.0.20 (vsftpd, DNAT   |                 |
#      target; default via 10.7.0.1)  |                 |
#         gw1 lan0 192.168.10.11 +10.7.0.11    wan0 203.0.113.11
#         gw2 lan0 192.168.10.12 +10.7.0.12    wan0 203.0.113.12
#         VIPs on the active gateway: lan0 192.168.10.1/24 + 10.7.0.1/24, wan0 203.0.113.1/24
#         gw1 sync0 10.0.9.1/30 ===== dedicated veth ===== gw2 sync0 10.0.9.2/30
#
# Both gateways: ip_forward, strict TCP window tracking (be_liberal=0),
# nf_conntrack_events=1, FORWARD policy DROP (established/related accept;
# LAN->WAN NEW SYN accept; WAN->ins NEW SYN only to 10.7.0.20:21), SNAT of
# the LAN to the WAN VIP, DNAT of VIP:21 to ins, scripts/ftpalg-rules,
# conntrackd FTFW over sync0 (started before any traffic) and ftpalgd.
# A failover (ha_failover FROM TO) does what keepalived would: the old
# master's links go down and lose the VIPs, the new one gets the VIPs, the
# hosts' neighbour caches are flushed (instead of gratuitous ARP), and
# scripts/ftpalg-ha-notify MASTER runs on the new master.

HA_P=${HA_PREFIX:-fh$$}
NS_LAN=$HA_P-lan NS_WAN=$HA_P-wan NS_GW1=$HA_P-gw1 NS_GW2=$HA_P-gw2
NS_HCLI=$HA_P-cli NS_HSRV=$HA_P-srv NS_HINS=$HA_P-ins
HA_NS=("$NS_LAN" "$NS_WAN" "$NS_GW1" "$NS_GW2" "$NS_HCLI" "$NS_HSRV" "$NS_HINS")
HA_NOTIFY=${HA_NOTIFY:-$REPO/scripts/ftpalg-ha-notify}
HA_T=""
HA_PIDS=()
HA_IS_UP=0
declare -A HA_ALG_PID HA_CTD_PID HA_ALG_LOG

# Addresses.
H_CLI=192.168.10.2 H_CLI_GROW=10.7.0.2 H_INS=10.7.0.20 H_SRV=203.0.113.2
H_VIP_LAN=192.168.10.1 H_VIP_LAN2=10.7.0.1 H_VIP_WAN=203.0.113.1
declare -A H_LAN_ADDR=([1]=192.168.10.11 [2]=192.168.10.12) H_LAN2_ADDR=([1]=10.7.0.11 [2]=10.7.0.12)
declare -A H_WAN_ADDR=([1]=203.0.113.11 [2]=203.0.113.12) H_SYNC_ADDR=([1]=10.0.9.1 [2]=10.0.9.2)

gwn() { local n=$1; shift; ip netns exec "$HA_P-gw$n" "$@"; }
hcli() { ip netns exec "$NS_HCLI" "$@"; }
hsrv() { ip netns exec "$NS_HSRV" "$@"; }
hins() { ip netns exec "$NS_HINS" "$@"; }

ha_start_bg() { # LOGFILE NETNS CMD... -> echoes PID, records it
  local logf=$1 ns=$2; shift 2
  ip netns exec "$ns" "$@" </dev/null >>"$logf" 2>&1 &
  local pid=$!
  HA_PIDS+=("$pid")
  echo "$pid"
}

# ---------------------------------------------------------------- topology --
ha_link() { # NS_A IF_A NS_B IF_B
  ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" || die "veth $1/$2 - $3/$4"
}

ha_topology_up() {
  HA_T=$(mktemp -d /tmp/ftpalg-ha.XXXXXX) || die "mktemp failed"
  chmod 755 "$HA_T"
  mkdir -p "$HA_T/home" "$HA_T/cases"
  export HOME=$HA_T/home
  T=$HA_T                      # lib.sh helpers (servers) write below $T
  local ns n
  for ns in "${HA_NS[@]}"; do
    ip netns add "$ns" || die "ip netns add $ns"
    HA_IS_UP=1
    ip -n "$ns" link set lo up
  done
  for ns in "$NS_LAN" "$NS_WAN"; do
    ip -n "$ns" link add br0 type bridge
    ip -n "$ns" link set br0 type bridge stp_state 0 forward_delay 0
    ip -n "$ns" link set br0 up
  done
  ha_link "$NS_HCLI" eth0 "$NS_LAN" p-cli
  ha_link "$NS_HINS" eth0 "$NS_LAN" p-ins
  ha_link "$NS_HSRV" eth0 "$NS_WAN" p-srv
  for n in 1 2; do
    ha_link "$HA_P-gw$n" lan0 "$NS_LAN" "p-gw$n"
    ha_link "$HA_P-gw$n" wan0 "$NS_WAN" "p-gw$n"
  done
  ha_link "$NS_GW1" sync0 "$NS_GW2" sync0
  local p
  for p in p-cli p-ins p-gw1 p-gw2; do ip -n "$NS_LAN" link set "$p" master br0 up; done
  for p in p-srv p-gw1 p-gw2; do ip -n "$NS_WAN" link set "$p" master br0 up; done

  ip -n "$NS_HCLI" addr add $H_CLI/24 dev eth0
  ip -n "$NS_HCLI" addr add $H_CLI_GROW/24 dev eth0
  ip -n "$NS_HINS" addr add $H_INS/24 dev eth0
  ip -n "$NS_HSRV" addr add $H_SRV/24 dev eth0
  for ns in "$NS_HCLI" "$NS_HINS" "$NS_HSRV"; do ip -n "$ns" link set eth0 up; done
  ip -n "$NS_HCLI" route add default via $H_VIP_LAN
  ip -n "$NS_HINS" route add default via $H_VIP_LAN2
  # srv: connected route only (203.0.113.0/24): no path to the private nets.

  for n in 1 2; do
    ip -n "$HA_P-gw$n" addr add "${H_LAN_ADDR[$n]}/24" dev lan0
    ip -n "$HA_P-gw$n" addr add "${H_LAN2_ADDR[$n]}/24" dev lan0
    ip -n "$HA_P-gw$n" addr add "${H_WAN_ADDR[$n]}/24" dev wan0
    ip -n "$HA_P-gw$n" addr add "${H_SYNC_ADDR[$n]}/30" dev sync0
    for p in lan0 wan0 sync0; do ip -n "$HA_P-gw$n" link set "$p" up; done
    gwn "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 >/dev/null
    gwn "$n" sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=0 >/dev/null ||
      die "cannot set nf_conntrack_tcp_be_liberal=0 in gw$n"
    # Every conntrack gets the event extension, so label/mark updates made
    # later produce events conntrackd replicates (ha-state.md 2.6).
    gwn "$n" sysctl -qw net.netfilter.nf_conntrack_events=1 >/dev/null ||
      die "cannot set nf_conntrack_events=1 in gw$n"
    ha_fw_up "$n" || die "firewall setup on gw$n failed"
  done
  [[ ${HA_KEEPALIVED:-0} == 1 ]] || ha_vips_add 1
  hsrv ip route get $H_CLI >/dev/null 2>&1 && die "outside server has a route to the LAN"
  ha_wait_links || die "lab links did not come up"
}

ha_wait_links() {
  local i ns bad
  for ((i = 0; i < 50; i++)); do
    bad=0
    for ns in "$NS_HCLI" "$NS_HINS" "$NS_HSRV"; do
      ip -n "$ns" -o link show eth0 | grep LOWER_UP >/dev/null || bad=1
    done
    ip -n "$NS_GW1" -o link show sync0 | grep LOWER_UP >/dev/null || bad=1
    ((bad == 0)) && return 0
    sleep 0.1
  done
  return 1
}

ha_vips_add() { # N
  gwn "$1" ip addr add $H_VIP_LAN/24 dev lan0
  gwn "$1" ip addr add $H_VIP_LAN2/24 dev lan0
  gwn "$1" ip addr add $H_VIP_WAN/24 dev wan0
}
ha_vips_del() { # N
  gwn "$1" ip addr del $H_VIP_LAN/24 dev lan0 2>/dev/null
  gwn "$1" ip addr del $H_VIP_LAN2/24 dev lan0 2>/dev/null
  gwn "$1" ip addr del $H_VIP_WAN/24 dev wan0 2>/dev/null
  return 0
}

# The stateful filter of the issue, identical on both gateways. Comments name
# the counters the cases read.
ha_fw_up() { # N
  local n=$1
  gwn "$n" iptables -w -P FORWARD DROP || return 1
  gwn "$n" iptables -w -A FORWARD -m conntrack --ctstate RELATED -m comment --comment ha-related -j ACCEPT
  gwn "$n" iptables -w -A FORWARD -m conntrack --ctstate ESTABLISHED -m comment --comment ha-established -j ACCEPT
  gwn "$n" iptables -w -A FORWARD -m conntrack --ctstate INVALID -m comment --comment ha-invalid -j DROP
  gwn "$n" iptables -w -A FORWARD -i lan0 -o wan0 -p tcp --syn -m conntrack --ctstate NEW \
    -m comment --comment ha-new-out -j ACCEPT
  gwn "$n" iptables -w -A FORWARD -i wan0 -o lan0 -p tcp --syn -d $H_INS --dport 21 -m conntrack --ctstate NEW \
    -m comment --comment ha-new-dnat -j ACCEPT
  # A mid-stream packet of a connection this gateway does not know (no
  # committed state) is NEW without SYN: dropped and counted.
  gwn "$n" iptables -w -A FORWARD -p tcp ! --syn -m conntrack --ctstate NEW -m comment --comment ha-new-nosyn -j DROP
  gwn "$n" iptables -w -A FORWARD -m comment --comment ha-rest -j DROP
  gwn "$n" iptables -w -t nat -A POSTROUTING -o wan0 -s 192.168.10.0/24 -j SNAT --to-source $H_VIP_WAN
  gwn "$n" iptables -w -t nat -A POSTROUTING -o wan0 -s 10.7.0.0/24 -j SNAT --to-source $H_VIP_WAN
  gwn "$n" iptables -w -t nat -A PREROUTING -i wan0 -d $H_VIP_WAN -p tcp --dport 21 -j DNAT --to-destination $H_INS:21
}

# ------------------------------------------------------------ conntrackd --
ha_ctd_conf() { # N -> path of gwN's conntrackd.conf
  local n=$1 peer=$((3 - $1)) d=$HA_T/ctd
  mkdir -p "$d"
  cat >"$d/gw$n.conf" <<EOF
# conntrackd on gw$n: FTFW over the dedicated sync0 link (ha-state.md 3.1).
Sync {
    Mode FTFW {
        ResendQueueSize 131072
        DisableExternalCache off
        StartupResync on
        PurgeTimeout 5
    }
    UDP {
        IPv4_address ${H_SYNC_ADDR[$n]}
        IPv4_Destination_Address ${H_SYNC_ADDR[$peer]}
        Port 3780
        Interface sync0
        SndSocketBuffer 1249280
        RcvSocketBuffer 1249280
        Checksum on
    }
    Options {
        TCPWindowTracking off
    }
}
General {
    Systemd off
    HashSize 8192
    HashLimit 65536
    LogFile $d/gw$n.log
    Syslog off
    LockFile $d/gw$n.lock
    UNIX {
        Path $d/gw$n.ctl
    }
    NetlinkBufferSize 2097152
    NetlinkBufferSizeMaxGrowth 8388608
    Filter From Userspace {
        Protocol Accept {
            TCP
        }
        Address Ignore {
            IPv4_address 127.0.0.1
            IPv4_address 10.0.9.0/30
            IPv4_address ${H_LAN_ADDR[1]}
            IPv4_address ${H_LAN_ADDR[2]}
            IPv4_address ${H_LAN2_ADDR[1]}
            IPv4_address ${H_LAN2_ADDR[2]}
            IPv4_address ${H_WAN_ADDR[1]}
            IPv4_address ${H_WAN_ADDR[2]}
        }
    }
}
EOF
  echo "$d/gw$n.conf"
}

ha_ctd_start() { # N
  local n=$1 conf i
  conf=$(ha_ctd_conf "$n")
  HA_CTD_PID[$n]=$(ha_start_bg "$HA_T/ctd/gw$n.out" "$HA_P-gw$n" conntrackd -C "$conf")
  for ((i = 0; i < 50; i++)); do
    [[ -S $HA_T/ctd/gw$n.ctl ]] && gwn "$n" conntrackd -C "$conf" -s >/dev/null 2>&1 && return 0
    kill -0 "${HA_CTD_PID[$n]}" 2>/dev/null || break
    sleep 0.1
  done
  log "ha: conntrackd on gw$n did not come up:"; tail -n 20 "$HA_T/ctd/gw$n.out" "$HA_T/ctd/gw$n.log" >&2
  return 1
}

ctd() { local n=$1; shift; gwn "$n" conntrackd -C "$HA_T/ctd/gw$n.conf" "$@"; }

# ------------------------------------------------------------- servers --
H_SRV_LOG="" H_INS_LOG="" H_SRV_ROOT="" H_INS_ROOT="" BIG_SHA="" SMALL_SHA=""
ha_servers_start() {
  head -c 1048576 /dev/urandom >"$HA_T/big.bin"
  echo "hello from the ftpalg HA lab" >"$HA_T/hello.txt"
  BIG_SHA=$(sha_of "$HA_T/big.bin") SMALL_SHA=$(sha_of "$HA_T/hello.txt")
  mkdir -p "$HA_T/srv" "$HA_T/ins"; chmod 755 "$HA_T/srv" "$HA_T/ins"
  H_SRV_ROOT=$HA_T/srv/root H_INS_ROOT=$HA_T/ins/root
  make_root "$H_SRV_ROOT"; make_root "$H_INS_ROOT"
  H_SRV_LOG=$HA_T/srv/vsftpd.log H_INS_LOG=$HA_T/ins/vsftpd.log
  : >"$H_SRV_LOG"; : >"$H_INS_LOG"
  write_vsftpd_conf "$HA_T/srv/vsftpd.conf" "$H_SRV_ROOT" "$H_SRV_LOG" ipv4 $H_SRV
  write_vsftpd_conf "$HA_T/ins/vsftpd.conf" "$H_INS_ROOT" "$H_INS_LOG" ipv4 $H_INS
  # The sessions are held open across failovers: give them time.
  sed -i 's/^idle_session_timeout=.*/idle_session_timeout=120/' "$HA_T/srv/vsftpd.conf" "$HA_T/ins/vsftpd.conf"
  ha_start_bg "$HA_T/srv/vsftpd.out" "$NS_HSRV" vsftpd "$HA_T/srv/vsftpd.conf" >/dev/null
  ha_start_bg "$HA_T/ins/vsftpd.out" "$NS_HINS" vsftpd "$HA_T/ins/vsftpd.conf" >/dev/null
  wait_listen hsrv "$H_SRV:21" 21 || { cat "$HA_T/srv/vsftpd.out" >&2; die "vsftpd (outside) not listening"; }
  wait_listen hins "$H_INS:21" 21 || { cat "$HA_T/ins/vsftpd.out" >&2; die "vsftpd (inside) not listening"; }
}

# ------------------------------------------------------------- ftpalgd --
ha_rules_install() { # N
  gwn "$1" timeout 20 "$FTPALG_RULES" install >>"$HA_T/ftpalg-rules.gw$1.log" 2>&1 ||
    { log "ha: ftpalg-rules install on gw$1 failed:"; cat "$HA_T/ftpalg-rules.gw$1.log" >&2; return 1; }
}

ha_alg_start() { # N: start ftpalgd in gwN, wait (bounded) for "ready"
  local n=$1 logf start i pid
  logf=$HA_T/ftpalgd.gw$n.log HA_ALG_LOG[$n]=$logf
  : >>"$logf"
  start=$(wc -l <"$logf")
  local sock=()
  # Each gateway's daemon gets its own stats socket (the default path would
  # be shared by the two namespaces).
  "$FTPALGD" --help 2>&1 | grep -e '--stats-socket' >/dev/null && sock=(--stats-socket "$HA_T/ftpalgd.gw$n.sock")
  # Scheduled as the shipped unit schedules it (lib.sh ftpalgd_sched_cmd).
  local sched=()
  read -ra sched <<<"$(ftpalgd_sched_cmd)"
  # shellcheck disable=SC2086
  ip netns exec "$HA_P-gw$n" "${sched[@]}" "$FTPALGD" --log-level debug "${sock[@]}" $FTPALGD_ARGS </dev/null \
    >>"$HA_T/ftpalgd.gw$n.stdout" 2>>"$logf" &
  pid=$!
  HA_PIDS+=("$pid") HA_ALG_PID[$n]=$pid
  echo "$pid" >"$HA_T/ftpalgd.gw$n.pid"
  for ((i = 0; i < 100; i++)); do
    tail -n +"$((start + 1))" "$logf" | grep ready >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { log "ha: ftpalgd on gw$n exited:"; tail -n 20 "$logf" >&2; return 1; }
    sleep 0.1
  done
  log "ha: ftpalgd on gw$n did not log 'ready' within 10 s"; tail -n 20 "$logf" >&2
  return 1
}

ha_alg_stop() { # N [SIGNAL]
  local n=$1
  [[ -n ${HA_ALG_PID[$n]:-} ]] || return 0
  if [[ ${2:-TERM} == KILL ]]; then
    kill -KILL "${HA_ALG_PID[$n]}" 2>/dev/null; wait "${HA_ALG_PID[$n]}" 2>/dev/null
  else
    stop_pid "${HA_ALG_PID[$n]}" "${2:-TERM}"
  fi
  HA_ALG_PID[$n]=""
}

# How the new master's ftpalgd is told to re-read its state from conntrack
# (HA_RESYNC): "cmd" = ftpalg-ha-notify runs `ftpalgd --resync` (its
# default), "usr2" = FTPALGD_RESYNC_CMD sends SIGUSR2 to the daemon, "restart"
# = the notify script's resync is a no-op and the test restarts ftpalgd
# itself (SIGTERM + start; a fresh daemon reads the labels of every session
# it picks up). "auto" picks cmd when `ftpalgd --help` lists --resync,
# usr2 when it mentions SIGUSR2, otherwise restart.
HA_RESYNC=${HA_RESYNC:-auto}
ha_resync_mode() {
  if [[ $HA_RESYNC == auto ]]; then
    local help
    help=$("$FTPALGD" --help 2>&1)
    if grep -e '--resync' <<<"$help" >/dev/null; then HA_RESYNC=cmd
    elif grep -e 'USR2' <<<"$help" >/dev/null; then HA_RESYNC=usr2
    else HA_RESYNC=restart; fi
  fi
  echo "$HA_RESYNC"
}

# ------------------------------------------------------------- failover --
# The notify command each gateway runs (by the test, or by keepalived with
# HA_KEEPALIVED=1): a wrapper with this gateway's conntrackd config and the
# resync command of the chosen mode, logging to notify.gwN.log.
ha_notify_wrapper() { # N
  local n=$1 w resync=""
  w=$HA_T/notify-gw$n.sh
  case $HA_RESYNC in
    cmd)
      # The daemon of this namespace, reached through its own socket.
      "$FTPALGD" --help 2>&1 | grep -e '--stats-socket' >/dev/null &&
        resync="export FTPALGD_RESYNC_CMD='$FTPALGD --resync --stats-socket $HA_T/ftpalgd.gw$n.sock'"
      ;;
    usr2) resync="export FTPALGD_RESYNC_CMD='kill -USR2 \$(cat $HA_T/ftpalgd.gw$n.pid)'" ;;
    restart) resync="export FTPALGD_RESYNC_CMD=true" ;;
  esac
  cat >"$w" <<EOF
#!/bin/sh
exec >>$HA_T/notify.gw$n.log 2>&1
export CONNTRACKD_CONF=$HA_T/ctd/gw$n.conf FTPALGD=$FTPALGD FTPALG_HA_LOG=stderr
$resync
echo "notify \$*"
exec timeout 30 $HA_NOTIFY "\$@"
EOF
  chmod 755 "$w"
}

ha_notify() { # N STATE
  gwn "$1" "$HA_T/notify-gw$1.sh" "$2"
}

HA_ACTIVE=1
# FROM is cut off: its links go down. Then, as keepalived would (or, with
# HA_KEEPALIVED=1, keepalived itself): FROM loses the VIPs, TO gets them,
# the hosts learn the new MAC (here: neighbour caches flushed; keepalived:
# gratuitous ARP), TO runs ftpalg-ha-notify MASTER.
ha_failover() { # FROM TO
  local from=$1 to=$2 rc=0 t0 ns before
  t0=$(date +%s.%N)
  if [[ ${HA_KEEPALIVED:-0} == 1 ]]; then
    before=$(grep -c 'resync (' "$HA_T/notify.gw$to.log" 2>/dev/null)
    gwn "$from" ip link set lan0 down
    gwn "$from" ip link set wan0 down
    ha_wait_notify "$to" 'resync \(' "${before:-0}" || rc=1
  else
    gwn "$from" ip link set lan0 down
    gwn "$from" ip link set wan0 down
    ha_vips_del "$from"
    ha_vips_add "$to"
    for ns in "$NS_HCLI" "$NS_HSRV" "$NS_HINS"; do ip -n "$ns" neigh flush all 2>/dev/null; done
    ha_notify "$to" MASTER || rc=$?
  fi
  HA_ACTIVE=$to
  if [[ $HA_RESYNC == restart ]]; then
    echo "INFO: resync by restart: ftpalgd on gw$to restarted (no --resync/SIGUSR2 in this ftpalgd)" >>"$HA_T/events.log"
    ha_alg_stop "$to" TERM
    ha_alg_start "$to" || rc=1
  fi
  echo "failover gw$from -> gw$to: rc=$rc, $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s" \
    >>"$HA_T/events.log"
  return $rc
}

# The old master comes back: links up, as a backup (no VIPs, notify BACKUP).
ha_recover() { # N
  local before
  if [[ ${HA_KEEPALIVED:-0} == 1 ]]; then
    before=$(grep -c 'becoming BACKUP' "$HA_T/notify.gw$1.log" 2>/dev/null)
    gwn "$1" ip link set lan0 up
    gwn "$1" ip link set wan0 up
    ha_wait_notify "$1" 'becoming BACKUP' "${before:-0}"
  else
    gwn "$1" ip link set lan0 up
    gwn "$1" ip link set wan0 up
    ha_notify "$1" BACKUP
  fi
}

ha_wait_notify() { # N REGEX COUNT_BEFORE: bounded wait for one more matching line
  local i
  for ((i = 0; i < 200; i++)); do
    (($(grep -Ec "$2" "$HA_T/notify.gw$1.log" 2>/dev/null) > $3)) && return 0
    sleep 0.1
  done
  log "ha: gw$1: no /$2/ in notify.gw$1.log within 20 s"
  return 1
}

# ------------------------------------------------------------ keepalived --
# HA_KEEPALIVED=1: real keepalived (VRRP over the LAN and WAN segments, one
# sync group, nopreempt so a recovered gateway stays backup) moves the VIPs,
# sends gratuitous ARP and calls the notify wrapper. Slower (a failover waits
# for the master-down timer, about 3.5 s); optional.
ha_keepalived_start() { # N
  local n=$1 d=$HA_T/ka prio=100
  ((n == 1)) && prio=150
  mkdir -p "$d"
  cat >"$d/gw$n.conf" <<EOF
global_defs {
    router_id ftpalg-gw$n
    script_user root
}
vrrp_sync_group FTPGW {
    group {
        LAN
        WAN
    }
    notify "$HA_T/notify-gw$n.sh"
}
vrrp_instance LAN {
    state BACKUP
    nopreempt
    interface lan0
    virtual_router_id 51
    priority $prio
    advert_int 1
    virtual_ipaddress {
        $H_VIP_LAN/24 dev lan0
        $H_VIP_LAN2/24 dev lan0
    }
}
vrrp_instance WAN {
    state BACKUP
    nopreempt
    interface wan0
    virtual_router_id 52
    priority $prio
    advert_int 1
    virtual_ipaddress {
        $H_VIP_WAN/24 dev wan0
    }
}
EOF
  ha_start_bg "$d/gw$n.out" "$HA_P-gw$n" keepalived -n -l -G -P -f "$d/gw$n.conf" \
    -p "$d/gw$n.pid" -r "$d/gw$n.vrrp.pid" >/dev/null
}

# Both keepalived instances up, gw1 (higher priority) elected: VIPs on gw1.
ha_keepalived_up() {
  local i
  ha_keepalived_start 1
  ha_keepalived_start 2
  for ((i = 0; i < 150; i++)); do
    gwn 1 ip -o addr show dev wan0 | grep -F " $H_VIP_WAN/" >/dev/null &&
      grep 'resync (' "$HA_T/notify.gw1.log" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "ha: keepalived did not make gw1 master within 15 s:"; tail -n 20 "$HA_T/ka/gw1.out" >&2
  return 1
}

# ------------------------------------------------------------ teardown --
ha_down() {
  local rc=$? pid
  [[ $HA_IS_UP == 1 ]] || return $rc
  HA_IS_UP=0
  [[ -n ${HA_CLIENT_FD:-} ]] && exec {HA_CLIENT_FD}>&- 2>/dev/null
  for pid in "${HA_PIDS[@]}"; do stop_pid "$pid" TERM; done
  HA_PIDS=()
  netns_delete "${HA_NS[@]}"
  if [[ -n $HA_T && -d $HA_T ]]; then
    if [[ ${E2E_KEEP:-0} == 1 ]]; then log "ha: kept $HA_T"; else rm -rf "$HA_T"; fi
  fi
  return $rc
}

# ------------------------------------------------- counters and checks --
ha_fw_count() { # N COMMENT
  gwn "$1" iptables -w -vxnL FORWARD 2>/dev/null | awk -v c="/* $2 */" 'index($0, c) { s += $1 } END { print s + 0 }'
}
ha_out_rsts() { # N
  gwn "$1" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutRsts") c = i; h = 1 } else print $c }' /proc/net/snmp
}
ha_ct_invalid() { # N
  gwn "$1" conntrack -S 2>/dev/null | grep -o 'invalid=[0-9]*' | awk -F= '{ s += $2 } END { print s + 0 }'
}
# ftpalgd --stats of gwN's daemon (its own socket in $HA_T).
ha_stats() { # N
  timeout 10 "$FTPALGD" --stats --stats-socket "$HA_T/ftpalgd.gw$1.sock" 2>&1
}
ha_rewrites() { # N
  local f=${HA_ALG_LOG[$1]:-} c=0
  [[ -n $f && -f $f ]] && c=$(grep -c REWRITE "$f")
  echo "${c:-0}"
}
