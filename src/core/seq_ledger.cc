// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/seq_ledger.h"

namespace ftpalg {

void SeqLedger::Add(const ChangePoint& p) {
  if (count_ == kCapacity && has_ack_) Prune(acked_);
  if (count_ == kCapacity) return;  // callers check HasRoom() first
  points_[count_++] = p;
}

uint32_t SeqLedger::ToOutput(uint32_t input_pos) const {
  int32_t offset = base_offset_;
  for (int i = 0; i < count_; ++i) {
    const ChangePoint& c = points_[i];
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

uint32_t SeqLedger::ToInput(uint32_t output_pos) const {
  int32_t offset = base_offset_;
  for (int i = 0; i < count_; ++i) {
    const ChangePoint& c = points_[i];
    const uint32_t out_start = c.pos + static_cast<uint32_t>(offset);
    if (SeqLe(output_pos, out_start)) break;
    if (SeqLt(output_pos, out_start + c.out_len)) return c.pos;
    offset += c.delta();
  }
  return output_pos - static_cast<uint32_t>(offset);
}

const ChangePoint* SeqLedger::SpanAt(uint32_t input_pos) const {
  for (int i = 0; i < count_; ++i) {
    const ChangePoint& c = points_[i];
    if (SeqLe(c.pos, input_pos) && SeqLt(input_pos, c.end())) return &c;
  }
  return nullptr;
}

void SeqLedger::FoldOldest() {
  if (count_ == 0) return;
  base_offset_ += points_[0].delta();
  for (int i = 1; i < count_; ++i) points_[i - 1] = points_[i];
  --count_;
}

void SeqLedger::Prune(uint32_t acked_input_pos) {
  int drop = 0;
  while (drop < count_ && SeqLe(points_[drop].end(), acked_input_pos)) {
    base_offset_ += points_[drop].delta();
    ++drop;
  }
  if (drop == 0) return;
  for (int i = drop; i < count_; ++i) points_[i - drop] = points_[i];
  count_ = static_cast<uint8_t>(count_ - drop);
}

}  // namespace ftpalg
