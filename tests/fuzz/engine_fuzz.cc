// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: arbitrary segment sequences through Engine::Process, both
// directions, live and offline configurations, small limits so evictions,
// hold-pool exhaustion and ledger overflow are reachable. Some packets are
// raw fuzzer bytes (malformed IP/TCP). Invariants (abort on violation): a
// modified packet parses, fits its buffer and has valid checksums; a packet
// the engine did not modify is byte-identical; tables stay within their caps.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "ftpalg/engine.h"
#include "ftpalg/packet.h"
#include "tests/support/packet_builder.h"

namespace ftpalg {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "engine_fuzz: %s\n", what);
  std::abort();
}

class Input {
 public:
  Input(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  uint8_t U8() { return i_ < n_ ? d_[i_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(U8() << 8 | U8()); }
  uint32_t U32() { return uint32_t{U16()} << 16 | U16(); }
  std::string Bytes(size_t n) {
    n = std::min(n, n_ - std::min(i_, n_));
    std::string s(reinterpret_cast<const char*>(d_ + i_), n);
    i_ += n;
    return s;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

class CountingSink final : public ExpectationSink {
 public:
  InstallResult Install(const Expectation& e) override {
    if (e.target.port == 0) Fail("expectation for port 0");
    if (e.nat_to.port == 0) Fail("expectation NATed to port 0");
    ++installs;
    if (installs % 7 == busy_every) return InstallResult::kPortBusy;
    if (installs % 13 == fail_every) return InstallResult::kFailed;
    live.insert(e.target.ToString());  // a refresh re-installs the same one
    return InstallResult::kOk;
  }
  void Remove(const Expectation& e) override {
    if (live.erase(e.target.ToString()) != 1) Fail("removed an unknown expectation");
  }
  uint64_t installs = 0;
  std::set<std::string> live;
  uint64_t busy_every = 99, fail_every = 99;
};

class DiscardLogger final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return true; }
  void Log(LogLevel, std::string_view m) override { bytes += m.size(); }
  size_t bytes = 0;
};

}  // namespace
}  // namespace ftpalg

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftpalg;
  using ftpalg::testing::BuildTcp;
  using ftpalg::testing::Ep;
  using ftpalg::testing::TcpSpec;
  if (size > 200000) return 0;
  Input in(data, size);

  const uint8_t mode = in.U8();
  EngineConfig cfg;
  cfg.offline_capture = mode & 1;
  cfg.expect_unrewritten = mode & 4;
  const bool v6 = mode & 8;
  if (mode & 16) cfg.control_ports = {21, 2121};
  cfg.public_v4 = IpAddress::Parse("203.0.113.1");
  cfg.public_v6 = IpAddress::Parse("2001:db8:1::1");
  cfg.max_sessions = 3;
  cfg.max_expectations = 6;
  cfg.max_expectations_per_session = 2;
  cfg.hold_slots = 2;
  cfg.max_line_len = (mode & 32) ? 64 : 512;
  cfg.hold_timeout_ms = 50;
  cfg.min_data_port = (mode & 64) ? 1 : 1024;
  if (!cfg.Validate().empty()) Fail("config invalid");

  CountingSink sink;
  sink.busy_every = in.U8() % 9;
  sink.fail_every = in.U8() % 17;
  DiscardLogger log;
  Stats stats;
  IdentityResolver resolver(cfg);
  Engine engine(cfg, sink, resolver, log, stats);

  const Endpoint clients[2] = {
      v6 ? Ep("fd00:10::2", 40000) : Ep("10.7.0.2", 40000),
      v6 ? Ep("fd00:10::3", 40001) : Ep("192.168.20.3", 40001)};
  const Endpoint servers[2] = {
      v6 ? Ep("2001:db8:2::2", 21) : Ep("198.51.100.2", 21),
      v6 ? Ep("fd00:20::2", 2121) : Ep("192.168.20.2", 2121)};
  uint32_t seq[2][2] = {{1000, 5000}, {0xffffffe0u, 0x7ffffff0u}};
  uint64_t now = 1'000'000;
  std::vector<uint8_t> buf;

  for (int steps = 0; steps < 400 && !in.empty(); ++steps) {
    const uint8_t op = in.U8();
    const int conn = (op >> 7) & 1;
    const bool from_client = op & 0x40;
    if ((op & 0x3f) == 0x3f) {  // raw bytes as a packet
      const size_t n = in.U8() + (in.U8() % 4) * 256;
      const std::string raw = in.Bytes(n);
      buf.assign(raw.begin(), raw.end());
      const size_t len = buf.size();
      buf.resize(len + in.U8());
      const std::vector<uint8_t> before = buf;
      PacketBuffer pb{buf.data(), len, buf.size()};
      const Decision d = engine.Process(pb, now);
      if (!d.modified && (pb.len != len || buf != before)) {
        Fail("unmodified raw packet changed");
      }
      continue;
    }
    if ((op & 0x3f) == 0x3e) {  // time passes
      now += uint64_t{in.U16()} * (in.U8() % 8 == 0 ? 1000 : 1);
      engine.Expire(now);
      continue;
    }
    uint8_t flags = kTcpAck;
    const uint8_t f = in.U8();
    if (f & 1) flags |= kTcpPsh;
    if ((f & 0x0e) == 0x02) flags = kTcpSyn | (from_client ? 0 : kTcpAck);
    if ((f & 0x0e) == 0x04) flags |= kTcpFin;
    if ((f & 0x0e) == 0x06) flags = kTcpRst | kTcpAck;
    if (f & 0x10) flags &= static_cast<uint8_t>(~kTcpAck);
    uint32_t& s = seq[conn][from_client ? 0 : 1];
    const uint32_t other = seq[conn][from_client ? 1 : 0];
    // Sequence: in order, or a fuzzer-chosen offset (retransmit/gap).
    uint32_t at = s;
    if (f & 0x20) at = s + static_cast<int16_t>(in.U16());
    uint32_t ack = other;
    if (f & 0x40) ack = other + static_cast<int16_t>(in.U16());
    size_t len = in.U8();
    if (f & 0x80) len = len * 64 + in.U8();  // up to ~16 KiB, GSO-sized
    std::string payload = in.Bytes(len);
    TcpSpec spec{from_client ? clients[conn] : servers[conn],
                 from_client ? servers[conn] : clients[conn],
                 at, ack, flags, payload, {}, false};
    if (op & 0x20) {
      const uint32_t l = ack + static_cast<int8_t>(in.U8());
      spec.sack = {{l, l + in.U8()}, {l - 40, l - 20}};
    }
    if (v6 && (op & 0x10)) spec.ipv6_ext_header = true;
    buf = BuildTcp(spec);
    const size_t plen = buf.size();
    const size_t extra = (op & 8) ? (op & 7) : 256;
    buf.resize(plen + extra);
    const std::vector<uint8_t> before = buf;
    PacketBuffer pb{buf.data(), plen, buf.size()};
    const Decision d = engine.Process(pb, now);
    if (pb.len > buf.size()) Fail("packet longer than its buffer");
    if (!d.modified) {
      if (pb.len != plen || buf != before) Fail("unmodified packet changed");
    } else {
      PacketView v;
      if (ParsePacket(buf.data(), pb.len, &v) != PacketError::kNone) {
        Fail("modified packet does not parse");
      }
      if (!ChecksumsValid(buf.data(), v)) Fail("bad checksum after rewrite");
      if (!(v.src == spec.src) || !(v.dst == spec.dst)) Fail("endpoints changed");
    }
    if (d.verdict == Verdict::kDrop && payload.empty()) Fail("dropped a bare segment");
    if (at == s) {
      s += static_cast<uint32_t>(payload.size()) + ((flags & (kTcpSyn | kTcpFin)) ? 1 : 0);
    }
    if (engine.session_count() > cfg.max_sessions) Fail("session cap exceeded");
    if (sink.live.size() > cfg.max_expectations) {
      Fail("expectation count outside [0, cap]");
    }
  }
  engine.Shutdown();
  if (engine.session_count() != 0) Fail("sessions left after Shutdown");
  if (!sink.live.empty()) Fail("expectations left after Shutdown");
  return 0;
}
