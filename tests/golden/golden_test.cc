// SPDX-License-Identifier: GPL-2.0-or-later
// One test per capture in pcaps/ with a .golden baseline: the in-process
// replay trace must equal the baseline. FTPALG_UPDATE_GOLDEN=1 (make
// golden-update) rewrites the baselines instead.
#include <gtest/gtest.h>

#include "tests/support/golden.h"

namespace ftpalg::testing {
namespace {

class GoldenPcap : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenPcap, MatchesBaseline) {
  const GoldenCase& c = GetParam();
  std::string error;
  const std::string trace = RenderTrace(c, &error);
  ASSERT_TRUE(error.empty()) << c.capture << ": " << error;
  ASSERT_FALSE(trace.empty());

  if (GoldenUpdateMode()) {
    ASSERT_TRUE(WriteFile(c.golden, GoldenHeader(c) + trace)) << c.golden;
    return;
  }
  std::string golden;
  ASSERT_TRUE(ReadFile(c.golden, &golden)) << "cannot read " << c.golden;
  const std::string diff = LineDiff(StripComments(golden), trace);
  if (diff.empty()) return;
  if (golden.find(kPlaceholderMarker) != std::string::npos) {
    GTEST_SKIP() << c.golden << " is a placeholder baseline that no longer "
                 << "matches; run `make golden-update` and review the diff";
  }
  FAIL() << c.golden << " differs from the replay of " << c.capture << ":\n"
         << diff << "If the change is intended: make golden-update, then "
         << "review `git diff pcaps/` like code.";
}

// The engine's in-place scan of plain segments changes nothing a capture
// shows: the same trace with it off.
TEST_P(GoldenPcap, SameTraceWithoutInPlaceScan) {
  const GoldenCase& c = GetParam();
  std::string error;
  const std::string fast = RenderTrace(c, &error);
  ASSERT_TRUE(error.empty()) << c.capture << ": " << error;
  const std::string slow = RenderTrace(c, &error, /*scan_in_place=*/false);
  ASSERT_TRUE(error.empty()) << c.capture << ": " << error;
  EXPECT_EQ(LineDiff(slow, fast), "") << c.capture;
}

// Where a NAME.events baseline exists: the replay's --events records
// (docs/events.md, schema 1) must equal it.
TEST_P(GoldenPcap, EventsMatchBaseline) {
  const GoldenCase& c = GetParam();
  std::string baseline;
  if (!ReadFile(c.events, &baseline)) return;  // no events baseline for this capture
  std::string error;
  const std::string events = RenderEvents(c, &error);
  ASSERT_TRUE(error.empty()) << c.capture << ": " << error;
  if (GoldenUpdateMode()) {
    ASSERT_TRUE(WriteFile(c.events, events)) << c.events;
    return;
  }
  ASSERT_FALSE(events.empty()) << c.capture << ": no events";
  const std::string diff = LineDiff(baseline, events);
  EXPECT_TRUE(diff.empty()) << c.events << " differs from the --events records of "
                            << c.capture << ":\n" << diff
                            << "If the change is intended: make golden-update, then "
                            << "review `git diff pcaps/` like code.";
}

std::string CaseName(const ::testing::TestParamInfo<GoldenCase>& info) {
  return info.param.name;
}

// The test binary runs from the repository root (make unit), so pcaps/
// resolves relative to the working directory.
INSTANTIATE_TEST_SUITE_P(Golden, GoldenPcap,
                         ::testing::ValuesIn(FindGoldenCases("pcaps",
                                                             GoldenUpdateMode())),
                         CaseName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenPcap);

TEST(GoldenSupport, DiffShowsChangedLines) {
  EXPECT_EQ(LineDiff("a\nb\nc\n", "a\nb\nc\n"), "");
  const std::string d = LineDiff("a\nb\nc\n", "a\nB\nc\n");
  EXPECT_NE(d.find("-b\n"), std::string::npos) << d;
  EXPECT_NE(d.find("+B\n"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ trace line 2 @@"), std::string::npos) << d;
}

TEST(GoldenSupport, CommentsAreNotCompared) {
  EXPECT_EQ(StripComments("# header\np1 x\n# more\nstats y\n"), "p1 x\nstats y\n");
}

TEST(GoldenSupport, ArgsSidecarSplitsWordsAndComments) {
  EXPECT_EQ(SplitArgs("--public-ip 203.0.113.1 # why\n --control-port\t443\n"),
            (std::vector<std::string>{"--public-ip", "203.0.113.1", "--control-port", "443"}));
}

TEST(GoldenSupport, FindsCasesUnderPcaps) {
  const auto with_args = FindGoldenCases("pcaps", true);
  ASSERT_FALSE(with_args.empty()) << "run from the repository root";
  for (const GoldenCase& c : with_args) {
    EXPECT_FALSE(c.name.empty());
    EXPECT_EQ(c.name.find_first_not_of(
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
              std::string::npos);
  }
}

TEST(GoldenSupport, EventsBaselinesArePresent) {
  // The captures whose --events records are reviewed (pcaps/README.md):
  // if they vanish, EventsMatchBaseline would pass by checking nothing.
  std::string text;
  for (const char* name : {"port_basic", "pasv_227_forms", "epsv_229", "ccc_clear_after_tls", "hairpin_227"}) {
    EXPECT_TRUE(ReadFile(std::string("pcaps/synthetic/") + name + ".events", &text)) << name;
    EXPECT_NE(text.find("\"event\":\"data_installed\""), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace ftpalg::testing
