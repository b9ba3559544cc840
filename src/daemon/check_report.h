// SPDX-License-Identifier: GPL-2.0-or-later
// The report `ftpalgd --check` prints: a heading, one "TAG    text" line per
// finding (ok, info, warn, FAIL) and the verdict ("ready" or "not ready"),
// and what the probes' raw answers (the conntrack probe's report, an
// iptables-save listing) mean as report lines. Writes to the FILE* given;
// no probing here.
#pragma once

#include <cstdio>
#include <string>

namespace ftpalg {

class CheckReport {
 public:
  explicit CheckReport(std::FILE* out) : out_(out) {}

  // "ftpalgd VERSION --check".
  void Heading();
  // One finding; the tag is padded to 6 columns.
  void Line(const char* tag, const std::string& text);
  // A finding that makes the gateway not ready.
  void Fail(const std::string& text) {
    Line("FAIL", text);
    NotReady();
  }
  void NotReady() { ready_ = false; }
  bool ready() const { return ready_; }
  // Prints the verdict; the exit status of --check (0 ready, 1 not).
  int Finish();

 private:
  std::FILE* out_;
  bool ready_ = true;
};

// The conntrack probe's report, one "conntrack: " line per line of it,
// tagged ok or FAIL as the probe as a whole passed or not.
void ReportConntrackProbe(bool probe_ok, const std::string& probe_report,
                          CheckReport& report);

// What iptables-save (and ip6tables-save) output says: a rule attaching the
// kernel FTP helper fails the check (the helper and ftpalgd must never handle
// the same connection); no rule commented "ftpalg" is a warning.
void ReportIptablesRules(const std::string& rules, CheckReport& report);

}  // namespace ftpalg
