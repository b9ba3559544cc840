// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/check_report.h"

#include <sstream>
#include <string_view>
#include <utility>

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

namespace {

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

// A decimal number within max, or -1.
long Number(std::string_view s, long max) {
  if (s.empty() || s.size() > 6) return -1;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v <= max ? v : -1;
}

// "21" or "21,2121" (iptables); ranges ("a:b") are not ours and skipped.
void AddPortList(const std::string& list, std::set<uint16_t>* ports) {
  std::istringstream in(list);
  std::string p;
  while (std::getline(in, p, ',')) {
    const long v = Number(p, 65535);
    if (v > 0) ports->insert(static_cast<uint16_t>(v));
  }
}

std::string Join(const std::set<uint16_t>& values) {
  std::string out;
  for (uint16_t v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
  return out.empty() ? "none" : out;
}

}  // namespace

void ParseIptablesSave(const std::string& text, InstalledRules* out) {
  std::istringstream lines(text);
  std::string l;
  while (std::getline(lines, l)) {
    if (l.find("--helper ftp") != std::string::npos) out->helper_lines.push_back(l);
    const std::vector<std::string> w = Words(l);
    bool ours = false, data = false;
    long queue = -1;
    std::set<uint16_t> ports;
    for (size_t i = 0; i + 1 < w.size(); ++i) {
      const std::string& next = w[i + 1];
      if (w[i] == "--comment") ours = ours || next == "ftpalg" || next == "\"ftpalg\"";
      if (w[i] == "--match-set") data = true;
      if (w[i] == "--queue-num") queue = Number(next, 65535);
      if (w[i] == "--dport" || w[i] == "--dports" || w[i] == "--sport" ||
          w[i] == "--sports") {
        AddPortList(next, &ports);
      }
    }
    if (!ours) continue;
    ++out->iptables_rules;
    if (queue >= 0) {
      (data ? out->data_queues : out->control_queues).insert(static_cast<uint16_t>(queue));
    }
    if (!data) out->ports.insert(ports.begin(), ports.end());
  }
}

namespace {

// The ports after "dport"/"sport" in an nft rule: "21" or "{ 21, 2121 }".
void AddNftPorts(const std::vector<std::string>& w, size_t i, std::set<uint16_t>* ports) {
  if (i >= w.size()) return;
  if (w[i] != "{") {
    AddPortList(w[i], ports);
    return;
  }
  for (++i; i < w.size() && w[i] != "}"; ++i) {
    std::string p = w[i];
    if (!p.empty() && p.back() == ',') p.pop_back();
    AddPortList(p, ports);
  }
}

void ParseNftRule(const std::vector<std::string>& w, InstalledRules* out) {
  long queue = -1;
  std::set<uint16_t> ports;
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] == "queue") {
      for (size_t j = i + 1; j + 1 < w.size() && queue < 0; ++j) {
        if (w[j] == "num" || w[j] == "to") queue = Number(w[j + 1], 65535);
      }
    }
    if (w[i] == "dport" || w[i] == "sport") AddNftPorts(w, i + 1, &ports);
  }
  ++out->nft_rules;
  if (queue >= 0) out->control_queues.insert(static_cast<uint16_t>(queue));
  out->ports.insert(ports.begin(), ports.end());
}

}  // namespace

