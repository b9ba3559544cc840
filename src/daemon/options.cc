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
    {"config", Kind::kValue},      {"check", Kind::kFlag},
    {"help", Kind::kFlag},         {"version", Kind::kFlag},
};

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

bool ConfigTextToArgs(std::string_view text, std::vector<std::string>* args,
                      std::string* error) {
  if (text.size() > 1024 * 1024) {
    *error = "config file larger than 1 MiB";
    return false;
  }
  size_t line_no = 0;
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
    const std::string where = "config line " + std::to_string(line_no) + ": ";
    if (spec == nullptr) {
      *error = where + "unknown option " + Quote(name);
      return false;
    }
    if (name == "config" || name == "check" || name == "help" ||
        name == "version") {
      *error = where + Quote(name) + " is not allowed in a config file";
      return false;
    }
    if (spec->kind == Kind::kFlag && !value.empty()) {
      *error = where + Quote(name) + " takes no value";
      return false;
    }
    if (spec->kind == Kind::kValue && value.empty()) {
      *error = where + Quote(name) + " needs a value";
      return false;
    }
    args->push_back("--" + std::string(name));
    if (spec->kind == Kind::kValue) args->emplace_back(value);
  }
  return true;
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
       " log-level=" + std::string(LevelName(o.log_level));
  if (o.no_batch) s += " no-batch";
  if (!o.user.empty()) s += " user=" + o.user;
  return s;
}

std::string UsageText() {
  return R"(usage: ftpalgd [options]
Transparent FTP ALG for a Linux NAT gateway (NFQUEUE + ctnetlink). Runs in
the foreground; install the rules first with `scripts/ftpalg-rules install`.

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
  --queue-maxlen N     packets the kernel may hold per queue (default 4096)
  --mechanism M        data connections: auto (default), expect, precreate
  --log-level L        debug, info (default), warn, error
  --fail-closed        drop packets when the queue overflows (default:
                       fail-open, they pass unchanged); the rules always
                       use --queue-bypass, so a stopped daemon never blocks
  --no-batch           send one verdict per packet, at once (benchmarks;
                       default: batch verdicts per queue and wakeup)
  --user NAME          after opening its sockets, switch to user NAME (its
                       uid and primary gid), keeping only CAP_NET_ADMIN;
                       without it ftpalgd stays root but also keeps only
                       CAP_NET_ADMIN. A --config file must stay readable
                       by NAME for SIGHUP reloads
  --config FILE        read options from FILE ("name value" per line, '#'
                       comments); the command line overrides it; SIGHUP
                       re-reads it
  --check              probe the kernel and report readiness (exit 0 ready,
                       1 not ready)
  --help, --version

Signals: TERM/INT stop cleanly; HUP reloads (re-reads --config, applies the
log level, names settings that need a restart, resets log rate limits);
USR1 logs counters.
Exit status: 0 clean stop, 1 runtime/permission failure, 2 bad options.
)";
}

}  // namespace ftpalg
