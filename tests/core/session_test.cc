// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/session.h"

#include <gtest/gtest.h>

#include <vector>

namespace ftpalg {
namespace {

FlowKey Key(uint16_t port) {
  return FlowKey{Endpoint{IpAddress::V4(10, 0, 0, 1), port},
                 Endpoint{IpAddress::V4(192, 0, 2, 1), 21}};
}

// The slots' storage is reserved whole at construction and never moves:
// every slot the table hands out lies inside it (an adapter advises the
// kernel about exactly this region, Engine::SessionMemory).
TEST(SessionTableTest, StorageHoldsEverySlotAndNeverMoves) {
  SessionTable t(100);
  void* const storage = t.storage();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(t.storage_bytes(), 100 * sizeof(Session));
  EXPECT_EQ(t.lru_storage_bytes(), 100 * sizeof(SessionTable::LruLinks));
  const char* begin = static_cast<const char*>(storage);
  for (uint16_t p = 1; p <= 100; ++p) {
    const Session* s = t.Insert(Key(p));
    ASSERT_NE(s, nullptr);
    const char* at = reinterpret_cast<const char*>(s);
    EXPECT_GE(at, begin);
    EXPECT_LE(at + sizeof(Session), begin + t.storage_bytes());
  }
  EXPECT_EQ(t.storage(), storage);
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

// Oldest() then Newer() walks the sessions from least to most recently
// used, through touches, removals and reused slots (Expire walks this way).
TEST(SessionTableTest, NewerWalksFromOldestToMostRecent) {
  SessionTable t(8);
  for (uint16_t p = 1; p <= 6; ++p) t.Insert(Key(p));
  t.Touch(t.Find(Key(2)));
  t.Touch(t.Find(Key(5)));
  t.Remove(t.Find(Key(3)));
  t.Insert(Key(7));  // reuses 3's slot
  t.Touch(t.Find(Key(1)));
  t.Touch(t.Find(Key(1)));  // already the most recent
  std::vector<uint16_t> order;
  for (Session* s = t.Oldest(); s != nullptr; s = t.Newer(s)) order.push_back(s->key.client.port);
  EXPECT_EQ(order, (std::vector<uint16_t>{4, 6, 2, 5, 7, 1}));
  t.Remove(t.Find(Key(1)));
  t.Remove(t.Find(Key(4)));
  order.clear();
  for (Session* s = t.Oldest(); s != nullptr; s = t.Newer(s)) order.push_back(s->key.client.port);
  EXPECT_EQ(order, (std::vector<uint16_t>{6, 2, 5, 7}));
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
