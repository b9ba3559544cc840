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
// Its units are in src/conntrack: FlowCache (the resolver's conntrack
// cache), ExpectationInstaller with KernelExpectation (a) and
// PrecreatedConntrack (b) over PendingSet, LabelStore, Resync, and
// KernelCalls (the requests and their errors); this wires them.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conntrack/plane_options.h"
#include "ftpalg/engine.h"
#include "ftpalg/expectation.h"
#include "ftpalg/inet.h"
#include "ftpalg/logger.h"

namespace ftpalg {

class BindingEvents;
class NetlinkChannel;

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
  // NAT-binding records of the data connections (--events); nullptr: none.
  virtual void SetBindingEvents(BindingEvents* events) { (void)events; }
  // The REPLY tuple (src, dst) of a control connection's conntrack, read
  // on a cache miss; false when the kernel has none.
  virtual bool ReplyTuple(const FlowKey& master, Endpoint* src, Endpoint* dst) {
    (void)master;
    (void)src;
    (void)dst;
    return false;
  }
  // The same counters, one entry each, for the stats socket.
  virtual std::vector<PlaneCounter> CounterList() const { return {}; }
};

// The same plane over any channel (tests pass a scripted kernel). The
// channel's requests must answer within a bounded time.
std::unique_ptr<ConntrackPlane> MakeConntrackPlane(
    const PlaneOptions& options, Logger& logger,
    std::unique_ptr<NetlinkChannel> channel, uint64_t now_ms);

}  // namespace ftpalg
