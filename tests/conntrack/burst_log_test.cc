// Tests of BurstLog: one line per key and 10 s window, the rest counted
// and told when the window is over.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/burst_log.h"

#include <gtest/gtest.h>

#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

TEST(BurstLogTest, OneLinePerKeyAndWindowThenTheSuppressedCount) {
  LevelTaggedLogger log;
  BurstLog bursts(log);
  for (uint64_t t = 0; t < 5; ++t) bursts.Log(LogLevel::kWarn, "k", "boom", 1000 + t);
  bursts.Log(LogLevel::kWarn, "other", "bang", 1000);
  EXPECT_EQ(log.Count("warn: conntrack plane: boom"), 1u);
  EXPECT_EQ(log.Count("warn: conntrack plane: bang"), 1u);
  bursts.Flush(false, 1000 + BurstLog::kWindowMs - 1);  // window not over
  EXPECT_EQ(log.Count("more suppressed"), 0u);
  bursts.Flush(false, 1000 + BurstLog::kWindowMs);
  EXPECT_EQ(log.Count("warn: conntrack plane: k: 4 more suppressed"), 1u);
  EXPECT_EQ(log.Count("other:"), 0u);  // nothing suppressed: nothing told
  // A new window logs the first line again.
  bursts.Log(LogLevel::kWarn, "k", "boom", 1000 + BurstLog::kWindowMs + 1);
  EXPECT_EQ(log.Count("warn: conntrack plane: boom"), 2u);
}

TEST(BurstLogTest, ANewWindowTellsTheLastOnesCountFirstAndShutdownTellsAll) {
  LevelTaggedLogger log;
  BurstLog bursts(log);
  bursts.Log(LogLevel::kInfo, "k", "first", 0);
  bursts.Log(LogLevel::kInfo, "k", "second", 1);
  bursts.Log(LogLevel::kWarn, "k", "third", BurstLog::kWindowMs);
  ASSERT_EQ(log.lines.size(), 3u);
  EXPECT_EQ(log.lines[1], "info: conntrack plane: k: 1 more suppressed");
  EXPECT_EQ(log.lines[2], "warn: conntrack plane: third");
  bursts.Log(LogLevel::kWarn, "k", "fourth", BurstLog::kWindowMs + 1);
  bursts.Flush(true, BurstLog::kWindowMs + 2);  // all: even a running window
  EXPECT_EQ(log.lines.back(), "warn: conntrack plane: k: 1 more suppressed");
}

}  // namespace
}  // namespace ftpalg::testing
