// ftpalg-replay --events: the schema-v1 NAT-binding records (docs/events.md)
// the capture would have produced, written with the daemon's formatter.
// Offline there is no conntrack and no kernel state: session_start's REPLY
// tuple is the resolver's binding (--public-ip for an inside client, same
// port; --conntrack: the declared REPLY tuple), data_installed means the
// replay's expectation bookkeeping accepted it (mechanism "expectation"),
// and times are the capture's. Records only the live daemon can make
// (stream_open, data_used, data_withdrawn, data_expired) are not written.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <ostream>

#include "conntrack/event_format.h"
#include "ftpalg/engine.h"
#include "replay/recording_sink.h"

namespace ftpalg {

class ReplayEventRecorder final : public SessionObserver {
 public:
  ReplayEventRecorder(FlowResolver& resolver, std::ostream& out)
      : resolver_(resolver), out_(out) {}

  void SessionStarted(uint64_t id, const FlowKey& key, bool picked_up,
                      uint64_t now_ms) override;
  void SessionEnded(uint64_t id, const FlowKey& key, const char* reason,
                    uint32_t rewrites, uint32_t refusals, uint64_t now_ms) override;
  // From the RecordingSink's observer: kInstalled -> data_announced +
  // data_installed; kBusy -> data_announced + data_refused (port_busy).
  void OnExpectation(RecordingSink::Event event, const Expectation& e, uint64_t now_ms);

 private:
  void Write(std::string_view line) { out_ << line; }

  FlowResolver& resolver_;
  std::ostream& out_;
  JsonLine line_;
};

}  // namespace ftpalg
