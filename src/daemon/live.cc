// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/live.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <poll.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "adapters/systemd_notifier.h"
#include "daemon/config_file.h"
#include "daemon/control_socket.h"
#include "daemon/event_stream.h"
#include "daemon/kernel_queue.h"
#include "daemon/plane_setup.h"
#include "daemon/privileges.h"
#include "daemon/queue_handler.h"
#include "daemon/rules_watch.h"
#include "daemon/scheduling.h"
#include "daemon/service_heartbeat.h"
#include "daemon/stats_report.h"
#include "ftpalg/engine.h"
#include "ftpalg/stats.h"

namespace ftpalg {
namespace {

constexpr size_t kBurst = 256;         // messages per wakeup
constexpr size_t kDrainBudget = 4096;  // messages read at shutdown

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

uint64_t MonotonicUs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u +
         static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

uint64_t MonotonicMs() { return MonotonicUs() / 1000u; }

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

void Daemon::OpenControlSocket() {
  if (options_.stats_socket.empty()) {
    Info("stats socket: none (--stats-socket none)");
    return;
  }
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!options_.user.empty()) {
    // CheckPrivileges already found the user.
    if (const struct passwd* pw = getpwnam(options_.user.c_str())) {
      uid = pw->pw_uid;
      gid = pw->pw_gid;
    }
  }
  std::string error;
  control_ = ControlServer::Open(options_.stats_socket, uid, gid, &error);
  if (!control_) {
    // Counters stay available through SIGUSR1; packets matter more.
    logger_.Log(LogLevel::kWarn, "stats socket disabled: " + error);
    return;
  }
  control_->AddCommand(
      "stats", "counters; stats [text|prometheus]",
      [this](std::string_view format) -> std::string {
        if (format.empty() || format == "text") return FormatStatsText(Snapshot());
        if (format == "prometheus") return FormatStatsPrometheus(Snapshot());
        return "error: stats: unknown format (text, prometheus)\n";
      });
  control_->AddCommand(
      "resync", "re-create pending data connections from conntrack (ftpalgd --resync)",
      [this](std::string_view) -> std::string {
        const ResyncCounts counts = Resync("ftpalgd --resync");
        return std::string(counts.errors > 0 ? "error: " : "") + "resync " +
               counts.ToString() + "\n";
      });
  Info("stats socket " + options_.stats_socket + " (ftpalgd --stats, --resync)");
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

int Daemon::Run() {
  config_ = MakeEngineConfig(options_);
  if (const std::string e = config_.Validate(); !e.empty()) {
    Error("invalid configuration: " + e);
    return 2;
  }
  if (!BlockSignalsAndStartTimer() || !BindQueues() || !OpenPlane() ||
      !OpenLateSocketsAndDropPrivileges()) {
    return 1;  // closing the socket unbinds the queues
  }
  StartEngine();
  const int status = PollLoop();
  Shutdown();
  return status;
}

// Signals arrive through a signalfd, read in the loop.
bool Daemon::BlockSignalsAndStartTimer() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&mask, s);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) {
    Error(std::string("sigprocmask: ") + std::strerror(errno));
    return false;
  }
  signal(SIGPIPE, SIG_IGN);
  sig_fd_.reset(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  timer_fd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (sig_fd_.get() < 0 || timer_fd_.get() < 0) {
    Error(std::string("signalfd/timerfd: ") + std::strerror(errno));
    return false;
  }
  struct itimerspec tick {};
  tick.it_interval.tv_sec = 1;
  tick.it_value.tv_sec = 1;
  timerfd_settime(timer_fd_.get(), 0, &tick, nullptr);
  return true;
}

bool Daemon::BindQueues() {
  std::string error;
  if (!CheckPrivileges(options_.user, &error)) {
    Error(error);
    return false;
  }
  int error_number = 0;
  socket_ = NfqueueSocket::Open(logger_, &error, &error_number);
  if (!socket_) {
    Error(error);
    return false;
  }
  socket_->set_batching(!options_.no_batch);
  for (uint16_t q : {options_.queue, options_.data_queue()}) {
    nfq::QueueConfig qc;
    qc.queue = q;
    qc.max_len = options_.queue_maxlen;
    qc.fail_open = !options_.fail_closed;
    const int rc = socket_->Bind(qc);
    if (rc != 0) {
      Error(BindError(q, rc, socket_->portid()));
      if (q != options_.queue) socket_->Unbind(options_.queue);
      return false;
    }
  }
  return true;
}

// Queues first: a missing capability or a busy queue is the clearest
// error. Packets queued meanwhile wait in the socket for the loop.
bool Daemon::OpenPlane() {
  std::string error;
  plane_ = ConntrackPlane::Open(MakePlaneOptions(options_), logger_, &error);
  if (!plane_) {
    Error("conntrack: " + error);
    return false;
  }
  return true;
}

