// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/event_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "ftpalg/version.h"

namespace ftpalg {
namespace {

uint64_t RealtimeMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u +
         static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

const char* EndName(BindingEvents::End why) {
  switch (why) {
    case BindingEvents::End::kWithdrawn: return "withdrawn";
    case BindingEvents::End::kExpired: return "expired";
    case BindingEvents::End::kSessionEnded: return "session_ended";
    case BindingEvents::End::kShutdown: return "shutdown";
  }
  return "withdrawn";
}

}  // namespace

EventStream::EventStream(std::string path, Logger& logger, size_t ring_bytes,
                         WallClock wall)
    : path_(std::move(path)),
      logger_(logger),
      wall_(wall ? std::move(wall) : WallClock(RealtimeMs)),
      ring_(ring_bytes) {
  waiting_.reserve(kMaxWaitingStarts);
}

EventStream::~EventStream() {
  if (fd_ >= 0) close(fd_);
}

// O_NONBLOCK: a FIFO whose reader is slow never stalls the loop (a regular
// file takes the bytes into the page cache). O_APPEND: logrotate's
// copytruncate and several writers stay correct.
int EventStream::OpenFd(std::string* error) const {
  const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC,
                      0640);
  if (fd < 0 && error != nullptr) {
    *error = "events file " + path_ + ": " + std::strerror(errno) +
             (errno == ENXIO ? " (a FIFO needs its reader first)" : "");
  }
  return fd;
}

bool EventStream::Open(std::string* error) {
  fd_ = OpenFd(error);
  if (fd_ < 0) return false;
  Record(FormatStreamOpen(line_, wall_(), static_cast<uint32_t>(getpid()),
                          kPackageVersion, dropped()));
  return true;
}

void EventStream::Reopen() {
  Flush();  // what is due goes into the old file
  std::string error;
  const int fd = OpenFd(&error);
  if (fd < 0) {
    logger_.Log(LogLevel::kWarn, "reopen " + error + ": still writing the old file");
    return;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  write_failed_ = false;
  Record(FormatStreamOpen(line_, wall_(), static_cast<uint32_t>(getpid()), kPackageVersion,
                          dropped()));
  logger_.Log(LogLevel::kInfo, "events file " + path_ + " reopened");
}

void EventStream::Record(std::string_view line) {
  if (!line_.ok()) {
    ring_.CountDropped();  // cannot happen with the fields of schema 1
    return;
  }
  ring_.Push(line);
}

long EventStream::Write(const char* p, size_t n) {
  if (fd_ < 0) return -1;
  const ssize_t w = write(fd_, p, n);
  if (w >= 0) return w;
  if (errno == EAGAIN || errno == EINTR) return 0;
  if (!write_failed_) {
    logger_.Log(LogLevel::kWarn, "events file " + path_ + ": " + std::strerror(errno) +
                                     ": records wait (then are dropped and counted) "
                                     "until it opens again");
  }
  write_failed_ = true;
  close(fd_);
  fd_ = -1;
  return -1;
}

void EventStream::Flush() {
  if (ring_.used() == 0 || fd_ < 0) return;
  ring_.Drain([this](const char* p, size_t n) { return Write(p, n); });
}

void EventStream::Tick(uint64_t now_ms) {
  for (size_t i = 0; i < waiting_.size();) {
    const uint64_t age = now_ms - waiting_[i].mono_ms;
    if (age >= 200 && WriteStart(i, age >= kStartWaitMs)) continue;
    ++i;
  }
  if (fd_ < 0 && write_failed_) {
    fd_ = OpenFd(nullptr);
    if (fd_ >= 0) {
      write_failed_ = false;
      logger_.Log(LogLevel::kInfo, "events file " + path_ + " open again");
    }
  }
  Flush();
}

void EventStream::Close() {
  while (!waiting_.empty()) WriteStart(0, true);
  Flush();
}

bool EventStream::WriteStart(size_t index, bool force) {
  WaitingStart& w = waiting_[index];
  Endpoint src, dst;
  if (lookup_ && lookup_(w.facts.orig, &src, &dst)) {
    w.facts.reply_src = src;
    w.facts.reply_dst = dst;
  } else if (!force) {
    return false;
  }
  Record(FormatSessionStart(line_, w.wall_ms, w.facts));
  waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(index));
  return true;
}

void EventStream::StartBefore(uint64_t session) {
  for (size_t i = 0; i < waiting_.size(); ++i) {
    if (waiting_[i].facts.session == session) {
      WriteStart(i, true);
      return;
    }
  }
}

void EventStream::SessionStarted(uint64_t id, const FlowKey& key, bool picked_up,
                                 uint64_t now_ms) {
  if (waiting_.size() >= kMaxWaitingStarts) WriteStart(0, true);
  WaitingStart w;
  w.facts.session = id;
  w.facts.orig = key;
  w.facts.picked_up = picked_up;
  w.wall_ms = wall_();
  w.mono_ms = now_ms;
  waiting_.push_back(w);
}

void EventStream::SessionEnded(uint64_t id, const FlowKey& key, const char* reason,
                               uint32_t rewrites, uint32_t refusals, uint64_t now_ms) {
  (void)now_ms;
  StartBefore(id);
  Record(FormatSessionEnd(line_, wall_(), id, key, reason, rewrites, refusals));
}

void EventStream::Announced(const Expectation& e) {
  StartBefore(e.session_id);
  Record(FormatDataAnnounced(line_, wall_(), e));
}

void EventStream::Installed(const PendingConnection& p, bool restored) {
  StartBefore(p.e.session_id);
  Record(FormatDataInstalled(line_, wall_(), p, restored));
}

void EventStream::Refused(const Expectation& e, Refusal why) {
  StartBefore(e.session_id);
  Record(FormatDataRefused(line_, wall_(), e,
                           why == Refusal::kPortBusy ? "port_busy" : "failed"));
}

void EventStream::Used(const PendingConnection& p, const Endpoint& from) {
  StartBefore(p.e.session_id);
  Record(FormatDataUsed(line_, wall_(), p, from));
}

void EventStream::Ended(const PendingConnection& p, End why) {
  StartBefore(p.e.session_id);
  Record(FormatDataEnded(line_, wall_(), p, EndName(why)));
}

}  // namespace ftpalg
