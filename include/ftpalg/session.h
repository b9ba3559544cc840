// Per-control-connection state and the bounded table that holds it.
// Pure: no I/O. Fixed memory: all slots and the hash index are allocated at
// construction; lookups, inserts and removals never allocate.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ftpalg/ftp_dialogue.h"
#include "ftpalg/inet.h"
#include "ftpalg/seq_ledger.h"
#include "ftpalg/tcp_stream.h"

namespace ftpalg {

// The smallest power of two >= n (and >= floor), capped at 2^30: hash index
// sizes for the session and expectation tables.
inline uint32_t PowerOfTwoAtLeast(uint32_t n, uint32_t floor = 1) {
  uint32_t p = floor;
  while (p < n && p < (1u << 30)) p <<= 1;
  return p;
}
inline constexpr uint32_t kNoIndex = 0xffffffff;

struct Session {
  FlowKey key;
  uint32_t id = 0;             // for logs; wraps after 2^32 sessions
  uint32_t last_seen_s = 0;
  uint32_t hash_next = kNoIndex;  // (LRU links: SessionTable::lru_)
  uint32_t exp_head = kNoIndex;  // oldest expectation of this session
  uint8_t exp_count = 0;
  uint16_t rewrites = 0;       // for the end-of-session log line
  uint16_t refusals = 0;
  bool closing = false;
  bool in_use = false;
  bool restored = false;       // offsets came from a previous run
  StreamState stream[2];       // indexed by Direction
  Dialogue dialogue;
};

// Bounded session table: hash index + LRU list, fixed capacity.
class SessionTable {
 public:
  explicit SessionTable(uint32_t capacity);

  Session* Find(const FlowKey& key);
  // Inserts a fresh session for key (REQUIRES: not present), most recently
  // used. Returns nullptr when the table is full: the caller evicts first.
  Session* Insert(const FlowKey& key);
  void Remove(Session* s);
  // Marks s most recently used.
  void Touch(Session* s);
  // Least recently used session, or nullptr when empty.
  Session* Oldest();
  // The session used next after s (more recently), or nullptr.
  Session* Newer(const Session* s);
  Session* at(uint32_t index) { return &slots_[index]; }
  uint32_t IndexOf(const Session* s) const {
    return static_cast<uint32_t>(s - slots_.data());
  }

  // Lookup hints, no state change: the bucket of a flow hash (FlowKeyHash),
  // then (once the bucket is likely cached) the slot it names, then that
  // slot's LRU neighbours (Touch writes them). A batch issues them a few
  // packets ahead so that the cache misses of several lookups overlap.
  void PrefetchBucket(uint64_t hash) const;
  void PrefetchSlot(uint64_t hash) const;
  void PrefetchNeighbours(uint64_t hash) const;

  uint32_t size() const { return size_; }
  uint32_t capacity() const { return capacity_; }
  // The slots' storage: reserved for capacity() slots at construction and
  // written only as the table grows (see Engine::SessionMemory).
  void* storage() { return slots_.data(); }
  size_t storage_bytes() const { return slots_.capacity() * sizeof(Session); }
  // The same for the LRU links (one LruLinks per slot).
  void* lru_storage() { return lru_.data(); }
  size_t lru_storage_bytes() const { return lru_.capacity() * sizeof(LruLinks); }

  // A slot's place in the LRU list. Kept apart from the slots, in a dense
  // array (8 bytes a slot): moving a session to the front writes its two
  // neighbours' links, and at a million sessions the neighbours' lines are
  // far more likely cached in an 8 MB array than in the 250 MB of slots.
  struct LruLinks {
    uint32_t prev = kNoIndex;  // more recent
    uint32_t next = kNoIndex;  // less recent
  };
 private:
  uint32_t Bucket(const FlowKey& key) const;
  void Unlink(Session* s);

  uint32_t capacity_;
  uint32_t size_ = 0;
  uint32_t used_slots_ = 0;  // slots ever handed out (grows to capacity)
  uint32_t free_head_ = kNoIndex;
  uint32_t lru_head_ = kNoIndex;  // most recent
  uint32_t lru_tail_ = kNoIndex;  // least recent
  std::vector<Session> slots_;
  std::vector<LruLinks> lru_;  // parallel to slots_
  std::vector<uint32_t> buckets_;
};

}  // namespace ftpalg
