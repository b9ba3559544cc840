// SPDX-License-Identifier: GPL-2.0-or-later
// Bringing the running daemon back in line with the world (live_daemon.h):
// Reload (SIGHUP) re-reads the command line and config file, applies what
// may change live (--log-level, --log-rate), says what needs a restart and
// reopens the --events file; Resync (start-up, SIGUSR2, `ftpalgd --resync`)
// forgets the sessions and pending data connections this daemon holds and
// re-creates the pending ones from the conntrack labels.
#include <string>

#include "daemon/config_file.h"
#include "daemon/live_daemon.h"

namespace ftpalg::live {

// The conntrack table is the truth after a takeover: sessions this daemon
// still holds may be stale (from its earlier turn as the active gateway, or
// picked up from packets that arrived before conntrackd committed). They are
// forgotten without touching their labels, along with every pending data
// connection, and the pending ones are re-created from the labels; each
// session is restored from its labels on its next control packet.
ResyncCounts Daemon::Resync(const char* why) {
  const size_t sessions = engine_->session_count();
  plane_->KeepLabelsOnRemove(true);
  engine_->Shutdown("forgotten for a resync from conntrack");
  plane_->RemoveAll();
  plane_->KeepLabelsOnRemove(false);
  Info(std::string("resync (") + why + "): " + std::to_string(sessions) +
       " sessions forgotten; re-reading the conntrack table");
  return plane_->ResyncFromConntrack(MonotonicMs());
}

void Daemon::Reload() {
  if (events_) events_->Reopen();  // logrotate, whatever the config file says
  DaemonOptions fresh;
  std::string error;
  if (!LoadOptions(args_, &fresh, &error)) {
    logger_.Log(LogLevel::kWarn, "reload failed: " + error +
                                     "; the running configuration stays");
    return;
  }
  logger_.set_min_level(fresh.log_level);
  logger_.set_lines_per_second(fresh.log_rate);
  logger_.ResetRateLimits();
  DaemonOptions compare = fresh;
  compare.log_level = options_.log_level;
  compare.log_rate = options_.log_rate;
  if (DescribeOptions(compare) != DescribeOptions(options_)) {
    logger_.Log(LogLevel::kWarn,
                "reload: only --log-level and --log-rate change live; restart "
                "ftpalgd for: " + DescribeOptions(fresh));
  }
  options_.log_level = fresh.log_level;
  options_.log_rate = fresh.log_rate;
  Info("reloaded: " + DescribeOptions(options_) + "; log rate limits reset");
}

}  // namespace ftpalg::live
