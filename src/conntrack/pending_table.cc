// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/pending_table.h"

#include <utility>

namespace ftpalg {

size_t EndpointHash::operator()(const Endpoint& e) const noexcept {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 1099511628211ull; };
  mix(static_cast<uint8_t>(e.addr.family));
  for (size_t i = 0; i < e.addr.size(); ++i) mix(e.addr.bytes[i]);
  mix(static_cast<uint8_t>(e.port >> 8));
  mix(static_cast<uint8_t>(e.port));
  return static_cast<size_t>(h);
}

PendingTable::iterator PendingTable::FindByKernelTarget(
    const Endpoint& kernel_target) {
  auto k = by_kernel_.find(kernel_target);
  return k == by_kernel_.end() ? by_target_.end() : by_target_.find(k->second);
}

void PendingTable::Add(PendingConnection p) {
  if (p.restored) ++restored_count_;
  by_kernel_[p.kernel_target] = p.e.target;
  const Endpoint target = p.e.target;
  by_target_.emplace(target, std::move(p));
}

void PendingTable::Erase(iterator it) {
  if (it->second.restored) --restored_count_;
  by_kernel_.erase(it->second.kernel_target);
  by_target_.erase(it);
}

void PendingTable::Clear() {
  by_target_.clear();
  by_kernel_.clear();
  restored_count_ = 0;
}

void PendingTable::Adopt(PendingConnection* p) {
  if (!p->restored) return;
  p->restored = false;
  --restored_count_;
}

}  // namespace ftpalg
