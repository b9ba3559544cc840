// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/recording_sink.h"

#include <gtest/gtest.h>

#include <vector>

namespace ftpalg {
namespace {

Endpoint Ep(const char* addr, uint16_t port) { return {*IpAddress::Parse(addr), port}; }

Expectation PortExpectation(uint16_t port = 50000, const char* inside = "10.7.0.2") {
  Expectation e;
  e.session_id = 3;
  e.kind = AnnounceKind::kPort;
  e.announcer = Direction::kOriginal;
  e.master = {Ep(inside, 40000), Ep("192.168.20.2", 21)};
  e.peer = *IpAddress::Parse("192.168.20.2");
  e.target = Ep("203.0.113.1", port);
  e.nat_to = Ep(inside, port);
  e.timeout_s = 300;
  return e;
}

TEST(ExpectationToJson, AllFields) {
  EXPECT_EQ(ExpectationToJson(PortExpectation(), 1700000000123),
            "{\"session\":3,\"time\":1700000000.123,\"family\":4,\"kind\":\"PORT\","
            "\"direction\":\"original\",\"src\":\"192.168.20.2\",\"dst\":\"203.0.113.1\","
            "\"dport\":50000,\"nat_addr\":\"10.7.0.2\",\"nat_port\":50000,"
            "\"master\":\"10.7.0.2:40000->192.168.20.2:21\",\"timeout\":300}");
}

TEST(ExpectationToJson, Ipv6And229) {
  Expectation e;
  e.kind = AnnounceKind::k229;
  e.announcer = Direction::kReply;
  e.master = {Ep("fd00:10::2", 40000), Ep("fd00:20::2", 21)};
  e.peer = *IpAddress::Parse("fd00:10::2");
  e.target = Ep("2001:db8:1::1", 50001);
  e.nat_to = Ep("fd00:20::2", 50001);
  const std::string j = ExpectationToJson(e, 5);
  EXPECT_NE(j.find("\"family\":6"), std::string::npos) << j;
  EXPECT_NE(j.find("\"kind\":\"229\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"direction\":\"reply\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"time\":0.005"), std::string::npos) << j;
  EXPECT_NE(j.find("\"master\":\"[fd00:10::2]:40000->[fd00:20::2]:21\""), std::string::npos) << j;
}

TEST(RecordingSink, InstallRefreshBusyRemove) {
  RecordingSink sink;
  std::vector<RecordingSink::Event> events;
  sink.set_observer([&](RecordingSink::Event e, const Expectation&) { events.push_back(e); });
  sink.set_now_ms(1000);
  EXPECT_EQ(sink.Install(PortExpectation()), InstallResult::kOk);
  EXPECT_EQ(sink.Install(PortExpectation()), InstallResult::kOk);  // retransmission
  // same public port promised to another inside host: busy
  EXPECT_EQ(sink.Install(PortExpectation(50000, "10.7.0.3")), InstallResult::kPortBusy);
  EXPECT_EQ(sink.Install(PortExpectation(50001, "10.7.0.3")), InstallResult::kOk);
  EXPECT_EQ(sink.installed(), 2u);
  EXPECT_EQ(sink.refreshed(), 1u);
  EXPECT_EQ(sink.busy(), 1u);
  EXPECT_EQ(sink.active(), 2u);
  sink.Remove(PortExpectation());
  sink.Remove(PortExpectation());  // unknown now: ignored
  EXPECT_EQ(sink.removed(), 1u);
  EXPECT_EQ(sink.active(), 1u);
  // the port is free again
  EXPECT_EQ(sink.Install(PortExpectation(50000, "10.7.0.3")), InstallResult::kOk);
  using E = RecordingSink::Event;
  EXPECT_EQ(events, (std::vector<E>{E::kInstalled, E::kRefreshed, E::kBusy, E::kInstalled,
                                    E::kRemoved, E::kInstalled}));
  // one JSON line per installation
  size_t lines = 0;
  for (char c : sink.jsonl()) lines += c == '\n';
  EXPECT_EQ(lines, 3u);
}


// A target whose last expectation went is forgotten: its (reused) entry
// carries nothing into the next target that takes it, and the old target
// is free for anyone again; busy is still detected on the new one.
TEST(RecordingSink, EmptiedTargetsAreForgotten) {
  RecordingSink sink;
  sink.set_keep_jsonl(false);
  for (int round = 0; round < 3; ++round) {
    const uint16_t port = static_cast<uint16_t>(50000 + round);
    const Expectation a = PortExpectation(port, "10.7.0.2");
    ASSERT_EQ(sink.Install(a), InstallResult::kOk);
    EXPECT_EQ(sink.Install(PortExpectation(port, "10.7.0.3")), InstallResult::kPortBusy);
    sink.Remove(a);
    EXPECT_EQ(sink.active(), 0u);
    // The same public port now goes to another inside host without conflict.
    const Expectation b = PortExpectation(port, "10.7.0.3");
    EXPECT_EQ(sink.Install(b), InstallResult::kOk);
    sink.Remove(b);
  }
  EXPECT_EQ(sink.installed(), 6u);
  EXPECT_EQ(sink.busy(), 3u);
  EXPECT_EQ(sink.removed(), 6u);
  EXPECT_EQ(sink.active(), 0u);
}

}  // namespace
}  // namespace ftpalg
