// Tests of ExpectationInstaller: install, refresh, busy ports, the cap, removal and
// expiry, the choice of mechanism per control connection.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/expectation_installer.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "conntrack/binding_events.h"
#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

using ExpectationInstallerTest = PlaneTest;

// One info line per event, each with the session id: expectation installed
// (either mechanism), related conntrack created; the cap is a LIMIT line,
// once per burst.
TEST_F(ExpectationInstallerTest, EventLinesCarryTheSessionId) {
  Expectation e = PortExpectation(kSnatOrig, 45000);
  e.session_id = 7;
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(log_.Count("info: #7 expectation installed (pending set ftpalg-pend4: "
                       "related conntrack on the data SYN): 203.0.113.2 -> "
                       "203.0.113.1:45000 nat 10.7.0.2:45000"),
            1u)
      << log_.lines.back();
  // A retransmitted announcement refreshes: no second line.
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(log_.Count("expectation installed"), 1u);
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(log_.Count("info: #7 related conntrack created: "), 1u) << log_.lines.back();
  EXPECT_EQ(log_.Count("DNAT 10.7.0.2:45000 SNAT 203.0.113.2 master "), 1u)
      << log_.lines.back();

  kernel_.conntracks[1] = Conntrack(kDnatOrig, kDnatReply, "irc");
  Expectation k = PasvExpectation(kDnatOrig, 45020);
  k.session_id = 9;
  ASSERT_EQ(plane_->sink().Install(k), InstallResult::kOk);
  EXPECT_EQ(log_.Count("info: #9 expectation installed (kernel expectation): "), 1u)
      << log_.lines.back();

  PlaneOptions o;
  o.max_expectations = 1;
  Make(o);
  log_.lines.clear();
  e.session_id = 11;
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  for (uint16_t port = 45001; port < 45011; ++port) {
    Expectation x = PortExpectation(kSnatOrig, port);
    x.session_id = 12;
    EXPECT_EQ(plane_->sink().Install(x), InstallResult::kFailed);
  }
  EXPECT_EQ(log_.Count("warn: conntrack plane: #12 LIMIT max-expectations 1 reached: "
                       "refusing 203.0.113.1:45001"),
            1u);
  EXPECT_EQ(log_.Count("LIMIT"), 1u);  // the burst: one line
  plane_->Expire(1000 + 11 * 1000);     // the window is over: the rest is told
  EXPECT_EQ(log_.Count("cap: 9 more suppressed"), 1u);
}

TEST_F(ExpectationInstallerTest, RefreshSameMasterAndBusyForAnother) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  TakeOps();
  EXPECT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_ADD"}));  // timeout refreshed
  Expectation other = PasvExpectation(kDnatOrig, 45000);
  EXPECT_EQ(plane_->sink().Install(other), InstallResult::kPortBusy);
  EXPECT_EQ(TakeOps(), OpList{});  // decided locally
  other.target.port = 45001;
  other.nat_to.port = 45001;
  EXPECT_EQ(plane_->sink().Install(other), InstallResult::kOk);
}

TEST_F(ExpectationInstallerTest, GlobalCapRefuses) {
  PlaneOptions o;
  o.max_expectations = 2;
  Make(o);
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)), InstallResult::kOk);
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45001)), InstallResult::kOk);
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45002)),
            InstallResult::kFailed);
  EXPECT_TRUE(CounterIs("cap_refusals", 1));
  plane_->sink().Remove(PortExpectation(kSnatOrig, 45000));
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45002)), InstallResult::kOk);
}

TEST_F(ExpectationInstallerTest, NoConntrackForMasterFailsTheInstall) {
  Expectation e = PortExpectation(kSnatOrig, 45000);
  e.master.client.port = 1;
  EXPECT_EQ(plane_->sink().Install(e), InstallResult::kFailed);
  EXPECT_TRUE(CounterIs("install_failures", 1));
}

