// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/live.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <poll.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "daemon/conntrack_probe.h"
#include "daemon/control_socket.h"
#include "daemon/privileges.h"
#include "daemon/stats_report.h"
#include "ftpalg/stats.h"

namespace ftpalg {
namespace {

constexpr size_t kBurst = 256;         // messages per wakeup
constexpr size_t kDrainBudget = 4096;  // messages read at shutdown
constexpr size_t kMaxConfigBytes = 1024 * 1024;

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

uint64_t MonotonicMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u +
         static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

constexpr const char* kQueueStats = "/proc/net/netfilter/nfnetlink_queue";
// Opened before privileges are dropped: once the daemon is another user (and
// not dumpable), /proc/self/net is no longer readable by it.
int g_queue_stats_fd = -1;

KernelQueueStats ReadKernelQueue(uint16_t queue) {
  std::string text;
  if (g_queue_stats_fd >= 0 && lseek(g_queue_stats_fd, 0, SEEK_SET) == 0) {
    char buf[4096];
    ssize_t n = 0;
    while (text.size() < (1u << 20) &&
           (n = read(g_queue_stats_fd, buf, sizeof(buf))) > 0) {
      text.append(buf, static_cast<size_t>(n));
    }
  } else {
    std::ifstream file(kQueueStats);
    text.assign(std::istreambuf_iterator<char>(file), {});
  }
  return ParseKernelQueue(text, queue);
}

std::string KernelQueueText(uint16_t queue) {
  const KernelQueueStats k = ReadKernelQueue(queue);
  if (!k.bound) return "q" + std::to_string(queue) + "=unbound";
  return "q" + std::to_string(queue) + " portid=" + std::to_string(k.portid) +
         " waiting=" + std::to_string(k.waiting) +
         " kernel_dropped=" + std::to_string(k.queue_dropped) +
         " user_dropped=" + std::to_string(k.user_dropped);
}

// Why binding a queue failed, in operator words.
std::string BindError(uint16_t queue, int err, uint32_t own_portid) {
  std::string s = "cannot bind NFQUEUE queue " + std::to_string(queue) + ": " +
                  std::strerror(err);
  if (err == EPERM) {
    const KernelQueueStats k = ReadKernelQueue(queue);
    if (k.bound && k.portid != own_portid) {
      s += ": the queue is already bound by netlink port " +
           std::to_string(k.portid) + " (another ftpalgd or NFQUEUE consumer?)";
    } else {
      s += ": needs CAP_NET_ADMIN (run as root or grant the capability)";
    }
  } else if (err == EBUSY) {
    s += ": the queue is already bound (another ftpalgd?)";
  }
  return s;
}

// Reads a config file whole (at most 1 MiB). false + *err (errno) + *error.
bool ReadFileBounded(const std::string& path, std::string* text, int* err,
                     std::string* error) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  *err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    char buf[8192];
    ssize_t n = 0;
    text->clear();
    while (text->size() <= kMaxConfigBytes &&
           (n = read(fd, buf, sizeof(buf))) > 0) {
      text->append(buf, static_cast<size_t>(n));
    }
    if (n < 0) *err = errno;
    close(fd);
  }
  if (*err != 0) {
    *error = "cannot read config file '" + EscapeForLog(path, 200) +
             "': " + std::strerror(*err);
    return false;
  }
  if (text->size() > kMaxConfigBytes) {
    *error = path + ": config file larger than 1 MiB";
    return false;
  }
  return true;
}

std::string RunCommand(const std::string& command, int* status) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0 && out.size() < (8u << 20)) {
    out.append(buf, n);
  }
  *status = pclose(p);
  return out;
}

constexpr const char* kPathPrefix =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ";


}  // namespace


Decision QueueHandler::OnPacket(const nfq::QueuedPacket& meta,
                                PacketBuffer& packet, uint64_t now_ms) {
  if (meta.queue == control_queue_) return engine_.Process(packet, now_ms);
  if (meta.queue == data_queue_) {
    ++data_syns_;
    plane_.OnDataSyn(packet.data, packet.len, now_ms);
    return Decision{};
  }
  ++unknown_queue_;
  return Decision{};
}

