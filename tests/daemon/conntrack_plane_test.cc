// Tests for the conntrack plane against a scripted kernel: which ctnetlink
// and ipset requests it sends, in which order, and how it reacts to errors.
// Live behaviour on a real kernel is covered by the namespace e2e suite.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/conntrack_plane.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "adapters/ctnetlink_labels.h"
#include "adapters/ctnetlink_messages.h"
#include "adapters/ipset_messages.h"
#include "adapters/netlink_socket.h"
#include "ftpalg/config.h"
#include "ftpalg/engine.h"
#include "ftpalg/stats.h"
#include "tests/support/packet_builder.h"

namespace ftpalg {
namespace {

using ::ftpalg::testing::BuildTcp;
using ::ftpalg::testing::Ep;
using ::ftpalg::testing::PayloadOf;
using ::ftpalg::testing::TcpSpec;

std::string Describe(const nlmsghdr* nlh) {
  return (nlh->nlmsg_type >> 8) == NFNL_SUBSYS_IPSET ? DescribeIpsetMessage(nlh)
                                                     : DescribeCtMessage(nlh);
}

// One label update the plane sent.
struct LabelWriteSeen {
  CtTuple orig;
  CtLabelWrite write;
  size_t after_requests = 0;  // requests.size() when it was sent
};

// What the scripted kernel knows and what it was asked.
struct KernelState {
  std::vector<CtInfo> conntracks;
  std::vector<std::string> requests;            // readable dumps
  std::map<std::string, std::deque<int>> errors;  // "CT_NEW" -> next errnos
  bool labels = true;  // conntracks have label space (else ENOSPC)
  // Label updates are always recorded in label_writes; in requests only
  // when set (the mechanism tests look at the other operations).
  bool label_writes_in_requests = false;
  std::vector<LabelWriteSeen> label_writes;
  size_t dump_batches = 0;  // dump requests answered
};

class FakeKernel final : public NetlinkChannel {
 public:
  explicit FakeKernel(KernelState* state) : state_(state) {}
  uint32_t NextSeq() override { return ++seq_; }

  int Request(nlmsghdr* request, const ReplyFn& on_reply) override {
    const std::string d = Describe(request);
    const std::string op = d.substr(0, d.find(' '));
    CtTuple orig;
    CtLabelWrite w;
    const bool label_write =
        op == "CT_NEW" && ParseCtSetLabels(request, &orig, &w.data, &w.mask);
    if (label_write) {
      state_->label_writes.push_back({orig, w, state_->requests.size()});
    }
    if (!label_write || state_->label_writes_in_requests) {
      state_->requests.push_back(d);
    }
    if (auto it = state_->errors.find(op);
        it != state_->errors.end() && !it->second.empty()) {
      const int err = it->second.front();
      it->second.pop_front();
      if (err != 0) return err;
    }
    if (label_write) {
      for (CtInfo& ct : state_->conntracks) {
        if (!(*ct.orig == orig)) continue;
        if (!state_->labels) return ENOSPC;
        ct.labels = ApplyLabelWrite(ct.labels.value_or(CtLabelBits{}), w);
        return 0;
      }
      return ENOENT;
    }
    if (op != "CT_GET") return 0;
    alignas(8) uint8_t buf[kNlMsgBufSize];
    for (const CtInfo& ct : state_->conntracks) {
      for (TupleAttr which : {TupleAttr::kOrig, TupleAttr::kReply}) {
        const CtTuple& t = which == TupleAttr::kOrig ? *ct.orig : *ct.reply;
        if (Describe(BuildCtGet(buf, 0, t, which)) != d) continue;
        on_reply(BuildCtInfoMessage(buf, request->nlmsg_seq, ct));
        return 0;
      }
    }
    return ENOENT;
  }
  // A CT_GET dump answers every conntrack of the request's family (all of
  // them for AF_UNSPEC, "family=0").
  int Dump(nlmsghdr* request, const ReplyFn& on_reply) override {
    const std::string d = Describe(request);
    state_->requests.push_back(d);
    const std::string op = d.substr(0, d.find(' '));
    if (auto it = state_->errors.find(op + "(dump)");
        it != state_->errors.end() && !it->second.empty()) {
      const int err = it->second.front();
      it->second.pop_front();
      if (err != 0) return err;
    }
    ++state_->dump_batches;
    const bool v6 = d.find("family=inet6 ") != std::string::npos;
    const bool all = d.find("family=0 ") != std::string::npos;
    alignas(8) uint8_t buf[kNlMsgBufSize];
    for (const CtInfo& ct : state_->conntracks) {
      if (!all && (ct.orig->family() == Family::kV6) != v6) continue;
      on_reply(BuildCtInfoMessage(buf, request->nlmsg_seq, ct));
    }
    return 0;
  }

 private:
  KernelState* state_;
  uint32_t seq_ = 0;
};

class CapturingLogger final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return true; }
  void Log(LogLevel l, std::string_view m) override {
    lines.emplace_back(std::string(LevelName(l)) + ": " + std::string(m));
  }
  size_t Count(std::string_view needle) const {
    size_t n = 0;
    for (const auto& l : lines) n += l.find(needle) != std::string::npos;
    return n;
  }
  std::vector<std::string> lines;
};

CtInfo Conntrack(CtTuple orig, CtTuple reply, const char* helper = "") {
  CtInfo ct;
  ct.orig = orig;
  ct.reply = reply;
  std::strncpy(ct.helper.data(), helper, ct.helper.size() - 1);
  return ct;
}

// Client 10.7.0.2 behind MASQUERADE 203.0.113.1, server 203.0.113.2.
const CtTuple kSnatOrig{Ep("10.7.0.2", 40100), Ep("203.0.113.2", 21), 6};
const CtTuple kSnatReply{Ep("203.0.113.2", 21), Ep("203.0.113.1", 40100), 6};
// Client 203.0.113.2, server 10.7.0.2 behind DNAT 203.0.113.1:21.
const CtTuple kDnatOrig{Ep("203.0.113.2", 40105), Ep("203.0.113.1", 21), 6};
const CtTuple kDnatReply{Ep("10.7.0.2", 21), Ep("203.0.113.2", 40105), 6};

