// The conntrack plane: everything ftpalgd does through ctnetlink and ipset.
// It resolves control connections to their conntrack (FlowResolver) and
// turns the engine's Expectation records into kernel state (ExpectationSink),
// choosing per control connection between
//   (a) a kernel expectation (IPCTNL_MSG_EXP_NEW, "nat-follow-master") when
//       the control conntrack carries an inert helper (not "ftp"), and
//   (b) a related conntrack pre-created from the data connection's first
//       SYN, which the rules queue only while its addr:port is in the
//       pending ipset (hash:ip,port with timeout) this plane maintains.
// Single-threaded: call everything from the thread that runs the engine.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ftpalg/engine.h"
#include "ftpalg/expectation.h"
#include "ftpalg/inet.h"
#include "ftpalg/logger.h"

namespace ftpalg {

class NetlinkChannel;

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

class ConntrackPlane {
 public:
  // Opens the ctnetlink/ipset sockets. nullptr + *error on failure.
  static std::unique_ptr<ConntrackPlane> Open(const PlaneOptions&, Logger&,
                                              std::string* error);
  virtual ~ConntrackPlane() = default;
  virtual FlowResolver& resolver() = 0;
  virtual ExpectationSink& sink() = 0;
  // A packet from the data-SYN queue (IP bytes); installs the related
  // conntrack if it matches. The packet is always to be accepted.
  virtual void OnDataSyn(const uint8_t* packet, size_t len, uint64_t now_ms) = 0;
  // Called about once a second. now_ms: CLOCK_MONOTONIC milliseconds (the
  // same clock as OnDataSyn's).
  virtual void Expire(uint64_t now_ms) = 0;
  // At shutdown: pending set entries + expectations we created.
  virtual void RemoveAll() = 0;
  // keep = true before the engine's Shutdown(): withdrawn expectations then
  // keep their pending fields in the conntrack labels, so the next daemon (a
  // restart), or this one after a resync, re-creates them with
  // ResyncFromConntrack(). false: withdrawing clears them again.
  virtual void KeepLabelsOnRemove(bool keep) = 0;
  // Reads the whole conntrack table (one streamed CT_GET dump, all families) and,
  // for every control conntrack whose labels carry a pending data
  // connection (layout v2, ctnetlink_labels.h), re-creates it here: pending
  // record plus ipset element with a timeout (or a kernel expectation when
  // the conntrack has an inert helper). Sessions themselves are restored
  // lazily, from the labels, on their first control packet. Logs one line
  // ("resync from conntrack: ...") and adds to the resync_* counters. Run at
  // start-up before packets are handled, on SIGUSR2 and by `ftpalgd
  // --resync`; safe to repeat (known pending data connections are kept).
  virtual ResyncCounts ResyncFromConntrack(uint64_t now_ms) = 0;
  // "mechanisms: ..." one line for the start-up log.
  virtual std::string Describe() const = 0;
  // "name=value ..." for SIGUSR1.
  virtual std::string Counters() const = 0;
  // The same counters, one entry each, for the stats socket.
  virtual std::vector<PlaneCounter> CounterList() const { return {}; }
};

// The same plane over any channel (tests pass a scripted kernel). The
// channel's requests must answer within a bounded time.
std::unique_ptr<ConntrackPlane> MakeConntrackPlane(
    const PlaneOptions& options, Logger& logger,
    std::unique_ptr<NetlinkChannel> channel, uint64_t now_ms);

// For `ftpalgd --check`: probes ctnetlink (CT dump works), whether EXP_NEW
// can work (is any inert helper attachable), and whether the pending ipsets
// exist. Appends human-readable lines to *report; returns true when the
// daemon can run. Briefly creates (and deletes) one conntrack and one set
// element on TEST-NET-1 addresses (192.0.2.0/24) in the current namespace.
bool ProbeConntrack(const PlaneOptions&, std::string* report);

// For `ftpalgd --check`: do new conntracks get labels, so session offsets
// and pending data connections survive a restart or a failover? Creates a
// throwaway TEST-NET conntrack (it gets label space exactly when a new
// connection would), writes and reads back offsets and a pending data
// connection (layout v2), deletes it. *report gets one line.
bool ProbeLabels(std::string* report);

}  // namespace ftpalg
