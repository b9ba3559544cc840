// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/segment_pool.h"

#include <cstring>

#include "ftpalg/seq_ledger.h"

namespace ftpalg {

SegmentPool::SegmentPool(uint16_t slots, uint16_t slot_size)
    : slot_size_(slot_size),
      bytes_(new uint8_t[size_t{slots} * slot_size]),
      meta_(slots),
      free_(slots) {
  for (uint16_t i = 0; i < slots; ++i) free_[i] = static_cast<uint16_t>(slots - 1 - i);
}

uint16_t SegmentPool::Acquire() {
  if (free_.empty()) return kNoSlot;
  const uint16_t s = free_.back();
  free_.pop_back();  // capacity never shrinks: no allocation on Release
  meta_[s] = Slot{};
  return s;
}

void SegmentPool::Release(uint16_t slot) { free_.push_back(slot); }

void SegmentPool::ReleaseChain(uint16_t& head) {
  while (head != kNoSlot) {
    const uint16_t next = meta_[head].next;
    Release(head);
    head = next;
  }
}

size_t SegmentPool::ChainSlots(uint16_t head) const {
  size_t n = 0;
  for (uint16_t s = head; s != kNoSlot; s = meta_[s].next) ++n;
  return n;
}

bool SegmentPool::Insert(uint16_t& head, uint32_t seq, const uint8_t* p,
                         size_t len, uint32_t now_ms, size_t max_slots) {
  if (len == 0 || slot_size_ == 0) return len == 0;
  const uint32_t end = seq + static_cast<uint32_t>(len);
  // Walks the uncovered pieces of [seq, end) in order, calling
  // place(prev, from, to) for each; prev is the slot the piece goes after.
  auto walk = [&](auto&& place) {
    uint32_t pos = seq;
    uint16_t prev = kNoSlot, cur = head;
    while (SeqLt(pos, end)) {
      while (cur != kNoSlot && SeqLe(meta_[cur].seq + meta_[cur].len, pos)) {
        prev = cur;
        cur = meta_[cur].next;
      }
      if (cur != kNoSlot && SeqLe(meta_[cur].seq, pos)) {
        pos = meta_[cur].seq + meta_[cur].len;  // already held
        continue;
      }
      const uint32_t to = (cur != kNoSlot && SeqLt(meta_[cur].seq, end)) ? meta_[cur].seq : end;
      while (SeqLt(pos, to)) {
        const uint32_t n = to - pos < slot_size_ ? to - pos : slot_size_;
        prev = place(prev, pos, n);
        pos += n;
      }
    }
  };
  size_t needed = 0;
  walk([&](uint16_t prev, uint32_t, uint32_t) {
    ++needed;
    return prev;
  });
  if (needed == 0) return true;
  if (needed > free_.size() || ChainSlots(head) + needed > max_slots) return false;
  walk([&](uint16_t prev, uint32_t from, uint32_t n) {
    const uint16_t s = Acquire();
    Slot& m = meta_[s];
    m.seq = from;
    m.len = static_cast<uint16_t>(n);
    m.since_ms = now_ms;
    std::memcpy(data(s), p + (from - seq), n);
    uint16_t& link = prev == kNoSlot ? head : meta_[prev].next;
    m.next = link;
    link = s;
    return s;
  });
  return true;
}

}  // namespace ftpalg
