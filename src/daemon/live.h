// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's live run: options -> EngineConfig, the conntrack plane, the
// engine and the NFQUEUE socket (start-up and teardown: live.cc), and the
// poll loop over the queue socket, a signalfd, a 1 s housekeeping timer and
// the stats socket, until SIGTERM/SIGINT (live_loop.cc; the Daemon object
// and the other files it is split into: live_daemon.h). The --check probe is
// in daemon/check.h.
#pragma once

#include <string>
#include <vector>

#include "adapters/stderr_logger.h"
#include "daemon/options.h"

namespace ftpalg {

// Runs until SIGTERM/SIGINT. Returns the process exit status. args are kept
// for SIGHUP, which loads the options again from them (and the config file).
int RunDaemon(const std::vector<std::string>& args, const DaemonOptions& options,
              StderrLogger& logger);

}  // namespace ftpalg
