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
  // zero offsets, and a pending clear, must still set bits.
  for (const CtLabelWrite& any : {EncodePendingLabels(std::nullopt),
                                  EncodeSnapshotLabels(Snap(0, 0))}) {
    EXPECT_NE(ApplyLabelWrite(CtLabelBits{}, any), CtLabelBits{});
    EXPECT_TRUE(LabelBit(any.data, 127));
    EXPECT_TRUE(DecodeLabels(ApplyLabelWrite(CtLabelBits{}, any)).has_value());
  }
  const CtLabelWrite w = EncodeSnapshotLabels(Snap(0, 0));
  EXPECT_TRUE(LabelBit(w.data, 127));
  uint32_t magic = 0;
  for (unsigned i = 0; i < 16; ++i) magic |= uint32_t{LabelBit(w.data, 112 + i)} << i;
  EXPECT_EQ(magic, kSnapshotMagic);
}

PendingLabel Pend(Direction who, bool translated, AnnounceKind kind,
                  uint16_t nat_port, uint16_t target_port) {
  PendingLabel p;
  p.announcer = who;
  p.translated = translated;
  p.kind = kind;
  p.nat_port = nat_port;
  p.target_port = target_port;
  return p;
}

// Which bits each kind of write owns (and only those: data is pre-masked,
// since the kernel XOR-toggles data bits outside the mask).
void ExpectMask(const CtLabelWrite& w, bool (*owned)(unsigned)) {
  for (unsigned n = 0; n < 128; ++n) {
    EXPECT_EQ(LabelBit(w.mask, n), owned(n)) << n;
    if (!LabelBit(w.mask, n)) {
      EXPECT_FALSE(LabelBit(w.data, n)) << n;
    }
  }
}

TEST(CtLabels, SnapshotMaskCoversOffsetsTlsAndHeaderOnly) {
  ExpectMask(EncodeSnapshotLabels(Snap(-5, 7, true)),
             [](unsigned n) { return (n >= 32 && n <= 96) || n >= 104; });
}

TEST(CtLabels, PendingMaskCoversPortsPendingFlagsAndHeaderOnly) {
  ExpectMask(EncodePendingLabels(Pend(Direction::kReply, true, AnnounceKind::k229,
                                      0xffff, 0xffff)),
             [](unsigned n) { return n <= 31 || n >= 97; });
  // A clear touches the pending flags (and header) only: the ports then
  // mean nothing, and bits 0..31 are not written for nothing.
  ExpectMask(EncodePendingLabels(std::nullopt), [](unsigned n) { return n >= 97; });
}

TEST(CtLabels, PendingRoundTripEveryKindBothAnnouncers) {
  for (int k = 0; k <= static_cast<int>(AnnounceKind::k229); ++k) {
    for (Direction who : {Direction::kOriginal, Direction::kReply}) {
      for (bool translated : {false, true}) {
        const PendingLabel p = Pend(who, translated, static_cast<AnnounceKind>(k),
                                    static_cast<uint16_t>(1024 + k), 65535);
        CtLabelBits b = ApplyLabelWrite(CtLabelBits{}, EncodeSnapshotLabels(Snap(-7, 9, true)));
        b = ApplyLabelWrite(b, EncodePendingLabels(p));
        const auto st = DecodeLabels(b);
        ASSERT_TRUE(st.has_value());
        EXPECT_EQ(st->version, 2);
        ASSERT_TRUE(st->pending.has_value());
        EXPECT_EQ(*st->pending, p);
        // The pending write left the snapshot alone.
        EXPECT_EQ(st->snapshot.offset[0], -7);
        EXPECT_EQ(st->snapshot.offset[1], 9);
        EXPECT_TRUE(st->snapshot.tls);
      }
    }
  }
}

