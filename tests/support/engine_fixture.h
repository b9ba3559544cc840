// Test vocabulary for driving the engine with one simulated control
// connection: ClientSends("PORT ...\r\n"), ServerSends("227 ..."), and the
// reassembled output streams for checking "output = input with rewrites".
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ftpalg/engine.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::testing {

class FakeSink final : public ExpectationSink {
 public:
  InstallResult Install(const Expectation& e) override {
    for (const Endpoint& b : busy) {
      if (b == e.target) return InstallResult::kPortBusy;
    }
    if (fail) return InstallResult::kFailed;
    installed.push_back(e);
    return InstallResult::kOk;
  }
  void Remove(const Expectation& e) override { removed.push_back(e); }

  std::vector<Expectation> installed, removed;
  std::vector<Endpoint> busy;  // targets the "kernel" reports in use
  bool fail = false;
};

class CapturingLogger final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return true; }
  void Log(LogLevel, std::string_view m) override { lines.emplace_back(m); }
  bool Contains(std::string_view needle) const {
    for (const auto& l : lines) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  size_t Count(std::string_view needle) const {
    size_t n = 0;
    for (const auto& l : lines) n += l.find(needle) != std::string::npos;
    return n;
  }
  std::vector<std::string> lines;
};

struct Result {
  Decision decision;
  std::vector<uint8_t> packet;  // as the engine left it
  std::string payload() const { return PayloadOf(packet); }
  uint32_t seq() const { return View(packet).seq; }
  uint32_t ack() const { return View(packet).ack; }
  bool dropped() const { return decision.verdict == Verdict::kDrop; }
};

// Reassembles one direction's output stream by sequence number.
class StreamCollector {
 public:
  void Add(uint32_t seq, const std::string& data);
  // The contiguous stream from `start`; fails the test on holes/conflicts.
  std::string From(uint32_t start) const;

 private:
  std::map<uint32_t, std::string> pieces_;  // keyed by offset from first
  bool have_base_ = false;
  uint32_t base_ = 0;
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest();
  void Rebuild();  // new engine with the current cfg

  Result Run(const TcpSpec& spec);
  // The next in-order segment from each side, acking what the other side's
  // output stream has delivered so far (live semantics).
  Result ClientSends(const std::string& payload, uint8_t flags = kTcpAck | kTcpPsh);
  Result ServerSends(const std::string& payload, uint8_t flags = kTcpAck | kTcpPsh);
  // Sends a segment at an explicit input seq (retransmission, reordering).
  Result ClientSendsAt(uint32_t seq, const std::string& payload);
  void Handshake();
  void Greet();  // 220, USER, 331

  std::string ClientOutput() const { return client_out_.From(c_isn_ + 1); }
  std::string ServerOutput() const { return server_out_.From(s_isn_ + 1); }

  EngineConfig cfg;
  FakeSink sink;
  CapturingLogger log;
  Stats stats;
  std::unique_ptr<IdentityResolver> resolver;
  std::unique_ptr<Engine> engine;
  Endpoint client = Ep("10.7.0.2", 40000);
  Endpoint server = Ep("203.0.113.2", 21);
  uint32_t c_isn_ = 1000, s_isn_ = 5000;
  uint32_t c_next_ = 0, s_next_ = 0;          // next input seq per side
  uint32_t c_out_next_ = 0, s_out_next_ = 0;  // output stream ends (what peers got)
  uint64_t now_ms = 1'000'000;
  StreamCollector client_out_, server_out_;
};

}  // namespace ftpalg::testing
