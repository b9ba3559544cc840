// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/expectation_installer.h"

#include <string>
#include <utility>

#include "conntrack/binding_events.h"

namespace ftpalg {

ExpectationInstaller::ExpectationInstaller(PlaneContext& ctx, KernelCalls& kernel,
                                           FlowCache& cache, LabelStore& labels)
    : ctx_(ctx),
      kernel_(kernel),
      cache_(cache),
      labels_(labels),
      expect_(ctx, kernel),
      precreate_(ctx, kernel) {}

InstallResult ExpectationInstaller::Install(const Expectation& e) {
  bool refreshed = false;
  const InstallResult r = InstallOrRefresh(e, &refreshed);
  if (!refreshed) ReportInstall(e, r);
  return r;
}

// The NAT-binding records of a new data connection (--events).
void ExpectationInstaller::ReportInstall(const Expectation& e, InstallResult r) {
  BindingEvents* events = ctx_.events;
  if (events == nullptr) return;
  events->Announced(e);
  if (r != InstallResult::kOk) {
    events->Refused(e, r == InstallResult::kPortBusy ? BindingEvents::Refusal::kPortBusy
                                                     : BindingEvents::Refusal::kFailed);
    return;
  }
  auto it = table_.Find(e.target);
  if (it != table_.end()) events->Installed(it->second, false);
}

InstallResult ExpectationInstaller::InstallOrRefresh(const Expectation& e,
                                                     bool* refreshed) {
  PlaneCounters& c = ctx_.counters;
  auto it = table_.Find(e.target);
  if (it != table_.end() && !(it->second.e.master == e.master)) {
    ++c.port_busy;  // decided without a netlink round trip
    return InstallResult::kPortBusy;
  }
  CtEntry* entry = cache_.Lookup(e.master);
  const Endpoint kernel_target = KernelTarget(e, entry);
  if (it == table_.end()) it = table_.FindByKernelTarget(kernel_target);
  if (it != table_.end()) {
    if (!(it->second.e.master == e.master)) {
      ++c.port_busy;
      return InstallResult::kPortBusy;
    }
    Refresh(&it->second, entry, e);
    *refreshed = true;
    return InstallResult::kOk;
  }
  if (table_.size() >= ctx_.options.max_expectations) {
    ++c.cap_refusals;
    kernel_.LogLimited(LogLevel::kWarn, "cap",
                       "#" + std::to_string(e.session_id) + " LIMIT max-expectations " +
                           std::to_string(ctx_.options.max_expectations) +
                           " reached: refusing " + e.target.ToString());
    return InstallResult::kFailed;
  }
  if (entry == nullptr) {
    ++c.install_failures;
    kernel_.LogLimited(LogLevel::kWarn, "nomaster",
                       "no conntrack for control connection " + e.master.ToString() +
                           ": data connection to " + e.target.ToString() +
                           " not installed");
    return InstallResult::kFailed;
  }
  return InstallNew(e, *entry, kernel_target);
}

// The same announcement again (retransmission or re-announcement).
void ExpectationInstaller::Refresh(PendingConnection* p, CtEntry* entry,
                                   const Expectation& e) {
  ++ctx_.counters.refreshes;
  p->e = e;
  p->expires_ms = ctx_.now_ms + uint64_t{e.timeout_s} * 1000;
  MechanismOf(*p).Refresh(*p);
  table_.Adopt(p);  // a restored one: the engine owns it now
  if (labels_.SavePending(entry, p->e)) p->labelled = true;
}

InstallResult ExpectationInstaller::InstallNew(const Expectation& e,
                                               CtEntry& entry,
                                               const Endpoint& kernel_target) {
  PendingConnection p = NewPending(e, entry, kernel_target);
  switch (AddToKernel(&p, false)) {
    case RelatedMechanism::AddResult::kOk:
      break;
    case RelatedMechanism::AddResult::kExists:
    case RelatedMechanism::AddResult::kBusy:
      ++ctx_.counters.port_busy;
      return InstallResult::kPortBusy;
    case RelatedMechanism::AddResult::kUnsupported:
    case RelatedMechanism::AddResult::kFailed:
      ++ctx_.counters.install_failures;
      return InstallResult::kFailed;
  }
  ReportMechanism(e.master, p.mech);
  ++ctx_.counters.installs;
  LogInstalled(p);
  // Before the verdict of the packet that announced it (we are inside the
  // engine's Process): a backup or a restarted daemon can re-create it.
  if (labels_.SavePending(&entry, p.e)) p.labelled = true;
  table_.Add(std::move(p));
  return InstallResult::kOk;
}

PendingConnection ExpectationInstaller::NewPending(const Expectation& e,
                                                   const CtEntry& master,
                                                   const Endpoint& kernel_target) const {
  PendingConnection p;
  p.e = e;
  p.kernel_target = kernel_target;
  p.expires_ms = ctx_.now_ms + uint64_t{e.timeout_s} * 1000;
  p.mech = Choose(master);
  p.mark = master.mark;
  // nf_nat_follow_master: SNAT the initiator to how the other side knows
  // it (the master's tuple opposite to the expectation's NAT direction).
  p.snat_to = e.announcer == Direction::kOriginal ? master.orig.dst.addr
                                                  : master.reply.dst.addr;
  return p;
}

// An EXP_NEW the kernel cannot do (the helper is gone, or never was
// usable) falls back to (b) under --mechanism auto; only the engine's own
// installs remember that for the master.
RelatedMechanism::AddResult ExpectationInstaller::AddToKernel(PendingConnection* p,
                                                              bool resync) {
  RelatedMechanism::AddResult r = MechanismOf(*p).Add(*p, resync);
  if (r == RelatedMechanism::AddResult::kUnsupported &&
      ctx_.options.mechanism == Mechanism::kAuto) {
    if (!resync) {
      ++ctx_.counters.expect_fallbacks;
      if (CtEntry* master = cache_.Find(p->e.master)) master->no_expect = true;
    }
    p->mech = Mechanism::kPrecreate;
    r = precreate_.Add(*p, resync);
  }
  return r;
}

void ExpectationInstaller::LogInstalled(const PendingConnection& p) {
  if (!ctx_.logger.Enabled(LogLevel::kInfo)) return;
  const std::string how =
      p.mech == Mechanism::kExpect
          ? std::string("kernel expectation")
          : "pending set " + ctx_.options.PendingSetFor(p.kernel_target.addr.family) +
                ": related conntrack on the data SYN";
  ctx_.logger.Log(LogLevel::kInfo,
                  "#" + std::to_string(p.e.session_id) + " expectation installed (" +
                      how + "): " + p.e.peer.ToString() + " -> " +
                      p.kernel_target.ToString() + " nat " + p.e.nat_to.ToString());
}

void ExpectationInstaller::Remove(const Expectation& e) {
  auto it = table_.Find(e.target);
  if (it == table_.end() || !(it->second.e.master == e.master)) return;
  ++ctx_.counters.removed;
  if (ctx_.events != nullptr) ctx_.events->Ended(it->second, BindingEvents::End::kWithdrawn);
  Withdraw(it->second);
  table_.Erase(it);
}

void ExpectationInstaller::OnDataSyn(const uint8_t* packet, size_t len) {
  PlaneCounters& c = ctx_.counters;
  ++c.syn_seen;
  PacketView v;
  if (ParsePacket(packet, len, &v) != PacketError::kNone ||
      (v.flags & (kTcpSyn | kTcpAck | kTcpRst)) != kTcpSyn) {
    ++c.syn_malformed;
    return;
  }
  auto it = table_.FindByKernelTarget(v.dst);
  if (it == table_.end() || it->second.mech != Mechanism::kPrecreate) {
    ++c.syn_unmatched;
    return;
  }
  PendingConnection& p = it->second;
  if (p.e.peer != v.src.addr) {
    ++c.syn_peer_mismatch;
    return;
  }
  if (!precreate_.CreateRelated(p, v)) return;  // kept: a retransmitted SYN tries again
  if (ctx_.events != nullptr) ctx_.events->Used(p, v.src);
  // One connection per expectation, as the kernel does. The data
  // connection is a conntrack now (conntrackd replicates it): nothing
  // pending any more.
  Withdraw(p);
  table_.Erase(it);
}

void ExpectationInstaller::Expire(uint64_t now_ms) {
  table_.EraseIf([now_ms](const PendingConnection& p) { return p.expires_ms <= now_ms; },
                 [this](const PendingConnection& p) {
                   ++ctx_.counters.expired;
                   if (ctx_.events != nullptr) ctx_.events->Ended(p, BindingEvents::End::kExpired);
                   Withdraw(p);
                 });
}

size_t ExpectationInstaller::RemoveAll() {
  const size_t n = table_.size();
  table_.ForEach([this](const PendingConnection& p) {
    if (ctx_.events != nullptr) ctx_.events->Ended(p, BindingEvents::End::kShutdown);
    MechanismOf(p).Remove(p);
  });
  table_.Clear();
  return n;
}

void ExpectationInstaller::WithdrawRestored(const FlowKey& master) {
  if (table_.restored_count() == 0) return;
  table_.EraseIf(
      [&master](const PendingConnection& p) { return p.restored && p.e.master == master; },
      [this](const PendingConnection& p) {
        ++ctx_.counters.restored_withdrawn;
        if (ctx_.events != nullptr) ctx_.events->Ended(p, BindingEvents::End::kSessionEnded);
        Withdraw(p);
      });
}

ExpectationInstaller::RestoreResult ExpectationInstaller::Restore(
    const Expectation& e, const CtEntry& master) {
  PendingConnection p = NewPending(e, master, KernelTarget(e, &master));
  auto known = table_.Find(e.target);
  if (known == table_.end()) known = table_.FindByKernelTarget(p.kernel_target);
  if (known != table_.end()) {
    const FlowKey& holder = known->second.e.master;
    if (holder == e.master) return RestoreResult::kKnown;
    kernel_.LogLimited(LogLevel::kWarn, "resync-busy",
                       "resync: " + e.target.ToString() + " of " + e.master.ToString() +
                           " is pending for " + holder.ToString() + ": not re-created");
    return RestoreResult::kFailed;
  }
  if (table_.size() >= ctx_.options.max_expectations) {
    ++ctx_.counters.cap_refusals;
    return RestoreResult::kFailed;
  }
  p.labelled = true;
  p.restored = true;
  if (AddToKernel(&p, true) != RelatedMechanism::AddResult::kOk) {
    return RestoreResult::kFailed;
  }
  if (ctx_.logger.Enabled(LogLevel::kInfo)) {
    ctx_.logger.Log(LogLevel::kInfo,
                    "resync: pending data connection " + e.peer.ToString() + " -> " +
                        p.kernel_target.ToString() + " nat " + e.nat_to.ToString() +
                        " re-created for " + e.master.ToString() + " (" +
                        std::string(KindName(e.kind)) + ", " +
                        (p.mech == Mechanism::kExpect ? "kernel expectation"
                                                      : "pending set") +
                        ")");
  }
  if (ctx_.events != nullptr) ctx_.events->Installed(p, true);
  table_.Add(std::move(p));
  return RestoreResult::kRestored;
}

void ExpectationInstaller::Withdraw(const PendingConnection& p) {
  MechanismOf(p).Remove(p);
  if (p.labelled) labels_.ClearPending(p.e);
}

// The address the data SYN really arrives at: the engine's target, unless
// that is the --public-ip override, which only exists beyond this gateway.
Endpoint ExpectationInstaller::KernelTarget(const Expectation& e,
                                            const CtEntry* entry) const {
  Endpoint t = e.target;
  const std::optional<IpAddress>& pub = ctx_.options.PublicFor(t.addr.family);
  if (entry != nullptr && pub && t.addr == *pub) {
    t.addr = e.announcer == Direction::kOriginal ? entry->reply.dst.addr
                                                 : entry->orig.dst.addr;
  }
  return t;
}

ExpectationInstaller::Mechanism ExpectationInstaller::Choose(const CtEntry& entry) const {
  if (ctx_.options.mechanism != Mechanism::kAuto) return ctx_.options.mechanism;
  const std::string_view helper = entry.helper_name();
  if (!entry.no_expect && !helper.empty() && helper != "ftp") {
    return Mechanism::kExpect;
  }
  return Mechanism::kPrecreate;
}

RelatedMechanism& ExpectationInstaller::MechanismOf(const PendingConnection& p) {
  if (p.mech == Mechanism::kExpect) return expect_;
  return precreate_;
}

// Once per control connection: which mechanism, and a warning when the
// kernel ftp helper is attached (it would rewrite and expect too).
void ExpectationInstaller::ReportMechanism(const FlowKey& master, Mechanism mech) {
  CtEntry* entry = cache_.Find(master);
  if (entry == nullptr || entry->reported) return;
  entry->reported = true;
  const std::string_view helper = entry->helper_name();
  ++(mech == Mechanism::kExpect ? ctx_.counters.masters_expect
                                : ctx_.counters.masters_precreate);
  if (helper == "ftp") {
    ++ctx_.counters.masters_ftp_helper;
    ctx_.logger.Log(LogLevel::kWarn,
                    "control connection " + master.ToString() +
                        " has the kernel ftp helper attached: it will rewrite "
                        "and expect too; remove it from the rules");
  }
  if (!ctx_.logger.Enabled(LogLevel::kInfo)) return;
  std::string msg = "control connection " + master.ToString() + ": data connections via ";
  msg += mech == Mechanism::kExpect
             ? "kernel expectation (helper " + std::string(helper) + ")"
             : "pre-created related conntrack" +
                   (helper.empty() ? std::string(" (no helper)")
                                   : " (helper " + std::string(helper) + ")");
  ctx_.logger.Log(LogLevel::kInfo, msg);
}

}  // namespace ftpalg
