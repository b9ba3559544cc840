// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/syslog_logger.h"

#include <syslog.h>

namespace ftpalg {
namespace {

void SendToSyslog(int priority, std::string_view message) {
  syslog(priority, "%.*s", static_cast<int>(message.size()), message.data());
}

}  // namespace

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return LOG_DEBUG;
    case LogLevel::kInfo: return LOG_INFO;
    case LogLevel::kWarn: return LOG_WARNING;
    case LogLevel::kError: return LOG_ERR;
  }
  return LOG_NOTICE;
}

std::string_view SyslogMessage(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  return line;
}

StderrLogger::Writer OpenSyslogWriter(SyslogSend send) {
  if (send == nullptr) {
    openlog("ftpalgd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    send = SendToSyslog;
  }
  return [send](LogLevel level, std::string_view line) {
    send(SyslogPriority(level), SyslogMessage(line));
  };
}

}  // namespace ftpalg
