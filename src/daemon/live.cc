// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's start-up and teardown (RunDaemon, live.h; the Daemon object is
// in live_daemon.h): the start-up steps in their order - signals and the
// 1 s timer, the NFQUEUE binds, the conntrack plane, the late sockets
// (control socket, rules watch, --events) and the privilege drop, the engine
// and the first resync - then the poll loop (live_loop.cc), then the drain,
// unbind and state teardown at stop. Each step logs why it failed.
#include "daemon/live.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "adapters/huge_pages.h"
#include "adapters/systemd_notifier.h"
#include "daemon/config_file.h"
#include "daemon/control_socket.h"
#include "daemon/event_stream.h"
#include "daemon/kernel_queue.h"
#include "daemon/live_daemon.h"
#include "daemon/plane_setup.h"
#include "daemon/privileges.h"
#include "daemon/queue_handler.h"
#include "daemon/rules_watch.h"
#include "daemon/scheduling.h"
#include "daemon/service_heartbeat.h"
#include "daemon/stats_report.h"
#include "ftpalg/engine.h"
#include "ftpalg/stats.h"

namespace ftpalg::live {
namespace {

constexpr size_t kDrainBudget = 4096;  // messages read at shutdown

}  // namespace

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
  // Before any session exists (the resync below creates some): huge pages.
  Info(DescribeHugePageAdvice(AdviseSessionHugePages(*engine_)));
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

}  // namespace ftpalg::live

namespace ftpalg {

int RunDaemon(const std::vector<std::string>& args, const DaemonOptions& options,
              StderrLogger& logger) {
  live::Daemon d(args, options, logger);
  return d.Run();
}

}  // namespace ftpalg
