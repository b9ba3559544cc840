// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's counters as `ftpalgd --stats` prints them: a snapshot of every
// counter the daemon keeps, formatted as plain text ("name value" per line,
// grouped under '#' headings) or as Prometheus text exposition format
// (ftpalg_* metrics, HELP and TYPE lines, refusals by `reason`, errors by
// `kind`, kernel queues by `queue`). Pure formatting: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/nfqueue_socket.h"
#include "daemon/conntrack_plane.h"
#include "daemon/kernel_queue.h"
#include "ftpalg/stats.h"

namespace ftpalg {

struct StatsSnapshot {
  uint64_t uptime_s = 0;
  uint64_t sessions_active = 0;
  uint64_t data_syns = 0;      // packets from the data-SYN queue
  uint64_t unknown_queue = 0;  // packets from a queue that is not ours
  uint64_t log_suppressed = 0; // log lines held back by the rate limit
  uint64_t rules_gone_warnings = 0;  // "rules gone?" warnings (RulesWatch)
  uint64_t events_recorded = 0;  // --events records put in the ring
  uint64_t events_dropped = 0;   // ... dropped: the writer fell behind
  Stats engine;
  std::vector<PlaneCounter> plane;
  QueueCounters nfqueue;
  std::vector<KernelQueueStats> queues;
};

std::string FormatStatsText(const StatsSnapshot& s);
std::string FormatStatsPrometheus(const StatsSnapshot& s);

// What an engine counter (a Stats field name) counts; "" if unknown.
std::string_view EngineCounterHelp(std::string_view field);

// A Prometheus label value: backslash, double quote and newline escaped.
std::string EscapePrometheusLabel(std::string_view value);

}  // namespace ftpalg
