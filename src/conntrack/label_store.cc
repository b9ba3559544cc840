// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/label_store.h"

#include <errno.h>

#include <string>

namespace ftpalg {
namespace {

bool HasOurLabels(const CtEntry& entry) {
  return entry.labels && DecodeLabels(*entry.labels).has_value();
}

}  // namespace

void LabelStore::SaveSnapshot(const FlowKey& master, const SessionSnapshot& snap) {
  PlaneCounters& c = ctx_.counters;
  CtEntry* entry = cache_.Lookup(master);
  if (entry == nullptr) {
    ++c.snapshot_save_failed;
    return;
  }
  if (!HasOurLabels(*entry) && snap.offset[0] == 0 && snap.offset[1] == 0) {
    // Nothing a later daemon needs (e.g. AUTH on a session that never
    // rewrote nor expected): picked up without labels it passes untouched.
    return;
  }
  switch (WriteLabels(entry, master, EncodeSnapshotLabels(snap))) {
    case Write::kWritten: ++c.snapshot_saved; break;
    case Write::kUnchanged: ++c.snapshot_unchanged; break;
    case Write::kFailed: ++c.snapshot_save_failed; break;
    case Write::kNoLabels: break;
  }
}

std::optional<SessionSnapshot> LabelStore::LoadSnapshot(const FlowKey& master) {
  const CtEntry* entry = cache_.Lookup(master);
  std::optional<SessionSnapshot> snap;
  if (entry != nullptr && entry->labels) snap = DecodeSnapshotLabels(*entry->labels);
  if (snap) {
    ++ctx_.counters.snapshot_loaded;
  } else {
    ++ctx_.counters.snapshot_absent;
  }
  return snap;
}

bool LabelStore::SavePending(CtEntry* entry, const Expectation& e) {
  if (entry == nullptr) return false;
  if (WriteLabels(entry, e.master, EncodePendingLabels(PendingFromExpectation(e))) ==
      Write::kWritten) {
    ++ctx_.counters.pending_saved;
  }
  return true;
}

// Only if they still describe e: a newer announcement of the session may
// have replaced them. Not at shutdown: the next daemon re-creates e from
// them.
void LabelStore::ClearPending(const Expectation& e) {
  if (keep_on_remove_) return;
  CtEntry* entry = cache_.Lookup(e.master);
  if (entry == nullptr || !entry->labels) return;
  const std::optional<LabelState> st = DecodeLabels(*entry->labels);
  if (!st || !st->pending || !(*st->pending == PendingFromExpectation(e))) return;
  if (WriteLabels(entry, e.master, EncodePendingLabels(std::nullopt)) ==
      Write::kWritten) {
    ++ctx_.counters.pending_cleared;
  }
}

// One masked label update of the master's conntrack. Labels that carry no
// ftpalg state yet get the whole layout (zero offsets, no pending) with
// it, so whatever bits 32..127 held before cannot be misread.
LabelStore::Write LabelStore::WriteLabels(CtEntry* entry, const FlowKey& master,
                                          CtLabelWrite w) {
  if (entry->no_labels) {
    ++ctx_.counters.snapshot_no_labels;
    return Write::kNoLabels;
  }
  if (!HasOurLabels(*entry)) {
    if (entry->labels && *entry->labels != CtLabelBits{}) ReportForeign(*entry, master);
    w = MergeLabelWrites(MergeLabelWrites(EncodeSnapshotLabels({}),
                                          EncodePendingLabels(std::nullopt)),
                         w);
  }
  const CtLabelBits next = ApplyLabelWrite(entry->labels.value_or(CtLabelBits{}), w);
  if (entry->labels && *entry->labels == next) return Write::kUnchanged;
  // One round trip: the kernel handles the update inside sendmsg, so the
  // ACK is already queued when the send returns (see README, "State kept
  // in conntrack", for the measured cost).
  const uint64_t t0 = MonotonicUs();
  const int err = kernel_.Call(
      KernelOp::kCtSetLabels,
      BuildCtSetLabels(kernel_.buf(), kernel_.NextSeq(), CtTuple::FromFlow(master), w));
  ctx_.counters.snapshot_write_us += MonotonicUs() - t0;
  if (err != 0) return ReportWriteError(entry, master, err);
  ++ctx_.counters.label_writes;
  entry->labels = next;
  return Write::kWritten;
}

// Label bits on a control conntrack before ftpalgd's first write: another
// rule sets labels on FTP control connections, where ftpalgd uses all 128
// bits (adapters/ctnetlink_labels.h). Said once per burst, not silently.
void LabelStore::ReportForeign(const CtEntry& entry, const FlowKey& master) {
  ++ctx_.counters.labels_foreign;
  std::string bits;
  int shown = 0;
  for (unsigned n = 0; n < 128; ++n) {
    if (!LabelBit(*entry.labels, n)) continue;
    if (++shown > 8) {
      bits += ",...";
      break;
    }
    bits += (bits.empty() ? "" : ",") + std::to_string(n);
  }
  kernel_.LogLimited(LogLevel::kWarn, "foreignlabels",
                     "control connection " + master.ToString() +
                         " carries conntrack label bits ftpalgd did not write (" + bits +
                         "): a rule sets labels on FTP control connections, where "
                         "ftpalgd uses all 128 bits: 32-127 are overwritten now, 0-31 "
                         "with its first pending data connection (keep such rules "
                         "off the control ports, ftpalgd(8) NOTES)");
}

LabelStore::Write LabelStore::ReportWriteError(CtEntry* entry,
                                               const FlowKey& master, int err) {
  if (err == ENOSPC) {
    ++ctx_.counters.snapshot_no_labels;
    kernel_.Count(err);
    entry->no_labels = true;
    kernel_.LogLimited(LogLevel::kWarn, "nolabels",
                       "control connection " + master.ToString() +
                           " has no conntrack labels (no label rule was loaded when "
                           "it started: scripts/ftpalg-rules install adds one): its "
                           "offsets and pending data connections will not survive "
                           "a daemon restart or a failover");
    return Write::kNoLabels;
  }
  if (err == ENOENT) {
    kernel_.Count(err);  // the conntrack is gone (closed, flushed)
  } else {
    kernel_.Fail(KernelOp::kCtSetLabels, err, master.ToString());
  }
  return Write::kFailed;
}

}  // namespace ftpalg