// Every socket is open: keep CAP_NET_ADMIN alone (and leave root).
bool Daemon::OpenLateSocketsAndDropPrivileges() {
  queue_stats_.OpenEarly();
  OpenControlSocket();
  OpenRulesWatch();
  if (!OpenEvents()) return false;
  std::string privileges;
  std::string error;
  if (!DropPrivileges(options_.user, &privileges, &error)) {
    Error("dropping privileges: " + error);
    return false;
  }
  Info("privileges: " + privileges);
  const Scheduling sched = CurrentScheduling();
  logger_.Log(PacketsWaitBehindOthers(sched) ? LogLevel::kWarn : LogLevel::kInfo,
              DescribeScheduling(sched));
  return true;
}

// --events: opened while still root (its directory may be root's); a
// SIGHUP reopens it as the daemon's user.
bool Daemon::OpenEvents() {
  if (options_.events.empty()) return true;
  events_ = std::make_unique<EventStream>(options_.events, logger_);
  std::string error;
  if (!events_->Open(&error)) {
    Error(error);
    return false;
  }
  events_->SetReplyLookup([this](const FlowKey& master, Endpoint* src, Endpoint* dst) {
    return plane_->ReplyTuple(master, src, dst);
  });
  Info("events: NAT-binding records to " + options_.events + " (docs/events.md, schema v" +
       std::to_string(kEventSchemaVersion) + ")");
  return true;
}

void Daemon::StartEngine() {
  engine_ = std::make_unique<Engine>(config_, plane_->sink(), plane_->resolver(),
                                     logger_, stats_);
  if (events_) {
    engine_->SetSessionObserver(events_.get());
    plane_->SetBindingEvents(events_.get());
  }
  handler_ = std::make_unique<QueueHandler>(options_.queue, options_.data_queue(),
                                            *engine_, *plane_);
  Info("ftpalgd " + std::string(kVersion) + ": " + DescribeOptions(options_));
  Info(std::string("control queue ") + std::to_string(options_.queue) +
       " (client->server raw PREROUTING, server->client mangle PREROUTING), "
       "data-SYN queue " + std::to_string(options_.data_queue()) + "; " +
       (options_.fail_closed
            ? "fail-closed: packets are dropped when the queue overflows"
            : "fail-open: packets pass unchanged when the queue overflows") +
       "; rules use --queue-bypass");
  Info("conntrack: " + plane_->Describe());
  start_ms_ = MonotonicMs();
  CheckQueueOverflow();  // the baseline
  // Before the first queued packet is handled: pending data connections a
  // previous run (or the other gateway, via conntrackd) left in the labels.
  Resync("start-up");
  Info("ready");
  if (heartbeat_.enabled()) heartbeat_.Ready(MonotonicMs(), ServiceStatusLine(Snapshot()));
  if (heartbeat_.ping_interval_ms() != 0) {
    Info("service manager watchdog: a ping from the packet loop every " +
         std::to_string(heartbeat_.ping_interval_ms()) + " ms");
  }
}

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

// Every --rules-watch-s seconds (default 20; 0: off).
void Daemon::OpenRulesWatch() {
  const uint32_t interval_s = options_.rules_watch_s;
  if (interval_s == 0) {
    Info("rules watch: off (rules-watch-s 0)");
    return;
  }
  std::string error;
  watch_socket_ = NetlinkSocket::Open(2000, &error);
  if (!watch_socket_) {
    logger_.Log(LogLevel::kWarn, "rules watch disabled: " + error);
    return;
  }
  const uint32_t established = ReadEstablishedTimeout();
  std::vector<uint16_t> ports = options_.control_ports;
  NetlinkSocket* sock = watch_socket_.get();
  rules_watch_ = std::make_unique<RulesWatch>(
      interval_s, [sock, ports, established](uint32_t window_s) {
        return CountActiveControlConntracks(*sock, ports, established, window_s);
      });
  Info("rules watch: every " + std::to_string(interval_s) +
       " s without a queued control packet, active FTP control conntracks are counted");
}

// Packets still waiting would be dropped by the kernel at unbind: handle
// what is already in the socket, then unbind (new packets then take the
// rules' --queue-bypass), then take down the data-connection state.
void Daemon::Shutdown() {
  heartbeat_.Stopping();
  socket_->ReceiveBurst(*handler_, MonotonicMs(), kDrainBudget);
  for (uint16_t q : {options_.queue, options_.data_queue()}) {
    if (const int rc = socket_->Unbind(q); rc != 0) {
      logger_.Log(LogLevel::kWarn, "unbind queue " + std::to_string(q) + ": " +
                                       std::strerror(rc));
    }
  }
  plane_->KeepLabelsOnRemove(true);  // pending data connections stay in the labels
  engine_->Shutdown();
  plane_->RemoveAll();
  if (events_) {
    events_->Close();
    plane_->SetBindingEvents(nullptr);
    engine_->SetSessionObserver(nullptr);
  }
  LogCounters();
  control_.reset();
  queue_stats_.Close();
  Info("stopped");
  logger_.FlushSuppressed();
}

}  // namespace

int RunDaemon(const std::vector<std::string>& args, const DaemonOptions& options,
              StderrLogger& logger) {
  Daemon d(args, options, logger);
  return d.Run();
}

}  // namespace ftpalg
