// SPDX-License-Identifier: GPL-2.0-or-later
// The running daemon's event loop (live_daemon.h): one poll over the NFQUEUE
// socket, the signalfd, the 1 s timerfd and the control socket's clients,
// until SIGTERM/SIGINT. Owns the order of work in one turn (packets first,
// then the timer, the stats clients, the signals, the --events flush), the
// burst size, the watchdog ping from the turning loop, what the 1 s tick
// does (expiry, overflow and rules-gone checks, systemd status) and what each
// signal does (TERM/INT stop, HUP reload, USR1 counters, USR2 resync).
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "daemon/live_daemon.h"

namespace ftpalg::live {
namespace {

constexpr size_t kBurst = 256;  // messages per wakeup

}  // namespace

int Daemon::PollLoop() {
  constexpr size_t kMaxFds = 16;
  bool stop = false;
  while (!stop) {
    // The watchdog ping comes from here only: a loop that stops turning
    // stops pinging, and the service manager restarts the daemon.
    heartbeat_.LoopTurned(MonotonicMs());
    struct pollfd fds[kMaxFds] = {{socket_->fd(), POLLIN, 0},
                                  {sig_fd_.get(), POLLIN, 0},
                                  {timer_fd_.get(), POLLIN, 0}};
    size_t nfds = 3;
    int timeout = -1;
    if (control_) {
      nfds += control_->PollFds(fds + 3, kMaxFds - 3);
      timeout = control_->NextTimeoutMs(MonotonicMs());
    }
    const int ping_in = heartbeat_.PollTimeoutMs(MonotonicMs());
    if (ping_in >= 0 && (timeout < 0 || ping_in < timeout)) timeout = ping_in;
    const int n = poll(fds, nfds, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error(std::string("poll: ") + std::strerror(errno));
      return 1;
    }
    if ((fds[0].revents & (POLLIN | POLLERR)) != 0) {
      socket_->ReceiveBurst(*handler_, MonotonicMs(), kBurst);
    }
    if ((fds[2].revents & POLLIN) != 0) OnTimer();
    // After the packets: a stats client never delays them.
    if (control_) control_->OnPoll(fds + 3, nfds - 3, MonotonicMs());
    if ((fds[1].revents & POLLIN) != 0) stop = HandleSignals(sig_fd_.get());
    if (events_) events_->Flush();
  }
  return 0;
}

void Daemon::OnTimer() {
  uint64_t ticks = 0;
  if (read(timer_fd_.get(), &ticks, sizeof(ticks)) < 0) ticks = 0;
  const uint64_t now = MonotonicMs();
  engine_->Expire(now);
  plane_->Expire(now);
  if (events_) events_->Tick(now);
  CheckQueueOverflow();
  if (rules_watch_) {
    const std::string w = rules_watch_->Tick(now, stats_.control_packets);
    if (!w.empty()) logger_.Log(LogLevel::kWarn, w);
  }
  if (heartbeat_.StatusDue(now)) heartbeat_.Status(now, ServiceStatusLine(Snapshot()));
  logger_.FlushSuppressed();
}

bool Daemon::HandleSignals(int fd) {
  bool stop = false;
  struct signalfd_siginfo si {};
  for (int i = 0; i < 64 && read(fd, &si, sizeof(si)) == sizeof(si); ++i) {
    switch (si.ssi_signo) {
      case SIGTERM:
      case SIGINT:
        Info(std::string("signal ") + (si.ssi_signo == SIGTERM ? "TERM" : "INT") +
             ": stopping");
        stop = true;
        break;
      case SIGHUP:
        heartbeat_.Reloading(MonotonicUs());
        Reload();
        if (heartbeat_.enabled()) {
          heartbeat_.Reloaded(MonotonicMs(), ServiceStatusLine(Snapshot()));
        }
        break;
      case SIGUSR1:
        // The operator asked: never lose these lines to the log rate limit
        // (a flood may have used up this second's budget).
        logger_.ResetRateLimits();
        LogCounters();
        break;
      case SIGUSR2:
        // E.g. after a failover, once conntrackd committed the primary's
        // conntracks: re-create their pending data connections.
        Resync("SIGUSR2");
        break;
      default:
        break;
    }
  }
  return stop;
}

}  // namespace ftpalg::live
