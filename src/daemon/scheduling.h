// SPDX-License-Identifier: GPL-2.0-or-later
// How the kernel schedules the daemon, said once at start-up. Every queued
// control packet and data SYN waits in the kernel until ftpalgd runs: as an
// ordinary time-shared process on a busy gateway it waits behind every other
// runnable process (bench/analysis.md measured 10-70 ms per packet and up to
// 0.5 s under a burst of 100 sessions on 2 loaded cores), long enough for a
// server's SYN backlog to overflow into syncookies. The shipped unit runs it
// SCHED_FIFO (dist/ftpalgd.service.in); the daemon itself only reports.
#pragma once

#include <string>

namespace ftpalg {

struct Scheduling {
  int policy = 0;       // SCHED_OTHER, SCHED_FIFO, ... (sched_getscheduler)
  int rt_priority = 0;  // 1..99 under SCHED_FIFO / SCHED_RR
  int nice = 0;         // under the time-shared policies
};

// The calling process's (sched_getscheduler, sched_getparam, getpriority:
// allowed by the unit's @system-service filter). policy -1 when unknown.
Scheduling CurrentScheduling();

// True when queued packets wait behind ordinary processes: a time-shared
// policy (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE). False for SCHED_FIFO,
// SCHED_RR, SCHED_DEADLINE, and when the policy is unknown.
bool PacketsWaitBehindOthers(const Scheduling& s);

// The start-up log line, e.g. "scheduling: SCHED_FIFO priority 10"; when
// PacketsWaitBehindOthers, the same plus what that costs and how to change
// it (the caller logs that one as a warning).
std::string DescribeScheduling(const Scheduling& s);

}  // namespace ftpalg
