// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's command line and config file: pure parsing into DaemonOptions,
// bounded numbers, one-line errors ("FILE:LINE: reason" for a file), and the
// effective configuration printed back in config-file syntax. No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/config.h"
#include "ftpalg/inet.h"
#include "ftpalg/logger.h"
#include "ftpalg/version.h"

namespace ftpalg {

// How data connections are made RELATED (see the conntrack plane).
enum class Mechanism : uint8_t { kAuto, kExpect, kPrecreate };
std::string_view MechanismName(Mechanism m);

// Where log lines go.
enum class LogTarget : uint8_t { kStderr, kSyslog };
std::string_view LogTargetName(LogTarget t);

// Where the daemon listens for `ftpalgd --stats` unless told otherwise.
inline constexpr std::string_view kDefaultStatsSocket = "/run/ftpalg/ftpalgd.sock";

struct DaemonOptions {
  uint16_t queue = 0;  // control queue; the data-SYN queue is queue + 1
  std::optional<IpAddress> public_v4;
  std::optional<IpAddress> public_v6;
  std::vector<Cidr> inside;            // empty: the engine's defaults
  std::vector<uint16_t> control_ports;  // empty: 21
  std::optional<uint32_t> max_sessions;
  std::optional<uint32_t> max_expectations;              // global
  std::optional<uint16_t> max_expectations_per_session;
  std::optional<uint32_t> gap_timeout_ms;  // a hole waits at most this long
  uint32_t queue_maxlen = 4096;
  Mechanism mechanism = Mechanism::kAuto;
  LogLevel log_level = LogLevel::kInfo;
  LogTarget log_target = LogTarget::kStderr;
  uint32_t log_rate = 200;   // lines per second per level; 0: unlimited
  std::string stats_socket = std::string(kDefaultStatsSocket);  // "": none
  bool fail_closed = false;  // default fail-open
  bool no_batch = false;     // one verdict message and send per packet
  std::string events;        // --events FILE: NAT-binding records; "": none
  std::string user;          // --user NAME: switch to it after opening sockets
  std::string config_file;   // --config FILE, or the default file when read
  bool check = false;
  bool print_config = false;  // print the effective configuration, exit
  bool stats = false;         // client: ask the running daemon for counters
  bool prometheus = false;    // with --stats: Prometheus text format
  bool resync = false;        // client: ask the running daemon to resync
  bool help = false;
  bool version = false;

  uint16_t data_queue() const { return static_cast<uint16_t>(queue + 1); }
};

// Parses args (argv without argv[0]) on top of *options: scalar options
// override, and the first use of a repeatable option in this call replaces
// the list it had. Returns false with a one-line *error on anything wrong.
bool ParseArgs(const std::vector<std::string_view>& args,
               DaemonOptions* options, std::string* error);

// Applies config file text on top of *options: each non-empty line that is
// not a '#' comment is "name [value]" (a long option, dashes optional; the
// value is the rest of the line). Repeatable options accumulate within the
// file (the first use replaces the default list). Options that are actions
// (config, check, print-config, stats, prometheus, resync, help, version) are
// refused. Errors read "FILE:LINE: reason" with file_name as given.
bool ParseConfigText(std::string_view file_name, std::string_view text,
                     DaemonOptions* options, std::string* error);

// Combinations the options cannot take ("" when fine), checked once the
// command line and the file are merged.
std::string CheckOptionCombination(const DaemonOptions& options);

// The effective configuration in config-file syntax: every option with its
// value (defaults included; unset ones as comments). Parsing it back with
// ParseConfigText gives the same configuration.
std::string ConfigText(const DaemonOptions& options);

// The engine configuration these options ask for (not yet validated).
EngineConfig MakeEngineConfig(const DaemonOptions& options);

// One line per setting, for the start-up log and SIGHUP.
std::string DescribeOptions(const DaemonOptions& options);

// --help and --version texts (GNU style).
std::string UsageText();
std::string VersionText();

inline constexpr std::string_view kVersion = kPackageVersion;

}  // namespace ftpalg
