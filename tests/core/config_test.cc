// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/config.h"

#include <gtest/gtest.h>

#include "ftpalg/logger.h"
#include "ftpalg/stats.h"

namespace ftpalg {
namespace {

// Defaults are valid and cover the documented inside ranges.
TEST(ConfigTest, DefaultsAreValidAndInsideRangesMatch) {
  EngineConfig c;
  EXPECT_EQ(c.Validate(), "");
  for (const char* a : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                        "100.64.0.1", "fd00::1", "fc00::1"}) {
    EXPECT_TRUE(c.IsInside(*IpAddress::Parse(a))) << a;
  }
  for (const char* a : {"203.0.113.1", "172.32.0.1", "100.128.0.1", "2001:db8::1"}) {
    EXPECT_FALSE(c.IsInside(*IpAddress::Parse(a))) << a;
  }
  EXPECT_TRUE(c.IsControlPort(21));
  EXPECT_FALSE(c.IsControlPort(20));
}

// Bad limits are reported with a message.
TEST(ConfigTest, ValidateRejectsBadValues) {
  EngineConfig c;
  c.control_ports.clear();
  EXPECT_NE(c.Validate(), "");
  c = EngineConfig{};
  c.max_line_len = 10;
  EXPECT_NE(c.Validate(), "");
  c = EngineConfig{};
  c.public_v4 = IpAddress::Parse("2001:db8::1");
  EXPECT_NE(c.Validate(), "");
  // Deferred checksums: offline only (live, nobody would complete them).
  c = EngineConfig{};
  c.defer_checksums = true;
  EXPECT_EQ(c.Validate(), "deferred checksums are for offline captures only");
  c.offline_capture = true;
  EXPECT_EQ(c.Validate(), "");
}

// Log escaping shows control bytes and cuts long input.
TEST(ConfigTest, EscapeForLog) {
  EXPECT_EQ(EscapeForLog(std::string_view("A\r\n\x01\"", 5)), "A\\r\\n\\x01\\\"");
  EXPECT_EQ(EscapeForLog("abcdef", 3), "abc...");
}

// Stats print every counter, or only the non-zero ones.
TEST(ConfigTest, StatsToString) {
  Stats s;
  s.rewrites = 2;
  EXPECT_EQ(s.ToString(true), "rewrites=2");
  EXPECT_NE(s.ToString().find("packets=0"), std::string::npos);
}

}  // namespace
}  // namespace ftpalg
