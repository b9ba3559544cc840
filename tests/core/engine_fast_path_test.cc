// SPDX-License-Identifier: GPL-2.0-or-later
// The in-place scan (engine_fast_path.cc) against the general walk: the same
// packets through two engines, one with EngineConfig::scan_in_place and one
// without, must leave the same bytes, verdicts, log lines, expectations and
// counters, live and offline. The dialogues are random: announcements
// (rewritten or not), multi-line replies, lines split across segments,
// a switch to TLS (234) and back to cleartext, retransmissions and reordering (which the in-place scan leaves to the
// general walk), lowercase verbs, non-FTP lines.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/support/engine_fixture.h"

namespace ftpalg::testing {
namespace {

struct Path {
  explicit Path(const EngineConfig& c) : cfg(c) {
    resolver = std::make_unique<IdentityResolver>(cfg);
    engine = std::make_unique<Engine>(cfg, sink, *resolver, log, stats);
  }
  EngineConfig cfg;
  FakeSink sink;
  CapturingLogger log;
  Stats stats;
  std::unique_ptr<IdentityResolver> resolver;
  std::unique_ptr<Engine> engine;
};

std::string Targets(const std::vector<Expectation>& v) {
  std::string s;
  for (const Expectation& e : v) {
    s += FlowKey{e.target, e.nat_to}.ToString() + " " + std::to_string(e.session_id) + "\n";
  }
  return s;
}

// A TLS record (type, TLS 1.2 version, length) around body.
std::string Record(uint8_t type, const std::string& body) {
  std::string r;
  r += static_cast<char>(type);
  r += "\x03\x03";
  r += static_cast<char>(body.size() >> 8);
  r += static_cast<char>(body.size() & 0xff);
  return r + body;
}

class TwoPaths {
 public:
  TwoPaths(bool offline, uint32_t seed) : rng_(seed) {
    EngineConfig c;
    c.public_v4 = IpAddress::Parse("203.0.113.1");
    c.offline_capture = offline;
    c.scan_in_place = true;
    fast_ = std::make_unique<Path>(c);
    c.scan_in_place = false;
    slow_ = std::make_unique<Path>(c);
    live_ = !offline;
  }

  // One packet through both engines; the outputs must be equal.
  void Feed(bool from_client, uint32_t seq, uint8_t flags, const std::string& payload) {
    TcpSpec spec;
    spec.src = from_client ? client_ : server_;
    spec.dst = from_client ? server_ : client_;
    spec.seq = seq;
    spec.flags = flags;
    spec.payload = payload;
    // Offline, acks are in the input space; live, in what the peer received.
    spec.ack = from_client ? (live_ ? s_out_ : s_in_) : (live_ ? c_out_ : c_in_);
    if (!(flags & kTcpAck)) spec.ack = 0;
    std::vector<uint8_t> a = BuildTcp(spec);
    const size_t len = a.size();
    a.resize(len + 512);
    std::vector<uint8_t> b = a;
    PacketBuffer pa{a.data(), len, a.size()}, pb{b.data(), len, b.size()};
    now_ += 1 + rng_() % 50;
    const Decision da = fast_->engine->Process(pa, now_);
    const Decision db = slow_->engine->Process(pb, now_);
    ++packets_;
    ASSERT_EQ(da.verdict, db.verdict) << "packet " << packets_;
    ASSERT_EQ(da.modified, db.modified) << "packet " << packets_;
    ASSERT_EQ(pa.len, pb.len) << "packet " << packets_;
    a.resize(pa.len);
    b.resize(pb.len);
    ASSERT_EQ(a, b) << "packet " << packets_ << " payload " << PayloadOf(b);
    if (da.verdict == Verdict::kDrop) return;
    ASSERT_TRUE(ChecksumsValid(a.data(), View(a))) << "packet " << packets_;
    const PacketView v = View(a);
    const uint32_t end = v.seq + static_cast<uint32_t>(v.payload_len) +
                         ((v.flags & kTcpSyn) ? 1u : 0u);
    uint32_t& out = from_client ? c_out_ : s_out_;
    if (static_cast<int32_t>(end - out) > 0) out = end;
  }

