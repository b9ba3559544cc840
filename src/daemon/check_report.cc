// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/check_report.h"

#include <sstream>

#include "daemon/options.h"

namespace ftpalg {

void CheckReport::Heading() {
  std::fprintf(out_, "ftpalgd %s --check\n", std::string(kVersion).c_str());
}

void CheckReport::Line(const char* tag, const std::string& text) {
  std::fprintf(out_, "%-6s %s\n", tag, text.c_str());
}

int CheckReport::Finish() {
  std::fprintf(out_, "%s\n", ready_ ? "ready" : "not ready");
  return ready_ ? 0 : 1;
}

void ReportConntrackProbe(bool probe_ok, const std::string& probe_report,
                          CheckReport& report) {
  if (!probe_ok) report.NotReady();
  std::istringstream lines(probe_report);
  std::string l;
  while (std::getline(lines, l)) {
    report.Line(probe_ok ? "ok" : "FAIL", "conntrack: " + l);
  }
}

void ReportIptablesRules(const std::string& rules, CheckReport& report) {
  std::istringstream lines(rules);
  std::string l;
  bool helper = false;
  size_t ours = 0;
  while (std::getline(lines, l)) {
    if (l.find("--helper ftp") != std::string::npos) {
      report.Line("FAIL", "kernel FTP helper attached: " + l +
                              " (ftpalgd and the kernel helper must never handle "
                              "the same connection: remove that rule)");
      helper = true;
    }
    if (l.find("--comment ftpalg") != std::string::npos) ++ours;
  }
  if (helper) {
    report.NotReady();
  } else {
    report.Line("ok", "kernel FTP helper: not attached (no --helper ftp rule)");
  }
  if (ours == 0) {
    report.Line("warn", "rules: no ftpalg rules installed: run "
                        "`scripts/ftpalg-rules install` before starting ftpalgd");
  } else {
    report.Line("ok", "rules: " + std::to_string(ours) + " ftpalg rules installed");
  }
}

}  // namespace ftpalg
