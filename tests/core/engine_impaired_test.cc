// SPDX-License-Identifier: GPL-2.0-or-later
// The engine on a lossy, reordering network (issue 11): the stream tracker's
// rules as seen from the packets: segments kept beyond holes and forwarded in
// order, holes given up per direction, a SYN-ACK with a new ISN, RSTs outside
// the window, and rewrites that never find the ledger full.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/engine_fixture.h"

namespace ftpalg::testing {
namespace {

class ImpairedTest : public EngineTest {
 protected:
  void InsideServer() {
    server = Ep("192.168.20.2", 21);
  }
  Result ServerSendsAt(uint32_t seq, const std::string& payload) {
    return Run(TcpSpec{server, client, seq, c_out_next_, kTcpAck | kTcpPsh, payload, {}, false});
  }
  Result ServerAcks() {
    return Run(TcpSpec{server, client, s_next_, c_out_next_, kTcpAck, "", {}, false});
  }
  void Pipelined(int count, bool expect_trims);
};

// The field report: the server's SYN-ACK lost after the gateway, the SYN
// retransmitted, the second SYN-ACK carries a new ISN. The stream follows it.
TEST_F(ImpairedTest, SynAckWithNewIsnRebasesTheServerStream) {
  Run(TcpSpec{client, server, c_isn_, 0, kTcpSyn, "", {}, false});
  Run(TcpSpec{server, client, s_isn_, c_isn_ + 1, kTcpSyn | kTcpAck, "", {}, false});
  Run(TcpSpec{client, server, c_isn_, 0, kTcpSyn, "", {}, false});  // same ISN
  s_isn_ += 16124080;
  Run(TcpSpec{server, client, s_isn_, c_isn_ + 1, kTcpSyn | kTcpAck, "", {}, false});
  c_next_ = c_isn_ + 1;
  s_next_ = s_isn_ + 1;
  c_out_next_ = c_next_;
  s_out_next_ = s_next_;
  Run(TcpSpec{client, server, c_next_, s_next_, kTcpAck, "", {}, false});
  Greet();
  EXPECT_TRUE(ClientSends("PORT 10,7,0,2,4,1\r\n").decision.modified);
  EXPECT_EQ(stats.isn_rebased, 1u);
  EXPECT_EQ(stats.refused_gap, 0u);
  EXPECT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(ServerOutput(), "220 ready\r\n331 ok\r\n");
}

// lftp's FEAT answered in small segments that reach the gateway shuffled:
// all of them are kept and released in sequence order, the reply is read
// and the next PORT is rewritten.
TEST_F(ImpairedTest, ShuffledMultiLineReplyIsKeptAndReleasedInOrder) {
  Handshake();
  Greet();
  ClientSends("FEAT\r\n");
  const std::string parts[] = {"211-Features:\r\n", " EPRT\r\n", " EPSV\r\n", " MDTM\r\n",
                               " PASV\r\n",         " REST STREAM\r\n", " SIZE\r\n",
                               " TVFS\r\n",          "211 End\r\n"};
  uint32_t at[9];
  uint32_t pos = s_next_;
  for (int i = 0; i < 9; ++i) {
    at[i] = pos;
    pos += static_cast<uint32_t>(parts[i].size());
  }
  for (int i : {3, 1, 8, 5, 2, 7, 4, 6}) {
    EXPECT_EQ(ServerSendsAt(at[i], parts[i]).payload(), "") << "kept: part " << i;
  }
  std::string all;
  for (const std::string& p : parts) all += p;
  Result fill = ServerSendsAt(at[0], parts[0]);
  EXPECT_EQ(fill.payload(), all);
  s_next_ = pos;
  EXPECT_EQ(stats.out_of_order, 8u);
  EXPECT_EQ(stats.refused_gap, 0u);
  EXPECT_TRUE(ClientSends("PORT 10,7,0,2,4,1\r\n").decision.modified);
  ServerSends("200 ok\r\n");
  ClientSends("PASV\r\n");
  EXPECT_EQ(ServerOutput(), "220 ready\r\n331 ok\r\n" + all + "200 ok\r\n");
}

// Found by the impaired e2e suite (50 pipelined PORTs, their 50 replies
// reordered): kept bytes too many for one packet stay kept at the stream's
// end; a retransmission of older bytes that arrives then must leave alone,
// not with those kept bytes glued behind it at the wrong positions.
TEST_F(ImpairedTest, OldRetransmissionDoesNotCarryKeptBytesAfterAGap) {
  cfg.max_packet_len = 200;  // room for about one kept reply per packet
  Rebuild();
  Handshake();
  Greet();
  ClientSends("NOOP\r\n");
  std::vector<std::string> replies;
  for (int i = 0; i < 8; ++i) {
    replies.push_back("200 PORT command " + std::to_string(i) + " successful. Consider PASV.\r\n");
  }
  const uint32_t size = static_cast<uint32_t>(replies[0].size());
  const uint32_t first = s_next_;
  std::string all;
  for (const std::string& r : replies) all += r;
  for (uint32_t i = 1; i < 8; ++i) {
    EXPECT_EQ(ServerSendsAt(first + i * size, replies[i]).payload(), "");
  }
  ServerSendsAt(first, replies[0]);  // fills the hole: only part of the kept bytes fit
  ServerSendsAt(first, replies[0]);  // the same bytes again (duplicated on the way)
  ServerSendsAt(first, replies[0]);  // and once more, behind what was forwarded since
  for (uint32_t i = 0; i < 8; ++i) ServerSendsAt(first + i * size, replies[i]);  // resent
  s_next_ = first + static_cast<uint32_t>(all.size());
  ServerSends("200 ok\r\n");
  EXPECT_EQ(ServerOutput(), "220 ready\r\n331 ok\r\n" + all + "200 ok\r\n");
}

// A hole in one direction never stops parsing in the other.
TEST_F(ImpairedTest, HoleInTheServerStreamLeavesTheClientStreamParsed) {
  Handshake();
  Greet();
  ClientSends("HELP\r\n");
  const uint32_t lost = s_next_;
  EXPECT_EQ(ServerSendsAt(lost + 10, "214 Ok\r\n").payload(), "");  // beyond a hole
  EXPECT_TRUE(ClientSends("PORT 10,7,0,2,4,1\r\n").decision.modified);
  EXPECT_EQ(ServerSendsAt(lost, "214-Help\r\n").payload(), "214-Help\r\n214 Ok\r\n");
  s_next_ = lost + 18;
  EXPECT_EQ(stats.refused_gap, 0u);
}

// The bounds (here: no pool at all) give a hole up: the bytes after it pass
// unparsed, only in that direction; the client's PORT is still rewritten.
TEST_F(ImpairedTest, GivenUpHoleStopsOnlyItsDirection) {
  cfg.hold_slots = 0;
  Rebuild();
  InsideServer();
  Handshake();
  Greet();
  ClientSends("PASV\r\n");
  const uint32_t lost = s_next_;
  Result later = ServerSendsAt(lost + 5, "227 (192,168,20,2,4,9)\r\n");
  EXPECT_EQ(later.payload(), "227 (192,168,20,2,4,9)\r\n") << "passed on unparsed";
  EXPECT_EQ(stats.refused_gap, 1u);
  EXPECT_TRUE(ClientSends("PORT 10,7,0,2,4,1\r\n").decision.modified)
      << "the client's stream is still parsed";
  EXPECT_EQ(sink.installed.size(), 1u);
  EXPECT_TRUE(log.Contains("gap in s->c stream: 5 bytes"));
}

// A segment kept beyond a hole that is not filled within the gap timeout:
// the hole is given up at the next segment of that direction.
TEST_F(ImpairedTest, HoleNotFilledInTimeIsGivenUp) {
  cfg.gap_timeout_ms = 500;
  Rebuild();
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  EXPECT_EQ(ClientSendsAt(start + 6, "LIST\r\n").payload(), "");
  now_ms += 600;
  Result next = ClientSendsAt(start + 12, "QUIT\r\n");
  EXPECT_EQ(next.seq(), start + 6);
  EXPECT_EQ(next.payload(), "LIST\r\nQUIT\r\n");
  EXPECT_EQ(stats.refused_gap, 1u);
  EXPECT_TRUE(log.Contains("not filled within 500 ms"));
}

// Many PORT lines in one segment (live). Past four unacknowledged rewrites
// the ledger borrows a block from the pool (51 more points with 512-byte
// buffers); past that the segment is cut before the line that finds no
// room, the receiver's ack frees room and the sender's retransmission of
// the rest is rewritten, until all are.
TEST_F(ImpairedTest, FiftyPortsInOneSegmentFitABorrowedBlock) {
  Pipelined(50, false);
  EXPECT_EQ(stats.ledger_blocks, 1u);
}

TEST_F(ImpairedTest, BurstBeyondTheBlockIsTrimmedAndResent) {
  Pipelined(130, true);
}

void ImpairedTest::Pipelined(int count, bool expect_trims) {
  cfg.max_expectations_per_session = 255;
  Rebuild();
  Handshake();
  Greet();
  std::string in, want;
  for (int i = 0; i < count; ++i) {
    const std::string p = std::to_string(40 + i / 200) + "," + std::to_string(10 + i % 200);
    in += "PORT 10,7,0,2," + p + "\r\n";
    want += "PORT 203,0,113,1," + p + "\r\n";
  }
  const uint32_t start = c_next_;
  c_next_ += static_cast<uint32_t>(in.size());
  uint32_t sent = start;
  for (int round = 0; round < 200 && sent != c_next_; ++round) {
    const Result r = ClientSendsAt(sent, in.substr(sent - start));
    ASSERT_FALSE(r.payload().empty()) << "round " << round;
    ServerAcks();  // the server acknowledges what it received
    // The sender learns from that ack how much of its input was taken:
    // every whole line the output holds (3 bytes longer when rewritten).
    const std::string got = ClientOutput().substr(std::string("USER anonymous\r\n").size());
    size_t bytes_in = 0;
    for (size_t o = 0, eol; (eol = got.find('\n', o)) != std::string::npos; o = eol + 1) {
      bytes_in += eol + 1 - o - 3;
    }
    sent = start + static_cast<uint32_t>(bytes_in);
  }
  EXPECT_EQ(ClientOutput(), "USER anonymous\r\n" + want);
  EXPECT_EQ(stats.rewrites, static_cast<uint64_t>(count));
  EXPECT_EQ(stats.refused, 0u);
  EXPECT_EQ(stats.ledger_trims > 0, expect_trims);
  EXPECT_EQ(sink.installed.size(), static_cast<size_t>(count));
}

// Offline: a receiver in the capture acks bytes the engine still holds back;
// in the rewritten world it cannot have them: the ack is clamped.
TEST_F(ImpairedTest, OfflineAckNeverClaimsBytesNotForwarded) {
  cfg.offline_capture = true;
  Rebuild();
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  EXPECT_EQ(ClientSends("PORT 10,7,").payload(), "");  // held back
  const Result ack = Run(TcpSpec{server, client, s_next_, c_next_, kTcpAck, "", {}, false});
  EXPECT_EQ(ack.ack(), start);
  ClientSends("0,2,4,1\r\n");
  const Result ack2 = Run(TcpSpec{server, client, s_next_, c_next_, kTcpAck, "", {}, false});
  EXPECT_EQ(ack2.ack(), c_next_ + 3);
}

// RSTs outside the window (a blind attacker, a stale middlebox) do not end
// the session; one in the window does.
TEST_F(ImpairedTest, RstOutsideTheWindowKeepsTheSession) {
  Handshake();
  Greet();
  EXPECT_TRUE(ClientSends("PORT 10,7,0,2,4,1\r\n").decision.modified);
  Run(TcpSpec{server, client, s_next_ + 0x40000000u, 0, kTcpRst, "", {}, false});
  Run(TcpSpec{client, server, c_next_ - 0x40000000u, 0, kTcpRst, "", {}, false});
  EXPECT_EQ(stats.rst_ignored, 2u);
  EXPECT_TRUE(sink.removed.empty());
  ServerSends("200 ok\r\n");
  EXPECT_TRUE(ClientSends("PORT 10,7,0,2,4,2\r\n").decision.modified);
  Run(TcpSpec{server, client, s_next_, 0, kTcpRst, "", {}, false});
  EXPECT_EQ(sink.removed.size(), 2u);
}

// Port reuse: a new SYN with a new ISN on a tuple whose session closed
// starts afresh (no stale offsets); a stray SYN in a live session is ignored.
TEST_F(ImpairedTest, NewSynAfterCloseStartsAFreshSessionStraySynIsIgnored) {
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  const Result stray = Run(TcpSpec{client, server, c_isn_ + 777, 0, kTcpSyn, "", {}, false});
  EXPECT_FALSE(stray.decision.modified);
  EXPECT_EQ(stats.syn_stray, 1u);
  EXPECT_EQ(engine->session_count(), 1u);
  ServerSends("221 bye\r\n", kTcpAck | kTcpFin);
  ClientSends("", kTcpAck | kTcpFin);
  c_isn_ += 100000;
  s_isn_ += 300000;
  Handshake();
  EXPECT_EQ(stats.sessions_created, 2u);
  Greet();
  const Result r = ClientSends("PORT 10,7,0,2,4,2\r\n");
  EXPECT_EQ(r.seq(), c_next_ - 19) << "no offset carried over from the old session";
  EXPECT_TRUE(r.decision.modified);
}

// Issue 11's third symptom ("no 220 greeting (got 500)"), found in the lab:
// Connection A on the 4-tuple ends abnormally (client RST lost before the
// server), the client reuses the port for B. The server's retransmission of
// A's last reply crosses B's SYN at the gateway and arrives before B's SYN-ACK.
TEST_F(ImpairedTest, LateSegmentOfPreviousConnectionBeforeSynAckIsNotTheGreeting) {
  Handshake();
  Greet();
  ClientSends("PORT 1,2,3,4,5,6\r\n");               // A's last command
  const uint32_t a_s = s_next_, a_c = c_next_;      // A's sequence space
  ServerSends("500 Illegal PORT command.\r\n");     // seen once at the gateway
  Run(TcpSpec{client, server, a_c, a_s + 27, kTcpRst | kTcpAck, "", {}, false});
  // B: same 4-tuple, new ISNs.
  const uint32_t b_c = 900000, b_s = 7000000;
  Run(TcpSpec{client, server, b_c, 0, kTcpSyn, "", {}, false});  // "tuple reused"
  // A's 500, retransmitted by the server (it never saw the RST): old seq/ack.
  Run(TcpSpec{server, client, a_s, a_c, kTcpAck | kTcpPsh, "500 Illegal PORT command.\r\n", {}, false});
  Run(TcpSpec{server, client, b_s, b_c + 1, kTcpSyn | kTcpAck, "", {}, false});
  Run(TcpSpec{client, server, b_c + 1, b_s + 1, kTcpAck, "", {}, false});
  Run(TcpSpec{server, client, b_s + 1, b_c + 1, kTcpAck | kTcpPsh, "220 ready\r\n", {}, false});
  Run(TcpSpec{client, server, b_c + 1, b_s + 12, kTcpAck | kTcpPsh, "USER anonymous\r\n", {}, false});
  Run(TcpSpec{server, client, b_s + 12, b_c + 17, kTcpAck | kTcpPsh, "230 ok\r\n", {}, false});
  Result r = Run(TcpSpec{client, server, b_c + 17, b_s + 20, kTcpAck | kTcpPsh,
                         "PORT 10,7,0,2,156,200\r\n", {}, false});
  EXPECT_FALSE(log.Contains("no 220 greeting")) << "a segment of the old connection was read as B's greeting";
  EXPECT_TRUE(r.decision.modified) << "B's PORT must be rewritten";
  EXPECT_EQ(sink.installed.size(), 1u);  // B only (A's PORT is a bounce)
}

// Smallest form: SYN, then any s->c segment that does not ack the SYN
// (ack != ISN+1, no SYN flag), then the real SYN-ACK and dialogue.
TEST_F(ImpairedTest, NonSynAckReplyBeforeSynAckDoesNotAnchorTheReplyStream) {
  Run(TcpSpec{client, server, c_isn_, 0, kTcpSyn, "", {}, false});
  Run(TcpSpec{server, client, 123456, 777, kTcpAck | kTcpPsh, "500 Illegal PORT command.\r\n", {}, false});
  Run(TcpSpec{server, client, s_isn_, c_isn_ + 1, kTcpSyn | kTcpAck, "", {}, false});
  c_next_ = c_out_next_ = c_isn_ + 1;
  s_next_ = s_out_next_ = s_isn_ + 1;
  Run(TcpSpec{client, server, c_next_, s_next_, kTcpAck, "", {}, false});
  Greet();
  Result r = ClientSends("PORT 10,7,0,2,156,200\r\n");
  EXPECT_FALSE(log.Contains("no 220 greeting"));
  EXPECT_TRUE(r.decision.modified);
  EXPECT_EQ(sink.installed.size(), 1u);
}

// The SYN-ACK lost before a capture point: the client's handshake ACK names
// the server's ISN, and the greeting is read from there.
TEST_F(ImpairedTest, HandshakeHalfSeenAnchorsTheServerAtTheClientsAck) {
  Run(TcpSpec{client, server, c_isn_, 0, kTcpSyn, "", {}, false});
  c_next_ = c_out_next_ = c_isn_ + 1;
  s_next_ = s_out_next_ = s_isn_ + 1;
  Run(TcpSpec{client, server, c_next_, s_next_, kTcpAck, "", {}, false});
  Greet();
  EXPECT_TRUE(ClientSends("PORT 10,7,0,2,4,1\r\n").decision.modified);
  EXPECT_EQ(stats.refused_gap, 0u);
}

}  // namespace
}  // namespace ftpalg::testing