PlaneOptions MakePlaneOptions(const DaemonOptions& o) {
  PlaneOptions p;
  p.public_v4 = o.public_v4;
  p.public_v6 = o.public_v6;
  switch (o.mechanism) {
    case Mechanism::kAuto: p.mechanism = PlaneOptions::Mechanism::kAuto; break;
    case Mechanism::kExpect: p.mechanism = PlaneOptions::Mechanism::kExpect; break;
    case Mechanism::kPrecreate:
      p.mechanism = PlaneOptions::Mechanism::kPrecreate;
      break;
  }
  p.max_expectations = MakeEngineConfig(o).max_expectations;
  p.expectation_timeout_s = MakeEngineConfig(o).expectation_timeout_s;
  return p;
}

std::string DefaultConfigPath() {
  if (const char* env = std::getenv("FTPALGD_DEFAULT_CONFIG")) return env;
  return FTPALG_DEFAULT_CONFIG;
}

bool LoadOptions(const std::vector<std::string>& args, DaemonOptions* out,
                 std::string* error) {
  const std::vector<std::string_view> views(args.begin(), args.end());
  DaemonOptions cli;
  if (!ParseArgs(views, &cli, error)) return false;
  if (cli.help || cli.version) {
    *out = cli;
    return true;
  }
  // A named file must exist; the default one may be missing.
  const bool named = !cli.config_file.empty();
  std::string path = named ? cli.config_file : DefaultConfigPath();
  DaemonOptions merged;
  if (!path.empty()) {
    std::string text;
    int err = 0;
    if (ReadFileBounded(path, &text, &err, error)) {
      if (!ParseConfigText(path, text, &merged, error)) return false;
    } else if (named || err != ENOENT) {
      return false;
    } else {
      path.clear();
    }
  }
  if (!ParseArgs(views, &merged, error)) return false;
  merged.config_file = path;
  if (const std::string e = CheckOptionCombination(merged); !e.empty()) {
    *error = e;
    return false;
  }
  *out = merged;
  return true;
}

namespace {

class Daemon {
 public:
  Daemon(const std::vector<std::string>& args, const DaemonOptions& options,
         StderrLogger& logger)
      : args_(args), options_(options), logger_(logger) {}
  int Run();

 private:
  void Info(const std::string& s) { logger_.Log(LogLevel::kInfo, s); }
  void Error(const std::string& s) { logger_.Log(LogLevel::kError, s); }
  void LogCounters();
  void Reload();
  StatsSnapshot Snapshot() const;
  void OpenControlSocket();
  ResyncCounts Resync(const char* why);
  // Logs a kernel queue that overflowed since the last call (once a second).
  void CheckQueueOverflow();
  // True when the daemon must stop.
  bool HandleSignals(int fd);

