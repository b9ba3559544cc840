// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/session.h"

#include <gtest/gtest.h>

namespace ftpalg {
namespace {

FlowKey Key(uint16_t port) {
  return FlowKey{Endpoint{IpAddress::V4(10, 0, 0, 1), port},
                 Endpoint{IpAddress::V4(192, 0, 2, 1), 21}};
}

// Insert, find, remove.
TEST(SessionTableTest, InsertFindRemove) {
  SessionTable t(8);
  Session* s = t.Insert(Key(1));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(t.Find(Key(1)), s);
  EXPECT_EQ(t.Find(Key(2)), nullptr);
  t.Remove(s);
  EXPECT_EQ(t.Find(Key(1)), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

// A full table refuses inserts; the caller evicts Oldest() first.
TEST(SessionTableTest, FullTableAndLruOrder) {
  SessionTable t(3);
  Session* a = t.Insert(Key(1));
  t.Insert(Key(2));
  t.Insert(Key(3));
  EXPECT_EQ(t.Insert(Key(4)), nullptr);
  EXPECT_EQ(t.Oldest(), a);
  t.Touch(a);
  EXPECT_EQ(t.Oldest()->key, Key(2));
  t.Remove(t.Oldest());
  EXPECT_NE(t.Insert(Key(4)), nullptr);
  EXPECT_EQ(t.size(), 3u);
}

// Slots are reused and lookups stay correct under churn.
TEST(SessionTableTest, ChurnKeepsIndexConsistent) {
  SessionTable t(64);
  for (uint16_t round = 0; round < 50; ++round) {
    for (uint16_t i = 0; i < 64; ++i) {
      if (t.size() == t.capacity()) t.Remove(t.Oldest());
      t.Insert(Key(static_cast<uint16_t>(round * 64 + i)));
    }
    for (uint16_t i = 0; i < 64; ++i) {
      const FlowKey k = Key(static_cast<uint16_t>(round * 64 + i));
      ASSERT_NE(t.Find(k), nullptr);
    }
  }
}

// A session stays within the 256-byte budget (slot + index share).
TEST(SessionTableTest, SessionIsSmall) {
  EXPECT_LE(sizeof(Session) + sizeof(uint32_t), 256u);
}

}  // namespace
}  // namespace ftpalg
