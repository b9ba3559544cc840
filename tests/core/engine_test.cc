// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/engine.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/engine_fixture.h"

namespace ftpalg::testing {
namespace {

constexpr uint8_t kData = kTcpAck | kTcpPsh;

// A PORT from an inside client is rewritten to the public address, the
// stream grows by 3 and later seq/ack are shifted in both directions.
TEST_F(EngineTest, PortRewriteGrowsAndShiftsSeqAndAck) {
  Handshake();
  Greet();
  const uint32_t port_seq = c_next_;
  Result r = ClientSends("PORT 10,7,0,2,146,37\r\n");
  EXPECT_TRUE(r.decision.modified);
  EXPECT_EQ(r.payload(), "PORT 203,0,113,1,146,37\r\n");
  EXPECT_EQ(r.seq(), port_seq);
  ASSERT_EQ(sink.installed.size(), 1u);
  const Expectation& e = sink.installed[0];
  EXPECT_EQ(e.kind, AnnounceKind::kPort);
  EXPECT_EQ(e.peer.ToString(), "203.0.113.2");
  EXPECT_EQ(e.target.ToString(), "203.0.113.1:37413");
  EXPECT_EQ(e.nat_to.ToString(), "10.7.0.2:37413");
  EXPECT_TRUE(ChecksumsValid(r.packet.data(), View(r.packet)));
  // The server acks the grown stream; the client must see its own space.
  Result ack = ServerSends("200 ok\r\n");
  EXPECT_EQ(ack.ack(), c_next_);
  // Later client data is shifted by +3.
  Result list = ClientSends("LIST\r\n");
  EXPECT_EQ(list.seq(), port_seq + 25);
  EXPECT_EQ(ClientOutput(),
            "USER anonymous\r\nPORT 203,0,113,1,146,37\r\nLIST\r\n");
  EXPECT_TRUE(log.Contains("REWRITE c->s"));
}

// 192.168.10.2 -> 203.0.113.1 shrinks the line by one byte.
TEST_F(EngineTest, PortRewriteShrinks) {
  client = Ep("192.168.10.2", 40001);
  Handshake();
  Greet();
  Result r = ClientSends("PORT 192,168,10,2,200,1\r\n");
  EXPECT_EQ(r.payload(), "PORT 203,0,113,1,200,1\r\n");
  ServerSends("200 ok\r\n");
  Result list = ClientSends("LIST\r\n");
  EXPECT_EQ(ClientOutput(), "USER anonymous\r\nPORT 203,0,113,1,200,1\r\nLIST\r\n");
  EXPECT_EQ(list.seq() + 1, c_next_ - 6);  // one byte shorter so far
}

// Two rewrites accumulate; a retransmission of bytes before the first one
// gets offset 0 (the kernel's single correction point gets this wrong).
TEST_F(EngineTest, TwoRewritesThenOldRetransmissionHasNoOffset) {
  Handshake();
  const uint32_t greet_end = c_next_;
  Greet();
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  ClientSends("PORT 10,7,0,2,4,2\r\n");
  Result list = ClientSends("LIST\r\n");
  EXPECT_EQ(ClientOutput(),
            "USER anonymous\r\nPORT 203,0,113,1,4,1\r\nPORT 203,0,113,1,4,2\r\nLIST\r\n");
  (void)list;
  Result old = ClientSendsAt(greet_end, "USER anonymous\r\n");
  EXPECT_EQ(old.seq(), greet_end);
  EXPECT_EQ(old.payload(), "USER anonymous\r\n");
}

// PORT + LIST pipelined in one segment: the LIST survives (libalias loses it).
TEST_F(EngineTest, PipelinedPortAndListKeepsList) {
  Handshake();
  Greet();
  Result r = ClientSends("PORT 10,7,0,2,4,1\r\nLIST\r\n");
  EXPECT_EQ(r.payload(), "PORT 203,0,113,1,4,1\r\nLIST\r\n");
}

// The PORT is the second line of its segment (the kernel only looks at the
// first).
TEST_F(EngineTest, PortAsSecondLineOfSegment) {
  Handshake();
  Greet();
  Result r = ClientSends("TYPE I\r\nPORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(r.payload(), "TYPE I\r\nPORT 203,0,113,1,4,1\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
}

// Lower-case verb and LF-only line ending.
TEST_F(EngineTest, LowerCaseVerbAndBareLf) {
  Handshake();
  Greet();
  Result r = ClientSends("port 10,7,0,2,4,1\n");
  EXPECT_EQ(r.payload(), "port 203,0,113,1,4,1\n");
}

// PORT split across two segments: the first part is held back (the packet
// goes on as a bare ACK) and the whole rewritten line leaves with the second.
TEST_F(EngineTest, SplitPortIsHeldAndMerged) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  Result a = ClientSends("PORT 10,7,0");
  EXPECT_FALSE(a.dropped());
  EXPECT_EQ(a.payload(), "");
  Result b = ClientSends(",2,4,1\r\n");
  EXPECT_EQ(b.seq(), start);
  EXPECT_EQ(b.payload(), "PORT 203,0,113,1,4,1\r\n");
  EXPECT_EQ(stats.holds, 1u);
  EXPECT_EQ(stats.hold_merges, 1u);
  EXPECT_EQ(ClientOutput(), "USER anonymous\r\nPORT 203,0,113,1,4,1\r\n");
}

// A client that sends one byte per segment still gets its PORT rewritten.
TEST_F(EngineTest, OneBytePerSegment) {
  Handshake();
  Greet();
  const std::string line = "PORT 10,7,0,2,4,1\r\nNOOP\r\n";
  for (char c : line) ClientSends(std::string(1, c));
  EXPECT_EQ(ClientOutput(), "USER anonymous\r\nPORT 203,0,113,1,4,1\r\nNOOP\r\n");
  EXPECT_EQ(sink.installed.size(), 1u);
}

// A held line whose continuation never comes is released unchanged when the
// sender retransmits it after the hold timeout.
TEST_F(EngineTest, HoldTimeoutReleasesUnchanged) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("PORT 10,7,0");
  now_ms += 100;
  Result again = ClientSendsAt(start, "PORT 10,7,0");
  EXPECT_EQ(again.payload(), "");
  now_ms += cfg.hold_timeout_ms;
  Result late = ClientSendsAt(start, "PORT 10,7,0");
  EXPECT_EQ(late.payload(), "PORT 10,7,0");
  EXPECT_EQ(stats.hold_timeouts, 1u);
  Result rest = ClientSends(",2,4,1\r\n");
  EXPECT_EQ(rest.payload(), ",2,4,1\r\n");
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(ClientOutput(), "USER anonymous\r\nPORT 10,7,0,2,4,1\r\n");
}

// An exact retransmission of the rewritten segment comes out byte-identical
// at the same position; the offset is not added twice and no new expectation.
TEST_F(EngineTest, ExactRetransmissionIsIdentical) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  Result first = ClientSends("PORT 10,7,0,2,4,1\r\n");
  Result again = ClientSendsAt(start, "PORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(again.payload(), first.payload());
  EXPECT_EQ(again.seq(), first.seq());
  EXPECT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(stats.rewrites_reapplied, 1u);
  Result list = ClientSends("LIST\r\n");
  EXPECT_EQ(list.seq(), start + 22);
}

// A retransmission that coalesces the previous command with the PORT.
TEST_F(EngineTest, RepacketisedRetransmission) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("TYPE I\r\n");
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  Result merged = ClientSendsAt(start, "TYPE I\r\nPORT 10,7,0,2,4,1\r\nLI");
  EXPECT_EQ(merged.payload(), "TYPE I\r\nPORT 203,0,113,1,4,1\r\nLI");
  ClientSendsAt(start + 29, "ST\r\n");
  c_next_ = start + 33;
  EXPECT_EQ(ClientOutput(),
            "USER anonymous\r\nTYPE I\r\nPORT 203,0,113,1,4,1\r\nLIST\r\n");
}

