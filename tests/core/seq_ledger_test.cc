// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/seq_ledger.h"

#include <gtest/gtest.h>

namespace ftpalg {
namespace {

ChangePoint Point(uint32_t pos, uint8_t in_len, uint8_t out_len) {
  ChangePoint c;
  c.pos = pos;
  c.in_len = in_len;
  c.out_len = out_len;
  return c;
}

// Serial-number comparison across the wrap.
TEST(SeqLedgerTest, SerialComparison) {
  EXPECT_TRUE(SeqLt(0xfffffff0u, 0x10u));
  EXPECT_FALSE(SeqLt(0x10u, 0xfffffff0u));
  EXPECT_TRUE(SeqLe(5, 5));
}

// An empty ledger maps every position to itself.
TEST(SeqLedgerTest, EmptyIsIdentity) {
  SeqLedger l;
  EXPECT_EQ(l.ToOutput(1234), 1234u);
  EXPECT_EQ(l.ToInput(1234), 1234u);
}

// Positions before, inside and after one growing span, both ways.
TEST(SeqLedgerTest, OneGrowingSpan) {
  SeqLedger l;
  l.Add(Point(100, 8, 11));  // "10,7,0,2" -> "203,0,113,1"
  EXPECT_EQ(l.ToOutput(100), 100u);
  EXPECT_EQ(l.ToOutput(104), 104u);  // inside: clamped into the text
  EXPECT_EQ(l.ToOutput(108), 111u);  // span end
  EXPECT_EQ(l.ToOutput(200), 203u);
  EXPECT_EQ(l.ToInput(100), 100u);
  EXPECT_EQ(l.ToInput(105), 100u);   // inside the replacement: span start
  EXPECT_EQ(l.ToInput(111), 108u);
  EXPECT_EQ(l.ToInput(203), 200u);
}

// Shrinking span: output positions inside map back to its start.
TEST(SeqLedgerTest, OneShrinkingSpan) {
  SeqLedger l;
  l.Add(Point(100, 12, 11));
  EXPECT_EQ(l.ToOutput(112), 111u);
  EXPECT_EQ(l.ToOutput(111), 111u);  // inside, past the shorter text
  EXPECT_EQ(l.ToInput(111), 112u);
  EXPECT_EQ(l.ToInput(150), 151u);
}

// Offsets accumulate over many change points; old positions keep offset 0.
TEST(SeqLedgerTest, ManyChangePointsAccumulate) {
  SeqLedger l;
  l.Add(Point(100, 8, 11));
  l.Add(Point(200, 8, 11));
  l.Add(Point(300, 12, 11));
  EXPECT_EQ(l.ToOutput(50), 50u);
  EXPECT_EQ(l.ToOutput(150), 153u);
  EXPECT_EQ(l.ToOutput(250), 256u);
  EXPECT_EQ(l.ToOutput(350), 355u);
  for (uint32_t p : {50u, 150u, 250u, 350u}) {
    EXPECT_EQ(l.ToInput(l.ToOutput(p)), p);
  }
}

// Mapping is wrap-safe.
TEST(SeqLedgerTest, WrapAround) {
  SeqLedger l;
  const uint32_t pos = 0xfffffffcu;
  l.Add(Point(pos, 8, 11));
  EXPECT_EQ(l.ToOutput(pos + 20), pos + 23);
  EXPECT_EQ(l.ToInput(pos + 23), pos + 20);
  EXPECT_EQ(l.ToOutput(pos - 10), pos - 10);
}

// Points are kept until room is needed and the receiver acked past them.
TEST(SeqLedgerTest, AckedPointsAreForgottenOnlyWhenRoomIsNeeded) {
  SeqLedger l;
  for (uint32_t i = 0; i < SeqLedger::kInline; ++i) {
    l.Add(Point(100 + 100 * i, 8, 11));
  }
  EXPECT_FALSE(l.HasRoom());
  l.NoteAck(150);  // past the first point only
  EXPECT_TRUE(l.HasRoom());
  EXPECT_EQ(l.ToOutput(50), 50u);  // still exact before pruning
  l.Add(Point(600, 8, 11));
  EXPECT_EQ(l.size(), SeqLedger::kInline);
  EXPECT_EQ(l.base_offset(), 3);
  EXPECT_EQ(l.ToOutput(650), 665u);
}

// SpanAt finds a span by its start or an interior position.
TEST(SeqLedgerTest, SpanAt) {
  SeqLedger l;
  l.Add(Point(100, 8, 11));
  EXPECT_NE(l.SpanAt(100), nullptr);
  EXPECT_NE(l.SpanAt(107), nullptr);
  EXPECT_EQ(l.SpanAt(108), nullptr);
  EXPECT_EQ(l.SpanAt(99), nullptr);
}

// A borrowed block extends the ledger past four unacknowledged points; the
// mapping reads across both; pruning shifts points back into the session,
// after which the block holds nothing and can be returned.
TEST(SeqLedgerTest, BorrowedBlockHoldsABurst) {
  SeqLedger l;
  ChangePoint block[6];
  for (uint32_t i = 0; i < SeqLedger::kInline; ++i) l.Add(Point(100 + 100 * i, 8, 11), block);
  EXPECT_FALSE(l.HasRoom());
  l.AttachSpill(7, 6);
  EXPECT_EQ(l.spill_id(), 7);
  EXPECT_EQ(l.capacity(), 10);
  for (uint32_t i = 4; i < 10; ++i) {
    ASSERT_TRUE(l.HasRoom());
    l.Add(Point(100 + 100 * i, 8, 11), block);
  }
  EXPECT_TRUE(l.full());
  EXPECT_EQ(l.at(9, block).pos, 1000u);
  EXPECT_EQ(l.ToOutput(1050, block), 1050u + 30);  // ten points of +3
  EXPECT_EQ(l.ToInput(1080, block), 1050u);
  EXPECT_EQ(l.TotalOffset(block), 30);
  ASSERT_NE(l.SpanAt(904, block), nullptr);
  EXPECT_EQ(l.SpanAt(904, block)->pos, 900u);
  EXPECT_FALSE(l.SpillUnused());
  l.Prune(750, block);  // the receiver has the first seven
  EXPECT_EQ(l.size(), 3);
  EXPECT_EQ(l.base_offset(), 21);
  EXPECT_EQ(l.at(0, block).pos, 800u);
  EXPECT_EQ(l.ToOutput(1050, block), 1080u);
  EXPECT_TRUE(l.SpillUnused());
  l.DetachSpill();
  EXPECT_EQ(l.spill_id(), SeqLedger::kNoSpill);
  EXPECT_EQ(l.ToOutput(1050), 1080u) << "inline points suffice after the prune";
}

// Offline, a full ledger folds its oldest point into the base offset.
TEST(SeqLedgerTest, FoldOldestKeepsLaterPositionsExact) {
  SeqLedger l;
  for (uint32_t i = 0; i < SeqLedger::kInline; ++i) l.Add(Point(100 + 100 * i, 8, 11));
  l.FoldOldest();
  EXPECT_EQ(l.size(), 3);
  EXPECT_EQ(l.base_offset(), 3);
  EXPECT_EQ(l.ToOutput(450), 462u);
  EXPECT_EQ(l.TotalOffset(), 12);
}

}  // namespace
}  // namespace ftpalg
