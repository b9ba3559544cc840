// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/flow_cache.h"

#include <errno.h>

namespace ftpalg {

FlowCache::FlowCache(PlaneContext& ctx, KernelCalls& kernel)
    : ctx_(ctx), kernel_(kernel) {
  const uint32_t size = ctx_.options.resolver_cache_size;
  const size_t reserve = size < 4096 ? size : 4096;
  by_orig_.reserve(reserve);
  by_reply_.reserve(reserve);
}

std::optional<FlowKey> FlowCache::MasterForReply(const Endpoint& src,
                                                 const Endpoint& dst) {
  const FlowKey reply_key{src, dst};
  if (auto it = by_reply_.find(reply_key); it != by_reply_.end()) {
    if (auto e = by_orig_.find(it->second); e != by_orig_.end()) {
      ++ctx_.counters.resolver_hits;
      e->second.last_used_ms = ctx_.now_ms;
      return it->second;
    }
    by_reply_.erase(it);
  }
  ++ctx_.counters.resolver_misses;
  const CtEntry* entry = Fetch(CtTuple{src, dst, 6}, TupleAttr::kReply);
  if (entry == nullptr) return std::nullopt;
  return entry->orig.ToFlow();
}

NatBinding FlowCache::Binding(const FlowKey& master) {
  const CtEntry* entry = Lookup(master);
  NatBinding b;
  if (entry == nullptr) {
    ++ctx_.counters.binding_fallbacks;
    b.client_inside = b.client_outside = master.client.addr;
    b.server_inside = b.server_outside = master.server.addr;
    return b;
  }
  b.client_inside = entry->orig.src.addr;
  b.server_outside = entry->orig.dst.addr;
  b.server_inside = entry->reply.src.addr;
  b.client_outside = entry->reply.dst.addr;
  const std::optional<IpAddress>& pub =
      ctx_.options.PublicFor(b.client_inside.family);
  if (pub) {
    // Override the outside address of whichever end this gateway NATs.
    if (b.client_outside != b.client_inside) b.client_outside = *pub;
    if (b.server_outside != b.server_inside) b.server_outside = *pub;
  }
  return b;
}

CtEntry* FlowCache::Lookup(const FlowKey& master) {
  if (auto it = by_orig_.find(master); it != by_orig_.end()) {
    it->second.last_used_ms = ctx_.now_ms;
    return &it->second;
  }
  return Fetch(CtTuple::FromFlow(master), TupleAttr::kOrig);
}

CtEntry* FlowCache::Find(const FlowKey& master) {
  auto it = by_orig_.find(master);
  return it == by_orig_.end() ? nullptr : &it->second;
}

void FlowCache::Forget(const FlowKey& master) {
  auto it = by_orig_.find(master);
  if (it == by_orig_.end()) return;
  by_reply_.erase(it->second.reply.ToFlow());
  by_orig_.erase(it);
}

void FlowCache::Sweep(uint64_t now_ms) {
  if (now_ms < last_sweep_ms_ + kSweepMs) return;
  last_sweep_ms_ = now_ms;
  for (auto it = by_orig_.begin(); it != by_orig_.end();) {
    if (it->second.last_used_ms + kIdleMs <= now_ms) {
      by_reply_.erase(it->second.reply.ToFlow());
      it = by_orig_.erase(it);
    } else {
      ++it;
    }
  }
}

CtEntry* FlowCache::Fetch(const CtTuple& t, TupleAttr which) {
  CtInfo info;
  bool got = false;
  auto on_reply = [&](const nlmsghdr* m) {
    CtInfo tmp;
    if (!got && ParseCtMessage(m, &tmp)) {
      info = tmp;
      got = true;
    }
  };
  const int err = kernel_.Call(
      KernelOp::kCtGet, BuildCtGet(kernel_.buf(), kernel_.NextSeq(), t, which),
      on_reply);
  if (err != 0 || !got || info.orig->proto != 6) {
    ++ctx_.counters.resolver_failures;
    if (err == 0) {
      kernel_.LogLimited(LogLevel::kWarn, "ctget",
                         "CT_GET " + t.ToString() + ": no usable answer");
    } else if (err != ENOENT) {
      kernel_.Fail(KernelOp::kCtGet, err, t.ToString());
    } else {
      kernel_.Count(err);
    }
    return nullptr;
  }
  if (by_orig_.size() >= ctx_.options.resolver_cache_size && !by_orig_.empty()) {
    auto victim = by_orig_.begin();
    by_reply_.erase(victim->second.reply.ToFlow());
    by_orig_.erase(victim);
    ++ctx_.counters.resolver_evictions;
  }
  if (ctx_.options.resolver_cache_size == 0) {
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

void FlowCache::Fill(CtEntry* entry, const CtInfo& info) const {
  entry->orig = *info.orig;
  entry->reply = *info.reply;
  entry->mark = info.mark;
  if (entry->mark && *entry->mark == 0) entry->mark.reset();
  entry->helper = info.helper;
  entry->labels = info.labels;
  entry->last_used_ms = ctx_.now_ms;
}

}  // namespace ftpalg
