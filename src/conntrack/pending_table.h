// The data connections the plane has announced to the kernel and not yet
// seen made: indexed by the engine's target (what the engine installs and
// removes) and by the kernel's target (where the data SYN arrives). No I/O.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <unordered_map>

#include "conntrack/plane_options.h"
#include "ftpalg/expectation.h"
#include "ftpalg/inet.h"

namespace ftpalg {

struct EndpointHash {
  size_t operator()(const Endpoint& e) const noexcept;
};

// One installed expectation.
struct PendingConnection {
  Expectation e;                // as the engine asked
  Endpoint kernel_target;       // where the data SYN really arrives
  PlaneOptions::Mechanism mech = PlaneOptions::Mechanism::kPrecreate;
  uint64_t expires_ms = 0;
  IpAddress snat_to;            // (b): how the target side knows the peer
  std::optional<uint32_t> mark;  // (b): the master's mark, inherited
  bool labelled = false;        // its fields went into the master's labels
  bool restored = false;        // re-created by a resync: the engine does not
                                // know it, so Forget(master) withdraws it
};

class PendingTable {
 public:
  using Map = std::unordered_map<Endpoint, PendingConnection, EndpointHash>;
  using iterator = Map::iterator;

  iterator end() { return by_target_.end(); }
  iterator Find(const Endpoint& target) { return by_target_.find(target); }
  iterator FindByKernelTarget(const Endpoint& kernel_target);
  // Keyed by p.e.target.
  void Add(PendingConnection p);
  void Erase(iterator it);
  // For each entry, in table order: when pred(p), before_erase(p), then it
  // goes.
  template <typename Pred, typename Fn>
  void EraseIf(Pred pred, Fn before_erase) {
    for (auto it = by_target_.begin(); it != by_target_.end();) {
      if (!pred(it->second)) {
        ++it;
        continue;
      }
      before_erase(it->second);
      auto next = std::next(it);
      Erase(it);
      it = next;
    }
  }
  template <typename Fn>
  void ForEach(Fn fn) {
    for (auto& [target, p] : by_target_) fn(p);
  }
  void Clear();
  // The engine announced a restored entry again: it is the engine's now.
  void Adopt(PendingConnection* p);

  size_t size() const { return by_target_.size(); }
  size_t restored_count() const { return restored_count_; }

 private:
  Map by_target_;
  std::unordered_map<Endpoint, Endpoint, EndpointHash> by_kernel_;
  size_t restored_count_ = 0;   // entries with restored set
};

}  // namespace ftpalg
