// SPDX-License-Identifier: GPL-2.0-or-later
// One test per edge case and attack of anchors.md section 3, named by its
// number. Each asserts the policy the engine implements (README, security
// section). Cases only a live kernel can prove in full (24, 25, 26, 37, 38,
// 39, 40) assert the engine-level part here and name the e2e case
// (tests/e2e/run_all.sh) that covers the rest.
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "adapters/nfqueue_messages.h"
#include "ftpalg/engine.h"
#include "ftpalg/seq_ledger.h"
#include "tests/support/engine_fixture.h"

namespace ftpalg::testing {
namespace {

constexpr uint8_t kData = kTcpAck | kTcpPsh;

class AnchorCaseTest : public EngineTest {
 protected:
  // An inside server (192.168.20.2) and an outside client: passive replies
  // are rewritten to the public 203.0.113.1.
  void InsideServer() {
    client = Ep("198.51.100.7", 50000);
    server = Ep("192.168.20.2", 21);
  }
  // Expectations currently installed (installed minus removed, by target).
  size_t LiveExpectations() const {
    std::vector<std::string> live;
    for (const Expectation& e : sink.installed) {
      const std::string t = e.target.ToString();
      if (std::find(live.begin(), live.end(), t) == live.end()) live.push_back(t);
    }
    for (const Expectation& e : sink.removed) {
      auto it = std::find(live.begin(), live.end(), e.target.ToString());
      if (it != live.end()) live.erase(it);
    }
    return live.size();
  }
  // Top-level attribute types of one netlink message built by the NFQUEUE
  // adapter (after nlmsghdr + nfgenmsg).
  static std::vector<int> AttrTypes(const char* buf, size_t len) {
    std::vector<int> types;
    size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(4);  // nfgenmsg is 4 bytes
    while (off + NLA_HDRLEN <= len) {
      nlattr a;
      std::memcpy(&a, buf + off, sizeof a);
      if (a.nla_len < NLA_HDRLEN) break;
      types.push_back(a.nla_type & NLA_TYPE_MASK);
      off += NLA_ALIGN(a.nla_len);
    }
    return types;
  }
};

// 1: "PORT 10,7,0" + ",2,4,1\r\n": the first part is held (not dropped),
// the whole line is rewritten once, one expectation.
TEST_F(AnchorCaseTest, Case01_PortSplitAcrossSegments) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  Result a = ClientSends("PORT 10,7,0");
  EXPECT_FALSE(a.dropped());
  EXPECT_EQ(a.payload(), "");
  Result b = ClientSends(",2,4,1\r\n");
  EXPECT_FALSE(b.dropped());
  EXPECT_EQ(b.seq(), start);
  EXPECT_EQ(b.payload(), "PORT 203,0,113,1,4,1\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(stats.rewrites, 1u);
}

// 2: one byte per segment: every byte is buffered, none dropped; one rewrite.
TEST_F(AnchorCaseTest, Case02_ByteAtATimeClient) {
  Handshake();
  Greet();
  for (char c : std::string("PORT 10,7,0,2,4,1\r\nLIST\r\n")) {
    EXPECT_FALSE(ClientSends(std::string(1, c)).dropped());
  }
  EXPECT_EQ(ClientOutput(), "USER anonymous\r\nPORT 203,0,113,1,4,1\r\nLIST\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(stats.dropped_packets, 0u);
}

// 3: the PORT is the second line of its segment: rewritten.
TEST_F(AnchorCaseTest, Case03_TwoLinesInOneSegment) {
  Handshake();
  Greet();
  Result r = ClientSends("TYPE I\r\nPORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(r.payload(), "TYPE I\r\nPORT 203,0,113,1,4,1\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
}

// 4: PORT and LIST in one segment: LIST reaches the server, and later bytes
// keep their place (+3 offset).
TEST_F(AnchorCaseTest, Case04_PipelinedPortAndList) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  Result r = ClientSends("PORT 10,7,0,2,4,1\r\nLIST\r\n");
  EXPECT_EQ(r.payload(), "PORT 203,0,113,1,4,1\r\nLIST\r\n");
  Result q = ClientSends("QUIT\r\n");
  EXPECT_EQ(q.seq(), start + 25 + 3);
}

// 5: LF-only, double space, tab and trailing space are parsed tolerantly:
// each is rewritten with its own whitespace kept, none dropped.
TEST_F(AnchorCaseTest, Case05_LfOnlyTrailingSpaceDoubleSpaceTab) {
  Handshake();
  Greet();
  const std::pair<const char*, const char*> forms[] = {
      {"PORT 10,7,0,2,4,1\n", "PORT 203,0,113,1,4,1\n"},
      {"PORT  10,7,0,2,4,2\r\n", "PORT  203,0,113,1,4,2\r\n"},
      {"PORT\t10,7,0,2,4,3\r\n", "PORT\t203,0,113,1,4,3\r\n"},
      {"PORT 10,7,0,2,4,4 \r\n", "PORT 203,0,113,1,4,4 \r\n"},
  };
  for (const auto& [in, want] : forms) {
    Result r = ClientSends(in);
    EXPECT_FALSE(r.dropped()) << in;
    EXPECT_EQ(r.payload(), want);
    ServerSends("200 ok\r\n");
  }
  ASSERT_EQ(sink.installed.size(), 4u);
  EXPECT_EQ(sink.installed[3].nat_to.ToString(), "10.7.0.2:1028");
}

// 6: lower-case verbs are commands too.
TEST_F(AnchorCaseTest, Case06_LowerCaseCommands) {
  Handshake();
  Greet();
  EXPECT_EQ(ClientSends("port 10,7,0,2,4,1\r\n").payload(), "port 203,0,113,1,4,1\r\n");
  ServerSends("200 ok\r\n");
  EXPECT_EQ(ClientSends("eprt |1|10.7.0.2|5000|\r\n").payload(),
            "eprt |1|203.0.113.1|5000|\r\n");
  EXPECT_EQ(sink.installed.size(), 2u);
}

// 7: every 227 form in the wild: address rewritten, surrounding text kept.
TEST_F(AnchorCaseTest, Case07_Variants227) {
  InsideServer();
  Handshake();
  Greet();
  const std::pair<const char*, const char*> forms[] = {
      {"227 Entering Passive Mode (192,168,20,2,117,74)\r\n",
       "227 Entering Passive Mode (203,0,113,1,117,74)\r\n"},
      {"227 Entering Passive Mode (192,168,20,2,117,74).\r\n",
       "227 Entering Passive Mode (203,0,113,1,117,74).\r\n"},
      {"227 =192,168,20,2,117,74\r\n", "227 =203,0,113,1,117,74\r\n"},
      {"227 192,168,20,2,117,74\r\n", "227 203,0,113,1,117,74\r\n"},
      {"227 Entering Passive Mode. 192,168,20,2,117,74\r\n",
       "227 Entering Passive Mode. 203,0,113,1,117,74\r\n"},
  };
  for (const auto& [in, want] : forms) {
    ClientSends("PASV\r\n");
    EXPECT_EQ(ServerSends(in).payload(), want);
  }
  // Spaces inside the parentheses: the number span is replaced, the text
  // around it kept.
  ClientSends("PASV\r\n");
  EXPECT_EQ(ServerSends("227 ( 192, 168, 20, 2, 117, 74)\r\n").payload(),
            "227 ( 203,0,113,1,117,74)\r\n");
  EXPECT_EQ(stats.rewrites, 6u);
}

// 8: "227 Logout." passes unmodified, opens nothing, and the session goes on
// (the next PASV is rewritten: no loop, no stall).
TEST_F(AnchorCaseTest, Case08_Reply227WithNoNumbers) {
  InsideServer();
  Handshake();
  Greet();
  ClientSends("PASV\r\n");
  Result r = ServerSends("227 Logout.\r\n");
  EXPECT_FALSE(r.decision.modified);
  EXPECT_EQ(r.payload(), "227 Logout.\r\n");
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_parse, 1u);
  ClientSends("PASV\r\n");
  EXPECT_EQ(ServerSends("227 (192,168,20,2,4,1)\r\n").payload(), "227 (203,0,113,1,4,1)\r\n");
}

// 9: multi-line 227: the final line is rewritten, the first kept.
TEST_F(AnchorCaseTest, Case09_MultiLine227) {
  InsideServer();
  Handshake();
  Greet();
  ClientSends("PASV\r\n");
  Result r = ServerSends("227-listen socket created\r\n227 (192,168,20,2,154,21)\r\n");
  EXPECT_EQ(r.payload(), "227-listen socket created\r\n227 (203,0,113,1,154,21)\r\n");
  ASSERT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(sink.installed[0].target.port, 154 * 256 + 21);
}

// 10: 229 forms (with and without parentheses, '!' delimiter, trailing
// '.') give an expectation (port kept, no rewrite); port 0 and 70000 are
// refused.
TEST_F(AnchorCaseTest, Case10_Variants229) {
  InsideServer();
  Handshake();
  Greet();
  const char* good[] = {"229 Entering Extended Passive Mode (|||6446|)\r\n",
                        "229 Entering Extended Passive Mode (|||6447|).\r\n",
                        "229 Entering Extended Passive Mode (!!!6448!)\r\n"};
  for (const char* line : good) {
    ClientSends("EPSV\r\n");
    Result r = ServerSends(line);
    EXPECT_FALSE(r.decision.modified) << line;
  }
  ASSERT_EQ(sink.installed.size(), 3u);
  EXPECT_EQ(sink.installed[2].target.ToString(), "203.0.113.1:6448");
  EXPECT_EQ(sink.installed[2].nat_to.ToString(), "192.168.20.2:6448");
  // No parentheses: accepted like the others.
  ClientSends("EPSV\r\n");
  EXPECT_EQ(ServerSends("229 Extended Passive |||6449|\r\n").payload(),
            "229 Extended Passive |||6449|\r\n");
  ASSERT_EQ(sink.installed.size(), 4u);
  EXPECT_EQ(sink.installed[3].target.port, 6449);
  for (const char* bad : {"229 Entering Extended Passive Mode (|||0|)\r\n",
                          "229 Entering Extended Passive Mode (|||70000|)\r\n"}) {
    ClientSends("EPSV\r\n");
    Result r = ServerSends(bad);
    EXPECT_FALSE(r.decision.modified) << bad;
  }
  EXPECT_EQ(sink.installed.size(), 4u);
  EXPECT_EQ(stats.refused_parse, 2u);
}

// 11: PASV answered by 229 and EPSV answered by 227 both work; a passive
// reply still needs a passive command outstanding.
TEST_F(AnchorCaseTest, Case11_CrossReplies) {
  InsideServer();
  Handshake();
  Greet();
  ClientSends("PASV\r\n");
  ServerSends("229 Entering Extended Passive Mode (|||30001|)\r\n");
  ClientSends("EPSV\r\n");
  EXPECT_EQ(ServerSends("227 (192,168,20,2,117,74)\r\n").payload(),
            "227 (203,0,113,1,117,74)\r\n");
  EXPECT_EQ(sink.installed.size(), 2u);
  ClientSends("NOOP\r\n");
  EXPECT_EQ(ServerSends("229 (|||30002|)\r\n").payload(), "229 (|||30002|)\r\n");
  EXPECT_EQ(sink.installed.size(), 2u);
  EXPECT_EQ(stats.refused_unsolicited, 1u);
}

// 12: a port byte or octet over 255 is refused, never wrapped mod 256.
TEST_F(AnchorCaseTest, Case12_NumericOverflow) {
  Handshake();
  Greet();
  for (const char* line : {"PORT 10,7,0,2,256,22\r\n", "PORT 10,7,0,258,4,1\r\n",
                           "PORT 10,7,0,2,4,1000\r\n", "PORT 266,7,0,2,4,1\r\n"}) {
    Result r = ClientSends(line);
    EXPECT_FALSE(r.decision.modified) << line;
    EXPECT_EQ(r.payload(), line);
    ServerSends("500 no\r\n");
  }
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_parse, 4u);
}

// 13: EPRT |2| on an IPv4 connection: passed unchanged (refused), not
// dropped, no hole.
TEST_F(AnchorCaseTest, Case13_EprtFamilyMismatch) {
  Handshake();
  Greet();
  Result r = ClientSends("EPRT |2|::1|5282|\r\n");
  EXPECT_EQ(r.decision.verdict, Verdict::kAccept);
  EXPECT_EQ(r.payload(), "EPRT |2|::1|5282|\r\n");
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_family, 1u);
}