TEST_F(ExpectationInstallerTest, RemoveExpireAndRemoveAll) {
  const Expectation a = PortExpectation(kSnatOrig, 45000);
  Expectation b = PortExpectation(kSnatOrig, 45001);
  b.timeout_s = 5;
  const Expectation c = PortExpectation(kSnatOrig, 45002);
  ASSERT_EQ(plane_->sink().Install(a), InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(b), InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(c), InstallResult::kOk);
  TakeOps();
  Expectation wrong_master = a;
  wrong_master.master.client.port = 9;
  plane_->sink().Remove(wrong_master);
  EXPECT_EQ(TakeOps(), OpList{});
  plane_->sink().Remove(a);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL"}));
  plane_->Expire(1000 + 4000);
  EXPECT_EQ(TakeOps(), OpList{});
  plane_->Expire(1000 + 5000);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL"}));
  EXPECT_NE(Last().find("IPSET_ATTR_PORT [net]=45001"), std::string::npos);
  EXPECT_TRUE(CounterIs("expired", 1));
  plane_->RemoveAll();
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL"}));
  EXPECT_TRUE(CounterIs("pending", 0));
}

TEST_F(ExpectationInstallerTest, ExpectationRefusedFallsBackToPrecreate) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  kernel_.errors["EXP_NEW"] = {EOPNOTSUPP};
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "EXP_NEW", "IPSET_ADD"}));
  // Remembered for the connection: no second EXP_NEW attempt.
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45011)),
            InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_ADD"}));
  EXPECT_TRUE(CounterIs("expect_fallbacks", 1));
}

TEST_F(ExpectationInstallerTest, ForcedExpectDoesNotFallBack) {
  PlaneOptions o;
  o.mechanism = PlaneOptions::Mechanism::kExpect;
  Make(o);
  kernel_.errors["EXP_NEW"] = {EOPNOTSUPP};
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kFailed);
  EXPECT_TRUE(CounterIs("err_eopnotsupp", 1));
}

TEST_F(ExpectationInstallerTest, KernelFtpHelperIsNeverUsedAndWarned) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "ftp");
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD"}));
  EXPECT_EQ(log_.Count("kernel ftp helper"), 1u);
  EXPECT_TRUE(CounterIs("masters_ftp_helper", 1));
}

TEST_F(ExpectationInstallerTest, ForcedPrecreateIgnoresTheHelper) {
  PlaneOptions o;
  o.mechanism = PlaneOptions::Mechanism::kPrecreate;
  Make(o);
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD"}));
}

TEST_F(ExpectationInstallerTest, PublicIpTargetIsMappedToTheGatewayAddress) {
  PlaneOptions o;
  o.public_v4 = IpAddress::Parse("198.51.100.7");
  Make(o);
  Expectation e = PortExpectation(kSnatOrig, 45000);
  e.target = Ep("198.51.100.7", 45000);  // what the engine announced
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_NE(Last().find("IPSET_ATTR_IPADDR_IPV4 [net]=203.0.113.1"),
            std::string::npos)
      << Last();
  // The upstream NAT delivers the SYN to the gateway's own address.
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_TRUE(CounterIs("related_created", 1));
  // Remove works with the engine's view of the target.
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  TakeOps();
  plane_->sink().Remove(e);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL"}));
}

