// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/recording_sink.h"

#include <algorithm>
#include <cstdio>

namespace ftpalg {
namespace {


bool Same(const Expectation& a, const Expectation& b) {
  return a.master == b.master && a.peer == b.peer && a.target == b.target &&
         a.nat_to == b.nat_to && a.kind == b.kind && a.announcer == b.announcer;
}

// Every string we emit is an address, a kind or a flow key: no character
// needs escaping, but keep it safe anyway.
void AppendString(std::string* out, std::string_view key, std::string_view v) {
  *out += '"';
  *out += key;
  *out += "\":\"";
  for (char c : v) {
    if (c == '"' || c == '\\') *out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    *out += c;
  }
  *out += '"';
}

void AppendNumber(std::string* out, std::string_view key, uint64_t v) {
  *out += '"';
  *out += key;
  *out += "\":";
  *out += std::to_string(v);
}

}  // namespace

std::string ExpectationToJson(const Expectation& e, uint64_t time_ms) {
  std::string out = "{";
  AppendNumber(&out, "session", e.session_id);
  char time_text[32];
  std::snprintf(time_text, sizeof time_text, "%llu.%03u",
                static_cast<unsigned long long>(time_ms / 1000),
                static_cast<unsigned>(time_ms % 1000));
  out += ",\"time\":";
  out += time_text;
  out += ',';
  AppendNumber(&out, "family", e.target.addr.family == Family::kV4 ? 4 : 6);
  out += ',';
  AppendString(&out, "kind", KindName(e.kind));
  out += ',';
  AppendString(&out, "direction",
               e.announcer == Direction::kOriginal ? "original" : "reply");
  out += ',';
  AppendString(&out, "src", e.peer.ToString());
  out += ',';
  AppendString(&out, "dst", e.target.addr.ToString());
  out += ',';
  AppendNumber(&out, "dport", e.target.port);
  out += ',';
  AppendString(&out, "nat_addr", e.nat_to.addr.ToString());
  out += ',';
  AppendNumber(&out, "nat_port", e.nat_to.port);
  out += ',';
  AppendString(&out, "master", e.master.ToString());
  out += ',';
  AppendNumber(&out, "timeout", e.timeout_s);
  out += '}';
  return out;
}

size_t RecordingSink::TargetHash::operator()(const Endpoint& e) const noexcept {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (uint8_t b : e.addr.bytes) h = (h ^ b) * 1099511628211ull;
  h = (h ^ (e.port & 0xff)) * 1099511628211ull;
  h = (h ^ (e.port >> 8)) * 1099511628211ull;
  return static_cast<size_t>(h ^ static_cast<uint64_t>(e.addr.family));
}

InstallResult RecordingSink::Install(const Expectation& e) {
  auto found = active_.find(e.target);
  if (found == active_.end()) {
    if (spare_.empty()) {
      found = active_.emplace(e.target, std::vector<Expectation>{}).first;
    } else {
      ActiveMap::node_type node = std::move(spare_.back());
      spare_.pop_back();
      node.key() = e.target;
      node.mapped().clear();
      found = active_.insert(std::move(node)).position;
    }
  }
  std::vector<Expectation>& same_target = found->second;
  for (const Expectation& a : same_target) {
    if (Same(a, e)) {
      ++refreshed_;
      if (observer_) observer_(Event::kRefreshed, e);
      return InstallResult::kOk;
    }
  }
  for (const Expectation& a : same_target) {
    if (!(a.nat_to == e.nat_to && a.peer == e.peer)) {
      ++busy_;
      if (observer_) observer_(Event::kBusy, e);
      return InstallResult::kPortBusy;
    }
  }
  same_target.push_back(e);
  ++active_count_;
  ++installed_;
  if (keep_jsonl_ || jsonl_out_ != nullptr) {
    std::string line = ExpectationToJson(e, now_ms_);
    line += '\n';
    if (jsonl_out_ != nullptr) *jsonl_out_ << line;
    if (keep_jsonl_) jsonl_ += line;
  }
  if (observer_) observer_(Event::kInstalled, e);
  return InstallResult::kOk;
}

void RecordingSink::Remove(const Expectation& e) {
  const auto list = active_.find(e.target);
  if (list == active_.end()) return;
  auto it = std::find_if(list->second.begin(), list->second.end(),
                         [&](const Expectation& a) { return Same(a, e); });
  if (it == list->second.end()) return;
  list->second.erase(it);
  if (list->second.empty()) spare_.push_back(active_.extract(list));
  --active_count_;
  ++removed_;
  if (observer_) observer_(Event::kRemoved, e);
}

}  // namespace ftpalg
