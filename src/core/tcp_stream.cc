// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/tcp_stream.h"

#include <cstring>

namespace ftpalg {

SynOutcome TcpStream::OnSyn(StreamState& st, uint32_t isn) {
  if (!st.seen) {
    st.seen = true;
    st.from_syn = true;
    st.next_seq = isn + 1;
    st.line.synced = true;
    return SynOutcome::kLearned;
  }
  if (!st.data_seen) {
    if (st.next_seq == isn + 1) return SynOutcome::kRetransmitted;
    // The peer dropped its half-open connection and answered the
    // retransmitted SYN afresh (SYN cookies, a load balancer): the bytes
    // that follow are numbered from the new ISN. Nothing was read yet.
    st.next_seq = isn + 1;
    st.from_syn = true;
    st.gap_open = false;
    st.fin = false;
    st.line = LineState{};
    st.line.synced = true;
    return SynOutcome::kRebased;
  }
  // Our own SYN again after data (a Fast Open SYN or SYN-ACK resent with its
  // data): its ISN lies just behind the stream, by the bytes sent since.
  if (st.next_seq - (isn + 1) <= kRstWindow) return SynOutcome::kRetransmitted;
  return SynOutcome::kStray;
}

bool TcpStream::RstAcceptable(const StreamState& st, uint32_t seq) {
  if (!st.seen) return true;
  const uint32_t ahead = seq - st.next_seq, behind = st.next_seq - seq;
  return ahead <= kRstWindow || behind <= kRstWindow;
}

bool TcpStream::OnFin(StreamState& st, uint32_t fin_pos) {
  if (st.next_seq != fin_pos) return false;
  st.next_seq = fin_pos + 1;
  st.fin = true;
  return true;
}

uint16_t TcpStream::HeldLine(const StreamState& st) const {
  return st.chain != kNoSlot && pool_.meta(st.chain).line ? st.chain : kNoSlot;
}

bool TcpStream::HoldLine(StreamState& st, uint32_t seq, const uint8_t* p,
                         size_t n, uint32_t now_ms) {
  if (n > pool_.slot_size()) return false;
  const uint16_t s = pool_.Acquire();
  if (s == kNoSlot) return false;
  SegmentPool::Slot& m = pool_.meta(s);
  m.seq = seq;
  m.len = static_cast<uint16_t>(n);
  m.since_ms = now_ms;
  m.line = true;
  m.next = st.chain;
  std::memcpy(pool_.data(s), p, n);
  st.chain = s;
  return true;
}

void TcpStream::DropHeldLine(StreamState& st) {
  const uint16_t h = HeldLine(st);
  if (h == kNoSlot) return;
  st.chain = pool_.meta(h).next;
  pool_.Release(h);
}

uint32_t TcpStream::ForwardedEnd(const StreamState& st) const {
  const uint16_t h = HeldLine(st);
  return h != kNoSlot ? pool_.meta(h).seq : st.next_seq;
}

uint16_t TcpStream::FirstBeyond(const StreamState& st) const {
  const uint16_t h = HeldLine(st);
  return h != kNoSlot ? pool_.meta(h).next : st.chain;
}

uint32_t TcpStream::BeyondSince(const StreamState& st) const {
  uint32_t oldest = pool_.meta(FirstBeyond(st)).since_ms;
  for (uint16_t s = FirstBeyond(st); s != kNoSlot; s = pool_.meta(s).next) {
    if (SeqLt(pool_.meta(s).since_ms, oldest)) oldest = pool_.meta(s).since_ms;
  }
  return oldest;
}

uint32_t TcpStream::ContiguousEnd(const StreamState& st) const {
  uint32_t end = st.next_seq;
  for (uint16_t s = FirstBeyond(st); s != kNoSlot; s = pool_.meta(s).next) {
    const SegmentPool::Slot& m = pool_.meta(s);
    if (SeqLt(end, m.seq)) break;
    if (SeqLt(end, m.seq + m.len)) end = m.seq + m.len;
  }
  return end;
}

bool TcpStream::KeepBeyondHole(StreamState& st, uint32_t seq, const uint8_t* p,
                               size_t n, uint32_t now_ms) {
  if (!SeqLt(st.next_seq, seq)) return false;
  if (seq + static_cast<uint32_t>(n) - st.next_seq > kMaxAhead) return false;
  return Keep(st, seq, p, n, now_ms);
}

bool TcpStream::Keep(StreamState& st, uint32_t seq, const uint8_t* p, size_t n,
                     uint32_t now_ms) {
  const uint16_t held = HeldLine(st);
  uint16_t& head = held != kNoSlot ? pool_.meta(held).next : st.chain;
  return pool_.Insert(head, seq, p, n, now_ms, max_slots_);
}

size_t TcpStream::TakeContiguous(StreamState& st, uint32_t* end, uint8_t* out,
                                 size_t room) {
  const uint16_t held = HeldLine(st);
  uint16_t& head = held != kNoSlot ? pool_.meta(held).next : st.chain;
  size_t written = 0;
  while (head != kNoSlot) {
    SegmentPool::Slot& m = pool_.meta(head);
    const uint32_t slot_end = m.seq + m.len;
    if (SeqLe(slot_end, *end)) {  // a duplicate of bytes already taken
      const uint16_t next = m.next;
      pool_.Release(head);
      head = next;
      continue;
    }
    if (SeqLt(*end, m.seq)) break;  // another hole
    const size_t skip = *end - m.seq;
    const size_t n = m.len - skip;
    if (written + n > room) break;
    std::memcpy(out + written, pool_.data(head) + skip, n);
    written += n;
    *end = slot_end;
    const uint16_t next = m.next;
    pool_.Release(head);
    head = next;
  }
  return written;
}

}  // namespace ftpalg