  const std::vector<std::string>& args_;
  DaemonOptions options_;
  StderrLogger& logger_;
  Stats stats_;
  EngineConfig config_;
  std::unique_ptr<ConntrackPlane> plane_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<NfqueueSocket> socket_;
  std::unique_ptr<QueueHandler> handler_;
  std::unique_ptr<ControlServer> control_;
  uint64_t start_ms_ = 0;
  KernelQueueStats last_queue_[2];
};

StatsSnapshot Daemon::Snapshot() const {
  StatsSnapshot s;
  s.uptime_s = (MonotonicMs() - start_ms_) / 1000;
  s.sessions_active = engine_->session_count();
  s.data_syns = handler_->data_syns();
  s.unknown_queue = handler_->unknown_queue();
  s.log_suppressed = logger_.suppressed_total();
  s.engine = stats_;
  s.plane = plane_->CounterList();
  s.nfqueue = socket_->counters();
  for (uint16_t q : {options_.queue, options_.data_queue()}) {
    s.queues.push_back(ReadKernelQueue(q));
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
    const KernelQueueStats k = ReadKernelQueue(queues[i]);
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
       " log_suppressed=" + std::to_string(logger_.suppressed_total()));
  Info("counters: kernel " + KernelQueueText(options_.queue) + "; " +
       KernelQueueText(options_.data_queue()));
  Info("counters: " + plane_->Counters());
}

void Daemon::Reload() {
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
        Reload();
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

  // Signals arrive through a signalfd, read in the loop.
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&mask, s);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) {
    Error(std::string("sigprocmask: ") + std::strerror(errno));
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  UniqueFd sig_fd(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  UniqueFd timer_fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (sig_fd.get() < 0 || timer_fd.get() < 0) {
    Error(std::string("signalfd/timerfd: ") + std::strerror(errno));
    return 1;
  }
  struct itimerspec tick {};
  tick.it_interval.tv_sec = 1;
  tick.it_value.tv_sec = 1;
  timerfd_settime(timer_fd.get(), 0, &tick, nullptr);

  std::string error;
  if (!CheckPrivileges(options_.user, &error)) {
    Error(error);
    return 1;
  }
  int error_number = 0;
  socket_ = NfqueueSocket::Open(logger_, &error, &error_number);
  if (!socket_) {
    Error(error);
    return 1;
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
      return 1;
    }
  }
  // Queues first: a missing capability or a busy queue is the clearest
  // error. Packets queued meanwhile wait in the socket for the loop.
  plane_ = ConntrackPlane::Open(MakePlaneOptions(options_), logger_, &error);
  if (!plane_) {
    Error("conntrack: " + error);
    return 1;  // closing the socket unbinds both queues
  }
  // Every socket is open: keep CAP_NET_ADMIN alone (and leave root).
  UniqueFd queue_stats(open(kQueueStats, O_RDONLY | O_CLOEXEC));
  g_queue_stats_fd = queue_stats.get();
  OpenControlSocket();
  std::string privileges;
  if (!DropPrivileges(options_.user, &privileges, &error)) {
    Error("dropping privileges: " + error);
    return 1;
  }
  Info("privileges: " + privileges);
  engine_ = std::make_unique<Engine>(config_, plane_->sink(), plane_->resolver(),
                                     logger_, stats_);
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

  int status = 0;
  bool stop = false;
  constexpr size_t kMaxFds = 16;
  while (!stop) {
    struct pollfd fds[kMaxFds] = {{socket_->fd(), POLLIN, 0},
                                  {sig_fd.get(), POLLIN, 0},
                                  {timer_fd.get(), POLLIN, 0}};
    size_t nfds = 3;
    int timeout = -1;
    if (control_) {
      nfds += control_->PollFds(fds + 3, kMaxFds - 3);
      timeout = control_->NextTimeoutMs(MonotonicMs());
    }
    const int n = poll(fds, nfds, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error(std::string("poll: ") + std::strerror(errno));
      status = 1;
      break;
    }
    if ((fds[0].revents & (POLLIN | POLLERR)) != 0) {
      socket_->ReceiveBurst(*handler_, MonotonicMs(), kBurst);
    }
    if ((fds[2].revents & POLLIN) != 0) {
      uint64_t ticks = 0;
      if (read(timer_fd.get(), &ticks, sizeof(ticks)) < 0) ticks = 0;
      const uint64_t now = MonotonicMs();
      engine_->Expire(now);
      plane_->Expire(now);
      CheckQueueOverflow();
      logger_.FlushSuppressed();
    }
    // After the packets: a stats client never delays them.
    if (control_) control_->OnPoll(fds + 3, nfds - 3, MonotonicMs());
    if ((fds[1].revents & POLLIN) != 0) stop = HandleSignals(sig_fd.get());
  }

  // Packets still waiting would be dropped by the kernel at unbind: handle
  // what is already in the socket, then unbind (new packets then take the
  // rules' --queue-bypass), then take down the data-connection state.
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
  LogCounters();
  control_.reset();
  g_queue_stats_fd = -1;
  Info("stopped");
  logger_.FlushSuppressed();
  return status;
}

}  // namespace

int RunDaemon(const std::vector<std::string>& args, const DaemonOptions& options,
              StderrLogger& logger) {
  Daemon d(args, options, logger);
  return d.Run();
}