Expectation PortExpectation(const CtTuple& master, uint16_t port) {
  Expectation e;
  e.kind = AnnounceKind::kPort;
  e.announcer = Direction::kOriginal;
  e.master = master.ToFlow();
  e.peer = *IpAddress::Parse("203.0.113.2");
  e.target = Ep("203.0.113.1", port);
  e.nat_to = Ep("10.7.0.2", port);
  e.timeout_s = 60;
  return e;
}

Expectation PasvExpectation(const CtTuple& master, uint16_t port) {
  Expectation e;
  e.kind = AnnounceKind::k227;
  e.announcer = Direction::kReply;
  e.master = master.ToFlow();
  e.peer = *IpAddress::Parse("203.0.113.2");
  e.target = Ep("203.0.113.1", port);
  e.nat_to = Ep("10.7.0.2", port);
  e.timeout_s = 60;
  return e;
}

std::vector<uint8_t> Syn(const char* src, uint16_t sport, const char* dst,
                         uint16_t dport) {
  TcpSpec s;
  s.src = Ep(src, sport);
  s.dst = Ep(dst, dport);
  s.seq = 1000;
  s.flags = kTcpSyn;
  return BuildTcp(s);
}

class PlaneTest : public ::testing::Test {
 protected:
  void Make(PlaneOptions options = {}) {
    plane_ = MakeConntrackPlane(options, log_,
                                std::make_unique<FakeKernel>(&kernel_), 1000);
  }
  void SetUp() override {
    kernel_.conntracks.push_back(Conntrack(kSnatOrig, kSnatReply));
    kernel_.conntracks.push_back(Conntrack(kDnatOrig, kDnatReply));
    Make();
  }
  // First words of each request since the last call ("CT_GET", ...).
  std::vector<std::string> TakeOps() {
    std::vector<std::string> ops;
    for (size_t i = seen_; i < kernel_.requests.size(); ++i) {
      ops.push_back(kernel_.requests[i].substr(0, kernel_.requests[i].find(' ')));
    }
    seen_ = kernel_.requests.size();
    return ops;
  }
  const std::string& Last() const { return kernel_.requests.back(); }
  const std::string& Nth(size_t from_end) const {
    return kernel_.requests[kernel_.requests.size() - 1 - from_end];
  }
  bool CounterIs(const std::string& name, uint64_t value) const {
    return (" " + plane_->Counters() + " ").find(" " + name + "=" +
                                                 std::to_string(value) + " ") !=
           std::string::npos;
  }
  void DataSyn(const std::vector<uint8_t>& p, uint64_t now = 2000) {
    plane_->OnDataSyn(p.data(), p.size(), now);
  }

  KernelState kernel_;
  CapturingLogger log_;
  std::unique_ptr<ConntrackPlane> plane_;
  size_t seen_ = 0;
};

using OpList = std::vector<std::string>;

TEST_F(PlaneTest, MasterForReplyAsksOnceThenUsesTheCache) {
  const auto m = plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, kSnatOrig.ToFlow());
  EXPECT_NE(Last().find("CTA_TUPLE_REPLY"), std::string::npos);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst), m);
  }
  EXPECT_EQ(TakeOps(), OpList{});  // no netlink round trip per packet
  // Binding of a resolved connection comes from the same cache entry.
  plane_->resolver().Binding(*m);
  EXPECT_EQ(TakeOps(), OpList{});
  EXPECT_TRUE(CounterIs("resolver_hits", 5));
  plane_->resolver().Forget(*m);
  plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));
}

TEST_F(PlaneTest, UnknownReplyTupleIsNullopt) {
  EXPECT_FALSE(plane_->resolver()
                   .MasterForReply(Ep("198.51.100.1", 21), Ep("203.0.113.1", 1))
                   .has_value());
  EXPECT_TRUE(CounterIs("resolver_failures", 1));
  EXPECT_TRUE(CounterIs("err_enoent", 1));
}

TEST_F(PlaneTest, TransientErrorsAreCountedAndLoggedOncePerBurst) {
  kernel_.errors["CT_GET"] = {ENOBUFS, ENOBUFS, ENOBUFS};
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(plane_->resolver()
                     .MasterForReply(kSnatReply.src, kSnatReply.dst)
                     .has_value());
  }
  EXPECT_TRUE(CounterIs("err_enobufs", 3));
  EXPECT_EQ(log_.Count("CT_GET ENOBUFS"), 1u);
  plane_->Expire(1000 + 11000);
  EXPECT_EQ(log_.Count("CT_GET ENOBUFS: 2 more suppressed"), 1u);
  // Recovered: the next lookup works.
  EXPECT_TRUE(plane_->resolver()
                  .MasterForReply(kSnatReply.src, kSnatReply.dst)
                  .has_value());
}

TEST_F(PlaneTest, BindingFromConntrackTuples) {
  NatBinding b = plane_->resolver().Binding(kSnatOrig.ToFlow());
  EXPECT_EQ(b.client_inside.ToString(), "10.7.0.2");
  EXPECT_EQ(b.client_outside.ToString(), "203.0.113.1");
  EXPECT_EQ(b.server_outside.ToString(), "203.0.113.2");
  EXPECT_EQ(b.server_inside.ToString(), "203.0.113.2");
  b = plane_->resolver().Binding(kDnatOrig.ToFlow());
  EXPECT_EQ(b.client_inside.ToString(), "203.0.113.2");
  EXPECT_EQ(b.client_outside.ToString(), "203.0.113.2");
  EXPECT_EQ(b.server_outside.ToString(), "203.0.113.1");
  EXPECT_EQ(b.server_inside.ToString(), "10.7.0.2");
}

TEST_F(PlaneTest, PublicIpOverridesOnlyTheNatedEnd) {
  PlaneOptions o;
  o.public_v4 = IpAddress::Parse("198.51.100.7");
  Make(o);
  NatBinding b = plane_->resolver().Binding(kSnatOrig.ToFlow());
  EXPECT_EQ(b.client_outside.ToString(), "198.51.100.7");
  EXPECT_EQ(b.server_outside.ToString(), "203.0.113.2");
  b = plane_->resolver().Binding(kDnatOrig.ToFlow());
  EXPECT_EQ(b.client_outside.ToString(), "203.0.113.2");
  EXPECT_EQ(b.server_outside.ToString(), "198.51.100.7");
}

