// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/option_table.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "adapters/stderr_logger.h"

namespace ftpalg {
namespace {

constexpr size_t kMaxControlPorts = 16;
constexpr size_t kMaxInside = 64;
// A unix socket path fits in sockaddr_un (108 bytes with its NUL).
constexpr size_t kMaxSocketPath = 107;

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

// The value as a number within [min, max], or false with the error set.
bool Number(const OptionUse& use, uint64_t min, uint64_t max, uint64_t* n) {
  if (ParseBounded(use.value, min, max, n)) return true;
  *use.error = "--" + std::string(use.name) + ": " + QuoteOptionValue(use.value) +
               " is not a number within " + std::to_string(min) + ".." +
               std::to_string(max);
  return false;
}

bool Fail(const OptionUse& use, const std::string& reason) {
  *use.error = reason;
  return false;
}

// --- numbers: engine limits, queues, the log rate ---

bool SetQueue(const OptionUse& use) {
  uint64_t n = 0;
  if (!Number(use, 0, 65534, &n)) return false;
  use.options->queue = static_cast<uint16_t>(n);
  return true;
}

bool SetMaxSessions(const OptionUse& use) {
  uint64_t n = 0;
  if (!Number(use, 1, 16u * 1024 * 1024, &n)) return false;
  use.options->max_sessions = static_cast<uint32_t>(n);
  return true;
}

bool SetMaxExpectations(const OptionUse& use) {
  uint64_t n = 0;
  if (!Number(use, 1, 16u * 1024 * 1024, &n)) return false;
  use.options->max_expectations = static_cast<uint32_t>(n);
  return true;
}

bool SetMaxExpectationsPerSession(const OptionUse& use) {
  uint64_t n = 0;
  if (!Number(use, 1, 1024, &n)) return false;
  use.options->max_expectations_per_session = static_cast<uint16_t>(n);
  return true;
}

bool SetQueueMaxlen(const OptionUse& use) {
  uint64_t n = 0;
  if (!Number(use, 16, 1u << 20, &n)) return false;
  use.options->queue_maxlen = static_cast<uint32_t>(n);
  return true;
}

bool SetLogRate(const OptionUse& use) {
  uint64_t n = 0;
  if (!Number(use, 0, 1000000, &n)) return false;
  use.options->log_rate = static_cast<uint32_t>(n);
  return true;
}

bool AddControlPort(const OptionUse& use) {
  uint64_t n = 0;
  if (!Number(use, 1, 65535, &n)) return false;
  std::vector<uint16_t>& ports = use.options->control_ports;
  if (!use.pass.ports_seen) ports.clear();
  use.pass.ports_seen = true;
  const auto port = static_cast<uint16_t>(n);
  if (std::find(ports.begin(), ports.end(), port) != ports.end()) {
    return Fail(use, "--control-port: " + std::to_string(port) + " given twice");
  }
  if (ports.size() >= kMaxControlPorts) {
    return Fail(use, "--control-port: at most " + std::to_string(kMaxControlPorts) +
                         " ports");
  }
  ports.push_back(port);
  return true;
}

// --- addresses ---

bool SetPublicIp(const OptionUse& use) {
  const std::optional<IpAddress> a = IpAddress::Parse(use.value);
  if (!a) {
    return Fail(use, "--public-ip: " + QuoteOptionValue(use.value) +
                         " is not an IPv4 or IPv6 address");
  }
  if (a->IsV4Mapped()) {
    return Fail(use, "--public-ip: " + QuoteOptionValue(use.value) +
                         " is IPv4-mapped IPv6: give the IPv4 address");
  }
  const bool v4 = a->family == Family::kV4;
  bool& seen = v4 ? use.pass.public_v4_seen : use.pass.public_v6_seen;
  if (seen) {
    return Fail(use, std::string("--public-ip: only one ") + (v4 ? "IPv4" : "IPv6") +
                         " address may be given");
  }
  seen = true;
  (v4 ? use.options->public_v4 : use.options->public_v6) = *a;
  return true;
}

bool AddInside(const OptionUse& use) {
  const std::optional<Cidr> c = Cidr::Parse(use.value);
  if (!c) {
    return Fail(use, "--inside: " + QuoteOptionValue(use.value) +
                         " is not an address/prefix");
  }
  std::vector<Cidr>& inside = use.options->inside;
  if (!use.pass.inside_seen) inside.clear();
  use.pass.inside_seen = true;
  if (inside.size() >= kMaxInside) {
    return Fail(use, "--inside: at most " + std::to_string(kMaxInside) + " prefixes");
  }
  inside.push_back(*c);
  return true;
}

// --- choices ---

bool SetMechanism(const OptionUse& use) {
  if (use.value == "auto") {
    use.options->mechanism = Mechanism::kAuto;
  } else if (use.value == "expect") {
    use.options->mechanism = Mechanism::kExpect;
  } else if (use.value == "precreate") {
    use.options->mechanism = Mechanism::kPrecreate;
  } else {
    return Fail(use, "--mechanism: " + QuoteOptionValue(use.value) +
                         " is not one of auto, expect, precreate");
  }
  return true;
}

bool SetLogLevel(const OptionUse& use) {
  if (ParseLogLevel(use.value, &use.options->log_level)) return true;
  return Fail(use, "--log-level: " + QuoteOptionValue(use.value) +
                       " is not one of debug, info, warn, error");
}

bool SetLogTarget(const OptionUse& use) {
  if (use.value == "stderr") {
    use.options->log_target = LogTarget::kStderr;
  } else if (use.value == "syslog") {
    use.options->log_target = LogTarget::kSyslog;
  } else {
    return Fail(use, "--log-target: " + QuoteOptionValue(use.value) +
                         " is not one of stderr, syslog");
  }
  return true;
}

// --- names and paths ---

bool SetUser(const OptionUse& use) {
  const std::string_view v = use.value;
  bool ok = !v.empty() && v.size() <= 32 && v[0] != '-';
  for (char c : v) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.');
  }
  if (!ok) return Fail(use, "--user: " + QuoteOptionValue(v) + " is not a user name");
  use.options->user = std::string(v);
  return true;
}

bool SetStatsSocket(const OptionUse& use) {
  const std::string_view v = use.value;
  if (v == "none") {
    use.options->stats_socket.clear();
    return true;
  }
  if (v.empty() || v[0] != '/') {
    return Fail(use, "--stats-socket: " + QuoteOptionValue(v) +
                         " is not an absolute path (or none)");
  }
  if (v.size() > kMaxSocketPath) {
    return Fail(use, "--stats-socket: path longer than " +
                         std::to_string(kMaxSocketPath) + " bytes");
  }
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Fail(use, "--stats-socket: " + QuoteOptionValue(v) +
                           " contains control characters");
    }
  }
  use.options->stats_socket = std::string(v);
  return true;
}

