// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/expectation_table.h"

namespace ftpalg {

ExpectationTable::ExpectationTable(uint32_t capacity, SessionTable& sessions)
    : capacity_(capacity < 1 ? 1 : capacity),
      sessions_(sessions),
      buckets_(PowerOfTwoAtLeast(capacity_, 16), kNoIndex) {
  entries_.reserve(capacity_);
}

uint32_t ExpectationTable::Bucket(const Endpoint& t) const {
  FlowKey k{t, Endpoint{}};
  return static_cast<uint32_t>(FlowKeyHash{}(k)) &
         static_cast<uint32_t>(buckets_.size() - 1);
}

uint64_t ExpectationTable::OwnerOf(const Endpoint& target) const {
  for (uint32_t i = buckets_[Bucket(target)]; i != kNoIndex;
       i = entries_[i].hash_next) {
    if (entries_[i].exp.target == target) return entries_[i].exp.session_id;
  }
  return 0;
}

void ExpectationTable::Add(Session* s, const Expectation& e,
                           uint64_t expires_ms) {
  if (full()) return;
  uint32_t idx;
  if (free_head_ != kNoIndex) {
    idx = free_head_;
    free_head_ = entries_[idx].hash_next;
  } else {
    entries_.emplace_back();
    idx = static_cast<uint32_t>(entries_.size() - 1);
  }
  Entry& en = entries_[idx];
  en = Entry{};
  en.exp = e;
  en.expires_ms = expires_ms;
  earliest_ms_ = std::min(earliest_ms_, expires_ms);
  en.session_slot = sessions_.IndexOf(s);
  en.used = true;
  const uint32_t b = Bucket(e.target);
  en.hash_next = buckets_[b];
  buckets_[b] = idx;
  // Append to the session's list (oldest first).
  uint32_t* link = &s->exp_head;
  while (*link != kNoIndex) link = &entries_[*link].next_in_session;
  *link = idx;
  ++s->exp_count;
  ++size_;
}

void ExpectationTable::Release(uint32_t i) {
  Entry& en = entries_[i];
  Session* s = sessions_.at(en.session_slot);
  uint32_t* link = &s->exp_head;
  while (*link != kNoIndex && *link != i) link = &entries_[*link].next_in_session;
  if (*link == i) {
    *link = en.next_in_session;
    --s->exp_count;
  }
  link = &buckets_[Bucket(en.exp.target)];
  while (*link != kNoIndex && *link != i) link = &entries_[*link].hash_next;
  if (*link == i) *link = en.hash_next;
  en = Entry{};
  en.hash_next = free_head_;
  free_head_ = i;
  --size_;
}

bool ExpectationTable::Take(const Endpoint& target, Expectation* out) {
  for (uint32_t i = buckets_[Bucket(target)]; i != kNoIndex;
       i = entries_[i].hash_next) {
    if (entries_[i].exp.target == target) {
      *out = entries_[i].exp;
      Release(i);
      return true;
    }
  }
  return false;
}

bool ExpectationTable::PopOldest(Session* s, Expectation* out) {
  if (s->exp_head == kNoIndex) return false;
  const uint32_t i = s->exp_head;
  *out = entries_[i].exp;
  Release(i);
  return true;
}

}  // namespace ftpalg
