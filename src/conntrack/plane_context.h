// What every unit of the conntrack plane shares: its options, the logger,
// the counters and the plane's clock.
// Single-threaded: the plane and its units run on the engine's thread.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <time.h>

#include <cstdint>
#include <string>
#include <vector>

#include "conntrack/plane_options.h"
#include "ftpalg/logger.h"

namespace ftpalg {

class BindingEvents;

// The names are an interface: `ftpalgd --stats`, SIGUSR1 and the stats
// socket print them (stats_report.cc has their help texts).
#define FTPALG_PLANE_COUNTERS(X)                                              \
  X(resolver_hits)                                                           \
  X(resolver_misses)                                                         \
  X(resolver_failures)      /* CT_GET found nothing / failed */              \
  X(resolver_evictions)                                                      \
  X(binding_fallbacks)      /* no conntrack: identity binding used */        \
  X(masters_expect)         /* control connections using (a) */              \
  X(masters_precreate)      /* control connections using (b) */              \
  X(masters_ftp_helper)     /* kernel ftp helper found attached */           \
  X(installs)                                                                \
  X(refreshes)              /* identical announcement re-installed */         \
  X(port_busy)                                                               \
  X(cap_refusals)                                                            \
  X(install_failures)                                                        \
  X(expect_created)         /* (a) EXP_NEW ok */                              \
  X(expect_fallbacks)       /* (a) EOPNOTSUPP -> (b) */                       \
  X(pending_added)          /* (b) ipset add ok */                            \
  X(removed)                                                                 \
  X(expired)                                                                 \
  X(syn_seen)                                                                \
  X(syn_malformed)                                                           \
  X(syn_unmatched)                                                           \
  X(syn_peer_mismatch)                                                       \
  X(related_created)                                                         \
  X(related_eexist_retries)                                                  \
  X(related_failed)                                                          \
  X(snapshot_saved)         /* offsets written to conntrack labels */        \
  X(snapshot_unchanged)     /* same offsets again: no write */               \
  X(snapshot_no_labels)     /* label write skipped: no label space (ENOSPC) */ \
  X(label_writes)           /* label updates the kernel accepted (all kinds) */ \
  X(pending_saved)          /* newest pending data connection written */     \
  X(pending_cleared)        /* ... cleared (used, withdrawn, expired) */      \
  X(resync_runs)                                                             \
  X(resync_scanned)         /* conntracks read by resync dumps */            \
  X(resync_sessions)        /* of which carried ftpalg labels */             \
  X(resync_pending)         /* pending data connections re-created */        \
  X(resync_errors)                                                           \
  X(restored_withdrawn)     /* re-created pending gone with its session */   \
  X(snapshot_save_failed)                                                    \
  X(snapshot_write_us)      /* total time spent in label writes */           \
  X(snapshot_loaded)        /* offsets read back for a picked-up session */  \
  X(snapshot_absent)        /* picked-up session without ftpalg labels */    \
  X(labels_foreign)         /* control conntracks with label bits set by  \
                               another rule before ftpalgd's first write */ \
  X(err_enobufs)                                                             \
  X(err_eexist)                                                              \
  X(err_enoent)                                                              \
  X(err_eperm)                                                               \
  X(err_eopnotsupp)                                                          \
  X(err_ebusy)                                                               \
  X(err_enospc)                                                              \
  X(err_etimedout)                                                           \
  X(err_other)

struct PlaneCounters {
#define FTPALG_PLANE_FIELD(name) uint64_t name = 0;
  FTPALG_PLANE_COUNTERS(FTPALG_PLANE_FIELD)
#undef FTPALG_PLANE_FIELD
};

// "name=value ..." (every counter, then the gauges pending and
// resolver_cached), as SIGUSR1 logs it.
std::string FormatPlaneCounters(const PlaneCounters& c, uint64_t pending,
                                uint64_t resolver_cached);
// The same, one entry each, for the stats socket.
std::vector<PlaneCounter> ListPlaneCounters(const PlaneCounters& c,
                                            uint64_t pending,
                                            uint64_t resolver_cached);

struct PlaneContext {
  PlaneContext(const PlaneOptions& o, Logger& l, uint64_t now)
      : options(o), logger(l), now_ms(now) {}
  PlaneOptions options;
  Logger& logger;
  PlaneCounters counters;
  // CLOCK_MONOTONIC milliseconds as last told (data SYN, Expire, resync):
  // stamps cache use, pending lifetimes and log windows.
  uint64_t now_ms;
  // NAT-binding records (--events); nullptr: none.
  BindingEvents* events = nullptr;
};

inline uint64_t MonotonicUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 +
         static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

inline uint64_t MonotonicMs() { return MonotonicUs() / 1000; }

}  // namespace ftpalg
