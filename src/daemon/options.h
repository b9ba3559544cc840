// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's command line (and optional --config file): pure parsing into
// DaemonOptions, bounded numbers, one-line errors. No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/config.h"
#include "ftpalg/inet.h"
#include "ftpalg/logger.h"

namespace ftpalg {

// How data connections are made RELATED (see the conntrack plane).
enum class Mechanism : uint8_t { kAuto, kExpect, kPrecreate };
std::string_view MechanismName(Mechanism m);

struct DaemonOptions {
  uint16_t queue = 0;  // control queue; the data-SYN queue is queue + 1
  std::optional<IpAddress> public_v4;
  std::optional<IpAddress> public_v6;
  std::vector<Cidr> inside;            // empty: the engine's defaults
  std::vector<uint16_t> control_ports;  // empty: 21
  std::optional<uint32_t> max_sessions;
  std::optional<uint32_t> max_expectations;              // global
  std::optional<uint16_t> max_expectations_per_session;
  uint32_t queue_maxlen = 4096;
  Mechanism mechanism = Mechanism::kAuto;
  LogLevel log_level = LogLevel::kInfo;
  bool fail_closed = false;  // default fail-open
  bool no_batch = false;     // one verdict message and send per packet
  std::string user;          // --user NAME: switch to it after opening sockets
  std::string config_file;   // --config FILE: options, one per line
  bool check = false;
  bool help = false;
  bool version = false;

  uint16_t data_queue() const { return static_cast<uint16_t>(queue + 1); }
};

// Parses args (argv without argv[0]) on top of *options: scalar options
// override, and the first use of a repeatable option in this call replaces
// the list it had. Returns false with a one-line *error on anything wrong.
bool ParseArgs(const std::vector<std::string_view>& args,
               DaemonOptions* options, std::string* error);

// Turns --config file text into arguments: each non-empty line that is not
// a '#' comment is "name [value]" (a long option without its dashes).
// --config, --check, --help and --version are refused in a file.
bool ConfigTextToArgs(std::string_view text, std::vector<std::string>* args,
                      std::string* error);

// The engine configuration these options ask for (not yet validated).
EngineConfig MakeEngineConfig(const DaemonOptions& options);

// One line per setting, for the start-up log and SIGHUP.
std::string DescribeOptions(const DaemonOptions& options);

std::string UsageText();

inline constexpr std::string_view kVersion = "0.1.0";

}  // namespace ftpalg
