// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/resync.h"

#include <string>

namespace ftpalg {

std::string ResyncCounts::ToString() const {
  return "scanned=" + std::to_string(scanned) +
         " sessions=" + std::to_string(sessions) +
         " pending_restored=" + std::to_string(pending_restored) +
         " pending_known=" + std::to_string(pending_known) +
         " errors=" + std::to_string(errors) + " ms=" + std::to_string(elapsed_ms);
}

ResyncCounts Resync::Run() {
  const uint64_t t0 = MonotonicUs();
  ResyncCounts r;
  // Streamed: each dump message is looked at once; only control
  // conntracks with a pending data connection are kept (a few bytes each,
  // at most max_expectations), and installed after the dump, since the
  // channel carries one exchange at a time.
  std::vector<Found> found;
  auto on_entry = [&](const nlmsghdr* m) { Scan(m, &r, &found); };
  const int err =
      kernel_.Dump(BuildCtDumpAllFamilies(kernel_.buf(), kernel_.NextSeq()), on_entry);
  if (err != 0) {
    ++r.errors;
    kernel_.Fail(KernelOp::kCtDump, err, "conntrack table");
  }
  for (const Found& x : found) Restore(x, &r);
  r.elapsed_ms = (MonotonicUs() - t0) / 1000;
  Report(r);
  return r;
}

void Resync::Scan(const nlmsghdr* m, ResyncCounts* r, std::vector<Found>* found) {
  ++r->scanned;
  CtInfo info;
  if (!ParseCtMessage(m, &info) || !info.orig || !info.reply) {
    ++r->errors;
    return;
  }
  if (info.orig->proto != 6 || !info.labels) return;
  const std::optional<LabelState> st = DecodeLabels(*info.labels);
  if (!st) return;
  ++r->sessions;
  // A cached view of this conntrack gets the labels as they are now.
  if (CtEntry* cached = cache_.Find(info.orig->ToFlow())) cached->labels = info.labels;
  if (!st->pending) return;
  if (found->size() >= ctx_.options.max_expectations) {
    ++r->errors;  // more than the global cap could hold anyway
    return;
  }
  Found x;
  x.orig = *info.orig;
  x.reply = *info.reply;
  x.mark = info.mark;
  if (x.mark && *x.mark == 0) x.mark.reset();
  x.helper = info.helper;
  x.pending = *st->pending;
  found->push_back(x);
}

void Resync::Restore(const Found& x, ResyncCounts* r) {
  const Expectation e =
      ExpectationFromPending(x.pending, x.orig, x.reply,
                             ctx_.options.PublicFor(x.orig.family()),
                             ctx_.options.expectation_timeout_s);
  CtEntry master;
  master.orig = x.orig;
  master.reply = x.reply;
  master.mark = x.mark;
  master.helper = x.helper;
  switch (installer_.Restore(e, master)) {
    case ExpectationInstaller::RestoreResult::kRestored: ++r->pending_restored; break;
    case ExpectationInstaller::RestoreResult::kKnown: ++r->pending_known; break;
    case ExpectationInstaller::RestoreResult::kFailed: ++r->errors; break;
  }
}

void Resync::Report(const ResyncCounts& r) {
  PlaneCounters& c = ctx_.counters;
  ++c.resync_runs;
  c.resync_scanned += r.scanned;
  c.resync_sessions += r.sessions;
  c.resync_pending += r.pending_restored;
  c.resync_errors += r.errors;
  ctx_.logger.Log(r.errors > 0 ? LogLevel::kWarn : LogLevel::kInfo,
                  "resync from conntrack: scanned " + std::to_string(r.scanned) +
                      " conntracks, " + std::to_string(r.sessions) +
                      " with ftpalg state, " + std::to_string(r.pending_restored) +
                      " pending data connections re-created (" +
                      std::to_string(r.pending_known) + " already pending), " +
                      std::to_string(r.errors) + " errors, " +
                      std::to_string(r.elapsed_ms) + " ms");
}

}  // namespace ftpalg
