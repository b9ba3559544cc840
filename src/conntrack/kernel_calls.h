// The conntrack plane's requests to the kernel (ctnetlink and ipset over
// one NetlinkChannel) and what it does with their errors: every error is
// counted by class (err_* counters) and logged once per burst, per
// operation and errno. No error is fatal: the plane keeps answering.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "adapters/netlink_socket.h"
#include "conntrack/burst_log.h"
#include "conntrack/plane_context.h"

struct nlmsghdr;

namespace ftpalg {

// How long the daemon's socket waits for each answer (--check probes wait
// five times as long).
inline constexpr int kConntrackRequestTimeoutMs = 200;

// The operations, by the names the logs give them.
enum class KernelOp : uint8_t {
  kCtGet,
  kCtNew,
  kCtDelete,
  kCtSetLabels,
  kCtDump,
  kExpNew,
  kExpTimeout,
  kExpDelete,
  kIpsetAdd,
  kIpsetDel,
};

const char* KernelOpName(KernelOp op);

class KernelCalls {
 public:
  KernelCalls(PlaneContext& ctx, std::unique_ptr<NetlinkChannel> channel);

  // The buffer to build the next request in, and its sequence number.
  uint8_t* buf() { return buf_.get(); }
  uint32_t NextSeq() { return nl_->NextSeq(); }
  // One exchange: 0 or the kernel's errno; nothing counted or logged (the
  // caller knows which errors are expected).
  int Call(KernelOp op, nlmsghdr* request,
           const NetlinkChannel::ReplyFn& on_reply = {});
  int Dump(nlmsghdr* request, const NetlinkChannel::ReplyFn& on_reply);

  // Counts err in its err_* counter.
  void Count(int err);
  // Counts err and logs "OP ERRNO (n): what" once per burst.
  void Fail(KernelOp op, int err, const std::string& what);
  // A warning that is not an errno (a cap, a missing conntrack): once per
  // burst of the same key.
  void LogLimited(LogLevel level, const std::string& key,
                  const std::string& message);
  // The suppressed counts of bursts that are over (all: every burst).
  void FlushSuppressed(bool all);

 private:
  PlaneContext& ctx_;
  std::unique_ptr<NetlinkChannel> nl_;
  std::unique_ptr<uint8_t[]> buf_;
  BurstLog bursts_;
};

}  // namespace ftpalg
