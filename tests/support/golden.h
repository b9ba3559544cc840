// Golden pcap tests: finding the cases, running the replay in-process, and
// comparing its trace with the reviewed baseline.
//
// A case is a capture pcaps/**/NAME.pcap[ng][.gz] with a sibling NAME.golden
// (and optionally NAME.args: ftpalg-replay flags, '#' starts a comment).
// Lines of a .golden starting with '#' are comments and are not compared.
// A baseline containing a "# PLACEHOLDER" line was recorded from an
// unfinished engine: a mismatch is reported as skipped, not failed.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ftpalg::testing {

struct GoldenCase {
  std::string name;     // test name: path below the root, [A-Za-z0-9_] only
  std::string capture;  // path of the capture
  std::string golden;   // path of the baseline (may not exist yet)
  std::string args;     // path of the .args sidecar (may not exist)
  // NAME.events: the --events records' baseline (JSON Lines, no comments;
  // compared only where the file exists: `touch` it, then golden-update).
  std::string events;
};

inline constexpr std::string_view kPlaceholderMarker = "# PLACEHOLDER";

// True when FTPALG_UPDATE_GOLDEN=1: baselines are rewritten, not compared.
bool GoldenUpdateMode();

// Cases under root, sorted by path. include_without_golden also lists
// captures that have only a .args sidecar (update mode creates their
// baseline).
std::vector<GoldenCase> FindGoldenCases(const std::string& root,
                                        bool include_without_golden);

// Whitespace-separated words; '#' to end of line is a comment.
std::vector<std::string> SplitArgs(std::string_view text);

// Runs the replay of c in-process and returns its trace; "" + *error on
// failure.
// scan_in_place off: every segment takes the engine's general walk (the
// trace must not change).
std::string RenderTrace(const GoldenCase& c, std::string* error, bool scan_in_place = true);
// The same replay's --events records (JSON Lines).
std::string RenderEvents(const GoldenCase& c, std::string* error);

// The comment header written at the top of a regenerated baseline.
std::string GoldenHeader(const GoldenCase& c);

// text without its '#' comment lines.
std::string StripComments(std::string_view text);

// A unified-style line diff (at most max_lines output lines), "" if equal.
std::string LineDiff(std::string_view expected, std::string_view actual,
                     size_t max_lines = 80);

bool ReadFile(const std::string& path, std::string* out);
bool WriteFile(const std::string& path, std::string_view data);

}  // namespace ftpalg::testing
