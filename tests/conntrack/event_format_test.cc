// SPDX-License-Identifier: GPL-2.0-or-later
// The NAT-binding records of docs/events.md, schema 1: every event type
// with every field, escaping, a record that does not fit.
#include "conntrack/event_format.h"

#include <gtest/gtest.h>

#include <string>

namespace ftpalg {
namespace {

IpAddress Ip(const char* s) { return IpAddress::Parse(s).value(); }
Endpoint Ep(const char* a, uint16_t p) { return Endpoint{Ip(a), p}; }

constexpr uint64_t kWall = 1796583000123;  // 2026-12-06T18:50:00.123Z
const std::string kHead = R"({"v":1,"ts":"2026-12-06T18:50:00.123Z","event":)";

Expectation PortExpectation() {
  Expectation e;
  e.session_id = 7;
  e.kind = AnnounceKind::kPort;
  e.announcer = Direction::kOriginal;
  e.master = FlowKey{Ep("10.7.0.2", 40000), Ep("203.0.113.2", 21)};
  e.peer = Ip("203.0.113.2");
  e.target = Ep("203.0.113.1", 50000);
  e.nat_to = Ep("10.7.0.2", 50000);
  e.timeout_s = 300;
  return e;
}

PendingConnection Pending(PlaneOptions::Mechanism m) {
  PendingConnection p;
  p.e = PortExpectation();
  p.kernel_target = p.e.target;
  p.mech = m;
  return p;
}

const std::string kPortData =
    R"("session":7,"kind":"PORT","announcer":"client","inside":"10.7.0.2:50000",)"
    R"("public":"203.0.113.1:50000","peer":"203.0.113.2",)"
    R"("master":{"src":"10.7.0.2:40000","dst":"203.0.113.2:21"})";

TEST(EventFormat, UtcTimestamp) {
  char ts[kUtcTextSize];
  FormatUtcMs(kWall, ts);
  EXPECT_STREQ(ts, "2026-12-06T18:50:00.123Z");
  FormatUtcMs(5, ts);
  EXPECT_STREQ(ts, "1970-01-01T00:00:00.005Z");
}

// The time of day is reused within a second: the milliseconds still change.
TEST(EventFormat, ConsecutiveRecordsCarryTheirOwnTime) {
  JsonLine j;
  auto ts = [&j](uint64_t wall) {
    const std::string l(j.Begin(wall, "x").Finish());
    return l.substr(l.find("\"ts\":\"") + 6, 24);
  };
  EXPECT_EQ(ts(kWall), "2026-12-06T18:50:00.123Z");
  EXPECT_EQ(ts(kWall + 1), "2026-12-06T18:50:00.124Z");
  EXPECT_EQ(ts(kWall + 877), "2026-12-06T18:50:01.000Z");
  EXPECT_EQ(ts(kWall + 86400000), "2026-12-07T18:50:00.123Z");
  EXPECT_EQ(ts(kWall - 1000), "2026-12-06T18:49:59.123Z");
}

TEST(EventFormat, StreamOpen) {
  JsonLine j;
  EXPECT_EQ(FormatStreamOpen(j, kWall, 42, "0.1.0", 3),
            kHead + R"("stream_open","pid":42,"version":"0.1.0","dropped":3})" "\n");
}

TEST(EventFormat, SessionStartWithAndWithoutBinding) {
  SessionStartFacts f;
  f.session = 7;
  f.orig = FlowKey{Ep("10.7.0.2", 40000), Ep("203.0.113.2", 21)};
  JsonLine j;
  EXPECT_EQ(FormatSessionStart(j, kWall, f),
            kHead + R"("session_start","session":7,"picked_up":false,)"
                    R"("client":"10.7.0.2:40000","server":"203.0.113.2:21",)"
                    R"("client_public":null,"server_inside":null,)"
                    R"("orig":{"src":"10.7.0.2:40000","dst":"203.0.113.2:21"},"reply":null})"
                    "\n");
  f.reply_src = Ep("203.0.113.2", 21);
  f.reply_dst = Ep("203.0.113.1", 61000);
  f.picked_up = true;
  EXPECT_EQ(FormatSessionStart(j, kWall, f),
            kHead + R"("session_start","session":7,"picked_up":true,)"
                    R"("client":"10.7.0.2:40000","server":"203.0.113.2:21",)"
                    R"("client_public":"203.0.113.1:61000","server_inside":"203.0.113.2:21",)"
                    R"("orig":{"src":"10.7.0.2:40000","dst":"203.0.113.2:21"},)"
                    R"("reply":{"src":"203.0.113.2:21","dst":"203.0.113.1:61000"}})"
                    "\n");
}

TEST(EventFormat, SessionEndEscapesTheReason) {
  JsonLine j;
  const FlowKey k{Ep("fd00:10::2", 40000), Ep("2001:db8:1::2", 21)};
  EXPECT_EQ(FormatSessionEnd(j, kWall, 9, k, "a \"quoted\\\" reason\n\x01\x7f", 2, 1),
            kHead + R"("session_end","session":9,"client":"[fd00:10::2]:40000",)"
                    R"("server":"[2001:db8:1::2]:21",)"
                    R"("reason":"a \"quoted\\\" reason\n\u0001\u007f","rewrites":2,"refusals":1})"
                    "\n");
}

