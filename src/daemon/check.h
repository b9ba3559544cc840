// SPDX-License-Identifier: GPL-2.0-or-later
// `ftpalgd --check`: probes, in the current network namespace, everything
// the daemon needs (its configuration, CAP_NET_ADMIN, both NFQUEUE queues,
// the conntrack plane, conntrack labels, the installed rules, no kernel FTP
// helper) and reports readiness without starting.
#pragma once

#include <cstdio>

#include "daemon/options.h"

namespace ftpalg {

// Prints a report to out; returns 0 when ready, 1 when not.
int RunCheck(const DaemonOptions& options, std::FILE* out);

}  // namespace ftpalg