TEST_F(PlaneTest, UnknownMasterGetsIdentityBinding) {
  const FlowKey k{Ep("10.9.9.9", 5555), Ep("192.0.2.9", 21)};
  const NatBinding b = plane_->resolver().Binding(k);
  EXPECT_EQ(b.client_outside, k.client.addr);
  EXPECT_EQ(b.server_inside, k.server.addr);
  EXPECT_TRUE(CounterIs("binding_fallbacks", 1));
}

TEST_F(PlaneTest, PrecreateActiveModeEndToEnd) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  EXPECT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD"}));
  EXPECT_NE(Last().find("IPSET_ATTR_SETNAME=\"ftpalg-pend4\""), std::string::npos);
  EXPECT_NE(Last().find("IPSET_ATTR_IPADDR_IPV4 [net]=203.0.113.1"), std::string::npos);
  EXPECT_NE(Last().find("IPSET_ATTR_PORT [net]=45000"), std::string::npos);
  EXPECT_NE(Last().find("IPSET_ATTR_TIMEOUT [net]=60"), std::string::npos);
  EXPECT_EQ(log_.Count("pre-created related conntrack (no helper)"), 1u);

  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW", "IPSET_DEL"}));
  const std::string& ct_new = Nth(1);
  EXPECT_NE(ct_new.find("  CTA_TUPLE_ORIG\n"
                        "    CTA_TUPLE_IP\n"
                        "      CTA_IP_V4_SRC=203.0.113.2\n"
                        "      CTA_IP_V4_DST=203.0.113.1\n"
                        "    CTA_TUPLE_PROTO\n"
                        "      CTA_PROTO_NUM=6\n"
                        "      CTA_PROTO_SRC_PORT=20\n"
                        "      CTA_PROTO_DST_PORT=45000\n"),
            std::string::npos)
      << ct_new;
  EXPECT_NE(ct_new.find("  CTA_TUPLE_MASTER\n"
                        "    CTA_TUPLE_IP\n"
                        "      CTA_IP_V4_SRC=10.7.0.2\n"
                        "      CTA_IP_V4_DST=203.0.113.2\n"),
            std::string::npos);
  // The server keeps its address (how the client knows it); the target is
  // DNATed to the inside client.
  EXPECT_NE(ct_new.find("  CTA_NAT_SRC\n    CTA_NAT_V4_MINIP=203.0.113.2\n"),
            std::string::npos);
  EXPECT_NE(ct_new.find("  CTA_NAT_DST\n    CTA_NAT_V4_MINIP=10.7.0.2\n"),
            std::string::npos);
  EXPECT_NE(ct_new.find("CTA_PROTONAT_PORT_MIN=45000"), std::string::npos);
  EXPECT_TRUE(CounterIs("related_created", 1));

  // One connection per expectation: a second SYN finds nothing.
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList{});
  EXPECT_TRUE(CounterIs("syn_unmatched", 1));
  // The engine's later Remove is harmless.
  plane_->sink().Remove(e);
  EXPECT_EQ(TakeOps(), OpList{});
}

// One info line per event, each with the session id: expectation installed
// (either mechanism), related conntrack created; the cap is a LIMIT line,
// once per burst.
TEST_F(PlaneTest, EventLinesCarryTheSessionId) {
  Expectation e = PortExpectation(kSnatOrig, 45000);
  e.session_id = 7;
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(log_.Count("info: #7 expectation installed (pending set ftpalg-pend4: "
                       "related conntrack on the data SYN): 203.0.113.2 -> "
                       "203.0.113.1:45000 nat 10.7.0.2:45000"),
            1u)
      << log_.lines.back();
  // A retransmitted announcement refreshes: no second line.
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(log_.Count("expectation installed"), 1u);
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(log_.Count("info: #7 related conntrack created: "), 1u) << log_.lines.back();
  EXPECT_EQ(log_.Count("DNAT 10.7.0.2:45000 SNAT 203.0.113.2 master "), 1u)
      << log_.lines.back();

  kernel_.conntracks[1] = Conntrack(kDnatOrig, kDnatReply, "irc");
  Expectation k = PasvExpectation(kDnatOrig, 45020);
  k.session_id = 9;
  ASSERT_EQ(plane_->sink().Install(k), InstallResult::kOk);
  EXPECT_EQ(log_.Count("info: #9 expectation installed (kernel expectation): "), 1u)
      << log_.lines.back();

  PlaneOptions o;
  o.max_expectations = 1;
  Make(o);
  log_.lines.clear();
  e.session_id = 11;
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  for (uint16_t port = 45001; port < 45011; ++port) {
    Expectation x = PortExpectation(kSnatOrig, port);
    x.session_id = 12;
    EXPECT_EQ(plane_->sink().Install(x), InstallResult::kFailed);
  }
  EXPECT_EQ(log_.Count("warn: conntrack plane: #12 LIMIT max-expectations 1 reached: "
                       "refusing 203.0.113.1:45001"),
            1u);
  EXPECT_EQ(log_.Count("LIMIT"), 1u);  // the burst: one line
  plane_->Expire(1000 + 11 * 1000);     // the window is over: the rest is told
  EXPECT_EQ(log_.Count("cap: 9 more suppressed"), 1u);
}

TEST_F(PlaneTest, PrecreatePassiveBehindSnatTranslatesTheClient) {
  Expectation e;
  e.kind = AnnounceKind::k227;
  e.announcer = Direction::kReply;
  e.master = kSnatOrig.ToFlow();
  e.peer = *IpAddress::Parse("10.7.0.2");
  e.target = Ep("203.0.113.2", 46000);
  e.nat_to = Ep("203.0.113.2", 46000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  DataSyn(Syn("10.7.0.2", 51870, "203.0.113.2", 46000));
  const std::string& ct_new = Nth(1);
  EXPECT_NE(ct_new.find("  CTA_NAT_SRC\n    CTA_NAT_V4_MINIP=203.0.113.1\n"),
            std::string::npos)
      << ct_new;
  EXPECT_NE(ct_new.find("CTA_PROTO_SRC_PORT=51870"), std::string::npos);
}

TEST_F(PlaneTest, PrecreateActiveToDnatedServerSnatsTheServer) {
  Expectation e;
  e.kind = AnnounceKind::kPort;
  e.announcer = Direction::kOriginal;
  e.master = kDnatOrig.ToFlow();
  e.peer = *IpAddress::Parse("10.7.0.2");
  e.target = Ep("203.0.113.2", 47010);
  e.nat_to = Ep("203.0.113.2", 47010);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  DataSyn(Syn("10.7.0.2", 20, "203.0.113.2", 47010));
  EXPECT_NE(Nth(1).find("  CTA_NAT_SRC\n    CTA_NAT_V4_MINIP=203.0.113.1\n"),
            std::string::npos)
      << Nth(1);
}

TEST_F(PlaneTest, EexistDeletesTheStaleConntrackAndRetriesOnce) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  TakeOps();
  kernel_.errors["CT_NEW"] = {EEXIST, 0};
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW", "CT_DELETE", "CT_NEW", "IPSET_DEL"}));
  EXPECT_NE(Nth(2).find("CTA_PROTO_SRC_PORT=20"), std::string::npos);
  EXPECT_TRUE(CounterIs("related_eexist_retries", 1));
  EXPECT_TRUE(CounterIs("related_created", 1));
}

