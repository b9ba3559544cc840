// The flow resolver's cache of control conntracks: which control connection
// a server->client packet belongs to (MasterForReply), its NAT view
// (Binding), and the per-conntrack facts the other units keep (helper,
// mark, labels, what the kernel refused). One CT_GET on a miss, none per
// packet after it; bounded by resolver_cache_size, idle entries swept.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "adapters/ctnetlink_messages.h"
#include "conntrack/kernel_calls.h"
#include "conntrack/plane_context.h"
#include "ftpalg/engine.h"
#include "ftpalg/inet.h"

namespace ftpalg {

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

class FlowCache {
 public:
  static constexpr uint64_t kIdleMs = 900 * 1000;  // unused this long: gone
  static constexpr uint64_t kSweepMs = 10 * 1000;

  FlowCache(PlaneContext& ctx, KernelCalls& kernel);

  std::optional<FlowKey> MasterForReply(const Endpoint& src, const Endpoint& dst);
  // The NAT view from the conntrack's tuples, --public-ip applied; the
  // identity binding when there is no conntrack.
  NatBinding Binding(const FlowKey& master);
  // By ORIGINAL tuple, fetched on a miss; nullptr when the kernel has none.
  CtEntry* Lookup(const FlowKey& master);
  // Cached only: no kernel request, the entry's use time is not renewed.
  CtEntry* Find(const FlowKey& master);
  void Forget(const FlowKey& master);
  // At most every kSweepMs: drops the entries idle for kIdleMs.
  void Sweep(uint64_t now_ms);
  size_t size() const { return by_orig_.size(); }

 private:
  CtEntry* Fetch(const CtTuple& t, TupleAttr which);
  void Fill(CtEntry* entry, const CtInfo& info) const;

  PlaneContext& ctx_;
  KernelCalls& kernel_;
  uint64_t last_sweep_ms_ = 0;
  CtEntry scratch_;  // the answer when resolver_cache_size is 0
  std::unordered_map<FlowKey, CtEntry, FlowKeyHash> by_orig_;
  std::unordered_map<FlowKey, FlowKey, FlowKeyHash> by_reply_;
};

}  // namespace ftpalg
