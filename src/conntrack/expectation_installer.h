// The plane's ExpectationSink: turns the engine's Expectation records into
// kernel state with one of the two RelatedMechanisms per control
// connection, keeps them (PendingTable) until they are used, withdrawn or
// expire, and writes the newest into the master's labels (LabelStore)
// before the announcing packet's verdict. Also the data-SYN path of (b)
// and the re-creation of pending data connections a resync found.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>

#include "conntrack/flow_cache.h"
#include "conntrack/kernel_calls.h"
#include "conntrack/kernel_expectation.h"
#include "conntrack/label_store.h"
#include "conntrack/pending_table.h"
#include "conntrack/plane_context.h"
#include "conntrack/precreated_conntrack.h"
#include "ftpalg/expectation.h"

namespace ftpalg {

class ExpectationInstaller final : public ExpectationSink {
 public:
  ExpectationInstaller(PlaneContext& ctx, KernelCalls& kernel, FlowCache& cache,
                       LabelStore& labels);

  InstallResult Install(const Expectation& e) override;
  void Remove(const Expectation& e) override;

  // A packet from the data-SYN queue (IP bytes): creates the related
  // conntrack of the pending data connection it opens, if any.
  void OnDataSyn(const uint8_t* packet, size_t len);
  // Withdraws what is past its timeout.
  void Expire(uint64_t now_ms);
  // At shutdown: everything out of the kernel (the labels stay). Returns
  // how many there were.
  size_t RemoveAll();
  // The session of master ended: pending data connections a resync
  // re-created for it (the engine never knew them) go too.
  void WithdrawRestored(const FlowKey& master);

  enum class RestoreResult : uint8_t { kRestored, kKnown, kFailed };
  // A resync found e in the labels of master's conntrack: installs it
  // unless it is pending already (kKnown). kFailed: a conflict with
  // another master, the cap, or the kernel refused.
  RestoreResult Restore(const Expectation& e, const CtEntry& master);

  size_t size() const { return table_.size(); }

 private:
  using Mechanism = PlaneOptions::Mechanism;

  InstallResult InstallOrRefresh(const Expectation& e, bool* refreshed);
  void ReportInstall(const Expectation& e, InstallResult r);
  void Refresh(PendingConnection* p, CtEntry* entry, const Expectation& e);
  InstallResult InstallNew(const Expectation& e, CtEntry& entry,
                           const Endpoint& kernel_target);
  PendingConnection NewPending(const Expectation& e, const CtEntry& master,
                               const Endpoint& kernel_target) const;
  RelatedMechanism::AddResult AddToKernel(PendingConnection* p, bool resync);
  void Withdraw(const PendingConnection& p);
  Endpoint KernelTarget(const Expectation& e, const CtEntry* entry) const;
  Mechanism Choose(const CtEntry& entry) const;
  RelatedMechanism& MechanismOf(const PendingConnection& p);
  void ReportMechanism(const FlowKey& master, Mechanism mech);
  void LogInstalled(const PendingConnection& p);

  PlaneContext& ctx_;
  KernelCalls& kernel_;
  FlowCache& cache_;
  LabelStore& labels_;
  KernelExpectation expect_;
  PrecreatedConntrack precreate_;
  PendingTable table_;
};

}  // namespace ftpalg