int RunCheck(const DaemonOptions& options, std::FILE* out) {
  bool ready = true;
  auto line = [&](const char* tag, const std::string& text) {
    std::fprintf(out, "%-6s %s\n", tag, text.c_str());
  };
  std::fprintf(out, "ftpalgd %s --check\n", std::string(kVersion).c_str());

  const EngineConfig config = MakeEngineConfig(options);
  if (const std::string e = config.Validate(); !e.empty()) {
    line("FAIL", "configuration: " + e);
    ready = false;
  } else {
    line("ok", "configuration: " + DescribeOptions(options));
  }

  {
    std::string why;
    if (CheckPrivileges(options.user, &why)) {
      line("ok", "privileges: CAP_NET_ADMIN present" +
                     (options.user.empty() ? std::string()
                                           : "; can switch to user " + options.user) +
                     " (the daemon keeps only CAP_NET_ADMIN once its sockets are open)");
    } else {
      line("FAIL", "privileges: " + why);
      ready = false;
    }
  }

  // NFQUEUE: can both queues be bound right now?
  NullLogger quiet;
  std::string error;
  int error_number = 0;
  auto sock = NfqueueSocket::Open(quiet, &error, &error_number);
  if (!sock) {
    line("FAIL", "nfqueue: " + error);
    ready = false;
  } else {
    bool bound_all = true;
    for (uint16_t q : {options.queue, options.data_queue()}) {
      nfq::QueueConfig qc;
      qc.queue = q;
      qc.fail_open = !options.fail_closed;
      const int rc = sock->Bind(qc);
      if (rc != 0) {
        line("FAIL", "nfqueue: " + BindError(q, rc, sock->portid()));
        bound_all = false;
        ready = false;
      } else {
        sock->Unbind(q);
      }
    }
    if (bound_all) {
      line("ok", "nfqueue: queues " + std::to_string(options.queue) + " and " +
                     std::to_string(options.data_queue()) +
                     " can be bound (copy 0xffff, " +
                     (options.fail_closed ? "fail-closed" : "fail-open") + ")");
    }
  }

  // Conntrack: ctnetlink, expectations, pending sets; the plane explains.
  std::string report;
  const bool ct_ok = ProbeConntrack(MakePlaneOptions(options), &report);
  if (!ct_ok) ready = false;
  {
    std::istringstream lines(report);
    std::string l;
    while (std::getline(lines, l)) line(ct_ok ? "ok" : "FAIL", "conntrack: " + l);
  }

  // Restart survival: conntrack labels (warn only: the ALG works without).
  {
    std::string labels;
    const bool labels_ok = ProbeLabels(&labels);
    line(labels_ok ? "ok" : "warn", "conntrack: " + labels);
  }

  // nft queue: this project installs iptables NFQUEUE rules either way.
  int status = 0;
  const std::string nft_path =
      RunCommand(std::string(kPathPrefix) + "command -v nft 2>/dev/null", &status);
  if (nft_path.empty()) {
    line("info", "nft: not installed: iptables NFQUEUE used");
  } else {
    const std::string nft_out = RunCommand(
        std::string(kPathPrefix) +
            "printf 'table inet ftpalg_probe { chain c { type filter hook "
            "prerouting priority 0; queue num 0 bypass; } }\\n' | "
            "nft -c -f - 2>&1",
        &status);
    if (status == 0) {
      line("info", "nft: kernel has nft queue; ftpalg-rules uses iptables "
                   "NFQUEUE all the same");
    } else {
      line("info", "nft: no nft queue on this kernel: iptables NFQUEUE used");
    }
  }

  // The kernel FTP helper must never see the connections ftpalgd handles.
  std::string rules;
  bool have_iptables = false;
  for (const char* tool : {"iptables-save", "ip6tables-save"}) {
    const std::string text = RunCommand(
        std::string(kPathPrefix) + tool + " 2>/dev/null", &status);
    if (status == 0) have_iptables = true;
    rules += text;
  }
  if (!have_iptables) {
    line("FAIL", "iptables: iptables-save did not run: iptables is needed");
    ready = false;
  } else {
    std::istringstream lines(rules);
    std::string l;
    bool helper = false;
    size_t ours = 0;
    while (std::getline(lines, l)) {
      if (l.find("--helper ftp") != std::string::npos) {
        line("FAIL", "kernel FTP helper attached: " + l +
                         " (ftpalgd and the kernel helper must never handle "
                         "the same connection: remove that rule)");
        helper = true;
      }
      if (l.find("--comment ftpalg") != std::string::npos) ++ours;
    }
    if (helper) {
      ready = false;
    } else {
      line("ok", "kernel FTP helper: not attached (no --helper ftp rule)");
    }
    if (ours == 0) {
      line("warn", "rules: no ftpalg rules installed: run "
                   "`scripts/ftpalg-rules install` before starting ftpalgd");
    } else {
      line("ok", "rules: " + std::to_string(ours) + " ftpalg rules installed");
    }
  }

  std::fprintf(out, "%s\n", ready ? "ready" : "not ready");
  return ready ? 0 : 1;
}

}  // namespace ftpalg