// A retransmission that ends inside the rewritten span is cut before it.
TEST_F(EngineTest, RetransmissionEndingInsideSpanIsTrimmed) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  Result part = ClientSendsAt(start, "PORT 10,7");
  EXPECT_EQ(part.payload(), "PORT ");
  EXPECT_EQ(stats.partial_span_trims, 1u);
}

// The sequence ledger works across the 2^32 wrap.
TEST_F(EngineTest, RewriteAcrossSequenceWrap) {
  c_isn_ = 0xffffffff - 30;
  Handshake();
  Greet();  // USER line crosses the wrap
  Result r = ClientSends("PORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(r.payload(), "PORT 203,0,113,1,4,1\r\n");
  ServerSends("200 ok\r\n");
  ClientSends("LIST\r\n");
  EXPECT_EQ(ClientOutput(), "USER anonymous\r\nPORT 203,0,113,1,4,1\r\nLIST\r\n");
  Result ack = ServerSends("150 go\r\n");
  EXPECT_EQ(ack.ack(), c_next_);
}

// SACK and D-SACK blocks from the server are mapped into the client's space.
TEST_F(EngineTest, SackBlocksAreMapped) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("PORT 10,7,0,2,4,1\r\n");  // +3
  const uint32_t after = c_next_;
  ClientSends("NOOP\r\n");
  // Server got everything but says it saw NOOP twice (D-SACK) and SACKs it.
  TcpSpec s{server, client, s_next_, start, kTcpAck, "",
            {{after + 3, after + 9}, {after + 3, after + 9}}, false};
  Result r = Run(s);
  EXPECT_EQ(r.ack(), start);
  const auto sack = SackOf(r.packet);
  ASSERT_EQ(sack.size(), 2u);
  EXPECT_EQ(sack[0].first, after);
  EXPECT_EQ(sack[0].second, after + 6);
  EXPECT_TRUE(ChecksumsValid(r.packet.data(), View(r.packet)));
}

// An ack that lands inside the rewritten text maps to the span start: the
// sender never sees an ack for bytes the receiver does not have whole.
TEST_F(EngineTest, AckInsideReplacementMapsToSpanStart) {
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  TcpSpec s{server, client, s_next_, start + 8, kTcpAck, "", {}, false};
  EXPECT_EQ(Run(s).ack(), start + 5);
}