bool SetConfigFile(const OptionUse& use) {
  if (use.value.empty() || use.value.size() > 4096) {
    return Fail(use, "--config: a file name is needed");
  }
  use.options->config_file = std::string(use.value);
  return true;
}

// --- flags ---

// A flag setting one bool member of DaemonOptions to `to`.
template <bool DaemonOptions::*Member, bool to = true>
bool SetFlag(const OptionUse& use) {
  use.options->*Member = to;
  return true;
}

constexpr bool kValue = true, kFlag = false;
constexpr bool kCommandLineOnly = true, kAnywhere = false;

constexpr OptionSpec kOptions[] = {
    {"queue", kValue, kAnywhere, SetQueue},
    {"public-ip", kValue, kAnywhere, SetPublicIp},
    {"inside", kValue, kAnywhere, AddInside},
    {"control-port", kValue, kAnywhere, AddControlPort},
    {"max-sessions", kValue, kAnywhere, SetMaxSessions},
    {"queue-maxlen", kValue, kAnywhere, SetQueueMaxlen},
    {"max-expectations", kValue, kAnywhere, SetMaxExpectations},
    {"max-expectations-per-session", kValue, kAnywhere,
     SetMaxExpectationsPerSession},
    {"mechanism", kValue, kAnywhere, SetMechanism},
    {"log-level", kValue, kAnywhere, SetLogLevel},
    {"fail-closed", kFlag, kAnywhere, SetFlag<&DaemonOptions::fail_closed>},
    {"fail-open", kFlag, kAnywhere, SetFlag<&DaemonOptions::fail_closed, false>},
    {"no-batch", kFlag, kAnywhere, SetFlag<&DaemonOptions::no_batch>},
    {"user", kValue, kAnywhere, SetUser},
    {"log-target", kValue, kAnywhere, SetLogTarget},
    {"log-rate", kValue, kAnywhere, SetLogRate},
    {"stats-socket", kValue, kAnywhere, SetStatsSocket},
    {"config", kValue, kCommandLineOnly, SetConfigFile},
    {"check", kFlag, kCommandLineOnly, SetFlag<&DaemonOptions::check>},
    {"print-config", kFlag, kCommandLineOnly, SetFlag<&DaemonOptions::print_config>},
    {"stats", kFlag, kCommandLineOnly, SetFlag<&DaemonOptions::stats>},
    {"prometheus", kFlag, kCommandLineOnly, SetFlag<&DaemonOptions::prometheus>},
    {"resync", kFlag, kCommandLineOnly, SetFlag<&DaemonOptions::resync>},
    {"help", kFlag, kCommandLineOnly, SetFlag<&DaemonOptions::help>},
    {"version", kFlag, kCommandLineOnly, SetFlag<&DaemonOptions::version>},
};

}  // namespace

std::string QuoteOptionValue(std::string_view text) {
  return "'" + EscapeForLog(text, 64) + "'";
}

const OptionSpec* FindOption(std::string_view name) {
  for (const OptionSpec& s : kOptions) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace ftpalg
