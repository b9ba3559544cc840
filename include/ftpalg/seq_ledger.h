// Sequence ledger for one direction of one connection: every length change
// (a rewrite of `in_len` input bytes into `out_len` output bytes at input
// position `pos`) is a change point. Maps input (sender) positions to output
// (receiver) positions and back. A point is forgotten only when room is
// needed AND the receiver acknowledged past it: a retransmission of acked
// data (it crosses the ack in flight, or a capture shows it after the ack)
// still comes out identical while the point is kept.
// Pure: no I/O, fixed size. All arithmetic is serial-number (mod 2^32) safe.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>

#include "ftpalg/announcement.h"

namespace ftpalg {

// a < b in sequence space (RFC 1982 style, window < 2^31).
inline bool SeqLt(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) < 0;
}
inline bool SeqLe(uint32_t a, uint32_t b) { return !SeqLt(b, a); }

// Packed: four of these sit in every session, twice.
struct [[gnu::packed]] ChangePoint {
  uint32_t pos = 0;      // input seq of the first rewritten byte
  uint8_t in_len = 0;    // span length in the input
  uint8_t out_len = 0;   // replacement length
  uint16_t port = 0;     // public port announced by the replacement
  AnnounceKind kind = AnnounceKind::kPort;
  char delimiter = '|';  // EPRT/229 delimiter of the original text

  int32_t delta() const { return int32_t{out_len} - int32_t{in_len}; }
  uint32_t end() const { return pos + in_len; }
};

// Four points sit in the session; a burst of unacknowledged rewrites (a
// client pipelining PORTs) borrows a block of more from a fixed pool (the
// engine's hold pool) and returns it once acknowledgements shrink the ledger
// back to four. Functions that read points take that block (`spill`, nullptr
// when none is attached); the engine passes it on every call.
class SeqLedger {
 public:
  static constexpr int kInline = 4;

  bool empty() const { return count_ == 0; }
  int size() const { return count_; }
  int capacity() const { return kInline + spill_capacity_; }
  bool full() const { return count_ == capacity(); }
  // True when Add() will find room (free slot, or an acknowledged point).
  bool HasRoom() const {
    return count_ < capacity() || (has_ack_ && SeqLe(points_[0].end(), acked_));
  }
  // Records how far the receiver acknowledged (input space).
  void NoteAck(uint32_t acked_input_pos) {
    if (!has_ack_ || SeqLt(acked_, acked_input_pos)) acked_ = acked_input_pos;
    has_ack_ = true;
  }
  // Whether the receiver acknowledged anything yet, and how far (input).
  bool has_ack() const { return has_ack_; }
  uint32_t acked() const { return acked_; }
  const ChangePoint& at(int i, const ChangePoint* spill = nullptr) const {
    return i < kInline ? points_[i] : spill[i - kInline];
  }
  // Offset of everything before the oldest kept point.
  int32_t base_offset() const { return base_offset_; }

  // ---- the borrowed block -------------------------------------------------
  static constexpr uint16_t kNoSpill = 0xffff;
  uint16_t spill_id() const { return spill_id_; }
  // Attaches a block of `capacity` more points, known to the caller as id.
  // REQUIRES: none attached.
  void AttachSpill(uint16_t id, uint8_t capacity) {
    spill_id_ = id;
    spill_capacity_ = capacity;
  }
  // Whether the block holds no point any more (it can be returned).
  bool SpillUnused() const { return spill_id_ != kNoSpill && count_ <= kInline; }
  void DetachSpill() {
    spill_id_ = kNoSpill;
    spill_capacity_ = 0;
  }

  // Appends a change point, first forgetting acknowledged points if the
  // ledger is full. REQUIRES: HasRoom() and p.pos at or after the end of the
  // newest point (rewrites are recorded in stream order).
  void Add(const ChangePoint& p, ChangePoint* spill = nullptr);

  // Input position -> output position. A position inside a span maps into
  // the replacement (clamped to its length).
  uint32_t ToOutput(uint32_t input_pos, const ChangePoint* spill = nullptr) const;
  // Output position -> input position, for the receiver's ACK/SACK. A
  // position inside a replacement maps to the span start (never acknowledges
  // bytes the receiver has not fully got).
  uint32_t ToInput(uint32_t output_pos, const ChangePoint* spill = nullptr) const;

  // The change point whose span contains input_pos strictly inside or starts
  // at it, or nullptr.
  const ChangePoint* SpanAt(uint32_t input_pos, const ChangePoint* spill = nullptr) const;

  // The offset after the newest change point (what later bytes get).
  int32_t TotalOffset(const ChangePoint* spill = nullptr) const {
    int32_t o = base_offset_;
    for (int i = 0; i < count_; ++i) o += at(i, spill).delta();
    return o;
  }
  // Starts from a known offset with no change points (state restored after
  // a daemon restart: older bytes were acknowledged long ago).
  // REQUIRES: no block attached.
  void Restore(int32_t offset) { *this = SeqLedger{}; base_offset_ = offset; }

  // Forgets the oldest change point although it is not acknowledged, folding
  // its delta into the base offset. Only for offline captures, which cannot
  // be asked to retransmit: a later retransmission of that span in the
  // capture would no longer be regenerated (the live engine trims instead).
  void FoldOldest(ChangePoint* spill = nullptr);

  // Forgets change points the receiver acknowledged past (input space),
  // folding their deltas into the base offset.
  void Prune(uint32_t acked_input_pos, ChangePoint* spill = nullptr);

 private:
  ChangePoint& slot(int i, ChangePoint* spill) {
    return i < kInline ? points_[i] : spill[i - kInline];
  }
  void DropFront(int n, ChangePoint* spill);

  std::array<ChangePoint, kInline> points_{};
  int32_t base_offset_ = 0;
  uint32_t acked_ = 0;
  uint8_t count_ = 0;
  bool has_ack_ = false;
  uint16_t spill_id_ = kNoSpill;
  uint8_t spill_capacity_ = 0;
};

}  // namespace ftpalg
