// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/event_recorder.h"

namespace ftpalg {

void ReplayEventRecorder::SessionStarted(uint64_t id, const FlowKey& key, bool picked_up,
                                         uint64_t now_ms) {
  SessionStartFacts f;
  f.session = id;
  f.orig = key;
  f.picked_up = picked_up;
  // The REPLY tuple the resolver's binding gives (ports kept): an inside
  // client masqueraded to --public-ip; a --conntrack session as declared.
  const NatBinding b = resolver_.Binding(key);
  f.reply_src = Endpoint{b.server_inside, key.server.port};
  f.reply_dst = Endpoint{b.client_outside, key.client.port};
  Write(FormatSessionStart(line_, now_ms, f));
}

void ReplayEventRecorder::SessionEnded(uint64_t id, const FlowKey& key, const char* reason,
                                       uint32_t rewrites, uint32_t refusals, uint64_t now_ms) {
  Write(FormatSessionEnd(line_, now_ms, id, key, reason, rewrites, refusals));
}

void ReplayEventRecorder::OnExpectation(RecordingSink::Event event, const Expectation& e,
                                        uint64_t now_ms) {
  if (event != RecordingSink::Event::kInstalled && event != RecordingSink::Event::kBusy) return;
  Write(FormatDataAnnounced(line_, now_ms, e));
  if (event == RecordingSink::Event::kBusy) {
    Write(FormatDataRefused(line_, now_ms, e, "port_busy"));
    return;
  }
  PendingConnection p;
  p.e = e;
  p.kernel_target = e.target;
  p.mech = PlaneOptions::Mechanism::kExpect;
  Write(FormatDataInstalled(line_, now_ms, p, false));
}

}  // namespace ftpalg