// 227 from an inside server answering PASV is rewritten; the expectation
// lets the client in to the public address, NATed to the server.
TEST_F(EngineTest, PassiveReplyRewritten) {
  client = Ep("198.51.100.7", 50000);
  server = Ep("192.168.20.2", 21);
  Handshake();
  Greet();
  ClientSends("PASV\r\n");
  Result r = ServerSends("227 Entering Passive Mode (192,168,20,2,117,74).\r\n");
  EXPECT_EQ(r.payload(), "227 Entering Passive Mode (203,0,113,1,117,74).\r\n");
  ASSERT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(sink.installed[0].kind, AnnounceKind::k227);
  EXPECT_EQ(sink.installed[0].peer.ToString(), "198.51.100.7");
  EXPECT_EQ(sink.installed[0].target.ToString(), "203.0.113.1:30026");
  EXPECT_EQ(sink.installed[0].nat_to.ToString(), "192.168.20.2:30026");
  Result ack = ClientSends("LIST\r\n");
  EXPECT_EQ(ack.ack(), s_next_);
}

// Multi-line 227: the closing line carries the address.
TEST_F(EngineTest, MultiLine227) {
  server = Ep("192.168.20.2", 21);
  client = Ep("198.51.100.7", 50000);
  Handshake();
  Greet();
  ClientSends("PASV\r\n");
  Result r = ServerSends("227-listen socket created\r\n227 (192,168,20,2,154,21)\r\n");
  EXPECT_EQ(r.payload(), "227-listen socket created\r\n227 (203,0,113,1,154,21)\r\n");
}

// A 227 with no PASV outstanding opens nothing.
TEST_F(EngineTest, UnsolicitedPassiveReplyRefused) {
  server = Ep("192.168.20.2", 21);
  client = Ep("198.51.100.7", 50000);
  Handshake();
  Greet();
  Result r = ServerSends("227 Entering Passive Mode (192,168,20,2,117,74)\r\n");
  EXPECT_FALSE(r.decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_unsolicited, 1u);
}

// EPSV answered with 227 (seen in the wild) still pairs.
TEST_F(EngineTest, EpsvAnsweredWith227) {
  server = Ep("192.168.20.2", 21);
  client = Ep("198.51.100.7", 50000);
  Handshake();
  Greet();
  ClientSends("EPSV\r\n");
  Result r = ServerSends("227 =192,168,20,2,117,74\r\n");
  EXPECT_EQ(r.payload(), "227 =203,0,113,1,117,74\r\n");
}

// 229 carries no address: an expectation, no rewrite.
TEST_F(EngineTest, EpsvReplyExpectationWithoutRewrite) {
  server = Ep("192.168.20.2", 21);
  client = Ep("198.51.100.7", 50000);
  Handshake();
  Greet();
  ClientSends("EPSV\r\n");
  Result r = ServerSends("229 Entering Extended Passive Mode (|||30001|)\r\n");
  EXPECT_FALSE(r.decision.modified);
  ASSERT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(sink.installed[0].kind, AnnounceKind::k229);
  EXPECT_EQ(sink.installed[0].target.ToString(), "203.0.113.1:30001");
  EXPECT_EQ(sink.installed[0].nat_to.ToString(), "192.168.20.2:30001");
}

// Bounce: a PORT naming a third party creates nothing.
TEST_F(EngineTest, BounceRefused) {
  Handshake();
  Greet();
  Result r = ClientSends("PORT 10,7,0,9,4,1\r\n");
  EXPECT_FALSE(r.decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_bounce, 1u);
  EXPECT_TRUE(log.Contains("bounce"));
}

// Low ports are refused.
TEST_F(EngineTest, LowPortRefused) {
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0,2,0,22\r\n");
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_low_port, 1u);
}

// Octet overflow is refused, never wrapped.
TEST_F(EngineTest, OctetOverflowRefused) {
  Handshake();
  Greet();
  Result r = ClientSends("PORT 10,7,0,258,4,1\r\n");
  EXPECT_FALSE(r.decision.modified);
  EXPECT_EQ(stats.refused_parse, 1u);
}

// EPRT |2| on an IPv4 connection is refused, not dropped.
TEST_F(EngineTest, EprtFamilyMismatchRefused) {
  Handshake();
  Greet();
  Result r = ClientSends("EPRT |2|fd00::2|5282|\r\n");
  EXPECT_EQ(r.decision.verdict, Verdict::kAccept);
  EXPECT_FALSE(r.decision.modified);
  EXPECT_EQ(stats.refused_family, 1u);
}

// LPRT/LPSV/228 (RFC 1639) are handled like their modern twins.
TEST_F(EngineTest, LprtAnd228Rewritten) {
  Handshake();
  Greet();
  Result r = ClientSends("LPRT 4,4,10,7,0,2,2,195,80\r\n");
  EXPECT_EQ(r.payload(), "LPRT 4,4,203,0,113,1,2,195,80\r\n");
  ServerSends("200 ok\r\n");
  server = Ep("192.168.20.2", 21);
  client = Ep("198.51.100.7", 50000);
  Handshake();
  Greet();
  ClientSends("LPSV\r\n");
  Result p = ServerSends("228 Entering Long Passive Mode (4,4,192,168,20,2,2,195,81)\r\n");
  EXPECT_EQ(p.payload(), "228 Entering Long Passive Mode (4,4,203,0,113,1,2,195,81)\r\n");
  ASSERT_EQ(sink.installed.size(), 2u);
  EXPECT_EQ(sink.installed[1].kind, AnnounceKind::k228);
}