TEST(EventFormat, DataRecords) {
  JsonLine j;
  const Expectation e = PortExpectation();
  EXPECT_EQ(FormatDataAnnounced(j, kWall, e),
            kHead + R"("data_announced",)" + kPortData + "}\n");
  EXPECT_EQ(FormatDataRefused(j, kWall, e, "port_busy"),
            kHead + R"("data_refused",)" + kPortData + R"(,"reason":"port_busy"})" "\n");
  PendingConnection p = Pending(PlaneOptions::Mechanism::kPrecreate);
  EXPECT_EQ(FormatDataInstalled(j, kWall, p, false),
            kHead + R"("data_installed",)" + kPortData +
                R"(,"mechanism":"precreate","local":"203.0.113.1:50000","timeout_s":300,)"
                R"("restored":false})" "\n");
  EXPECT_EQ(FormatDataUsed(j, kWall, p, Ep("203.0.113.2", 20)),
            kHead + R"("data_used",)" + kPortData +
                R"(,"mechanism":"precreate","local":"203.0.113.1:50000",)"
                R"("from":"203.0.113.2:20"})" "\n");
  p = Pending(PlaneOptions::Mechanism::kExpect);
  EXPECT_EQ(FormatDataEnded(j, kWall, p, "expired"),
            kHead + R"("data_expired",)" + kPortData +
                R"(,"mechanism":"expectation","local":"203.0.113.1:50000"})" "\n");
  EXPECT_EQ(FormatDataEnded(j, kWall, p, "session_ended"),
            kHead + R"("data_withdrawn",)" + kPortData +
                R"(,"mechanism":"expectation","local":"203.0.113.1:50000",)"
                R"("reason":"session_ended"})" "\n");
}

TEST(EventFormat, PassiveRecordNamesTheServerAsAnnouncer) {
  Expectation e = PortExpectation();
  e.kind = AnnounceKind::k229;
  e.announcer = Direction::kReply;
  JsonLine j;
  const std::string line(FormatDataAnnounced(j, kWall, e));
  EXPECT_NE(line.find(R"("kind":"229","announcer":"server")"), std::string::npos) << line;
}

TEST(EventFormat, ARecordThatDoesNotFitIsReportedNotOverrun) {
  JsonLine j;
  j.Begin(kWall, "session_end").Str("reason", std::string(JsonLine::kMaxLen, 'x'));
  EXPECT_FALSE(j.ok());
  const std::string_view line = j.Finish();
  EXPECT_LE(line.size(), JsonLine::kMaxLen);
  j.Begin(kWall, "x");
  EXPECT_TRUE(j.ok());
}

}  // namespace
}  // namespace ftpalg
