// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/session.h"

namespace ftpalg {

SessionTable::SessionTable(uint32_t capacity)
    : capacity_(capacity < 1 ? 1 : capacity),
      buckets_(PowerOfTwoAtLeast(capacity_), kNoIndex) {
  // Slots are reserved up front; they are constructed lazily as the table
  // grows, so an idle daemon does not touch memory it never needs.
  slots_.reserve(capacity_);
  lru_.reserve(capacity_);
}

uint32_t SessionTable::Bucket(const FlowKey& key) const {
  return static_cast<uint32_t>(FlowKeyHash{}(key)) &
         static_cast<uint32_t>(buckets_.size() - 1);
}

Session* SessionTable::Find(const FlowKey& key) {
  for (uint32_t i = buckets_[Bucket(key)]; i != kNoIndex;
       i = slots_[i].hash_next) {
    // With many sessions the slot is not cached: ask for all its lines at
    // once (the key is in the first, the packet's walk reads the streams in
    // the others) instead of missing on each in turn.
    const char* line = reinterpret_cast<const char*>(&slots_[i]);
    for (size_t off = 64; off < sizeof(Session); off += 64) __builtin_prefetch(line + off);
    __builtin_prefetch(line + sizeof(Session) - 1);
    if (slots_[i].key == key) return &slots_[i];
  }
  return nullptr;
}

void SessionTable::PrefetchBucket(uint64_t hash) const {
  __builtin_prefetch(&buckets_[static_cast<uint32_t>(hash) & (buckets_.size() - 1)]);
}

void SessionTable::PrefetchSlot(uint64_t hash) const {
  const uint32_t i = buckets_[static_cast<uint32_t>(hash) & (buckets_.size() - 1)];
  if (i >= slots_.size()) return;
  const char* line = reinterpret_cast<const char*>(&slots_[i]);
  for (size_t off = 0; off < sizeof(Session); off += 64) __builtin_prefetch(line + off, 1);
  __builtin_prefetch(line + sizeof(Session) - 1, 1);
  __builtin_prefetch(&lru_[i], 1);  // PrefetchNeighbours reads it next
}

void SessionTable::PrefetchNeighbours(uint64_t hash) const {
  const uint32_t i = buckets_[static_cast<uint32_t>(hash) & (buckets_.size() - 1)];
  if (i >= lru_.size()) return;
  const LruLinks& l = lru_[i];
  if (l.prev < lru_.size()) __builtin_prefetch(&lru_[l.prev], 1);
  if (l.next < lru_.size()) __builtin_prefetch(&lru_[l.next], 1);
}

void SessionTable::Unlink(Session* s) {
  const uint32_t idx = IndexOf(s);
  // Hash chain.
  uint32_t* link = &buckets_[Bucket(s->key)];
  while (*link != kNoIndex && *link != idx) link = &slots_[*link].hash_next;
  if (*link == idx) *link = s->hash_next;
  // LRU list.
  LruLinks& l = lru_[idx];
  if (l.prev != kNoIndex) {
    lru_[l.prev].next = l.next;
  } else {
    lru_head_ = l.next;
  }
  if (l.next != kNoIndex) {
    lru_[l.next].prev = l.prev;
  } else {
    lru_tail_ = l.prev;
  }
  l = LruLinks{};
}

Session* SessionTable::Insert(const FlowKey& key) {
  uint32_t idx;
  if (free_head_ != kNoIndex) {
    idx = free_head_;
    free_head_ = slots_[idx].hash_next;
  } else if (used_slots_ < capacity_) {
    slots_.emplace_back();
    lru_.emplace_back();
    idx = used_slots_++;
  } else {
    return nullptr;
  }
  Session& s = slots_[idx];
  s = Session{};
  s.key = key;
  s.in_use = true;
  const uint32_t b = Bucket(key);
  s.hash_next = buckets_[b];
  buckets_[b] = idx;
  lru_[idx] = LruLinks{kNoIndex, lru_head_};
  if (lru_head_ != kNoIndex) lru_[lru_head_].prev = idx;
  lru_head_ = idx;
  if (lru_tail_ == kNoIndex) lru_tail_ = idx;
  ++size_;
  return &s;
}

void SessionTable::Remove(Session* s) {
  if (!s->in_use) return;
  Unlink(s);
  const uint32_t idx = IndexOf(s);
  *s = Session{};
  s->hash_next = free_head_;
  free_head_ = idx;
  --size_;
}

void SessionTable::Touch(Session* s) {
  const uint32_t idx = IndexOf(s);
  if (lru_head_ == idx) return;
  // Unlink from the LRU list only (the hash chain is unchanged).
  LruLinks& l = lru_[idx];
  lru_[l.prev].next = l.next;
  if (l.next != kNoIndex) {
    lru_[l.next].prev = l.prev;
  } else {
    lru_tail_ = l.prev;
  }
  l = LruLinks{kNoIndex, lru_head_};
  lru_[lru_head_].prev = idx;
  lru_head_ = idx;
}

Session* SessionTable::Oldest() {
  return lru_tail_ == kNoIndex ? nullptr : &slots_[lru_tail_];
}

Session* SessionTable::Newer(const Session* s) {
  const uint32_t prev = lru_[IndexOf(s)].prev;
  return prev == kNoIndex ? nullptr : &slots_[prev];
}

}  // namespace ftpalg
