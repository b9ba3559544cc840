// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/stats_report.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace ftpalg {
namespace {

StatsSnapshot Sample() {
  StatsSnapshot s;
  s.uptime_s = 42;
  s.sessions_active = 3;
  s.data_syns = 5;
  s.log_suppressed = 7;
  s.events_recorded = 30;
  s.events_dropped = 2;
  s.engine.packets = 100;
  s.engine.rewrites = 4;
  s.engine.expectations = 6;
  s.engine.refused = 2;
  s.engine.refused_bounce = 1;
  s.engine.refused_limit = 1;
  s.plane = {{"installs", 6, false},
             {"related_created", 2, false},
             {"snapshot_write_us", 900, false},
             {"err_enoent", 3, false},
             {"err_eperm", 0, false},
             {"pending", 4, true}};
  s.nfqueue.received = 120;
  s.nfqueue.enobufs = 1;
  KernelQueueStats q0;
  q0.queue = 0;
  q0.bound = true;
  q0.portid = 77;
  q0.queue_dropped = 11;
  q0.user_dropped = 12;
  KernelQueueStats q1;
  q1.queue = 1;
  s.queues = {q0, q1};
  return s;
}

// The grammar, by hand (std::regex trips GCC 12's -Wmaybe-uninitialized
// under the sanitizers).
bool IsNameChar(char c, bool first, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (colon && c == ':') || (!first && c >= '0' && c <= '9');
}
bool IsName(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsNameChar(s[i], i == 0, colon)) return false;
  }
  return true;
}
bool IsMetricName(std::string_view s) { return IsName(s, true); }
bool IsLabelName(std::string_view s) { return IsName(s, false); }
// 0 or a decimal without leading zeros.
bool IsCount(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}
bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::map<std::string, std::string> TextValues(const std::string& text) {
  std::map<std::string, std::string> v;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.find(' ');
    v[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return v;
}

TEST(StatsReportTest, TextIsOneNameValuePerLineInGroups) {
  const std::string text = FormatStatsText(Sample());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::istringstream in(text);
  std::string line;
  std::set<std::string> names;
  std::vector<std::string> headings;
  while (std::getline(in, line)) {
    const size_t sp = line.find(' ');
    const bool heading = StartsWith(line, "# ") && line.size() > 2;
    const bool pair = sp != std::string::npos && line[0] >= 'a' && line[0] <= 'z' &&
                      IsLabelName(line.substr(0, sp)) && IsCount(line.substr(sp + 1));
    EXPECT_TRUE(heading || pair) << "bad line: " << line;
    if (line[0] == '#') {
      headings.push_back(line);
      continue;
    }
    EXPECT_TRUE(names.insert(line.substr(0, line.find(' '))).second)
        << "duplicate name: " << line;
  }
  EXPECT_EQ(headings, (std::vector<std::string>{
                          "# ftpalgd 0.1.0", "# engine", "# conntrack plane",
                          "# nfqueue socket",
                          "# kernel queues (/proc/net/netfilter/nfnetlink_queue)"}));
  const auto v = TextValues(text);
  EXPECT_EQ(v.at("uptime_seconds"), "42");
  EXPECT_EQ(v.at("events_recorded"), "30");
  EXPECT_EQ(v.at("events_dropped"), "2");
  const std::string prom = FormatStatsPrometheus(Sample());
  EXPECT_NE(prom.find("\nftpalg_events_dropped_total 2\n"), std::string::npos);
  EXPECT_EQ(v.at("sessions_active"), "3");
  EXPECT_EQ(v.at("rewrites"), "4");
  EXPECT_EQ(v.at("expectations"), "6");
  EXPECT_EQ(v.at("refused_bounce"), "1");
  EXPECT_EQ(v.at("plane_installs"), "6");
  EXPECT_EQ(v.at("plane_err_enoent"), "3");
  EXPECT_EQ(v.at("plane_pending"), "4");
  EXPECT_EQ(v.at("nfqueue_received"), "120");
  EXPECT_EQ(v.at("nfqueue_enobufs"), "1");
  EXPECT_EQ(v.at("queue0_queue_dropped"), "11");
  EXPECT_EQ(v.at("queue0_user_dropped"), "12");
  EXPECT_EQ(v.at("queue1_bound"), "0");
  EXPECT_EQ(v.count("queue1_queue_dropped"), 0u);
  // Every engine counter is there, zero or not.
#define FTPALG_EXPECT_TEXT(name) EXPECT_EQ(v.count(#name), 1u) << #name;
  FTPALG_STATS(FTPALG_EXPECT_TEXT)
#undef FTPALG_EXPECT_TEXT
}

TEST(StatsReportTest, EveryEngineCounterHasHelp) {
#define FTPALG_EXPECT_HELP(name) EXPECT_FALSE(EngineCounterHelp(#name).empty()) << #name;
  FTPALG_STATS(FTPALG_EXPECT_HELP)
#undef FTPALG_EXPECT_HELP
  EXPECT_TRUE(EngineCounterHelp("no_such_counter").empty());
}

// A strict reader of the Prometheus text exposition format (version 0.0.4):
// every line is HELP, TYPE or a sample; each family has one HELP and one
// TYPE before its samples, and its samples are contiguous; names and label
// names match the grammar; label values use only \\ \" \n escapes; no
// sample appears twice; counters end in _total.
struct Exposition {
  std::map<std::string, std::string> type;                 // family -> type
  std::map<std::string, std::map<std::string, std::string>> samples;  // family -> labels -> value
};

// Parses `name="value",...` (the text between the braces) into a canonical
// "name=value;" string with the escapes kept; false on any syntax error.
bool ParseLabels(std::string_view s, std::string* canonical) {
  while (!s.empty()) {
    const size_t eq = s.find('=');
    if (eq == std::string_view::npos || !IsLabelName(s.substr(0, eq))) return false;
    *canonical += std::string(s.substr(0, eq)) + "=";
    s.remove_prefix(eq + 1);
    if (s.empty() || s[0] != '"') return false;
    s.remove_prefix(1);
    bool closed = false;
    while (!s.empty()) {
      const char c = s[0];
      s.remove_prefix(1);
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\n') return false;
      if (c == '\\') {
        if (s.empty() || (s[0] != '\\' && s[0] != '"' && s[0] != 'n')) return false;
        *canonical += c;
        *canonical += s[0];
        s.remove_prefix(1);
        continue;
      }
      *canonical += c;
    }
    if (!closed) return false;
    *canonical += ";";
    if (s.empty()) break;
    if (s[0] != ',') return false;
    s.remove_prefix(1);
    if (s.empty()) return false;  // no trailing comma
  }
  return true;
}

::testing::AssertionResult ParseExposition(const std::string& text, Exposition* out) {
  if (text.empty() || text.back() != '\n') {
    return ::testing::AssertionFailure() << "does not end with a newline";
  }
  std::set<std::string> helped, closed;
  std::string current;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto fail = [&](const std::string& why) {
      return ::testing::AssertionFailure() << "line " << n << " (" << line << "): " << why;
    };
    if (StartsWith(line, "# HELP ")) {
      const std::string rest = line.substr(7);
      const size_t sp = rest.find(' ');
      const std::string f = rest.substr(0, sp);
      if (!IsMetricName(f) || sp == std::string::npos) return fail("bad HELP");
      const std::string help = rest.substr(sp + 1);
      for (size_t i = 0; i < help.size(); ++i) {
        if (help[i] == '\\' && (i + 1 >= help.size() ||
                                 (help[i + 1] != '\\' && help[i + 1] != 'n'))) {
          return fail("bad escape in HELP");
        }
        if (help[i] == '\\') ++i;
      }
      if (!helped.insert(f).second) return fail("second HELP");
      if (out->type.count(f)) return fail("HELP after TYPE");
      if (!current.empty()) closed.insert(current);
      current = f;
      continue;
    }
    if (StartsWith(line, "# TYPE ")) {
      const std::string rest = line.substr(7);
      const size_t sp = rest.find(' ');
      const std::string f = rest.substr(0, sp);
      const std::string type = sp == std::string::npos ? "" : rest.substr(sp + 1);
      if (type != "counter" && type != "gauge") return fail("bad TYPE");
      if (f != current) return fail("TYPE not right after its HELP");
      if (!out->type.emplace(f, type).second) return fail("second TYPE");
      if (type == "counter" && (f.size() < 6 || f.substr(f.size() - 6) != "_total")) {
        return fail("counter name without _total");
      }
      continue;
    }
    // A sample: name[{labels}] value
    const size_t sp = line.rfind(' ');
    if (sp == std::string::npos || !IsCount(line.substr(sp + 1))) return fail("bad value");
    std::string head = line.substr(0, sp);
    std::string canonical;
    const size_t brace = head.find('{');
    if (brace != std::string::npos) {
      if (head.back() != '}') return fail("bad label set");
      const std::string labels = head.substr(brace + 1, head.size() - brace - 2);
      if (labels.empty() || !ParseLabels(labels, &canonical)) return fail("bad label syntax");
      head.resize(brace);
    }
    if (!IsMetricName(head)) return fail("bad metric name");
    if (head != current || !out->type.count(head)) return fail("sample outside its family");
    if (closed.count(head)) return fail("family samples not contiguous");
    if (!out->samples[head].emplace(canonical, line.substr(sp + 1)).second) {
      return fail("duplicate sample");
    }
  }
  for (const auto& [f, t] : out->type) {
    if (!out->samples.count(f)) return ::testing::AssertionFailure() << f << " has no samples";
  }
  return ::testing::AssertionSuccess();
}

