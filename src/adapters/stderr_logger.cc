// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/stderr_logger.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "adapters/journal_stream.h"

namespace ftpalg {
namespace {

constexpr size_t kMaxLine = 2048;

uint64_t ClockMs(clockid_t id) {
  struct timespec ts {};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u +
         static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

void WriteStderr(LogLevel, std::string_view line) {
  // One write per line keeps lines whole; a short write is not retried
  // forever (bounded), and errors are ignored: logging must never block.
  const char* p = line.data();
  size_t left = line.size();
  for (int attempt = 0; attempt < 4 && left > 0; ++attempt) {
    const ssize_t n = write(STDERR_FILENO, p, left);
    if (n <= 0) continue;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  if (text == "debug") {
    *out = LogLevel::kDebug;
  } else if (text == "info") {
    *out = LogLevel::kInfo;
  } else if (text == "warn" || text == "warning") {
    *out = LogLevel::kWarn;
  } else if (text == "error") {
    *out = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

StderrLogger::StderrLogger(const Options& options, Writer writer,
                           MillisClock monotonic_ms, MillisClock realtime_ms)
    : options_(options),
      writer_(writer ? std::move(writer) : Writer(WriteStderr)),
      monotonic_ms_(monotonic_ms ? std::move(monotonic_ms)
                                 : MillisClock([] { return ClockMs(CLOCK_MONOTONIC); })),
      realtime_ms_(realtime_ms ? std::move(realtime_ms)
                               : MillisClock([] { return ClockMs(CLOCK_REALTIME); })) {}

bool StderrLogger::Enabled(LogLevel l) const {
  return static_cast<int>(l) >= static_cast<int>(options_.min_level);
}

void StderrLogger::Log(LogLevel l, std::string_view message) {
  if (!Enabled(l)) return;
  Window& w = windows_[static_cast<size_t>(l) & 3];
  const uint64_t second = monotonic_ms_() / 1000;
  if (second != w.second) {
    ReportSuppressed(l, w);
    w.second = second;
    w.lines = 0;
  }
  if (options_.lines_per_second != 0 && w.lines >= options_.lines_per_second) {
    ++w.suppressed;
    ++suppressed_total_;
    return;
  }
  ++w.lines;
  Emit(l, message);
}

void StderrLogger::ReportSuppressed(LogLevel l, Window& w) {
  if (w.suppressed == 0) return;
  char note[96];
  std::snprintf(note, sizeof(note), "suppressed %llu %s lines (rate limit %u/s)",
                static_cast<unsigned long long>(w.suppressed),
                LevelName(l).data(), options_.lines_per_second);
  w.suppressed = 0;
  Emit(l, note);
}

void StderrLogger::FlushSuppressed() {
  const uint64_t second = monotonic_ms_() / 1000;
  for (size_t i = 0; i < windows_.size(); ++i) {
    Window& w = windows_[i];
    if (w.suppressed != 0 && w.second != second) {
      ReportSuppressed(static_cast<LogLevel>(i), w);
      w.second = second;
      w.lines = 0;
    }
  }
}

void StderrLogger::ResetRateLimits() {
  for (size_t i = 0; i < windows_.size(); ++i) {
    ReportSuppressed(static_cast<LogLevel>(i), windows_[i]);
    windows_[i] = Window{};
  }
}

void StderrLogger::Emit(LogLevel l, std::string_view message) {
  char line[kMaxLine];
  int n = 0;
  if (options_.journal_priority) {
    n = std::snprintf(line, sizeof(line), "%s%s: ", JournalPriorityPrefix(l).data(),
                      LevelName(l).data());
  } else if (options_.timestamps) {
    const uint64_t now = realtime_ms_();
    const time_t secs = static_cast<time_t>(now / 1000);
    struct tm tm {};
    gmtime_r(&secs, &tm);
    n = std::snprintf(line, sizeof(line),
                      "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ %s: ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, static_cast<unsigned>(now % 1000),
                      LevelName(l).data());
  } else {
    n = std::snprintf(line, sizeof(line), "%s: ", LevelName(l).data());
  }
  size_t len = n > 0 ? static_cast<size_t>(n) : 0;
  // Room for "...\n" at the end.
  const size_t limit = sizeof(line) - 4;
  bool cut = false;
  for (char c : message) {
    if (len + 2 > limit) {
      cut = true;
      break;
    }
    // One message, one line: a stray newline must not forge another one.
    if (c == '\n') {
      line[len++] = '\\';
      line[len++] = 'n';
    } else if (c == '\r') {
      line[len++] = '\\';
      line[len++] = 'r';
    } else {
      line[len++] = c;
    }
  }
  if (cut) {
    line[len++] = '.';
    line[len++] = '.';
    line[len++] = '.';
  }
  line[len++] = '\n';
  writer_(l, std::string_view(line, len));
}

}  // namespace ftpalg
