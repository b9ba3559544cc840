// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/options.h"

#include <algorithm>
#include <charconv>

#include "adapters/stderr_logger.h"

namespace ftpalg {
namespace {

constexpr size_t kMaxControlPorts = 16;
constexpr size_t kMaxInside = 64;

std::string Quote(std::string_view text) {
  return "'" + EscapeForLog(text, 64) + "'";
}

// Decimal digits only (no sign, no spaces), within [min, max].
bool ParseBounded(std::string_view text, uint64_t min, uint64_t max,
                  uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  if (v < min || v > max) return false;
  *out = v;
  return true;
}

bool NumberError(std::string_view name, std::string_view value, uint64_t min,
                 uint64_t max, std::string* error) {
  *error = "--" + std::string(name) + ": " + Quote(value) +
           " is not a number within " + std::to_string(min) + ".." +
           std::to_string(max);
  return false;
}

enum class Kind : uint8_t { kFlag, kValue };

struct Spec {
  std::string_view name;
  Kind kind;
};

constexpr Spec kSpecs[] = {
    {"queue", Kind::kValue},       {"public-ip", Kind::kValue},
    {"inside", Kind::kValue},      {"control-port", Kind::kValue},
    {"max-sessions", Kind::kValue}, {"queue-maxlen", Kind::kValue},
    {"max-expectations", Kind::kValue},
    {"max-expectations-per-session", Kind::kValue},
    {"mechanism", Kind::kValue},   {"log-level", Kind::kValue},
    {"fail-closed", Kind::kFlag},  {"fail-open", Kind::kFlag},
    {"no-batch", Kind::kFlag},     {"user", Kind::kValue},
    {"log-target", Kind::kValue},  {"log-rate", Kind::kValue},
    {"stats-socket", Kind::kValue},
    {"config", Kind::kValue},      {"check", Kind::kFlag},
    {"print-config", Kind::kFlag}, {"stats", Kind::kFlag},
    {"prometheus", Kind::kFlag},  {"resync", Kind::kFlag},
    {"help", Kind::kFlag},         {"version", Kind::kFlag},
};

// Actions and the file itself: command line only.
bool CommandLineOnly(std::string_view name) {
  return name == "config" || name == "check" || name == "print-config" ||
         name == "stats" || name == "prometheus" || name == "resync" ||
         name == "help" ||
         name == "version";
}

// A unix socket path fits in sockaddr_un (108 bytes with its NUL).
constexpr size_t kMaxSocketPath = 107;

const Spec* FindSpec(std::string_view name) {
  for (const Spec& s : kSpecs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

struct PassState {
  bool inside_seen = false;
  bool ports_seen = false;
  bool public_v4_seen = false;
  bool public_v6_seen = false;
};

bool Apply(std::string_view name, std::string_view value, PassState& pass,
           DaemonOptions* o, std::string* error) {
  uint64_t n = 0;
  if (name == "queue") {
    if (!ParseBounded(value, 0, 65534, &n)) {
      return NumberError(name, value, 0, 65534, error);
    }
    o->queue = static_cast<uint16_t>(n);
  } else if (name == "public-ip") {
    const std::optional<IpAddress> a = IpAddress::Parse(value);
    if (!a) {
      *error = "--public-ip: " + Quote(value) + " is not an IPv4 or IPv6 address";
      return false;
    }
    if (a->IsV4Mapped()) {
      *error = "--public-ip: " + Quote(value) +
               " is IPv4-mapped IPv6: give the IPv4 address";
      return false;
    }
    bool& seen = a->family == Family::kV4 ? pass.public_v4_seen
                                          : pass.public_v6_seen;
    if (seen) {
      *error = std::string("--public-ip: only one ") +
               (a->family == Family::kV4 ? "IPv4" : "IPv6") +
               " address may be given";
      return false;
    }
    seen = true;
    (a->family == Family::kV4 ? o->public_v4 : o->public_v6) = *a;
  } else if (name == "inside") {
    const std::optional<Cidr> c = Cidr::Parse(value);
    if (!c) {
      *error = "--inside: " + Quote(value) + " is not an address/prefix";
      return false;
    }
    if (!pass.inside_seen) o->inside.clear();
    pass.inside_seen = true;
    if (o->inside.size() >= kMaxInside) {
      *error = "--inside: at most " + std::to_string(kMaxInside) + " prefixes";
      return false;
    }
    o->inside.push_back(*c);
  } else if (name == "control-port") {
    if (!ParseBounded(value, 1, 65535, &n)) {
      return NumberError(name, value, 1, 65535, error);
    }
    if (!pass.ports_seen) o->control_ports.clear();
    pass.ports_seen = true;
    const auto port = static_cast<uint16_t>(n);
    if (std::find(o->control_ports.begin(), o->control_ports.end(), port) !=
        o->control_ports.end()) {
      *error = "--control-port: " + std::to_string(port) + " given twice";
      return false;
    }
    if (o->control_ports.size() >= kMaxControlPorts) {
      *error = "--control-port: at most " + std::to_string(kMaxControlPorts) +
               " ports";
      return false;
    }
    o->control_ports.push_back(port);
  } else if (name == "max-sessions") {
    if (!ParseBounded(value, 1, 16u * 1024 * 1024, &n)) {
      return NumberError(name, value, 1, 16u * 1024 * 1024, error);
    }
    o->max_sessions = static_cast<uint32_t>(n);
  } else if (name == "max-expectations") {
    if (!ParseBounded(value, 1, 16u * 1024 * 1024, &n)) {
      return NumberError(name, value, 1, 16u * 1024 * 1024, error);
    }
    o->max_expectations = static_cast<uint32_t>(n);
  } else if (name == "max-expectations-per-session") {
    if (!ParseBounded(value, 1, 1024, &n)) {
      return NumberError(name, value, 1, 1024, error);
    }
    o->max_expectations_per_session = static_cast<uint16_t>(n);
  } else if (name == "queue-maxlen") {
    if (!ParseBounded(value, 16, 1u << 20, &n)) {
      return NumberError(name, value, 16, 1u << 20, error);
    }
    o->queue_maxlen = static_cast<uint32_t>(n);
  } else if (name == "mechanism") {
    if (value == "auto") {
      o->mechanism = Mechanism::kAuto;
    } else if (value == "expect") {
      o->mechanism = Mechanism::kExpect;
    } else if (value == "precreate") {
      o->mechanism = Mechanism::kPrecreate;
    } else {
      *error = "--mechanism: " + Quote(value) +
               " is not one of auto, expect, precreate";
      return false;
    }
  } else if (name == "log-level") {
    if (!ParseLogLevel(value, &o->log_level)) {
      *error = "--log-level: " + Quote(value) +
               " is not one of debug, info, warn, error";
      return false;
    }
  } else if (name == "fail-closed") {
    o->fail_closed = true;
  } else if (name == "fail-open") {
    o->fail_closed = false;
  } else if (name == "no-batch") {
    o->no_batch = true;
  } else if (name == "user") {
    bool ok = !value.empty() && value.size() <= 32 && value[0] != '-';
    for (char c : value) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.');
    }
    if (!ok) {
      *error = "--user: " + Quote(value) + " is not a user name";
      return false;
    }
    o->user = std::string(value);
  } else if (name == "log-target") {
    if (value == "stderr") {
      o->log_target = LogTarget::kStderr;
    } else if (value == "syslog") {
      o->log_target = LogTarget::kSyslog;
    } else {
      *error = "--log-target: " + Quote(value) + " is not one of stderr, syslog";
      return false;
    }
  } else if (name == "log-rate") {
    if (!ParseBounded(value, 0, 1000000, &n)) {
      return NumberError(name, value, 0, 1000000, error);
    }
    o->log_rate = static_cast<uint32_t>(n);
  } else if (name == "stats-socket") {
    if (value == "none") {
      o->stats_socket.clear();
    } else if (value.empty() || value[0] != '/') {
      *error = "--stats-socket: " + Quote(value) +
               " is not an absolute path (or none)";
      return false;
    } else if (value.size() > kMaxSocketPath) {
      *error = "--stats-socket: path longer than " +
               std::to_string(kMaxSocketPath) + " bytes";
      return false;
    } else {
      for (char c : value) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          *error = "--stats-socket: " + Quote(value) +
                   " contains control characters";
          return false;
        }
      }
      o->stats_socket = std::string(value);
    }
  } else if (name == "print-config") {
    o->print_config = true;
  } else if (name == "stats") {
    o->stats = true;
  } else if (name == "prometheus") {
    o->prometheus = true;
  } else if (name == "resync") {
    o->resync = true;
  } else if (name == "config") {
    if (value.empty() || value.size() > 4096) {
      *error = "--config: a file name is needed";
      return false;
    }
    o->config_file = std::string(value);
  } else if (name == "check") {
    o->check = true;
  } else if (name == "help") {
    o->help = true;
  } else if (name == "version") {
    o->version = true;
  }
  return true;
}

}  // namespace