// The 227 form with spaces after the commas is rewritten (to the canonical
// form without spaces); the text around it is kept.
TEST_F(EngineTest, SpacedPassiveReplyRewritten) {
  server = Ep("192.168.20.2", 21);
  client = Ep("198.51.100.7", 50000);
  Handshake();
  Greet();
  ClientSends("PASV\r\n");
  Result r = ServerSends("227 Entering Passive Mode (192, 168, 20, 2, 195, 86)\r\n");
  EXPECT_EQ(r.payload(), "227 Entering Passive Mode (203,0,113,1,195,86)\r\n");
}

// EPRT |1| is rewritten with its own delimiter kept.
TEST_F(EngineTest, EprtIpv4Rewritten) {
  Handshake();
  Greet();
  Result r = ClientSends("EPRT !1!10.7.0.2!5282!\r\n");
  EXPECT_EQ(r.payload(), "EPRT !1!203.0.113.1!5282!\r\n");
}

// IPv6 client on a ULA behind NAT66, with an extension header in the way.
TEST_F(EngineTest, EprtIpv6RewrittenThroughExtensionHeader) {
  client = Ep("fd00:10::2", 40000);
  server = Ep("2001:db8:1::2", 21);
  Handshake();
  Greet();
  TcpSpec s{client, server, c_next_, s_out_next_, kData,
            "EPRT |2|fd00:10::2|5282|\r\n", {}, true};
  c_next_ += static_cast<uint32_t>(s.payload.size());
  Result r = Run(s);
  EXPECT_EQ(r.payload(), "EPRT |2|2001:db8:1::1|5282|\r\n");
  EXPECT_TRUE(ChecksumsValid(r.packet.data(), View(r.packet)));
  ASSERT_EQ(sink.installed.size(), 1u);
  EXPECT_EQ(sink.installed[0].target.ToString(), "[2001:db8:1::1]:5282");
}

// After AUTH TLS is accepted nothing is parsed, even ciphertext that looks
// like a 227.
TEST_F(EngineTest, AuthTlsStopsParsing) {
  server = Ep("192.168.20.2", 21);
  client = Ep("198.51.100.7", 50000);
  Handshake();
  ServerSends("220 ready\r\n");
  ClientSends("AUTH TLS\r\n");
  ServerSends("234 go ahead\r\n");
  ClientSends(std::string("\x16\x03\x01\x00\x05PASV\r\n", 12));
  Result r = ServerSends("227 (192,168,20,2,4,1)\r\n");
  EXPECT_FALSE(r.decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.tls_sessions, 1u);
}

// AUTH refused (5xx): parsing goes on.
TEST_F(EngineTest, AuthRefusedKeepsParsing) {
  Handshake();
  ServerSends("220 ready\r\n");
  ClientSends("AUTH TLS\r\n");
  ServerSends("502 no\r\n");
  Result r = ClientSends("PORT 10,7,0,2,4,1\r\n");
  EXPECT_TRUE(r.decision.modified);
}

// NAT slipstreaming: an HTTP request sent to port 21 before any greeting,
// with a PORT line starting a segment, opens nothing.
TEST_F(EngineTest, SlipstreamingRefused) {
  Handshake();
  ClientSends("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
  Result r = ClientSends("PORT 10,7,0,2,4,1\r\n");
  ServerSends("220 ready\r\n");
  EXPECT_FALSE(r.decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_not_ftp, 1u);
}

// A PORT smuggled inside another command's argument is not a command.
TEST_F(EngineTest, StreamInjectionInsideArgumentIgnored) {
  Handshake();
  Greet();
  Result r = ClientSends("RETR a PORT 10,7,0,2,0,22\r\n");
  EXPECT_FALSE(r.decision.modified);
  EXPECT_TRUE(sink.installed.empty());
}

// Lines over the cap pass untouched and create no state.
TEST_F(EngineTest, OverlongLinePassesUntouched) {
  Handshake();
  Greet();
  const std::string line = "PORT 10,7,0,2,4,1" + std::string(600, ' ') + "\r\n";
  Result r = ClientSends(line);
  EXPECT_EQ(r.payload(), line);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_GE(stats.overlong_lines, 1u);
}

// Picked up after its start (a daemon restart): the client speaks before any
// greeting is seen, so the session is not FTP to us and passes untouched.
TEST_F(EngineTest, MidStreamPickupIsNotRewrittenByDefault) {
  c_next_ = 7000;
  s_next_ = 9000;
  c_out_next_ = c_next_;
  s_out_next_ = s_next_;
  ClientSends("10,7,0,2,4,1\r\n");
  ServerSends("200 ok\r\n");
  Result r = ClientSends("PORT 10,7,0,2,4,3\r\n");
  EXPECT_FALSE(r.decision.modified);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.refused_not_ftp, 1u);
}

