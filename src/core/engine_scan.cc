// SPDX-License-Identifier: GPL-2.0-or-later
// Lines of the new bytes: each complete line goes to the dialogue
// (ftp_dialogue) and, when it announces, to the policy; an incomplete
// announcement is held back; a segment is cut where the ledger has no room.
#include "src/core/engine_impl.h"

namespace ftpalg {

namespace {

bool EqualsNoCase(char a, char b) {
  auto lower = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return lower(a) == lower(b);
}

// True while the first bytes of a line could still become an announcement we
// act on (so an incomplete line is worth holding back). Inside a multi-line
// reply only the closing line of that same code counts.
bool IsCandidatePrefix(Direction d, const char* p, size_t n, uint16_t multiline) {
  if (d == Direction::kOriginal) {
    for (const char* verb : {"PORT", "EPRT", "LPRT"}) {
      bool ok = true;
      for (size_t i = 0; i < n && i < 4; ++i) ok = ok && EqualsNoCase(p[i], verb[i]);
      if (ok && (n <= 4 || p[4] == ' ' || p[4] == '\t')) return true;
    }
    return false;
  }
  for (const char* code : {"227", "228", "229"}) {
    const int value = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    if (multiline != 0 && multiline != value) continue;
    bool ok = true;
    for (size_t i = 0; i < n && i < 3; ++i) ok = ok && p[i] == code[i];
    if (ok && (n <= 3 || p[3] == ' ')) return true;
  }
  return false;
}

}  // namespace

// Whether bytes that begin a segment of a restored session look like the
// start of a line: a known command verb (client) or "NNN " / "NNN-"
// (server). Used once per stream, to read from the first such segment.
bool Engine::Impl::StartsLikeLine(Direction d, const uint8_t* w, size_t n) {
  const void* lf = std::memchr(w, '\n', n);
  const size_t len = lf ? static_cast<size_t>(static_cast<const uint8_t*>(lf) - w) : n;
  std::string_view first = AsText(w, len);
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  if (d == Direction::kOriginal) {
    // Without an LF the verb must already be followed by something.
    if (lf == nullptr && first.find(' ') == std::string_view::npos) return false;
    return ClassifyCommand(first) != Verb::kUnknown;
  }
  return first.size() >= 4 && ParseReplyCode(first) && (first[3] == ' ' || first[3] == '-');
}

// Live, a rewrite needs a free ledger point (each unacknowledged rewrite
// is kept to regenerate its retransmissions). Without one, the segment is
// cut before the line: the receiver acknowledges what it got, which frees
// points, and the sender resends the rest. Offline the oldest point is
// folded instead (a capture cannot be asked to resend).
bool Engine::Impl::MustTrimBefore(StreamState& st, Direction d, const LineState& ls,
                    uint16_t multiline) {
  return !cfg.offline_capture && !st.ledger.HasRoom() &&
         IsCandidatePrefix(d, ls.prefix, ls.prefix_len, multiline) &&
         !EnsureLedgerRoom(st);
}

// Scans new bytes work[0..n) (input positions from w_seq) line by line,
// appending them to the output with rewrites applied.
ScanTail Engine::Impl::ScanNew(Session* s, Direction d, uint32_t w_seq, size_t n, bool fin) {
  StreamState& st = s->stream[Index(d)];
  LineState& ls = st.line;
  const uint8_t* w = work.data();
  if (st.gap_open) {
    LoseTlsFraming(s, d, "bytes passed unparsed after a hole");
    return PassUnparsed(ls, w, n);
  }
  size_t i = 0;
  if (TlsRecordTracker::Active(st.tls)) {
    size_t probe_at = n;
    i = FollowTls(s, d, w, 0, n, &probe_at);
    if (probe_at < n) return HoldTlsProbe(s, d, w_seq, 0, probe_at, n, fin);
    if (i == n) return PassUnparsed(ls, w, n);
  } else if (s->dialogue.tls) {
    return PassUnparsed(ls, w, n);  // encrypted, records not followed
  }
  size_t line_start = ls.line_len == 0 ? i : kLineBegunBefore;
  size_t copied = 0;
  while (i < n) {
    // Lines end in LF (CR is part of the line); find the next one at once.
    const void* found = std::memchr(w + i, '\n', n - i);
    const size_t lf = found ? static_cast<size_t>(static_cast<const uint8_t*>(found) - w) : n;
    if (!ls.synced && i == 0 && s->restored && StartsLikeLine(d, w, n)) {
      ls = LineState{};
      ls.synced = true;
      line_start = 0;
    }
    if (!ls.synced) {
      if (!found) break;
      ls = LineState{};
      ls.synced = true;
      line_start = lf + 1;
      i = lf + 1;
      continue;
    }
    AddToLine(ls, w + i, (found ? lf + 1 : n) - i);
    if (!found) break;
    const std::string_view text = CurrentLine(ls, w, line_start, lf);
    if (line_start != kLineBegunBefore && MustTrimBefore(st, d, ls, s->dialogue.multiline_code)) {
      return TrimBefore(s, d, text, w, copied, line_start, n);
    }
    EndLine(s, d, text, line_start, w_seq, &copied);
    ls = LineState{};
    ls.synced = true;
    line_start = lf + 1;
    i = lf + 1;
    if (TlsRecordTracker::Active(st.tls)) {  // that line was the 234
      size_t probe_at = n;
      i = FollowTls(s, d, w, i, n, &probe_at);
      if (probe_at < n) return HoldTlsProbe(s, d, w_seq, copied, probe_at, n, fin);
      line_start = ls.line_len == 0 ? i : kLineBegunBefore;
    }
  }
  const size_t hold = HoldTail(s, d, w_seq, line_start, n, fin);
  Emit(w + copied, n - hold - copied);
  return {hold, 0};
}

// Parsing is off (TLS, or a given-up hole): the bytes only keep their
// positions. Where the next line starts is known again if they end one.
ScanTail Engine::Impl::PassUnparsed(LineState& ls, const uint8_t* w, size_t n) {
  Emit(w, n);
  if (n > 0) {
    ls = LineState{};
    ls.synced = w[n - 1] == '\n';
  }
  return {};
}

void Engine::Impl::AddToLine(LineState& ls, const uint8_t* p, size_t take) {
  const size_t room = kPrefixLen - ls.prefix_len;
  const size_t to_prefix = take < room ? take : room;
  std::memcpy(ls.prefix + ls.prefix_len, p, to_prefix);
  ls.prefix_len = static_cast<uint8_t>(ls.prefix_len + to_prefix);
  ls.line_len = static_cast<uint16_t>(std::min<size_t>(0xffff, ls.line_len + take));
}

// The line ending at lf, without its CR LF: whole when it began in these
// bytes, else only the first bytes kept of it.
std::string_view Engine::Impl::CurrentLine(const LineState& ls, const uint8_t* w,
                                           size_t line_start, size_t lf) {
  std::string_view text;
  if (line_start != kLineBegunBefore) {
    text = AsText(w + line_start, lf - line_start);
  } else {
    text = std::string_view(ls.prefix, std::min<size_t>(ls.prefix_len, ls.line_len - 1));
  }
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

ScanTail Engine::Impl::TrimBefore(Session* s, Direction d, std::string_view text,
                                  const uint8_t* w, size_t copied, size_t line_start,
                                  size_t n) {
  ++stats.ledger_trims;
  if (log.Enabled(LogLevel::kDebug)) {
    LogParts(LogLevel::kDebug, s, "no ledger room for another rewrite in ", DirName(d),
             ": segment cut before \"", EscapeForLog(text, 40),
             "\"; the sender resends it once the rest is acknowledged");
  }
  Emit(w + copied, line_start - copied);
  StreamState& st = s->stream[Index(d)];
  st.line = LineState{};
  st.line.synced = true;
  return {0, n - line_start};
}

// A complete line: to the dialogue, and rewritten when it must be.
void Engine::Impl::EndLine(Session* s, Direction d, std::string_view text, size_t line_start,
                           uint32_t w_seq, size_t* copied) {
  const LineState& ls = s->stream[Index(d)].line;
  const bool overlong = ls.line_len > size_t{cfg.max_line_len};
  if (overlong) ++stats.overlong_lines;
  const bool whole = line_start != kLineBegunBefore && !ls.broken;
  RewriteOp op;
  if (!OnLine(s, d, text, whole, overlong, &op)) return;
  const size_t at = line_start + op.offset;
  if (!ApplyRewrite(s, d, w_seq, at, op, work.data(), copied)) {
    Log(LogLevel::kWarn, s, "rewrite does not fit in the packet");
  }
}

// The incomplete last line is held back if it may still become an
// announcement. Returns the number of bytes held.
size_t Engine::Impl::HoldTail(Session* s, Direction d, uint32_t w_seq, size_t line_start,
                              size_t n, bool fin) {
  StreamState& st = s->stream[Index(d)];
  LineState& ls = st.line;
  if (!ls.synced || ls.line_len == 0 || TlsRecordTracker::Active(st.tls)) return 0;
  const bool candidate =
      IsCandidatePrefix(d, ls.prefix, ls.prefix_len, s->dialogue.multiline_code);
  if (!candidate) return 0;
  if (line_start == kLineBegunBefore || ls.broken || fin || ls.line_len > cfg.max_line_len ||
      s->dialogue.not_ftp) {
    ls.broken = true;
    return 0;
  }
  if (!tracker.HoldLine(st, w_seq + static_cast<uint32_t>(line_start), work.data() + line_start,
                        n - line_start, static_cast<uint32_t>(now_ms))) {
    ++stats.hold_pool_exhausted;
    Log(LogLevel::kWarn, s,
        std::string("LIMIT hold pool exhausted: an incomplete line in ") + DirName(d) +
            " is not held back and passes unchanged");
    ls.broken = true;
    return 0;
  }
  ls = LineState{};  // the held line is scanned again when whole
  ls.synced = true;
  ++stats.holds;
  return n - line_start;
}

// After a TLS record, the bytes from `at` may start a cleartext line, but
// the segment ends before that is decided. When they may become an
// announcement they are held back like an incomplete line (the tracker goes
// back to the record's end and reads them again with what follows, so the
// line can be rewritten whole); else, or without room, they pass and the
// tracker goes on (the line then counts for pairing only).
ScanTail Engine::Impl::HoldTlsProbe(Session* s, Direction d, uint32_t w_seq, size_t copied,
                                    size_t at, size_t n, bool fin) {
  StreamState& st = s->stream[Index(d)];
  const uint8_t* w = work.data();
  const char* p = reinterpret_cast<const char*>(w + at);
  if (fin || !IsCandidatePrefix(d, p, n - at, 0) ||
      !tracker.HoldLine(st, w_seq + static_cast<uint32_t>(at), w + at, n - at,
                        static_cast<uint32_t>(now_ms))) {
    Emit(w + copied, n - copied);
    return {};
  }
  TlsRecordTracker::RewindProbe(st.tls);
  ++stats.holds;
  Emit(w + copied, at - copied);
  return {n - at, 0};
}

// One complete line. `text` is the whole line when `whole`, else only its
// first bytes (the line began in a segment already forwarded).
bool Engine::Impl::OnLine(Session* s, Direction d, std::string_view text, bool whole,
            bool overlong, RewriteOp* op) {
  const LineMeaning m = d == Direction::kOriginal
                            ? FtpDialogue::OnCommand(s->dialogue, text)
                            : FtpDialogue::OnReply(s->dialogue, text);
  switch (m.what) {
    case LineMeaning::What::kNothing:
      return false;
    case LineMeaning::What::kNotFtp:
      LogNotFtp(s, m, text);
      return false;
    case LineMeaning::What::kTlsStarted:
      StartTls(s);
      return false;
    case LineMeaning::What::kUnsolicited:
      Refuse(s, stats.refused_unsolicited, "reply answers no PASV/EPSV/LPSV", text);
      return false;
    case LineMeaning::What::kPairingUnknown:
      Refuse(s, stats.refused_unsolicited, "pairing unknown after unseen commands", text);
      return false;
    case LineMeaning::What::kAnnouncement:
      break;
  }
  return CheckedAnnounce(s, d, m.kind, text, whole, overlong, op);
}

void Engine::Impl::LogNotFtp(Session* s, const LineMeaning& m, std::string_view text) {
  if (!log.Enabled(LogLevel::kWarn)) return;
  switch (m.why) {
    case LineMeaning::NotFtp::kFirstCommand:
      Log(LogLevel::kWarn, s,
          "first command \"" + EscapeForLog(text, 40) +
              "\" is not FTP: no rewrites on this connection");
      break;
    case LineMeaning::NotFtp::kFirstServerLine:
      Log(LogLevel::kWarn, s,
          "server's first line \"" + EscapeForLog(text, 40) +
              "\" is not an FTP reply: no rewrites on this connection");
      break;
    case LineMeaning::NotFtp::kNoGreeting:
      Log(LogLevel::kWarn, s,
          "no 220 greeting (got " + std::to_string(m.code) +
              "): no rewrites on this connection");
      break;
  }
}

bool Engine::Impl::CheckedAnnounce(Session* s, Direction d, AnnounceKind ak,
                     std::string_view text, bool whole, bool overlong,
                     RewriteOp* op) {
  if (overlong) {
    Refuse(s, stats.refused_parse, "line over the length cap", text);
    return false;
  }
  if (!whole) {
    Refuse(s, stats.refused_split,
           "announcement split across segments could not be held", text);
    return false;
  }
  return Announce(s, d, ak, text, op);
}

}  // namespace ftpalg
