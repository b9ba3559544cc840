// SPDX-License-Identifier: GPL-2.0-or-later
// RulesWatch: when it asks conntrack (only after a whole interval without a
// queued control packet), when it warns (active control conntracks), and
// what CountActiveControlConntracks counts in a scripted dump.
#include "daemon/rules_watch.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "adapters/ctnetlink_messages.h"

namespace ftpalg {
namespace {

struct FakeCount {
  std::optional<uint64_t> answer = 0;
  int calls = 0;
  uint32_t last_window = 0;
};

RulesWatch MakeWatch(FakeCount& f) {
  return RulesWatch(20, [&f](uint32_t window_s) {
    ++f.calls;
    f.last_window = window_s;
    return f.answer;
  });
}

TEST(RulesWatchTest, PacketsKeepArrivingNoDump) {
  FakeCount f;
  f.answer = 5;
  RulesWatch w = MakeWatch(f);
  uint64_t packets = 0;
  for (uint64_t t = 0; t <= 120000; t += 1000) {
    packets += 2;
    EXPECT_EQ(w.Tick(t, packets), "");
  }
  EXPECT_EQ(f.calls, 0);
  EXPECT_EQ(w.warnings(), 0u);
}

TEST(RulesWatchTest, QuietAndActiveConntracksWarnsOncePerInterval) {
  FakeCount f;
  f.answer = 3;
  RulesWatch w = MakeWatch(f);
  std::vector<std::string> lines;
  for (uint64_t t = 0; t <= 60000; t += 1000) {
    const std::string l = w.Tick(t, 7);  // stuck at 7
    if (!l.empty()) lines.push_back(l);
  }
  ASSERT_EQ(lines.size(), 3u);  // at 20, 40 and 60 s
  EXPECT_EQ(w.warnings(), 3u);
  EXPECT_EQ(f.last_window, 20u);
  EXPECT_EQ(lines[0].rfind("rules gone? nothing queued for 20 s while 3 FTP control "
                           "conntracks saw packets in the last 20 s",
                           0),
            0u)
      << lines[0];
  EXPECT_NE(lines[2].find("nothing queued for 60 s"), std::string::npos);
}

TEST(RulesWatchTest, QuietGatewayOrFailedDumpStaysSilent) {
  FakeCount f;
  f.answer = 0;
  RulesWatch w = MakeWatch(f);
  for (uint64_t t = 0; t <= 40000; t += 1000) EXPECT_EQ(w.Tick(t, 0), "");
  EXPECT_EQ(f.calls, 2);
  f.answer = std::nullopt;
  for (uint64_t t = 41000; t <= 80000; t += 1000) EXPECT_EQ(w.Tick(t, 0), "");
  EXPECT_EQ(w.warnings(), 0u);
}

TEST(RulesWatchTest, APacketWithinTheIntervalPostponesTheQuestion) {
  FakeCount f;
  f.answer = 1;
  RulesWatch w = MakeWatch(f);
  w.Tick(0, 0);
  w.Tick(15000, 1);                 // a packet at 15 s
  EXPECT_EQ(w.Tick(20000, 1), "");  // quiet for 5 s only: no dump
  EXPECT_EQ(f.calls, 0);
  EXPECT_NE(w.Tick(40000, 1), "");  // quiet for 25 s: asked, and warned
  EXPECT_EQ(f.calls, 1);
  EXPECT_EQ(w.warnings(), 1u);
}

// A channel answering a dump with scripted conntracks.
class ScriptedDump : public NetlinkChannel {
 public:
  std::vector<CtInfo> table;
  int error = 0;
  uint32_t NextSeq() override { return ++seq_; }
  int Request(nlmsghdr*, const ReplyFn&) override { return EINVAL; }
  int Dump(nlmsghdr*, const ReplyFn& on_reply) override {
    alignas(8) char buf[kNlMsgBufSize];
    for (const CtInfo& c : table) on_reply(BuildCtInfoMessage(buf, seq_, c));
    return error;
  }

 private:
  uint32_t seq_ = 0;
};

CtInfo Conntrack(uint16_t dport, uint32_t timeout_s, uint8_t proto = 6) {
  CtInfo c;
  CtTuple t;
  t.src = Endpoint{*IpAddress::Parse("10.0.0.2"), 40000};
  t.dst = Endpoint{*IpAddress::Parse("203.0.113.5"), dport};
  t.proto = proto;
  c.orig = t;
  c.reply = t.Inverse();
  c.timeout_s = timeout_s;
  return c;
}

TEST(RulesWatchTest, CountsRecentlyActiveControlConntracksOnly) {
  ScriptedDump d;
  d.table = {Conntrack(21, 431990),           // active 10 s ago: counted
             Conntrack(21, 432000),           // just now: counted
             Conntrack(21, 431980),           // exactly 20 s ago: not
             Conntrack(21, 400000),           // idle for 32000 s: not
             Conntrack(21, 120),              // closing or SYN_SENT: not
             Conntrack(2121, 431999),         // another control port
             Conntrack(80, 431999),           // not a control port
             Conntrack(21, 431999, 17)};      // UDP
  EXPECT_EQ(CountActiveControlConntracks(d, {}, 432000, 20), 2u);
  EXPECT_EQ(CountActiveControlConntracks(d, {21, 2121}, 432000, 20), 3u);
  d.error = ENOBUFS;
  EXPECT_EQ(CountActiveControlConntracks(d, {21}, 432000, 20), std::nullopt);
}

}  // namespace
}  // namespace ftpalg
