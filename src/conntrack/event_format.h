// NAT-binding records (ftpalgd --events, docs/events.md): one JSON object
// per line, schema version 1. Pure formatting into a fixed buffer: no I/O,
// no allocation (the records are made on the packet path).
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "conntrack/pending_table.h"
#include "ftpalg/expectation.h"
#include "ftpalg/inet.h"

namespace ftpalg {

constexpr int kEventSchemaVersion = 1;

// "2026-12-06T18:50:00.123Z" (UTC, milliseconds), NUL-terminated.
constexpr size_t kUtcTextSize = 32;
void FormatUtcMs(uint64_t wall_ms, char out[kUtcTextSize]);

// One JSON object being written; Finish() closes it with "}\n". A record
// that would not fit is cut off and reported by ok() == false.
class JsonLine {
 public:
  static constexpr size_t kMaxLen = 1536;

  // Starts over with {"v":1,"ts":"...","event":"<event>"; wall_ms: ms
  // since the epoch.
  JsonLine& Begin(uint64_t wall_ms, std::string_view event);
  JsonLine& Str(std::string_view key, std::string_view value);
  JsonLine& Num(std::string_view key, uint64_t value);
  JsonLine& Bool(std::string_view key, bool value);
  JsonLine& Null(std::string_view key);
  JsonLine& Addr(std::string_view key, const IpAddress& a);
  JsonLine& Ep(std::string_view key, const Endpoint& e);
  // {"src":"a:p","dst":"b:q"}
  JsonLine& Tuple(std::string_view key, const Endpoint& src, const Endpoint& dst);
  std::string_view Finish();
  bool ok() const { return ok_; }

 private:
  void Key(std::string_view key);
  void Raw(std::string_view s);
  void Quoted(std::string_view s);  // with JSON escapes

  char buf_[kMaxLen];
  char ts_[kUtcTextSize] = {};  // the last "ts" written, and its second
  uint64_t ts_second_ = 0;
  size_t len_ = 0;
  bool ok_ = true;
};


// What a session_start record knows: the REPLY tuple once the conntrack
// was read (nullopt: never found, e.g. the session ended first).
struct SessionStartFacts {
  uint64_t session = 0;
  FlowKey orig;
  std::optional<Endpoint> reply_src;  // the server as it answers
  std::optional<Endpoint> reply_dst;  // the client as the server sees it
  bool picked_up = false;
};

// The records, one per event type (docs/events.md lists every field).
std::string_view FormatStreamOpen(JsonLine& j, uint64_t wall_ms, uint32_t pid, std::string_view version,
                                  uint64_t dropped);
std::string_view FormatSessionStart(JsonLine& j, uint64_t wall_ms, const SessionStartFacts& f);
std::string_view FormatSessionEnd(JsonLine& j, uint64_t wall_ms, uint64_t session, const FlowKey& orig,
                                  std::string_view reason, uint32_t rewrites,
                                  uint32_t refusals);
std::string_view FormatDataAnnounced(JsonLine& j, uint64_t wall_ms, const Expectation& e);
std::string_view FormatDataInstalled(JsonLine& j, uint64_t wall_ms, const PendingConnection& p, bool restored);
std::string_view FormatDataRefused(JsonLine& j, uint64_t wall_ms, const Expectation& e, std::string_view reason);
std::string_view FormatDataUsed(JsonLine& j, uint64_t wall_ms, const PendingConnection& p, const Endpoint& from);
// event: "data_withdrawn" or "data_expired".
std::string_view FormatDataEnded(JsonLine& j, uint64_t wall_ms, const PendingConnection& p,
                                 std::string_view reason);

}  // namespace ftpalg
