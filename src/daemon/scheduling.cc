// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/scheduling.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>

namespace ftpalg {
namespace {

const char* PolicyName(int policy) {
  switch (policy) {
    case SCHED_OTHER: return "SCHED_OTHER";
    case SCHED_FIFO: return "SCHED_FIFO";
    case SCHED_RR: return "SCHED_RR";
    case SCHED_BATCH: return "SCHED_BATCH";
    case SCHED_IDLE: return "SCHED_IDLE";
#ifdef SCHED_DEADLINE
    case SCHED_DEADLINE: return "SCHED_DEADLINE";
#endif
  }
  return nullptr;
}

}  // namespace

Scheduling CurrentScheduling() {
  Scheduling s;
  s.policy = sched_getscheduler(0);
  if (s.policy < 0) {
    s.policy = -1;
    return s;
  }
  s.policy &= ~SCHED_RESET_ON_FORK;
  sched_param param{};
  if (sched_getparam(0, &param) == 0) s.rt_priority = param.sched_priority;
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, 0);
  if (errno == 0) s.nice = nice;
  return s;
}

bool PacketsWaitBehindOthers(const Scheduling& s) {
  return s.policy == SCHED_OTHER || s.policy == SCHED_BATCH || s.policy == SCHED_IDLE;
}

std::string DescribeScheduling(const Scheduling& s) {
  const char* name = PolicyName(s.policy);
  std::string text = "scheduling: ";
  text += name != nullptr ? name : "policy " + std::to_string(s.policy);
  if (s.policy == SCHED_FIFO || s.policy == SCHED_RR) {
    return text + " priority " + std::to_string(s.rt_priority);
  }
  if (!PacketsWaitBehindOthers(s)) return text;
  text += " nice " + std::to_string(s.nice);
  return text +
         ": queued packets wait until ftpalgd gets the CPU, behind every other "
         "runnable process (tens to hundreds of ms on a loaded gateway: enough "
         "for connects to time out); run it SCHED_FIFO as the shipped unit "
         "does (CPUSchedulingPolicy=fifo), or under chrt --fifo 10 "
         "(ftpalgd(8), SCHEDULING)";
}

}  // namespace ftpalg
