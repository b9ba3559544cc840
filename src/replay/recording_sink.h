// Offline ExpectationSink: keeps the active expectations, refuses a public
// port already promised to another original address/port (kPortBusy, as the
// kernel would), and renders each installed expectation as one JSON line.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "ftpalg/expectation.h"

namespace ftpalg {

// One JSON object, no newline: "session", "time" (seconds, pcap time),
// "family", "kind", "direction", "src", "dst", "dport", "nat_addr",
// "nat_port", "master" ("a:p->b:q"), "timeout".
std::string ExpectationToJson(const Expectation& e, uint64_t time_ms);

class RecordingSink final : public ExpectationSink {
 public:
  enum class Event : uint8_t { kInstalled, kRefreshed, kBusy, kRemoved };
  // Called for every Install/Remove, after the sink's own bookkeeping.
  using Observer = std::function<void(Event, const Expectation&)>;

  InstallResult Install(const Expectation& e) override;
  void Remove(const Expectation& e) override;

  // Pcap time stamped on the records from now on.
  void set_now_ms(uint64_t now_ms) { now_ms_ = now_ms; }
  void set_observer(Observer observer) { observer_ = std::move(observer); }
  // Whether jsonl() is kept in memory (tests; off in ftpalg-replay).
  void set_keep_jsonl(bool keep) { keep_jsonl_ = keep; }
  // Where each installed expectation's JSON line is written as it happens
  // (--expectations: streamed to the file, nothing kept); nullptr: nowhere.
  void set_jsonl_out(std::ostream* out) { jsonl_out_ = out; }

  // JSON Lines of every installed (not refreshed) expectation, in order.
  const std::string& jsonl() const { return jsonl_; }
  uint64_t installed() const { return installed_; }
  uint64_t refreshed() const { return refreshed_; }
  uint64_t busy() const { return busy_; }
  uint64_t removed() const { return removed_; }
  size_t active() const { return active_count_; }

 private:
  struct TargetHash {
    size_t operator()(const Endpoint& e) const noexcept;
  };
  // Active expectations by public target (every check compares targets
  // first), each list in installation order: Install and Remove stay O(1)
  // with tens of thousands of active expectations.
  using ActiveMap = std::unordered_map<Endpoint, std::vector<Expectation>, TargetHash>;
  ActiveMap active_;
  // Nodes of targets with no active expectation left, kept (with their
  // vectors' capacity) for the next new target: no allocation per
  // expectation once the busiest moment of the capture has been seen.
  std::vector<ActiveMap::node_type> spare_;
  size_t active_count_ = 0;
  std::string jsonl_;
  bool keep_jsonl_ = true;
  std::ostream* jsonl_out_ = nullptr;
  Observer observer_;
  uint64_t now_ms_ = 0;
  uint64_t installed_ = 0, refreshed_ = 0, busy_ = 0, removed_ = 0;
};

}  // namespace ftpalg
