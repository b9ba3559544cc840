// The conntrack plane's configuration and what it reports: options from the
// command line, the counts of one resync, one counter for `ftpalgd --stats`.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ftpalg/inet.h"

namespace ftpalg {

struct PlaneOptions {
  std::optional<IpAddress> public_v4, public_v6;  // --public-ip overrides
  std::string pending_set_v4 = "ftpalg-pend4", pending_set_v6 = "ftpalg-pend6";
  enum class Mechanism { kAuto, kExpect, kPrecreate } mechanism = Mechanism::kAuto;
  uint32_t max_expectations = 65536;   // global cap
  uint32_t resolver_cache_size = 65536;
  // Lifetime of a pending data connection re-created by a resync (the
  // labels do not say when it was announced): the engine's expectation
  // timeout.
  uint32_t expectation_timeout_s = 300;

  const std::optional<IpAddress>& PublicFor(Family f) const {
    return f == Family::kV4 ? public_v4 : public_v6;
  }
  const std::string& PendingSetFor(Family f) const {
    return f == Family::kV4 ? pending_set_v4 : pending_set_v6;
  }
};

// What one ResyncFromConntrack() found and did.
struct ResyncCounts {
  uint64_t scanned = 0;           // conntracks in the dump (all families)
  uint64_t sessions = 0;          // control conntracks whose labels carry ftpalg state
  uint64_t pending_restored = 0;  // pending data connections re-created
  uint64_t pending_known = 0;     // ... already pending in this daemon
  uint64_t errors = 0;            // dump failures, conflicts, failed installs
  uint64_t elapsed_ms = 0;
  // "scanned=N sessions=N pending_restored=N pending_known=N errors=N ms=N"
  std::string ToString() const;
};

// One plane counter for `ftpalgd --stats` (err_* counters are errors by
// kind; gauges are current sizes, not totals).
struct PlaneCounter {
  const char* name;
  uint64_t value = 0;
  bool gauge = false;
};

}  // namespace ftpalg
