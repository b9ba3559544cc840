// SPDX-License-Identifier: GPL-2.0-or-later
// MakePlaneOptions: the plane follows the daemon options.
#include "daemon/plane_setup.h"

#include <gtest/gtest.h>

namespace ftpalg {
namespace {

TEST(PlaneSetupTest, PlaneOptionsFollowDaemonOptions) {
  DaemonOptions o;
  o.public_v4 = IpAddress::Parse("203.0.113.1");
  o.mechanism = Mechanism::kPrecreate;
  const PlaneOptions p = MakePlaneOptions(o);
  ASSERT_TRUE(p.public_v4);
  EXPECT_EQ(p.public_v4->ToString(), "203.0.113.1");
  EXPECT_FALSE(p.public_v6);
  EXPECT_EQ(p.mechanism, PlaneOptions::Mechanism::kPrecreate);
  EXPECT_EQ(p.pending_set_v4, "ftpalg-pend4");
}

}  // namespace
}  // namespace ftpalg