// A capture that missed only the handshake: the first server bytes are the
// 220 greeting, so the session is handled like one seen from the SYN.
TEST_F(EngineTest, PickedUpAtTheGreetingIsHandledNormally) {
  c_next_ = 7000;
  s_next_ = 9000;
  c_out_next_ = c_next_;
  s_out_next_ = s_next_;
  Greet();
  Result r = ClientSends("PORT 10,7,0,2,4,3\r\n");
  EXPECT_EQ(r.payload(), "PORT 203,0,113,1,4,3\r\n");
  EXPECT_EQ(stats.sessions_picked_up, 1u);
}

// A resolver that keeps snapshots in memory, standing in for conntrack
// labels that outlive the daemon.
class KeepingResolver final : public FlowResolver {
 public:
  explicit KeepingResolver(const EngineConfig& c) : inner_(c) {}
  std::optional<FlowKey> MasterForReply(const Endpoint& src, const Endpoint& dst) override {
    return inner_.MasterForReply(src, dst);
  }
  NatBinding Binding(const FlowKey& m) override { return inner_.Binding(m); }
  void SaveSnapshot(const FlowKey&, const SessionSnapshot& s) override {
    saved = s;
    ++saves;
  }
  std::optional<SessionSnapshot> LoadSnapshot(const FlowKey&) override { return saved; }
  std::optional<SessionSnapshot> saved;
  int saves = 0;

 private:
  IdentityResolver inner_;
};

// Daemon restart: a session that rewrote keeps working when its offsets
// were kept outside the process (conntrack labels live).
TEST_F(EngineTest, RestartRestoresOffsetsFromSnapshot) {
  KeepingResolver keep(cfg);
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  ASSERT_EQ(keep.saves, 1);
  EXPECT_EQ(keep.saved->offset[0], 3);
  EXPECT_EQ(keep.saved->offset[1], 0);
  ServerSends("200 ok\r\n");
  // Restart: a fresh engine, same "kernel".
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);
  const uint32_t list_seq = c_next_;
  Result list = ClientSends("LIST\r\n");
  EXPECT_EQ(list.seq(), list_seq + 3);
  EXPECT_EQ(stats.sessions_restored, 1u);
  Result ack = ServerSends("150 ok\r\n");
  EXPECT_EQ(ack.ack(), c_next_);
  // The first line after the restart may be partial; whole lines after it
  // are parsed again, so a new PORT is rewritten.
  Result port = ClientSends("PORT 10,7,0,2,4,2\r\n");
  EXPECT_EQ(port.payload(), "PORT 203,0,113,1,4,2\r\n");
  EXPECT_EQ(keep.saved->offset[0], 6);
}

// Failover in the middle of a rewrite, case 1 (the usual one): the primary
// forwarded the rewritten PORT (+3) and wrote the offsets, the server got
// it, but its ACK had not reached the client when the primary died. The
// client's retransmission of the original 19 bytes reaches the backup,
// whose session is restored with the newest offset (+3) and no change
// point: it is not parsed (the restored stream resyncs at the next LF) and
// goes out unchanged at seq + 3, i.e. it ends exactly where the server's
// copy of the rewritten line ends: a pure duplicate. The server re-acks the
// end, which maps back to the end of the client's line. Nothing is lost.
TEST_F(EngineTest, FailoverMidRewriteDeliveredAnnouncementIsADuplicate) {
  KeepingResolver keep(cfg);
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  const std::string port = "PORT 10,7,0,2,4,1\r\n";  // 19 bytes -> 22
  ASSERT_EQ(ClientSends(port).payload(), "PORT 203,0,113,1,4,1\r\n");
  // What the plane wrote with the expectation: the pending port (labels).
  ASSERT_TRUE(keep.saved.has_value());
  keep.saved->pending_port = 4 * 256 + 1;
  keep.saved->pending_announcer = Direction::kOriginal;
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);  // backup
  Result again = ClientSendsAt(start, port);
  EXPECT_EQ(again.payload(), port);  // not rewritten a second time
  EXPECT_EQ(again.seq(), start + 3);
  EXPECT_EQ(again.seq() + port.size(), start + 22);  // = the server's end
  TcpSpec ack{server, client, s_next_, start + 22, kTcpAck, "", {}, false};
  EXPECT_EQ(Run(ack).ack(), start + 19);  // the client's line, all acked
}

// After a takeover the first command is usually a new one (the client sent
// nothing while the gateways switched): the restored session reads it as a
// whole line, because it begins a segment and starts with a verb. A new
// PORT is rewritten at once, and a 227 that answers a PASV sent after the
// takeover is rewritten too (the kernel's helper would do both).
TEST_F(EngineTest, TakeoverFirstCommandsAreParsed) {
  KeepingResolver keep(cfg);
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);
  Handshake();
  Greet();
  ASSERT_EQ(ClientSends("PORT 10,7,0,2,4,1\r\n").payload(), "PORT 203,0,113,1,4,1\r\n");
  ServerSends("200 ok\r\n");
  ASSERT_TRUE(keep.saved.has_value());
  keep.saved->pending_port = 4 * 256 + 1;  // its data connection still pending
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);  // backup
  Result port = ClientSends("PORT 10,7,0,2,4,9\r\n");
  EXPECT_EQ(port.payload(), "PORT 203,0,113,1,4,9\r\n");
  EXPECT_EQ(stats.sessions_restored, 1u);
  EXPECT_EQ(keep.saved->offset[0], 6);
  ServerSends("200 ok\r\n");
  ClientSends("PASV\r\n");
  const uint64_t rewrites = stats.rewrites;
  Result pasv = ServerSends("227 Entering Passive Mode (203,0,113,2,7,1)\r\n");
  EXPECT_EQ(pasv.payload(), "227 Entering Passive Mode (203,0,113,2,7,1)\r\n");
  EXPECT_EQ(stats.refused_unsolicited, 0u);
  EXPECT_EQ(stats.expectations, 3u);  // two PORTs and the 227 (unrewritten)
  EXPECT_EQ(stats.rewrites, rewrites);
}

