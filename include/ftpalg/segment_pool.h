// Fixed pool of byte slots for stream bytes the engine has received but not
// forwarded yet: an incomplete announcement line held back, and segments that
// arrived beyond a hole. A stream keeps its slots as one chain in sequence
// order. Pure: no I/O; all memory is allocated at construction and no
// operation allocates.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ftpalg {

inline constexpr uint16_t kNoSlot = 0xffff;

class SegmentPool {
 public:
  // What one slot holds: input bytes [seq, seq + len).
  struct Slot {
    uint32_t seq = 0;
    uint32_t since_ms = 0;  // engine clock when the bytes were kept
    uint16_t len = 0;
    uint16_t next = kNoSlot;
    bool line = false;      // an incomplete line (else a segment beyond a hole)
  };

  SegmentPool(uint16_t slots, uint16_t slot_size);

  // A free slot, or kNoSlot when none is left.
  uint16_t Acquire();
  void Release(uint16_t slot);
  // Releases every slot of a chain and empties it.
  void ReleaseChain(uint16_t& head);

  uint8_t* data(uint16_t slot) { return &bytes_[size_t{slot} * slot_size_]; }
  const uint8_t* data(uint16_t slot) const { return &bytes_[size_t{slot} * slot_size_]; }
  Slot& meta(uint16_t slot) { return meta_[slot]; }
  const Slot& meta(uint16_t slot) const { return meta_[slot]; }
  uint16_t slot_size() const { return slot_size_; }
  size_t available() const { return free_.size(); }

  // Slots in a chain.
  size_t ChainSlots(uint16_t head) const;

  // Keeps input bytes [seq, seq + len) in the chain at `head`, in sequence
  // order, skipping bytes the chain already holds (duplicates). Every slot
  // holds one piece of at most slot_size() bytes. All or nothing: returns
  // false, the chain unchanged, when the new pieces would take the chain past
  // max_slots or the pool has too few free slots.
  bool Insert(uint16_t& head, uint32_t seq, const uint8_t* p, size_t len,
              uint32_t now_ms, size_t max_slots);

 private:
  uint16_t slot_size_;
  // Not zero-filled: a slot's bytes are written before they are read, and
  // pages never used (most of the pool, most of the time) stay unmapped.
  std::unique_ptr<uint8_t[]> bytes_;
  std::vector<Slot> meta_;
  std::vector<uint16_t> free_;
};

}  // namespace ftpalg