// The NAT-binding records (--events) the installer reports: a new data
// connection announced then installed (not again on a refresh), refused
// when the port is busy or the cap is reached, used on its data SYN,
// withdrawn, expired, and withdrawn at shutdown.
TEST_F(ExpectationInstallerTest, BindingEventsFollowEachDataConnection) {
  struct Recorder final : BindingEvents {
    void Announced(const Expectation& e) override { Add("announced", e, ""); }
    void Installed(const PendingConnection& p, bool restored) override {
      Add("installed", p.e,
          std::string(p.mech == PlaneOptions::Mechanism::kExpect ? "expect" : "precreate") +
              (restored ? " restored" : "") + " local " + p.kernel_target.ToString());
    }
    void Refused(const Expectation& e, Refusal why) override {
      Add("refused", e, why == Refusal::kPortBusy ? "port_busy" : "failed");
    }
    void Used(const PendingConnection& p, const Endpoint& from) override {
      Add("used", p.e, "from " + from.ToString());
    }
    void Ended(const PendingConnection& p, End why) override {
      static const char* const kWhy[] = {"withdrawn", "expired", "session_ended", "shutdown"};
      Add("ended", p.e, kWhy[static_cast<int>(why)]);
    }
    void Add(const char* what, const Expectation& e, const std::string& more) {
      seen.push_back(std::string(what) + " #" + std::to_string(e.session_id) + " " +
                     e.target.ToString() + " nat " + e.nat_to.ToString() +
                     (more.empty() ? "" : " " + more));
    }
    std::vector<std::string> seen;
  } rec;
  PlaneOptions o;
  o.max_expectations = 3;
  Make(o);
  plane_->SetBindingEvents(&rec);
  Expectation a = PortExpectation(kSnatOrig, 45000);
  a.session_id = 1;
  ASSERT_EQ(plane_->sink().Install(a), InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(a), InstallResult::kOk);  // refresh: nothing new
  Expectation busy = PasvExpectation(kDnatOrig, 45000);
  busy.session_id = 2;
  EXPECT_EQ(plane_->sink().Install(busy), InstallResult::kPortBusy);
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  Expectation b = PortExpectation(kSnatOrig, 45001);
  b.session_id = 1;
  b.timeout_s = 5;
  ASSERT_EQ(plane_->sink().Install(b), InstallResult::kOk);
  Expectation c = PortExpectation(kSnatOrig, 45002);
  c.session_id = 1;
  ASSERT_EQ(plane_->sink().Install(c), InstallResult::kOk);
  Expectation d = PortExpectation(kSnatOrig, 45003);
  d.session_id = 1;
  ASSERT_EQ(plane_->sink().Install(d), InstallResult::kOk);
  Expectation over = PortExpectation(kSnatOrig, 45004);
  over.session_id = 1;
  EXPECT_EQ(plane_->sink().Install(over), InstallResult::kFailed);  // the cap
  plane_->Expire(2000 + 5000);  // the data SYN set the plane's clock to 2000
  plane_->sink().Remove(c);
  plane_->RemoveAll();
  EXPECT_EQ(rec.seen,
            std::vector<std::string>({
                "announced #1 203.0.113.1:45000 nat 10.7.0.2:45000",
                "installed #1 203.0.113.1:45000 nat 10.7.0.2:45000 precreate local 203.0.113.1:45000",
                "announced #2 203.0.113.1:45000 nat 10.7.0.2:45000",
                "refused #2 203.0.113.1:45000 nat 10.7.0.2:45000 port_busy",
                "used #1 203.0.113.1:45000 nat 10.7.0.2:45000 from 203.0.113.2:20",
                "announced #1 203.0.113.1:45001 nat 10.7.0.2:45001",
                "installed #1 203.0.113.1:45001 nat 10.7.0.2:45001 precreate local 203.0.113.1:45001",
                "announced #1 203.0.113.1:45002 nat 10.7.0.2:45002",
                "installed #1 203.0.113.1:45002 nat 10.7.0.2:45002 precreate local 203.0.113.1:45002",
                "announced #1 203.0.113.1:45003 nat 10.7.0.2:45003",
                "installed #1 203.0.113.1:45003 nat 10.7.0.2:45003 precreate local 203.0.113.1:45003",
                "announced #1 203.0.113.1:45004 nat 10.7.0.2:45004",
                "refused #1 203.0.113.1:45004 nat 10.7.0.2:45004 failed",
                "ended #1 203.0.113.1:45001 nat 10.7.0.2:45001 expired",
                "ended #1 203.0.113.1:45002 nat 10.7.0.2:45002 withdrawn",
                "ended #1 203.0.113.1:45003 nat 10.7.0.2:45003 shutdown",
            }));
  plane_->SetBindingEvents(nullptr);
}

}  // namespace
}  // namespace ftpalg::testing
