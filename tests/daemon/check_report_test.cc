// SPDX-License-Identifier: GPL-2.0-or-later
// The --check report: line format, the verdict, and what the conntrack
// probe's report and an iptables-save listing turn into.
#include "daemon/check_report.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>

#include <set>
#include <string>
#include <vector>

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

// The rules ftpalg-rules installs (backend iptables, queue 0, port 21), as
// iptables-save prints them.
constexpr const char* kIptablesQ0 =
    "*raw\n"
    "-A PREROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m set --match-set "
    "ftpalg-pend4 dst,dst -m comment --comment ftpalg -j NFQUEUE --queue-num 1 --queue-bypass\n"
    "-A PREROUTING -p tcp -m tcp --dport 21 -m comment --comment ftpalg -j NFQUEUE "
    "--queue-num 0 --queue-bypass\n"
    "COMMIT\n*mangle\n"
    "-A PREROUTING -p tcp -m tcp --dport 21 -m connlabel --label \"127\" -m comment "
    "--comment ftpalg\n"
    "-A PREROUTING -p tcp -m tcp --sport 21 -m comment --comment ftpalg -j NFQUEUE "
    "--queue-num 0 --queue-bypass\n"
    "-A PREROUTING -p tcp -m tcp --sport 80 -j NFQUEUE --queue-num 9\n"  // not ours
    "COMMIT\n";

std::string Report(const InstalledRules& rules, uint16_t queue,
                   const std::vector<uint16_t>& ports, bool* ready) {
  Printed out;
  CheckReport report(out.file());
  ReportInstalledRules(rules, queue, ports, report);
  *ready = report.ready();
  return out.Text();
}

TEST(CheckReportTest, NoRulesWarnsOnly) {
  InstalledRules rules;
  ParseIptablesSave("*raw\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n", &rules);
  ParseNftRuleset("table inet filter {\n\tchain input {\n\t}\n}\n", &rules);
  bool ready = false;
  EXPECT_EQ(Report(rules, 0, {}, &ready),
            "ok     kernel FTP helper: not attached (no --helper ftp rule, no nft ct "
            "helper of type \"ftp\" in use)\n"
            "warn   rules: no ftpalg rules installed: run `ftpalg-rules install` "
            "before starting ftpalgd\n");
  EXPECT_TRUE(ready);
}

TEST(CheckReportTest, IptablesRulesMatchingTheDaemon) {
  InstalledRules rules;
  ParseIptablesSave(kIptablesQ0, &rules);
  EXPECT_EQ(rules.iptables_rules, 4u);
  EXPECT_EQ(rules.control_queues, (std::set<uint16_t>{0}));
  EXPECT_EQ(rules.data_queues, (std::set<uint16_t>{1}));
  EXPECT_EQ(rules.ports, (std::set<uint16_t>{21}));
  bool ready = false;
  const std::string text = Report(rules, 0, {21}, &ready);
  EXPECT_TRUE(ready);
  EXPECT_NE(text.find("ok     rules: 4 ftpalg rules installed (iptables 4, nft table "
                      "inet ftpalg 0)\n"
                      "ok     rules: match ftpalgd's queues 0 and 1 and control ports 21\n"),
            std::string::npos)
      << text;
}

