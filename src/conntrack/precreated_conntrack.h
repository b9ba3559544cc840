// Mechanism (b), for control conntracks without a usable helper: the data
// connection's addr:port goes into the pending set, the rules queue its
// first SYN to ftpalgd (the data-SYN queue), and ftpalgd creates the
// related conntrack (master, DNAT to the announcer, SNAT as
// nat-follow-master would) before the SYN is accepted.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "conntrack/kernel_calls.h"
#include "conntrack/pending_set.h"
#include "conntrack/plane_context.h"
#include "conntrack/related_mechanism.h"
#include "ftpalg/packet.h"

namespace ftpalg {

class PrecreatedConntrack final : public RelatedMechanism {
 public:
  // Until the data SYN moves the created conntrack on.
  static constexpr uint32_t kRelatedCtTimeoutS = 30;

  PrecreatedConntrack(PlaneContext& ctx, KernelCalls& kernel)
      : ctx_(ctx), kernel_(kernel), set_(ctx, kernel) {}
  AddResult Add(const PendingConnection& p, bool adopt_existing) override;
  void Refresh(const PendingConnection& p) override;
  void Remove(const PendingConnection& p) override;
  // The data SYN syn (from p.e.peer to p.kernel_target) arrived: creates
  // its related conntrack. False when the kernel refused (counted, logged).
  bool CreateRelated(const PendingConnection& p, const PacketView& syn);

 private:
  PlaneContext& ctx_;
  KernelCalls& kernel_;
  PendingSet set_;
};

}  // namespace ftpalg