// A restored stream whose first segment starts mid-line (no verb at its
// start) is still read from the next LF: nothing is parsed on a guess.
TEST_F(EngineTest, TakeoverMidLineSegmentWaitsForTheNextLine) {
  KeepingResolver keep(cfg);
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);
  Handshake();
  Greet();
  ASSERT_EQ(ClientSends("PORT 10,7,0,2,4,1\r\n").payload(), "PORT 203,0,113,1,4,1\r\n");
  ServerSends("200 ok\r\n");
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);
  // "0,2,4,5" is the tail of some line: passed, and the PORT after it in the
  // same segment is not trusted either (its line start is unknown)...
  Result tail = ClientSends("0,2,4,5\r\n");
  EXPECT_EQ(tail.payload(), "0,2,4,5\r\n");
  // ...but the next whole line is.
  EXPECT_EQ(ClientSends("PORT 10,7,0,2,4,6\r\n").payload(), "PORT 203,0,113,1,4,6\r\n");
}

// Case 2 (the rare one): the primary wrote the offsets but the rewritten
// segment never reached the server (lost behind the primary, or the primary
// died between the label write and the verdict, and conntrackd still
// carried the labels over). The server has bytes up to `start`; the
// backup sends the retransmission at start + 3: a 3-byte hole the client
// can never fill (the server's ACK of `start` maps to start - 3, below what
// the client already sent), so the control connection stalls until a
// timeout. A shrinking rewrite (delta < 0) instead overlaps: the server
// drops the first |delta| bytes of the line and answers 500.
TEST_F(EngineTest, FailoverMidRewriteLostAnnouncementLeavesAHole) {
  KeepingResolver keep(cfg);
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);
  Handshake();
  Greet();
  const uint32_t start = c_next_;
  const std::string port = "PORT 10,7,0,2,4,1\r\n";
  ClientSends(port);  // rewritten, offsets saved; assume it is lost
  engine = std::make_unique<Engine>(cfg, sink, keep, log, stats);
  Result again = ClientSendsAt(start, port);
  EXPECT_EQ(again.seq(), start + 3);  // the server expects `start`
  TcpSpec dup{server, client, s_next_, start, kTcpAck, "", {}, false};
  EXPECT_EQ(Run(dup).ack(), start - 3);  // an old ACK to the client
}

// Without kept offsets a restarted daemon leaves an in-flight session alone.
TEST_F(EngineTest, RestartWithoutSnapshotLeavesSessionUntouched) {
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  Rebuild();  // IdentityResolver keeps nothing
  Result list = ClientSends("PORT 10,7,0,2,4,2\r\n");
  EXPECT_FALSE(list.decision.modified);
  EXPECT_EQ(stats.sessions_restored, 0u);
}

// Two inside clients announcing the same port through one public address:
// the second gets another public port; its retransmission keeps it.
TEST_F(EngineTest, PortCollisionBetweenSessions) {
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
  EXPECT_EQ(stats.port_remaps, 1u);
  Result again = ClientSendsAt(start, "PORT 10,7,0,3,4,1\r\n");
  EXPECT_EQ(again.payload(), "PORT 203,0,113,1,4,2\r\n");
  ASSERT_EQ(sink.installed.size(), 2u);
  EXPECT_EQ(sink.installed[1].target.port, 1026);
  EXPECT_EQ(sink.installed[1].nat_to.port, 1025);
}

// The kernel reports the public port busy: the engine walks to a free one.
TEST_F(EngineTest, KernelBusyPortIsSkipped) {
  sink.busy.push_back(Ep("203.0.113.1", 1025));
  Handshake();
  Greet();
  Result r = ClientSends("PORT 10,7,0,2,4,1\r\n");
  EXPECT_EQ(r.payload(), "PORT 203,0,113,1,4,2\r\n");
}

// No public address for the family: not rewritten, logged.
TEST_F(EngineTest, NoPublicAddressNotRewritten) {
  cfg.public_v4.reset();
  Rebuild();
  Handshake();
  Greet();
  Result r = ClientSends("PORT 10,7,0,2,4,1\r\n");
  EXPECT_FALSE(r.decision.modified);
  EXPECT_EQ(stats.refused_no_public, 1u);
}

// Per-session expectation cap: the oldest is evicted.
TEST_F(EngineTest, PerSessionExpectationCap) {
  cfg.max_expectations_per_session = 2;
  Rebuild();
  Handshake();
  Greet();
  for (int i = 0; i < 5; ++i) {
    ClientSends("PORT 10,7,0,2,4," + std::to_string(10 + i) + "\r\n");
    ServerSends("200 ok\r\n");
  }
  EXPECT_EQ(sink.installed.size(), 5u);
  EXPECT_EQ(sink.removed.size(), 3u);
  EXPECT_EQ(stats.expectations_evicted, 3u);
}

