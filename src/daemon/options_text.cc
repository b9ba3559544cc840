// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's options as text: the one-line description logged at start-up and
// on SIGHUP, the effective configuration in config-file syntax
// (--print-config), and the --help and --version texts.
#include "daemon/options.h"

namespace ftpalg {

std::string DescribeOptions(const DaemonOptions& o) {
  const EngineConfig c = MakeEngineConfig(o);
  std::string s = "queues control=" + std::to_string(o.queue) +
                  " data-syn=" + std::to_string(o.data_queue()) +
                  " maxlen=" + std::to_string(o.queue_maxlen) + " " +
                  (o.fail_closed ? "fail-closed" : "fail-open") + " ports=";
  for (size_t i = 0; i < c.control_ports.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(c.control_ports[i]);
  }
  s += " inside=";
  for (size_t i = 0; i < c.inside.size(); ++i) {
    if (i > 0) s += ',';
    s += c.inside[i].ToString();
  }
  s += " public-ip=";
  s += c.public_v4 ? c.public_v4->ToString() : "learned";
  s += "/";
  s += c.public_v6 ? c.public_v6->ToString() : "learned";
  s += " max-sessions=" + std::to_string(c.max_sessions) +
       " max-expectations=" + std::to_string(c.max_expectations) + "/" +
       std::to_string(c.max_expectations_per_session) + "-per-session" +
       " mechanism=" + std::string(MechanismName(o.mechanism)) +
       " log-level=" + std::string(LevelName(o.log_level)) +
       " log-target=" + std::string(LogTargetName(o.log_target)) +
       " log-rate=" + std::to_string(o.log_rate) +
       " stats-socket=" + (o.stats_socket.empty() ? "none" : o.stats_socket);
  if (o.no_batch) s += " no-batch";
  if (!o.user.empty()) s += " user=" + o.user;
  if (!o.events.empty()) s += " events=" + o.events;
  return s;
}

std::string ConfigText(const DaemonOptions& o) {
  const EngineConfig c = MakeEngineConfig(o);
  std::string s = "# ftpalgd " + std::string(kVersion) +
                  ": effective configuration (defaults included)\n";
  s += "# config file: " + (o.config_file.empty() ? "none" : o.config_file) + "\n";
  s += "queue " + std::to_string(o.queue) + "\n";
  if (!o.public_v4 && !o.public_v6) {
    s += "# public-ip (unset: learned per connection from conntrack)\n";
  }
  for (const auto& a : {o.public_v4, o.public_v6}) {
    if (a) s += "public-ip " + a->ToString() + "\n";
  }
  for (const Cidr& p : c.inside) s += "inside " + p.ToString() + "\n";
  for (uint16_t p : c.control_ports) s += "control-port " + std::to_string(p) + "\n";
  s += "max-sessions " + std::to_string(c.max_sessions) + "\n";
  s += "max-expectations " + std::to_string(c.max_expectations) + "\n";
  s += "max-expectations-per-session " +
       std::to_string(c.max_expectations_per_session) + "\n";
  s += "gap-timeout-ms " + std::to_string(c.gap_timeout_ms) + "\n";
  s += "queue-maxlen " + std::to_string(o.queue_maxlen) + "\n";
  s += "mechanism " + std::string(MechanismName(o.mechanism)) + "\n";
  s += "log-level " + std::string(LevelName(o.log_level)) + "\n";
  s += "log-target " + std::string(LogTargetName(o.log_target)) + "\n";
  s += "log-rate " + std::to_string(o.log_rate) + "\n";
  s += o.fail_closed ? "fail-closed\n" : "fail-open\n";
  s += o.no_batch ? "no-batch\n" : "# no-batch (unset: verdicts are batched)\n";
  s += o.user.empty() ? "# user (unset: stays root, keeping only CAP_NET_ADMIN)\n"
                      : "user " + o.user + "\n";
  s += "stats-socket " + (o.stats_socket.empty() ? "none" : o.stats_socket) + "\n";
  s += o.events.empty() ? "# events (unset: no NAT-binding records)\n"
                        : "events " + o.events + "\n";
  return s;
}

std::string UsageText() {
  return R"(Usage: ftpalgd [OPTION]...
Transparent FTP ALG for a Linux NAT gateway (NFQUEUE + ctnetlink). Runs in
the foreground; install the rules first with `ftpalg-rules install`
(scripts/ftpalg-rules in the source tree).
Options are read from /etc/ftpalg/ftpalgd.conf when it exists (see --config),
then from the command line, which overrides the file.

  --queue N            control queue (default 0); data SYNs use queue N+1
  --public-ip ADDR     public address override, one IPv4 and/or one IPv6
                       (default: learned per connection from conntrack)
  --inside CIDR        inside (private) prefix; repeatable; replaces the
                       default 10/8,172.16/12,192.168/16,100.64/10,fc00::/7
  --control-port N     FTP control port; repeatable (default 21)
  --max-sessions N     control sessions tracked (1..16777216, default 65536)
  --max-expectations N pending data connections, all sessions (1..16777216,
                       default 65536); announcements beyond are refused
  --max-expectations-per-session N
                       pending data connections per session (1..1024,
                       default 8); the oldest is withdrawn beyond this
  --gap-timeout-ms N   how long segments beyond a hole in a control stream
                       wait for the hole to fill (100..600000, default
                       8000); then the bytes after it pass unparsed
  --queue-maxlen N     packets the kernel may hold per queue (16..1048576,
                       default 4096)
  --mechanism M        data connections: auto (default), expect, precreate
  --log-level L        debug, info (default), warn, error
  --log-target T       stderr (default; timestamped lines) or syslog
                       (facility daemon, ident ftpalgd)
  --log-rate N         log lines per second per level (0..1000000, default
                       200; 0: unlimited); the rest is counted and reported
  --fail-closed        drop packets when the queue overflows
  --fail-open          let them pass unchanged when it overflows (default);
                       the rules always use --queue-bypass, so a stopped
                       daemon never blocks traffic
  --no-batch           send one verdict per packet, at once (benchmarks;
                       default: batch verdicts per queue and wakeup)
  --user NAME          after opening its sockets, switch to user NAME (its
                       uid and primary gid), keeping only CAP_NET_ADMIN;
                       without it ftpalgd stays root but also keeps only
                       CAP_NET_ADMIN. The config file must stay readable
                       by NAME for SIGHUP reloads
  --stats-socket PATH  unix socket for --stats (default
                       /run/ftpalg/ftpalgd.sock, mode 0600, owned by the
                       daemon's user; its directory is created 0755 if
                       missing); none: no socket
  --events FILE        append NAT-binding records (session and data
                       connection start, use and end; one JSON object per
                       line, docs/events.md) to FILE (absolute path; a
                       FIFO works once its reader is open); reopened on
                       SIGHUP; none: off (default)

Actions (command line only):
  --config FILE        read options from FILE instead of the default file
                       ("name value" per line, '#' comment lines); a named
                       file must exist; SIGHUP re-reads it
  --check              probe the kernel and report readiness (exit 0 ready,
                       1 not ready)
  --print-config       print the effective configuration in config-file
                       syntax, every option with its value, and exit
  --stats              print the running daemon's counters (from
                       --stats-socket): one "name value" per line
  --prometheus         with --stats: Prometheus text exposition format
  --resync             ask the running daemon (over --stats-socket) to
                       re-create pending data connections from the
                       conntrack table, e.g. after a conntrackd commit on
                       failover; prints the counts (exit 1 on errors)
  -h, --help           display this help and exit
  -V, --version        output version information and exit

Signals: TERM/INT stop cleanly; HUP reloads (re-reads the config file,
applies --log-level and --log-rate, names settings that need a restart,
resets log rate limits, reopens the --events file); USR1 logs counters;
USR2 = --resync.
Environment: FTPALGD_DEFAULT_CONFIG replaces the default config file path
(empty: no default file).
Exit status: 0 success, 1 runtime/permission failure (or not ready, or no
daemon to ask), 2 bad options or config file.
)";
}

std::string VersionText() {
  return "ftpalgd (ftpalg) " + std::string(kVersion) + "\n"
         "Copyright (C) 2026 the ftpalg authors.\n"
         "License GPLv2+: GNU GPL version 2 or later "
         "<https://gnu.org/licenses/gpl.html>.\n"
         "This is free software: you are free to change and redistribute it.\n"
         "There is NO WARRANTY, to the extent permitted by law.\n";
}

}  // namespace ftpalg
