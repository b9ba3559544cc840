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
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "adapters/ctnetlink_labels.h"
#include "adapters/ctnetlink_messages.h"
#include "adapters/ipset_messages.h"
#include "adapters/netlink_socket.h"
#include "tests/support/packet_builder.h"

namespace ftpalg {
namespace {

using ::ftpalg::testing::BuildTcp;
using ::ftpalg::testing::Ep;
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
  // A CT_GET dump answers every conntrack of the request's family.
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
    const bool v6 = d.find("family=inet6") != std::string::npos;
    alignas(8) uint8_t buf[kNlMsgBufSize];
    for (const CtInfo& ct : state_->conntracks) {
      if ((ct.orig->family() == Family::kV6) != v6) continue;
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

}  // namespace
}  // namespace ftpalg
