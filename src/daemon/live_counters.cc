// SPDX-License-Identifier: GPL-2.0-or-later
// What the running daemon counts and reports (live_daemon.h): the stats
// snapshot behind `ftpalgd --stats` and the systemd status line, the
// "counters:" log lines of SIGUSR1 and shutdown, and the once-a-second
// warning when a kernel queue overflowed or its socket buffer lost packets.
// Owns no counter itself: it reads the engine's, the plane's, the queue
// socket's, the kernel's and the logger's.
#include <string>

#include "daemon/live_daemon.h"

namespace ftpalg::live {

StatsSnapshot Daemon::Snapshot() const {
  StatsSnapshot s;
  s.uptime_s = (MonotonicMs() - start_ms_) / 1000;
  s.sessions_active = engine_->session_count();
  s.data_syns = handler_->data_syns();
  s.unknown_queue = handler_->unknown_queue();
  s.log_suppressed = logger_.suppressed_total();
  s.rules_gone_warnings = rules_watch_ ? rules_watch_->warnings() : 0;
  if (events_) {
    s.events_recorded = events_->recorded();
    s.events_dropped = events_->dropped();
  }
  s.engine = stats_;
  s.plane = plane_->CounterList();
  s.nfqueue = socket_->counters();
  for (uint16_t q : {options_.queue, options_.data_queue()}) {
    s.queues.push_back(queue_stats_.Read(q));
  }
  return s;
}

void Daemon::CheckQueueOverflow() {
  const uint16_t queues[2] = {options_.queue, options_.data_queue()};
  for (int i = 0; i < 2; ++i) {
    const KernelQueueStats k = queue_stats_.Read(queues[i]);
    const KernelQueueStats& last = last_queue_[i];
    if (k.bound && last.bound && k.portid == last.portid) {
      const std::string q = "queue " + std::to_string(queues[i]);
      if (k.queue_dropped != last.queue_dropped) {
        logger_.Log(LogLevel::kWarn,
                    "LIMIT " + q + " full (--queue-maxlen " +
                        std::to_string(options_.queue_maxlen) + "): " +
                        std::to_string(k.queue_dropped - last.queue_dropped) +
                        " packets " +
                        (options_.fail_closed ? "dropped (fail-closed)"
                                              : "passed unchanged (fail-open)") +
                        " in the last second, " +
                        std::to_string(k.queue_dropped) + " in all");
      }
      if (k.user_dropped != last.user_dropped) {
        logger_.Log(LogLevel::kWarn,
                    "LIMIT " + q + ": " +
                        std::to_string(k.user_dropped - last.user_dropped) +
                        " packets lost: the netlink socket's receive buffer "
                        "was full, in the last second, " +
                        std::to_string(k.user_dropped) + " in all");
      }
    }
    last_queue_[i] = k;
  }
}

void Daemon::LogCounters() {
  Info("counters: sessions=" + std::to_string(engine_->session_count()) +
       " data_syns=" + std::to_string(handler_->data_syns()) + " " +
       stats_.ToString(/*nonzero_only=*/true));
  Info("counters: " + socket_->counters().ToString() +
       " log_suppressed=" + std::to_string(logger_.suppressed_total()) +
       (events_ ? " events_recorded=" + std::to_string(events_->recorded()) +
                      " events_dropped=" + std::to_string(events_->dropped())
                : std::string()));
  Info("counters: kernel " + queue_stats_.Text(options_.queue) + "; " +
       queue_stats_.Text(options_.data_queue()));
  Info("counters: " + plane_->Counters());
}

}  // namespace ftpalg::live
