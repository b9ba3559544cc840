// SPDX-License-Identifier: GPL-2.0-or-later
// QueueHandler routing with a tiny fake conntrack plane.
#include "daemon/live.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
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

TEST(QueueHandlerTest, PlaneOptionsFollowDaemonOptions) {
  DaemonOptions o;
  o.public_v4 = IpAddress::Parse("203.0.113.1");
  o.mechanism = Mechanism::kPrecreate;
  const PlaneOptions p = MakePlaneOptions(o);
  ASSERT_TRUE(p.public_v4);
  EXPECT_EQ(p.public_v4->ToString(), "203.0.113.1");
  EXPECT_FALSE(p.public_v6);
  EXPECT_EQ(p.mechanism, PlaneOptions::Mechanism::kPrecreate);
  EXPECT_EQ(p.pending_set_v4, "ftpalg-pend4");
}


// The default config file (FTPALGD_DEFAULT_CONFIG in tests) is read when it
// exists; a named --config file must exist; the command line wins.
class LoadOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ftpalg-load-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const char* old = getenv("FTPALGD_DEFAULT_CONFIG");
    had_env_ = old != nullptr;
    if (had_env_) old_env_ = old;
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
    if (had_env_) {
      setenv("FTPALGD_DEFAULT_CONFIG", old_env_.c_str(), 1);
    } else {
      unsetenv("FTPALGD_DEFAULT_CONFIG");
    }
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
  bool had_env_ = false;
  std::string old_env_;
};

TEST_F(LoadOptionsTest, MissingDefaultFileIsFine) {
  setenv("FTPALGD_DEFAULT_CONFIG", (dir_ + "/absent.conf").c_str(), 1);
  DaemonOptions o;
  std::string error;
  ASSERT_TRUE(LoadOptions({"--queue", "2"}, &o, &error)) << error;
  EXPECT_EQ(o.queue, 2);
  EXPECT_EQ(o.config_file, "");
  setenv("FTPALGD_DEFAULT_CONFIG", "", 1);  // no default file at all
  EXPECT_EQ(DefaultConfigPath(), "");
  ASSERT_TRUE(LoadOptions({}, &o, &error)) << error;
  EXPECT_EQ(o.config_file, "");
  unsetenv("FTPALGD_DEFAULT_CONFIG");
  EXPECT_EQ(DefaultConfigPath(), "/etc/ftpalg/ftpalgd.conf");
}

TEST_F(LoadOptionsTest, DefaultFileIsReadAndCommandLineOverrides) {
  const std::string path = Write("ftpalgd.conf", "queue 4\nlog-rate 10\ninside 10.9.0.0/16\n");
  setenv("FTPALGD_DEFAULT_CONFIG", path.c_str(), 1);
  DaemonOptions o;
  std::string error;
  ASSERT_TRUE(LoadOptions({"--queue", "6"}, &o, &error)) << error;
  EXPECT_EQ(o.queue, 6);
  EXPECT_EQ(o.log_rate, 10u);
  ASSERT_EQ(o.inside.size(), 1u);
  EXPECT_EQ(o.config_file, path);
  EXPECT_NE(ConfigText(o).find("# config file: " + path), std::string::npos);
}

TEST_F(LoadOptionsTest, ErrorsNameFileAndLine) {
  const std::string bad = Write("bad.conf", "queue 1\nmax-sessions x\n");
  setenv("FTPALGD_DEFAULT_CONFIG", bad.c_str(), 1);
  DaemonOptions o;
  std::string error;
  EXPECT_FALSE(LoadOptions({}, &o, &error));
  EXPECT_EQ(error, bad + ":2: --max-sessions: 'x' is not a number within 1..16777216");
  // --help and --version never read the file.
  EXPECT_TRUE(LoadOptions({"--help"}, &o, &error)) << error;
  EXPECT_TRUE(LoadOptions({"--version"}, &o, &error)) << error;
  // A named file replaces the default one, and must exist.
  const std::string good = Write("good.conf", "queue 8\n");
  ASSERT_TRUE(LoadOptions({"--config", good}, &o, &error)) << error;
  EXPECT_EQ(o.queue, 8);
  EXPECT_EQ(o.config_file, good);
  EXPECT_FALSE(LoadOptions({"--config", dir_ + "/absent.conf"}, &o, &error));
  EXPECT_EQ(error, "cannot read config file '" + dir_ +
                       "/absent.conf': No such file or directory");
  // A default file that exists but cannot be read is an error too.
  setenv("FTPALGD_DEFAULT_CONFIG", dir_.c_str(), 1);  // a directory
  EXPECT_FALSE(LoadOptions({}, &o, &error));
  EXPECT_NE(error.find("Is a directory"), std::string::npos) << error;
  // Combinations are checked after the merge.
  setenv("FTPALGD_DEFAULT_CONFIG", Write("none.conf", "stats-socket none\n").c_str(), 1);
  EXPECT_FALSE(LoadOptions({"--stats"}, &o, &error));
  EXPECT_NE(error.find("stats socket is disabled"), std::string::npos) << error;
}

}  // namespace
}  // namespace ftpalg
