// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/option_table.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <type_traits>

#include "adapters/stderr_logger.h"

namespace ftpalg {
namespace {

constexpr size_t kMaxControlPorts = 16;
constexpr size_t kMaxInside = 64;
// Sessions and expectations the engine may be asked to track.
constexpr uint64_t kMaxTable = 16u * 1024 * 1024;
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

bool Fail(const OptionUse& use, const std::string& reason) {
  *use.error = reason;
  return false;
}

// "--NAME: 'VALUE' why".
bool Refuse(const OptionUse& use, std::string_view why) {
  return Fail(use, "--" + std::string(use.name) + ": " + QuoteOptionValue(use.value) +
                       " " + std::string(why));
}

// The value as a number within [min, max], or false with the error set.
bool Number(const OptionUse& use, uint64_t min, uint64_t max, uint64_t* n) {
  if (ParseBounded(use.value, min, max, n)) return true;
  return Refuse(use, "is not a number within " + std::to_string(min) + ".." +
                         std::to_string(max));
}

// --- numbers: engine limits, queues, the log rate ---

// The integer type a DaemonOptions member holds (plain or optional).
template <typename T>
struct IntegerOf {
  using type = T;
};
template <typename T>
struct IntegerOf<std::optional<T>> {
  using type = T;
};

// A number within [Min, Max] stored in one member of DaemonOptions.
template <auto Member, uint64_t Min, uint64_t Max>
bool SetNumber(const OptionUse& use) {
  uint64_t n = 0;
  if (!Number(use, Min, Max, &n)) return false;
  auto& field = use.options->*Member;
  using Integer = typename IntegerOf<std::remove_reference_t<decltype(field)>>::type;
  field = static_cast<Integer>(n);
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
    return Refuse(use, "is not an IPv4 or IPv6 address");
  }
  if (a->IsV4Mapped()) {
    return Refuse(use, "is IPv4-mapped IPv6: give the IPv4 address");
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
    return Refuse(use, "is not an address/prefix");
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

template <typename Enum>
struct Choice {
  std::string_view name;
  Enum value;
};

// One of the named choices, or an error that lists them all.
template <typename Enum, size_t N>
bool SetChoice(const OptionUse& use, const Choice<Enum> (&choices)[N], Enum* field) {
  std::string names;
  for (const Choice<Enum>& c : choices) {
    if (use.value == c.name) {
      *field = c.value;
      return true;
    }
    names += (names.empty() ? "" : ", ") + std::string(c.name);
  }
  return Refuse(use, "is not one of " + names);
}

bool SetMechanism(const OptionUse& use) {
  static constexpr Choice<Mechanism> kMechanisms[] = {
      {"auto", Mechanism::kAuto},
      {"expect", Mechanism::kExpect},
      {"precreate", Mechanism::kPrecreate}};
  return SetChoice(use, kMechanisms, &use.options->mechanism);
}

bool SetLogTarget(const OptionUse& use) {
  static constexpr Choice<LogTarget> kTargets[] = {{"stderr", LogTarget::kStderr},
                                                   {"syslog", LogTarget::kSyslog}};
  return SetChoice(use, kTargets, &use.options->log_target);
}

bool SetLogLevel(const OptionUse& use) {
  if (ParseLogLevel(use.value, &use.options->log_level)) return true;
  return Refuse(use, "is not one of debug, info, warn, error");
}

// --- names and paths ---

bool SetUser(const OptionUse& use) {
  const std::string_view v = use.value;
  bool ok = !v.empty() && v.size() <= 32 && v[0] != '-';
  for (char c : v) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.');
  }
  if (!ok) return Refuse(use, "is not a user name");
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
    return Refuse(use, "is not an absolute path (or none)");
  }
  if (v.size() > kMaxSocketPath) {
    return Fail(use, "--stats-socket: path longer than " +
                         std::to_string(kMaxSocketPath) + " bytes");
  }
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Refuse(use, "contains control characters");
    }
  }
  use.options->stats_socket = std::string(v);
  return true;
}

bool SetEvents(const OptionUse& use) {
  const std::string_view v = use.value;
  if (v == "none") {
    use.options->events.clear();
    return true;
  }
  if (v.empty() || v[0] != '/' || v.size() > 4096) {
    return Refuse(use, "is not an absolute path (or none)");
  }
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Refuse(use, "contains control characters");
    }
  }
  use.options->events = std::string(v);
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
    {"queue", kValue, kAnywhere, SetNumber<&DaemonOptions::queue, 0, 65534>},
    {"public-ip", kValue, kAnywhere, SetPublicIp},
    {"inside", kValue, kAnywhere, AddInside},
    {"control-port", kValue, kAnywhere, AddControlPort},
    {"max-sessions", kValue, kAnywhere,
     SetNumber<&DaemonOptions::max_sessions, 1, kMaxTable>},
    {"queue-maxlen", kValue, kAnywhere,
     SetNumber<&DaemonOptions::queue_maxlen, 16, 1u << 20>},
    {"max-expectations", kValue, kAnywhere,
     SetNumber<&DaemonOptions::max_expectations, 1, kMaxTable>},
    {"max-expectations-per-session", kValue, kAnywhere,
     SetNumber<&DaemonOptions::max_expectations_per_session, 1, 1024>},
    {"gap-timeout-ms", kValue, kAnywhere,
     SetNumber<&DaemonOptions::gap_timeout_ms, 100, 600000>},
    {"mechanism", kValue, kAnywhere, SetMechanism},
    {"log-level", kValue, kAnywhere, SetLogLevel},
    {"fail-closed", kFlag, kAnywhere, SetFlag<&DaemonOptions::fail_closed>},
    {"fail-open", kFlag, kAnywhere, SetFlag<&DaemonOptions::fail_closed, false>},
    {"no-batch", kFlag, kAnywhere, SetFlag<&DaemonOptions::no_batch>},
    {"user", kValue, kAnywhere, SetUser},
    {"log-target", kValue, kAnywhere, SetLogTarget},
    {"log-rate", kValue, kAnywhere,
     SetNumber<&DaemonOptions::log_rate, 0, 1000000>},
    {"stats-socket", kValue, kAnywhere, SetStatsSocket},
    {"events", kValue, kAnywhere, SetEvents},
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
