// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/event_recorder.h"

namespace ftpalg {

void ReplayEventRecorder::SessionStarted(uint64_t id, const FlowKey& key, bool picked_up,
                                         uint64_t now_ms) {
  SessionStartFacts f;
  f.session = id;
  f.orig = key;
  f.picked_up = picked_up;
  // The REPLY tuple a masquerading gateway would give: an inside client
  // appears as the public address of its family (same port); otherwise
  // (or with no public address of that family) unchanged.
  Endpoint client_public = key.client;
  const auto& pub = key.client.addr.family == Family::kV4 ? config_.public_v4 : config_.public_v6;
  if (pub && config_.IsInside(key.client.addr)) client_public.addr = *pub;
  f.reply_src = key.server;
  f.reply_dst = client_public;
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