TEST(CtLabels, SnapshotWriteKeepsThePendingAndClearKeepsTheSnapshot) {
  const PendingLabel p = Pend(Direction::kOriginal, true, AnnounceKind::kEprt, 5001, 5002);
  CtLabelBits b = ApplyLabelWrite(CtLabelBits{}, MergeLabelWrites(
      EncodeSnapshotLabels(Snap(3, 0)), EncodePendingLabels(p)));
  b = ApplyLabelWrite(b, EncodeSnapshotLabels(Snap(6, -3, true)));
  auto st = DecodeLabels(b);
  ASSERT_TRUE(st && st->pending);
  EXPECT_EQ(*st->pending, p);
  EXPECT_EQ(st->snapshot.offset[0], 6);
  b = ApplyLabelWrite(b, EncodePendingLabels(std::nullopt));
  st = DecodeLabels(b);
  ASSERT_TRUE(st.has_value());
  EXPECT_FALSE(st->pending.has_value());
  EXPECT_EQ(st->snapshot.offset[0], 6);
  EXPECT_EQ(st->snapshot.offset[1], -3);
  EXPECT_TRUE(st->snapshot.tls);
  // Cleared, still never all-zero (conntrackd would not replicate that).
  EXPECT_NE(b, CtLabelBits{});
  EXPECT_TRUE(LabelBit(b, 127));
}

// What a restored session gets (LoadSnapshot): the offsets, and the pending
// announcement's port and announcer, so a retransmission of that
// announcement after a takeover is not rewritten twice.
TEST(CtLabels, SnapshotCarriesThePendingAnnouncementForATakeover) {
  const PendingLabel p = Pend(Direction::kReply, true, AnnounceKind::k227, 40001, 40002);
  CtLabelBits b = ApplyLabelWrite(CtLabelBits{}, MergeLabelWrites(
      EncodeSnapshotLabels(Snap(0, 2)), EncodePendingLabels(p)));
  std::optional<SessionSnapshot> snap = DecodeSnapshotLabels(b);
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->offset[1], 2);
  EXPECT_EQ(snap->pending_port, 40001);  // the announced (nat_to) port
  EXPECT_EQ(snap->pending_announcer, Direction::kReply);
  b = ApplyLabelWrite(b, EncodePendingLabels(std::nullopt));
  snap = DecodeSnapshotLabels(b);
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->pending_port, 0);  // no pending: nothing to recognise
}

TEST(CtLabels, MergeLetsTheSecondWriteWin) {
  CtLabelWrite a = EncodeSnapshotLabels(Snap(1, 1));
  const CtLabelWrite b = EncodeSnapshotLabels(Snap(2, 2));
  const CtLabelWrite m = MergeLabelWrites(a, b);
  EXPECT_EQ(m.mask, a.mask);
  EXPECT_EQ(DecodeSnapshotLabels(ApplyLabelWrite(CtLabelBits{}, m))->offset[0], 2);
  // Disjoint parts add up.
  const CtLabelWrite both = MergeLabelWrites(
      a, EncodePendingLabels(Pend(Direction::kReply, false, AnnounceKind::k227, 2000, 2000)));
  for (unsigned n = 0; n < 128; ++n) EXPECT_TRUE(LabelBit(both.mask, n)) << n;
}

TEST(CtLabels, Version1IsStillReadAndHasNoPending) {
  // Exactly what a version-1 ftpalgd wrote: offsets, flags byte (TLS only),
  // version 1, magic; bits 0..31 were the operator's.
  CtLabelBits v1{};
  SetLabelField32(&v1, 32, 3);
  SetLabelField32(&v1, 64, static_cast<uint32_t>(-2));
  SetLabelBit(&v1, 96, true);   // TLS
  SetLabelBit(&v1, 104, true);  // version 1
  const uint16_t magic = kSnapshotMagic;
  for (unsigned i = 0; i < 16; ++i) SetLabelBit(&v1, 112 + i, ((magic >> i) & 1) != 0);
  SetLabelField32(&v1, 0, 0xffffffff);  // operator bits
  SetLabelBit(&v1, 97, true);           // would be "pending valid" in v2
  const auto st = DecodeLabels(v1);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->version, 1);
  EXPECT_EQ(st->snapshot.offset[0], 3);
  EXPECT_EQ(st->snapshot.offset[1], -2);
  EXPECT_TRUE(st->snapshot.tls);
  EXPECT_FALSE(st->pending.has_value());
  EXPECT_EQ(DecodeSnapshotLabels(v1)->offset[0], 3);
  // A v2 snapshot write over it upgrades the version and keeps the offsets'
  // meaning; the pending stays absent until one is written.
  const CtLabelBits up = ApplyLabelWrite(v1, EncodeSnapshotLabels(Snap(6, -2, true)));
  EXPECT_EQ(DecodeLabels(up)->version, 2);
  EXPECT_EQ(LabelField32(up, 0), 0xffffffffu);  // not a snapshot's bits
}