  // Sends text from one side in 1..3 segments, sometimes retransmitting one
  // or swapping two.
  void Say(bool from_client, const std::string& text) {
    uint32_t& next = from_client ? c_in_ : s_in_;
    std::vector<size_t> cuts = {0};
    const int pieces = 1 + static_cast<int>(rng_() % 3);
    for (int i = 1; i < pieces; ++i) cuts.push_back(rng_() % (text.size() + 1));
    cuts.push_back(text.size());
    std::sort(cuts.begin(), cuts.end());
    struct Seg {
      uint32_t seq;
      std::string data;
    };
    std::vector<Seg> segs;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      if (cuts[i] == cuts[i + 1]) continue;
      segs.push_back({next + static_cast<uint32_t>(cuts[i]),
                      text.substr(cuts[i], cuts[i + 1] - cuts[i])});
    }
    if (segs.size() >= 2 && rng_() % 8 == 0) std::swap(segs[0], segs[1]);
    for (const Seg& s : segs) {
      Feed(from_client, s.seq, kTcpAck | kTcpPsh, s.data);
      if (rng_() % 10 == 0) Feed(from_client, s.seq, kTcpAck | kTcpPsh, s.data);
    }
    next += static_cast<uint32_t>(text.size());
    // The other side acknowledges (a bare ACK).
    Feed(!from_client, from_client ? s_in_ : c_in_, kTcpAck, "");
  }

  void Dialogue(int rounds) {
    Feed(true, c_in_ - 1, kTcpSyn, "");
    Feed(false, s_in_ - 1, kTcpSyn | kTcpAck, "");
    Feed(true, c_in_, kTcpAck, "");
    Say(false, "220 ready\r\n");
    const std::vector<std::pair<std::string, std::string>> exchanges = {
        {"USER anonymous\r\n", "331 password\r\n"},
        {"PASS x\r\n", "230-Welcome\r\n230-more text\r\n230 ok\r\n"},
        {"PORT 10,7,0,2,19,137\r\n", "200 PORT ok\r\n"},
        {"port 10,7,0,2,19,138\r\n", "200 port ok\r\n"},
        {"EPRT |1|10.7.0.2|5003|\r\n", "200 EPRT ok\r\n"},
        {"PASV\r\n", "227 Entering Passive Mode (203,0,113,2,23,112)\r\n"},
        {"EPSV\r\n", "229 Entering Extended Passive Mode (|||6001|)\r\n"},
        {"LIST\r\n", "150 Here it comes\r\n226 Transfer complete\r\n"},
        {"FEAT\r\n", "211-Features:\r\n EPRT\r\n PASV\r\n227 not the end\r\n211 End\r\n"},
        {"NOOP\r\n", "200 NOOP ok\r\n"},
        {"TYPE I\r\n", "200 Switching to Binary mode.\r\n"},
        {"PWD\r\nCWD /pub\r\n", "257 \"/\"\r\n250 ok\r\n"},
        {"XYZZY plugh\r\n", "500 unknown\r\n"},
        {"RETR a-file-with-a-long-name-to-make-lines-longer.bin\r\n",
         "150 Opening BINARY mode data connection\r\n226 done\r\n"},
    };
    // Some dialogues switch to TLS halfway (234: the scan follows records,
    // and the cleartext lines after it read as a return to cleartext).
    const int tls_at = rng_() % 4 == 0 ? rounds / 2 : -1;
    for (int r = 0; r < rounds && !::testing::Test::HasFatalFailure(); ++r) {
      if (r == tls_at) {
        Say(true, "AUTH TLS\r\n");
        // The first record right after the 234, in the same segment at
        // times; handshake, CCC and its 200 inside records, close_notify:
        // both sides return to cleartext.
        Say(false, "234 Proceed with negotiation.\r\n" + Record(22, std::string(90, '\x42')));
        Say(true, Record(22, std::string(200, '\x41')));
        Say(false, Record(20, "\x01"));
        Say(true, Record(23, std::string(20, '\x10')));
        Say(false, Record(23, std::string(40, '\x11')));
        Say(false, Record(21, std::string(26, '\x12')));
        Say(true, Record(21, std::string(26, '\x13')));
      }
      const auto& [command, reply] = exchanges[rng_() % exchanges.size()];
      Say(true, command);
      Say(false, reply);
    }
    Say(true, "QUIT\r\n");
    Say(false, "221 bye\r\n");
  }

