// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel's side of ftpalgd's NFQUEUE queues: the rows of
// /proc/net/netfilter/nfnetlink_queue (parsed, and read for the counters and
// the overflow warnings) and why binding a queue failed, in operator words.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ftpalg {

// One row of /proc/net/netfilter/nfnetlink_queue.
struct KernelQueueStats {
  uint16_t queue = 0;
  bool bound = false;          // a row exists (someone has the queue bound)
  uint32_t portid = 0;
  uint32_t waiting = 0;        // packets queued, not yet read
  uint32_t queue_dropped = 0;  // queue full (fail-open: passed unchanged)
  uint32_t user_dropped = 0;   // the netlink socket could not take them
};

// Parses /proc/net/netfilter/nfnetlink_queue text; the row of `queue`
// (bound = false when there is none).
KernelQueueStats ParseKernelQueue(std::string_view proc_text, uint16_t queue);

// Reads the rows of the kernel's queue table, through a descriptor opened by
// OpenEarly() when there is one, else by opening the file each time.
class KernelQueueReader {
 public:
  KernelQueueReader() = default;
  ~KernelQueueReader() { Close(); }
  KernelQueueReader(const KernelQueueReader&) = delete;
  KernelQueueReader& operator=(const KernelQueueReader&) = delete;

  // To be called before privileges are dropped: once the daemon is another
  // user (and not dumpable), /proc/self/net is no longer readable by it.
  void OpenEarly();
  void Close();

  KernelQueueStats Read(uint16_t queue) const;
  // "q0 portid=... waiting=... kernel_dropped=... user_dropped=..." or
  // "q0=unbound", for the counters log line.
  std::string Text(uint16_t queue) const;

 private:
  int fd_ = -1;
};

// Why binding a queue failed (err: the errno), in operator words.
std::string BindError(uint16_t queue, int err, uint32_t own_portid);

}  // namespace ftpalg
