// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/syslog_logger.h"

#include <gtest/gtest.h>
#include <syslog.h>

#include <string>
#include <utility>
#include <vector>

namespace ftpalg {
namespace {

std::vector<std::pair<int, std::string>>* g_sent = nullptr;

void Capture(int priority, std::string_view message) {
  g_sent->emplace_back(priority, std::string(message));
}

TEST(SyslogLoggerTest, LevelsMapToPriorities) {
  EXPECT_EQ(SyslogPriority(LogLevel::kDebug), LOG_DEBUG);
  EXPECT_EQ(SyslogPriority(LogLevel::kInfo), LOG_INFO);
  EXPECT_EQ(SyslogPriority(LogLevel::kWarn), LOG_WARNING);
  EXPECT_EQ(SyslogPriority(LogLevel::kError), LOG_ERR);
}

TEST(SyslogLoggerTest, MessageLosesItsNewlineOnly) {
  EXPECT_EQ(SyslogMessage("info: x\n"), "info: x");
  EXPECT_EQ(SyslogMessage("info: x"), "info: x");
  EXPECT_EQ(SyslogMessage("\n"), "");
  EXPECT_EQ(SyslogMessage("a\\nb\n"), "a\\nb");
}

// The logger with the syslog writer: no timestamp, the level as priority,
// the rate limit still in front of syslog.
TEST(SyslogLoggerTest, LoggerLinesReachSyslogWithoutTimestamp) {
  std::vector<std::pair<int, std::string>> sent;
  g_sent = &sent;
  StderrLogger::Options o;
  o.min_level = LogLevel::kInfo;
  o.lines_per_second = 2;
  o.timestamps = false;
  uint64_t mono = 1000;
  StderrLogger log(o, OpenSyslogWriter(Capture), [&] { return mono; },
                   [] { return uint64_t{1714564800123}; });
  log.Log(LogLevel::kInfo, "#3 REWRITE c->s 'PORT 10,0,0,1,4,1'");
  log.Log(LogLevel::kWarn, "queue overflow");
  log.Log(LogLevel::kDebug, "hidden");
  log.Log(LogLevel::kInfo, "second");
  log.Log(LogLevel::kInfo, "third: over the limit");
  mono += 1000;
  log.FlushSuppressed();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0], std::make_pair(LOG_INFO, std::string(
                                                  "info: #3 REWRITE c->s 'PORT 10,0,0,1,4,1'")));
  EXPECT_EQ(sent[1], std::make_pair(LOG_WARNING, std::string("warn: queue overflow")));
  EXPECT_EQ(sent[2].second, "info: second");
  EXPECT_EQ(sent[3].first, LOG_INFO);
  EXPECT_EQ(sent[3].second, "info: suppressed 1 info lines (rate limit 2/s)");
  g_sent = nullptr;
}

}  // namespace
}  // namespace ftpalg
