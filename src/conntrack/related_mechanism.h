// How an announced data connection is made RELATED in the kernel, one of
//   (a) KernelExpectation: a kernel expectation (IPCTNL_MSG_EXP_NEW,
//       "nat-follow-master"), possible when the control conntrack carries
//       an inert helper (not "ftp");
//   (b) PrecreatedConntrack: its addr:port in the pending ipset, and the
//       related conntrack created from its first SYN.
// ExpectationInstaller chooses one per control connection.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>

#include "conntrack/pending_table.h"

namespace ftpalg {

class RelatedMechanism {
 public:
  enum class AddResult : uint8_t {
    kOk,
    kExists,       // the kernel has one for this tuple (another master's)
    kBusy,         // the kernel refused: port in use
    kUnsupported,  // this mechanism cannot work for this master
    kFailed,       // anything else (counted and logged)
  };
  virtual ~RelatedMechanism() = default;
  // p is new here. adopt_existing (a resync): the kernel already holding an
  // identical one is success, not a conflict (conntrackd's expectation
  // sync, or left from before a restart).
  virtual AddResult Add(const PendingConnection& p, bool adopt_existing) = 0;
  // The same announcement again: the kernel's timeout starts over.
  virtual void Refresh(const PendingConnection& p) = 0;
  // Withdrawn, expired or used.
  virtual void Remove(const PendingConnection& p) = 0;
};

}  // namespace ftpalg
