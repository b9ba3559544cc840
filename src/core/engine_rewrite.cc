// SPDX-License-Identifier: GPL-2.0-or-later
// Output bytes: emission with rewrites, regeneration of recorded rewrites
// for retransmissions, the ledger and its borrowed blocks, ack and SACK
// mapping.
#include "src/core/engine_impl.h"

namespace ftpalg {

bool Engine::Impl::Emit(const uint8_t* p, size_t n) {
  if (out_len + n > out_limit) return false;
  std::memcpy(out.data() + out_len, p, n);
  out_len += n;
  return true;
}

// Re-emits already-forwarded input bytes [from, to) (they sit at
// payload + (from - seg_seq)), re-applying recorded rewrites identically.
// Returns the input position where emission stopped (== to unless a
// rewrite span crosses `to`).
uint32_t Engine::Impl::EmitOld(Session* s, Direction d, uint32_t seg_seq, uint32_t from,
                 uint32_t to) {
  StreamState& st = s->stream[Index(d)];
  const SeqLedger& ledger = st.ledger;
  const ChangePoint* spill = Spill(st);
  uint32_t pos = from;
  while (SeqLt(pos, to)) {
    const ChangePoint* next = nullptr;
    for (int i = 0; i < ledger.size(); ++i) {
      const ChangePoint& c = ledger.at(i, spill);
      if (SeqLe(pos, c.pos) && SeqLt(c.pos, to)) {
        next = &c;
        break;
      }
    }
    const uint32_t plain_end = next ? next->pos : to;
    Emit(payload + (pos - seg_seq), plain_end - pos);
    pos = plain_end;
    if (!next) break;
    if (SeqLt(to, next->end())) {
      ++stats.partial_span_trims;
      return pos;  // the span is not whole in this segment: stop before it
    }
    char text[kMaxReplacementLen];
    const size_t n = Regenerate(s, d, *next, text);
    Emit(reinterpret_cast<const uint8_t*>(text), n);
    out_edited = true;
    ++stats.rewrites_reapplied;
    pos = next->end();
  }
  return pos;
}

size_t Engine::Impl::Regenerate(Session* s, Direction d, const ChangePoint& c, char* text) {
  const NatBinding b = resolver.Binding(s->key);
  Announcement a;
  a.kind = c.kind;
  a.delimiter = c.delimiter;
  const IpAddress& outside =
      d == Direction::kOriginal ? b.client_outside : b.server_outside;
  size_t n = FormatReplacement(a, Endpoint{outside, c.port}, text,
                               kMaxReplacementLen);
  if (n != c.out_len) {
    // Cannot happen unless the NAT binding changed under us; keep the
    // stream length consistent whatever the text.
    Log(LogLevel::kError, s, "re-applied rewrite changed length; padded");
    n = std::min<size_t>(n, c.out_len);
    std::memset(text + n, ' ', c.out_len - n);
    n = c.out_len;
  }
  return n;
}

bool Engine::Impl::ApplyRewrite(Session* s, Direction d, uint32_t w_seq, size_t at,
                  const RewriteOp& op, const uint8_t* w, size_t* copied) {
  StreamState& st = s->stream[Index(d)];
  // Room check: everything scanned so far plus the replacement.
  if (out_len + (at - *copied) + op.text_len > out_limit) return false;
  Emit(w + *copied, at - *copied);
  Emit(reinterpret_cast<const uint8_t*>(op.text), op.text_len);
  out_edited = true;
  *copied = at + op.len;
  ChangePoint cp = op.point;
  cp.pos = w_seq + static_cast<uint32_t>(at);
  st.ledger.Add(cp, Spill(st));
  ++stats.rewrites;
  ++s->rewrites;
  SaveSnapshot(s);
  return true;
}

// The block of change points a ledger borrowed from the pool, or nullptr.
ChangePoint* Engine::Impl::Spill(StreamState& st) {
  const uint16_t id = st.ledger.spill_id();
  return id == SeqLedger::kNoSpill ? nullptr : reinterpret_cast<ChangePoint*>(pool.data(id));
}

// Room for one more rewrite in d's ledger: a free point, an acknowledged
// one, or a block borrowed from the pool for a burst of rewrites the
// receiver has not acknowledged yet (a client pipelining PORTs).
bool Engine::Impl::EnsureLedgerRoom(StreamState& st) {
  if (st.ledger.HasRoom()) return true;
  if (st.ledger.spill_id() != SeqLedger::kNoSpill) return false;
  const size_t fit = std::min<size_t>(255, pool.slot_size() / sizeof(ChangePoint));
  if (fit == 0) return false;
  const uint16_t id = pool.Acquire();
  if (id == kNoSlot) return false;
  for (size_t i = 0; i < fit; ++i) new (pool.data(id) + i * sizeof(ChangePoint)) ChangePoint();
  st.ledger.AttachSpill(id, static_cast<uint8_t>(fit));
  ++stats.ledger_blocks;
  return true;
}

// Returns the borrowed block once acknowledgements emptied it (always when
// the session ends).
void Engine::Impl::ReturnLedgerBlock(StreamState& st, bool ending) {
  const uint16_t id = st.ledger.spill_id();
  if (id == SeqLedger::kNoSpill) return;
  if (!ending) {
    if (st.ledger.has_ack()) st.ledger.Prune(st.ledger.acked(), Spill(st));
    if (!st.ledger.SpillUnused()) return;
  }
  st.ledger.DetachSpill();
  pool.Release(id);
}

// Maps a 32-bit ack/SACK edge acknowledging direction `acked`.
uint32_t Engine::Impl::MapAck(Session* s, Direction acked, uint32_t v) {
  StreamState& st = s->stream[Index(acked)];
  return cfg.offline_capture ? st.ledger.ToOutput(v, Spill(st)) : st.ledger.ToInput(v, Spill(st));
}

// The cumulative ack field. Offline, a receiver in the capture may ack
// bytes the engine holds back or keeps beyond a hole: in the rewritten
// world it cannot have them yet, so the ack is clamped to what was
// forwarded.
uint32_t Engine::Impl::MapAckField(Session* s, Direction acked, uint32_t v) {
  const StreamState& st = s->stream[Index(acked)];
  if (cfg.offline_capture && st.seen) {
    const uint32_t forwarded = tracker.ForwardedEnd(st);
    if (SeqLt(forwarded, v)) v = forwarded;
  }
  return MapAck(s, acked, v);
}

// Maps every SACK block edge. Offline, a block naming bytes the engine
// has not forwarded yet (held back, or kept beyond a hole) is blanked to
// NOPs: in the rewritten world the receiver cannot have them.
bool Engine::Impl::MapSack(Session* s, Direction acked, uint8_t* tcp, size_t hlen) {
  const StreamState& st = s->stream[Index(acked)];
  const uint32_t forwarded = tracker.ForwardedEnd(st);
  bool changed = false;
  size_t i = 20;
  while (i < hlen) {
    const uint8_t kind = tcp[i];
    if (kind == 0) break;
    if (kind == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= hlen) break;
    const size_t olen = tcp[i + 1];
    if (olen < 2 || i + olen > hlen) break;
    bool beyond = false;
    for (size_t e = i + 2; kind == 5 && e + 4 <= i + olen; e += 4) {
      beyond = beyond || SeqLt(forwarded, LoadBe32(tcp + e));
    }
    if (kind == 5 && cfg.offline_capture && beyond) {
      std::memset(tcp + i, 1, olen);
      changed = true;
    } else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
      for (size_t e = i + 2; e + 4 <= i + olen; e += 4) {
        const uint32_t v = LoadBe32(tcp + e);
        const uint32_t m = MapAck(s, acked, v);
        if (m != v) {
          StoreBe32(tcp + e, m);
          changed = true;
        }
      }
    }
    i += olen;
  }
  return changed;
}

}  // namespace ftpalg