TEST(CtLabels, DamagedPendingFieldsMeanNoPending) {
  CtLabelBits b = ApplyLabelWrite(CtLabelBits{}, MergeLabelWrites(
      EncodeSnapshotLabels(Snap(0, 0)),
      EncodePendingLabels(Pend(Direction::kOriginal, true, AnnounceKind::kPort, 5000, 5000))));
  CtLabelBits bad_kind = b;
  SetLabelBit(&bad_kind, 100, true);
  SetLabelBit(&bad_kind, 101, true);
  SetLabelBit(&bad_kind, 102, true);  // kind 7
  EXPECT_FALSE(DecodeLabels(bad_kind)->pending.has_value());
  CtLabelBits zero_port = b;
  SetLabelField32(&zero_port, 0, 0);
  EXPECT_FALSE(DecodeLabels(zero_port)->pending.has_value());
  EXPECT_TRUE(DecodeLabels(b)->pending.has_value());
}

// The four NAT cases, by hand (the engine-driven version of this is in
// tests/daemon/conntrack_plane_test.cc): the pending fields plus the
// master's tuples give back the engine's expectation.
struct NatCase {
  const char* name;
  CtTuple orig, reply;
  Expectation e;  // as the engine builds it
};

Expectation Exp(AnnounceKind kind, Direction who, const CtTuple& orig,
                const char* peer, Endpoint target, Endpoint nat_to) {
  Expectation e;
  e.kind = kind;
  e.announcer = who;
  e.master = orig.ToFlow();
  e.peer = *IpAddress::Parse(peer);
  e.target = target;
  e.nat_to = nat_to;
  e.timeout_s = 300;
  return e;
}