// Event lines: one per rewrite, refusal and limit hit, each with "#<id>".
TEST_F(EngineTest, EventLinesCarryTheSessionId) {
  cfg.max_expectations_per_session = 2;
  Rebuild();
  Handshake();
  Greet();
  for (int i = 0; i < 5; ++i) {
    ClientSends("PORT 10,7,0,2,4," + std::to_string(10 + i) + "\r\n");
    ServerSends("200 ok\r\n");
  }
  EXPECT_EQ(log.Count("#1 REWRITE c->s 'PORT 10,7,0,2,4,"), 5u);
  EXPECT_EQ(log.Count("#1 LIMIT max-expectations-per-session 2 reached: oldest "
                      "expectation, for 203.0.113.1:1034, withdrawn"),
            1u);
  EXPECT_EQ(log.Count("LIMIT max-expectations-per-session"), 3u);
  ClientSends("PORT 10,7,0,9,4,1\r\n");
  EXPECT_EQ(log.Count("#1 REFUSED address 10.7.0.9 is not the sender's 10.7.0.2 "
                      "(bounce): \"PORT 10,7,0,9,4,1\" passed unchanged"),
            1u)
      << log.lines.back();
}

TEST_F(EngineTest, GlobalExpectationCapIsALimitRefusal) {
  cfg.max_expectations = 2;  // below the per-session cap
  Rebuild();
  Handshake();
  Greet();
  for (int i = 1; i <= 2; ++i) {
    EXPECT_TRUE(ClientSends("PORT 10,7,0,2,4," + std::to_string(i) + "\r\n")
                    .decision.modified);
    ServerSends("200 ok\r\n");
  }
  // Unchanged bytes (the packet is still modified: its seq is shifted).
  EXPECT_EQ(ClientSends("PORT 10,7,0,2,4,3\r\n").payload(), "PORT 10,7,0,2,4,3\r\n");
  EXPECT_EQ(stats.refused_limit, 1u);
  EXPECT_EQ(log.Count("#1 REFUSED LIMIT max-expectations reached: no expectation "
                      "could be installed: \"PORT 10,7,0,2,4,3"),
            1u);
}

TEST_F(EngineTest, SessionTableFullIsOneLimitLinePerEviction) {
  cfg.max_sessions = 2;
  Rebuild();
  for (uint16_t i = 0; i < 4; ++i) {
    client = Ep("10.7.0.2", static_cast<uint16_t>(41000 + i));
    Handshake();
  }
  EXPECT_EQ(stats.sessions_evicted, 2u);
  EXPECT_EQ(log.Count("session ended (LIMIT max-sessions reached: least recently "
                      "used, evicted)"),
            2u);
  EXPECT_EQ(log.Count("#1 session ended (LIMIT"), 1u);
  EXPECT_EQ(log.Count("#2 session ended (LIMIT"), 1u);
}

TEST_F(EngineTest, HoldPoolExhaustedIsALimitLine) {
  cfg.hold_slots = 1;
  Rebuild();
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0");  // takes the only hold slot
  const Endpoint first = client;
  client = Ep("10.7.0.2", 41001);
  Handshake();
  Greet();
  Result r = ClientSends("PORT 10,7,0");
  EXPECT_EQ(r.payload(), "PORT 10,7,0");  // not held: passes as it is
  EXPECT_EQ(stats.hold_pool_exhausted, 1u);
  EXPECT_EQ(log.Count("#2 LIMIT hold pool exhausted: an incomplete line in c->s is "
                      "not held back and passes unchanged"),
            1u);
  (void)first;
}

// FIN both ways ends the session after the linger; expectations go with it.
TEST_F(EngineTest, SessionEndsAfterFinBothWays) {
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  ClientSends("", kTcpFin | kTcpAck);
  ServerSends("", kTcpFin | kTcpAck);
  ++c_next_;  // the FIN's sequence number
  ClientSends("", kTcpAck);
  EXPECT_EQ(stats.out_of_order, 0u);  // the last ACK after FIN is in order
  EXPECT_EQ(engine->session_count(), 1u);
  now_ms += uint64_t{cfg.closed_linger_s} * 1000 + 1000;
  engine->Expire(now_ms);
  EXPECT_EQ(engine->session_count(), 0u);
  EXPECT_EQ(sink.removed.size(), 1u);
  EXPECT_EQ(stats.sessions_ended, 1u);
}

// Idle sessions expire.
TEST_F(EngineTest, IdleSessionExpires) {
  Handshake();
  now_ms += uint64_t{cfg.idle_timeout_s} * 1000 + 1000;
  engine->Expire(now_ms);
  EXPECT_EQ(engine->session_count(), 0u);
  EXPECT_EQ(stats.sessions_expired, 1u);
}

