// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/conntrack/plane_fixture.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

#include <cerrno>
#include <cstring>

#include "adapters/ipset_messages.h"

namespace ftpalg::testing {
namespace {

std::string Describe(const nlmsghdr* nlh) {
  return (nlh->nlmsg_type >> 8) == NFNL_SUBSYS_IPSET ? DescribeIpsetMessage(nlh)
                                                     : DescribeCtMessage(nlh);
}

}  // namespace

int FakeKernel::NextError(const std::string& op) {
  auto it = state_->errors.find(op);
  if (it == state_->errors.end() || it->second.empty()) return 0;
  const int err = it->second.front();
  it->second.pop_front();
  return err;
}

int FakeKernel::SetLabels(const CtTuple& orig, const CtLabelWrite& w) {
  for (CtInfo& ct : state_->conntracks) {
    if (!(*ct.orig == orig)) continue;
    if (!state_->labels) return ENOSPC;
    ct.labels = ApplyLabelWrite(ct.labels.value_or(CtLabelBits{}), w);
    return 0;
  }
  return ENOENT;
}

int FakeKernel::Request(nlmsghdr* request, const ReplyFn& on_reply) {
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
  if (const int err = NextError(op); err != 0) return err;
  if (label_write) return SetLabels(orig, w);
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

int FakeKernel::Dump(nlmsghdr* request, const ReplyFn& on_reply) {
  const std::string d = Describe(request);
  state_->requests.push_back(d);
  const std::string op = d.substr(0, d.find(' '));
  if (const int err = NextError(op + "(dump)"); err != 0) return err;
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

CtInfo Conntrack(CtTuple orig, CtTuple reply, const char* helper) {
  CtInfo ct;
  ct.orig = orig;
  ct.reply = reply;
  std::strncpy(ct.helper.data(), helper, ct.helper.size() - 1);
  return ct;
}

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
  Expectation e = PortExpectation(master, port);
  e.kind = AnnounceKind::k227;
  e.announcer = Direction::kReply;
  return e;
}

Expectation HairpinPasvExpectation() {
  Expectation e;
  e.kind = AnnounceKind::k227;
  e.announcer = Direction::kReply;
  e.master = kHairpinOrig.ToFlow();
  e.peer = *IpAddress::Parse("192.168.10.2");
  e.target = Ep("203.0.113.1", 50001);
  e.nat_to = Ep("192.168.20.2", 50001);
  e.timeout_s = 60;
  return e;
}

Expectation HairpinPortExpectation() {
  Expectation e;
  e.kind = AnnounceKind::kPort;
  e.announcer = Direction::kOriginal;
  e.master = kHairpinOrig.ToFlow();
  e.peer = *IpAddress::Parse("192.168.20.2");
  e.target = Ep("192.168.20.1", 50005);
  e.nat_to = Ep("192.168.10.2", 50005);
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

std::optional<LabelState> LabelsOf(const KernelState& k, const CtTuple& orig) {
  for (const CtInfo& ct : k.conntracks) {
    if (*ct.orig == orig && ct.labels) return DecodeLabels(*ct.labels);
  }
  return std::nullopt;
}

void PlaneTest::Make(PlaneOptions options) {
  plane_ = MakeConntrackPlane(options, log_, std::make_unique<FakeKernel>(&kernel_),
                              1000);
}

void PlaneTest::SetUp() {
  kernel_.conntracks.push_back(Conntrack(kSnatOrig, kSnatReply));
  kernel_.conntracks.push_back(Conntrack(kDnatOrig, kDnatReply));
  Make();
}

std::vector<std::string> PlaneTest::TakeOps() {
  std::vector<std::string> ops;
  for (size_t i = seen_; i < kernel_.requests.size(); ++i) {
    ops.push_back(kernel_.requests[i].substr(0, kernel_.requests[i].find(' ')));
  }
  seen_ = kernel_.requests.size();
  return ops;
}

bool PlaneTest::CounterIs(const std::string& name, uint64_t value) const {
  return (" " + plane_->Counters() + " ").find(" " + name + "=" +
                                               std::to_string(value) + " ") !=
         std::string::npos;
}

}  // namespace ftpalg::testing