// 14: EPRT IPv6 forms (compressed, full, custom delimiter) are rewritten to
// the public v6 address within the MTU; ::ffff:v4 is not the sender's
// address and is refused as a bounce.
TEST_F(AnchorCaseTest, Case14_EprtIpv6Forms) {
  client = Ep("fd00:10::2", 40000);
  server = Ep("2001:db8:1::2", 21);
  Handshake();
  Greet();
  const std::pair<const char*, const char*> forms[] = {
      {"EPRT |2|fd00:10::2|5282|\r\n", "EPRT |2|2001:db8:1::1|5282|\r\n"},
      {"EPRT |2|fd00:0010:0000:0000:0000:0000:0000:0002|5283|\r\n",
       "EPRT |2|2001:db8:1::1|5283|\r\n"},
      {"EPRT !2!fd00:10::2!5284!\r\n", "EPRT !2!2001:db8:1::1!5284!\r\n"},
  };
  for (const auto& [in, want] : forms) {
    Result r = ClientSends(in);
    EXPECT_EQ(r.payload(), want);
    EXPECT_LE(r.packet.size(), cfg.max_packet_len);
    ServerSends("200 ok\r\n");
  }
  Result mapped = ClientSends("EPRT |2|::ffff:10.7.0.2|5285|\r\n");
  EXPECT_EQ(mapped.payload(), "EPRT |2|::ffff:10.7.0.2|5285|\r\n");
  EXPECT_EQ(sink.installed.size(), 3u);
  EXPECT_EQ(stats.refused_bounce, 1u);
}

