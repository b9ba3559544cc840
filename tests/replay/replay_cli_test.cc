// SPDX-License-Identifier: GPL-2.0-or-later
// The ftpalg-replay binary's exit codes, messages and "no OUT on failure",
// run as a subprocess (build/ftpalg-replay, or $FTPALG_REPLAY_BIN), plus the
// driver in-process.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "adapters/pcap_source.h"
#include "ftpalg/packet.h"
#include "replay/replay_options.h"
#include "replay/replay.h"

namespace ftpalg {
namespace {

namespace fs = std::filesystem;

constexpr char kSample[] = "pcaps/synthetic/port_basic.pcap";

std::string Binary() {
  const char* env = std::getenv("FTPALG_REPLAY_BIN");
  return env != nullptr ? env : "build/ftpalg-replay";
}

struct CliResult {
  int exit_code = -1;
  std::string err;
};

CliResult RunCli(const std::string& args, const std::string& dir) {
  const std::string err_path = dir + "/stderr.txt";
  const std::string cmd = Binary() + " " + args + " 2>" + err_path + " >/dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_path);
  std::ostringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  fs::remove(err_path);
  return r;
}

class ReplayCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(Binary())) GTEST_SKIP() << Binary() << " not built";
    if (!fs::exists(kSample)) GTEST_SKIP() << "run from the repository root";
    char tmpl[] = "/tmp/ftpalg_cli_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  size_t FileCount() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_),
                                             fs::directory_iterator()));
  }
  std::string dir_;
};

TEST_F(ReplayCli, SuccessWritesOutputsAndSummary) {
  const std::string out = dir_ + "/out.pcap", exp = dir_ + "/e.jsonl", tr = dir_ + "/t.txt";
  const CliResult r = RunCli("--public-ip 203.0.113.1 --expectations " + exp + " --trace " + tr +
                           " " + kSample + " " + out,
                       dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out));
  EXPECT_TRUE(fs::exists(exp));
  EXPECT_TRUE(fs::exists(tr));
  EXPECT_EQ(FileCount(), 3u) << "no temporary files left";
  for (const char* word : {"packets:", "control connections:", "rewrites:",
                           "expectations:", "refusals:", "stats:"}) {
    EXPECT_NE(r.err.find(word), std::string::npos) << word << " missing in\n" << r.err;
  }
}