TEST(StatsReportTest, PrometheusIsStrictlyValid) {
  const std::string text = FormatStatsPrometheus(Sample());
  Exposition e;
  ASSERT_TRUE(ParseExposition(text, &e)) << text;
  for (const auto& [family, type] : e.type) {
    EXPECT_EQ(family.rfind("ftpalg_", 0), 0u) << family;
  }
  EXPECT_EQ(e.type.at("ftpalg_info"), "gauge");
  EXPECT_EQ(e.samples.at("ftpalg_info").at("version=0.1.0;"), "1");
  EXPECT_EQ(e.type.at("ftpalg_uptime_seconds"), "gauge");
  EXPECT_EQ(e.samples.at("ftpalg_uptime_seconds").at(""), "42");
  EXPECT_EQ(e.type.at("ftpalg_sessions_active"), "gauge");
  EXPECT_EQ(e.type.at("ftpalg_rewrites_total"), "counter");
  EXPECT_EQ(e.samples.at("ftpalg_rewrites_total").at(""), "4");
  EXPECT_EQ(e.samples.at("ftpalg_expectations_total").at(""), "6");
  EXPECT_EQ(e.samples.at("ftpalg_packets_total").at(""), "100");
  // Refusals: one metric, a reason label per cause (every cause listed).
  const auto& refusals = e.samples.at("ftpalg_refusals_total");
  EXPECT_EQ(refusals.at("reason=bounce;"), "1");
  EXPECT_EQ(refusals.at("reason=limit;"), "1");
  EXPECT_EQ(refusals.at("reason=low_port;"), "0");
  EXPECT_EQ(refusals.size(), 10u);
  EXPECT_EQ(e.samples.at("ftpalg_refused_announcements_total").at(""), "2");
  // Errors by kind.
  EXPECT_EQ(e.samples.at("ftpalg_conntrack_errors_total").at("kind=enoent;"), "3");
  EXPECT_EQ(e.samples.at("ftpalg_conntrack_errors_total").at("kind=eperm;"), "0");
  EXPECT_EQ(e.samples.at("ftpalg_nfqueue_errors_total").at("kind=enobufs;"), "1");
  EXPECT_EQ(e.samples.at("ftpalg_plane_installs_total").at(""), "6");
  EXPECT_EQ(e.samples.at("ftpalg_plane_related_created_total").at(""), "2");
  EXPECT_EQ(e.samples.at("ftpalg_plane_snapshot_write_microseconds_total").at(""), "900");
  EXPECT_EQ(e.type.at("ftpalg_plane_pending"), "gauge");
  EXPECT_EQ(e.samples.at("ftpalg_plane_pending").at(""), "4");
  // Kernel queue drops by queue; an unbound queue only says so.
  EXPECT_EQ(e.samples.at("ftpalg_queue_dropped_total").at("queue=0;"), "11");
  EXPECT_EQ(e.samples.at("ftpalg_queue_user_dropped_total").at("queue=0;"), "12");
  EXPECT_EQ(e.samples.at("ftpalg_queue_bound").at("queue=1;"), "0");
  EXPECT_EQ(e.samples.at("ftpalg_queue_dropped_total").count("queue=1;"), 0u);
  // Every engine counter is exported somewhere: count the samples.
  size_t engine_samples = 0;
  for (const auto& [family, samples] : e.samples) {
    (void)family;
    engine_samples += samples.size();
  }
  EXPECT_GT(engine_samples, 40u);
}

