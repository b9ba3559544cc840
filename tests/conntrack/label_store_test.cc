// Tests of LabelStore: session offsets and the newest pending data connection in
// the control conntrack's labels (restart survival and failover).
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/label_store.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

using LabelStoreTest = PlaneTest;

TEST_F(LabelStoreTest, SnapshotIsWrittenToLabelsWithAMaskAndReadBack) {
  kernel_.label_writes_in_requests = true;
  kernel_.conntracks[0].labels = CtLabelBits{};
  SetLabelBit(&*kernel_.conntracks[0].labels, 5, true);  // the operator's bit
  SessionSnapshot snap;
  snap.offset[0] = 3;
  snap.offset[1] = -1;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "CT_NEW"}));
  EXPECT_EQ(Last().find("CREATE"), std::string::npos) << Last();  // an update
  EXPECT_NE(Last().find("CTA_LABELS_MASK"), std::string::npos) << Last();
  EXPECT_TRUE(CounterIs("snapshot_saved", 1));
  const CtLabelBits& kept = *kernel_.conntracks[0].labels;
  EXPECT_TRUE(LabelBit(kept, 5));  // untouched
  // The same offsets again (a retransmission rewritten identically): no I/O.
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList{});
  EXPECT_TRUE(CounterIs("snapshot_unchanged", 1));

  // A restarted daemon: a fresh plane over the same kernel.
  Make();
  TakeOps();
  const auto back = plane_->resolver().LoadSnapshot(kSnatOrig.ToFlow());
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));  // one round trip
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->offset[0], 3);
  EXPECT_EQ(back->offset[1], -1);
  EXPECT_FALSE(back->tls);
  EXPECT_TRUE(CounterIs("snapshot_loaded", 1));
  // A later rewrite writes again; the operator's bit still survives.
  snap.offset[0] = 6;
  snap.tls = true;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW"}));
  const auto again = DecodeSnapshotLabels(*kernel_.conntracks[0].labels);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->offset[0], 6);
  EXPECT_TRUE(again->tls);
  EXPECT_TRUE(LabelBit(*kernel_.conntracks[0].labels, 5));
}

// An operator's rule set label bits on an FTP control conntrack before
// ftpalgd's first write: counted and said (once per burst), not silent.
TEST_F(LabelStoreTest, ForeignLabelBitsAreReported) {
  kernel_.label_writes_in_requests = true;
  kernel_.conntracks[0].labels = CtLabelBits{};
  SetLabelBit(&*kernel_.conntracks[0].labels, 5, true);
  SetLabelBit(&*kernel_.conntracks[0].labels, 40, true);
  SessionSnapshot snap;
  snap.offset[0] = 3;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_TRUE(CounterIs("labels_foreign", 1));
  EXPECT_EQ(log_.Count("carries conntrack label bits ftpalgd did not write (5,40)"), 1u);
  EXPECT_FALSE(LabelBit(*kernel_.conntracks[0].labels, 40));  // now an offset bit
  // The labels are ours now: later writes say nothing more.
  snap.offset[0] = 6;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_TRUE(CounterIs("labels_foreign", 1));
  // Labels that are all zero (only label space, e.g. the rules' match) are
  // not foreign.
  kernel_.conntracks[1].labels = CtLabelBits{};
  plane_->resolver().SaveSnapshot(kDnatOrig.ToFlow(), snap);
  EXPECT_TRUE(CounterIs("labels_foreign", 1));
  EXPECT_TRUE(CounterIs("snapshot_saved", 3));
}

TEST_F(LabelStoreTest, PickedUpSessionWithoutOurLabelsHasNoSnapshot) {
  kernel_.conntracks[1].labels = CtLabelBits{};
  SetLabelBit(&*kernel_.conntracks[1].labels, 127, true);  // not our magic
  EXPECT_FALSE(plane_->resolver().LoadSnapshot(kSnatOrig.ToFlow()).has_value());
  EXPECT_FALSE(plane_->resolver().LoadSnapshot(kDnatOrig.ToFlow()).has_value());
  const CtTuple unknown{Ep("10.7.0.9", 1), Ep("203.0.113.2", 21), 6};
  EXPECT_FALSE(plane_->resolver().LoadSnapshot(unknown.ToFlow()).has_value());
  EXPECT_TRUE(CounterIs("snapshot_absent", 3));
}

TEST_F(LabelStoreTest, NoLabelSpaceIsLoggedOnceAndNotRetried) {
  kernel_.label_writes_in_requests = true;
  kernel_.labels = false;
  SessionSnapshot snap;
  snap.offset[0] = 3;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "CT_NEW"}));
  snap.offset[0] = 6;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList{});  // known: this conntrack has no labels
  plane_->resolver().SaveSnapshot(kDnatOrig.ToFlow(), snap);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "CT_NEW"}));
  EXPECT_TRUE(CounterIs("snapshot_no_labels", 3));
  EXPECT_TRUE(CounterIs("err_enospc", 2));
  EXPECT_EQ(log_.Count("has no conntrack labels"), 1u);  // once per burst
}

