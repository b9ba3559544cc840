// The resync from conntrack: one streamed CT_GET dump of the whole table
// (all families); every control conntrack whose labels carry a pending
// data connection (layout v2) gets it re-created by the installer. Run at
// start-up, on SIGUSR2 and by `ftpalgd --resync`; safe to repeat.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "adapters/ctnetlink_labels.h"
#include "conntrack/expectation_installer.h"
#include "conntrack/flow_cache.h"
#include "conntrack/kernel_calls.h"
#include "conntrack/plane_context.h"

struct nlmsghdr;

namespace ftpalg {

class Resync {
 public:
  Resync(PlaneContext& ctx, KernelCalls& kernel, FlowCache& cache,
         ExpectationInstaller& installer)
      : ctx_(ctx), kernel_(kernel), cache_(cache), installer_(installer) {}
  // Logs one line ("resync from conntrack: ...") and adds to the resync_*
  // counters.
  ResyncCounts Run();

 private:
  // A control conntrack with a pending data connection, found by a resync.
  struct Found {
    CtTuple orig;
    CtTuple reply;
    std::optional<uint32_t> mark;
    std::array<char, 32> helper{};
    PendingLabel pending;
  };
  void Scan(const nlmsghdr* m, ResyncCounts* r, std::vector<Found>* found);
  void Restore(const Found& x, ResyncCounts* r);
  void Report(const ResyncCounts& r);

  PlaneContext& ctx_;
  KernelCalls& kernel_;
  FlowCache& cache_;
  ExpectationInstaller& installer_;
};

}  // namespace ftpalg
