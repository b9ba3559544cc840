// ftpalg-replay command line -> options. Pure: no I/O.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/config.h"
#include "replay/replay_resolver.h"

namespace ftpalg {

// The engine configuration offline: offline_capture (the capture is one
// consistent world without an ALG, acks mapped forward) and, unless
// --all-expectations, no expectations for announcements needing no rewrite.
EngineConfig ReplayEngineDefaults();

struct ReplayOptions {
  EngineConfig engine = ReplayEngineDefaults();
  std::string input;              // IN capture
  std::string output;             // OUT capture (empty: none, tests only)
  std::string expectations_path;  // --expectations (empty: none)
  std::string trace_path;         // --trace (empty: none)
  std::string events_path;        // --events (empty: none)
  std::vector<DeclaredConntrack> conntracks;  // --conntrack (repeatable)
  bool verbose = false;           // engine log events on stderr
  bool help = false;              // --help: print usage, nothing else
  bool version = false;           // --version: print the version, nothing else
};

// Usage text (several lines, ends with '\n').
std::string_view ReplayUsage();

// Parses the arguments after the program name. Both "--opt VALUE" and
// "--opt=VALUE" are accepted. Returns "" on success, else a one-line error
// (out is then unspecified). On success out->engine passed Validate().
std::string ParseReplayArgs(const std::vector<std::string_view>& args,
                            ReplayOptions* out);

// Parses a decimal number within [lo, hi]; digits only, no sign, no spaces.
bool ParseBoundedNumber(std::string_view text, unsigned long lo,
                        unsigned long hi, unsigned long* out);

}  // namespace ftpalg
