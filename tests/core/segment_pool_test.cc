// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/segment_pool.h"

#include <gtest/gtest.h>

#include <string>

namespace ftpalg {
namespace {

std::string ChainText(SegmentPool& pool, uint16_t head, std::string* seqs = nullptr) {
  std::string out;
  for (uint16_t s = head; s != kNoSlot; s = pool.meta(s).next) {
    out.append(reinterpret_cast<const char*>(pool.data(s)), pool.meta(s).len);
    out += '|';
    if (seqs) *seqs += std::to_string(pool.meta(s).seq) + " ";
  }
  return out;
}

bool Put(SegmentPool& pool, uint16_t& head, uint32_t seq, const std::string& b,
         size_t max_slots = 100) {
  return pool.Insert(head, seq, reinterpret_cast<const uint8_t*>(b.data()), b.size(), 7,
                     max_slots);
}

TEST(SegmentPool, AcquireReleaseNeverAllocatesBeyondTheSlots) {
  SegmentPool pool(2, 8);
  const uint16_t a = pool.Acquire(), b = pool.Acquire();
  EXPECT_NE(a, kNoSlot);
  EXPECT_NE(b, kNoSlot);
  EXPECT_EQ(pool.Acquire(), kNoSlot);
  pool.Release(a);
  EXPECT_EQ(pool.available(), 1u);
}

TEST(SegmentPool, InsertKeepsSequenceOrderAndSplitsIntoSlots) {
  SegmentPool pool(16, 4);
  uint16_t head = kNoSlot;
  EXPECT_TRUE(Put(pool, head, 20, "uvwxyz"));
  EXPECT_TRUE(Put(pool, head, 10, "klm"));
  std::string seqs;
  EXPECT_EQ(ChainText(pool, head, &seqs), "klm|uvwx|yz|");
  EXPECT_EQ(seqs, "10 20 24 ");
  EXPECT_EQ(pool.meta(head).since_ms, 7u);
}

TEST(SegmentPool, InsertSkipsBytesAlreadyHeld) {
  SegmentPool pool(16, 8);
  uint16_t head = kNoSlot;
  EXPECT_TRUE(Put(pool, head, 10, "cdef"));
  EXPECT_TRUE(Put(pool, head, 8, "abcdefgh"));  // overlaps both ends
  EXPECT_EQ(ChainText(pool, head), "ab|cdef|gh|");
  EXPECT_TRUE(Put(pool, head, 9, "bcd"));  // nothing new
  EXPECT_EQ(pool.ChainSlots(head), 3u);
}

TEST(SegmentPool, InsertIsAllOrNothing) {
  SegmentPool pool(3, 4);
  uint16_t head = kNoSlot;
  EXPECT_TRUE(Put(pool, head, 0, "abcd"));
  EXPECT_FALSE(Put(pool, head, 10, "0123456789")) << "needs 3 slots, 2 free";
  EXPECT_EQ(pool.ChainSlots(head), 1u);
  EXPECT_FALSE(Put(pool, head, 10, "0123", 1)) << "per-chain bound";
  EXPECT_EQ(pool.available(), 2u);
  pool.ReleaseChain(head);
  EXPECT_EQ(head, kNoSlot);
  EXPECT_EQ(pool.available(), 3u);
}

TEST(SegmentPool, InsertAcrossTheSequenceWrap) {
  SegmentPool pool(8, 4);
  uint16_t head = kNoSlot;
  EXPECT_TRUE(Put(pool, head, 2, "cd"));
  EXPECT_TRUE(Put(pool, head, 0xfffffffeu, "yzab"));
  EXPECT_EQ(ChainText(pool, head), "yzab|cd|");
}

}  // namespace
}  // namespace ftpalg
