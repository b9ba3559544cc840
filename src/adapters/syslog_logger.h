// SPDX-License-Identifier: GPL-2.0-or-later
// syslog(3) as StderrLogger's writer (--log-target syslog): ident "ftpalgd",
// LOG_PID, facility LOG_DAEMON; the level becomes the priority and syslog
// adds its own timestamp (give the logger Options::timestamps = false).
#pragma once

#include <string_view>

#include "adapters/stderr_logger.h"

namespace ftpalg {

// LOG_DEBUG, LOG_INFO, LOG_WARNING or LOG_ERR.
int SyslogPriority(LogLevel level);

// The line without its trailing '\n' (syslog ends records itself).
std::string_view SyslogMessage(std::string_view line);

// Opens the syslog connection at once (LOG_NDELAY: before privileges are
// dropped) and returns a writer that sends each line to it. `send` replaces
// syslog(3) in tests: it gets the priority and the message.
using SyslogSend = void (*)(int priority, std::string_view message);
StderrLogger::Writer OpenSyslogWriter(SyslogSend send = nullptr);

}  // namespace ftpalg
