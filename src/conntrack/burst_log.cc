// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/burst_log.h"

namespace ftpalg {

void BurstLog::Log(LogLevel level, const std::string& key,
                   const std::string& message, uint64_t now_ms) {
  auto [it, fresh] = bursts_.try_emplace(key);
  Burst& b = it->second;
  if (!fresh && now_ms < b.window_start_ms + kWindowMs) {
    ++b.suppressed;
    return;
  }
  if (b.suppressed > 0) FlushOne(key, b);
  b.window_start_ms = now_ms;
  b.level = level;
  if (logger_.Enabled(level)) logger_.Log(level, "conntrack plane: " + message);
}

void BurstLog::FlushOne(const std::string& key, Burst& b) {
  if (logger_.Enabled(b.level)) {
    logger_.Log(b.level, "conntrack plane: " + key + ": " +
                             std::to_string(b.suppressed) + " more suppressed");
  }
  b.suppressed = 0;
}

void BurstLog::Flush(bool all, uint64_t now_ms) {
  for (auto it = bursts_.begin(); it != bursts_.end();) {
    Burst& b = it->second;
    const bool window_over = now_ms >= b.window_start_ms + kWindowMs;
    if (b.suppressed > 0 && (all || window_over)) FlushOne(it->first, b);
    if (window_over && b.suppressed == 0) {
      it = bursts_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ftpalg