TEST_F(PlaneTest, FailedCreateKeepsTheExpectationForARetransmittedSyn) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  TakeOps();
  kernel_.errors["CT_NEW"] = {ENOENT};
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW"}));
  EXPECT_TRUE(CounterIs("related_failed", 1));
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW", "IPSET_DEL"}));
}

TEST_F(PlaneTest, SynFromAnotherPeerOrNotASynIsIgnored) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  TakeOps();
  DataSyn(Syn("198.51.100.9", 20, "203.0.113.1", 45000));
  EXPECT_TRUE(CounterIs("syn_peer_mismatch", 1));
  TcpSpec s;
  s.src = Ep("203.0.113.2", 20);
  s.dst = Ep("203.0.113.1", 45000);
  s.flags = kTcpSyn | kTcpAck;
  DataSyn(BuildTcp(s));
  const uint8_t junk[7] = {0x45, 0, 0, 7, 0, 0, 0};
  plane_->OnDataSyn(junk, sizeof(junk), 2000);
  EXPECT_TRUE(CounterIs("syn_malformed", 2));
  EXPECT_EQ(TakeOps(), OpList{});
}

TEST_F(PlaneTest, RefreshSameMasterAndBusyForAnother) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  TakeOps();
  EXPECT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_ADD"}));  // timeout refreshed
  Expectation other = PasvExpectation(kDnatOrig, 45000);
  EXPECT_EQ(plane_->sink().Install(other), InstallResult::kPortBusy);
  EXPECT_EQ(TakeOps(), OpList{});  // decided locally
  other.target.port = 45001;
  other.nat_to.port = 45001;
  EXPECT_EQ(plane_->sink().Install(other), InstallResult::kOk);
}

TEST_F(PlaneTest, GlobalCapRefuses) {
  PlaneOptions o;
  o.max_expectations = 2;
  Make(o);
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)), InstallResult::kOk);
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45001)), InstallResult::kOk);
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45002)),
            InstallResult::kFailed);
  EXPECT_TRUE(CounterIs("cap_refusals", 1));
  plane_->sink().Remove(PortExpectation(kSnatOrig, 45000));
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45002)), InstallResult::kOk);
}

TEST_F(PlaneTest, MissingSetFailsTheInstall) {
  kernel_.errors["IPSET_ADD"] = {ENOENT};
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kFailed);
  EXPECT_EQ(log_.Count("IPSET_ADD ENOENT"), 1u);
}

TEST_F(PlaneTest, NoConntrackForMasterFailsTheInstall) {
  Expectation e = PortExpectation(kSnatOrig, 45000);
  e.master.client.port = 1;
  EXPECT_EQ(plane_->sink().Install(e), InstallResult::kFailed);
  EXPECT_TRUE(CounterIs("install_failures", 1));
}

TEST_F(PlaneTest, RemoveExpireAndRemoveAll) {
  const Expectation a = PortExpectation(kSnatOrig, 45000);
  Expectation b = PortExpectation(kSnatOrig, 45001);
  b.timeout_s = 5;
  const Expectation c = PortExpectation(kSnatOrig, 45002);
  ASSERT_EQ(plane_->sink().Install(a), InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(b), InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(c), InstallResult::kOk);
  TakeOps();
  Expectation wrong_master = a;
  wrong_master.master.client.port = 9;
  plane_->sink().Remove(wrong_master);
  EXPECT_EQ(TakeOps(), OpList{});
  plane_->sink().Remove(a);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL"}));
  plane_->Expire(1000 + 4000);
  EXPECT_EQ(TakeOps(), OpList{});
  plane_->Expire(1000 + 5000);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL"}));
  EXPECT_NE(Last().find("IPSET_ATTR_PORT [net]=45001"), std::string::npos);
  EXPECT_TRUE(CounterIs("expired", 1));
  plane_->RemoveAll();
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL"}));
  EXPECT_TRUE(CounterIs("pending", 0));
}

TEST_F(PlaneTest, InertHelperUsesKernelExpectations) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  const Expectation e = PortExpectation(kSnatOrig, 45010);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "EXP_NEW", "EXP_NEW"}));
  const std::string& create = Nth(1);
  EXPECT_NE(create.find("flags=REQUEST|ACK|EXCL|CREATE"), std::string::npos);
  EXPECT_NE(create.find("  CTA_EXPECT_TUPLE\n"
                        "    CTA_TUPLE_IP\n"
                        "      CTA_IP_V4_SRC=203.0.113.2\n"
                        "      CTA_IP_V4_DST=203.0.113.1\n"
                        "    CTA_TUPLE_PROTO\n"
                        "      CTA_PROTO_NUM=6\n"
                        "      CTA_PROTO_SRC_PORT=0\n"
                        "      CTA_PROTO_DST_PORT=45010\n"),
            std::string::npos)
      << create;
  EXPECT_NE(create.find("CTA_EXPECT_NAT_DIR=1\n"), std::string::npos);
  EXPECT_NE(create.find("CTA_EXPECT_FN=\"nat-follow-master\""), std::string::npos);
  EXPECT_NE(Last().find("flags=REQUEST|ACK\n"), std::string::npos);
  EXPECT_NE(Last().find("CTA_EXPECT_TIMEOUT=60"), std::string::npos);
  EXPECT_EQ(log_.Count("kernel expectation (helper irc)"), 1u);
  // No SYN is expected for it: nothing in the pending set.
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45010));
  EXPECT_EQ(TakeOps(), OpList{});
  plane_->sink().Remove(e);
  EXPECT_EQ(TakeOps(), OpList({"EXP_DELETE"}));
  EXPECT_NE(Last().find("CTA_EXPECT_TUPLE"), std::string::npos);
}

