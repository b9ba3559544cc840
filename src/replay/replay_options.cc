// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/replay_options.h"

#include <optional>

#include "ftpalg/inet.h"

namespace ftpalg {
namespace {

constexpr std::string_view kUsage =
    "usage: ftpalg-replay [--public-ip ADDR]... [--inside CIDR]...\n"
    "                     [--control-port N]... [--expectations FILE]\n"
    "                     [--all-expectations] [--trace FILE] [--events FILE]\n"
    "                     [--conntrack O_SRC,O_DST,R_SRC,R_DST]... [--max-line N]\n"
    "                     [--verbose]\n"
    "                     IN.pcap OUT.pcap\n"
    "       ftpalg-replay --help | --version\n"
    "  --public-ip ADDR     public address replacing inside ones (at most one\n"
    "                       IPv4 and one IPv6)\n"
    "  --inside CIDR        inside prefix (repeatable; replaces the default\n"
    "                       10/8 172.16/12 192.168/16 100.64/10 fc00::/7)\n"
    "  --control-port N     FTP control port (repeatable; default 21)\n"
    "  --expectations FILE  write expectation records as JSON Lines\n"
    "  --all-expectations   also those for announcements needing no rewrite\n"
    "  --trace FILE         write the golden-format text trace\n"
    "  --events FILE        write NAT-binding records (docs/events.md) as JSON Lines\n"
    "  --conntrack O_SRC,O_DST,R_SRC,R_DST  a NATed control connection's ORIGINAL\n"
    "                       and REPLY tuples (addr:port, [v6]:port; repeatable)\n"
    "  --max-line N         longest FTP line parsed, 64..4096 (default 512)\n"
    "  --verbose            engine log events on stderr\n"
    "IN: pcap, pcapng or gzip-compressed pcap. OUT: pcap, same link type.\n";

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// What one parse has seen so far.
struct ArgsSeen {
  std::vector<std::string_view> positional;
  bool inside_given = false;  // the first --inside replaces the defaults
  bool ports_given = false;   // the first --control-port replaces 21
  bool only_positional = false;  // after "--"
};

bool IsValueOption(std::string_view name) {
  return name == "--public-ip" || name == "--inside" || name == "--control-port" ||
         name == "--expectations" || name == "--trace" || name == "--events" || name == "--conntrack" || name == "--max-line";
}

std::string SetPublicIp(std::string_view value, EngineConfig& engine) {
  auto a = IpAddress::Parse(value);
  if (!a) return "--public-ip: not an IP address: " + Quote(value);
  auto& slot = a->family == Family::kV4 ? engine.public_v4 : engine.public_v6;
  if (slot) {
    return std::string("--public-ip: more than one ") +
           (a->family == Family::kV4 ? "IPv4" : "IPv6") +
           " address (at most one per family)";
  }
  slot = *a;
  return "";
}

std::string AddControlPort(std::string_view value, ArgsSeen& seen,
                           EngineConfig& engine) {
  unsigned long port = 0;
  if (!ParseBoundedNumber(value, 1, 65535, &port)) {
    return "--control-port: not a port number within 1..65535: " + Quote(value);
  }
  if (!seen.ports_given) engine.control_ports.clear();
  seen.ports_given = true;
  if (!engine.IsControlPort(static_cast<uint16_t>(port))) {
    engine.control_ports.push_back(static_cast<uint16_t>(port));
  }
  return "";
}

// One option that takes a (non-empty) value: "" or the error.
std::string ApplyValue(std::string_view name, std::string_view value,
                       ArgsSeen& seen, ReplayOptions* out) {
  if (name == "--public-ip") return SetPublicIp(value, out->engine);
  if (name == "--control-port") return AddControlPort(value, seen, out->engine);
  if (name == "--inside") {
    auto c = Cidr::Parse(value);
    if (!c) return "--inside: not a CIDR prefix: " + Quote(value);
    if (!seen.inside_given) out->engine.inside.clear();
    seen.inside_given = true;
    out->engine.inside.push_back(*c);
  } else if (name == "--max-line") {
    unsigned long n = 0;
    if (!ParseBoundedNumber(value, 64, 4096, &n)) {
      return "--max-line: not a number within 64..4096: " + Quote(value);
    }
    out->engine.max_line_len = static_cast<uint16_t>(n);
  } else if (name == "--expectations") {
    if (!out->expectations_path.empty()) return "--expectations given twice";
    out->expectations_path = std::string(value);
  } else if (name == "--trace") {
    if (!out->trace_path.empty()) return "--trace given twice";
    out->trace_path = std::string(value);
  } else if (name == "--conntrack") {
    const std::optional<DeclaredConntrack> d = ParseDeclaredConntrack(value);
    if (!d) return "--conntrack: not ORIG_SRC,ORIG_DST,REPLY_SRC,REPLY_DST (one family): " + Quote(value);
    out->conntracks.push_back(*d);
  } else if (name == "--events") {
    if (!out->events_path.empty()) return "--events given twice";
    out->events_path = std::string(value);
  }
  return "";
}

// IN and OUT, and the engine configuration as a whole: "" or the error.
std::string CheckFilesAndConfig(const std::vector<std::string_view>& positional,
                                ReplayOptions* out) {
  if (positional.size() != 2) {
    return positional.size() < 2 ? "missing IN.pcap and/or OUT.pcap"
                                 : "too many arguments: " + Quote(positional[2]);
  }
  out->input = std::string(positional[0]);
  out->output = std::string(positional[1]);
  if (out->input == out->output) return "IN and OUT must be different files";
  if (std::string err = out->engine.Validate(); !err.empty()) {
    return "invalid configuration: " + err;
  }
  return "";
}

}  // namespace

std::string_view ReplayUsage() { return kUsage; }

EngineConfig ReplayEngineDefaults() {
  EngineConfig c;
  c.offline_capture = true;
  c.expect_unrewritten = false;
  // Changed packets' checksums are summed on the writer thread
  // (record_pipeline.cc), off the engine's thread.
  c.defer_checksums = true;
  return c;
}

bool ParseBoundedNumber(std::string_view text, unsigned long lo,
                        unsigned long hi, unsigned long* out) {
  if (text.empty() || text.size() > 10) return false;
  unsigned long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

std::string ParseReplayArgs(const std::vector<std::string_view>& args,
                            ReplayOptions* out) {
  *out = ReplayOptions{};
  ArgsSeen seen;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (seen.only_positional || arg.size() < 2 || arg.substr(0, 2) != "--") {
      if (!seen.only_positional && arg.size() > 1 && arg[0] == '-') {
        return "unknown option " + Quote(arg);
      }
      seen.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      seen.only_positional = true;
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    if (name == "--help") {
      out->help = true;
      return "";
    }
    if (name == "--version") {
      out->version = true;
      return "";
    }
    if (name == "--verbose" || name == "--all-expectations") {
      if (inline_value) return std::string(name) + " takes no value";
      (name == "--verbose" ? out->verbose : out->engine.expect_unrewritten) = true;
      continue;
    }
    if (!IsValueOption(name)) return "unknown option " + Quote(name);
    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= args.size()) return std::string(name) + " needs a value";
      value = args[++i];
    }
    if (value.empty()) return std::string(name) + " needs a non-empty value";
    if (std::string err = ApplyValue(name, value, seen, out); !err.empty()) return err;
  }
  return CheckFilesAndConfig(seen.positional, out);
}

}  // namespace ftpalg
