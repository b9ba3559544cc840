// SPDX-License-Identifier: GPL-2.0-or-later
// What ftpalgd tells its service manager, and when (systemd Type=notify):
// READY=1 with a first STATUS= once the queues are bound and the start-up
// resync is done; STATUS= (a one-line summary) refreshed every few seconds;
// WATCHDOG=1 from the packet loop itself, at most every half watchdog
// interval, so a loop that stops turning stops the pings and the manager
// restarts the daemon; RELOADING=1 (with MONOTONIC_USEC=) then READY=1
// around a SIGHUP reload; STOPPING=1 at shutdown. Nothing is sent when the
// notifier is disabled (no NOTIFY_SOCKET). Time comes from the caller
// (monotonic milliseconds), so tests drive it with a fake clock.
#pragma once

#include <cstdint>
#include <string>

#include "adapters/service_notifier.h"
#include "daemon/stats_report.h"

namespace ftpalg {

class ServiceHeartbeat {
 public:
  static constexpr uint64_t kStatusIntervalMs = 5000;

  explicit ServiceHeartbeat(ServiceNotifier& notifier,
                            uint64_t status_interval_ms = kStatusIntervalMs);

  bool enabled() const { return notifier_.enabled(); }
  // Half the manager's watchdog interval, in ms (at least 1); 0: no watchdog.
  uint64_t ping_interval_ms() const { return ping_ms_; }

  void Ready(uint64_t now_ms, const std::string& status);
  // Once per turn of the packet loop: WATCHDOG=1 when a ping is due. The
  // only place pings come from.
  void LoopTurned(uint64_t now_ms);
  // How long the loop may sleep before the next ping is due: -1 (no
  // watchdog), else 0 or more ms; use the smaller of this and any other
  // poll timeout.
  int PollTimeoutMs(uint64_t now_ms) const;
  // A STATUS= refresh is due (never before Ready, never when disabled).
  bool StatusDue(uint64_t now_ms) const;
  void Status(uint64_t now_ms, const std::string& status);
  // monotonic_us: CLOCK_MONOTONIC in microseconds, as systemd >= 253
  // requires with RELOADING=1.
  void Reloading(uint64_t monotonic_us);
  void Reloaded(uint64_t now_ms, const std::string& status);
  void Stopping();

  uint64_t pings() const { return pings_; }

 private:
  ServiceNotifier& notifier_;
  uint64_t status_interval_ms_;
  uint64_t ping_ms_ = 0;
  bool ready_ = false;
  uint64_t last_ping_ms_ = 0;
  uint64_t last_status_ms_ = 0;
  std::string last_status_;
  uint64_t pings_ = 0;
};

// "sessions 2, rewrites 14, refused 0, errors 0, queue drops 0": the
// STATUS= line (systemctl status shows it). errors: NFQUEUE socket errors,
// failed expectations and conntrack plane errors (err_* counters); queue
// drops: packets the kernel queues could not hold (queue full or socket
// buffer overrun).
std::string ServiceStatusLine(const StatsSnapshot& s);

}  // namespace ftpalg
