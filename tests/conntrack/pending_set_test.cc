// Tests of PendingSet: the element in the set of its family, and a missing set.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/pending_set.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

using PendingSetTest = PlaneTest;

TEST_F(PendingSetTest, MissingSetFailsTheInstall) {
  kernel_.errors["IPSET_ADD"] = {ENOENT};
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kFailed);
  EXPECT_EQ(log_.Count("IPSET_ADD ENOENT"), 1u);
}

TEST_F(PendingSetTest, Ipv6UsesTheV6Set) {
  const CtTuple orig{Ep("fd00:7::2", 40110), Ep("2001:db8:1::2", 21), 6};
  const CtTuple reply{Ep("2001:db8:1::2", 21), Ep("2001:db8:1::1", 40110), 6};
  kernel_.conntracks.push_back(Conntrack(orig, reply));
  Expectation e;
  e.announcer = Direction::kOriginal;
  e.kind = AnnounceKind::kEprt;
  e.master = orig.ToFlow();
  e.peer = *IpAddress::Parse("2001:db8:1::2");
  e.target = Ep("2001:db8:1::1", 45100);
  e.nat_to = Ep("fd00:7::2", 45100);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_NE(Last().find("IPSET_ADD family=inet6"), std::string::npos);
  EXPECT_NE(Last().find("\"ftpalg-pend6\""), std::string::npos);
  DataSyn(Syn("2001:db8:1::2", 20, "2001:db8:1::1", 45100));
  EXPECT_NE(Nth(1).find("CTA_NAT_V6_MINIP=fd00:7::2"), std::string::npos) << Nth(1);
  EXPECT_NE(Nth(1).find("CTA_NAT_SRC\n    CTA_NAT_V6_MINIP=2001:db8:1::2"),
            std::string::npos);
}

}  // namespace
}  // namespace ftpalg::testing