TEST_F(PlaneTest, ReannouncedExpectationIsRecreatedAfterTheKernelUsedIt) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  const Expectation e = PortExpectation(kSnatOrig, 45010);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  TakeOps();
  // Still pending here, gone in the kernel (a data connection used it).
  kernel_.errors["EXP_NEW"] = {ENOENT};
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"EXP_NEW", "EXP_NEW", "EXP_NEW"}));
  EXPECT_NE(Nth(1).find("EXCL|CREATE"), std::string::npos);
  EXPECT_TRUE(CounterIs("expect_created", 2));
}

TEST_F(PlaneTest, PassiveExpectationUsesOriginalDirection) {
  kernel_.conntracks[1] = Conntrack(kDnatOrig, kDnatReply, "sane");
  ASSERT_EQ(plane_->sink().Install(PasvExpectation(kDnatOrig, 47020)),
            InstallResult::kOk);
  EXPECT_NE(Nth(1).find("CTA_EXPECT_NAT_DIR=0\n"), std::string::npos) << Nth(1);
}

TEST_F(PlaneTest, KernelExpectationConflictIsPortBusy) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  kernel_.errors["EXP_NEW"] = {EBUSY, EEXIST};
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kPortBusy);
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45011)),
            InstallResult::kPortBusy);
  EXPECT_TRUE(CounterIs("port_busy", 2));
  EXPECT_TRUE(CounterIs("pending", 0));
}

TEST_F(PlaneTest, ExpectationRefusedFallsBackToPrecreate) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  kernel_.errors["EXP_NEW"] = {EOPNOTSUPP};
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "EXP_NEW", "IPSET_ADD"}));
  // Remembered for the connection: no second EXP_NEW attempt.
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45011)),
            InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_ADD"}));
  EXPECT_TRUE(CounterIs("expect_fallbacks", 1));
}

TEST_F(PlaneTest, ForcedExpectDoesNotFallBack) {
  PlaneOptions o;
  o.mechanism = PlaneOptions::Mechanism::kExpect;
  Make(o);
  kernel_.errors["EXP_NEW"] = {EOPNOTSUPP};
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kFailed);
  EXPECT_TRUE(CounterIs("err_eopnotsupp", 1));
}

TEST_F(PlaneTest, KernelFtpHelperIsNeverUsedAndWarned) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "ftp");
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD"}));
  EXPECT_EQ(log_.Count("kernel ftp helper"), 1u);
  EXPECT_TRUE(CounterIs("masters_ftp_helper", 1));
}

TEST_F(PlaneTest, ForcedPrecreateIgnoresTheHelper) {
  PlaneOptions o;
  o.mechanism = PlaneOptions::Mechanism::kPrecreate;
  Make(o);
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD"}));
}

TEST_F(PlaneTest, PublicIpTargetIsMappedToTheGatewayAddress) {
  PlaneOptions o;
  o.public_v4 = IpAddress::Parse("198.51.100.7");
  Make(o);
  Expectation e = PortExpectation(kSnatOrig, 45000);
  e.target = Ep("198.51.100.7", 45000);  // what the engine announced
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_NE(Last().find("IPSET_ATTR_IPADDR_IPV4 [net]=203.0.113.1"),
            std::string::npos)
      << Last();
  // The upstream NAT delivers the SYN to the gateway's own address.
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_TRUE(CounterIs("related_created", 1));
  // Remove works with the engine's view of the target.
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  TakeOps();
  plane_->sink().Remove(e);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL"}));
}

TEST_F(PlaneTest, Ipv6UsesTheV6Set) {
  const CtTuple orig{Ep("fd00:7::2", 40110), Ep("2001:db8:1::2", 21), 6};
  const CtTuple reply{Ep("2001:db8:1::2", 21), Ep("2001:db8:1::1", 40110), 6};
  kernel_.conntracks.push_back(Conntrack(orig, reply));
  Expectation e;
  e.announcer = Direction::kOriginal;
  e.kind = AnnounceKind::kEprt;
  e.master = orig.ToFlow();
  e.peer = *IpAddress::Parse("2001:db8:1::2");
  e.target = Ep("2001:db8:1::1", 45100);
  e.nat_to = Ep("fd00:7::2", 45100);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_NE(Last().find("IPSET_ADD family=inet6"), std::string::npos);
  EXPECT_NE(Last().find("\"ftpalg-pend6\""), std::string::npos);
  DataSyn(Syn("2001:db8:1::2", 20, "2001:db8:1::1", 45100));
  EXPECT_NE(Nth(1).find("CTA_NAT_V6_MINIP=fd00:7::2"), std::string::npos) << Nth(1);
  EXPECT_NE(Nth(1).find("CTA_NAT_SRC\n    CTA_NAT_V6_MINIP=2001:db8:1::2"),
            std::string::npos);
}

TEST_F(PlaneTest, MasterMarkIsInherited) {
  kernel_.conntracks[0].mark = 0x42;
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_NE(Nth(1).find("CTA_MARK=66\n"), std::string::npos) << Nth(1);
}

TEST_F(PlaneTest, ResolverCacheIsBounded) {
  PlaneOptions o;
  o.resolver_cache_size = 1;
  Make(o);
  plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst);
  plane_->resolver().MasterForReply(kDnatReply.src, kDnatReply.dst);
  EXPECT_TRUE(CounterIs("resolver_evictions", 1));
  EXPECT_TRUE(CounterIs("resolver_cached", 1));
  TakeOps();
  EXPECT_TRUE(plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst));
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));
}

TEST_F(PlaneTest, IdleCacheEntriesExpire) {
  plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst);
  plane_->Expire(1000 + 899 * 1000);
  EXPECT_TRUE(CounterIs("resolver_cached", 1));
  plane_->Expire(1000 + 911 * 1000);  // sweeps run every 10 s
  EXPECT_TRUE(CounterIs("resolver_cached", 0));
}