TEST_F(LabelStoreTest, LabelWriteErrorsAreCountedNeverFatal) {
  kernel_.label_writes_in_requests = true;
  SessionSnapshot snap;
  snap.offset[0] = 3;
  kernel_.errors["CT_NEW"] = {ENOBUFS, EPERM, ENOENT};
  for (int i = 0; i < 3; ++i) {
    snap.offset[0] += 3;
    plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  }
  EXPECT_TRUE(CounterIs("snapshot_save_failed", 3));
  EXPECT_TRUE(CounterIs("err_enobufs", 1));
  EXPECT_TRUE(CounterIs("err_eperm", 1));
  EXPECT_TRUE(CounterIs("err_enoent", 1));
  EXPECT_EQ(log_.Count("CT_NEW(labels) ENOBUFS"), 1u);
  EXPECT_EQ(log_.Count("CT_NEW(labels) EPERM"), 1u);
  // The next write works again.
  snap.offset[0] += 3;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), snap);
  EXPECT_TRUE(CounterIs("snapshot_saved", 1));
}

TEST_F(LabelStoreTest, SnapshotOfAnUntouchedSessionIsNotWritten) {
  // AUTH on a session that never rewrote nor expected: nothing to keep.
  SessionSnapshot tls;
  tls.tls = true;
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), tls);
  EXPECT_TRUE(kernel_.label_writes.empty());
  // Once the labels hold the session's state (a pending data connection),
  // the TLS flag is kept: a backup must not parse the encrypted stream.
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  plane_->resolver().SaveSnapshot(kSnatOrig.ToFlow(), tls);
  EXPECT_EQ(kernel_.label_writes.size(), 2u);
  EXPECT_TRUE(LabelsOf(kernel_, kSnatOrig)->snapshot.tls);
}

TEST_F(LabelStoreTest, PendingIsWrittenAtInstallAndClearedWhenTheSynCreatesIt) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  // One label write, after the IPSET_ADD, before Install returned (i.e.
  // before the verdict of the packet that carried the announcement).
  ASSERT_EQ(kernel_.label_writes.size(), 1u);
  EXPECT_EQ(kernel_.label_writes[0].after_requests, 2u);  // CT_GET, IPSET_ADD
  auto st = LabelsOf(kernel_, kSnatOrig);
  ASSERT_TRUE(st && st->pending);
  EXPECT_EQ(*st->pending, PendingFromExpectation(e));
  EXPECT_EQ(st->snapshot.offset[0], 0);  // a session without rewrite too
  EXPECT_TRUE(CounterIs("pending_saved", 1));
  EXPECT_TRUE(CounterIs("label_writes", 1));
  // The same announcement again: nothing new to write.
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(kernel_.label_writes.size(), 1u);

  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_TRUE(CounterIs("related_created", 1));
  ASSERT_EQ(kernel_.label_writes.size(), 2u);
  st = LabelsOf(kernel_, kSnatOrig);
  ASSERT_TRUE(st.has_value());
  EXPECT_FALSE(st->pending.has_value());
  EXPECT_TRUE(CounterIs("pending_cleared", 1));
  // The engine's later Remove finds nothing to clear.
  plane_->sink().Remove(e);
  EXPECT_EQ(kernel_.label_writes.size(), 2u);
}

TEST_F(LabelStoreTest, OnlyTheNewestPendingIsKeptAndAnOlderRemoveLeavesIt) {
  const Expectation a = PortExpectation(kSnatOrig, 45000);
  const Expectation b = PortExpectation(kSnatOrig, 45001);
  ASSERT_EQ(plane_->sink().Install(a), InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(b), InstallResult::kOk);
  EXPECT_EQ(LabelsOf(kernel_, kSnatOrig)->pending->target_port, 45001);
  plane_->sink().Remove(a);  // older: the labels describe b
  EXPECT_EQ(LabelsOf(kernel_, kSnatOrig)->pending->target_port, 45001);
  EXPECT_EQ(kernel_.label_writes.size(), 2u);
  plane_->sink().Remove(b);
  EXPECT_FALSE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());
  EXPECT_TRUE(CounterIs("pending_cleared", 1));
}

TEST_F(LabelStoreTest, ExpiredPendingIsCleared) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  plane_->Expire(1000 + 61 * 1000);
  EXPECT_TRUE(CounterIs("expired", 1));
  EXPECT_FALSE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());
}

TEST_F(LabelStoreTest, ShutdownKeepsThePendingInTheLabels) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  plane_->KeepLabelsOnRemove(true);
  plane_->sink().Remove(e);  // the engine's Shutdown
  plane_->RemoveAll();
  EXPECT_EQ(kernel_.label_writes.size(), 1u);
  EXPECT_TRUE(LabelsOf(kernel_, kSnatOrig)->pending.has_value());
}

TEST_F(LabelStoreTest, PendingWithoutLabelSpaceIsTriedOnceNeverFatal) {
  kernel_.labels = false;
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45001)),
            InstallResult::kOk);
  EXPECT_EQ(kernel_.label_writes.size(), 1u);  // ENOSPC: never retried
  EXPECT_TRUE(CounterIs("snapshot_no_labels", 2));
  EXPECT_TRUE(CounterIs("pending_saved", 0));
  EXPECT_EQ(log_.Count("has no conntrack labels"), 1u);
}

}  // namespace
}  // namespace ftpalg::testing
