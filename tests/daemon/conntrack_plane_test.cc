// Tests of the wired plane (daemon/conntrack_plane.h): what it tells the
// operator, and the engine, the plane and the labels together. The units'
// own tests are in tests/conntrack.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/conntrack_plane.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "adapters/ctnetlink_labels.h"
#include "ftpalg/config.h"
#include "ftpalg/engine.h"
#include "ftpalg/stats.h"
#include "tests/conntrack/plane_fixture.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::testing {
namespace {

TEST_F(PlaneTest, DescribeAndCounters) {
  EXPECT_EQ(plane_->Describe().rfind("mechanisms: auto", 0), 0u);
  EXPECT_NE(plane_->Describe().find("ftpalg-pend4/ftpalg-pend6"), std::string::npos);
  EXPECT_NE(plane_->Counters().find("syn_unmatched=0"), std::string::npos);
}

// The engine, the plane and the labels together: for each NAT case the
// engine announces through the plane, and the pending fields read back with
// the master's tuples give exactly the engine's expectation; a backup's
// resync then installs the same pending set element.
class RecordingSink final : public ExpectationSink {
 public:
  explicit RecordingSink(ExpectationSink& inner) : inner_(inner) {}
  InstallResult Install(const Expectation& e) override {
    const InstallResult r = inner_.Install(e);
    if (r == InstallResult::kOk) installed.push_back(e);
    return r;
  }
  void Remove(const Expectation& e) override { inner_.Remove(e); }
  std::vector<Expectation> installed;

 private:
  ExpectationSink& inner_;
};

class QuietLogger final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return false; }
  void Log(LogLevel, std::string_view) override {}
};

// One control connection as the gateway sees it: client->server packets
// carry the ORIGINAL tuple, server->client packets the REPLY tuple.
class Wire {
 public:
  Wire(Engine& engine, const CtTuple& orig, const CtTuple& reply)
      : engine_(engine), orig_(orig), reply_(reply) {}
  void Client(const std::string& payload, uint8_t flags = kTcpAck | kTcpPsh) {
    Send(orig_.src, orig_.dst, &c_seq_, s_seq_, payload, flags);
  }
  void Server(const std::string& payload, uint8_t flags = kTcpAck | kTcpPsh) {
    Send(reply_.src, reply_.dst, &s_seq_, c_seq_, payload, flags);
  }
  void Login() {
    Client("", kTcpSyn);
    Server("", kTcpSyn | kTcpAck);
    Server("220 hi\r\n");
    Client("USER a\r\n");
    Server("331 p\r\n");
  }
  std::string last_payload;

 private:
  void Send(Endpoint src, Endpoint dst, uint32_t* seq, uint32_t ack,
            const std::string& payload, uint8_t flags) {
    TcpSpec t;
    t.src = src;
    t.dst = dst;
    t.seq = *seq;
    t.ack = (flags & kTcpAck) ? ack : 0;
    t.flags = flags;
    t.payload = payload;
    std::vector<uint8_t> p = BuildTcp(t);
    p.resize(p.size() + 128);
    PacketBuffer pb{p.data(), p.size() - 128, p.size()};
    engine_.Process(pb, now_ms_ += 10);
    last_payload = PayloadOf(std::vector<uint8_t>(p.begin(), p.begin() + pb.len));
    *seq += static_cast<uint32_t>(payload.size()) + ((flags & kTcpSyn) ? 1 : 0);
  }
  Engine& engine_;
  CtTuple orig_, reply_;
  uint32_t c_seq_ = 1000, s_seq_ = 9000;
  uint64_t now_ms_ = 1000;
};

struct EngineCase {
  const char* name;
  CtTuple orig, reply;
  bool client_announces;
  const char* command;  // client line (announcement or PASV/EPSV)
  const char* reply_line;  // server's announcement (passive) or "200 ok"
  bool rewritten;
};

