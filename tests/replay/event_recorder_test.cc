// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/event_recorder.h"

#include <gtest/gtest.h>

#include <sstream>

#include "replay/replay_resolver.h"

namespace ftpalg {
namespace {

Endpoint Ep(const char* addr, uint16_t port) { return Endpoint{*IpAddress::Parse(addr), port}; }

EngineConfig Config() {
  EngineConfig c;
  c.public_v4 = *IpAddress::Parse("203.0.113.1");
  return c;
}

Expectation PasvExpectation() {
  Expectation e;
  e.session_id = 3;
  e.kind = AnnounceKind::k227;
  e.announcer = Direction::kReply;
  e.master = FlowKey{Ep("192.168.10.2", 40000), Ep("192.168.20.2", 21)};
  e.peer = *IpAddress::Parse("192.168.10.2");
  e.target = Ep("203.0.113.1", 50001);
  e.nat_to = Ep("192.168.20.2", 50001);
  return e;
}

TEST(ReplayEventRecorder, InsideClientGetsThePublicBinding) {
  const EngineConfig config = Config();
  const std::vector<DeclaredConntrack> declared;
  ReplayResolver resolver(config, declared);
  std::ostringstream out;
  ReplayEventRecorder r(resolver, out);
  r.SessionStarted(1, FlowKey{Ep("192.168.10.2", 40000), Ep("198.51.100.9", 21)}, false, 1000);
  EXPECT_EQ(out.str(),
            "{\"v\":1,\"ts\":\"1970-01-01T00:00:01.000Z\",\"event\":\"session_start\",\"session\":1,"
            "\"picked_up\":false,\"client\":\"192.168.10.2:40000\",\"server\":\"198.51.100.9:21\","
            "\"client_public\":\"203.0.113.1:40000\",\"server_inside\":\"198.51.100.9:21\","
            "\"orig\":{\"src\":\"192.168.10.2:40000\",\"dst\":\"198.51.100.9:21\"},"
            "\"reply\":{\"src\":\"198.51.100.9:21\",\"dst\":\"203.0.113.1:40000\"}}\n");
}

TEST(ReplayEventRecorder, OutsideClientKeepsItsAddress) {
  const EngineConfig config = Config();
  const std::vector<DeclaredConntrack> declared;
  ReplayResolver resolver(config, declared);
  std::ostringstream out;
  ReplayEventRecorder r(resolver, out);
  r.SessionStarted(2, FlowKey{Ep("198.51.100.9", 40000), Ep("203.0.113.1", 21)}, true, 0);
  EXPECT_NE(out.str().find("\"picked_up\":true"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\"client_public\":\"198.51.100.9:40000\""), std::string::npos) << out.str();
}

TEST(ReplayEventRecorder, DeclaredConntrackGivesTheHairpinBinding) {
  const EngineConfig config = Config();
  const std::vector<DeclaredConntrack> declared{*ParseDeclaredConntrack(
      "192.168.10.2:40300,203.0.113.1:21,192.168.20.2:21,192.168.20.1:40300")};
  ReplayResolver resolver(config, declared);
  std::ostringstream out;
  ReplayEventRecorder r(resolver, out);
  r.SessionStarted(4, FlowKey{Ep("192.168.10.2", 40300), Ep("203.0.113.1", 21)}, false, 0);
  EXPECT_NE(out.str().find("\"client_public\":\"192.168.20.1:40300\",\"server_inside\":\"192.168.20.2:21\""),
            std::string::npos)
      << out.str();
}

TEST(ReplayEventRecorder, InstalledIsAnnouncedThenInstalledAsExpectation) {
  const EngineConfig config = Config();
  const std::vector<DeclaredConntrack> declared;
  ReplayResolver resolver(config, declared);
  std::ostringstream out;
  ReplayEventRecorder r(resolver, out);
  r.OnExpectation(RecordingSink::Event::kInstalled, PasvExpectation(), 2500);
  const std::string s = out.str();
  const size_t announced = s.find("\"event\":\"data_announced\"");
  const size_t installed = s.find("\"event\":\"data_installed\"");
  ASSERT_NE(announced, std::string::npos) << s;
  ASSERT_NE(installed, std::string::npos) << s;
  EXPECT_LT(announced, installed);
  EXPECT_NE(s.find("\"mechanism\":\"expectation\",\"local\":\"203.0.113.1:50001\",\"timeout_s\":300,"
                   "\"restored\":false}"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("\"inside\":\"192.168.20.2:50001\",\"public\":\"203.0.113.1:50001\""),
            std::string::npos)
      << s;
}

TEST(ReplayEventRecorder, BusyIsRefusedAndRefreshOrRemoveWriteNothing) {
  const EngineConfig config = Config();
  const std::vector<DeclaredConntrack> declared;
  ReplayResolver resolver(config, declared);
  std::ostringstream out;
  ReplayEventRecorder r(resolver, out);
  r.OnExpectation(RecordingSink::Event::kRefreshed, PasvExpectation(), 1);
  r.OnExpectation(RecordingSink::Event::kRemoved, PasvExpectation(), 1);
  EXPECT_EQ(out.str(), "");
  r.OnExpectation(RecordingSink::Event::kBusy, PasvExpectation(), 1);
  EXPECT_NE(out.str().find("\"event\":\"data_refused\""), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\"reason\":\"port_busy\"}"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("data_installed"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace ftpalg