TEST_F(PlaneTest, DescribeAndCounters) {
  EXPECT_EQ(plane_->Describe().rfind("mechanisms: auto", 0), 0u);
  EXPECT_NE(plane_->Describe().find("ftpalg-pend4/ftpalg-pend6"), std::string::npos);
  EXPECT_NE(plane_->Counters().find("syn_unmatched=0"), std::string::npos);
}

// ---- restart survival: session offsets in conntrack labels ----

TEST_F(PlaneTest, SnapshotIsWrittenToLabelsWithAMaskAndReadBack) {
  kernel_.label_writes_in_requests = true;
  kernel_.conntracks[0].labels = CtLabelBits{};
  SetLabelBit(&*kernel_.conntracks[0].labels, 5, true);  // the operator's bit
  SessionSnapshot snap;
  snap.offset[0] = 3;
  snap.offset[1] = -1;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "CT_NEW"}));
  EXPECT_EQ(Last().find("CREATE"), std::string::npos) << Last();  // an update
  EXPECT_NE(Last().find("CTA_LABELS_MASK"), std::string::npos) << Last();
  EXPECT_TRUE(CounterIs("snapshot_saved", 1));
  const CtLabelBits& kept = *kernel_.conntracks[0].labels;
  EXPECT_TRUE(LabelBit(kept, 5));  // untouched
  // The same offsets again (a retransmission rewritten identically): no I/O.
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList{});
  EXPECT_TRUE(CounterIs("snapshot_unchanged", 1));

  // A restarted daemon: a fresh plane over the same kernel.
  Make();
  TakeOps();
  const auto back = plane_->resolver().LoadSnapshot(kSnatOrig.ToFlow());
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));  // one round trip
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->offset[0], 3);
  EXPECT_EQ(back->offset[1], -1);
  EXPECT_FALSE(back->tls);
  EXPECT_TRUE(CounterIs("snapshot_loaded", 1));
  // A later rewrite writes again; the operator's bit still survives.
  snap.offset[0] = 6;
  snap.tls = true;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW"}));
  const auto again = DecodeSnapshotLabels(*kernel_.conntracks[0].labels);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->offset[0], 6);
  EXPECT_TRUE(again->tls);
  EXPECT_TRUE(LabelBit(*kernel_.conntracks[0].labels, 5));
}

TEST_F(PlaneTest, PickedUpSessionWithoutOurLabelsHasNoSnapshot) {
  kernel_.conntracks[1].labels = CtLabelBits{};
  SetLabelBit(&*kernel_.conntracks[1].labels, 127, true);  // not our magic
  EXPECT_FALSE(plane_->resolver().LoadSnapshot(kSnatOrig.ToFlow()).has_value());
  EXPECT_FALSE(plane_->resolver().LoadSnapshot(kDnatOrig.ToFlow()).has_value());
  const CtTuple unknown{Ep("10.7.0.9", 1), Ep("203.0.113.2", 21), 6};
  EXPECT_FALSE(plane_->resolver().LoadSnapshot(unknown.ToFlow()).has_value());
  EXPECT_TRUE(CounterIs("snapshot_absent", 3));
}

TEST_F(PlaneTest, NoLabelSpaceIsLoggedOnceAndNotRetried) {
  kernel_.label_writes_in_requests = true;
  kernel_.labels = false;
  SessionSnapshot snap;
  snap.offset[0] = 3;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "CT_NEW"}));
  snap.offset[0] = 6;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList{});  // known: this conntrack has no labels
  plane_->resolver().SaveSnapshot(kDnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "CT_NEW"}));
  EXPECT_TRUE(CounterIs("snapshot_no_labels", 3));
  EXPECT_TRUE(CounterIs("err_enospc", 2));
  EXPECT_EQ(log_.Count("has no conntrack labels"), 1u);  // once per burst
}

TEST_F(PlaneTest, LabelWriteErrorsAreCountedNeverFatal) {
  kernel_.label_writes_in_requests = true;
  SessionSnapshot snap;
  snap.offset[0] = 3;
  kernel_.errors["CT_NEW"] = {ENOBUFS, EPERM, ENOENT};
  for (int i = 0; i < 3; ++i) {
    snap.offset[0] += 3;
    plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  }
  EXPECT_TRUE(CounterIs("snapshot_save_failed", 3));
  EXPECT_TRUE(CounterIs("err_enobufs", 1));
  EXPECT_TRUE(CounterIs("err_eperm", 1));
  EXPECT_TRUE(CounterIs("err_enoent", 1));
  EXPECT_EQ(log_.Count("CT_NEW(labels) ENOBUFS"), 1u);
  EXPECT_EQ(log_.Count("CT_NEW(labels) EPERM"), 1u);
  // The next write works again.
  snap.offset[0] += 3;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_TRUE(CounterIs("snapshot_saved", 1));
}

// Every kernel error class on every operation: counted by class, logged once
// per burst (per operation and errno), nothing thrown, and the plane keeps
// answering (the installs after the burst work).
TEST_F(PlaneTest, ErrorBurstsOnEveryOperationAreCountedAndLoggedOnce) {
  for (int err : {ENOBUFS, EEXIST, ENOENT, EPERM}) {
    SCOPED_TRACE(err);
    log_.lines.clear();
    Make();
    const std::string before = plane_->Counters();
    kernel_.errors["IPSET_ADD"] = std::deque<int>(50, err);
    for (uint16_t p = 0; p < 50; ++p) {
      EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000 + p)),
                InstallResult::kFailed);
    }
    size_t logged = 0;
    for (const auto& l : log_.lines) logged += l.find("IPSET_ADD") != std::string::npos;
    EXPECT_EQ(logged, 1u);
    EXPECT_TRUE(CounterIs("install_failures", 50));
    const char* name = err == ENOBUFS  ? "err_enobufs"
                       : err == EEXIST ? "err_eexist"
                       : err == ENOENT ? "err_enoent"
                                       : "err_eperm";
    EXPECT_TRUE(CounterIs(name, 50)) << plane_->Counters();
    // After the burst the kernel answers again: installs work.
    EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 46000)),
              InstallResult::kOk);
    // The suppressed count is reported when the window ends.
    plane_->Expire(1000 + 11 * 1000);
    EXPECT_EQ(log_.Count("49 more suppressed"), 1u);
  }
  for (int err : {ENOBUFS, EPERM}) {
    SCOPED_TRACE(err);
    log_.lines.clear();
    Make();
    kernel_.errors["CT_GET"] = std::deque<int>(20, err);
    for (uint16_t p = 0; p < 20; ++p) {
      const CtTuple reply{Ep("203.0.113.2", 21), Ep("203.0.113.1", 50000 + p), 6};
      EXPECT_FALSE(plane_->resolver().MasterForReply(reply.src, reply.dst));
    }
    size_t logged = 0;
    for (const auto& l : log_.lines) logged += l.find("CT_GET") != std::string::npos;
    EXPECT_EQ(logged, 1u);
    EXPECT_TRUE(CounterIs("resolver_failures", 20));
  }
}