std::string_view LogTargetName(LogTarget t) {
  return t == LogTarget::kSyslog ? "syslog" : "stderr";
}

std::string_view MechanismName(Mechanism m) {
  switch (m) {
    case Mechanism::kAuto: return "auto";
    case Mechanism::kExpect: return "expect";
    case Mechanism::kPrecreate: return "precreate";
  }
  return "?";
}

bool ParseArgs(const std::vector<std::string_view>& args,
               DaemonOptions* options, std::string* error) {
  PassState pass;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h") arg = "--help";
    if (arg == "-V") arg = "--version";
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      *error = "unexpected argument " + Quote(arg) + " (see --help)";
      return false;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (const size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const Spec* spec = FindSpec(name);
    if (spec == nullptr) {
      *error = "unknown option " + Quote(arg.substr(0, arg.find('='))) +
               " (see --help)";
      return false;
    }
    if (spec->kind == Kind::kFlag) {
      if (value) {
        *error = "--" + std::string(name) + " takes no value";
        return false;
      }
      value = std::string_view();
    } else if (!value) {
      if (i + 1 >= args.size()) {
        *error = "--" + std::string(name) + " needs a value";
        return false;
      }
      value = args[++i];
    }
    if (!Apply(name, *value, pass, options, error)) return false;
  }
  return true;
}

