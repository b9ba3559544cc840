// SPDX-License-Identifier: GPL-2.0-or-later
// Logger that writes one line per message to stderr (or another writer:
// syslog, see syslog_logger.h, or a test sink):
// "2024-05-01T12:00:00.123Z info: message" ("info: message" without the
// timestamp, "<6>info: message" for journald). A level filter, and a bounded number of lines per second per
// level; what is held back is reported as "suppressed N <level> lines" once
// the second is over.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "ftpalg/logger.h"

namespace ftpalg {

class StderrLogger final : public Logger {
 public:
  // Writes one complete line (with its '\n') of the given level.
  using Writer = std::function<void(LogLevel level, std::string_view line)>;
  using MillisClock = std::function<uint64_t()>;

  struct Options {
    LogLevel min_level = LogLevel::kInfo;
    uint32_t lines_per_second = 200;  // per level; 0: unlimited
    bool timestamps = true;           // off for syslog, which adds its own
    // "<6>info: message": an sd-daemon(3) priority prefix for journald
    // (stderr is the journal: journal_stream.h); journald timestamps.
    bool journal_priority = false;
  };

  // Defaults: write(2) to fd 2, CLOCK_MONOTONIC for the limit, CLOCK_REALTIME
  // for the timestamp (UTC).
  explicit StderrLogger(const Options& options, Writer writer = nullptr,
                        MillisClock monotonic_ms = nullptr,
                        MillisClock realtime_ms = nullptr);

  bool Enabled(LogLevel l) const override;
  void Log(LogLevel l, std::string_view message) override;

  void set_min_level(LogLevel l) { options_.min_level = l; }
  void set_lines_per_second(uint32_t n) { options_.lines_per_second = n; }
  LogLevel min_level() const { return options_.min_level; }
  // Reports lines held back in a second that is over (call about once a
  // second so the note does not wait for the next message).
  void FlushSuppressed();
  // Reports anything held back and starts every level afresh (SIGHUP).
  void ResetRateLimits();
  uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  struct Window {
    uint64_t second = 0;
    uint32_t lines = 0;
    uint64_t suppressed = 0;
  };
  void Emit(LogLevel l, std::string_view message);
  void ReportSuppressed(LogLevel l, Window& w);

  Options options_;
  Writer writer_;
  MillisClock monotonic_ms_;
  MillisClock realtime_ms_;
  std::array<Window, 4> windows_{};
  uint64_t suppressed_total_ = 0;
};

// Parses "debug", "info", "warn" (or "warning"), "error".
bool ParseLogLevel(std::string_view text, LogLevel* out);

}  // namespace ftpalg
