// SPDX-License-Identifier: GPL-2.0-or-later
// Notices, in the running daemon, that its rules stopped feeding it (a
// `flush ruleset` on an nftables reload, an iptables-restore): every
// interval it looks whether any control packet was queued since the last
// look; when none was, it counts, with one ctnetlink dump, the FTP control
// conntracks (TCP, original destination port a control port) the kernel saw
// a packet of within that interval. Some, and nothing queued: the traffic
// passes the gateway without ftpalgd, and the daemon says so loudly
// ("rules gone? nothing queued for N s while M FTP control conntracks are
// active") and counts it. Quiet gateways cost nothing but the dump; busy
// ones never dump (packets keep arriving).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/netlink_socket.h"

namespace ftpalg {

class RulesWatch {
 public:
  // Counts the control conntracks active within the last window_s seconds;
  // nullopt when it could not (the dump failed).
  using CountFn = std::function<std::optional<uint64_t>(uint32_t window_s)>;

  RulesWatch(uint32_t interval_s, CountFn count)
      : interval_ms_(uint64_t{interval_s} * 1000u), count_(std::move(count)) {}

  // From the daemon's timer. control_packets: control-queue packets handled
  // since the start. Returns a warning line when one is due, else "".
  std::string Tick(uint64_t now_ms, uint64_t control_packets);

  uint64_t warnings() const { return warnings_; }

 private:
  uint64_t interval_ms_;
  CountFn count_;
  bool started_ = false;
  uint64_t last_ms_ = 0;
  uint64_t last_packets_ = 0;
  uint64_t quiet_since_ms_ = 0;  // the last time a control packet was seen
  uint64_t warnings_ = 0;
};

// TCP conntracks whose ORIGINAL destination port is one of ports and whose
// timeout shows a packet within window_s seconds: above the established
// timeout (established_timeout_s, e.g. 432000) minus window_s, which only an
// ESTABLISHED conntrack refreshed that recently has. One dump of the table,
// all families. nullopt when the dump failed.
std::optional<uint64_t> CountActiveControlConntracks(NetlinkChannel& channel,
                                                     const std::vector<uint16_t>& ports,
                                                     uint32_t established_timeout_s,
                                                     uint32_t window_s);

// /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established (432000
// when it cannot be read).
uint32_t ReadEstablishedTimeout();

}  // namespace ftpalg
