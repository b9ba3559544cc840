// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/options.h"

#include "daemon/option_table.h"

namespace ftpalg {

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
  OptionPass pass;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h") arg = "--help";
    if (arg == "-V") arg = "--version";
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      *error = "unexpected argument " + QuoteOptionValue(arg) + " (see --help)";
      return false;
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (const size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionSpec* spec = FindOption(name);
    if (spec == nullptr) {
      *error = "unknown option " + QuoteOptionValue(arg.substr(0, arg.find('='))) +
               " (see --help)";
      return false;
    }
    if (!spec->takes_value) {
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
    if (!spec->apply(OptionUse{name, *value, pass, options, error})) return false;
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
  OptionPass pass;
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
    const OptionSpec* spec = FindOption(name);
    if (spec == nullptr) return fail("unknown option " + QuoteOptionValue(name));
    if (spec->command_line_only) {
      return fail(QuoteOptionValue(name) + " is not allowed in a config file");
    }
    if (!spec->takes_value && !value.empty()) {
      return fail(QuoteOptionValue(name) + " takes no value");
    }
    if (spec->takes_value && value.empty()) {
      return fail(QuoteOptionValue(name) + " needs a value");
    }
    std::string reason;
    if (!spec->apply(OptionUse{name, value, pass, options, &reason})) return fail(reason);
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
  if (o.gap_timeout_ms) c.gap_timeout_ms = *o.gap_timeout_ms;
  if (o.max_expectations_per_session) {
    c.max_expectations_per_session = *o.max_expectations_per_session;
  }
  return c;
}

}  // namespace ftpalg