// The table is bounded: the least recently used session is evicted.
TEST_F(EngineTest, SessionTableEvictsLeastRecentlyUsed) {
  cfg.max_sessions = 3;
  Rebuild();
  for (uint16_t i = 0; i < 5; ++i) {
    client = Ep("10.7.0.2", static_cast<uint16_t>(41000 + i));
    Handshake();
  }
  EXPECT_EQ(engine->session_count(), 3u);
  EXPECT_EQ(stats.sessions_evicted, 2u);
}

// Non-control and broken packets are never touched.
TEST_F(EngineTest, NonControlAndMalformedPassUnchanged) {
  TcpSpec s{Ep("10.7.0.2", 5555), Ep("203.0.113.2", 80), 1, 1, kData,
            "PORT 10,7,0,2,4,1\r\n", {}, false};
  EXPECT_FALSE(Run(s).decision.modified);
  std::vector<uint8_t> junk(60, 0x45);
  junk.resize(65535);
  PacketBuffer b{junk.data(), 60, junk.size()};
  EXPECT_FALSE(engine->Process(b, now_ms).modified);
  EXPECT_EQ(b.len, 60u);
}

// Offline captures: both directions are in the original space, so the
// server's ack of the PORT is mapped forward into the rewritten space.
TEST_F(EngineTest, OfflineCaptureMapsAcksForward) {
  cfg.offline_capture = true;
  Rebuild();
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0,2,4,1\r\n");
  TcpSpec s{server, client, s_next_, c_next_, kTcpAck, "", {}, false};
  EXPECT_EQ(Run(s).ack(), c_next_ + 3);
}

// Property: whatever the segmentation, duplication and retransmission of the
// client's stream, the output stream is the input with the rewrites applied.
TEST_F(EngineTest, ResegmentationPropertyHolds) {
  const std::string input =
      "TYPE I\r\nPORT 10,7,0,2,4,1\r\nLIST\r\nport 10,7,0,2,4,2\nNOOP\r\n"
      "EPRT |1|10.7.0.2|6000|\r\nPORT 10,7,0,9,4,3\r\nQUIT\r\n";
  const std::string expected =
      "USER anonymous\r\nTYPE I\r\nPORT 203,0,113,1,4,1\r\nLIST\r\nport "
      "203,0,113,1,4,2\nNOOP\r\nEPRT |1|203.0.113.1|6000|\r\nPORT "
      "10,7,0,9,4,3\r\nQUIT\r\n";
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    sink = FakeSink{};
    stats = Stats{};
    Rebuild();
    c_isn_ = seed * 2654435761u;  // spread, including near the wrap
    client = Ep("10.7.0.2", static_cast<uint16_t>(20000 + seed));
    Handshake();
    Greet();
    client_out_ = StreamCollector{};
    client_out_.Add(c_isn_ + 1, "USER anonymous\r\n");
    const uint32_t base = c_next_;
    std::mt19937 rng(seed);
    size_t pos = 0;
    while (pos < input.size()) {
      const size_t len = 1 + rng() % 12;
      const std::string piece = input.substr(pos, len);
      ClientSendsAt(base + static_cast<uint32_t>(pos), piece);
      if (rng() % 4 == 0 && pos > 0) {  // retransmit a random earlier range
        const size_t from = rng() % (pos + piece.size());
        const size_t to = std::min(input.size(), pos + piece.size());
        ClientSendsAt(base + static_cast<uint32_t>(from), input.substr(from, to - from));
      }
      pos += piece.size();
      if (rng() % 3 == 0) ServerSends("200 ok\r\n");
    }
    // Flush anything still unacknowledged by retransmitting from the start.
    ClientSendsAt(base, input);
    c_next_ = base + static_cast<uint32_t>(input.size());
    ASSERT_EQ(ClientOutput(), expected) << "seed " << seed;
    ASSERT_EQ(sink.installed.size(), 3u) << "seed " << seed;
  }
}

// The SessionObserver (ftpalgd --events) hears every session's start and
// end, with the ORIGINAL tuple, the reason and the counts.
TEST_F(EngineTest, SessionObserverHearsStartAndEnd) {
  struct Observer final : SessionObserver {
    void SessionStarted(uint64_t id, const FlowKey& key, bool picked_up,
                        uint64_t now) override {
      lines.push_back("start #" + std::to_string(id) + " " + key.ToString() +
                      (picked_up ? " picked-up" : "") + " @" + std::to_string(now));
    }
    void SessionEnded(uint64_t id, const FlowKey& key, const char* reason,
                      uint32_t rewrites, uint32_t refusals, uint64_t) override {
      lines.push_back("end #" + std::to_string(id) + " " + key.ToString() + " " + reason +
                      " " + std::to_string(rewrites) + "/" + std::to_string(refusals));
    }
    std::vector<std::string> lines;
  } observer;
  engine->SetSessionObserver(&observer);
  Handshake();
  Greet();
  ClientSends("PORT 10,7,0,2,4,10\r\n");
  ServerSends("200 ok\r\n");
  engine->Shutdown("test over");
  ASSERT_EQ(observer.lines.size(), 2u);
  EXPECT_EQ(observer.lines[0],
            "start #1 10.7.0.2:40000->203.0.113.2:21 @" + std::to_string(now_ms));
  EXPECT_EQ(observer.lines[1], "end #1 10.7.0.2:40000->203.0.113.2:21 test over 1/0");
}

}  // namespace
}  // namespace ftpalg::testing
