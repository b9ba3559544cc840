// The conntrack plane against a scripted kernel, for the tests of its
// units (tests/conntrack/*_test.cc, tests/daemon/conntrack_plane_test.cc):
// which ctnetlink and ipset requests it sends, in which order, and how it
// reacts to errors. Live behaviour on a real kernel is covered by the
// namespace e2e suite.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/ctnetlink_labels.h"
#include "adapters/ctnetlink_messages.h"
#include "adapters/netlink_socket.h"
#include "daemon/conntrack_plane.h"
#include "ftpalg/expectation.h"
#include "ftpalg/logger.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::testing {

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
  int Request(nlmsghdr* request, const ReplyFn& on_reply) override;
  // A CT_GET dump answers every conntrack of the request's family (all of
  // them for AF_UNSPEC, "family=0").
  int Dump(nlmsghdr* request, const ReplyFn& on_reply) override;

 private:
  // The next scripted errno for op, 0 when none.
  int NextError(const std::string& op);
  int SetLabels(const CtTuple& orig, const CtLabelWrite& w);

  KernelState* state_;
  uint32_t seq_ = 0;
};

// Keeps every line as "LEVEL: message".
class LevelTaggedLogger final : public Logger {
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

CtInfo Conntrack(CtTuple orig, CtTuple reply, const char* helper = "");

// Client 10.7.0.2 behind MASQUERADE 203.0.113.1, server 203.0.113.2.
inline const CtTuple kSnatOrig{Ep("10.7.0.2", 40100), Ep("203.0.113.2", 21), 6};
inline const CtTuple kSnatReply{Ep("203.0.113.2", 21), Ep("203.0.113.1", 40100), 6};
// Client 203.0.113.2, server 10.7.0.2 behind DNAT 203.0.113.1:21.
inline const CtTuple kDnatOrig{Ep("203.0.113.2", 40105), Ep("203.0.113.1", 21), 6};
inline const CtTuple kDnatReply{Ep("10.7.0.2", 21), Ep("203.0.113.2", 40105), 6};
// Hairpin (docs/operating.md): inside client 192.168.10.2 dials the public
// address 203.0.113.1:21 of the inside server 192.168.20.2, DNATed to it and
// SNATed (MASQUERADE on the server's side) to the gateway's 192.168.20.1.
inline const CtTuple kHairpinOrig{Ep("192.168.10.2", 40200), Ep("203.0.113.1", 21), 6};
inline const CtTuple kHairpinReply{Ep("192.168.20.2", 21), Ep("192.168.20.1", 40200), 6};
// The server's 227 (192.168.20.2:50001) as rewritten for the client
// (203.0.113.1:50001), and the client's PORT (192.168.10.2:50005) as
// rewritten for the server (192.168.20.1:50005, how it knows the client).
Expectation HairpinPasvExpectation();
Expectation HairpinPortExpectation();

Expectation PortExpectation(const CtTuple& master, uint16_t port);
Expectation PasvExpectation(const CtTuple& master, uint16_t port);
std::vector<uint8_t> Syn(const char* src, uint16_t sport, const char* dst,
                         uint16_t dport);
// The ftpalg state in orig's labels, as the scripted kernel holds them.
std::optional<LabelState> LabelsOf(const KernelState& k, const CtTuple& orig);

using OpList = std::vector<std::string>;

class PlaneTest : public ::testing::Test {
 protected:
  void Make(PlaneOptions options = {});
  void SetUp() override;
  // First words of each request since the last call ("CT_GET", ...).
  std::vector<std::string> TakeOps();
  const std::string& Last() const { return kernel_.requests.back(); }
  const std::string& Nth(size_t from_end) const {
    return kernel_.requests[kernel_.requests.size() - 1 - from_end];
  }
  bool CounterIs(const std::string& name, uint64_t value) const;
  void DataSyn(const std::vector<uint8_t>& p, uint64_t now = 2000) {
    plane_->OnDataSyn(p.data(), p.size(), now);
  }

  KernelState kernel_;
  LevelTaggedLogger log_;
  std::unique_ptr<ConntrackPlane> plane_;
  size_t seen_ = 0;
};

}  // namespace ftpalg::testing