TEST(CtLabels, ExpectationFromPendingAndTuplesForEveryNatCase) {
  // SNAT: inside client 10.7.0.2 shown as 203.0.113.1 to server 198.51.100.2.
  const CtTuple so{Ep("10.7.0.2", 40000), Ep("198.51.100.2", 21), 6};
  const CtTuple sr{Ep("198.51.100.2", 21), Ep("203.0.113.1", 40000), 6};
  // DNAT: outside client 198.51.100.9 dials 203.0.113.1:21 = 10.7.0.5:21.
  const CtTuple dno{Ep("198.51.100.9", 40001), Ep("203.0.113.1", 21), 6};
  const CtTuple dnr{Ep("10.7.0.5", 21), Ep("198.51.100.9", 40001), 6};
  // v6 SNAT (NAT66) and DNAT.
  const CtTuple s6o{Ep("fd00:7::2", 40002), Ep("2001:db8:2::2", 21), 6};
  const CtTuple s6r{Ep("2001:db8:2::2", 21), Ep("2001:db8:1::1", 40002), 6};
  const CtTuple d6o{Ep("2001:db8:9::9", 40003), Ep("2001:db8:1::1", 21), 6};
  const CtTuple d6r{Ep("fd00:7::5", 21), Ep("2001:db8:9::9", 40003), 6};
  const NatCase cases[] = {
      {"SNAT active PORT (rewritten, port remapped)", so, sr,
       Exp(AnnounceKind::kPort, Direction::kOriginal, so, "198.51.100.2",
           Ep("203.0.113.1", 5002), Ep("10.7.0.2", 5001))},
      {"SNAT passive 227 (public server: not rewritten)", so, sr,
       Exp(AnnounceKind::k227, Direction::kReply, so, "10.7.0.2",
           Ep("198.51.100.2", 6000), Ep("198.51.100.2", 6000))},
      {"DNAT passive 227 (rewritten)", dno, dnr,
       Exp(AnnounceKind::k227, Direction::kReply, dno, "198.51.100.9",
           Ep("203.0.113.1", 6001), Ep("10.7.0.5", 6001))},
      {"DNAT passive 229 (port kept, outside address)", dno, dnr,
       Exp(AnnounceKind::k229, Direction::kReply, dno, "198.51.100.9",
           Ep("203.0.113.1", 6002), Ep("10.7.0.5", 6002))},
      {"DNAT active PORT (public client: not rewritten)", dno, dnr,
       Exp(AnnounceKind::kPort, Direction::kOriginal, dno, "10.7.0.5",
           Ep("198.51.100.9", 7000), Ep("198.51.100.9", 7000))},
      {"v6 SNAT active EPRT", s6o, s6r,
       Exp(AnnounceKind::kEprt, Direction::kOriginal, s6o, "2001:db8:2::2",
           Ep("2001:db8:1::1", 5003), Ep("fd00:7::2", 5003))},
      {"v6 SNAT passive 229 (public server)", s6o, s6r,
       Exp(AnnounceKind::k229, Direction::kReply, s6o, "fd00:7::2",
           Ep("2001:db8:2::2", 6003), Ep("2001:db8:2::2", 6003))},
      {"v6 DNAT passive 229", d6o, d6r,
       Exp(AnnounceKind::k229, Direction::kReply, d6o, "2001:db8:9::9",
           Ep("2001:db8:1::1", 6004), Ep("fd00:7::5", 6004))},
      {"v6 DNAT active EPRT (public client)", d6o, d6r,
       Exp(AnnounceKind::kEprt, Direction::kOriginal, d6o, "fd00:7::5",
           Ep("2001:db8:9::9", 7001), Ep("2001:db8:9::9", 7001))},
  };
  for (const NatCase& c : cases) {
    SCOPED_TRACE(c.name);
    const CtLabelBits b = ApplyLabelWrite(
        CtLabelBits{}, EncodePendingLabels(PendingFromExpectation(c.e)));
    const auto st = DecodeLabels(b);
    ASSERT_TRUE(st && st->pending);
    const Expectation back =
        ExpectationFromPending(*st->pending, c.orig, c.reply, std::nullopt, 300);
    EXPECT_EQ(back.kind, c.e.kind);
    EXPECT_EQ(back.announcer, c.e.announcer);
    EXPECT_EQ(back.master, c.e.master);
    EXPECT_EQ(back.peer, c.e.peer);
    EXPECT_EQ(back.target, c.e.target);
    EXPECT_EQ(back.nat_to, c.e.nat_to);
    EXPECT_EQ(back.timeout_s, 300u);
  }
}

TEST(CtLabels, PublicIpOverrideIsTheTargetOfTranslatedOnly) {
  const CtTuple so{Ep("10.7.0.2", 40000), Ep("198.51.100.2", 21), 6};
  const CtTuple sr{Ep("198.51.100.2", 21), Ep("192.168.99.1", 40000), 6};
  const auto pub = IpAddress::Parse("203.0.113.77");
  const Expectation t = ExpectationFromPending(
      Pend(Direction::kOriginal, true, AnnounceKind::kPort, 5000, 5000), so, sr, pub, 300);
  EXPECT_EQ(t.target, Ep("203.0.113.77", 5000));
  const Expectation u = ExpectationFromPending(
      Pend(Direction::kReply, false, AnnounceKind::k227, 6000, 6000), so, sr, pub, 300);
  EXPECT_EQ(u.target, Ep("198.51.100.2", 6000));
  // An override of the other family does not apply.
  const Expectation v = ExpectationFromPending(
      Pend(Direction::kOriginal, true, AnnounceKind::kPort, 5000, 5000), so, sr,
      IpAddress::Parse("2001:db8::1"), 300);
  EXPECT_EQ(v.target, Ep("192.168.99.1", 5000));
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
  SetLabelBit(&w.data, 104, true);  // version 2 -> 3: unknown layout
  EXPECT_FALSE(DecodeSnapshotLabels(w.data).has_value());
  EXPECT_FALSE(DecodeLabels(w.data).has_value());
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