bool ParseConfigText(std::string_view file_name, std::string_view text,
                     DaemonOptions* options, std::string* error) {
  const std::string file(file_name);
  if (text.size() > 1024 * 1024) {
    *error = file + ": larger than 1 MiB";
    return false;
  }
  PassState pass;
  size_t line_no = 0;
  auto fail = [&](const std::string& reason) {
    *error = file + ":" + std::to_string(line_no) + ": " + reason;
    return false;
  };
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    size_t sp = 0;
    while (sp < line.size() && !is_space(line[sp])) ++sp;
    std::string_view name = line.substr(0, sp);
    std::string_view value = line.substr(sp);
    while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
    if (name.substr(0, 2) == "--") name.remove_prefix(2);
    const Spec* spec = FindSpec(name);
    if (spec == nullptr) return fail("unknown option " + Quote(name));
    if (CommandLineOnly(name)) {
      return fail(Quote(name) + " is not allowed in a config file");
    }
    if (spec->kind == Kind::kFlag && !value.empty()) {
      return fail(Quote(name) + " takes no value");
    }
    if (spec->kind == Kind::kValue && value.empty()) {
      return fail(Quote(name) + " needs a value");
    }
    std::string reason;
    if (!Apply(name, value, pass, options, &reason)) return fail(reason);
  }
  return true;
}

std::string CheckOptionCombination(const DaemonOptions& o) {
  if (o.prometheus && !o.stats) return "--prometheus is only used with --stats";
  const int actions = (o.check ? 1 : 0) + (o.print_config ? 1 : 0) +
                      (o.stats ? 1 : 0) + (o.resync ? 1 : 0);
  if (actions > 1) {
    return "--check, --print-config, --stats and --resync exclude each other";
  }
  if (o.stats && o.stats_socket.empty()) {
    return "--stats: the stats socket is disabled (--stats-socket none)";
  }
  if (o.resync && o.stats_socket.empty()) {
    return "--resync: the stats socket is disabled (--stats-socket none)";
  }
  return "";
}

EngineConfig MakeEngineConfig(const DaemonOptions& o) {
  EngineConfig c;
  if (!o.control_ports.empty()) c.control_ports = o.control_ports;
  if (!o.inside.empty()) c.inside = o.inside;
  c.public_v4 = o.public_v4;
  c.public_v6 = o.public_v6;
  if (o.max_sessions) c.max_sessions = *o.max_sessions;
  if (o.max_expectations) c.max_expectations = *o.max_expectations;
  if (o.max_expectations_per_session) {
    c.max_expectations_per_session = *o.max_expectations_per_session;
  }
  return c;
}

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
resets log rate limits); USR1 logs counters; USR2 = --resync.
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
