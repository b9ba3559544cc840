// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's options as the daemon starts (and reloads) with them: the command
// line on top of the config file, read whole (at most 1 MiB) from disk.
#pragma once

#include <string>
#include <vector>

#include "daemon/options.h"

namespace ftpalg {

// The config file read when --config is not given: $FTPALGD_DEFAULT_CONFIG
// when set (empty: none), else FTPALG_DEFAULT_CONFIG (a build define).
#ifndef FTPALG_DEFAULT_CONFIG
#define FTPALG_DEFAULT_CONFIG "/etc/ftpalg/ftpalgd.conf"
#endif
std::string DefaultConfigPath();

// Parses args, then the config file (--config FILE, which must exist, or
// DefaultConfigPath() when it exists) with args on top. Errors in the file
// read "FILE:LINE: reason". out->config_file names the file read ("": none).
bool LoadOptions(const std::vector<std::string>& args, DaemonOptions* out,
                 std::string* error);

}  // namespace ftpalg
