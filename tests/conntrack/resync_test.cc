// Tests of Resync: pending data connections re-created from a conntrack dump, and
// what becomes of them.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/resync.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

using ResyncTest = PlaneTest;

TEST_F(ResyncTest, ResyncRecreatesPendingFromAFakeDump) {
  // The primary: one active (SNAT) and one passive (DNAT) announcement.
  const Expectation act = PortExpectation(kSnatOrig, 45000);
  Expectation pas = PasvExpectation(kDnatOrig, 46000);
  pas.peer = *IpAddress::Parse("203.0.113.2");
  pas.nat_to = Ep("10.7.0.2", 46000);
  ASSERT_EQ(plane_->sink().Install(act), InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(pas), InstallResult::kOk);
  const std::string add_act = Nth(2);  // CT_GET IPSET_ADD CT_GET IPSET_ADD
  const std::string add_pas = Nth(0);
  ASSERT_EQ(add_act.rfind("IPSET_ADD", 0), 0u);
  // Foreign labels and a conntrack without labels are skipped.
  CtInfo other = Conntrack(CtTuple{Ep("10.7.0.9", 5), Ep("203.0.113.9", 80), 6},
                           CtTuple{Ep("203.0.113.9", 80), Ep("203.0.113.1", 5), 6});
  other.labels = CtLabelBits{};
  SetLabelBit(&*other.labels, 127, true);
  kernel_.conntracks.push_back(other);

  // The backup's daemon (a fresh plane, timeouts from the options).
  PlaneOptions o;
  o.expectation_timeout_s = 300;
  Make(o);
  TakeOps();
  const ResyncCounts r = plane_->ResyncFromConntrack(5000);
  EXPECT_EQ(r.scanned, 3u);
  EXPECT_EQ(r.sessions, 2u);
  EXPECT_EQ(r.pending_restored, 2u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD", "IPSET_ADD"}));
  EXPECT_EQ(Nth(2).rfind("CT_GET family=0 flags=REQUEST|ACK|ROOT|MATCH", 0), 0u) << Nth(2);
  // The same set elements as the primary's, with the full timeout.
  auto same_but_timeout = [](std::string a) {
    return a.substr(a.find('\n'), a.find("IPSET_ATTR_TIMEOUT") - a.find('\n'));
  };
  std::vector<std::string> adds = {Nth(1), Nth(0)};
  std::sort(adds.begin(), adds.end());
  std::vector<std::string> want = {add_act, add_pas};
  std::sort(want.begin(), want.end());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(same_but_timeout(adds[i]), same_but_timeout(want[i]));
    EXPECT_NE(adds[i].find("IPSET_ATTR_TIMEOUT [net]=300"), std::string::npos) << adds[i];
  }
  EXPECT_TRUE(CounterIs("resync_runs", 1));
  EXPECT_TRUE(CounterIs("resync_pending", 2));
  EXPECT_TRUE(CounterIs("resync_scanned", 3));
  EXPECT_EQ(log_.Count("resync from conntrack: scanned 3 conntracks, 2 with ftpalg "
                       "state, 2 pending data connections re-created (0 already "
                       "pending), 0 errors"),
            1u);
  // The data SYN on the backup is related exactly as on the primary.
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000), 6000);
  EXPECT_TRUE(CounterIs("related_created", 1));
  // CT_NEW, IPSET_DEL, then the CT_GET that reads the labels to clear them.
  EXPECT_NE(Nth(2).find("CTA_NAT_V4_MINIP=10.7.0.2"), std::string::npos) << Nth(2);
  EXPECT_FALSE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());  // used
  // Repeating the resync (SIGUSR2 again) re-creates nothing.
  TakeOps();
  const ResyncCounts again = plane_->ResyncFromConntrack(7000);
  EXPECT_EQ(again.pending_restored, 0u);
  EXPECT_EQ(again.pending_known, 1u);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));
  // Its session ends on the backup: the re-created one goes with it.
  plane_->resolver().Forget(kDnatOrig.ToFlow());
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL", "CT_GET"}));
  EXPECT_TRUE(CounterIs("restored_withdrawn", 1));
  EXPECT_FALSE(LabelsOf(kernel_, kDnatOrig)->pending.has_value());
}

TEST_F(ResyncTest, RestoredPendingThatNobodyUsesExpires) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  PlaneOptions o;
  o.expectation_timeout_s = 30;
  Make(o);
  ASSERT_EQ(plane_->ResyncFromConntrack(5000).pending_restored, 1u);
  TakeOps();
  plane_->Expire(5000 + 29 * 1000);
  EXPECT_EQ(TakeOps(), OpList{});
  plane_->Expire(5000 + 30 * 1000);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL", "CT_GET"}));
  EXPECT_TRUE(CounterIs("expired", 1));
  EXPECT_FALSE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());
  // The engine re-announcing it later takes it over (refresh, not busy).
}

TEST_F(ResyncTest, EngineReannouncingARestoredPendingOwnsIt) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  Make();
  ASSERT_EQ(plane_->ResyncFromConntrack(5000).pending_restored, 1u);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_TRUE(CounterIs("refreshes", 1));
  // Now the engine's: its session ending (Forget) does not withdraw it;
  // the engine's own Remove does.
  TakeOps();
  plane_->resolver().Forget(kSnatOrig.ToFlow());
  EXPECT_EQ(TakeOps(), OpList{});
  EXPECT_TRUE(CounterIs("restored_withdrawn", 0));
  plane_->sink().Remove(e);
  EXPECT_EQ(TakeOps()[0], "IPSET_DEL");
}

TEST_F(ResyncTest, ResyncCountsDumpErrorsAndConflictsAndWarns) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  Make();
  // Another master already holds the public port here.
  const CtTuple o2{Ep("10.7.0.3", 40300), Ep("203.0.113.2", 21), 6};
  const CtTuple r2{Ep("203.0.113.2", 21), Ep("203.0.113.1", 40300), 6};
  kernel_.conntracks.push_back(Conntrack(o2, r2));
  Expectation clash = PortExpectation(o2, 45000);
  clash.nat_to = Ep("10.7.0.3", 45000);
  ASSERT_EQ(plane_->sink().Install(clash), InstallResult::kOk);
  const ResyncCounts r = plane_->ResyncFromConntrack(5000);
  EXPECT_EQ(r.pending_restored, 0u);
  EXPECT_EQ(r.pending_known, 1u);  // o2's own
  EXPECT_EQ(r.errors, 1u);         // the clash
  kernel_.errors["CT_GET(dump)"] = {ENOBUFS};  // a failed dump
  const ResyncCounts failed = plane_->ResyncFromConntrack(6000);
  EXPECT_EQ(failed.errors, 1u);
  EXPECT_EQ(log_.Count("CT_GET(dump) ENOBUFS"), 1u);
  EXPECT_TRUE(CounterIs("resync_errors", 2));
  EXPECT_EQ(log_.Count("warn: conntrack plane: resync: 203.0.113.1:45000"), 1u);
  EXPECT_EQ(log_.Count("warn: resync from conntrack:"), 2u);
}

TEST_F(ResyncTest, ResyncUsesAKernelExpectationForAnInertHelper) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  Make();
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  Make();
  TakeOps();
  kernel_.errors["EXP_NEW"] = {EEXIST};  // conntrackd's expectation sync was first
  const ResyncCounts r = plane_->ResyncFromConntrack(5000);
  EXPECT_EQ(r.pending_restored, 1u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "EXP_NEW", "EXP_NEW"}));
}

}  // namespace
}  // namespace ftpalg::testing
