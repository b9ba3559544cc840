// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for the conntrack-label layout of a SessionSnapshot and the label
// update message.
#include "adapters/ctnetlink_labels.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <string>

#include "adapters/ctnetlink_messages.h"

namespace ftpalg {
namespace {

Endpoint Ep(const char* a, uint16_t port) {
  return Endpoint{*IpAddress::Parse(a), port};
}

SessionSnapshot Snap(int32_t c2s, int32_t s2c, bool tls = false) {
  SessionSnapshot s;
  s.offset[0] = c2s;
  s.offset[1] = s2c;
  s.tls = tls;
  return s;
}

TEST(CtLabels, BitNumbersFollowTheKernelsUnsignedLongArray) {
  CtLabelBits b{};
  SetLabelBit(&b, 0, true);
  SetLabelBit(&b, 70, true);
  SetLabelBit(&b, 127, true);
  unsigned long w[16 / sizeof(unsigned long)];  // NOLINT
  std::memcpy(w, b.data(), sizeof(w));
  constexpr unsigned kBits = sizeof(unsigned long) * CHAR_BIT;  // NOLINT
  EXPECT_EQ((w[0] >> 0) & 1ul, 1ul);
  EXPECT_EQ((w[70 / kBits] >> (70 % kBits)) & 1ul, 1ul);
  EXPECT_EQ((w[127 / kBits] >> (127 % kBits)) & 1ul, 1ul);
  EXPECT_TRUE(LabelBit(b, 70));
  EXPECT_FALSE(LabelBit(b, 71));
  SetLabelBit(&b, 70, false);
  EXPECT_FALSE(LabelBit(b, 70));
  SetLabelField32(&b, 32, 0xdeadbeef);
  EXPECT_EQ(LabelField32(b, 32), 0xdeadbeefu);
  EXPECT_TRUE(LabelBit(b, 0));
  EXPECT_TRUE(LabelBit(b, 127));
}

TEST(CtLabels, RoundTripIncludingNegativeAndExtremeOffsets) {
  for (const SessionSnapshot& s :
       {Snap(0, 0), Snap(3, 0), Snap(-1, 2, true), Snap(30000, -30000),
        Snap(INT32_MAX, INT32_MIN, true)}) {
    const CtLabelWrite w = EncodeSnapshotLabels(s);
    const auto back = DecodeSnapshotLabels(ApplyLabelWrite(CtLabelBits{}, w));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->offset[0], s.offset[0]);
    EXPECT_EQ(back->offset[1], s.offset[1]);
    EXPECT_EQ(back->tls, s.tls);
  }
}

TEST(CtLabels, NeverAllZeroAndMagicInTheTopBits) {
  // conntrackd never propagates a change to all-zero labels: a snapshot of
  // zero offsets must still set bits.
  const CtLabelWrite w = EncodeSnapshotLabels(Snap(0, 0));
  EXPECT_NE(w.data, CtLabelBits{});
  EXPECT_TRUE(LabelBit(w.data, 127));
  uint32_t magic = 0;
  for (unsigned i = 0; i < 16; ++i) magic |= uint32_t{LabelBit(w.data, 112 + i)} << i;
  EXPECT_EQ(magic, kSnapshotMagic);
}

TEST(CtLabels, MaskCoversBits32To127AndDataIsPreMasked) {
  const CtLabelWrite w = EncodeSnapshotLabels(Snap(-5, 7, true));
  for (unsigned n = 0; n < 128; ++n) {
    EXPECT_EQ(LabelBit(w.mask, n), n >= 32) << n;
    if (!LabelBit(w.mask, n)) {
      EXPECT_FALSE(LabelBit(w.data, n)) << n;
    }
  }
}

TEST(CtLabels, OperatorBitsSurviveAndOldSnapshotIsReplaced) {
  // The kernel: new = (old & ~mask) ^ data.
  CtLabelBits old{};
  SetLabelBit(&old, 0, true);
  SetLabelBit(&old, 31, true);
  old = ApplyLabelWrite(old, EncodeSnapshotLabels(Snap(-1, -1, true)));
  const CtLabelBits now = ApplyLabelWrite(old, EncodeSnapshotLabels(Snap(3, 0)));
  EXPECT_TRUE(LabelBit(now, 0));
  EXPECT_TRUE(LabelBit(now, 31));
  const auto s = DecodeSnapshotLabels(now);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->offset[0], 3);
  EXPECT_EQ(s->offset[1], 0);
  EXPECT_FALSE(s->tls);
}

TEST(CtLabels, ForeignLabelsAreNoSnapshot) {
  EXPECT_FALSE(DecodeSnapshotLabels(CtLabelBits{}).has_value());
  CtLabelBits only127{};
  SetLabelBit(&only127, 127, true);  // e.g. the allocating rule's own bit
  EXPECT_FALSE(DecodeSnapshotLabels(only127).has_value());
  CtLabelWrite w = EncodeSnapshotLabels(Snap(3, 0));
  SetLabelBit(&w.data, 104 + 1, true);  // version 3: unknown layout
  EXPECT_FALSE(DecodeSnapshotLabels(w.data).has_value());
}

TEST(CtLabels, UpdateMessageIsAnUpdateWithLabelsAndMask) {
  alignas(8) uint8_t buf[kNlMsgBufSize];
  const CtTuple orig{Ep("10.7.0.2", 40100), Ep("203.0.113.2", 21), 6};
  const CtLabelWrite w = EncodeSnapshotLabels(Snap(3, 0));
  nlmsghdr* nlh = BuildCtSetLabels(buf, 7, orig, w);
  const std::string d = DescribeCtMessage(nlh);
  EXPECT_EQ(d.rfind("CT_NEW family=inet flags=REQUEST|ACK\n", 0), 0u) << d;
  EXPECT_NE(d.find("CTA_TUPLE_ORIG"), std::string::npos);
  EXPECT_EQ(d.find("CTA_TUPLE_REPLY"), std::string::npos);
  EXPECT_NE(d.find("CTA_LABELS"), std::string::npos);
  EXPECT_NE(d.find("CTA_LABELS_MASK"), std::string::npos);
  CtTuple t;
  CtLabelBits data{}, mask{};
  ASSERT_TRUE(ParseCtSetLabels(nlh, &t, &data, &mask));
  EXPECT_EQ(t, orig);
  EXPECT_EQ(data, w.data);
  EXPECT_EQ(mask, w.mask);
  // A create is not a label update.
  CtCreateSpec create;
  create.orig = orig;
  EXPECT_FALSE(ParseCtSetLabels(BuildCtCreate(buf, 8, create), &t, &data, &mask));
}

TEST(CtLabels, V6UpdateParses) {
  alignas(8) uint8_t buf[kNlMsgBufSize];
  const CtTuple orig{Ep("fd00:10::2", 40100), Ep("2001:db8:1::2", 21), 6};
  CtTuple t;
  CtLabelBits data{}, mask{};
  ASSERT_TRUE(ParseCtSetLabels(
      BuildCtSetLabels(buf, 1, orig, EncodeSnapshotLabels(Snap(1, 2))), &t,
      &data, &mask));
  EXPECT_EQ(t, orig);
  EXPECT_EQ(DecodeSnapshotLabels(data)->offset[1], 2);
}

}  // namespace
}  // namespace ftpalg
