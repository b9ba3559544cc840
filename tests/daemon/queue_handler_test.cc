// SPDX-License-Identifier: GPL-2.0-or-later
// QueueHandler routing with a tiny fake conntrack plane.
#include "daemon/queue_handler.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace ftpalg {
namespace {

class FakePlane final : public ConntrackPlane, FlowResolver, ExpectationSink {
 public:
  FlowResolver& resolver() override { return *this; }
  ExpectationSink& sink() override { return *this; }
  std::optional<FlowKey> MasterForReply(const Endpoint&, const Endpoint&) override {
    return std::nullopt;
  }
  NatBinding Binding(const FlowKey& m) override {
    return NatBinding{m.client.addr, m.client.addr, m.server.addr, m.server.addr};
  }
  InstallResult Install(const Expectation&) override { return InstallResult::kFailed; }
  void Remove(const Expectation&) override {}
  void OnDataSyn(const uint8_t* packet, size_t len, uint64_t now_ms) override {
    syns.emplace_back(packet, packet + len);
    last_now = now_ms;
  }
  void Expire(uint64_t) override {}
  void RemoveAll() override {}
  void KeepLabelsOnRemove(bool) override {}
  ResyncCounts ResyncFromConntrack(uint64_t) override { return {}; }
  std::string Describe() const override { return "fake"; }
  std::string Counters() const override { return "fake"; }

  std::vector<std::vector<uint8_t>> syns;
  uint64_t last_now = 0;
};

TEST(QueueHandlerTest, RoutesByQueue) {
  FakePlane plane;
  EngineConfig config;
  Stats stats;
  NullLogger logger;
  Engine engine(config, plane.sink(), plane.resolver(), logger, stats);
  QueueHandler handler(4, 5, engine, plane);

  uint8_t bytes[64] = {0x45, 0, 0, 20};
  PacketBuffer buf{bytes, 20, sizeof(bytes)};
  nfq::QueuedPacket meta;

  meta.queue = 5;  // data-SYN queue: to the plane, then accepted
  Decision d = handler.OnPacket(meta, buf, 1234);
  EXPECT_EQ(d.verdict, Verdict::kAccept);
  EXPECT_FALSE(d.modified);
  ASSERT_EQ(plane.syns.size(), 1u);
  EXPECT_EQ(plane.syns[0].size(), 20u);
  EXPECT_EQ(plane.last_now, 1234u);
  EXPECT_EQ(handler.data_syns(), 1u);

  meta.queue = 4;  // control queue: to the engine (garbage is never modified)
  d = handler.OnPacket(meta, buf, 1235);
  EXPECT_EQ(d.verdict, Verdict::kAccept);
  EXPECT_FALSE(d.modified);
  EXPECT_EQ(plane.syns.size(), 1u);

  meta.queue = 9;  // not ours: passes
  d = handler.OnPacket(meta, buf, 1236);
  EXPECT_EQ(d.verdict, Verdict::kAccept);
  EXPECT_EQ(handler.unknown_queue(), 1u);
}

}  // namespace
}  // namespace ftpalg
