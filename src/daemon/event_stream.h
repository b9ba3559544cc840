// ftpalgd --events FILE: the NAT-binding records (docs/events.md) of every
// control session and data connection, one JSON object per line. The
// engine (SessionObserver) and the conntrack plane (BindingEvents) report
// on the packet path; each record is formatted there into a fixed-size
// ring (EventRing) and written by the daemon's loop (Flush) with
// non-blocking, appending writes. A full ring drops the record and counts
// it (events_dropped). SIGHUP reopens the file (logrotate).
// A session_start waits for the control conntrack (the first packets are
// queued before conntrack sees them) to learn the public binding: it is
// written at the latest before the session's next record, or after a few
// seconds with the binding null.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "conntrack/binding_events.h"
#include "conntrack/event_format.h"
#include "daemon/event_ring.h"
#include "ftpalg/engine.h"
#include "ftpalg/logger.h"

namespace ftpalg {

class EventStream final : public BindingEvents, public SessionObserver {
 public:
  static constexpr size_t kRingBytes = 1 << 20;
  static constexpr size_t kMaxWaitingStarts = 1024;
  static constexpr uint64_t kStartWaitMs = 3000;

  // The REPLY tuple (src, dst) of a control connection's conntrack.
  using ReplyLookup = std::function<bool(const FlowKey& master, Endpoint* src, Endpoint* dst)>;
  using WallClock = std::function<uint64_t()>;  // ms since the epoch

  EventStream(std::string path, Logger& logger, size_t ring_bytes = kRingBytes,
              WallClock wall = nullptr);
  ~EventStream() override;
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Opens (creates, appends) the file and writes a stream_open record.
  bool Open(std::string* error);
  // SIGHUP: a fresh file at the same path; keeps the old one if that fails.
  void Reopen();
  void SetReplyLookup(ReplyLookup lookup) { lookup_ = std::move(lookup); }
  // About once a second: session starts whose conntrack is there by now;
  // a file lost to a write error is opened again.
  void Tick(uint64_t now_ms);
  // Writes what the ring holds, as far as the file takes it now.
  void Flush();
  // At shutdown: the waiting session starts, then a last Flush.
  void Close();

  uint64_t dropped() const { return ring_.dropped(); }
  uint64_t recorded() const { return ring_.pushed(); }
  const std::string& path() const { return path_; }

  // SessionObserver
  void SessionStarted(uint64_t id, const FlowKey& key, bool picked_up,
                      uint64_t now_ms) override;
  void SessionEnded(uint64_t id, const FlowKey& key, const char* reason,
                    uint32_t rewrites, uint32_t refusals, uint64_t now_ms) override;
  // BindingEvents
  void Announced(const Expectation& e) override;
  void Installed(const PendingConnection& p, bool restored) override;
  void Refused(const Expectation& e, Refusal why) override;
  void Used(const PendingConnection& p, const Endpoint& from) override;
  void Ended(const PendingConnection& p, End why) override;

 private:
  struct WaitingStart {
    SessionStartFacts facts;
    uint64_t wall_ms = 0;
    uint64_t mono_ms = 0;
  };

  int OpenFd(std::string* error) const;
  void Record(std::string_view line);
  // Writes the session_start of `session` if it is still waiting.
  void StartBefore(uint64_t session);
  // Writes the waiting start at index, with the binding when the
  // conntrack is found; without it only when forced. True: written.
  bool WriteStart(size_t index, bool force);
  long Write(const char* p, size_t n);

  std::string path_;
  Logger& logger_;
  WallClock wall_;
  EventRing ring_;
  JsonLine line_;
  ReplyLookup lookup_;
  std::vector<WaitingStart> waiting_;
  int fd_ = -1;
  bool write_failed_ = false;
};

}  // namespace ftpalg
