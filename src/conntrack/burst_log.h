// Log suppression for the conntrack plane: the first line of a kind is
// logged, the rest of its 10 s window only counted, and the count told
// ("KEY: N more suppressed") when the window is over. A kernel that fails
// every request must not flood syslog at packet rate.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ftpalg/logger.h"

namespace ftpalg {

class BurstLog {
 public:
  static constexpr uint64_t kWindowMs = 10 * 1000;

  explicit BurstLog(Logger& logger) : logger_(logger) {}
  // Logs "conntrack plane: <message>" unless a line with the same key was
  // logged less than kWindowMs before now_ms.
  void Log(LogLevel level, const std::string& key, const std::string& message,
           uint64_t now_ms);
  // Tells the suppressed counts of windows that are over (all: of every
  // window, at shutdown) and forgets the keys that have gone quiet.
  void Flush(bool all, uint64_t now_ms);

 private:
  struct Burst {
    uint64_t window_start_ms = 0;
    uint64_t suppressed = 0;
    LogLevel level = LogLevel::kWarn;
  };
  void FlushOne(const std::string& key, Burst& b);

  Logger& logger_;
  std::map<std::string, Burst> bursts_;
};

}  // namespace ftpalg