TEST(CheckReportTest, AnotherQueueOrOtherPortsFail) {
  InstalledRules rules;
  ParseIptablesSave(kIptablesQ0, &rules);
  bool ready = true;
  const std::string text = Report(rules, 4, {21, 2121}, &ready);
  EXPECT_FALSE(ready);
  EXPECT_NE(text.find("FAIL   rules: control packets go to queue 0, ftpalgd reads queue 4"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("FAIL   rules: data SYNs go to queue 1, ftpalgd reads queue 5"),
            std::string::npos);
  EXPECT_NE(text.find("FAIL   rules: match control ports 21, ftpalgd's control ports are "
                      "21,2121"),
            std::string::npos);
  EXPECT_EQ(text.find("rules: match ftpalgd's"), std::string::npos);
}

TEST(CheckReportTest, MultiportRulesAndAMissingDataRule) {
  InstalledRules rules;
  ParseIptablesSave(
      "-A PREROUTING -p tcp -m multiport --dports 21,2121 -m comment --comment ftpalg "
      "-j NFQUEUE --queue-num 4 --queue-bypass\n",
      &rules);
  EXPECT_EQ(rules.ports, (std::set<uint16_t>{21, 2121}));
  bool ready = true;
  const std::string text = Report(rules, 4, {2121, 21}, &ready);
  EXPECT_FALSE(ready);
  EXPECT_NE(text.find("FAIL   rules: data SYNs go to queue none, ftpalgd reads queue 5"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("control ports 21,2121, ftpalgd"), std::string::npos);
}

// `nft list ruleset` with the native table (backend nft, as nft 1.0.6 lists
// it) and the data-SYN rule through iptables-nft (listed, not parsed: only
// table inet ftpalg is read from nft; iptables-save reports that rule).
TEST(CheckReportTest, NftTableCountsAndMatches) {
  const std::string nft =
      "table ip raw {\n"
      "\tchain PREROUTING {\n"
      "\t\tmeta l4proto tcp # xt_set counter xt_NFQUEUE comment \"ftpalg\"\n"
      "\t}\n"
      "}\n"
      "table inet ftpalg {\n"
      "\tchain raw_prerouting {\n"
      "\t\ttype filter hook prerouting priority raw; policy accept;\n"
      "\t\ttcp dport { 21, 2121 } counter packets 3 bytes 180 queue flags bypass to 4 "
      "comment \"ftpalg\"\n"
      "\t}\n"
      "\tchain mangle_prerouting {\n"
      "\t\ttype filter hook prerouting priority mangle; policy accept;\n"
      "\t\ttcp sport { 21, 2121 } counter packets 0 bytes 0 queue num 4 bypass comment "
      "\"ftpalg\"\n"
      "\t}\n"
      "\tchain label_space {\n"
      "\t\tct label set 127 comment \"ftpalg\"\n"
      "\t}\n"
      "}\n";
  InstalledRules rules;
  ParseIptablesSave(
      "-A PREROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m set --match-set "
      "ftpalg-pend4 dst,dst -m comment --comment ftpalg -j NFQUEUE --queue-num 5 "
      "--queue-bypass\n",
      &rules);
  ParseNftRuleset(nft, &rules);
  EXPECT_EQ(rules.nft_rules, 3u);
  EXPECT_EQ(rules.control_queues, (std::set<uint16_t>{4}));
  EXPECT_EQ(rules.ports, (std::set<uint16_t>{21, 2121}));
  bool ready = false;
  const std::string text = Report(rules, 4, {21, 2121}, &ready);
  EXPECT_TRUE(ready) << text;
  EXPECT_NE(text.find("ok     rules: 4 ftpalg rules installed (iptables 1, nft table inet "
                      "ftpalg 3)\n"
                      "ok     rules: match ftpalgd's queues 4 and 5 and control ports "
                      "21,2121\n"),
            std::string::npos)
      << text;
}

TEST(CheckReportTest, KernelHelperInEitherFormFails) {
  InstalledRules rules;
  ParseIptablesSave(std::string(kIptablesQ0) +
                        "-A PREROUTING -p tcp --dport 2121 -j CT --helper ftp\n",
                    &rules);
  ParseNftRuleset(
      "table inet fw {\n"
      "\tct helper ftp-std {\n"
      "\t\ttype \"ftp\" protocol tcp\n"
      "\t\tl3proto inet\n"
      "\t}\n"
      "\tct helper spare {\n"
      "\t\ttype \"ftp\" protocol tcp\n"
      "\t\tl3proto inet\n"
      "\t}\n"
      "\tct helper irc-inert {\n"
      "\t\ttype \"irc\" protocol tcp\n"
      "\t\tl3proto inet\n"
      "\t}\n"
      "\tchain pre {\n"
      "\t\ttype filter hook prerouting priority filter; policy accept;\n"
      "\t\ttcp dport 21 ct helper set \"ftp-std\"\n"
      "\t\ttcp dport 6667 ct helper set \"irc-inert\"\n"
      "\t}\n"
      "}\n",
      &rules);
  bool ready = true;
  const std::string text = Report(rules, 0, {}, &ready);
  EXPECT_FALSE(ready);
  EXPECT_EQ(text.substr(0, text.find("ok     rules:")),
            "FAIL   kernel FTP helper: attached: -A PREROUTING -p tcp --dport 2121 -j CT "
            "--helper ftp (ftpalgd and the kernel helper must never handle the same "
            "connection: remove that rule)\n"
            "FAIL   kernel FTP helper: attached: nft table inet fw: ct helper \"ftp-std\" of "
            "type \"ftp\": tcp dport 21 ct helper set \"ftp-std\" (ftpalgd and the kernel "
            "helper must never handle the same connection: remove that rule)\n"
            "warn   kernel FTP helper: nft table inet fw defines ct helper \"spare\" of type "
            "\"ftp\", unused so far: never `ct helper set` it on connections ftpalgd "
            "handles\n");
}

}  // namespace
}  // namespace ftpalg
