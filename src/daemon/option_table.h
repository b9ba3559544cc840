// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's options, one entry each: its name, whether it takes a value,
// whether it is for the command line only, and how its value is checked and
// stored in DaemonOptions. Shared by the command line and the config file
// parsers (daemon/options.cc). Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/options.h"

namespace ftpalg {

// A value as it appears in an error message: quoted, escaped, cut short.
std::string QuoteOptionValue(std::string_view text);

// Which repeatable options (and public-ip per family) one parse (a command
// line, or one config file) has used already: the first use replaces the
// list, later ones add to it.
struct OptionPass {
  bool inside_seen = false;
  bool ports_seen = false;
  bool public_v4_seen = false;
  bool public_v6_seen = false;
};

// One use of an option, as given to its setter.
struct OptionUse {
  std::string_view name;   // without "--"
  std::string_view value;  // empty for a flag
  OptionPass& pass;
  DaemonOptions* options;
  std::string* error;      // a one-line reason when the setter returns false
};

struct OptionSpec {
  std::string_view name;
  bool takes_value;
  bool command_line_only;  // actions, and --config itself
  bool (*apply)(const OptionUse& use);
};

// The option called name (without "--"); nullptr when there is none.
const OptionSpec* FindOption(std::string_view name);

}  // namespace ftpalg
