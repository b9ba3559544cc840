// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/stderr_logger.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ftpalg {
namespace {

struct Harness {
  std::vector<std::string> lines;
  uint64_t mono_ms = 5000;
  uint64_t real_ms = 1714564800123;  // 2024-05-01T12:00:00.123Z
  StderrLogger Make(LogLevel min, uint32_t per_second) {
    StderrLogger::Options o;
    o.min_level = min;
    o.lines_per_second = per_second;
    return StderrLogger(
        o, [this](LogLevel, std::string_view l) { lines.emplace_back(l); },
        [this] { return mono_ms; }, [this] { return real_ms; });
  }
};

TEST(StderrLoggerTest, FormatsOneTimestampedLine) {
  Harness h;
  StderrLogger log = h.Make(LogLevel::kDebug, 0);
  log.Log(LogLevel::kInfo, "#17 PORT rewritten");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(h.lines[0], "2024-05-01T12:00:00.123Z info: #17 PORT rewritten\n");
}

// Under journald (JOURNAL_STREAM matches stderr): each line starts with its
// sd-daemon priority, and journald adds the time.
TEST(StderrLoggerTest, JournalPriorityPrefixes) {
  std::vector<std::string> lines;
  StderrLogger::Options o;
  o.min_level = LogLevel::kDebug;
  o.journal_priority = true;
  StderrLogger log(o, [&](LogLevel, std::string_view l) { lines.emplace_back(l); },
                   [] { return uint64_t{5000}; }, [] { return uint64_t{1714564800123}; });
  log.Log(LogLevel::kError, "e");
  log.Log(LogLevel::kWarn, "LIMIT queue 0 full");
  log.Log(LogLevel::kInfo, "ready");
  log.Log(LogLevel::kDebug, "a\nb");
  EXPECT_EQ(lines, (std::vector<std::string>{"<3>error: e\n", "<4>warn: LIMIT queue 0 full\n",
                                             "<6>info: ready\n", "<7>debug: a\\nb\n"}));
}

TEST(StderrLoggerTest, NewlinesCannotForgeLines) {
  Harness h;
  StderrLogger log = h.Make(LogLevel::kDebug, 0);
  log.Log(LogLevel::kWarn, "a\nb\rc");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_EQ(h.lines[0], "2024-05-01T12:00:00.123Z warn: a\\nb\\rc\n");
}

TEST(StderrLoggerTest, LongMessageIsCut) {
  Harness h;
  StderrLogger log = h.Make(LogLevel::kDebug, 0);
  log.Log(LogLevel::kInfo, std::string(10000, 'x'));
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_LE(h.lines[0].size(), 2048u);
  EXPECT_EQ(h.lines[0].substr(h.lines[0].size() - 4), "...\n");
}

TEST(StderrLoggerTest, LevelFilter) {
  Harness h;
  StderrLogger log = h.Make(LogLevel::kWarn, 0);
  EXPECT_FALSE(log.Enabled(LogLevel::kDebug));
  EXPECT_FALSE(log.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.Enabled(LogLevel::kWarn));
  EXPECT_TRUE(log.Enabled(LogLevel::kError));
  log.Log(LogLevel::kInfo, "hidden");
  log.Log(LogLevel::kError, "shown");
  ASSERT_EQ(h.lines.size(), 1u);
  EXPECT_NE(h.lines[0].find("error: shown"), std::string::npos);
  log.set_min_level(LogLevel::kDebug);
  log.Log(LogLevel::kDebug, "now shown");
  EXPECT_EQ(h.lines.size(), 2u);
}

TEST(StderrLoggerTest, RateLimitPerLevelWithSuppressedNote) {
  Harness h;
  StderrLogger log = h.Make(LogLevel::kDebug, 3);
  for (int i = 0; i < 10; ++i) log.Log(LogLevel::kInfo, "flood");
  log.Log(LogLevel::kWarn, "other level still passes");
  EXPECT_EQ(h.lines.size(), 4u);
  EXPECT_EQ(log.suppressed_total(), 7u);
  // Next second: the note comes first, then the new line.
  h.mono_ms += 1000;
  log.Log(LogLevel::kInfo, "after");
  ASSERT_EQ(h.lines.size(), 6u);
  EXPECT_NE(h.lines[4].find("info: suppressed 7 info lines"), std::string::npos);
  EXPECT_NE(h.lines[5].find("info: after"), std::string::npos);
}

TEST(StderrLoggerTest, FlushReportsWithoutNewTraffic) {
  Harness h;
  StderrLogger log = h.Make(LogLevel::kDebug, 1);
  log.Log(LogLevel::kWarn, "one");
  log.Log(LogLevel::kWarn, "two");
  log.FlushSuppressed();  // same second: nothing yet
  EXPECT_EQ(h.lines.size(), 1u);
  h.mono_ms += 1500;
  log.FlushSuppressed();
  ASSERT_EQ(h.lines.size(), 2u);
  EXPECT_NE(h.lines[1].find("suppressed 1 warn lines"), std::string::npos);
  log.FlushSuppressed();
  EXPECT_EQ(h.lines.size(), 2u);
}

TEST(StderrLoggerTest, ResetRateLimits) {
  Harness h;
  StderrLogger log = h.Make(LogLevel::kDebug, 1);
  log.Log(LogLevel::kInfo, "one");
  log.Log(LogLevel::kInfo, "two");
  log.ResetRateLimits();
  log.Log(LogLevel::kInfo, "three");
  ASSERT_EQ(h.lines.size(), 3u);
  EXPECT_NE(h.lines[1].find("suppressed 1 info lines"), std::string::npos);
  EXPECT_NE(h.lines[2].find("three"), std::string::npos);
}

TEST(StderrLoggerTest, ParseLogLevel) {
  LogLevel l = LogLevel::kError;
  EXPECT_TRUE(ParseLogLevel("debug", &l));
  EXPECT_EQ(l, LogLevel::kDebug);
  EXPECT_TRUE(ParseLogLevel("warn", &l));
  EXPECT_EQ(l, LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("DEBUG", &l));
  EXPECT_FALSE(ParseLogLevel("", &l));
}

}  // namespace
}  // namespace ftpalg
