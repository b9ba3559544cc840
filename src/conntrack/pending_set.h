// The pending ipsets (hash:ip,port with timeout, one per family): while a
// data connection's addr:port is in its set, the rules queue its SYN to
// ftpalgd, which then pre-creates the related conntrack. Add and remove one
// element; read a set's header to check it exists with the right type.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "adapters/ipset_messages.h"
#include "adapters/netlink_socket.h"
#include "conntrack/kernel_calls.h"
#include "conntrack/plane_context.h"
#include "ftpalg/inet.h"

namespace ftpalg {

class PendingSet {
 public:
  PendingSet(PlaneContext& ctx, KernelCalls& kernel) : ctx_(ctx), kernel_(kernel) {}
  // 0 or the errno (counted and logged).
  int Add(const Endpoint& element, uint32_t timeout_s);
  // An element that is gone already (timed out) is no error.
  void Remove(const Endpoint& element);
  const std::string& NameFor(Family f) const {
    return ctx_.options.PendingSetFor(f);
  }

 private:
  PlaneContext& ctx_;
  KernelCalls& kernel_;
};

// Reads a pending set's header; nullopt (and *err) when it cannot be read.
std::optional<IpsetHeader> ReadSetHeader(NetlinkChannel& channel, uint8_t* buf,
                                         const std::string& name, Family f,
                                         int* err);

}  // namespace ftpalg
