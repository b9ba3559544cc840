// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/kernel_queue.h"

#include <gtest/gtest.h>

#include <errno.h>

#include <string>

namespace ftpalg {
namespace {

TEST(KernelQueueTest, ParsesKernelQueueRows) {
  // As the kernel prints it: %5u %6u %5u %1u %5u %5u %5u %8u %2d
  const std::string proc =
      "    0  12345     2 2 65535     9     4      100  1\n"
      "    1 4294967295     0 2 65535     0     0        7  1\n";
  const KernelQueueStats q0 = ParseKernelQueue(proc, 0);
  EXPECT_TRUE(q0.bound);
  EXPECT_EQ(q0.portid, 12345u);
  EXPECT_EQ(q0.waiting, 2u);
  EXPECT_EQ(q0.queue_dropped, 9u);
  EXPECT_EQ(q0.user_dropped, 4u);
  const KernelQueueStats q1 = ParseKernelQueue(proc, 1);
  EXPECT_TRUE(q1.bound);
  EXPECT_EQ(q1.portid, 4294967295u);
  const KernelQueueStats q2 = ParseKernelQueue(proc, 2);
  EXPECT_FALSE(q2.bound);
  EXPECT_EQ(q2.queue, 2);
  EXPECT_FALSE(ParseKernelQueue("", 0).bound);
  EXPECT_FALSE(ParseKernelQueue("garbage\n0 1 2\n", 0).bound);
  EXPECT_FALSE(ParseKernelQueue("0 1 2 3 4 5x 6\n", 0).bound);
}

TEST(KernelQueueTest, BindErrorsSayWhy) {
  EXPECT_EQ(BindError(3, EBUSY, 1),
            "cannot bind NFQUEUE queue 3: Device or resource busy: the queue is "
            "already bound (another ftpalgd?)");
  EXPECT_EQ(BindError(3, ENOMEM, 1),
            "cannot bind NFQUEUE queue 3: Cannot allocate memory");
}

TEST(KernelQueueTest, UnboundQueueText) {
  KernelQueueReader reader;  // no descriptor: the file is opened each time
  EXPECT_EQ(reader.Text(65000), "q65000=unbound");
}

}  // namespace
}  // namespace ftpalg
