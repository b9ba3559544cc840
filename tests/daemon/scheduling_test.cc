// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/scheduling.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <string>

namespace ftpalg {
namespace {

TEST(SchedulingTest, RealTimeIsReportedWithItsPriorityAndNoAdvice) {
  const Scheduling fifo{SCHED_FIFO, 10, 0};
  EXPECT_FALSE(PacketsWaitBehindOthers(fifo));
  EXPECT_EQ(DescribeScheduling(fifo), "scheduling: SCHED_FIFO priority 10");
  const Scheduling rr{SCHED_RR, 5, 0};
  EXPECT_FALSE(PacketsWaitBehindOthers(rr));
  EXPECT_EQ(DescribeScheduling(rr), "scheduling: SCHED_RR priority 5");
}

TEST(SchedulingTest, TimeSharedPoliciesWaitBehindOthersAndSaySo) {
  for (const int policy : {SCHED_OTHER, SCHED_BATCH, SCHED_IDLE}) {
    const Scheduling s{policy, 0, -5};
    EXPECT_TRUE(PacketsWaitBehindOthers(s)) << policy;
    const std::string text = DescribeScheduling(s);
    EXPECT_NE(text.find(" nice -5: queued packets wait"), std::string::npos) << text;
    EXPECT_NE(text.find("CPUSchedulingPolicy=fifo"), std::string::npos) << text;
    EXPECT_NE(text.find("chrt --fifo"), std::string::npos) << text;
  }
  EXPECT_EQ(DescribeScheduling({SCHED_OTHER, 0, 0}).rfind("scheduling: SCHED_OTHER nice 0: ", 0), 0u);
}

TEST(SchedulingTest, UnknownPolicyIsNotAWarning) {
  const Scheduling unknown{-1, 0, 0};
  EXPECT_FALSE(PacketsWaitBehindOthers(unknown));
  EXPECT_EQ(DescribeScheduling(unknown), "scheduling: policy -1");
}

TEST(SchedulingTest, CurrentSchedulingReadsThisProcess) {
  const Scheduling s = CurrentScheduling();
  EXPECT_EQ(s.policy, sched_getscheduler(0) & ~SCHED_RESET_ON_FORK);
  if (s.policy == SCHED_OTHER) {
    EXPECT_EQ(s.rt_priority, 0);
  }
}

}  // namespace
}  // namespace ftpalg