// 15: LPRT and 228 (LPSV) are rewritten like PORT and 227.
TEST_F(AnchorCaseTest, Case15_LprtLpsv) {
  Handshake();
  Greet();
  EXPECT_EQ(ClientSends("LPRT 4,4,10,7,0,2,2,4,1\r\n").payload(),
            "LPRT 4,4,203,0,113,1,2,4,1\r\n");
  ASSERT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(sink.installed[0].kind, AnnounceKind::kLprt);
  sink = FakeSink{};
  stats = Stats{};
  InsideServer();
  c_isn_ = 7000;
  Rebuild();
  Handshake();
  Greet();
  ClientSends("LPSV\r\n");
  EXPECT_EQ(ServerSends("228 Entering Long Passive Mode (4,4,192,168,20,2,2,4,1)\r\n").payload(),
            "228 Entering Long Passive Mode (4,4,203,0,113,1,2,4,1)\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
}

// 16: a 2000-byte file name, NUL bytes and "\r\0\n" never create a hole and
// never end the session (the next PORT is still rewritten).
TEST_F(AnchorCaseTest, Case16_LongAndOddLines) {
  Handshake();
  Greet();
  const std::string stor = "STOR " + std::string(2000, 'n') + "\r\n";
  EXPECT_EQ(ClientSends(stor).payload(), stor);
  ServerSends("150 ok\r\n226 done\r\n");
  const std::string nul("PORT 10,7,0,2,4,1\0\r\n", 20);
  Result n = ClientSends(nul);
  EXPECT_FALSE(n.dropped());
  EXPECT_TRUE(sink.installed.empty());
  ServerSends("500 no\r\n");
  const char kCrNul[] = "STOR a\r\0\nPORT 10,7,0,9,4,1\r\n";
  const std::string crnul(kCrNul, sizeof kCrNul - 1);
  EXPECT_EQ(ClientSends(crnul).payload(), crnul);
  ServerSends("550 no\r\n");
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(ClientSends("PORT 10,7,0,2,4,2\r\n").payload(), "PORT 203,0,113,1,4,2\r\n");
  EXPECT_EQ(engine->session_count(), 1u);
}

// 17: an exact retransmission of a rewritten segment comes out byte-identical
// at the same seq; the offset is not applied twice; no second expectation.
TEST_F(AnchorCaseTest, Case17_ExactRetransmission) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  Result first = ClientSends("PORT 10,7,0,2,4,1\r\n");
  Result again = ClientSendsAt(start, "PORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(again.packet, first.packet);
  EXPECT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(stats.rewrites, 1u);
  EXPECT_EQ(ClientSends("LIST\r\n").seq(), start + 22);
}

// 18: retransmissions re-cut differently (previous command + PORT, PORT +
// next command, starting mid-line) give the same output stream.
TEST_F(AnchorCaseTest, Case18_RepacketisedRetransmission) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("TYPE I\r\n");
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  ClientSends("LIST\r\n");
  const std::string want = "USER anonymous\r\nTYPE I\r\nPORT 203,0,113,1,4,1\r\nLIST\r\n";
  EXPECT_EQ(ClientOutput(), want);
  EXPECT_EQ(ClientSendsAt(start, "TYPE I\r\nPORT 10,7,0,2,4,1\r\n").payload(),
            "TYPE I\r\nPORT 203,0,113,1,4,1\r\n");
  Result tail = ClientSendsAt(start + 8, "PORT 10,7,0,2,4,1\r\nLIST\r\n");
  EXPECT_EQ(tail.payload(), "PORT 203,0,113,1,4,1\r\nLIST\r\n");
  EXPECT_EQ(tail.seq(), start + 8);
  // Mid-line start before the span: the plain bytes and the replacement.
  Result mid = ClientSendsAt(start + 10, "RT 10,7,0,2,4,1\r\nLI");
  EXPECT_EQ(mid.payload(), "RT 203,0,113,1,4,1\r\nLI");
  EXPECT_EQ(mid.seq(), start + 10);
  EXPECT_EQ(ClientOutput(), want);  // the collector checks every byte agrees
  EXPECT_EQ(sink.installed.size(), 1u);
}

