// Mechanism (a): a kernel expectation (IPCTNL_MSG_EXP_NEW with
// "nat-follow-master") on the control conntrack, whose inert helper lets
// the kernel accept it. The kernel then makes the data connection RELATED
// and NATs it itself; ftpalgd sees no data SYN.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "conntrack/kernel_calls.h"
#include "conntrack/plane_context.h"
#include "conntrack/related_mechanism.h"

namespace ftpalg {

class KernelExpectation final : public RelatedMechanism {
 public:
  KernelExpectation(PlaneContext& ctx, KernelCalls& kernel)
      : ctx_(ctx), kernel_(kernel) {}
  AddResult Add(const PendingConnection& p, bool adopt_existing) override;
  void Refresh(const PendingConnection& p) override;
  void Remove(const PendingConnection& p) override;

 private:
  int Create(const PendingConnection& p);
  int SetTimeout(const PendingConnection& p);

  PlaneContext& ctx_;
  KernelCalls& kernel_;
};

}  // namespace ftpalg
