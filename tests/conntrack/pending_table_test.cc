// Tests of PendingTable: the two indexes, the restored count, and erasing
// while walking.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/pending_table.h"

#include <gtest/gtest.h>

#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

PendingConnection Pending(uint16_t port, bool restored = false) {
  PendingConnection p;
  p.e = PortExpectation(kSnatOrig, port);
  p.kernel_target = Ep("192.0.2.1", port);
  p.expires_ms = port;
  p.restored = restored;
  return p;
}

TEST(PendingTableTest, FoundByTheEnginesTargetAndByTheKernelsTarget) {
  PendingTable t;
  t.Add(Pending(45000));
  ASSERT_NE(t.Find(Ep("203.0.113.1", 45000)), t.end());
  EXPECT_EQ(t.Find(Ep("192.0.2.1", 45000)), t.end());
  auto k = t.FindByKernelTarget(Ep("192.0.2.1", 45000));
  ASSERT_NE(k, t.end());
  EXPECT_EQ(k->second.e.target, Ep("203.0.113.1", 45000));
  EXPECT_EQ(t.FindByKernelTarget(Ep("203.0.113.1", 45000)), t.end());
  t.Erase(k);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.FindByKernelTarget(Ep("192.0.2.1", 45000)), t.end());
}

TEST(PendingTableTest, RestoredEntriesAreCountedUntilAdoptedOrGone) {
  PendingTable t;
  t.Add(Pending(45000, true));
  t.Add(Pending(45001, true));
  t.Add(Pending(45002));
  EXPECT_EQ(t.restored_count(), 2u);
  t.Adopt(&t.Find(Ep("203.0.113.1", 45000))->second);
  t.Adopt(&t.Find(Ep("203.0.113.1", 45000))->second);  // once only
  EXPECT_EQ(t.restored_count(), 1u);
  t.Erase(t.Find(Ep("203.0.113.1", 45001)));
  EXPECT_EQ(t.restored_count(), 0u);
  t.Add(Pending(45003, true));
  t.Clear();
  EXPECT_EQ(t.restored_count(), 0u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(PendingTableTest, EraseIfSeesEachMatchOnceBeforeItGoes) {
  PendingTable t;
  for (uint16_t port = 45000; port < 45010; ++port) t.Add(Pending(port, port % 2 == 0));
  size_t seen = 0;
  t.EraseIf([](const PendingConnection& p) { return p.expires_ms >= 45005; },
            [&seen, &t](const PendingConnection& p) {
              ++seen;
              EXPECT_NE(t.Find(p.e.target), t.end());  // still there
            });
  EXPECT_EQ(seen, 5u);
  EXPECT_EQ(t.size(), 5u);
  EXPECT_EQ(t.restored_count(), 3u);  // 45000, 45002, 45004
  size_t walked = 0;
  t.ForEach([&walked](const PendingConnection&) { ++walked; });
  EXPECT_EQ(walked, 5u);
}

}  // namespace
}  // namespace ftpalg::testing