// ---- failover: the newest pending data connection in the labels ----

std::optional<LabelState> LabelsOf(const KernelState& k, const CtTuple& orig) {
  for (const CtInfo& ct : k.conntracks) {
    if (*ct.orig == orig && ct.labels) return DecodeLabels(*ct.labels);
  }
  return std::nullopt;
}

TEST_F(PlaneTest, PendingIsWrittenAtInstallAndClearedWhenTheSynCreatesIt) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  // One label write, after the IPSET_ADD, before Install returned (i.e.
  // before the verdict of the packet that carried the announcement).
  ASSERT_EQ(kernel_.label_writes.size(), 1u);
  EXPECT_EQ(kernel_.label_writes[0].after_requests, 2u);  // CT_GET, IPSET_ADD
  auto st = LabelsOf(kernel_, kSnatOrig);
  ASSERT_TRUE(st && st->pending);
  EXPECT_EQ(*st->pending, PendingFromExpectation(e));
  EXPECT_EQ(st->snapshot.offset[0], 0);  // a session without rewrite too
  EXPECT_TRUE(CounterIs("pending_saved", 1));
  EXPECT_TRUE(CounterIs("label_writes", 1));
  // The same announcement again: nothing new to write.
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(kernel_.label_writes.size(), 1u);

  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_TRUE(CounterIs("related_created", 1));
  ASSERT_EQ(kernel_.label_writes.size(), 2u);
  st = LabelsOf(kernel_, kSnatOrig);
  ASSERT_TRUE(st.has_value());
  EXPECT_FALSE(st->pending.has_value());
  EXPECT_TRUE(CounterIs("pending_cleared", 1));
  // The engine's later Remove finds nothing to clear.
  plane_->sink().Remove(e);
  EXPECT_EQ(kernel_.label_writes.size(), 2u);
}

TEST_F(PlaneTest, OnlyTheNewestPendingIsKeptAndAnOlderRemoveLeavesIt) {
  const Expectation a = PortExpectation(kSnatOrig, 45000);
  const Expectation b = PortExpectation(kSnatOrig, 45001);
  ASSERT_EQ(plane_->sink().Install(a), InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(b), InstallResult::kOk);
  EXPECT_EQ(LabelsOf(kernel_, kSnatOrig)->pending->target_port, 45001);
  plane_->sink().Remove(a);  // older: the labels describe b
  EXPECT_EQ(LabelsOf(kernel_, kSnatOrig)->pending->target_port, 45001);
  EXPECT_EQ(kernel_.label_writes.size(), 2u);
  plane_->sink().Remove(b);
  EXPECT_FALSE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());
  EXPECT_TRUE(CounterIs("pending_cleared", 1));
}

TEST_F(PlaneTest, ExpiredPendingIsCleared) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  plane_->Expire(1000 + 61 * 1000);
  EXPECT_TRUE(CounterIs("expired", 1));
  EXPECT_FALSE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());
}

TEST_F(PlaneTest, ShutdownKeepsThePendingInTheLabels) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  plane_->KeepLabelsOnRemove(true);
  plane_->sink().Remove(e);  // the engine's Shutdown
  plane_->RemoveAll();
  EXPECT_EQ(kernel_.label_writes.size(), 1u);
  EXPECT_TRUE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());
}

TEST_F(PlaneTest, PendingWithoutLabelSpaceIsTriedOnceNeverFatal) {
  kernel_.labels = false;
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45001)),
            InstallResult::kOk);
  EXPECT_EQ(kernel_.label_writes.size(), 1u);  // ENOSPC: never retried
  EXPECT_TRUE(CounterIs("snapshot_no_labels", 2));
  EXPECT_TRUE(CounterIs("pending_saved", 0));
  EXPECT_EQ(log_.Count("has no conntrack labels"), 1u);
}

TEST_F(PlaneTest, SnapshotOfAnUntouchedSessionIsNotWritten) {
  // AUTH on a session that never rewrote nor expected: nothing to keep.
  SessionSnapshot tls;
  tls.tls = true;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), tls);
  EXPECT_TRUE(kernel_.label_writes.empty());
  // Once the labels hold the session's state (a pending data connection),
  // the TLS flag is kept: a backup must not parse the encrypted stream.
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), tls);
  EXPECT_EQ(kernel_.label_writes.size(), 2u);
  EXPECT_TRUE(LabelsOf(kernel_, kSnatOrig)->snapshot.tls);
}