  void ExpectSameEffects() const {
    EXPECT_EQ(fast_->log.lines, slow_->log.lines);
    EXPECT_EQ(Targets(fast_->sink.installed), Targets(slow_->sink.installed));
    EXPECT_EQ(Targets(fast_->sink.removed), Targets(slow_->sink.removed));
    EXPECT_EQ(fast_->stats.ToString(), slow_->stats.ToString());
  }

  const Stats& stats() const { return fast_->stats; }

 private:
  std::mt19937 rng_;
  std::unique_ptr<Path> fast_, slow_;
  bool live_ = false;
  Endpoint client_ = Ep("10.7.0.2", 40000);
  Endpoint server_ = Ep("203.0.113.2", 21);
  uint32_t c_in_ = 1001, s_in_ = 5001;  // next input seq (after the SYNs)
  uint32_t c_out_ = 1001, s_out_ = 5001;  // output stream ends
  uint64_t now_ = 1'000'000;
  uint64_t packets_ = 0;
};

// 40 random dialogues through both paths, offline or live: the same effects,
// and the dialogues did reach rewrites, held lines, kept segments and CCC.
void ExpectSameOutputAsTheGeneralWalk(bool offline) {
  uint64_t rewrites = 0, holds = 0, kept = 0, tls = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    TwoPaths t(offline, seed);
    t.Dialogue(60);
    ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "seed " << seed;
    t.ExpectSameEffects();
    rewrites += t.stats().rewrites;
    holds += t.stats().holds;
    kept += t.stats().out_of_order;
    tls += t.stats().tls_cleartext_resumed;
  }
  EXPECT_GT(rewrites, 200u);
  EXPECT_GT(holds, 20u);
  EXPECT_GT(kept, 10u);
  EXPECT_GT(tls, 2u);
}

TEST(EngineFastPath, SameOutputAsTheGeneralWalkOffline) {
  ExpectSameOutputAsTheGeneralWalk(/*offline=*/true);
}

TEST(EngineFastPath, SameOutputAsTheGeneralWalkLive) {
  ExpectSameOutputAsTheGeneralWalk(/*offline=*/false);
}

// A payload with no line start that could announce passes with its bytes
// and checksum untouched; only seq/ack are mapped (the client's PORT made
// the stream longer).
class InPlace : public EngineTest {};

TEST_F(InPlace, PacketWithoutAnnouncementKeepsItsPayloadAndGetsMappedSeq) {
  Handshake();
  Greet();
  const Result port = ClientSends("PORT 10,7,0,2,19,137\r\n");
  ASSERT_NE(port.payload(), "PORT 10,7,0,2,19,137\r\n");
  const int32_t grown =
      static_cast<int32_t>(port.payload().size()) - static_cast<int32_t>(22);
  ServerSends("200 ok\r\n");
  const uint32_t seq = c_next_;
  const Result noop = ClientSends("NOOP\r\nSTAT\r\n");
  EXPECT_EQ(noop.payload(), "NOOP\r\nSTAT\r\n");
  EXPECT_EQ(noop.seq(), seq + static_cast<uint32_t>(grown));
  EXPECT_TRUE(ChecksumsValid(noop.packet.data(), View(noop.packet)));
}

}  // namespace
}  // namespace ftpalg::testing
