// SPDX-License-Identifier: GPL-2.0-or-later
// The --check report: line format, the verdict, and what the conntrack
// probe's report and an iptables-save listing turn into.
#include "daemon/check_report.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>

#include "daemon/options.h"

namespace ftpalg {
namespace {

// Collects what a CheckReport prints.
class Printed {
 public:
  Printed() : file_(open_memstream(&buf_, &len_)) {}
  ~Printed() {
    if (file_ != nullptr) fclose(file_);
    free(buf_);
  }
  std::FILE* file() { return file_; }
  std::string Text() {
    fflush(file_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  std::FILE* file_;
};

TEST(CheckReportTest, LinesAndVerdict) {
  Printed out;
  CheckReport report(out.file());
  report.Heading();
  report.Line("ok", "configuration: fine");
  report.Line("info", "nft: not installed");
  EXPECT_TRUE(report.ready());
  EXPECT_EQ(report.Finish(), 0);
  EXPECT_EQ(out.Text(), "ftpalgd " + std::string(kVersion) +
                            " --check\n"
                            "ok     configuration: fine\n"
                            "info   nft: not installed\n"
                            "ready\n");
}

TEST(CheckReportTest, FailMakesNotReady) {
  Printed out;
  CheckReport report(out.file());
  report.Fail("privileges: needs CAP_NET_ADMIN");
  report.Line("warn", "rules: none");
  EXPECT_FALSE(report.ready());
  EXPECT_EQ(report.Finish(), 1);
  EXPECT_EQ(out.Text(),
            "FAIL   privileges: needs CAP_NET_ADMIN\n"
            "warn   rules: none\n"
            "not ready\n");
}

TEST(CheckReportTest, ConntrackProbeLinesFollowTheProbe) {
  Printed ok_out;
  CheckReport ok(ok_out.file());
  ReportConntrackProbe(true, "ctnetlink: OK\nipset: OK\n", ok);
  EXPECT_TRUE(ok.ready());
  EXPECT_EQ(ok_out.Text(), "ok     conntrack: ctnetlink: OK\nok     conntrack: ipset: OK\n");

  Printed bad_out;
  CheckReport bad(bad_out.file());
  ReportConntrackProbe(false, "ctnetlink: OK\nipset: missing", bad);
  EXPECT_FALSE(bad.ready());
  EXPECT_EQ(bad_out.Text(),
            "FAIL   conntrack: ctnetlink: OK\nFAIL   conntrack: ipset: missing\n");

  Printed silent_out;  // a failed probe with nothing to say still fails
  CheckReport silent(silent_out.file());
  ReportConntrackProbe(false, "", silent);
  EXPECT_FALSE(silent.ready());
  EXPECT_EQ(silent_out.Text(), "");
}

TEST(CheckReportTest, IptablesRulesWithoutHelperOrOurs) {
  Printed out;
  CheckReport report(out.file());
  ReportIptablesRules("*raw\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n", report);
  EXPECT_TRUE(report.ready());
  EXPECT_EQ(out.Text(),
            "ok     kernel FTP helper: not attached (no --helper ftp rule)\n"
            "warn   rules: no ftpalg rules installed: run `scripts/ftpalg-rules "
            "install` before starting ftpalgd\n");
}

TEST(CheckReportTest, IptablesRulesCountOursAndFailOnTheHelper) {
  const std::string rules =
      "-A PREROUTING -p tcp -j NFQUEUE -m comment --comment ftpalg-ctl\n"
      "-A PREROUTING -p tcp --dport 2121 -j CT --helper ftp\n"
      "-A FORWARD -m comment --comment ftpalg-data -j NFQUEUE\n";
  Printed out;
  CheckReport report(out.file());
  ReportIptablesRules(rules, report);
  EXPECT_FALSE(report.ready());
  EXPECT_EQ(out.Text(),
            "FAIL   kernel FTP helper attached: -A PREROUTING -p tcp --dport 2121 "
            "-j CT --helper ftp (ftpalgd and the kernel helper must never handle "
            "the same connection: remove that rule)\n"
            "ok     rules: 2 ftpalg rules installed\n");
}

}  // namespace
}  // namespace ftpalg
