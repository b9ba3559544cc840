// The engine's own record of the expectations it installed: per-session and
// global caps, expiry, and "is this public port already promised to another
// session?". Pure: no I/O; fixed capacity allocated at construction.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ftpalg/expectation.h"
#include "ftpalg/session.h"

namespace ftpalg {

class ExpectationTable {
 public:
  // sessions must outlive the table; sessions own the per-session lists.
  ExpectationTable(uint32_t capacity, SessionTable& sessions);

  bool full() const { return size_ == capacity_; }
  uint32_t size() const { return size_; }

  // The id of the session holding a live expectation for target, or 0.
  uint64_t OwnerOf(const Endpoint& target) const;
  // Adds e for session s, newest last. REQUIRES: !full().
  void Add(Session* s, const Expectation& e, uint64_t expires_ms);
  // Removes the expectation for target (whoever owns it) into *out; false
  // when there is none.
  bool Take(const Endpoint& target, Expectation* out);
  // Removes the oldest expectation of s into *out; false when s has none.
  bool PopOldest(Session* s, Expectation* out);

  // Removes every expectation of s, calling fn(e) for each.
  template <typename Fn>
  void RemoveSession(Session* s, Fn fn) {
    Expectation e;
    while (PopOldest(s, &e)) fn(e);
  }
  // Removes expectations whose time has come, calling fn(e) for each.
  // (Slot order, as ever; the walk is skipped while nothing can be due.)
  template <typename Fn>
  void Expire(uint64_t now_ms, Fn fn) {
    if (now_ms < earliest_ms_) return;
    uint64_t earliest = UINT64_MAX;
    for (uint32_t i = 0; i < entries_.size(); ++i) {
      if (!entries_[i].used) continue;
      if (entries_[i].expires_ms > now_ms) {
        earliest = std::min(earliest, entries_[i].expires_ms);
        continue;
      }
      Expectation e = entries_[i].exp;
      Release(i);
      fn(e);
    }
    earliest_ms_ = earliest;
  }

 private:
  struct Entry {
    Expectation exp;
    uint64_t expires_ms = 0;
    uint32_t session_slot = kNoIndex;
    uint32_t next_in_session = kNoIndex;
    uint32_t hash_next = kNoIndex;
    bool used = false;
  };
  uint32_t Bucket(const Endpoint& target) const;
  // Unlinks entry i from its session list and the hash index; frees it.
  void Release(uint32_t i);

  uint32_t capacity_;
  uint32_t size_ = 0;
  uint32_t free_head_ = kNoIndex;
  // No entry expires before this (a lower bound: removals leave it as is).
  uint64_t earliest_ms_ = UINT64_MAX;
  SessionTable& sessions_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> buckets_;
};

}  // namespace ftpalg
