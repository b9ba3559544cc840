// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/service_heartbeat.h"

#include <climits>
#include <string_view>

namespace ftpalg {

ServiceHeartbeat::ServiceHeartbeat(ServiceNotifier& notifier,
                                   uint64_t status_interval_ms)
    : notifier_(notifier), status_interval_ms_(status_interval_ms) {
  const uint64_t usec = notifier_.enabled() ? notifier_.watchdog_usec() : 0;
  if (usec > 0) {
    ping_ms_ = usec / 2000;  // half the interval, as sd_watchdog_enabled(3) advises
    if (ping_ms_ == 0) ping_ms_ = 1;
  }
}

void ServiceHeartbeat::Ready(uint64_t now_ms, const std::string& status) {
  if (!enabled()) return;
  notifier_.Send("READY=1\nSTATUS=" + status);
  ready_ = true;
  last_status_ms_ = now_ms;
  last_status_ = status;
  // The first ping is due at once: the loop has not turned yet.
  last_ping_ms_ = now_ms - ping_ms_;
}

void ServiceHeartbeat::LoopTurned(uint64_t now_ms) {
  if (ping_ms_ == 0 || !ready_) return;
  if (now_ms - last_ping_ms_ < ping_ms_) return;
  notifier_.Send("WATCHDOG=1");
  last_ping_ms_ = now_ms;
  ++pings_;
}

int ServiceHeartbeat::PollTimeoutMs(uint64_t now_ms) const {
  if (ping_ms_ == 0 || !ready_) return -1;
  const uint64_t since = now_ms - last_ping_ms_;
  if (since >= ping_ms_) return 0;
  const uint64_t left = ping_ms_ - since;
  return left > static_cast<uint64_t>(INT_MAX) ? INT_MAX : static_cast<int>(left);
}

bool ServiceHeartbeat::StatusDue(uint64_t now_ms) const {
  return enabled() && ready_ && now_ms - last_status_ms_ >= status_interval_ms_;
}

void ServiceHeartbeat::Status(uint64_t now_ms, const std::string& status) {
  if (!enabled()) return;
  last_status_ms_ = now_ms;
  if (status == last_status_) return;  // unchanged: nothing to tell
  notifier_.Send("STATUS=" + status);
  last_status_ = status;
}

void ServiceHeartbeat::Reloading(uint64_t monotonic_us) {
  if (!enabled()) return;
  notifier_.Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_us) +
                 "\nSTATUS=reloading the configuration");
}

void ServiceHeartbeat::Reloaded(uint64_t now_ms, const std::string& status) {
  if (!enabled()) return;
  notifier_.Send("READY=1\nSTATUS=" + status);
  last_status_ms_ = now_ms;
  last_status_ = status;
}

void ServiceHeartbeat::Stopping() {
  if (!enabled()) return;
  notifier_.Send("STOPPING=1\nSTATUS=stopping");
}

std::string ServiceStatusLine(const StatsSnapshot& s) {
  const QueueCounters& q = s.nfqueue;
  uint64_t errors = q.parse_errors + q.enobufs + q.recv_errors + q.send_errors +
                    q.kernel_errors + s.engine.expectations_failed;
  for (const PlaneCounter& c : s.plane) {
    if (!c.gauge && std::string_view(c.name).rfind("err_", 0) == 0) errors += c.value;
  }
  uint64_t drops = 0;
  for (const KernelQueueStats& k : s.queues) drops += k.queue_dropped + k.user_dropped;
  return "sessions " + std::to_string(s.sessions_active) + ", rewrites " +
         std::to_string(s.engine.rewrites) + ", refused " +
         std::to_string(s.engine.refused) + ", errors " + std::to_string(errors) +
         ", queue drops " + std::to_string(drops);
}

}  // namespace ftpalg
