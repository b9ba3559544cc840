// SPDX-License-Identifier: GPL-2.0-or-later
// The in-place scan: a segment that continues its stream exactly (nothing
// held, nothing kept, parsing on, no TLS records followed) and holds no
// line start that could become an announcement is read where it lies in
// the packet. Its lines still go to the dialogue one by one, as in ScanNew,
// but nothing is copied through work[]/out[]: the payload leaves unchanged. Any other segment takes the
// general walk (engine_stream.cc, engine_scan.cc), which gives the same
// result for these segments (tests run both paths and compare).
#include "src/core/engine_impl.h"

namespace ftpalg {

namespace {

// The first (up to) four bytes of p as a little-endian word, and a mask of
// the bytes present.
uint32_t FirstBytes(const uint8_t* p, size_t avail, uint32_t* mask) {
  uint32_t w = 0;
  const size_t k = avail < 4 ? avail : 4;
  for (size_t i = 0; i < k; ++i) w |= uint32_t{p[i]} << (8 * i);
  *mask = k == 4 ? 0xffffffffu : (1u << (8 * k)) - 1;
  return w;
}

constexpr uint32_t Code(const char (&t)[5]) {
  return uint32_t{static_cast<uint8_t>(t[0])} | uint32_t{static_cast<uint8_t>(t[1])} << 8 |
         uint32_t{static_cast<uint8_t>(t[2])} << 16 | uint32_t{static_cast<uint8_t>(t[3])} << 24;
}

// Whether a line starting at p (avail bytes of it here, possibly with its
// CR LF) could be one the dialogue announces, refuses as an announcement,
// or that the scan holds back or trims before, or the 234 after which the
// scan follows TLS records: a command whose first letters are
// PORT/EPRT/LPRT (any case), a reply whose first digits are 227/228/229/234.
// Only the bytes present are compared, so a short start of such a line
// counts too. A superset of every such line (case is folded with 0xdf on
// every byte, which only adds a few non-letters).
bool MayAnnounce(Direction d, const uint8_t* p, size_t avail) {
  if (avail == 0) return false;
  uint32_t mask;
  const uint32_t w = FirstBytes(p, avail, &mask);
  if (d == Direction::kOriginal) {
    const uint32_t u = w & 0xdfdfdfdfu & mask;
    return u == (Code("PORT") & mask) || u == (Code("EPRT") & mask) ||
           u == (Code("LPRT") & mask);
  }
  const uint32_t m3 = mask & 0x00ffffffu;
  const uint32_t r = w & m3;
  return r == (Code("227 ") & m3) || r == (Code("228 ") & m3) || r == (Code("229 ") & m3) ||
         r == (Code("234 ") & m3);
}

// Whether no line of p[0..n) could announce: the line continued from
// earlier bytes (prefix kept in ls) and every line that starts here.
bool NoAnnouncementIn(Direction d, const LineState& ls, const uint8_t* p, size_t n) {
  if (ls.line_len > 0) {
    // The continued line's first bytes: the kept prefix, then these.
    char first[kPrefixLen];
    size_t have = ls.prefix_len;
    std::memcpy(first, ls.prefix, have);
    const size_t more = std::min(kPrefixLen - have, n);
    std::memcpy(first + have, p, more);
    if (MayAnnounce(d, reinterpret_cast<const uint8_t*>(first), have + more)) return false;
  } else if (MayAnnounce(d, p, n)) {
    return false;
  }
  const uint8_t* end = p + n;
  for (const uint8_t* q = p; q < end;) {
    const void* lf = std::memchr(q, '\n', static_cast<size_t>(end - q));
    if (lf == nullptr) break;
    q = static_cast<const uint8_t*>(lf) + 1;
    if (MayAnnounce(d, q, static_cast<size_t>(end - q))) return false;
  }
  return true;
}

}  // namespace

bool Engine::Impl::CanScanInPlace(const Session* s, Direction d, uint32_t seg_seq,
                                  size_t len) const {
  const StreamState& st = s->stream[Index(d)];
  return cfg.scan_in_place && st.chain == kNoSlot && seg_seq == st.next_seq &&
         !st.gap_open && !s->dialogue.tls && !TlsRecordTracker::Active(st.tls) &&
         st.line.synced && NoAnnouncementIn(d, st.line, payload, len);
}

// ScanNew over the packet's own payload, for a segment CanScanInPlace
// accepted: the same lines reach the dialogue, with the same line state
// before and after; no line can rewrite, be held back or be trimmed.
void Engine::Impl::ScanInPlace(Session* s, Direction d, uint32_t seg_seq, size_t n, bool fin) {
  StreamState& st = s->stream[Index(d)];
  CheckClientSpeaksFirst(s, d);
  LineState& ls = st.line;
  const uint8_t* w = payload;
  size_t line_start = ls.line_len == 0 ? 0 : kLineBegunBefore;
  size_t copied = 0;
  size_t i = 0;
  while (i < n) {
    const void* found = std::memchr(w + i, '\n', n - i);
    if (!found) {
      AddToLine(ls, w + i, n - i);
      break;
    }
    const size_t lf = static_cast<size_t>(static_cast<const uint8_t*>(found) - w);
    AddToLine(ls, w + i, lf + 1 - i);
    EndLine(s, d, CurrentLine(ls, w, line_start, lf), line_start, seg_seq, &copied);
    ls = LineState{};
    ls.synced = true;
    line_start = lf + 1;
    i = lf + 1;
  }
  // Never holds here (the tail cannot announce); it may mark a continued
  // candidate line broken, as in ScanNew.
  HoldTail(s, d, seg_seq, line_start, n, fin);
  st.next_seq = seg_seq + static_cast<uint32_t>(n);
}

}  // namespace ftpalg
