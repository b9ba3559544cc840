// Where the conntrack plane reports what happens to each data connection's
// NAT binding (ftpalgd --events; docs/events.md). Implementations must not
// block: they are called on the packet path. No I/O here.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "conntrack/pending_table.h"
#include "ftpalg/inet.h"

namespace ftpalg {

class BindingEvents {
 public:
  enum class Refusal : uint8_t { kPortBusy, kFailed };
  enum class End : uint8_t { kWithdrawn, kExpired, kSessionEnded, kShutdown };

  virtual ~BindingEvents() = default;
  // A new data connection the engine asked for, whatever became of it
  // (a refresh of a known one is not reported).
  virtual void Announced(const Expectation& e) = 0;
  // Its kernel state exists (p.mech says which); restored: re-created by a
  // resync from the labels.
  virtual void Installed(const PendingConnection& p, bool restored) = 0;
  // Not installed (the engine then tries another port or does not rewrite).
  virtual void Refused(const Expectation& e, Refusal why) = 0;
  // The data SYN arrived (from `from`) and its related conntrack was made.
  virtual void Used(const PendingConnection& p, const Endpoint& from) = 0;
  // Gone without being seen used (or, for a kernel expectation, used or
  // not: the kernel does not tell).
  virtual void Ended(const PendingConnection& p, End why) = 0;
};

}  // namespace ftpalg
