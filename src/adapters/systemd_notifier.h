// SPDX-License-Identifier: GPL-2.0-or-later
// ServiceNotifier over libsystemd's sd_notify(3) and sd_watchdog_enabled(3):
// datagrams to the unix socket in NOTIFY_SOCKET (systemd's Type=notify).
// The environment is read once, when made, and left as it is. Without
// NOTIFY_SOCKET every call is a no-op.
#pragma once

#include <memory>

#include "adapters/service_notifier.h"
#include "ftpalg/logger.h"

namespace ftpalg {

// A send that fails is logged once (warn) with the reason, then counted
// silently: notifications must never stop the packet loop.
std::unique_ptr<ServiceNotifier> MakeSystemdNotifier(Logger& logger);

}  // namespace ftpalg
