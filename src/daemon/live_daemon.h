// SPDX-License-Identifier: GPL-2.0-or-later
// The running ftpalgd (private to src/daemon): the Daemon object RunDaemon
// (live.h) drives, its state and its steps, each defined in the file that
// owns that job - start-up and teardown in live.cc, the poll loop with its
// timer and signals in live_loop.cc, the counters (snapshot, SIGUSR1 lines,
// queue-overflow warnings) in live_counters.cc, the SIGHUP reload and the
// conntrack resync in live_reload_resync.cc. Also the two small tools they
// share: an owned file descriptor and the CLOCK_MONOTONIC clock.
#pragma once

#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapters/stderr_logger.h"
#include "adapters/systemd_notifier.h"
#include "daemon/control_socket.h"
#include "daemon/event_stream.h"
#include "daemon/kernel_queue.h"
#include "daemon/options.h"
#include "daemon/plane_setup.h"
#include "daemon/queue_handler.h"
#include "daemon/rules_watch.h"
#include "daemon/service_heartbeat.h"
#include "daemon/stats_report.h"
#include "ftpalg/engine.h"
#include "ftpalg/stats.h"

namespace ftpalg::live {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

inline uint64_t MonotonicUs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u +
         static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

inline uint64_t MonotonicMs() { return MonotonicUs() / 1000u; }

class Daemon {
 public:
  Daemon(const std::vector<std::string>& args, const DaemonOptions& options,
         StderrLogger& logger)
      : args_(args),
        options_(options),
        logger_(logger),
        notifier_(MakeSystemdNotifier(logger)),
        heartbeat_(*notifier_) {}
  int Run();

 private:
  // The start-up steps, in order; each logs why it failed and returns false
  // when the daemon cannot start (exit status 1).
  bool BlockSignalsAndStartTimer();
  bool BindQueues();
  bool OpenPlane();
  bool OpenLateSocketsAndDropPrivileges();
  bool OpenEvents();
  void StartEngine();
  // Until a signal says stop (0) or poll fails (1): the exit status.
  int PollLoop();
  void OnTimer();
  void Shutdown();

  void Info(const std::string& s) { logger_.Log(LogLevel::kInfo, s); }
  void Error(const std::string& s) { logger_.Log(LogLevel::kError, s); }
  void LogCounters();
  void Reload();
  StatsSnapshot Snapshot() const;
  void OpenControlSocket();
  ResyncCounts Resync(const char* why);
  // Logs a kernel queue that overflowed since the last call (once a second).
  void CheckQueueOverflow();
  // The ctnetlink socket and state of the "rules gone?" watch (RulesWatch).
  void OpenRulesWatch();
  // True when the daemon must stop.
  bool HandleSignals(int fd);

  const std::vector<std::string>& args_;
  DaemonOptions options_;
  StderrLogger& logger_;
  Stats stats_;
  EngineConfig config_;
  UniqueFd sig_fd_;
  UniqueFd timer_fd_;
  KernelQueueReader queue_stats_;
  std::unique_ptr<ConntrackPlane> plane_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<NfqueueSocket> socket_;
  std::unique_ptr<QueueHandler> handler_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<EventStream> events_;  // --events
  uint64_t start_ms_ = 0;
  KernelQueueStats last_queue_[2];
  std::unique_ptr<NetlinkSocket> watch_socket_;
  std::unique_ptr<RulesWatch> rules_watch_;
  // systemd Type=notify: readiness, status, watchdog (service_heartbeat.h).
  std::unique_ptr<ServiceNotifier> notifier_;
  ServiceHeartbeat heartbeat_;
};

}  // namespace ftpalg::live
