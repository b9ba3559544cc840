// SPDX-License-Identifier: GPL-2.0-or-later
// TcpStream: what counts at the edges of a TCP stream (SYN, RST, FIN, holes),
// judged by sequence numbers. Table-driven: one row per case.
#include "ftpalg/tcp_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ftpalg {
namespace {

// ---- SYN / SYN-ACK ---------------------------------------------------------

struct SynCase {
  const char* name;
  bool seen, data_seen;
  uint32_t next_seq;  // before
  uint32_t isn;       // of the SYN seen now
  SynOutcome outcome;
  uint32_t next_after;
};

const SynCase kSynCases[] = {
    {"first SYN learns the ISN", false, false, 0, 1000, SynOutcome::kLearned, 1001},
    {"first SYN-ACK at the top of the space", false, false, 0, 0xffffffff,
     SynOutcome::kLearned, 0},
    {"retransmitted SYN, same ISN", true, false, 1001, 1000, SynOutcome::kRetransmitted, 1001},
    // The field case: the server answered the retransmitted SYN with
    // a SYN-ACK 16,124,080 higher.
    {"new ISN before any data re-bases", true, false, 5001, 5000 + 16124080,
     SynOutcome::kRebased, 5001 + 16124080},
    {"new, lower ISN before any data re-bases", true, false, 5001, 17, SynOutcome::kRebased, 18},
    {"re-base across the wrap", true, false, 0xfffffff0, 5, SynOutcome::kRebased, 6},
    {"new ISN after data is stray", true, true, 5100, 9000, SynOutcome::kStray, 5100},
    {"same ISN after data (a Fast Open SYN resent) is a retransmission", true, true, 5100,
     5000, SynOutcome::kRetransmitted, 5100},
    {"ISN far behind the data is stray", true, true, 500000, 5000, SynOutcome::kStray, 500000},
    // A stream first seen on a segment (mid-stream pickup, or the ACK of a
    // half-seen handshake) then gets its SYN-ACK retransmitted.
    {"handshake half seen: SYN-ACK after a bare ACK", true, false, 5001, 5000,
     SynOutcome::kRetransmitted, 5001},
};

class SynTest : public ::testing::TestWithParam<SynCase> {};

TEST_P(SynTest, Outcome) {
  const SynCase& c = GetParam();
  StreamState st;
  st.seen = c.seen;
  st.data_seen = c.data_seen;
  st.next_seq = c.next_seq;
  EXPECT_EQ(TcpStream::OnSyn(st, c.isn), c.outcome) << c.name;
  EXPECT_EQ(st.next_seq, c.next_after) << c.name;
  EXPECT_TRUE(st.seen);
  if (c.outcome == SynOutcome::kRebased || c.outcome == SynOutcome::kLearned) {
    EXPECT_TRUE(st.line.synced) << "a stream read from its start knows where lines start";
    EXPECT_FALSE(st.gap_open);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, SynTest, ::testing::ValuesIn(kSynCases));

TEST(TcpStreamSyn, RebaseForgetsLineStateAndGap) {
  StreamState st;
  TcpStream::OnSyn(st, 100);
  st.line.line_len = 3;
  st.gap_open = true;
  st.fin = true;
  EXPECT_EQ(TcpStream::OnSyn(st, 700), SynOutcome::kRebased);
  EXPECT_EQ(st.line.line_len, 0);
  EXPECT_FALSE(st.gap_open);
  EXPECT_FALSE(st.fin);
}

// ---- RST (RFC 5961 spirit) -------------------------------------------------

struct RstCase {
  const char* name;
  bool seen;
  uint32_t next_seq, seq;
  bool counts;
};

const RstCase kRstCases[] = {
    {"exactly at the stream's end", true, 10000, 10000, true},
    {"a little ahead (data lost before us)", true, 10000, 10000 + 1448, true},
    {"at the edge of the window", true, 10000, 10000 + TcpStream::kRstWindow, true},
    {"just past the window", true, 10000, 10000 + TcpStream::kRstWindow + 1, false},
    {"behind (RST answering an old segment)", true, 10000, 9000, true},
    {"far behind", true, 10000, 10000 - TcpStream::kRstWindow - 1, false},
    {"blind guess far away", true, 10000, 0x80000000u, false},
    {"window across the wrap", true, 0xffffff00u, 0x10, true},
    {"direction never seen: nothing to check against", false, 0, 0x12345678, true},
};

class RstTest : public ::testing::TestWithParam<RstCase> {};

TEST_P(RstTest, Acceptable) {
  const RstCase& c = GetParam();
  StreamState st;
  st.seen = c.seen;
  st.next_seq = c.next_seq;
  EXPECT_EQ(TcpStream::RstAcceptable(st, c.seq), c.counts) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Table, RstTest, ::testing::ValuesIn(kRstCases));

// ---- FIN -------------------------------------------------------------------

struct FinCase {
  const char* name;
  uint32_t next_seq;
  bool fin_before;
  uint32_t fin_pos;
  bool counts;
  uint32_t next_after;
};

const FinCase kFinCases[] = {
    {"in sequence", 500, false, 500, true, 501},
    {"retransmitted FIN", 501, true, 500, false, 501},
    {"FIN beyond a hole waits", 500, false, 600, false, 500},
    {"stray FIN far behind", 500, false, 100, false, 500},
    {"in sequence at the wrap", 0xffffffffu, false, 0xffffffffu, true, 0},
};

class FinTest : public ::testing::TestWithParam<FinCase> {};

TEST_P(FinTest, Counts) {
  const FinCase& c = GetParam();
  StreamState st;
  st.seen = true;
  st.next_seq = c.next_seq;
  st.fin = c.fin_before;
  EXPECT_EQ(TcpStream::OnFin(st, c.fin_pos), c.counts) << c.name;
  EXPECT_EQ(st.next_seq, c.next_after) << c.name;
  EXPECT_EQ(st.fin, c.fin_before || c.counts) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Table, FinTest, ::testing::ValuesIn(kFinCases));

// ---- segments beyond a hole ------------------------------------------------

struct Piece {
  uint32_t offset;  // from the stream's next_seq
  const char* bytes;
};

struct HoleCase {
  const char* name;
  std::vector<Piece> beyond;  // kept, in arrival order (all beyond offset 0)
  Piece fill;                 // then consumed by the caller at offset 0
  std::string released;       // what TakeContiguous then returns
  size_t left_slots;          // kept slots left afterwards
};

const std::vector<HoleCase>& HoleCases() {
  static const std::vector<HoleCase> cases = {
      {"one segment overtaken", {{4, "LIST\r\n"}}, {0, "NOOP"}, "LIST\r\n", 0},
      {"FEAT reply shuffled",
       {{12, " MDTM\r\n"}, {5, " SIZE\r\n"}, {19, "211 End.\r\n"}},
       {0, "211-F"},
       " SIZE\r\n MDTM\r\n211 End.\r\n",
       0},
      {"duplicate of a kept segment", {{4, "LIST\r\n"}, {4, "LIST\r\n"}}, {0, "NOOP"}, "LIST\r\n", 0},
      {"overlapping kept segments", {{4, "LIST\r\n"}, {6, "ST\r\nQUIT\r\n"}}, {0, "NOOP"},
       "LIST\r\nQUIT\r\n", 0},
      {"second hole stays", {{4, "LI"}, {10, "QUIT\r\n"}}, {0, "NOOP"}, "LI", 1},
      {"fill reaches into a kept segment", {{4, "LIST\r\n"}}, {0, "NOOPLI"}, "ST\r\n", 0},
  };
  return cases;
}

class HoleTest : public ::testing::TestWithParam<size_t> {};

TEST_P(HoleTest, ReleasedInSequenceOrder) {
  const HoleCase& c = HoleCases()[GetParam()];
  SegmentPool pool(16, 8);  // small slots: segments span several
  TcpStream tracker(pool, 8);
  StreamState st;
  TcpStream::OnSyn(st, 999);  // stream starts at 1000
  for (const Piece& p : c.beyond) {
    const std::string b = p.bytes;
    ASSERT_TRUE(tracker.KeepBeyondHole(st, 1000 + p.offset,
                                       reinterpret_cast<const uint8_t*>(b.data()), b.size(), 0))
        << c.name;
  }
  EXPECT_NE(tracker.FirstBeyond(st), kNoSlot);
  EXPECT_EQ(tracker.ForwardedEnd(st), 1000u);
  // The caller consumes the filling segment, then asks for what follows.
  uint32_t end = 1000 + c.fill.offset + static_cast<uint32_t>(std::string(c.fill.bytes).size());
  std::vector<uint8_t> out(256);
  const size_t n = tracker.TakeContiguous(st, &end, out.data(), out.size());
  EXPECT_EQ(std::string(out.begin(), out.begin() + static_cast<long>(n)), c.released) << c.name;
  EXPECT_EQ(pool.ChainSlots(st.chain), c.left_slots) << c.name;
  tracker.Release(st);
  EXPECT_EQ(pool.available(), 16u);
}

INSTANTIATE_TEST_SUITE_P(Table, HoleTest, ::testing::Range<size_t>(0, 6));

TEST(TcpStreamHoles, BoundsRefuseWithoutKeepingAnything) {
  SegmentPool pool(8, 4);
  TcpStream tracker(pool, 3);
  StreamState st;
  TcpStream::OnSyn(st, 0);
  const std::string twelve = "abcdefghijkl";  // 3 slots of 4
  const auto* p = reinterpret_cast<const uint8_t*>(twelve.data());
  EXPECT_TRUE(tracker.KeepBeyondHole(st, 10, p, 12, 0));
  EXPECT_FALSE(tracker.KeepBeyondHole(st, 30, p, 4, 0)) << "per-stream bound";
  EXPECT_EQ(pool.ChainSlots(st.chain), 3u);
  EXPECT_FALSE(tracker.KeepBeyondHole(st, 1 + TcpStream::kMaxAhead, p, 4, 0)) << "too far ahead";
  EXPECT_FALSE(tracker.KeepBeyondHole(st, 1, p, 4, 0)) << "not beyond: at next_seq";
  tracker.Release(st);
  EXPECT_EQ(pool.available(), 8u);
}

TEST(TcpStreamHoles, HeldLineStaysFirstAndTimesKept) {
  SegmentPool pool(8, 16);
  TcpStream tracker(pool, 4);
  StreamState st;
  TcpStream::OnSyn(st, 99);  // next_seq 100
  st.next_seq = 110;         // "PORT 10,7," consumed, held back
  const std::string line = "PORT 10,7,";
  ASSERT_TRUE(tracker.HoldLine(st, 100, reinterpret_cast<const uint8_t*>(line.data()),
                               line.size(), 5));
  EXPECT_EQ(tracker.ForwardedEnd(st), 100u);
  const std::string later = "LIST\r\n";
  ASSERT_TRUE(tracker.KeepBeyondHole(st, 130, reinterpret_cast<const uint8_t*>(later.data()),
                                     later.size(), 42));
  EXPECT_EQ(tracker.HeldLine(st), st.chain);
  EXPECT_EQ(pool.meta(tracker.FirstBeyond(st)).seq, 130u);
  EXPECT_EQ(tracker.BeyondSince(st), 42u);
  EXPECT_EQ(tracker.ContiguousEnd(st), 110u);
  tracker.DropHeldLine(st);
  EXPECT_EQ(tracker.HeldLine(st), kNoSlot);
  EXPECT_EQ(tracker.FirstBeyond(st), st.chain) << "the kept segment stays";
  tracker.Release(st);
  EXPECT_EQ(st.chain, kNoSlot);
  EXPECT_EQ(pool.available(), 8u);
}

TEST(TcpStreamHoles, ContiguousEndWalksKeptBytes) {
  SegmentPool pool(8, 16);
  TcpStream tracker(pool, 8);
  StreamState st;
  TcpStream::OnSyn(st, 99);  // next_seq 100
  const std::string a = "abcd";
  const auto* p = reinterpret_cast<const uint8_t*>(a.data());
  ASSERT_TRUE(tracker.KeepBeyondHole(st, 104, p, 4, 0));
  EXPECT_EQ(tracker.ContiguousEnd(st), 100u) << "a hole before the kept bytes";
  ASSERT_TRUE(tracker.Keep(st, 100, p, 4, 0));
  EXPECT_EQ(tracker.ContiguousEnd(st), 108u);
  tracker.Release(st);
}

}  // namespace
}  // namespace ftpalg