TEST_F(PlaneTest, EngineExpectationsSurviveTheLabelsExactly) {
  const CtTuple so{Ep("10.7.0.3", 40200), Ep("198.51.100.2", 21), 6};
  const CtTuple sr{Ep("198.51.100.2", 21), Ep("203.0.113.1", 40200), 6};
  const CtTuple dno{Ep("198.51.100.9", 40201), Ep("203.0.113.1", 21), 6};
  const CtTuple dnr{Ep("10.7.0.5", 21), Ep("198.51.100.9", 40201), 6};
  const CtTuple s6o{Ep("fd00:7::2", 40202), Ep("2001:db8:2::2", 21), 6};
  const CtTuple s6r{Ep("2001:db8:2::2", 21), Ep("2001:db8:1::1", 40202), 6};
  const CtTuple d6o{Ep("2001:db8:9::9", 40203), Ep("2001:db8:1::1", 21), 6};
  const CtTuple d6r{Ep("fd00:7::5", 21), Ep("2001:db8:9::9", 40203), 6};
  const EngineCase cases[] = {
      {"SNAT active PORT, port remapped", so, sr, true, "PORT 10,7,0,3,19,137\r\n",
       "200 ok\r\n", true},
      {"SNAT active EPRT", so, sr, true, "EPRT |1|10.7.0.3|5010|\r\n", "200 ok\r\n", true},
      {"SNAT passive 227 (public server)", so, sr, false, "PASV\r\n",
       "227 Entering Passive Mode (198,51,100,2,23,112)\r\n", false},
      {"DNAT passive 227", dno, dnr, false, "PASV\r\n",
       "227 Entering Passive Mode (10,7,0,5,23,113)\r\n", true},
      {"DNAT passive 229", dno, dnr, false, "EPSV\r\n",
       "229 Entering Extended Passive Mode (|||6002|)\r\n", false},
      {"DNAT active PORT (public client)", dno, dnr, true,
       "PORT 198,51,100,9,27,88\r\n", "200 ok\r\n", false},
      {"v6 SNAT active EPRT", s6o, s6r, true, "EPRT |2|fd00:7::2|5011|\r\n",
       "200 ok\r\n", true},
      {"v6 SNAT passive 229", s6o, s6r, false, "EPSV\r\n",
       "229 ok (|||6003|)\r\n", false},
      {"v6 DNAT passive 229", d6o, d6r, false, "EPSV\r\n", "229 ok (|||6004|)\r\n", false},
      {"v6 DNAT active EPRT (public client)", d6o, d6r, true,
       "EPRT |2|2001:db8:9::9|7001|\r\n", "200 ok\r\n", false},
  };
  for (const EngineCase& c : cases) {
    SCOPED_TRACE(c.name);
    kernel_ = KernelState{};
    seen_ = 0;
    kernel_.conntracks.push_back(Conntrack(c.orig, c.reply));
    // Something else already holds 203.0.113.1:5001 (the remap case).
    kernel_.conntracks.push_back(Conntrack(kSnatOrig, kSnatReply));
    Make();
    ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 5001)),
              InstallResult::kOk);
    EngineConfig cfg;
    RecordingSink sink(plane_->sink());
    QuietLogger quiet;
    Stats stats;
    Engine engine(cfg, sink, plane_->resolver(), quiet, stats);
    Wire wire(engine, c.orig, c.reply);
    wire.Login();
    const size_t before = kernel_.label_writes.size();
    if (c.client_announces) {
      wire.Client(c.command);
      EXPECT_EQ(wire.last_payload != c.command, c.rewritten) << wire.last_payload;
    } else {
      wire.Client(c.command);
      wire.Server(c.reply_line);
      EXPECT_EQ(wire.last_payload != c.reply_line, c.rewritten) << wire.last_payload;
    }
    ASSERT_EQ(sink.installed.size(), 1u);
    const Expectation& e = sink.installed.back();
    // Written while the announcing packet was in the engine (before its
    // verdict), at least the pending write.
    EXPECT_GT(kernel_.label_writes.size(), before);
    const auto st = LabelsOf(kernel_, c.orig);
    ASSERT_TRUE(st && st->pending);
    const Expectation back =
        ExpectationFromPending(*st->pending, c.orig, c.reply, std::nullopt, e.timeout_s);
    EXPECT_EQ(back.kind, e.kind);
    EXPECT_EQ(back.announcer, e.announcer);
    EXPECT_EQ(back.master, e.master);
    EXPECT_EQ(back.peer, e.peer);
    EXPECT_EQ(back.target, e.target);
    EXPECT_EQ(back.nat_to, e.nat_to);
    if (c.rewritten) {
      EXPECT_NE(st->snapshot.offset[c.client_announces ? 0 : 1], 0);
    }
    if (std::string(c.name).find("remapped") != std::string::npos) {
      EXPECT_EQ(e.target.port, 5002);
      EXPECT_EQ(e.nat_to.port, 5001);
    }
    // A backup's daemon re-creates the same pending set element.
    std::string primary_add;
    for (const std::string& r : kernel_.requests) {
      if (r.rfind("IPSET_ADD", 0) == 0) primary_add = r;
    }
    Make();
    seen_ = kernel_.requests.size();
    const ResyncCounts r = plane_->ResyncFromConntrack(5000);
    EXPECT_EQ(r.pending_restored, 2u);  // this one and the 5001 holder
    EXPECT_EQ(r.errors, 0u);
    bool found = false;
    for (size_t i = seen_; i < kernel_.requests.size(); ++i) {
      found = found || kernel_.requests[i] == primary_add;
    }
    EXPECT_TRUE(found) << primary_add;
  }
}

}  // namespace
}  // namespace ftpalg::testing
