// SPDX-License-Identifier: GPL-2.0-or-later
// The report `ftpalgd --check` prints: a heading, one "TAG    text" line per
// finding (ok, info, warn, FAIL) and the verdict ("ready" or "not ready"),
// and what the probes' raw answers (the conntrack probe's report, an
// iptables-save listing, `nft list ruleset`) mean as report lines. Writes to the FILE* given;
// no probing here.
#pragma once

#include <cstdio>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

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

// What the installed rules are, read from iptables-save (and ip6tables-save)
// output and from `nft list ruleset`: rules commented "ftpalg" (iptables),
// the native table inet ftpalg (nft), and anything attaching the kernel FTP
// helper (iptables -j CT --helper ftp; an nft ct helper object of type "ftp"
// that a `ct helper set` uses).
struct InstalledRules {
  size_t iptables_rules = 0;              // commented "ftpalg"
  size_t nft_rules = 0;                   // in table inet ftpalg
  std::set<uint16_t> control_queues;      // NFQUEUE/queue of control rules
  std::set<uint16_t> data_queues;         // the data-SYN (ipset) rule's
  std::set<uint16_t> ports;               // control ports the rules match
  std::vector<std::string> helper_lines;  // the kernel ftp helper attached
  std::vector<std::string> unused_ftp_helpers;  // nft objects nothing uses
};
void ParseIptablesSave(const std::string& text, InstalledRules* out);
void ParseNftRuleset(const std::string& text, InstalledRules* out);

// The report lines for what was found, compared with the daemon's queue and
// control ports: the kernel FTP helper attached fails; no ftpalg rule at all
// warns (expected before the first start); rules for another queue or
// other ports, or without the data-SYN rule, fail (ftpalgd would see nothing
// or not every control connection).
void ReportInstalledRules(const InstalledRules& rules, uint16_t queue,
                          const std::vector<uint16_t>& control_ports,
                          CheckReport& report);

}  // namespace ftpalg