void ParseNftRuleset(const std::string& text, InstalledRules* out) {
  std::istringstream lines(text);
  std::string l, table, helper_object;
  std::set<std::string> ftp_helpers;             // "table name" of type ftp
  std::vector<std::pair<std::string, std::string>> uses;  // ("table name", rule)
  while (std::getline(lines, l)) {
    const std::vector<std::string> w = Words(l);
    if (w.empty()) continue;
    if (w[0] == "table" && w.size() >= 3) {
      table = w[1] + " " + w[2];
      continue;
    }
    if (w.size() >= 4 && w[0] == "ct" && w[1] == "helper" && w[3] == "{") {
      helper_object = w[2];
      continue;
    }
    if (!helper_object.empty() && w[0] == "type" && w.size() >= 2) {
      if (w[1] == "\"ftp\"") ftp_helpers.insert(table + " " + helper_object);
      helper_object.clear();
      continue;
    }
    for (size_t i = 0; i + 3 < w.size(); ++i) {
      if (w[i] == "ct" && w[i + 1] == "helper" && w[i + 2] == "set") {
        std::string name = w[i + 3];
        if (name.size() >= 2 && name.front() == '"') name = name.substr(1, name.size() - 2);
        uses.emplace_back(table + " " + name, l.substr(l.find_first_not_of(" \t")));
      }
    }
    if (table == "inet ftpalg" && l.find("comment \"ftpalg\"") != std::string::npos) {
      ParseNftRule(w, out);
    }
  }
  std::set<std::string> used;
  for (const auto& [key, rule] : uses) {
    if (ftp_helpers.count(key) == 0) continue;
    used.insert(key);
    out->helper_lines.push_back("nft table " + key.substr(0, key.rfind(' ')) +
                                ": ct helper \"" + key.substr(key.rfind(' ') + 1) +
                                "\" of type \"ftp\": " + rule);
  }
  for (const std::string& key : ftp_helpers) {
    if (used.count(key) == 0) out->unused_ftp_helpers.push_back(key);
  }
}

void ReportInstalledRules(const InstalledRules& rules, uint16_t queue,
                          const std::vector<uint16_t>& control_ports,
                          CheckReport& report) {
  for (const std::string& l : rules.helper_lines) {
    report.Fail("kernel FTP helper: attached: " + l +
                " (ftpalgd and the kernel helper must never handle the same "
                "connection: remove that rule)");
  }
  if (rules.helper_lines.empty()) {
    report.Line("ok", "kernel FTP helper: not attached (no --helper ftp rule, no nft "
                      "ct helper of type \"ftp\" in use)");
  }
  for (const std::string& key : rules.unused_ftp_helpers) {
    report.Line("warn", "kernel FTP helper: nft table " + key.substr(0, key.rfind(' ')) +
                            " defines ct helper \"" + key.substr(key.rfind(' ') + 1) +
                            "\" of type \"ftp\", unused so far: never `ct helper set` "
                            "it on connections ftpalgd handles");
  }
  const size_t total = rules.iptables_rules + rules.nft_rules;
  if (total == 0) {
    report.Line("warn", "rules: no ftpalg rules installed: run "
                        "`ftpalg-rules install` before starting ftpalgd");
    return;
  }
  report.Line("ok", "rules: " + std::to_string(total) + " ftpalg rules installed (iptables " +
                        std::to_string(rules.iptables_rules) + ", nft table inet ftpalg " +
                        std::to_string(rules.nft_rules) + ")");
  const std::set<uint16_t> want_ports =
      control_ports.empty() ? std::set<uint16_t>{21}
                            : std::set<uint16_t>(control_ports.begin(), control_ports.end());
  const std::set<uint16_t> want_control{queue};
  const std::set<uint16_t> want_data{static_cast<uint16_t>(queue + 1)};
  const char* fix = " (ftpalg-rules takes queue and ports from ftpalgd.conf: run "
                    "`ftpalg-rules install` again, without --queue/--ports)";
  bool match = true;
  if (rules.control_queues != want_control) {
    report.Fail("rules: control packets go to queue " + Join(rules.control_queues) +
                ", ftpalgd reads queue " + std::to_string(queue) + fix);
    match = false;
  }
  if (rules.data_queues != want_data) {
    report.Fail("rules: data SYNs go to queue " + Join(rules.data_queues) +
                ", ftpalgd reads queue " + std::to_string(queue + 1) + fix);
    match = false;
  }
  if (rules.ports != want_ports) {
    report.Fail("rules: match control ports " + Join(rules.ports) +
                ", ftpalgd's control ports are " + Join(want_ports) + fix);
    match = false;
  }
  if (match) {
    report.Line("ok", "rules: match ftpalgd's queues " + std::to_string(queue) + " and " +
                          std::to_string(queue + 1) + " and control ports " +
                          Join(want_ports));
  }
}

}  // namespace ftpalg
