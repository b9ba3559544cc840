// Renders a replay as golden text: one line per control packet (seq/ack/
// len/SACK before->after, escaped payload before->after when it changed,
// verdict), the engine's log events and expectation events indented under
// the packet that caused them, and final summary + stats lines.
// Deterministic: pcap time relative to the first record, canonical addresses.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "ftpalg/config.h"
#include "ftpalg/engine.h"
#include "ftpalg/logger.h"
#include "ftpalg/stats.h"
#include "replay/recording_sink.h"

namespace ftpalg {

class TraceWriter final : public Logger {
 public:
  // Payload bytes shown per packet (then "...").
  static constexpr size_t kMaxPayloadShown = 200;

  TraceWriter(const EngineConfig& config, std::ostream& out);

  // Logger: info and above, kept until the current packet's line is written.
  bool Enabled(LogLevel l) const override { return l >= LogLevel::kInfo; }
  void Log(LogLevel l, std::string_view message) override;

  // Expectation events (wire to RecordingSink::set_observer).
  void OnExpectation(RecordingSink::Event event, const Expectation& e);

  // Call with the IP packet as it is before Engine::Process ...
  void BeginPacket(uint64_t index, uint64_t ts_ns, const uint8_t* ip,
                   size_t len);
  // ... and after it. Writes the packet line (control packets, or any packet
  // that caused events) followed by the pending events.
  void EndPacket(const uint8_t* ip, size_t len, const Decision& decision);
  // Writes events raised outside a packet (Expire, Shutdown) at time ts_ns.
  void FlushEvents(uint64_t ts_ns, std::string_view context);

  // Final lines: "replay <summary>" and "stats <nonzero counters>".
  void Finish(std::string_view summary, const Stats& stats);

 private:
  struct Snapshot {
    bool tcp = false;
    bool control = false;
    std::string endpoints;  // "a:p>b:q"
    uint8_t flags = 0;
    uint32_t seq = 0, ack = 0;
    size_t payload_len = 0;
    std::string payload;  // raw bytes
    std::string sack;     // "a-b,c-d" or empty
    std::string error;    // parse error name when not TCP
  };
  Snapshot Take(const uint8_t* ip, size_t len) const;
  std::string RelativeTime(uint64_t ts_ns);

  const EngineConfig& config_;
  std::ostream& out_;
  std::string pending_;
  Snapshot before_;
  uint64_t index_ = 0;
  uint64_t ts_ns_ = 0;
  uint64_t first_ts_ns_ = 0;
  bool have_first_ = false;
};

}  // namespace ftpalg
