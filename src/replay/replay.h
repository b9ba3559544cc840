// The offline driver: capture -> Engine::Process -> capture, with the
// expectation records and an optional golden trace.
//
// Broken input policy: a record the reader cannot read (cut short by the end
// of the file, bad header) ends the run with an error and no output; a frame
// that is not IP, or shorter on disk than on the wire (snaplen), is written
// unchanged without being shown to the engine, and counted.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "ftpalg/logger.h"
#include "ftpalg/stats.h"
#include "replay/replay_options.h"

namespace ftpalg {

struct ReplaySummary {
  uint64_t records = 0;      // records read
  uint64_t ip_packets = 0;   // handed to the engine
  uint64_t not_ip = 0;       // no IPv4/IPv6 behind the link header
  uint64_t truncated = 0;    // caplen < wire length (or oversized): passed
  uint64_t written = 0;
  uint64_t dropped = 0;      // engine verdict kDrop: not written
  uint64_t modified = 0;
  uint64_t expectations = 0;           // installed (JSON lines)
  uint64_t expectations_refreshed = 0;
  uint64_t expectations_busy = 0;      // kPortBusy answers given
  Stats stats;

  // "records=... ip=... ..." on one line (used by the trace).
  std::string ToLine() const;
  // Multi-line human summary for stderr (ends with '\n').
  std::string ToText() const;
};

struct ReplayOutputs {
  std::ostream* trace = nullptr;         // golden text, when wanted
  std::ostream* expectations = nullptr;  // JSON Lines, when wanted
  std::ostream* events = nullptr;        // --events: schema-v1 records
  Logger* log = nullptr;                 // engine events (e.g. stderr)
};

// Runs options.input through a fresh Engine. When options.output is not
// empty the capture is written there (atomically, only on success).
// Returns "" on success, else a one-line error.
std::string RunReplay(const ReplayOptions& options, const ReplayOutputs& outputs,
                      ReplaySummary* summary);

}  // namespace ftpalg
