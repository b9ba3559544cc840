// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/precreated_conntrack.h"

#include <errno.h>

#include "adapters/ctnetlink_messages.h"

namespace ftpalg {

RelatedMechanism::AddResult PrecreatedConntrack::Add(const PendingConnection& p,
                                                     bool adopt_existing) {
  (void)adopt_existing;  // an ipset add with a timeout renews an element
  if (set_.Add(p.kernel_target, p.e.timeout_s) != 0) return AddResult::kFailed;
  ++ctx_.counters.pending_added;
  return AddResult::kOk;
}

void PrecreatedConntrack::Refresh(const PendingConnection& p) {
  set_.Add(p.kernel_target, p.e.timeout_s);
}

void PrecreatedConntrack::Remove(const PendingConnection& p) {
  set_.Remove(p.kernel_target);
}

bool PrecreatedConntrack::CreateRelated(const PendingConnection& p,
                                        const PacketView& syn) {
  CtCreateSpec spec;
  spec.orig = CtTuple{syn.src, syn.dst, 6};
  spec.master = CtTuple::FromFlow(p.e.master);
  spec.snat_to = p.snat_to;
  spec.dnat_to = p.e.nat_to;
  spec.timeout_s = kRelatedCtTimeoutS;
  spec.mark = p.mark;
  int err = kernel_.Call(KernelOp::kCtNew,
                         BuildCtCreate(kernel_.buf(), kernel_.NextSeq(), spec));
  if (err == EEXIST) {
    // A stale conntrack with this tuple (e.g. TIME_WAIT): replace it.
    ++ctx_.counters.related_eexist_retries;
    kernel_.Call(KernelOp::kCtDelete,
                 BuildCtDelete(kernel_.buf(), kernel_.NextSeq(), spec.orig));
    err = kernel_.Call(KernelOp::kCtNew,
                       BuildCtCreate(kernel_.buf(), kernel_.NextSeq(), spec));
  }
  if (err != 0) {
    ++ctx_.counters.related_failed;
    kernel_.Fail(KernelOp::kCtNew, err,
                 "related conntrack " + spec.orig.ToString() + " master " +
                     p.e.master.ToString());
    return false;
  }
  ++ctx_.counters.related_created;
  if (ctx_.logger.Enabled(LogLevel::kInfo)) {
    ctx_.logger.Log(LogLevel::kInfo,
                    "#" + std::to_string(p.e.session_id) +
                        " related conntrack created: " + spec.orig.ToString() +
                        " DNAT " + spec.dnat_to->ToString() + " SNAT " +
                        spec.snat_to->ToString() + " master " +
                        p.e.master.ToString());
  }
  return true;
}

}  // namespace ftpalg
