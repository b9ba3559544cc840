// SPDX-License-Identifier: GPL-2.0-or-later
// Payload in sequence order: bytes forwarded before are re-emitted, new
// bytes (after a held line, with kept segments that continue them) are
// scanned; segments beyond a hole are kept or the hole is given up.
#include "src/core/engine_impl.h"

namespace ftpalg {

// Room for bytes merged into this packet's payload (held line, kept
// segments): the packet may grow to max_packet_len (or its own length),
// less a margin for the rewrites' growth.
size_t Engine::Impl::MergeRoom(size_t have) const {
  constexpr size_t kRewriteMargin = 64;
  size_t allowed = std::max<size_t>(cfg.max_packet_len, pv->total_len);
  allowed = allowed > pv->payload_offset ? allowed - pv->payload_offset : 0;
  allowed = std::min({allowed, out_limit, work.size()});
  return allowed > have + kRewriteMargin ? allowed - have - kRewriteMargin : 0;
}

// The client spoke before the server sent a byte: not an FTP dialogue
// (FTP servers speak first). Judged by the server's stream, not by the
// arrival of a greeting, so a greeting still held beyond a hole counts.
void Engine::Impl::CheckClientSpeaksFirst(Session* s, Direction d) {
  Dialogue& dlg = s->dialogue;
  if (d != Direction::kOriginal || dlg.greeting_seen || dlg.not_ftp) return;
  if (s->stream[Index(Direction::kReply)].data_seen) return;
  dlg.not_ftp = true;
  Log(LogLevel::kWarn, s,
      "client sent data before the server's greeting: not an FTP "
      "dialogue, no rewrites on this connection");
}

// Gives up the hole before the kept segments when it waited too long, or
// when the receiver acknowledged past it (it has bytes this engine never
// saw: only a capture can show that).
void Engine::Impl::CheckHole(Session* s, Direction d) {
  StreamState& st = s->stream[Index(d)];
  const uint16_t first = tracker.FirstBeyond(st);
  if (first == kNoSlot) return;
  const uint32_t hole_end = pool.meta(first).seq;
  if (!SeqLt(st.next_seq, hole_end)) return;
  const uint32_t waited = static_cast<uint32_t>(now_ms) - tracker.BeyondSince(st);
  if (waited >= cfg.gap_timeout_ms) {
    GiveUpHole(s, d, hole_end,
               ("not filled within " + std::to_string(cfg.gap_timeout_ms) + " ms").c_str());
  } else if (st.ledger.has_ack() && SeqLt(st.next_seq, st.ledger.acked())) {
    GiveUpHole(s, d, hole_end, "acknowledged by the receiver but never seen here");
  }
}

// A segment that starts beyond a hole. Kept (bounded) until the hole
// fills: returns true, nothing to emit. Else the hole is given up and the
// caller forwards what now continues the stream.
bool Engine::Impl::KeepOrGiveUp(Session* s, Direction d, uint32_t seg_seq, size_t len) {
  StreamState& st = s->stream[Index(d)];
  if (seg_seq - st.next_seq > TcpStream::kMaxAhead) {
    ++stats.out_of_window;
    LogParts(LogLevel::kDebug, s, "segment far beyond the ", DirName(d),
             " stream: payload not kept, nothing changed");
    return true;
  }
  if (tracker.KeepBeyondHole(st, seg_seq, payload, len, static_cast<uint32_t>(now_ms))) {
    ++stats.out_of_order;
    LogParts(LogLevel::kDebug, s, "segment beyond a hole in ", DirName(d),
             " kept back until the hole fills");
    return true;
  }
  if (pool.available() == 0) ++stats.hold_pool_exhausted;
  const uint16_t first = tracker.FirstBeyond(st);
  const uint32_t to =
      first != kNoSlot && SeqLt(pool.meta(first).seq, seg_seq) ? pool.meta(first).seq : seg_seq;
  GiveUpHole(s, d, to, "not seen and more kept beyond it than the bounds allow");
  return false;
}

// A hole in d's stream that cannot wait (not filled within the gap
// timeout, too much kept beyond it, or acknowledged by the receiver
// although never seen here: a capture that missed bytes). The stream
// resumes at `resume_at`: the bytes there and after pass unparsed, each
// keeping its position, until the receiver acknowledges them (the stream
// is whole again); parsing of d then restarts at the next line start. The
// other direction is not affected. Bytes that fill the hole later pass
// unchanged: the bytes after them are placed already.
void Engine::Impl::GiveUpHole(Session* s, Direction d, uint32_t resume_at, const char* why) {
  StreamState& st = s->stream[Index(d)];
  if (!SeqLt(st.next_seq, resume_at)) return;
  const uint16_t held = tracker.HeldLine(st);
  if (held != kNoSlot) {
    // The held line's rest is in the hole: it can no longer be rewritten.
    // Its bytes were never forwarded; the sender resends them (they pass
    // unchanged as the retransmission of bytes already placed).
    ++stats.refused_split;
    ++s->refusals;
    tracker.DropHeldLine(st);
  }
  ++stats.refused_gap;
  Log(LogLevel::kInfo, s,
      std::string("gap in ") + DirName(d) + " stream: " +
          std::to_string(resume_at - st.next_seq) + " bytes " + why +
          "; the bytes after it pass unparsed until the receiver has them all");
  st.next_seq = resume_at;
  st.gap_open = true;
  st.gap_end = resume_at;
  st.line = LineState{};
  LoseTlsFraming(s, d, "a hole was given up");
  if (!s->dialogue.tls) {
    FtpDialogue::ForgetPairing(s->dialogue, d);
    if (s->dialogue.tls) {
      ++stats.tls_sessions;
      Log(LogLevel::kInfo, s,
          "an AUTH waited for its reply when replies were lost: parsing stopped "
          "(the control connection may be encrypted)");
    }
  }
}

// Only the held line came again (a retransmission): keep holding, unless
// the hold is over time; then let the bytes go unchanged.
uint32_t Engine::Impl::RetransmittedHeldLine(Session* s, StreamState& st, uint32_t out_start,
                               bool fin, bool* whole) {
  const uint16_t held = tracker.HeldLine(st);
  const SegmentPool::Slot& m = pool.meta(held);
  const uint32_t held_for = static_cast<uint32_t>(now_ms) - m.since_ms;
  if (held_for < cfg.hold_timeout_ms && !fin) {
    *whole = false;
    return out_start;
  }
  ++stats.hold_timeouts;
  ++stats.refused_split;
  ++s->refusals;
  Log(LogLevel::kInfo, s,
      "REFUSED split announcement not completed within " +
          std::to_string(cfg.hold_timeout_ms) + " ms: \"" +
          EscapeForLog(AsText(pool.data(held), m.len)) + "\" passed unchanged");
  if (out_len == 0) out_start = m.seq;
  Emit(pool.data(held), m.len);
  if (TlsRecordTracker::Active(st.tls)) {
    // A line start after a TLS record, held back and never completed: the
    // tracker stands before those bytes and would misread what follows.
    const Direction d = &st == &s->stream[Index(Direction::kOriginal)] ? Direction::kOriginal
                                                                        : Direction::kReply;
    LoseTlsFraming(s, d, "a line start after a record was held and not completed in time");
  }
  st.line.broken = true;
  // The released bytes are the start of a line whose rest is not seen
  // yet: rescan state must know the line began earlier.
  st.line.line_len = m.len;
  st.line.prefix_len = static_cast<uint8_t>(std::min<size_t>(m.len, kPrefixLen));
  std::memcpy(st.line.prefix, pool.data(held), st.line.prefix_len);
  tracker.DropHeldLine(st);
  return out_start;
}

// Builds the output payload for this segment. Returns the input position
// of the first output byte; *whole tells whether the output covers the
// segment through its end (so a FIN can stay).
uint32_t Engine::Impl::HandlePayload(Session* s, Direction d, uint32_t seg_seq,
                       size_t len, bool fin, bool* whole) {
  StreamState& st = s->stream[Index(d)];
  const uint32_t seg_end = seg_seq + static_cast<uint32_t>(len);
  *whole = true;
  CheckClientSpeaksFirst(s, d);
  CheckHole(s, d);
  // Beyond a hole: after the consumed bytes and the kept ones that
  // continue them.
  if (SeqLt(tracker.ContiguousEnd(st), seg_seq) && KeepOrGiveUp(s, d, seg_seq, len)) {
    *whole = false;
    return seg_seq;  // nothing to emit yet: the packet goes on as a bare ACK
  }
  const uint32_t emitted_end = tracker.ForwardedEnd(st);
  uint32_t out_start = seg_seq;
  if (SeqLt(seg_seq, emitted_end) && !ReemitForwarded(s, d, seg_seq, seg_end, &out_start)) {
    *whole = false;
    return out_start;
  }
  // Only old bytes: nothing new may follow them in this packet (kept bytes
  // at the stream's end would land at the wrong positions).
  if (SeqLt(seg_end, emitted_end)) return out_start;
  const uint16_t held = tracker.HeldLine(st);
  size_t n = 0;
  uint32_t w_seq = st.next_seq;
  const uint32_t end = CollectNew(s, d, seg_seq, seg_end, &n, &w_seq, whole);
  if (end == st.next_seq) {
    if (held != kNoSlot && SeqLt(emitted_end, seg_end)) {
      return RetransmittedHeldLine(s, st, out_start, fin, whole);
    }
    return out_start;
  }
  if (held != kNoSlot) {
    tracker.DropHeldLine(st);
    ++stats.hold_merges;
  }
  if (SeqLt(seg_end, end)) *whole = false;  // a FIN here would sit mid-stream
  if (out_len == 0) out_start = w_seq;
  const ScanTail tail = ScanNew(s, d, w_seq, n, fin && end == seg_end);
  st.next_seq = end - static_cast<uint32_t>(tail.trimmed);
  if (tail.held > 0 || tail.trimmed > 0) *whole = false;
  return out_start;
}

// Bytes of this segment that were forwarded before: re-emitted identically
// (recorded rewrites regenerated). False when emission had to stop before
// a rewritten span this segment does not hold whole.
bool Engine::Impl::ReemitForwarded(Session* s, Direction d, uint32_t seg_seq, uint32_t seg_end,
                                   uint32_t* out_start) {
  StreamState& st = s->stream[Index(d)];
  const uint32_t emitted_end = tracker.ForwardedEnd(st);
  const uint32_t old_end = SeqLt(seg_end, emitted_end) ? seg_end : emitted_end;
  uint32_t from = seg_seq;
  if (const ChangePoint* c = st.ledger.SpanAt(from, Spill(st)); c && c->pos != from) {
    from = c->end();  // starts inside a rewritten span: skip it
    ++stats.partial_span_trims;
  }
  *out_start = from;
  return !SeqLt(from, old_end) || EmitOld(s, d, seg_seq, from, old_end) == old_end;
}

// New bytes into work[], in sequence order: the held line, kept bytes that
// continue the stream, the rest of this segment, kept bytes after it.
// Returns the input position after them (next_seq when there are none).
uint32_t Engine::Impl::CollectNew(Session* s, Direction d, uint32_t seg_seq, uint32_t seg_end,
                                  size_t* n, uint32_t* w_seq, bool* whole) {
  StreamState& st = s->stream[Index(d)];
  const uint16_t held = tracker.HeldLine(st);
  if (held != kNoSlot) {
    *n = pool.meta(held).len;
    std::memcpy(work.data(), pool.data(held), *n);
    *w_seq = pool.meta(held).seq;
  }
  uint32_t end = st.next_seq;
  size_t taken = tracker.TakeContiguous(st, &end, work.data() + *n, MergeRoom(*n));
  *n += taken;
  if (SeqLe(seg_seq, end) && SeqLt(end, seg_end) && seg_end - end <= work.size() - *n) {
    std::memcpy(work.data() + *n, payload + (end - seg_seq), seg_end - end);
    *n += seg_end - end;
    end = seg_end;
    const size_t after = tracker.TakeContiguous(st, &end, work.data() + *n, MergeRoom(*n));
    *n += after;
    taken += after;
  }
  if (taken > 0) ++stats.gap_filled;
  if (SeqLt(end, seg_end)) {
    // No room to merge this segment after the kept bytes taken: keep it
    // for the next packet (else the sender resends it).
    *whole = false;
    const uint32_t from = SeqLt(end, seg_seq) ? seg_seq : end;
    if (!tracker.Keep(st, from, payload + (from - seg_seq), seg_end - from,
                      static_cast<uint32_t>(now_ms))) {
      ++stats.hold_pool_exhausted;
    }
  }
  return end;
}

}  // namespace ftpalg