// 19: PORT A, PORT B, then a retransmission of bytes before A: offset 0; of
// bytes between A and B: A's delta only.
TEST_F(AnchorCaseTest, Case19_TwoRewritesThenOldRetransmission) {
  Handshake();
  Greet();
  const uint32_t before_a = c_next_;
  ClientSends("NOOP\r\n");
  ClientSends("PORT 10,7,0,2,4,1\r\n");  // +3
  const uint32_t between = c_next_;
  ClientSends("NOOP\r\n");
  ClientSends("PORT 10,7,0,2,4,2\r\n");  // +3
  Result old = ClientSendsAt(before_a, "NOOP\r\n");
  EXPECT_EQ(old.seq(), before_a);
  Result mid = ClientSendsAt(between, "NOOP\r\n");
  EXPECT_EQ(mid.seq(), between + 3);
  const uint32_t list_at = c_next_;
  EXPECT_EQ(ClientSends("LIST\r\n").seq(), list_at + 6);
}

// 20: reordering. One segment overtaken by the next is kept back (one hold
// slot, within the hold timeout) until the hole fills; output positions
// follow input sequence, so the PORT is rewritten and LIST follows it.
TEST_F(AnchorCaseTest, Case20_Reordering) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  Result later = ClientSendsAt(start + 19, "LIST\r\n");
  EXPECT_EQ(later.payload(), "");  // kept back, the packet goes on as an ACK
  Result fill = ClientSendsAt(start, "PORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(fill.seq(), start);
  EXPECT_EQ(fill.payload(), "PORT 203,0,113,1,4,1\r\nLIST\r\n");
  c_next_ = start + 25;
  EXPECT_EQ(ClientOutput(), "USER anonymous\r\nPORT 203,0,113,1,4,1\r\nLIST\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
}

// 20: a hole that cannot wait (no hold slot). Later bytes go out at the
// current offset unparsed, the bytes filling the hole pass unchanged (an
// AUTH, PASV or reply may be in the hole: nothing is opened on a guess);
// once the receiver has acknowledged the whole stream, parsing of that
// direction resumes at the next line. The stream stays consistent.
TEST_F(AnchorCaseTest, Case20_UnrecoverableHoleResumesWhenWhole) {
  cfg.hold_slots = 0;
  Rebuild();
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  Result later = ClientSendsAt(start + 19, "LIST\r\n");
  EXPECT_EQ(later.seq(), start + 19);
  EXPECT_EQ(later.payload(), "LIST\r\n");
  Result fill = ClientSendsAt(start, "PORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(fill.payload(), "PORT 10,7,0,2,4,1\r\n");
  c_next_ = start + 25;
  EXPECT_FALSE(ClientSends("PORT 10,7,0,2,4,2\r\n").decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  ServerSends("200 ok\r\n");  // acknowledges everything: whole again
  EXPECT_EQ(stats.gap_resumed, 1u);
  EXPECT_TRUE(ClientSends("PORT 10,7,0,2,4,3\r\n").decision.modified);
  ClientSends("NOOP\r\n");
  EXPECT_EQ(ClientOutput(),
            "USER anonymous\r\nPORT 10,7,0,2,4,1\r\nLIST\r\nPORT 10,7,0,2,4,2\r\n"
            "PORT 203,0,113,1,4,3\r\nNOOP\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(stats.refused_gap, 1u);
  EXPECT_TRUE(log.Contains("the bytes after it pass unparsed"));
  EXPECT_TRUE(log.Contains("parsing resumes at the next line"));
}

// 20 (regression, found by engine_resegment_fuzz): holes in the server
// stream can hide a 234 (AUTH accepted) or a 227; holes in the client stream
// can hide an AUTH or a PASV. After any of them no passive reply and no
// command is acted on.
TEST_F(AnchorCaseTest, Case20_HolesNeverLeadToGuessedPairing) {
  cfg.hold_slots = 0;
  Rebuild();
  InsideServer();
  Handshake();
  Greet();
  ClientSends("AUTH TLS\r\n");
  const uint32_t s0 = s_next_;
  Run(TcpSpec{server, client, s0 + 3, c_out_next_, kData, "go\r\n", {}, false});
  s_next_ = s0 + 7;
  ClientSends("PASV\r\n");
  EXPECT_FALSE(ServerSends("227 (192,168,20,2,4,9)\r\n").decision.modified);

  client = Ep("198.51.100.7", 50001);
  Handshake();
  Greet();
  const uint32_t c0 = c_next_;
  ClientSendsAt(c0 + 6, "PASV\r\n");  // beyond a hole: the NOOP is unseen
  ClientSendsAt(c0, "NOOP\r\n");
  c_next_ = c0 + 12;
  ServerSends("200 ok\r\n");
  EXPECT_FALSE(ServerSends("227 (192,168,20,2,4,10)\r\n").decision.modified);
  ClientSends("PASV\r\n");
  EXPECT_FALSE(ServerSends("227 (192,168,20,2,4,11)\r\n").decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_gap, 2u);
}

// 21: SACK and D-SACK blocks are mapped into the sender's space (live) and
// forward into the rewritten space (offline captures).
TEST_F(AnchorCaseTest, Case21_SackAndDsack) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("PORT 10,7,0,2,4,1\r\n");  // +3
  const uint32_t after = c_next_;
  ClientSends("NOOP\r\n");
  ClientSends("LIST\r\n");
  // Server lost NOOP's ack... SACKs LIST, and D-SACKs NOOP (got it twice).
  TcpSpec s{server, client, s_next_, start, kTcpAck, "",
            {{after + 3, after + 9}, {after + 9, after + 15}}, false};
  Result r = Run(s);
  const auto sack = SackOf(r.packet);
  ASSERT_EQ(sack.size(), 2u);
  EXPECT_EQ(sack[0], std::make_pair(after, after + 6));
  EXPECT_EQ(sack[1], std::make_pair(after + 6, after + 12));
  EXPECT_TRUE(ChecksumsValid(r.packet.data(), View(r.packet)));

  cfg.offline_capture = true;
  client = Ep("10.7.0.2", 40001);
  Rebuild();
  Handshake();
  Greet();
  const uint32_t s2 = c_next_;
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  ClientSends("NOOP\r\n");
  Result o = Run(TcpSpec{server, client, s_next_, s2, kTcpAck, "",
                         {{s2 + 19, s2 + 25}}, false});
  ASSERT_EQ(SackOf(o.packet).size(), 1u);
  EXPECT_EQ(SackOf(o.packet)[0], std::make_pair(s2 + 22, s2 + 28));
}

// 22: ISN near 2^32-50, a PORT whose span crosses the wrap: serial-number
// arithmetic keeps seq, ack and SACK right.
TEST_F(AnchorCaseTest, Case22_SequenceWrap) {
  c_isn_ = 0xffffffffu - 50;
  Handshake();
  Greet();
  ClientSends("TYPE I\r\n");
  ClientSends("MODE S\r\n");
  ClientSends("STRU F\r\n");
  const uint32_t port_at = c_next_;
  ASSERT_GT(port_at, 0xffff0000u);  // the span crosses 2^32
  EXPECT_EQ(ClientSends("PORT 10,7,0,2,4,1\r\n").payload(), "PORT 203,0,113,1,4,1\r\n");
  const uint32_t after = c_next_;
  ASSERT_LT(after, 100u);
  Result list = ClientSends("LIST\r\n");
  EXPECT_EQ(list.seq(), after + 3);
  Result ack = ServerSends("150 go\r\n");
  EXPECT_EQ(ack.ack(), c_next_);
  Result sack = Run(TcpSpec{server, client, s_next_, port_at, kTcpAck, "",
                            {{after + 3, after + 9}}, false});
  EXPECT_EQ(SackOf(sack.packet)[0], std::make_pair(after, after + 6));
  EXPECT_EQ(ClientOutput(),
            "USER anonymous\r\nTYPE I\r\nMODE S\r\nSTRU F\r\nPORT 203,0,113,1,4,1\r\nLIST\r\n");
}

// 23: a full-size segment starting with a 227 grows past max_packet_len:
// counted (oversize_after_rewrite), logged, forwarded (not dropped, not
// black-holed); checksums valid.
TEST_F(AnchorCaseTest, Case23_GrowthPastMtu) {
  cfg.public_v4 = IpAddress::Parse("203.113.113.113");
  Rebuild();
  client = Ep("198.51.100.7", 50000);
  server = Ep("10.0.0.2", 21);
  Handshake();
  Greet();
  ClientSends("PASV\r\nNOOP\r\n");
  std::string payload = "227 Entering Passive Mode (10,0,0,2,4,1)\r\n";
  const std::string filler = "200 " + std::string(90, 'k') + "\r\n";
  while (payload.size() + filler.size() <= 1460) payload += filler;
  payload += "200 " + std::string(1460 - payload.size() - 6, 'k') + "\r\n";
  ASSERT_EQ(payload.size(), 1460u);
  Result r = ServerSends(payload);
  EXPECT_EQ(r.decision.verdict, Verdict::kAccept);
  EXPECT_TRUE(r.decision.modified);
  EXPECT_EQ(r.packet.size(), 1500u + 7u);
  EXPECT_EQ(r.payload().substr(0, 47), "227 Entering Passive Mode (203,113,113,113,4,1)");
  EXPECT_EQ(stats.oversize_after_rewrite, 1u);
  EXPECT_TRUE(log.Contains("over max_packet_len 1500"));
  EXPECT_TRUE(ChecksumsValid(r.packet.data(), View(r.packet)));
}

// 24 (engine part; e2e curl-port-grow / curl-pasv-grow check conntrack
// INVALID counters with be_liberal=0): after a growing rewrite the peer's
// acks map back exactly to what the sender sent, never beyond, and the
// sender's later seqs are shifted, so each side sees a consistent window.
TEST_F(AnchorCaseTest, Case24_KernelWindowTracking) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("PORT 10,7,0,2,4,1\r\n");  // 19 in, 22 out
  for (uint32_t got = 0; got <= 22; ++got) {
    TcpSpec s{server, client, s_next_, start + got, kTcpAck, "", {}, false};
    const uint32_t a = Run(s).ack();
    EXPECT_TRUE(SeqLe(a, start + 19)) << got;  // never acks unsent bytes
    EXPECT_TRUE(SeqLe(start, a)) << got;
  }
  EXPECT_EQ(ServerSends("200 ok\r\n").ack(), start + 19);
  EXPECT_EQ(ClientSends("LIST\r\n").seq(), start + 22);
}

// 25 (engine part; e2e case_end checks captures on both sides): the engine
// adjusts seq/ack itself, so the verdict must never carry NFQA_CT (that
// would make the kernel apply its own seqadj a second time).
TEST_F(AnchorCaseTest, Case25_DoubleAdjustment) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  Result later = ClientSends("LIST\r\n");
  EXPECT_EQ(later.seq(), start + 22);  // adjusted once, by the engine
  char buf[4096];
  const size_t len = nfq::BuildVerdictMessage(buf, sizeof buf, 0, 1, NF_ACCEPT,
                                         later.packet.data(), later.packet.size());
  ASSERT_GT(len, 0u);
  const std::vector<int> types = AttrTypes(buf, len);
  EXPECT_EQ(types, (std::vector<int>{NFQA_VERDICT_HDR, NFQA_PAYLOAD}));
}

// 26: not applicable by design: ftpalg never uses the kernel's seqadj
// extension (no helper, no NFQA_CT), so a missing extension cannot lose
// offsets. Engine part: with no conntrack help at all, seq and ack of both
// directions are corrected by the engine. e2e: every case checks "no kernel
// helper" in ftpalgd mode (case_end).
TEST_F(AnchorCaseTest, Case26_MissingSeqadjNotNeeded) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  Result reply = ServerSends("200 ok\r\n");
  EXPECT_EQ(reply.ack(), start + 19);
  Result list = ClientSends("LIST\r\n");
  EXPECT_EQ(list.seq(), start + 22);
  char buf[4096];
  const size_t len = nfq::BuildVerdictMessage(buf, sizeof buf, 0, 2, NF_ACCEPT,
                                         list.packet.data(), list.packet.size());
  for (int t : AttrTypes(buf, len)) EXPECT_NE(t, NFQA_CT);
}

