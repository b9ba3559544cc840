// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd --events end to end within the process: a real file, session
// starts waiting for their conntrack, drop-and-count when nobody writes,
// reopen after a rename (logrotate), a FIFO without a reader.
#include "daemon/event_stream.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ftpalg {
namespace {

class NullLogger final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return true; }
  void Log(LogLevel, std::string_view m) override { lines.emplace_back(m); }
  std::vector<std::string> lines;
};

Endpoint Ep(const char* a, uint16_t p) { return Endpoint{IpAddress::Parse(a).value(), p}; }

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The "event" of a line ("" if none).
std::string EventOf(const std::string& line) {
  const std::string key = "\"event\":\"";
  const size_t at = line.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return line.substr(from, line.find('"', from) - from);
}

class EventStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ftpalg-events-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    path = dir + "/events.jsonl";
  }
  void TearDown() override {
    for (const char* f : {"/events.jsonl", "/events.jsonl.1", "/fifo"}) unlink((dir + f).c_str());
    rmdir(dir.c_str());
  }
  std::unique_ptr<EventStream> Make(size_t ring = EventStream::kRingBytes) {
    auto s = std::make_unique<EventStream>(path, log, ring, [this] { return wall; });
    s->SetReplyLookup([this](const FlowKey& k, Endpoint* src, Endpoint* dst) {
      if (!conntrack_known) return false;
      *src = k.server;
      *dst = Ep("203.0.113.1", k.client.port);
      return true;
    });
    return s;
  }
  Expectation PortOf(uint64_t session) const {
    Expectation e;
    e.session_id = session;
    e.master = key;
    e.peer = key.server.addr;
    e.target = Ep("203.0.113.1", 50000);
    e.nat_to = Ep("10.7.0.2", 50000);
    return e;
  }

  NullLogger log;
  std::string dir, path;
  uint64_t wall = 1796583000123;
  bool conntrack_known = false;
  FlowKey key{Ep("10.7.0.2", 40000), Ep("203.0.113.2", 21)};
};

TEST_F(EventStreamTest, SessionStartWaitsForItsConntrackThenPrecedesTheData) {
  auto s = Make();
  std::string error;
  ASSERT_TRUE(s->Open(&error)) << error;
  s->SessionStarted(1, key, false, 1000);
  s->Tick(1100);  // too young to ask
  conntrack_known = true;
  s->Announced(PortOf(1));  // the start goes first, with its binding
  s->SessionEnded(1, key, "closed", 1, 0, 2000);
  s->Flush();
  const std::vector<std::string> l = Lines(path);
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(EventOf(l[0]), "stream_open");
  EXPECT_EQ(EventOf(l[1]), "session_start");
  EXPECT_NE(l[1].find(R"("client_public":"203.0.113.1:40000")"), std::string::npos) << l[1];
  EXPECT_EQ(EventOf(l[2]), "data_announced");
  EXPECT_EQ(EventOf(l[3]), "session_end");
}

TEST_F(EventStreamTest, TickWritesResolvedStartsAndGivesUpOnMissingOnes) {
  auto s = Make();
  std::string error;
  ASSERT_TRUE(s->Open(&error)) << error;
  s->SessionStarted(1, key, false, 1000);
  s->Tick(1500);  // no conntrack yet: keeps waiting
  EXPECT_EQ(Lines(path).size(), 1u);
  s->Tick(1000 + EventStream::kStartWaitMs);  // gives up: binding null
  const std::vector<std::string> l = Lines(path);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_NE(l[1].find(R"("reply":null)"), std::string::npos) << l[1];
  conntrack_known = true;
  s->SessionStarted(2, key, false, 5000);
  s->Tick(5300);
  EXPECT_EQ(Lines(path).size(), 3u);
}

TEST_F(EventStreamTest, AWriterThatFallsBehindDropsAndCounts) {
  auto s = Make(1024);  // a few records
  std::string error;
  ASSERT_TRUE(s->Open(&error)) << error;
  for (int i = 0; i < 50; ++i) s->Announced(PortOf(1));  // never flushed
  EXPECT_GT(s->dropped(), 0u);
  EXPECT_EQ(s->recorded() + s->dropped(), 51u);  // + stream_open
  s->Flush();
  EXPECT_EQ(Lines(path).size(), s->recorded());
  s->Announced(PortOf(1));  // room again
  s->Flush();
  EXPECT_EQ(Lines(path).size(), s->recorded());
}

TEST_F(EventStreamTest, ReopenAfterRenameStartsTheNewFile) {
  auto s = Make();
  std::string error;
  ASSERT_TRUE(s->Open(&error)) << error;
  s->Announced(PortOf(1));
  ASSERT_EQ(rename(path.c_str(), (path + ".1").c_str()), 0);
  s->Reopen();  // flushes into the old file first
  s->Announced(PortOf(2));
  s->Flush();
  EXPECT_EQ(Lines(path + ".1").size(), 2u);
  const std::vector<std::string> l = Lines(path);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(EventOf(l[0]), "stream_open");
  EXPECT_NE(l[1].find(R"("session":2)"), std::string::npos);
}

TEST_F(EventStreamTest, AFifoWithoutReaderIsAClearError) {
  path = dir + "/fifo";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  auto s = Make();
  std::string error;
  EXPECT_FALSE(s->Open(&error));
  EXPECT_NE(error.find("a FIFO needs its reader first"), std::string::npos) << error;
}

}  // namespace
}  // namespace ftpalg
