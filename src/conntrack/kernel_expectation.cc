// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/kernel_expectation.h"

#include <errno.h>

#include "adapters/ctnetlink_messages.h"

namespace ftpalg {
namespace {

ExpectSpec SpecFor(const PendingConnection& p) {
  ExpectSpec s;
  s.master = CtTuple::FromFlow(p.e.master);
  s.tuple = CtTuple{Endpoint{p.e.peer, 0}, p.kernel_target, 6};
  s.wildcard_src_port = true;
  // PORT/EPRT (client announces): REPLY; 227/228/229: ORIGINAL.
  s.nat_dir = Opposite(p.e.announcer);
  s.nat_to = p.e.nat_to;
  s.timeout_s = p.e.timeout_s;
  return s;
}

}  // namespace

RelatedMechanism::AddResult KernelExpectation::Add(const PendingConnection& p,
                                                   bool adopt_existing) {
  const int err = Create(p);
  if (err == 0 || (err == EEXIST && adopt_existing)) {
    if (err == 0) ++ctx_.counters.expect_created;
    SetTimeout(p);
    return AddResult::kOk;
  }
  switch (err) {
    case EEXIST: return AddResult::kExists;
    case EBUSY: return AddResult::kBusy;
    case EOPNOTSUPP: return AddResult::kUnsupported;
    default: return AddResult::kFailed;
  }
}

void KernelExpectation::Refresh(const PendingConnection& p) {
  // ENOENT: the kernel used (or dropped) it; this is a new one.
  if (SetTimeout(p) == ENOENT && Create(p) == 0) {
    ++ctx_.counters.expect_created;
    SetTimeout(p);
  }
}

void KernelExpectation::Remove(const PendingConnection& p) {
  const CtTuple tuple{Endpoint{p.e.peer, 0}, p.kernel_target, 6};
  const int err = kernel_.Call(KernelOp::kExpDelete,
                               BuildExpDelete(kernel_.buf(), kernel_.NextSeq(), tuple));
  // ENOENT: already used or expired in the kernel.
  if (err != 0 && err != ENOENT) kernel_.Fail(KernelOp::kExpDelete, err, tuple.ToString());
}

int KernelExpectation::Create(const PendingConnection& p) {
  const int err = kernel_.Call(
      KernelOp::kExpNew, BuildExpCreate(kernel_.buf(), kernel_.NextSeq(), SpecFor(p)));
  if (err != 0 && err != EEXIST && err != EBUSY) {
    kernel_.Fail(KernelOp::kExpNew, err,
                 p.e.target.ToString() + " master " + p.e.master.ToString());
  } else if (err != 0) {
    kernel_.Count(err);
  }
  return err;
}

int KernelExpectation::SetTimeout(const PendingConnection& p) {
  const int err = kernel_.Call(
      KernelOp::kExpTimeout,
      BuildExpSetTimeout(kernel_.buf(), kernel_.NextSeq(), SpecFor(p)));
  if (err == ENOENT) {
    kernel_.Count(err);
  } else if (err != 0) {
    kernel_.Fail(KernelOp::kExpTimeout, err, p.e.target.ToString());
  }
  return err;
}

}  // namespace ftpalg