TEST(StatsReportTest, ValidatorRejectsBrokenExpositions) {
  const char* broken[] = {
      "# HELP a_total x\n# TYPE a_total counter\na_total 1",            // no final newline
      "# TYPE a_total counter\n# HELP a_total x\na_total 1\n",           // TYPE first
      "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"x} 1\n",    // unterminated
      "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"\\q\"} 1\n",  // bad escape
      "# HELP a_total x\n# TYPE a_total counter\n9a_total 1\n",          // bad name
      "# HELP a x\n# TYPE a counter\na 1\n",                             // counter w/o _total
      "# HELP a_total x\n# TYPE a_total counter\na_total 1\na_total 2\n",  // duplicate
      "# HELP a_total x\n# TYPE a_total counter\na_total 1\n"
      "# HELP b x\n# TYPE b gauge\nb 1\na_total{k=\"v\"} 1\n",           // not contiguous
      "# HELP a_total x\n# TYPE a_total counter\na_total -1\n",          // negative
      "# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v\",} 1\n",  // trailing comma
      "# HELP a_total x\n# TYPE a_total counter\na_total{} 1\n",         // empty labels
      "# HELP a_total x\n# TYPE a_total counter\na_total{9k=\"v\"} 1\n",  // bad label name
      "# HELP a_total x\\q\n# TYPE a_total counter\na_total 1\n",       // bad HELP escape
      "# HELP a_total x\n# TYPE a_total histogram\na_total 1\n",        // unknown type
      "# HELP a_total x\n# TYPE a_total counter\nb_total 1\n",          // no family
  };
  for (const char* text : broken) {
    Exposition e;
    EXPECT_FALSE(ParseExposition(text, &e)) << text;
  }
}

TEST(StatsReportTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapePrometheusLabel("plain"), "plain");
  EXPECT_EQ(EscapePrometheusLabel("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  // An escaped value passes the strict reader.
  const std::string text = "# HELP x_total h\n# TYPE x_total counter\nx_total{v=\"" +
                           EscapePrometheusLabel("a\"b\\c\nd") + "\"} 1\n";
  Exposition e;
  EXPECT_TRUE(ParseExposition(text, &e)) << text;
}

}  // namespace
}  // namespace ftpalg
