// Leveled logging interface for the engine; adapters provide the sink.
// Pure: no I/O. Untrusted bytes must go through EscapeForLog.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ftpalg {

enum class LogLevel : uint8_t { kDebug, kInfo, kWarn, kError };
std::string_view LevelName(LogLevel l);

class Logger {
 public:
  virtual ~Logger() = default;
  virtual bool Enabled(LogLevel l) const = 0;
  virtual void Log(LogLevel l, std::string_view message) = 0;
};

// A logger that drops everything.
class NullLogger final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return false; }
  void Log(LogLevel, std::string_view) override {}
};

// Printable ASCII kept; \r \n \t as escapes; everything else \xNN. At most
// max_len input bytes are shown, then "...".
std::string EscapeForLog(std::string_view bytes, size_t max_len = 120);

}  // namespace ftpalg
