// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/conntrack_plane.h"

#include <errno.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <time.h>

#include <array>
#include <cstring>
#include <iterator>
#include <map>
#include <unordered_map>
#include <vector>
#include <utility>

#include "adapters/ctnetlink_labels.h"
#include "adapters/ctnetlink_messages.h"
#include "adapters/ipset_messages.h"
#include "adapters/netlink_socket.h"
#include "ftpalg/packet.h"

namespace ftpalg {
namespace {

constexpr int kRequestTimeoutMs = 200;
constexpr uint32_t kRelatedCtTimeoutS = 30;     // until the SYN moves it on
constexpr uint64_t kCacheIdleMs = 900 * 1000;   // resolver entries unused this long go
constexpr uint64_t kCacheSweepMs = 10 * 1000;
constexpr uint64_t kErrorLogWindowMs = 10 * 1000;

uint64_t MonotonicUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 +
         static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

uint64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 +
         static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

struct EndpointHash {
  size_t operator()(const Endpoint& e) const noexcept {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint8_t b) { h = (h ^ b) * 1099511628211ull; };
    mix(static_cast<uint8_t>(e.addr.family));
    for (size_t i = 0; i < e.addr.size(); ++i) mix(e.addr.bytes[i]);
    mix(static_cast<uint8_t>(e.port >> 8));
    mix(static_cast<uint8_t>(e.port));
    return static_cast<size_t>(h);
  }
};

#define FTPALG_PLANE_COUNTERS(X)                                              \
  X(resolver_hits)                                                           \
  X(resolver_misses)                                                         \
  X(resolver_failures)      /* CT_GET found nothing / failed */              \
  X(resolver_evictions)                                                      \
  X(binding_fallbacks)      /* no conntrack: identity binding used */        \
  X(masters_expect)         /* control connections using (a) */              \
  X(masters_precreate)      /* control connections using (b) */              \
  X(masters_ftp_helper)     /* kernel ftp helper found attached */           \
  X(installs)                                                                \
  X(refreshes)              /* identical announcement re-installed */         \
  X(port_busy)                                                               \
  X(cap_refusals)                                                            \
  X(install_failures)                                                        \
  X(expect_created)         /* (a) EXP_NEW ok */                              \
  X(expect_fallbacks)       /* (a) EOPNOTSUPP -> (b) */                       \
  X(pending_added)          /* (b) ipset add ok */                            \
  X(removed)                                                                 \
  X(expired)                                                                 \
  X(syn_seen)                                                                \
  X(syn_malformed)                                                           \
  X(syn_unmatched)                                                           \
  X(syn_peer_mismatch)                                                       \
  X(related_created)                                                         \
  X(related_eexist_retries)                                                  \
  X(related_failed)                                                          \
  X(snapshot_saved)         /* offsets written to conntrack labels */        \
  X(snapshot_unchanged)     /* same offsets again: no write */               \
  X(snapshot_no_labels)     /* label write skipped: no label space (ENOSPC) */ \
  X(label_writes)           /* label updates the kernel accepted (all kinds) */ \
  X(pending_saved)          /* newest pending data connection written */     \
  X(pending_cleared)        /* ... cleared (used, withdrawn, expired) */      \
  X(resync_runs)                                                             \
  X(resync_scanned)         /* conntracks read by resync dumps */            \
  X(resync_sessions)        /* of which carried ftpalg labels */             \
  X(resync_pending)         /* pending data connections re-created */        \
  X(resync_errors)                                                           \
  X(restored_withdrawn)     /* re-created pending gone with its session */   \
  X(snapshot_save_failed)                                                    \
  X(snapshot_write_us)      /* total time spent in label writes */           \
  X(snapshot_loaded)        /* offsets read back for a picked-up session */  \
  X(snapshot_absent)        /* picked-up session without ftpalg labels */    \
  X(err_enobufs)                                                             \
  X(err_eexist)                                                              \
  X(err_enoent)                                                              \
  X(err_eperm)                                                               \
  X(err_eopnotsupp)                                                          \
  X(err_ebusy)                                                               \
  X(err_enospc)                                                              \
  X(err_etimedout)                                                           \
  X(err_other)

struct PlaneCounters {
#define FTPALG_PLANE_FIELD(name) uint64_t name = 0;
  FTPALG_PLANE_COUNTERS(FTPALG_PLANE_FIELD)
#undef FTPALG_PLANE_FIELD
};

enum class Op : uint8_t {
  kCtGet,
  kCtNew,
  kCtDelete,
  kCtSetLabels,
  kCtDump,
  kExpNew,
  kExpTimeout,
  kExpDelete,
  kIpsetAdd,
  kIpsetDel,
};

const char* OpName(Op op) {
  switch (op) {
    case Op::kCtGet: return "CT_GET";
    case Op::kCtNew: return "CT_NEW";
    case Op::kCtDelete: return "CT_DELETE";
    case Op::kCtSetLabels: return "CT_NEW(labels)";
    case Op::kCtDump: return "CT_GET(dump)";
    case Op::kExpNew: return "EXP_NEW";
    case Op::kExpTimeout: return "EXP_NEW(timeout)";
    case Op::kExpDelete: return "EXP_DELETE";
    case Op::kIpsetAdd: return "IPSET_ADD";
    case Op::kIpsetDel: return "IPSET_DEL";
  }
  return "?";
}

using Mechanism = PlaneOptions::Mechanism;

const char* MechanismName(Mechanism m) {
  switch (m) {
    case Mechanism::kAuto: return "auto";
    case Mechanism::kExpect: return "expect";
    case Mechanism::kPrecreate: return "precreate";
  }
  return "?";
}

// The cached view of one control conntrack.
struct CtEntry {
  CtTuple orig;
  CtTuple reply;
  std::optional<uint32_t> mark;
  std::array<char, 32> helper{};
  std::optional<CtLabelBits> labels;  // as last read or written
  uint64_t last_used_ms = 0;
  bool no_expect = false;      // EXP_NEW refused (EOPNOTSUPP): use (b)
  bool reported = false;       // mechanism logged
  bool no_labels = false;      // label write refused (ENOSPC): never retry
  std::string_view helper_name() const { return helper.data(); }
};

// One installed expectation.
struct Pending {
  Expectation e;                // as the engine asked
  Endpoint kernel_target;       // where the data SYN really arrives
  Mechanism mech = Mechanism::kPrecreate;
  uint64_t expires_ms = 0;
  IpAddress snat_to;            // (b): how the target side knows the peer
  std::optional<uint32_t> mark;  // (b): the master's mark, inherited
  bool labelled = false;        // its fields went into the master's labels
  bool restored = false;        // re-created by a resync: the engine does not
                                // know it, so Forget(master) withdraws it
};

enum class LabelWrite : uint8_t { kWritten, kUnchanged, kNoLabels, kFailed };

class Plane final : public ConntrackPlane,
                    private FlowResolver,
                    private ExpectationSink {
 public:
  Plane(const PlaneOptions& options, Logger& logger,
        std::unique_ptr<NetlinkChannel> channel, uint64_t now_ms)
      : options_(options),
        logger_(logger),
        nl_(std::move(channel)),
        now_ms_(now_ms),
        buf_(new uint8_t[kNlMsgBufSize]) {
    const size_t reserve =
        options_.resolver_cache_size < 4096 ? options_.resolver_cache_size : 4096;
    by_orig_.reserve(reserve);
    by_reply_.reserve(reserve);
  }

  FlowResolver& resolver() override { return *this; }
  ExpectationSink& sink() override { return *this; }

  // ---- FlowResolver ----

  std::optional<FlowKey> MasterForReply(const Endpoint& src,
                                        const Endpoint& dst) override {
    const FlowKey reply_key{src, dst};
    if (auto it = by_reply_.find(reply_key); it != by_reply_.end()) {
      if (auto e = by_orig_.find(it->second); e != by_orig_.end()) {
        ++c_.resolver_hits;
        e->second.last_used_ms = now_ms_;
        return it->second;
      }
      by_reply_.erase(it);
    }
    ++c_.resolver_misses;
    const CtEntry* entry =
        Fetch(CtTuple{src, dst, 6}, TupleAttr::kReply);
    if (entry == nullptr) return std::nullopt;
    return entry->orig.ToFlow();
  }

  NatBinding Binding(const FlowKey& master) override {
    const CtEntry* entry = Lookup(master);
    NatBinding b;
    if (entry == nullptr) {
      ++c_.binding_fallbacks;
      b.client_inside = b.client_outside = master.client.addr;
      b.server_inside = b.server_outside = master.server.addr;
      return b;
    }
    b.client_inside = entry->orig.src.addr;
    b.server_outside = entry->orig.dst.addr;
    b.server_inside = entry->reply.src.addr;
    b.client_outside = entry->reply.dst.addr;
    const std::optional<IpAddress>& pub = PublicFor(b.client_inside.family);
    if (pub) {
      // Override the outside address of whichever end this gateway NATs.
      if (b.client_outside != b.client_inside) b.client_outside = *pub;
      if (b.server_outside != b.server_inside) b.server_outside = *pub;
    }
    return b;
  }

  void Forget(const FlowKey& master) override {
    if (restored_count_ > 0) WithdrawRestored(master);
    auto it = by_orig_.find(master);
    if (it == by_orig_.end()) return;
    by_reply_.erase(it->second.reply.ToFlow());
    by_orig_.erase(it);
  }

  void SaveSnapshot(const FlowKey& master, const SessionSnapshot& snap) override {
    CtEntry* entry = Lookup(master);
    if (entry == nullptr) {
      ++c_.snapshot_save_failed;
      return;
    }
    if (!HasOurLabels(*entry) && snap.offset[0] == 0 && snap.offset[1] == 0) {
      // Nothing a later daemon needs (e.g. AUTH on a session that never
      // rewrote nor expected): picked up without labels it passes untouched.
      return;
    }
    switch (WriteLabels(entry, master, EncodeSnapshotLabels(snap))) {
      case LabelWrite::kWritten: ++c_.snapshot_saved; break;
      case LabelWrite::kUnchanged: ++c_.snapshot_unchanged; break;
      case LabelWrite::kFailed: ++c_.snapshot_save_failed; break;
      case LabelWrite::kNoLabels: break;
    }
  }

  std::optional<SessionSnapshot> LoadSnapshot(const FlowKey& master) override {
    const CtEntry* entry = Lookup(master);
    std::optional<SessionSnapshot> snap;
    if (entry != nullptr && entry->labels) snap = DecodeSnapshotLabels(*entry->labels);
    if (snap) {
      ++c_.snapshot_loaded;
    } else {
      ++c_.snapshot_absent;
    }
    return snap;
  }

  // ---- ExpectationSink ----

  InstallResult Install(const Expectation& e) override {
    auto it = by_target_.find(e.target);
    if (it != by_target_.end() && !(it->second.e.master == e.master)) {
      ++c_.port_busy;  // decided without a netlink round trip
      return InstallResult::kPortBusy;
    }
    CtEntry* entry = Lookup(e.master);
    const Endpoint kernel_target = KernelTarget(e, entry);
    if (it == by_target_.end()) {
      if (auto r = by_kernel_.find(kernel_target); r != by_kernel_.end()) {
        it = by_target_.find(r->second);
      }
    }
    if (it != by_target_.end()) {
      Pending& p = it->second;
      if (!(p.e.master == e.master)) {
        ++c_.port_busy;
        return InstallResult::kPortBusy;
      }
      // The same announcement again (retransmission or re-announcement).
      ++c_.refreshes;
      p.e = e;
      p.expires_ms = now_ms_ + uint64_t{e.timeout_s} * 1000;
      if (p.mech == Mechanism::kExpect) {
        // ENOENT: the kernel used (or dropped) it; this is a new one.
        if (SetExpectTimeout(p) == ENOENT && CreateExpect(p) == 0) {
          ++c_.expect_created;
          SetExpectTimeout(p);
        }
      } else {
        IpsetAdd(p);
      }
      if (p.restored) {  // the engine owns it now
        p.restored = false;
        --restored_count_;
      }
      SavePending(entry, p);
      return InstallResult::kOk;
    }
    if (by_target_.size() >= options_.max_expectations) {
      ++c_.cap_refusals;
      LogLimited(LogLevel::kWarn, "cap",
                 "#" + std::to_string(e.session_id) + " LIMIT max-expectations " +
                     std::to_string(options_.max_expectations) +
                     " reached: refusing " + e.target.ToString());
      return InstallResult::kFailed;
    }
    if (entry == nullptr) {
      ++c_.install_failures;
      LogLimited(LogLevel::kWarn, "nomaster",
                 "no conntrack for control connection " + e.master.ToString() +
                     ": data connection to " + e.target.ToString() +
                     " not installed");
      return InstallResult::kFailed;
    }

    Pending p;
    p.e = e;
    p.kernel_target = kernel_target;
    p.expires_ms = now_ms_ + uint64_t{e.timeout_s} * 1000;
    p.mech = Choose(*entry);
    p.mark = entry->mark;
    // nf_nat_follow_master: SNAT the initiator to how the other side knows
    // it (the master's tuple opposite to the expectation's NAT direction).
    p.snat_to = e.announcer == Direction::kOriginal ? entry->orig.dst.addr
                                                    : entry->reply.dst.addr;

    if (p.mech == Mechanism::kExpect) {
      const int err = CreateExpect(p);
      if (err == EEXIST || err == EBUSY) {
        ++c_.port_busy;
        return InstallResult::kPortBusy;
      }
      if (err == EOPNOTSUPP && options_.mechanism == Mechanism::kAuto) {
        // The helper is gone (or never was usable): fall back to (b).
        ++c_.expect_fallbacks;
        MarkNoExpect(e.master);
        p.mech = Mechanism::kPrecreate;
      } else if (err != 0) {
        ++c_.install_failures;
        return InstallResult::kFailed;
      } else {
        ++c_.expect_created;
        SetExpectTimeout(p);
      }
    }
    if (p.mech == Mechanism::kPrecreate) {
      if (IpsetAdd(p) != 0) {
        ++c_.install_failures;
        return InstallResult::kFailed;
      }
      ++c_.pending_added;
    }
    ReportMechanism(e.master, p.mech);
    ++c_.installs;
    if (logger_.Enabled(LogLevel::kInfo)) {
      logger_.Log(LogLevel::kInfo,
                  "#" + std::to_string(e.session_id) + " expectation installed (" +
                      (p.mech == Mechanism::kExpect
                           ? std::string("kernel expectation")
                           : "pending set " + SetFor(kernel_target.addr.family) +
                                 ": related conntrack on the data SYN") +
                      "): " + e.peer.ToString() + " -> " + kernel_target.ToString() +
                      " nat " + e.nat_to.ToString());
    }
    // Before the verdict of the packet that announced it (we are inside the
    // engine's Process): a backup or a restarted daemon can re-create it.
    SavePending(entry, p);
    by_kernel_[kernel_target] = e.target;
    by_target_.emplace(e.target, std::move(p));
    return InstallResult::kOk;
  }

  void Remove(const Expectation& e) override {
    auto it = by_target_.find(e.target);
    if (it == by_target_.end() || !(it->second.e.master == e.master)) return;
    ++c_.removed;
    KernelRemove(it->second);
    ClearPending(it->second);
    Erase(it);
  }

  // ---- ConntrackPlane ----

  void OnDataSyn(const uint8_t* packet, size_t len, uint64_t now_ms) override {
    now_ms_ = now_ms;
    ++c_.syn_seen;
    PacketView v;
    if (ParsePacket(packet, len, &v) != PacketError::kNone) {
      ++c_.syn_malformed;
      return;
    }
    if ((v.flags & (kTcpSyn | kTcpAck | kTcpRst)) != kTcpSyn) {
      ++c_.syn_malformed;
      return;
    }
    auto k = by_kernel_.find(v.dst);
    if (k == by_kernel_.end()) {
      ++c_.syn_unmatched;
      return;
    }
    auto it = by_target_.find(k->second);
    if (it == by_target_.end() || it->second.mech != Mechanism::kPrecreate) {
      ++c_.syn_unmatched;
      return;
    }
    Pending& p = it->second;
    if (p.e.peer != v.src.addr) {
      ++c_.syn_peer_mismatch;
      return;
    }
    CtCreateSpec spec;
    spec.orig = CtTuple{v.src, v.dst, 6};
    spec.master = CtTuple::FromFlow(p.e.master);
    spec.snat_to = p.snat_to;
    spec.dnat_to = p.e.nat_to;
    spec.timeout_s = kRelatedCtTimeoutS;
    spec.mark = p.mark;
    int err = Call(Op::kCtNew, BuildCtCreate(buf_.get(), nl_->NextSeq(), spec));
    if (err == EEXIST) {
      // A stale conntrack with this tuple (e.g. TIME_WAIT): replace it.
      ++c_.related_eexist_retries;
      Call(Op::kCtDelete,
           BuildCtDelete(buf_.get(), nl_->NextSeq(), spec.orig));
      err = Call(Op::kCtNew, BuildCtCreate(buf_.get(), nl_->NextSeq(), spec));
    }
    if (err != 0) {
      ++c_.related_failed;
      Fail(Op::kCtNew, err,
           "related conntrack " + spec.orig.ToString() + " master " +
               p.e.master.ToString());
      return;  // kept: a retransmitted SYN tries again
    }
    ++c_.related_created;
    if (logger_.Enabled(LogLevel::kInfo)) {
      logger_.Log(LogLevel::kInfo,
                  "#" + std::to_string(p.e.session_id) +
                      " related conntrack created: " + spec.orig.ToString() +
                      " DNAT " + spec.dnat_to->ToString() + " SNAT " +
                      spec.snat_to->ToString() + " master " +
                      p.e.master.ToString());
    }
    // One connection per expectation, as the kernel does. The data
    // connection is a conntrack now (conntrackd replicates it): nothing
    // pending any more.
    KernelRemove(p);
    ClearPending(p);
    Erase(it);
  }

  void Expire(uint64_t now_ms) override {
    now_ms_ = now_ms;
    for (auto it = by_target_.begin(); it != by_target_.end();) {
      if (it->second.expires_ms > now_ms) {
        ++it;
        continue;
      }
      ++c_.expired;
      KernelRemove(it->second);
      ClearPending(it->second);
      if (it->second.restored) --restored_count_;
      by_kernel_.erase(it->second.kernel_target);
      it = by_target_.erase(it);
    }
    if (now_ms >= last_sweep_ms_ + kCacheSweepMs) {
      last_sweep_ms_ = now_ms;
      for (auto it = by_orig_.begin(); it != by_orig_.end();) {
        if (it->second.last_used_ms + kCacheIdleMs <= now_ms) {
          by_reply_.erase(it->second.reply.ToFlow());
          it = by_orig_.erase(it);
        } else {
          ++it;
        }
      }
    }
    FlushSuppressed(false);
  }

  void RemoveAll() override {
    const size_t n = by_target_.size();
    for (auto& [target, p] : by_target_) KernelRemove(p);
    by_target_.clear();
    by_kernel_.clear();
    restored_count_ = 0;
    FlushSuppressed(true);
    if (n > 0 && logger_.Enabled(LogLevel::kInfo)) {
      logger_.Log(LogLevel::kInfo, "conntrack plane: removed " +
                                       std::to_string(n) +
                                       " pending expectations");
    }
  }

  void KeepLabelsOnRemove(bool keep) override { keep_labels_ = keep; }

  ResyncCounts ResyncFromConntrack(uint64_t now_ms) override {
    now_ms_ = now_ms;
    const uint64_t t0 = MonotonicUs();
    ResyncCounts r;
    // Streamed: each dump message is looked at once; only control
    // conntracks with a pending data connection are kept (a few bytes each,
    // at most max_expectations), and installed after the dump, since the
    // channel carries one exchange at a time.
    std::vector<Found> found;
    auto on_entry = [&](const nlmsghdr* m) { Scan(m, &r, &found); };
    const int err =
        nl_->Dump(BuildCtDumpAllFamilies(buf_.get(), nl_->NextSeq()), on_entry);
    if (err != 0) {
      ++r.errors;
      Fail(Op::kCtDump, err, "conntrack table");
    }
    for (const Found& x : found) RestorePending(x, &r);
    r.elapsed_ms = (MonotonicUs() - t0) / 1000;
    ++c_.resync_runs;
    c_.resync_scanned += r.scanned;
    c_.resync_sessions += r.sessions;
    c_.resync_pending += r.pending_restored;
    c_.resync_errors += r.errors;
    logger_.Log(r.errors > 0 ? LogLevel::kWarn : LogLevel::kInfo,
                "resync from conntrack: scanned " + std::to_string(r.scanned) +
                    " conntracks, " + std::to_string(r.sessions) +
                    " with ftpalg state, " + std::to_string(r.pending_restored) +
                    " pending data connections re-created (" +
                    std::to_string(r.pending_known) + " already pending), " +
                    std::to_string(r.errors) + " errors, " +
                    std::to_string(r.elapsed_ms) + " ms");
    return r;
  }

  std::string Describe() const override {
    std::string s = "mechanisms: ";
    switch (options_.mechanism) {
      case Mechanism::kAuto:
        s += "auto (kernel expectation with nat-follow-master when the control "
             "conntrack has an inert helper such as irc or sane; otherwise a "
             "related conntrack pre-created from the data SYN";
        break;
      case Mechanism::kExpect:
        s += "expect (kernel expectation only; needs an inert helper on every "
             "control conntrack";
        break;
      case Mechanism::kPrecreate:
        s += "precreate (related conntrack pre-created from the data SYN";
        break;
    }
    if (options_.mechanism != Mechanism::kExpect) {
      s += ", pending sets " + options_.pending_set_v4 + "/" +
           options_.pending_set_v6;
    }
    s += "); public-ip";
    s += options_.public_v4 ? " v4=" + options_.public_v4->ToString() : "";
    s += options_.public_v6 ? " v6=" + options_.public_v6->ToString() : "";
    if (!options_.public_v4 && !options_.public_v6) s += " from conntrack";
    s += "; max_expectations=" + std::to_string(options_.max_expectations) +
         " resolver_cache=" + std::to_string(options_.resolver_cache_size);
    return s;
  }

  std::string Counters() const override {
    std::string s;
#define FTPALG_PLANE_PRINT(name) \
  s += #name "=" + std::to_string(c_.name) + " ";
    FTPALG_PLANE_COUNTERS(FTPALG_PLANE_PRINT)
#undef FTPALG_PLANE_PRINT
    s += "pending=" + std::to_string(by_target_.size()) +
         " resolver_cached=" + std::to_string(by_orig_.size());
    return s;
  }

  std::vector<PlaneCounter> CounterList() const override {
    std::vector<PlaneCounter> list;
#define FTPALG_PLANE_LIST(name) list.push_back(PlaneCounter{#name, c_.name, false});
    FTPALG_PLANE_COUNTERS(FTPALG_PLANE_LIST)
#undef FTPALG_PLANE_LIST
    list.push_back(PlaneCounter{"pending", by_target_.size(), true});
    list.push_back(PlaneCounter{"resolver_cached", by_orig_.size(), true});
    return list;
  }

 private:
  const std::optional<IpAddress>& PublicFor(Family f) const {
    return f == Family::kV4 ? options_.public_v4 : options_.public_v6;
  }
  const std::string& SetFor(Family f) const {
    return f == Family::kV4 ? options_.pending_set_v4 : options_.pending_set_v6;
  }

  // The address the data SYN really arrives at: the engine's target, unless
  // that is the --public-ip override, which only exists beyond this gateway.
  Endpoint KernelTarget(const Expectation& e, const CtEntry* entry) const {
    Endpoint t = e.target;
    const std::optional<IpAddress>& pub = PublicFor(t.addr.family);
    if (entry != nullptr && pub && t.addr == *pub) {
      t.addr = e.announcer == Direction::kOriginal ? entry->reply.dst.addr
                                                   : entry->orig.dst.addr;
    }
    return t;
  }

  Mechanism Choose(const CtEntry& entry) const {
    if (options_.mechanism != Mechanism::kAuto) return options_.mechanism;
    const std::string_view helper = entry.helper_name();
    if (!entry.no_expect && !helper.empty() && helper != "ftp") {
      return Mechanism::kExpect;
    }
    return Mechanism::kPrecreate;
  }

  void MarkNoExpect(const FlowKey& master) {
    if (auto it = by_orig_.find(master); it != by_orig_.end()) {
      it->second.no_expect = true;
    }
  }

  void ReportMechanism(const FlowKey& master, Mechanism mech) {
    auto it = by_orig_.find(master);
    if (it == by_orig_.end() || it->second.reported) return;
    it->second.reported = true;
    const std::string_view helper = it->second.helper_name();
    if (mech == Mechanism::kExpect) {
      ++c_.masters_expect;
    } else {
      ++c_.masters_precreate;
    }
    if (helper == "ftp") {
      ++c_.masters_ftp_helper;
      logger_.Log(LogLevel::kWarn,
                  "control connection " + master.ToString() +
                      " has the kernel ftp helper attached: it will rewrite "
                      "and expect too; remove it from the rules");
    }
    if (logger_.Enabled(LogLevel::kInfo)) {
      std::string msg = "control connection " + master.ToString() +
                        ": data connections via ";
      msg += mech == Mechanism::kExpect
                 ? "kernel expectation (helper " + std::string(helper) + ")"
                 : "pre-created related conntrack" +
                       (helper.empty() ? std::string(" (no helper)")
                                       : " (helper " + std::string(helper) + ")");
      logger_.Log(LogLevel::kInfo, msg);
    }
  }

  // ---- state in conntrack labels (ctnetlink_labels.h) ----

  static bool HasOurLabels(const CtEntry& entry) {
    return entry.labels && DecodeLabels(*entry.labels).has_value();
  }

  // One masked label update of the master's conntrack. Labels that carry no
  // ftpalg state yet get the whole layout (zero offsets, no pending) with
  // it, so whatever bits 32..127 held before cannot be misread.
  LabelWrite WriteLabels(CtEntry* entry, const FlowKey& master, CtLabelWrite w) {
    if (entry->no_labels) {
      ++c_.snapshot_no_labels;
      return LabelWrite::kNoLabels;
    }
    if (!HasOurLabels(*entry)) {
      w = MergeLabelWrites(MergeLabelWrites(EncodeSnapshotLabels({}),
                                            EncodePendingLabels(std::nullopt)),
                           w);
    }
    const CtLabelBits next = ApplyLabelWrite(entry->labels.value_or(CtLabelBits{}), w);
    if (entry->labels && *entry->labels == next) return LabelWrite::kUnchanged;
    // One round trip: the kernel handles the update inside sendmsg, so the
    // ACK is already queued when the send returns (see README, "State kept
    // in conntrack", for the measured cost).
    const uint64_t t0 = MonotonicUs();
    const int err = Call(Op::kCtSetLabels,
                         BuildCtSetLabels(buf_.get(), nl_->NextSeq(),
                                          CtTuple::FromFlow(master), w));
    c_.snapshot_write_us += MonotonicUs() - t0;
    if (err == 0) {
      ++c_.label_writes;
      entry->labels = next;
      return LabelWrite::kWritten;
    }
    if (err == ENOSPC) {
      ++c_.snapshot_no_labels;
      Count(err);
      entry->no_labels = true;
      LogLimited(LogLevel::kWarn, "nolabels",
                 "control connection " + master.ToString() +
                     " has no conntrack labels (no label rule was loaded when "
                     "it started: scripts/ftpalg-rules install adds one): its "
                     "offsets and pending data connections will not survive "
                     "a daemon restart or a failover");
      return LabelWrite::kNoLabels;
    }
    if (err == ENOENT) {
      Count(err);  // the conntrack is gone (closed, flushed)
    } else {
      Fail(Op::kCtSetLabels, err, master.ToString());
    }
    return LabelWrite::kFailed;
  }

  void SavePending(CtEntry* entry, Pending& p) {
    if (entry == nullptr) return;
    p.labelled = true;
    if (WriteLabels(entry, p.e.master, EncodePendingLabels(PendingFromExpectation(p.e))) ==
        LabelWrite::kWritten) {
      ++c_.pending_saved;
    }
  }

  // p is gone: clear the labels' pending fields if they still describe p
  // (a newer announcement of the session may have replaced them). Not at
  // shutdown: the next daemon re-creates p from them.
  void ClearPending(const Pending& p) {
    if (!p.labelled || keep_labels_) return;
    CtEntry* entry = Lookup(p.e.master);
    if (entry == nullptr || !entry->labels) return;
    const std::optional<LabelState> st = DecodeLabels(*entry->labels);
    if (!st || !st->pending || !(*st->pending == PendingFromExpectation(p.e))) return;
    if (WriteLabels(entry, p.e.master, EncodePendingLabels(std::nullopt)) ==
        LabelWrite::kWritten) {
      ++c_.pending_cleared;
    }
  }

  // The session of master ended: pending data connections a resync
  // re-created for it (the engine never knew them) go too.
  void WithdrawRestored(const FlowKey& master) {
    for (auto it = by_target_.begin(); it != by_target_.end();) {
      if (!it->second.restored || !(it->second.e.master == master)) {
        ++it;
        continue;
      }
      ++c_.restored_withdrawn;
      KernelRemove(it->second);
      ClearPending(it->second);
      auto next = std::next(it);
      Erase(it);
      it = next;
    }
  }

  // A control conntrack with a pending data connection, found by a resync.
  struct Found {
    CtTuple orig;
    CtTuple reply;
    std::optional<uint32_t> mark;
    std::array<char, 32> helper{};
    PendingLabel pending;
  };

  void Scan(const nlmsghdr* m, ResyncCounts* r, std::vector<Found>* found) {
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
    if (auto it = by_orig_.find(info.orig->ToFlow()); it != by_orig_.end()) {
      it->second.labels = info.labels;
    }
    if (!st->pending) return;
    if (found->size() >= options_.max_expectations) {
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

  void RestorePending(const Found& x, ResyncCounts* r) {
    const Expectation e =
        ExpectationFromPending(x.pending, x.orig, x.reply,
                               PublicFor(x.orig.family()),
                               options_.expectation_timeout_s);
    CtEntry master;
    master.orig = x.orig;
    master.reply = x.reply;
    master.mark = x.mark;
    master.helper = x.helper;
    Pending p;
    p.e = e;
    p.kernel_target = KernelTarget(e, &master);
    const auto known = by_target_.find(e.target);
    const auto known_kernel = by_kernel_.find(p.kernel_target);
    if (known != by_target_.end() || known_kernel != by_kernel_.end()) {
      const Pending& q = known != by_target_.end()
                             ? known->second
                             : by_target_.at(known_kernel->second);
      if (q.e.master == e.master) {
        ++r->pending_known;
      } else {
        ++r->errors;
        LogLimited(LogLevel::kWarn, "resync-busy",
                   "resync: " + e.target.ToString() + " of " +
                       e.master.ToString() + " is pending for " +
                       q.e.master.ToString() + ": not re-created");
      }
      return;
    }
    if (by_target_.size() >= options_.max_expectations) {
      ++r->errors;
      ++c_.cap_refusals;
      return;
    }
    p.expires_ms = now_ms_ + uint64_t{e.timeout_s} * 1000;
    p.mech = Choose(master);
    p.mark = x.mark;
    p.snat_to = e.announcer == Direction::kOriginal ? x.orig.dst.addr
                                                    : x.reply.dst.addr;
    p.labelled = true;
    p.restored = true;
    if (p.mech == Mechanism::kExpect) {
      int err = CreateExpect(p);
      if (err == EOPNOTSUPP && options_.mechanism == Mechanism::kAuto) {
        p.mech = Mechanism::kPrecreate;
      } else if (err == 0 || err == EEXIST) {
        // EEXIST: the kernel has it already (conntrackd's expectation sync,
        // or left from before a restart).
        if (err == 0) ++c_.expect_created;
        SetExpectTimeout(p);
      } else {
        ++r->errors;
        return;
      }
    }
    if (p.mech == Mechanism::kPrecreate) {
      if (IpsetAdd(p) != 0) {
        ++r->errors;
        return;
      }
      ++c_.pending_added;
    }
    ++r->pending_restored;
    ++restored_count_;
    if (logger_.Enabled(LogLevel::kInfo)) {
      logger_.Log(LogLevel::kInfo,
                  "resync: pending data connection " + e.peer.ToString() +
                      " -> " + p.kernel_target.ToString() + " nat " +
                      e.nat_to.ToString() + " re-created for " +
                      e.master.ToString() + " (" + std::string(KindName(e.kind)) +
                      ", " + (p.mech == Mechanism::kExpect ? "kernel expectation"
                                                           : "pending set") +
                      ")");
    }
    by_kernel_[p.kernel_target] = e.target;
    by_target_.emplace(e.target, std::move(p));
  }

  // Cached conntrack by ORIGINAL tuple, fetched on a miss.
  CtEntry* Lookup(const FlowKey& master) {
    if (auto it = by_orig_.find(master); it != by_orig_.end()) {
      it->second.last_used_ms = now_ms_;
      return &it->second;
    }
    return Fetch(CtTuple::FromFlow(master), TupleAttr::kOrig);
  }

  CtEntry* Fetch(const CtTuple& t, TupleAttr which) {
    CtInfo info;
    bool got = false;
    auto on_reply = [&](const nlmsghdr* m) {
      CtInfo tmp;
      if (!got && ParseCtMessage(m, &tmp)) {
        info = tmp;
        got = true;
      }
    };
    const int err = Call(Op::kCtGet, BuildCtGet(buf_.get(), nl_->NextSeq(), t, which), on_reply);
    if (err != 0 || !got || info.orig->proto != 6) {
      ++c_.resolver_failures;
      if (err == 0) {
        LogLimited(LogLevel::kWarn, "ctget", "CT_GET " + t.ToString() +
                                                 ": no usable answer");
      } else if (err != ENOENT) {
        Fail(Op::kCtGet, err, t.ToString());
      } else {
        Count(err);
      }
      return nullptr;
    }
    if (by_orig_.size() >= options_.resolver_cache_size && !by_orig_.empty()) {
      auto victim = by_orig_.begin();
      by_reply_.erase(victim->second.reply.ToFlow());
      by_orig_.erase(victim);
      ++c_.resolver_evictions;
    }
    if (options_.resolver_cache_size == 0) {
      scratch_ = CtEntry{};
      Fill(&scratch_, info);
      return &scratch_;
    }
    const FlowKey orig = info.orig->ToFlow();
    CtEntry& entry = by_orig_[orig];
    Fill(&entry, info);
    by_reply_[info.reply->ToFlow()] = orig;
    return &entry;
  }

  void Fill(CtEntry* entry, const CtInfo& info) const {
    entry->orig = *info.orig;
    entry->reply = *info.reply;
    entry->mark = info.mark;
    if (entry->mark && *entry->mark == 0) entry->mark.reset();
    entry->helper = info.helper;
    entry->labels = info.labels;
    entry->last_used_ms = now_ms_;
  }

  ExpectSpec SpecFor(const Pending& p) const {
    ExpectSpec s;
    s.master = CtTuple::FromFlow(p.e.master);
    s.tuple = CtTuple{Endpoint{p.e.peer, 0}, p.kernel_target, 6};
    s.wildcard_src_port = true;
    // PORT/EPRT (client announces): REPLY; 227/228/229: ORIGINAL.
    s.nat_dir = Opposite(p.e.announcer);
    s.nat_to = p.e.nat_to;
    s.timeout_s = p.e.timeout_s;
    return s;
  }

  int CreateExpect(const Pending& p) {
    const int err = Call(Op::kExpNew,
                         BuildExpCreate(buf_.get(), nl_->NextSeq(), SpecFor(p)));
    if (err != 0 && err != EEXIST && err != EBUSY) {
      Fail(Op::kExpNew, err, p.e.target.ToString() + " master " +
                                 p.e.master.ToString());
    } else if (err != 0) {
      Count(err);
    }
    return err;
  }

  int SetExpectTimeout(const Pending& p) {
    const int err = Call(Op::kExpTimeout, BuildExpSetTimeout(
                                              buf_.get(), nl_->NextSeq(), SpecFor(p)));
    if (err == ENOENT) {
      Count(err);
    } else if (err != 0) {
      Fail(Op::kExpTimeout, err, p.e.target.ToString());
    }
    return err;
  }

  int IpsetAdd(const Pending& p) {
    const std::string& set = SetFor(p.kernel_target.addr.family);
    const int err = Call(Op::kIpsetAdd,
                         BuildIpsetElement(buf_.get(), nl_->NextSeq(), IpsetOp::kAdd,
                                           set, p.kernel_target, p.e.timeout_s));
    if (err != 0) {
      Fail(Op::kIpsetAdd, err, set + " " + p.kernel_target.ToString());
    }
    return err;
  }

  void KernelRemove(const Pending& p) {
    if (p.mech == Mechanism::kExpect) {
      const CtTuple tuple{Endpoint{p.e.peer, 0}, p.kernel_target, 6};
      const int err = Call(Op::kExpDelete,
                           BuildExpDelete(buf_.get(), nl_->NextSeq(), tuple));
      // ENOENT: already used or expired in the kernel.
      if (err != 0 && err != ENOENT) Fail(Op::kExpDelete, err, tuple.ToString());
      return;
    }
    const std::string& set = SetFor(p.kernel_target.addr.family);
    const int err = Call(Op::kIpsetDel,
                         BuildIpsetElement(buf_.get(), nl_->NextSeq(), IpsetOp::kDel,
                                           set, p.kernel_target, std::nullopt));
    // IPSET_ERR_EXIST on delete: the element timed out already.
    if (err != 0 && err != IPSET_ERR_EXIST) {
      Fail(Op::kIpsetDel, err, set + " " + p.kernel_target.ToString());
    }
  }

  void Erase(std::unordered_map<Endpoint, Pending, EndpointHash>::iterator it) {
    if (it->second.restored) --restored_count_;
    by_kernel_.erase(it->second.kernel_target);
    by_target_.erase(it);
  }

  int Call(Op op, nlmsghdr* request, const NetlinkChannel::ReplyFn& on_reply = {}) {
    (void)op;
    return nl_->Request(request, on_reply);
  }

  // ---- error accounting: every error counted, logged once per burst ----

  void Count(int err) {
    switch (err) {
      case ENOBUFS: ++c_.err_enobufs; break;
      case EEXIST: ++c_.err_eexist; break;
      case ENOENT: ++c_.err_enoent; break;
      case EPERM: ++c_.err_eperm; break;
      case EOPNOTSUPP: ++c_.err_eopnotsupp; break;
      case EBUSY: ++c_.err_ebusy; break;
      case ENOSPC: ++c_.err_enospc; break;
      case ETIMEDOUT: ++c_.err_etimedout; break;
      default: ++c_.err_other; break;
    }
  }

  void Fail(Op op, int err, const std::string& what) {
    Count(err);
    std::string key = OpName(op);
    key += ' ';
    key += ErrnoName(err);
    LogLimited(LogLevel::kWarn, key, key + " (" + std::to_string(err) + "): " + what);
  }

  struct Burst {
    uint64_t window_start_ms = 0;
    uint64_t suppressed = 0;
    LogLevel level = LogLevel::kWarn;
  };

  void LogLimited(LogLevel level, const std::string& key,
                  const std::string& message) {
    auto [it, fresh] = bursts_.try_emplace(key);
    Burst& b = it->second;
    if (!fresh && now_ms_ < b.window_start_ms + kErrorLogWindowMs) {
      ++b.suppressed;
      return;
    }
    if (b.suppressed > 0) FlushOne(key, b);
    b.window_start_ms = now_ms_;
    b.level = level;
    if (logger_.Enabled(level)) logger_.Log(level, "conntrack plane: " + message);
  }

  void FlushOne(const std::string& key, Burst& b) {
    if (logger_.Enabled(b.level)) {
      logger_.Log(b.level, "conntrack plane: " + key + ": " +
                               std::to_string(b.suppressed) +
                               " more suppressed");
    }
    b.suppressed = 0;
  }

  void FlushSuppressed(bool all) {
    for (auto it = bursts_.begin(); it != bursts_.end();) {
      Burst& b = it->second;
      const bool window_over = now_ms_ >= b.window_start_ms + kErrorLogWindowMs;
      if (b.suppressed > 0 && (all || window_over)) FlushOne(it->first, b);
      if (window_over && b.suppressed == 0) {
        it = bursts_.erase(it);
      } else {
        ++it;
      }
    }
  }

  PlaneOptions options_;
  Logger& logger_;
  std::unique_ptr<NetlinkChannel> nl_;
  uint64_t now_ms_;
  uint64_t last_sweep_ms_ = 0;
  std::unique_ptr<uint8_t[]> buf_;
  PlaneCounters c_;
  CtEntry scratch_;
  std::unordered_map<FlowKey, CtEntry, FlowKeyHash> by_orig_;
  std::unordered_map<FlowKey, FlowKey, FlowKeyHash> by_reply_;
  std::unordered_map<Endpoint, Pending, EndpointHash> by_target_;
  std::unordered_map<Endpoint, Endpoint, EndpointHash> by_kernel_;
  std::map<std::string, Burst> bursts_;
  size_t restored_count_ = 0;   // pending records with restored set
  bool keep_labels_ = false;
};

const std::string& PendingSetName(const PlaneOptions& options, Family f) {
  return f == Family::kV4 ? options.pending_set_v4 : options.pending_set_v6;
}

// Reads a pending set's header; nullopt (and *err) when it cannot be read.
std::optional<IpsetHeader> ReadSetHeader(NetlinkSocket& sock, uint8_t* buf,
                                         const std::string& name, Family f,
                                         int* err) {
  std::optional<IpsetHeader> header;
  auto on_reply = [&](const nlmsghdr* m) { header = ParseIpsetHeader(m); };
  *err = sock.Request(BuildIpsetHeader(buf, sock.NextSeq(), name, f), on_reply);
  if (*err != 0) return std::nullopt;
  return header;
}

}  // namespace

std::string ResyncCounts::ToString() const {
  return "scanned=" + std::to_string(scanned) +
         " sessions=" + std::to_string(sessions) +
         " pending_restored=" + std::to_string(pending_restored) +
         " pending_known=" + std::to_string(pending_known) +
         " errors=" + std::to_string(errors) + " ms=" + std::to_string(elapsed_ms);
}

std::unique_ptr<ConntrackPlane> MakeConntrackPlane(
    const PlaneOptions& options, Logger& logger,
    std::unique_ptr<NetlinkChannel> channel, uint64_t now_ms) {
  return std::make_unique<Plane>(options, logger, std::move(channel), now_ms);
}

std::unique_ptr<ConntrackPlane> ConntrackPlane::Open(const PlaneOptions& options,
                                                     Logger& logger,
                                                     std::string* error) {
  std::unique_ptr<NetlinkSocket> sock =
      NetlinkSocket::Open(kRequestTimeoutMs, error);
  if (!sock) return nullptr;
  if (options.mechanism != Mechanism::kExpect) {
    // Missing sets are not fatal (kernel expectations may still work, and
    // the rules may come later) but the operator should know now.
    auto buf = std::make_unique<uint8_t[]>(kNlMsgBufSize);
    for (Family f : {Family::kV4, Family::kV6}) {
      const std::string& name = PendingSetName(options, f);
      int err = 0;
      const std::optional<IpsetHeader> header =
          ReadSetHeader(*sock, buf.get(), name, f, &err);
      if (!header) {
        logger.Log(LogLevel::kWarn,
                   "conntrack plane: pending set " + name + " unavailable (" +
                       ErrnoName(err) +
                       "): data connections of that family without a "
                       "helper cannot be made RELATED");
      } else if (header->type_name != "hash:ip,port") {
        logger.Log(LogLevel::kWarn, "conntrack plane: pending set " + name +
                                        " has type " + header->type_name +
                                        ", expected hash:ip,port");
      }
    }
  }
  return MakeConntrackPlane(options, logger, std::move(sock), MonotonicMs());
}

bool ProbeLabels(std::string* report) {
  std::string error;
  std::unique_ptr<NetlinkSocket> sock =
      NetlinkSocket::Open(kRequestTimeoutMs * 5, &error);
  if (!sock) {
    *report = "labels: cannot tell (" + error + ")";
    return false;
  }
  auto buf = std::make_unique<uint8_t[]>(kNlMsgBufSize);
  CtCreateSpec ct;
  ct.orig = CtTuple{Endpoint{IpAddress::V4(192, 0, 2, 3),
                             static_cast<uint16_t>(40000 + MonotonicMs() % 20000)},
                    Endpoint{IpAddress::V4(192, 0, 2, 4), 21}, 6};
  ct.timeout_s = 10;
  int err = sock->Request(BuildCtCreate(buf.get(), sock->NextSeq(), ct), {});
  if (err == EEXIST) {
    sock->Request(BuildCtDelete(buf.get(), sock->NextSeq(), ct.orig), {});
    err = sock->Request(BuildCtCreate(buf.get(), sock->NextSeq(), ct), {});
  }
  if (err != 0) {
    *report = std::string("labels: cannot tell (probe conntrack: ") +
              ErrnoName(err) + ")";
    return false;
  }
  // What ftpalgd writes: offsets, then a pending data connection.
  SessionSnapshot snap;
  snap.offset[0] = 3;
  snap.offset[1] = -2;
  PendingLabel pending;
  pending.announcer = Direction::kReply;
  pending.translated = true;
  pending.kind = AnnounceKind::k227;
  pending.nat_port = 50001;
  pending.target_port = 50002;
  err = sock->Request(BuildCtSetLabels(buf.get(), sock->NextSeq(), ct.orig,
                                       EncodeSnapshotLabels(snap)),
                      {});
  if (err == 0) {
    err = sock->Request(BuildCtSetLabels(buf.get(), sock->NextSeq(), ct.orig,
                                         EncodePendingLabels(pending)),
                        {});
  }
  std::optional<LabelState> back;
  if (err == 0) {
    auto on_reply = [&](const nlmsghdr* m) {
      CtInfo info;
      if (ParseCtMessage(m, &info) && info.labels) back = DecodeLabels(*info.labels);
    };
    sock->Request(BuildCtGet(buf.get(), sock->NextSeq(), ct.orig, TupleAttr::kOrig),
                  on_reply);
  }
  sock->Request(BuildCtDelete(buf.get(), sock->NextSeq(), ct.orig), {});
  if (err == ENOSPC) {
    *report =
        "labels: NOT available on new connections (conntracks get no label "
        "space: no rule references labels; scripts/ftpalg-rules install adds "
        "one): sessions with rewrites break, and pending data connections are "
        "lost, when ftpalgd restarts or the gateway fails over";
    return false;
  }
  if (err != 0 || !back || back->snapshot.offset[0] != 3 ||
      back->snapshot.offset[1] != -2 || back->pending != pending) {
    *report = std::string("labels: NOT usable (write ") + ErrnoName(err) +
              (err == 0 ? ", read back differs" : "") +
              "): sessions with rewrites break, and pending data connections "
              "are lost, when ftpalgd restarts or the gateway fails over";
    return false;
  }
  *report =
      "labels: available on new connections (session offsets and the newest "
      "pending data connection kept in conntrack label bits 0..127, layout "
      "v2: sessions and pending data connections survive a daemon restart, "
      "and a failover when conntrackd replicates the labels)";
  return true;
}

bool ProbeConntrack(const PlaneOptions& options, std::string* report) {
  auto line = [report](const std::string& s) { *report += s + "\n"; };
  std::string error;
  std::unique_ptr<NetlinkSocket> sock =
      NetlinkSocket::Open(kRequestTimeoutMs * 5, &error);
  if (!sock) {
    line("ctnetlink: FAIL " + error);
    return false;
  }
  auto buf = std::make_unique<uint8_t[]>(kNlMsgBufSize);

  // 1. ctnetlink: a conntrack dump works.
  size_t entries = 0;
  auto count = [&entries](const nlmsghdr*) { ++entries; };
  const int dump_err =
      sock->Dump(BuildCtDump(buf.get(), sock->NextSeq(), Family::kV4), count);
  const bool ct_ok = dump_err == 0;
  line(ct_ok ? "ctnetlink: OK (conntrack dump: " + std::to_string(entries) +
                   " IPv4 entries)"
             : std::string("ctnetlink: FAIL conntrack dump: ") +
                   ErrnoName(dump_err) + " (" + strerror(dump_err) + ")");

  // 2. Expectations: attach an inert helper to a throwaway conntrack on
  // TEST-NET addresses and try EXP_NEW (nat-follow-master) on it.
  std::string usable_helper;
  if (ct_ok) {
    for (Family f : {Family::kV4, Family::kV6}) {
      const uint16_t port =
          static_cast<uint16_t>(40000 + (MonotonicMs() % 20000));
      const IpAddress a = f == Family::kV4 ? IpAddress::V4(192, 0, 2, 1)
                                           : *IpAddress::Parse("2001:db8::1");
      const IpAddress b = f == Family::kV4 ? IpAddress::V4(192, 0, 2, 2)
                                           : *IpAddress::Parse("2001:db8::2");
      std::string tried, found;
      for (const char* helper : {"irc", "sane"}) {
        CtCreateSpec master;
        master.orig = CtTuple{Endpoint{a, port}, Endpoint{b, 21}, 6};
        master.timeout_s = 10;
        master.helper = helper;
        int err = sock->Request(
            BuildCtCreate(buf.get(), sock->NextSeq(), master), {});
        if (err == EEXIST) {
          sock->Request(BuildCtDelete(buf.get(), sock->NextSeq(), master.orig),
                        {});
          err = sock->Request(
              BuildCtCreate(buf.get(), sock->NextSeq(), master), {});
        }
        if (err != 0) {
          tried += std::string(tried.empty() ? "" : ", ") + helper + ": " +
                   ErrnoName(err);
          continue;
        }
        ExpectSpec exp;
        exp.master = master.orig;
        const Endpoint target{a, static_cast<uint16_t>(port + 1)};
        exp.tuple = CtTuple{Endpoint{b, 0}, target, 6};
        exp.nat_dir = Direction::kReply;
        exp.nat_to = target;
        exp.timeout_s = 5;
        const int exp_err =
            sock->Request(BuildExpCreate(buf.get(), sock->NextSeq(), exp), {});
        // Deleting the master removes its expectation too.
        sock->Request(BuildCtDelete(buf.get(), sock->NextSeq(), master.orig),
                      {});
        if (exp_err == 0) {
          found = helper;
          break;
        }
        tried += std::string(tried.empty() ? "" : ", ") + helper +
                 " EXP_NEW: " + ErrnoName(exp_err);
      }
      const std::string fam = f == Family::kV4 ? "IPv4" : "IPv6";
      if (!found.empty()) {
        if (usable_helper.empty()) usable_helper = found;
        line("expectations (" + fam + "): possible when an inert helper is "
             "attached to the control conntrack (EXP_NEW with "
             "nat-follow-master worked with helper " + found + ")");
      } else {
        line("expectations (" + fam + "): not possible here (" + tried +
             "); pre-created related conntracks are used");
      }
    }
  }

  // 3. Pending sets: exist, right type, writable with a timeout.
  bool set_ok[2] = {false, false};
  for (Family f : {Family::kV4, Family::kV6}) {
    const std::string& name = PendingSetName(options, f);
    int err = 0;
    const std::optional<IpsetHeader> header =
        ReadSetHeader(*sock, buf.get(), name, f, &err);
    if (!header) {
      line("ipset " + name + ": missing (" + ErrnoName(err) +
           "; scripts/ftpalg-rules install creates it)");
      continue;
    }
    if (header->type_name != "hash:ip,port") {
      line("ipset " + name + ": FAIL type " + header->type_name +
           ", expected hash:ip,port");
      continue;
    }
    Endpoint probe;
    probe.addr = f == Family::kV4 ? IpAddress::V4(192, 0, 2, 255)
                                  : *IpAddress::Parse("2001:db8::ff");
    probe.port = 9;
    const int add_err = sock->Request(
        BuildIpsetElement(buf.get(), sock->NextSeq(), IpsetOp::kAdd, name,
                          probe, 2u),
        {});
    sock->Request(BuildIpsetElement(buf.get(), sock->NextSeq(), IpsetOp::kDel,
                                    name, probe, std::nullopt),
                  {});
    if (add_err != 0) {
      line("ipset " + name + ": FAIL add with timeout: " + ErrnoName(add_err) +
           (add_err == IPSET_ERR_TIMEOUT ? " (create it with 'timeout 0')" : ""));
      continue;
    }
    set_ok[f == Family::kV4 ? 0 : 1] = true;
    line("ipset " + name + ": OK (hash:ip,port, timeout support)");
  }

  bool ready = ct_ok;
  switch (options.mechanism) {
    case Mechanism::kExpect:
      ready = ready && !usable_helper.empty();
      line(std::string("mechanism expect: ") +
           (usable_helper.empty() ? "NOT usable" : "usable"));
      break;
    case Mechanism::kPrecreate:
    case Mechanism::kAuto:
      ready = ready && (set_ok[0] || set_ok[1]);
      line(std::string("mechanism ") + MechanismName(options.mechanism) +
           ": pre-created related conntracks " +
           (set_ok[0] || set_ok[1] ? "usable" : "NOT usable (no pending set)") +
           (options.mechanism == Mechanism::kAuto
                ? std::string("; kernel expectations ") +
                      (usable_helper.empty() ? "unavailable"
                                             : "used for control conntracks "
                                               "with an inert helper")
                : std::string()));
      break;
  }
  return ready;
}

}  // namespace ftpalg