// 27: picked up mid-stream (daemon restart): the stream is read as if it
// began at the first byte seen; only a server whose first bytes are the 220
// greeting, with no client bytes before it, counts as FTP. A restart in the
// middle of a session therefore leaves it untouched; a capture that missed
// just the handshake is handled normally.
TEST_F(AnchorCaseTest, Case27_MidStreamPickup) {
  c_next_ = 7000;
  s_next_ = 9000;
  c_out_next_ = c_next_;
  s_out_next_ = s_next_;
  EXPECT_FALSE(ClientSends("0,2,4,1\r\nPORT 10,7,0,2,4,2\r\n").decision.modified);
  EXPECT_EQ(stats.sessions_picked_up, 1u);
  ServerSends("200 ok\r\n");
  EXPECT_FALSE(ClientSends("PORT 10,7,0,2,4,3\r\n").decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_GE(stats.refused_not_ftp, 1u);

  client = Ep("10.7.0.2", 40001);
  c_next_ = 8000;
  s_next_ = 9500;
  c_out_next_ = c_next_;
  s_out_next_ = s_next_;
  ServerSends("220 ready\r\n");
  ClientSends("USER anonymous\r\n");
  ServerSends("331 ok\r\n");
  EXPECT_EQ(ClientSends("PORT 10,7,0,2,4,5\r\n").payload(), "PORT 203,0,113,1,4,5\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
}

// 28: bounce: a PORT naming a third party (port 25), and a 227 naming
// another host than the server: no expectation, no rewrite, logged.
TEST_F(AnchorCaseTest, Case28_Bounce) {
  Handshake();
  Greet();
  Result r = ClientSends("PORT 192,0,2,25,0,25\r\n");
  EXPECT_EQ(r.payload(), "PORT 192,0,2,25,0,25\r\n");
  EXPECT_TRUE(log.Contains("bounce"));
  InsideServer();
  Handshake();
  Greet();
  ClientSends("PASV\r\n");
  EXPECT_FALSE(ServerSends("227 (192,168,20,99,117,74)\r\n").decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_bounce, 2u);
}

// 29: low ports (PORT ...,0,22 and 227 ...,0,21) are refused by default;
// the floor is configurable (min_data_port).
TEST_F(AnchorCaseTest, Case29_LowPorts) {
  Handshake();
  Greet();
  EXPECT_FALSE(ClientSends("PORT 10,7,0,2,0,22\r\n").decision.modified);
  InsideServer();
  Handshake();
  Greet();
  ClientSends("PASV\r\n");
  EXPECT_FALSE(ServerSends("227 (192,168,20,2,0,21)\r\n").decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_low_port, 2u);

  cfg.min_data_port = 20;
  ASSERT_EQ(cfg.Validate(), "");
  Rebuild();
  client = Ep("10.7.0.2", 40002);
  server = Ep("203.0.113.2", 21);
  Handshake();
  Greet();
  EXPECT_EQ(ClientSends("PORT 10,7,0,2,0,22\r\n").payload(), "PORT 203,0,113,1,0,22\r\n");
}

// 30: 227 and 229 with no PASV/EPSV outstanding open nothing.
TEST_F(AnchorCaseTest, Case30_UnsolicitedPassiveReplies) {
  InsideServer();
  Handshake();
  Greet();
  EXPECT_FALSE(ServerSends("227 (192,168,20,2,117,74)\r\n").decision.modified);
  EXPECT_FALSE(ServerSends("229 (|||30001|)\r\n").decision.modified);
  ClientSends("NOOP\r\n");
  EXPECT_FALSE(ServerSends("227 (192,168,20,2,117,75)\r\n").decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_unsolicited, 3u);
}

// 31: 10,000 PORT commands in one session: every one rewritten, the
// per-session cap (8) evicts the oldest, at most 8 live; a lower global cap
// holds (refused beyond it); one session, fixed memory.
TEST_F(AnchorCaseTest, Case31_TenThousandPortCommands) {
  Handshake();
  Greet();
  for (int i = 0; i < 10000; ++i) {
    const int port = 2000 + i;
    ClientSends("PORT 10,7,0,2," + std::to_string(port / 256) + "," +
                std::to_string(port % 256) + "\r\n");
    ServerSends("200 ok\r\n");
  }
  EXPECT_EQ(stats.rewrites, 10000u);
  EXPECT_EQ(engine->session_count(), 1u);
  EXPECT_EQ(LiveExpectations(), cfg.max_expectations_per_session);
  EXPECT_EQ(stats.expectations_evicted, 10000u - cfg.max_expectations_per_session);
  EXPECT_EQ(sink.installed.back().target.port, 2000 + 9999);

  cfg.max_expectations = 4;  // global cap below the per-session one
  sink = FakeSink{};
  stats = Stats{};
  Rebuild();
  client = Ep("10.7.0.2", 40001);
  Handshake();
  Greet();
  for (int i = 0; i < 1000; ++i) {
    const int port = 5000 + i;  // all distinct (a repeat would refresh)
    ClientSends("PORT 10,7,0,2," + std::to_string(port / 256) + "," +
                std::to_string(port % 256) + "\r\n");
    ServerSends("200 ok\r\n");
    ASSERT_LE(LiveExpectations(), 4u);
  }
  EXPECT_EQ(stats.rewrites, 4u);
  EXPECT_EQ(stats.refused_limit, 996u);
  EXPECT_EQ(engine->session_count(), 1u);
}

// 32: NAT slipstreaming: an HTTP POST to port 21 (no 220 first), padded so
// a PORT naming the client itself starts a segment: the dialogue policy
// refuses it even though the address check alone would pass.
TEST_F(AnchorCaseTest, Case32_NatSlipstreaming) {
  Handshake();
  std::string post = "POST /upload HTTP/1.1\r\nHost: victim\r\nContent-Length: 4000\r\n\r\n";
  post += std::string(1400 - post.size() - 2, 'A') + "\r\n";
  ClientSends(post);
  Result r = ClientSends("PORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(r.payload(), "PORT 10,7,0,2,4,1\r\n");
  ServerSends("220 too late\r\n");
  EXPECT_FALSE(ClientSends("PORT 10,7,0,2,4,2\r\n").decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_not_ftp, 2u);
}

// 33: stream injection: a PORT inside another command's argument is not a
// command; one smuggled as its own line (CRLF in a path) is a command, and
// the address and port checks still apply.
TEST_F(AnchorCaseTest, Case33_StreamInjection) {
  Handshake();
  Greet();
  EXPECT_FALSE(ClientSends("RETR a PORT 10,7,0,2,4,1\r\n").decision.modified);
  ServerSends("550 no\r\n");
  Result smuggled = ClientSends("RETR a\r\nPORT 10,0,0,5,0,22\r\n");
  EXPECT_EQ(smuggled.payload(), "RETR a\r\nPORT 10,0,0,5,0,22\r\n");
  ServerSends("550 no\r\n500 no\r\n");
  EXPECT_FALSE(ClientSends("RETR b\r\nPORT 10,7,0,2,0,22\r\n").decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_bounce, 1u);
  EXPECT_EQ(stats.refused_low_port, 1u);
}

// 34: after AUTH TLS + 234 nothing is parsed (ciphertext starting "227 "
// ignored); AUTH refused (5xx) keeps parsing; CCC does not resume parsing
// (policy: once encrypted, never parsed again: fail-safe, no rewrites).
TEST_F(AnchorCaseTest, Case34_AuthTls) {
  InsideServer();
  Handshake();
  ServerSends("220 ready\r\n");
  ClientSends("AUTH TLS\r\n");
  ServerSends("502 not now\r\n");
  ClientSends("PASV\r\n");
  EXPECT_TRUE(ServerSends("227 (192,168,20,2,4,1)\r\n").decision.modified);
  ClientSends("AUTH TLS\r\n");
  ServerSends("234 go\r\n");
  ClientSends(std::string("\x17\x03\x03\x00\x20PASV\r\n", 11));
  const std::string cipher("227 (192,168,20,2,4,2)\r\n\x17\x03\x03", 27);
  EXPECT_EQ(ServerSends(cipher).payload(), cipher);
  ClientSends("CCC\r\n");
  ServerSends("200 cleared\r\n");
  ClientSends("PASV\r\n");
  EXPECT_EQ(ServerSends("227 (192,168,20,2,4,3)\r\n").payload(), "227 (192,168,20,2,4,3)\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(stats.tls_sessions, 1u);
}

// 35: no narrowing of lengths: a 64 KiB line (over the uint16 line counter)
// and a GSO-sized 64 KiB segment full of lines; the PORT after the long line
// and the PORT at the end of the big segment are rewritten; a rewrite that
// cannot fit in a maximal IP packet is refused, never overflows.
TEST_F(AnchorCaseTest, Case35_ParserMemorySafety) {
  Handshake();
  Greet();
  const std::string huge(40000, 'x');
  ClientSends("STOR " + huge);
  ClientSends(huge);  // 80 KiB line, no LF yet
  Result end = ClientSends("\r\nPORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(end.payload(), "\r\nPORT 203,0,113,1,4,1\r\n");
  ServerSends("200 ok\r\n");
  std::string gso;
  while (gso.size() < 65000) gso += "NOOP\r\n";
  gso += "PORT 10,7,0,2,4,2\r\n";
  Result big = ClientSends(gso);
  ASSERT_TRUE(big.decision.modified);
  EXPECT_EQ(big.payload().size(), gso.size() + 3);
  EXPECT_EQ(big.payload().substr(big.payload().size() - 22), "PORT 203,0,113,1,4,2\r\n");
  ServerSends("200 ok\r\n");
  // 65495 payload bytes (the IPv4 maximum) ending in a growing PORT.
  std::string full;
  while (full.size() + 6 + 19 <= 65495) full += "NOOP\r\n";
  full += std::string(65495 - 19 - full.size() - 2, ' ') + "\r\n";
  full += "PORT 10,7,0,2,4,3\r\n";
  ASSERT_EQ(full.size(), 65495u);
  Result max = ClientSends(full);
  EXPECT_FALSE(max.dropped());
  EXPECT_LE(max.packet.size(), 65535u);
  EXPECT_TRUE(log.Contains("does not fit"));
  EXPECT_EQ(engine->session_count(), 1u);
}

// 36: two inside clients announce the same port through one public address:
// the second gets another public port, consistently on retransmission.
TEST_F(AnchorCaseTest, Case36_PortCollision) {
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  client = Ep("10.7.0.3", 40001);
  c_isn_ = 3000;
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  Result r = ClientSends("PORT 10,7,0,3,4,1\r\n");
  EXPECT_EQ(r.payload(), "PORT 203,0,113,1,4,2\r\n");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ClientSendsAt(start, "PORT 10,7,0,3,4,1\r\n").payload(),
              "PORT 203,0,113,1,4,2\r\n");
  }
  ASSERT_EQ(sink.installed.size(), 2u);
  EXPECT_EQ(sink.installed[1].target.port, 1026);
  EXPECT_EQ(sink.installed[1].nat_to.ToString(), "10.7.0.3:1025");
  EXPECT_EQ(stats.port_remaps, 1u);
}

// 37 (engine part; e2e ftpalgd-sigkill-failopen kills the daemon): the
// queue is bound fail-open by default (NFQA_CFG_F_FAIL_OPEN), and the engine
// itself never drops a packet that carries an ACK or a non-control packet.
TEST_F(AnchorCaseTest, Case37_DaemonDownFailOpen) {
  nfq::QueueConfig qc;
  ASSERT_TRUE(qc.fail_open);
  char buf[512];
  const size_t len = nfq::BuildBindMessage(buf, sizeof buf, qc, 1);
  ASSERT_GT(len, 0u);
  bool has_flags = false;
  size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(4);
  while (off + NLA_HDRLEN <= len) {
    nlattr a;
    std::memcpy(&a, buf + off, sizeof a);
    if (a.nla_len < NLA_HDRLEN) break;
    if ((a.nla_type & NLA_TYPE_MASK) == NFQA_CFG_FLAGS) {
      uint32_t flags_be;
      std::memcpy(&flags_be, buf + off + NLA_HDRLEN, 4);
      EXPECT_TRUE(ntohl(flags_be) & NFQA_CFG_F_FAIL_OPEN);
      has_flags = true;
    }
    off += NLA_ALIGN(a.nla_len);
  }
  EXPECT_TRUE(has_flags);
  Handshake();
  Greet();
  EXPECT_FALSE(ClientSends("PORT 10,7,0").dropped());  // held, ACK still goes
  EXPECT_EQ(stats.dropped_packets, 0u);
}

// 38: not applicable to the engine (a user-namespace kernel refusing payload
// verdicts is a daemon start-up check). Engine part: its decision for a
// packet is deterministic, so re-issuing a refused verdict unmodified is
// always possible: processing the same rewritten segment again gives the
// same bytes and no new state.
TEST_F(AnchorCaseTest, Case38_UserNamespacesDeterministicVerdict) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  Result a = ClientSends("PORT 10,7,0,2,4,1\r\n");
  const Stats after_first = stats;
  Result b = ClientSendsAt(start, "PORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(a.packet, b.packet);
  EXPECT_EQ(stats.rewrites, after_first.rewrites);
  EXPECT_EQ(stats.expectations, after_first.expectations);
}

// 39: FTP on 2121 is handled once configured (control_ports), ignored
// otherwise. e2e: the rules install an explicit rule per configured port.
TEST_F(AnchorCaseTest, Case39_NonStandardControlPort) {
  server = Ep("203.0.113.2", 2121);
  Handshake();
  Greet();
  EXPECT_FALSE(ClientSends("PORT 10,7,0,2,4,1\r\n").decision.modified);
  EXPECT_EQ(engine->session_count(), 0u);
  cfg.control_ports = {21, 2121};
  Rebuild();
  client = Ep("10.7.0.2", 40001);
  Handshake();
  Greet();
  EXPECT_EQ(ClientSends("PORT 10,7,0,2,4,1\r\n").payload(), "PORT 203,0,113,1,4,1\r\n");
  ASSERT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(sink.installed[0].master.server.port, 2121);
}

// 40: active mode with source port 20: the engine's expectation names only
// the peer's address, any source port, so a server connecting from port 20
// (or any other) matches; SNAT of the source to 20 is not offered (README).
TEST_F(AnchorCaseTest, Case40_ActiveModeSourcePort20) {
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  ASSERT_EQ(sink.installed.size(), 1u);
  const Expectation& e = sink.installed[0];
  EXPECT_EQ(e.peer.ToString(), "203.0.113.2");  // an address, no port
  EXPECT_EQ(e.target.ToString(), "203.0.113.1:1025");
  EXPECT_EQ(e.announcer, Direction::kOriginal);
}

}  // namespace
}  // namespace ftpalg::testing