TEST_F(ReplayCli, EventsFileHoldsSchemaOneRecords) {
  const std::string out = dir_ + "/out.pcap", ev = dir_ + "/ev.jsonl";
  const CliResult r = RunCli("--public-ip 203.0.113.1 --events " + ev + " " + kSample + " " + out, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(ev);
  ASSERT_TRUE(in) << ev;
  std::string first;
  ASSERT_TRUE(std::getline(in, first));
  EXPECT_EQ(first.rfind("{\"v\":1,\"ts\":\"", 0), 0u) << first;
  EXPECT_NE(first.find("\"event\":\"session_start\""), std::string::npos) << first;
  EXPECT_EQ(FileCount(), 2u) << "no temporary files left";
}

TEST_F(ReplayCli, BadOptionExits2WithUsage) {
  const std::string out = dir_ + "/out.pcap";
  const CliResult r = RunCli(std::string("--public-ip nope ") + kSample + " " + out, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("ftpalg-replay: --public-ip: not an IP address", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("usage:"), std::string::npos);
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ReplayCli, UnreadableInputExits1NoOutput) {
  const std::string out = dir_ + "/out.pcap";
  const CliResult r = RunCli(dir_ + "/missing.pcap " + out, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(FileCount(), 0u);
}

TEST_F(ReplayCli, UnknownLinkTypeExits1NoOutput) {
  const std::string in = dir_ + "/usb.pcap", out = dir_ + "/out.pcap";
  {
    std::ofstream f(in, std::ios::binary);
    const unsigned char hdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                   0,    0,    0,    0,    0xff, 0xff, 0, 0, 189, 0, 0, 0};
    f.write(reinterpret_cast<const char*>(hdr), sizeof hdr);
  }
  const CliResult r = RunCli(in + " " + out, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unsupported link type"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ReplayCli, TruncatedInputExits1NoOutput) {
  const std::string in = dir_ + "/cut.pcap", out = dir_ + "/out.pcap";
  fs::copy_file(kSample, in);
  fs::resize_file(in, fs::file_size(in) - 7);
  const CliResult r = RunCli("--expectations " + dir_ + "/e.jsonl " + in + " " + out, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("record"), std::string::npos) << r.err;
  EXPECT_EQ(FileCount(), 1u) << "only the input may remain";
}

TEST_F(ReplayCli, UnwritableOutputExits1) {
  const CliResult r = RunCli(std::string(kSample) + " " + dir_ + "/no/such/dir/out.pcap", dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot create output"), std::string::npos) << r.err;
  const CliResult r2 = RunCli("--expectations " + dir_ + "/nodir/e.jsonl " + kSample + " " +
                            dir_ + "/out.pcap",
                        dir_);
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_FALSE(fs::exists(dir_ + "/out.pcap"));
}

// In-process: every record is written (or dropped by the engine), non-IP
// and non-control records byte-identical, link type kept.
TEST(ReplayDriver, OutputKeepsLinkTypeAndUntouchedRecords) {
  if (!fs::exists("pcaps/synthetic/vlan_qinq.pcap")) GTEST_SKIP() << "run from the repo root";
  char tmpl[] = "/tmp/ftpalg_drv_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  ReplayOptions o;
  o.input = "pcaps/synthetic/vlan_qinq.pcap";
  o.output = dir + "/out.pcap";
  o.engine.public_v4 = IpAddress::Parse("203.0.113.1");
  std::ostringstream trace, exps;
  ReplayOutputs outs;
  outs.trace = &trace;
  outs.expectations = &exps;
  ReplaySummary s;
  ASSERT_EQ(RunReplay(o, outs, &s), "");
  EXPECT_EQ(s.records, s.written + s.dropped);
  EXPECT_EQ(s.ip_packets, s.records);
  EXPECT_NE(trace.str().find("\nstats "), std::string::npos);
  EXPECT_EQ(trace.str().rfind("p1 +0.000000 10.7.0.2:40000>192.168.20.2:21 S seq=", 0), 0u)
      << trace.str().substr(0, 200);
  std::string err;
  auto in = PcapSource::Open(o.input, &err);
  auto out = PcapSource::Open(o.output, &err);
  ASSERT_TRUE(in && out) << err;
  EXPECT_EQ(out->link_type(), in->link_type());
  EXPECT_EQ(out->snaplen(), in->snaplen());
  PcapRecord r;
  uint64_t n = 0;
  while (out->Next(&r, &err) == PcapSource::Status::kRecord) {
    ++n;
    EXPECT_EQ(r.l3_offset, 22u);  // both VLAN tags kept
  }
  EXPECT_EQ(n, s.written);
  fs::remove_all(dir);
}

TEST(ReplayDriver, BrokenInputFailsWithoutOutput) {
  char tmpl[] = "/tmp/ftpalg_drv_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  ReplayOptions o;
  o.input = dir + "/garbage.pcap";
  { std::ofstream(o.input) << "garbage garbage garbage garbage"; }
  o.output = dir + "/out.pcap";
  ReplaySummary s;
  const std::string err = RunReplay(o, {}, &s);
  EXPECT_NE(err.find("not a readable capture"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(o.output));
  fs::remove_all(dir);
}

// The replay sums changed packets' checksums on its writer thread
// (EngineConfig::defer_checksums, the replay's default): the output capture
// is byte for byte the one an engine that sums them itself writes, and every
// changed packet's checksums verify.
TEST(ReplayDriver, DeferredChecksumsGiveTheSameCapture) {
  const char* captures[] = {"pcaps/synthetic/port_basic.pcap", "pcaps/synthetic/pasv_227_forms.pcap",
                            "pcaps/synthetic/eprt_v6_forms.pcap", "pcaps/synthetic/ipv6_ext_header.pcap",
                            "pcaps/synthetic/loss_retransmit.pcap", "pcaps/synthetic/synack_new_isn.pcap"};
  char tmpl[] = "/tmp/ftpalg_drv_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  for (const char* capture : captures) {
    if (!fs::exists(capture)) GTEST_SKIP() << capture << ": run from the repository root";
    std::string out[2];
    for (int defer = 0; defer < 2; ++defer) {
      ReplayOptions o;
      ASSERT_EQ(ParseReplayArgs({"--public-ip", "203.0.113.1", "--public-ip", "2001:db8:1::1",
                                 capture, "x.pcap"}, &o), "");
      ASSERT_TRUE(o.engine.defer_checksums);  // the replay's default
      o.engine.defer_checksums = defer == 1;
      o.output = dir + "/out" + std::to_string(defer) + ".pcap";
      ReplaySummary s;
      ASSERT_EQ(RunReplay(o, {}, &s), "") << capture;
      ASSERT_GT(s.modified, 0u) << capture;
      std::ifstream f(o.output, std::ios::binary);
      out[defer].assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    EXPECT_EQ(out[0], out[1]) << capture;
    std::string err;
    auto in = PcapSource::Open(capture, &err);
    auto result = PcapSource::Open(dir + "/out1.pcap", &err);
    ASSERT_TRUE(in && result) << err;
    PcapRecord a, b;
    size_t changed = 0;
    while (result->Next(&b, &err) == PcapSource::Status::kRecord) {
      do {
        ASSERT_EQ(in->Next(&a, &err), PcapSource::Status::kRecord) << capture;
      } while (a.ts_ns != b.ts_ns);  // (a dropped record is skipped)
      if (!b.l3_offset || (a.caplen == b.caplen && std::equal(a.frame, a.frame + a.caplen, b.frame))) {
        continue;
      }
      ++changed;
      PacketView v;
      ASSERT_EQ(ParsePacket(b.frame + *b.l3_offset, b.l3_len, &v), PacketError::kNone);
      EXPECT_TRUE(ChecksumsValid(b.frame + *b.l3_offset, v)) << capture << " record " << b.index;
    }
    EXPECT_GT(changed, 0u) << capture;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ftpalg