TEST_F(PlaneTest, ResyncRecreatesPendingFromAFakeDump) {
  // The primary: one active (SNAT) and one passive (DNAT) announcement.
  const Expectation act = PortExpectation(kSnatOrig, 45000);
  Expectation pas = PasvExpectation(kDnatOrig, 46000);
  pas.peer = *IpAddress::Parse("203.0.113.2");
  pas.nat_to = Ep("10.7.0.2", 46000);
  ASSERT_EQ(plane_->sink().Install(act), InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(pas), InstallResult::kOk);
  const std::string add_act = Nth(2);  // CT_GET IPSET_ADD CT_GET IPSET_ADD
  const std::string add_pas = Nth(0);
  ASSERT_EQ(add_act.rfind("IPSET_ADD", 0), 0u);
  // Foreign labels and a conntrack without labels are skipped.
  CtInfo other = Conntrack(CtTuple{Ep("10.7.0.9", 5), Ep("203.0.113.9", 80), 6},
                           CtTuple{Ep("203.0.113.9", 80), Ep("203.0.113.1", 5), 6});
  other.labels = CtLabelBits{};
  SetLabelBit(&*other.labels, 127, true);
  kernel_.conntracks.push_back(other);

  // The backup's daemon (a fresh plane, timeouts from the options).
  PlaneOptions o;
  o.expectation_timeout_s = 300;
  Make(o);
  TakeOps();
  const ResyncCounts r = plane_->ResyncFromConntrack(5000);
  EXPECT_EQ(r.scanned, 3u);
  EXPECT_EQ(r.sessions, 2u);
  EXPECT_EQ(r.pending_restored, 2u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD", "IPSET_ADD"}));
  EXPECT_EQ(Nth(2).rfind("CT_GET family=0 flags=REQUEST|ACK|ROOT|MATCH", 0), 0u) << Nth(2);
  // The same set elements as the primary's, with the full timeout.
  auto same_but_timeout = [](std::string a) {
    return a.substr(a.find('\n'), a.find("IPSET_ATTR_TIMEOUT") - a.find('\n'));
  };
  std::vector<std::string> adds = {Nth(1), Nth(0)};
  std::sort(adds.begin(), adds.end());
  std::vector<std::string> want = {add_act, add_pas};
  std::sort(want.begin(), want.end());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(same_but_timeout(adds[i]), same_but_timeout(want[i]));
    EXPECT_NE(adds[i].find("IPSET_ATTR_TIMEOUT [net]=300"), std::string::npos) << adds[i];
  }
  EXPECT_TRUE(CounterIs("resync_runs", 1));
  EXPECT_TRUE(CounterIs("resync_pending", 2));
  EXPECT_TRUE(CounterIs("resync_scanned", 3));
  EXPECT_EQ(log_.Count("resync from conntrack: scanned 3 conntracks, 2 with ftpalg "
                       "state, 2 pending data connections re-created (0 already "
                       "pending), 0 errors"),
            1u);
  // The data SYN on the backup is related exactly as on the primary.
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000), 6000);
  EXPECT_TRUE(CounterIs("related_created", 1));
  // CT_NEW, IPSET_DEL, then the CT_GET that reads the labels to clear them.
  EXPECT_NE(Nth(2).find("CTA_NAT_V4_MINIP=10.7.0.2"), std::string::npos) << Nth(2);
  EXPECT_FALSE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());  // used
  // Repeating the resync (SIGUSR2 again) re-creates nothing.
  TakeOps();
  const ResyncCounts again = plane_->ResyncFromConntrack(7000);
  EXPECT_EQ(again.pending_restored, 0u);
  EXPECT_EQ(again.pending_known, 1u);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));
  // Its session ends on the backup: the re-created one goes with it.
  plane_->resolver().Forget(kDnatOrig.ToFlow());
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL", "CT_GET"}));
  EXPECT_TRUE(CounterIs("restored_withdrawn", 1));
  EXPECT_FALSE(LabelsOf(kernel_, kDnatOrig)->pending.has_value());
}

TEST_F(PlaneTest, RestoredPendingThatNobodyUsesExpires) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  PlaneOptions o;
  o.expectation_timeout_s = 30;
  Make(o);
  ASSERT_EQ(plane_->ResyncFromConntrack(5000).pending_restored, 1u);
  TakeOps();
  plane_->Expire(5000 + 29 * 1000);
  EXPECT_EQ(TakeOps(), OpList{});
  plane_->Expire(5000 + 30 * 1000);
  EXPECT_EQ(TakeOps(), OpList({"IPSET_DEL", "CT_GET"}));
  EXPECT_TRUE(CounterIs("expired", 1));
  EXPECT_FALSE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());
  // The engine re-announcing it later takes it over (refresh, not busy).
}

TEST_F(PlaneTest, EngineReannouncingARestoredPendingOwnsIt) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  Make();
  ASSERT_EQ(plane_->ResyncFromConntrack(5000).pending_restored, 1u);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_TRUE(CounterIs("refreshes", 1));
  // Now the engine's: its session ending (Forget) does not withdraw it;
  // the engine's own Remove does.
  TakeOps();
  plane_->resolver().Forget(kSnatOrig.ToFlow());
  EXPECT_EQ(TakeOps(), OpList{});
  EXPECT_TRUE(CounterIs("restored_withdrawn", 0));
  plane_->sink().Remove(e);
  EXPECT_EQ(TakeOps()[0], "IPSET_DEL");
}

TEST_F(PlaneTest, ResyncCountsDumpErrorsAndConflictsAndWarns) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  Make();
  // Another master already holds the public port here.
  const CtTuple o2{Ep("10.7.0.3", 40300), Ep("203.0.113.2", 21), 6};
  const CtTuple r2{Ep("203.0.113.2", 21), Ep("203.0.113.1", 40300), 6};
  kernel_.conntracks.push_back(Conntrack(o2, r2));
  Expectation clash = PortExpectation(o2, 45000);
  clash.nat_to = Ep("10.7.0.3", 45000);
  ASSERT_EQ(plane_->sink().Install(clash), InstallResult::kOk);
  const ResyncCounts r = plane_->ResyncFromConntrack(5000);
  EXPECT_EQ(r.pending_restored, 0u);
  EXPECT_EQ(r.pending_known, 1u);  // o2's own
  EXPECT_EQ(r.errors, 1u);         // the clash
  kernel_.errors["CT_GET(dump)"] = {ENOBUFS};  // a failed dump
  const ResyncCounts failed = plane_->ResyncFromConntrack(6000);
  EXPECT_EQ(failed.errors, 1u);
  EXPECT_EQ(log_.Count("CT_GET(dump) ENOBUFS"), 1u);
  EXPECT_TRUE(CounterIs("resync_errors", 2));
  EXPECT_EQ(log_.Count("warn: conntrack plane: resync: 203.0.113.1:45000"), 1u);
  EXPECT_EQ(log_.Count("warn: resync from conntrack:"), 2u);
}

TEST_F(PlaneTest, ResyncUsesAKernelExpectationForAnInertHelper) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  Make();
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  Make();
  TakeOps();
  kernel_.errors["EXP_NEW"] = {EEXIST};  // conntrackd's expectation sync was first
  const ResyncCounts r = plane_->ResyncFromConntrack(5000);
  EXPECT_EQ(r.pending_restored, 1u);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "EXP_NEW", "EXP_NEW"}));
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
}  // namespace ftpalg
