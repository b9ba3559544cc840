// The session state the plane keeps in the control conntrack's labels
// (layout and encoding: adapters/ctnetlink_labels.h): the session's
// offsets (snapshot) and its newest pending data connection, so a restarted
// daemon or a backup gateway can carry on. One masked CT_NEW update per
// change, none when nothing changed; a conntrack without label space is
// never asked again.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>

#include "adapters/ctnetlink_labels.h"
#include "conntrack/flow_cache.h"
#include "conntrack/kernel_calls.h"
#include "conntrack/plane_context.h"
#include "ftpalg/engine.h"

namespace ftpalg {

class LabelStore {
 public:
  LabelStore(PlaneContext& ctx, KernelCalls& kernel, FlowCache& cache)
      : ctx_(ctx), kernel_(kernel), cache_(cache) {}

  void SaveSnapshot(const FlowKey& master, const SessionSnapshot& snap);
  std::optional<SessionSnapshot> LoadSnapshot(const FlowKey& master);
  // e is the master's newest pending data connection. False when there is
  // no master conntrack (nothing was tried); true when its labels were
  // written or tried.
  bool SavePending(CtEntry* entry, const Expectation& e);
  // e is gone: clear the labels' pending fields if they still describe e.
  void ClearPending(const Expectation& e);
  // true at shutdown: withdrawn pending data connections stay in the
  // labels for the next daemon.
  void KeepOnRemove(bool keep) { keep_on_remove_ = keep; }

 private:
  enum class Write : uint8_t { kWritten, kUnchanged, kNoLabels, kFailed };
  Write WriteLabels(CtEntry* entry, const FlowKey& master, CtLabelWrite w);
  Write ReportWriteError(CtEntry* entry, const FlowKey& master, int err);
  void ReportForeign(const CtEntry& entry, const FlowKey& master);

  PlaneContext& ctx_;
  KernelCalls& kernel_;
  FlowCache& cache_;
  bool keep_on_remove_ = false;
};

}  // namespace ftpalg
