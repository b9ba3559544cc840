// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/service_heartbeat.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ftpalg {
namespace {

// Records every notification with the fake clock's time.
class FakeNotifier final : public ServiceNotifier {
 public:
  FakeNotifier(bool enabled, uint64_t watchdog_usec)
      : enabled_(enabled), watchdog_usec_(watchdog_usec) {}
  bool enabled() const override { return enabled_; }
  uint64_t watchdog_usec() const override { return watchdog_usec_; }
  bool Send(const std::string& state) override {
    sent.emplace_back(*now, state);
    return true;
  }
  std::vector<std::pair<uint64_t, std::string>> sent;
  const uint64_t* now = nullptr;

 private:
  bool enabled_;
  uint64_t watchdog_usec_;
};

// A packet loop as ftpalgd's: each turn pings (LoopTurned), then sleeps
// until the next ping is due or a packet arrives (every `packet_ms`); a
// turn may stall inside the packet handler for `stall_ms`.
struct FakeLoop {
  FakeNotifier notifier{true, 2'000'000};  // WatchdogSec=2s: ping every 1 s
  uint64_t now = 10'000;
  ServiceHeartbeat hb{notifier};
  FakeLoop() { notifier.now = &now; }

  void RunUntil(uint64_t end_ms, uint64_t packet_ms, uint64_t stall_at = 0,
                uint64_t stall_ms = 0) {
    uint64_t next_packet = now + packet_ms;
    while (now < end_ms) {
      hb.LoopTurned(now);
      const int t = hb.PollTimeoutMs(now);
      uint64_t wake = next_packet;
      if (t >= 0 && now + static_cast<uint64_t>(t) < wake) wake = now + t;
      now = wake;
      if (now == next_packet) {
        next_packet += packet_ms;
        if (stall_ms != 0 && now >= stall_at) {  // the handler hangs
          now += stall_ms;
          stall_ms = 0;
          next_packet = now + packet_ms;
        }
      }
    }
  }
  std::vector<uint64_t> PingTimes() const {
    std::vector<uint64_t> t;
    for (const auto& [when, state] : notifier.sent) {
      if (state == "WATCHDOG=1") t.push_back(when);
    }
    return t;
  }
};

TEST(ServiceHeartbeatTest, ReadyStatusThenWatchdogInOrder) {
  FakeLoop l;
  EXPECT_EQ(l.hb.ping_interval_ms(), 1000u);
  l.hb.LoopTurned(l.now);  // before READY: nothing
  EXPECT_TRUE(l.notifier.sent.empty());
  l.hb.Ready(l.now, "sessions 0, rewrites 0");
  l.RunUntil(l.now + 2500, /*packet_ms=*/300);
  ASSERT_GE(l.notifier.sent.size(), 3u);
  EXPECT_EQ(l.notifier.sent[0].second, "READY=1\nSTATUS=sessions 0, rewrites 0");
  EXPECT_EQ(l.notifier.sent[1].second, "WATCHDOG=1");
  EXPECT_EQ(l.notifier.sent[1].first, 10'000u);  // first turn after READY
  EXPECT_EQ(l.PingTimes(), (std::vector<uint64_t>{10'000, 11'000, 12'000}));
}

TEST(ServiceHeartbeatTest, IdleLoopWakesForThePing) {
  FakeLoop l;
  l.hb.Ready(l.now, "s");
  // No packets for a minute: poll's timeout still brings a turn per second.
  l.RunUntil(l.now + 60'000, /*packet_ms=*/3'600'000);
  const std::vector<uint64_t> t = l.PingTimes();
  ASSERT_EQ(t.size(), 60u);
  for (size_t i = 1; i < t.size(); ++i) EXPECT_EQ(t[i] - t[i - 1], 1000u);
}

TEST(ServiceHeartbeatTest, StalledLoopStopsThePings) {
  FakeLoop l;
  l.hb.Ready(l.now, "s");
  // Packets every 100 ms; at 13 s the handler hangs for 5 s (more than the
  // 2 s watchdog interval), then the loop turns again.
  l.RunUntil(l.now + 20'000, /*packet_ms=*/100, /*stall_at=*/13'000, /*stall_ms=*/5'000);
  const std::vector<uint64_t> t = l.PingTimes();
  uint64_t longest_gap = 0, gap_end = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i] - t[i - 1] > longest_gap) {
      longest_gap = t[i] - t[i - 1];
      gap_end = t[i];
    }
  }
  // No ping while the loop stood still: systemd's watchdog (2 s) fires.
  EXPECT_GT(longest_gap, 2000u);
  EXPECT_EQ(gap_end, 18'000u);  // the first turn after the stall pings at once
  for (uint64_t when : t) EXPECT_FALSE(when > 13'000 && when < 18'000) << when;
  // Before and after it, one ping a second.
  EXPECT_EQ(t.front(), 10'000u);
  EXPECT_GE(t.back(), 29'000u);
}

TEST(ServiceHeartbeatTest, TimeAloneNeverPings) {
  FakeLoop l;
  l.hb.Ready(l.now, "s");
  l.hb.LoopTurned(l.now);
  const size_t before = l.notifier.sent.size();
  // The clock runs, the timeout says a ping is overdue, but without a turn
  // of the loop nothing is sent.
  l.now += 10'000;
  EXPECT_EQ(l.hb.PollTimeoutMs(l.now), 0);
  EXPECT_TRUE(l.hb.StatusDue(l.now));
  EXPECT_EQ(l.notifier.sent.size(), before);
  l.hb.LoopTurned(l.now);
  EXPECT_EQ(l.notifier.sent.size(), before + 1);
}

TEST(ServiceHeartbeatTest, StatusRefreshedWhenDueAndChanged) {
  FakeLoop l;
  l.hb.Ready(l.now, "a");
  EXPECT_FALSE(l.hb.StatusDue(l.now + 4999));
  EXPECT_TRUE(l.hb.StatusDue(l.now + 5000));
  l.now += 5000;
  l.hb.Status(l.now, "a");  // unchanged: not sent again
  EXPECT_FALSE(l.hb.StatusDue(l.now + 1));
  l.now += 5000;
  l.hb.Status(l.now, "b");
  ASSERT_EQ(l.notifier.sent.size(), 2u);
  EXPECT_EQ(l.notifier.sent[1].second, "STATUS=b");
}

TEST(ServiceHeartbeatTest, ReloadAndStop) {
  FakeLoop l;
  l.hb.Ready(l.now, "a");
  l.hb.Reloading(123456789);
  l.hb.Reloaded(l.now, "b");
  l.hb.Stopping();
  ASSERT_EQ(l.notifier.sent.size(), 4u);
  EXPECT_EQ(l.notifier.sent[1].second,
            "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=reloading the configuration");
  EXPECT_EQ(l.notifier.sent[2].second, "READY=1\nSTATUS=b");
  EXPECT_EQ(l.notifier.sent[3].second, "STOPPING=1\nSTATUS=stopping");
}

TEST(ServiceHeartbeatTest, DisabledSendsNothing) {
  FakeNotifier n(false, 2'000'000);
  uint64_t now = 1;
  n.now = &now;
  ServiceHeartbeat hb(n);
  hb.Ready(now, "s");
  hb.LoopTurned(now + 5000);
  hb.Status(now + 5000, "t");
  hb.Reloading(1);
  hb.Reloaded(now, "u");
  hb.Stopping();
  EXPECT_TRUE(n.sent.empty());
  EXPECT_EQ(hb.PollTimeoutMs(now), -1);
  EXPECT_FALSE(hb.StatusDue(now + 100'000));
}

TEST(ServiceHeartbeatTest, NoWatchdogNoPings) {
  FakeNotifier n(true, 0);
  uint64_t now = 1;
  n.now = &now;
  ServiceHeartbeat hb(n);
  hb.Ready(now, "s");
  hb.LoopTurned(now + 100'000);
  EXPECT_EQ(hb.PollTimeoutMs(now), -1);
  ASSERT_EQ(n.sent.size(), 1u);
  EXPECT_EQ(n.sent[0].second, "READY=1\nSTATUS=s");
}

TEST(ServiceHeartbeatTest, StatusLineSumsErrorsAndDrops) {
  StatsSnapshot s;
  s.sessions_active = 2;
  s.engine.rewrites = 14;
  s.engine.refused = 1;
  s.engine.expectations_failed = 1;
  s.nfqueue.enobufs = 2;
  s.plane = {{"err_eperm", 3, false}, {"pending", 9, true}, {"expects_created", 5, false}};
  KernelQueueStats q;
  q.queue_dropped = 4;
  q.user_dropped = 1;
  s.queues = {q, q};
  EXPECT_EQ(ServiceStatusLine(s),
            "sessions 2, rewrites 14, refused 1, errors 6, queue drops 10");
}

}  // namespace
}  // namespace ftpalg
