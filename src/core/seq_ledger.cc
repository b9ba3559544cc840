// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/seq_ledger.h"

namespace ftpalg {

void SeqLedger::Add(const ChangePoint& p, ChangePoint* spill) {
  if (full() && has_ack_) Prune(acked_, spill);
  if (full()) return;  // callers check HasRoom() first
  slot(count_++, spill) = p;
}

uint32_t SeqLedger::ToOutput(uint32_t input_pos, const ChangePoint* spill) const {
  int32_t offset = base_offset_;
  for (int i = 0; i < count_; ++i) {
    const ChangePoint& c = at(i, spill);
    if (SeqLe(input_pos, c.pos)) break;
    if (SeqLt(input_pos, c.end())) {
      const uint32_t into = input_pos - c.pos;
      const uint32_t clamped = into < c.out_len ? into : c.out_len;
      return c.pos + static_cast<uint32_t>(offset) + clamped;
    }
    offset += c.delta();
  }
  return input_pos + static_cast<uint32_t>(offset);
}

uint32_t SeqLedger::ToInput(uint32_t output_pos, const ChangePoint* spill) const {
  int32_t offset = base_offset_;
  for (int i = 0; i < count_; ++i) {
    const ChangePoint& c = at(i, spill);
    const uint32_t out_start = c.pos + static_cast<uint32_t>(offset);
    if (SeqLe(output_pos, out_start)) break;
    if (SeqLt(output_pos, out_start + c.out_len)) return c.pos;
    offset += c.delta();
  }
  return output_pos - static_cast<uint32_t>(offset);
}

const ChangePoint* SeqLedger::SpanAt(uint32_t input_pos, const ChangePoint* spill) const {
  for (int i = 0; i < count_; ++i) {
    const ChangePoint& c = at(i, spill);
    if (SeqLe(c.pos, input_pos) && SeqLt(input_pos, c.end())) return &c;
  }
  return nullptr;
}

void SeqLedger::DropFront(int n, ChangePoint* spill) {
  for (int i = 0; i < n; ++i) base_offset_ += at(i, spill).delta();
  for (int i = n; i < count_; ++i) slot(i - n, spill) = at(i, spill);
  count_ = static_cast<uint8_t>(count_ - n);
}

void SeqLedger::FoldOldest(ChangePoint* spill) {
  if (count_ > 0) DropFront(1, spill);
}

void SeqLedger::Prune(uint32_t acked_input_pos, ChangePoint* spill) {
  int drop = 0;
  while (drop < count_ && SeqLe(at(drop, spill).end(), acked_input_pos)) ++drop;
  if (drop > 0) DropFront(drop, spill);
}

}  // namespace ftpalg
