// Tests of KernelCalls: every kernel error counted by class and logged once per burst,
// the plane answering again after it.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/kernel_calls.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <deque>
#include <string>
#include <vector>

#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

using KernelCallsTest = PlaneTest;

TEST_F(KernelCallsTest, TransientErrorsAreCountedAndLoggedOncePerBurst) {
  kernel_.errors["CT_GET"] = {ENOBUFS, ENOBUFS, ENOBUFS};
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(plane_->resolver()
                     .MasterForReply(kSnatReply.src, kSnatReply.dst)
                     .has_value());
  }
  EXPECT_TRUE(CounterIs("err_enobufs", 3));
  EXPECT_EQ(log_.Count("CT_GET ENOBUFS"), 1u);
  plane_->Expire(1000 + 11000);
  EXPECT_EQ(log_.Count("CT_GET ENOBUFS: 2 more suppressed"), 1u);
  // Recovered: the next lookup works.
  EXPECT_TRUE(plane_->resolver()
                  .MasterForReply(kSnatReply.src, kSnatReply.dst)
                  .has_value());
}

// Every kernel error class on every operation: counted by class, logged once
// per burst (per operation and errno), nothing thrown, and the plane keeps
// answering (the installs after the burst work).
TEST_F(KernelCallsTest, ErrorBurstsOnEveryOperationAreCountedAndLoggedOnce) {
  for (int err : {ENOBUFS, EEXIST, ENOENT, EPERM}) {
    SCOPED_TRACE(err);
    log_.lines.clear();
    Make();
    const std::string before = plane_->Counters();
    kernel_.errors["IPSET_ADD"] = std::deque<int>(50, err);
    for (uint16_t p = 0; p < 50; ++p) {
      EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000 + p)),
                InstallResult::kFailed);
    }
    size_t logged = 0;
    for (const auto& l : log_.lines) logged += l.find("IPSET_ADD") != std::string::npos;
    EXPECT_EQ(logged, 1u);
    EXPECT_TRUE(CounterIs("install_failures", 50));
    const char* name = err == ENOBUFS  ? "err_enobufs"
                       : err == EEXIST ? "err_eexist"
                       : err == ENOENT ? "err_enoent"
                                       : "err_eperm";
    EXPECT_TRUE(CounterIs(name, 50)) << plane_->Counters();
    // After the burst the kernel answers again: installs work.
    EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 46000)),
              InstallResult::kOk);
    // The suppressed count is reported when the window ends.
    plane_->Expire(1000 + 11 * 1000);
    EXPECT_EQ(log_.Count("49 more suppressed"), 1u);
  }
  for (int err : {ENOBUFS, EPERM}) {
    SCOPED_TRACE(err);
    log_.lines.clear();
    Make();
    kernel_.errors["CT_GET"] = std::deque<int>(20, err);
    for (uint16_t p = 0; p < 20; ++p) {
      const CtTuple reply{Ep("203.0.113.2", 21), Ep("203.0.113.1", 50000 + p), 6};
      EXPECT_FALSE(plane_->resolver().MasterForReply(reply.src, reply.dst));
    }
    size_t logged = 0;
    for (const auto& l : log_.lines) logged += l.find("CT_GET") != std::string::npos;
    EXPECT_EQ(logged, 1u);
    EXPECT_TRUE(CounterIs("resolver_failures", 20));
  }
}

}  // namespace
}  // namespace ftpalg::testing
