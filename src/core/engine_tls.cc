// SPDX-License-Identifier: GPL-2.0-or-later
// After AUTH was accepted (234): each direction's TLS records are followed
// (tls_record_tracker) without decrypting them; a direction whose bytes
// after a complete record start an FTP line again (RFC 4217 CCC) is parsed
// from that line on. Bytes that are neither, and holes, stop it for good.
#include "src/core/engine_impl.h"

namespace ftpalg {

void Engine::Impl::StartTls(Session* s) {
  ++stats.tls_sessions;
  for (StreamState& st : s->stream) TlsRecordTracker::Start(st.tls);
  // A direction passing bytes unparsed after a hole has no framing to follow.
  for (Direction d : {Direction::kOriginal, Direction::kReply}) {
    if (s->stream[Index(d)].gap_open) LoseTlsFraming(s, d, "a hole was given up when AUTH was accepted");
  }
  // Always offered: the resolver keeps it only where labels already
  // hold this session's state (a rewrite, a pending data connection).
  SaveSnapshot(s);
  Log(LogLevel::kInfo, s,
      "AUTH accepted (234): control connection encrypted, parsing stopped; its TLS "
      "records are followed and a side is parsed again only if it returns to cleartext (CCC)");
}

// Bytes w[from, n) of d, whose TLS records are followed. Returns where
// line parsing resumes (st.line set up for that line), or n; *probe_at is
// where a possible line start, undecided at the end, begins (else n).
size_t Engine::Impl::FollowTls(Session* s, Direction d, const uint8_t* w, size_t from,
                               size_t n, size_t* probe_at) {
  StreamState& st = s->stream[Index(d)];
  const TlsScan r = TlsRecordTracker::Feed(st.tls, d, w + from, n - from);
  *probe_at = n;
  switch (r.what) {
    case TlsScan::What::kInTls:
      if (r.probe_at != TlsScan::kNoProbe) *probe_at = from + r.probe_at;
      return n;
    case TlsScan::What::kStopped:
      return n;
    case TlsScan::What::kUnrecognised: {
      ++stats.tls_unrecognised;
      const size_t at = from + r.at;
      Log(LogLevel::kWarn, s,
          std::string(DirName(d)) + " stream after AUTH is neither a TLS record nor an FTP " +
              (d == Direction::kOriginal ? "command" : "reply") + " (\"" +
              EscapeForLog(AsText(w + at, std::min<size_t>(n - at, 16)), 16) +
              "\"): parsing of it stays stopped for good");
      return n;
    }
    case TlsScan::What::kCleartext:
      break;
  }
  ResumeCleartext(s, d, r);
  return from + r.at;
}

void Engine::Impl::ResumeCleartext(Session* s, Direction d, const TlsScan& r) {
  ++stats.tls_cleartext_resumed;
  StreamState& st = s->stream[Index(d)];
  st.line = LineState{};
  st.line.synced = true;
  if (r.carried > 0) {
    // The line's first bytes went by in an earlier segment (unparsed):
    // known for pairing, too late to rewrite.
    std::memcpy(st.line.prefix, r.carry, r.carried);
    st.line.prefix_len = r.carried;
    st.line.line_len = r.carried;
    st.line.broken = true;
  }
  Dialogue& dlg = s->dialogue;
  const bool first = dlg.tls;
  const Direction other = d == Direction::kOriginal ? Direction::kReply : Direction::kOriginal;
  const TlsRecordState& other_tls = s->stream[Index(other)].tls;
  if (first) {
    FtpDialogue::ResumeAfterTls(dlg);
    // Replies are paired with commands only if the commands are seen.
    if (d == Direction::kReply && TlsRecordTracker::Stopped(other_tls)) dlg.commands_lost = true;
  }
  // Both sides in cleartext: a daemon restarted from now on may parse the
  // session again. Until then the snapshot of the 234 (encrypted) stands:
  // a restarted daemon would not know where the other side's records end.
  if (!TlsRecordTracker::Active(other_tls)) SaveSnapshot(s);
  Log(LogLevel::kInfo, s,
      std::string(DirName(d)) + " stream back to cleartext after its TLS records (CCC): parsing resumes" +
          (first ? "; commands and replies inside TLS were unseen, pairing starts afresh" : ""));
}

// d's bytes went by without the tracker (a given-up hole): its record
// framing is lost, so d is never parsed again (no guessing where records
// end). Logged and counted once.
void Engine::Impl::LoseTlsFraming(Session* s, Direction d, const char* why) {
  StreamState& st = s->stream[Index(d)];
  if (!TlsRecordTracker::Active(st.tls) || TlsRecordTracker::Stopped(st.tls)) return;
  TlsRecordTracker::LoseFraming(st.tls);
  ++stats.tls_framing_lost;
  Log(LogLevel::kInfo, s,
      std::string(DirName(d)) + " stream: TLS record framing lost (" + why +
          "): parsing of it stays stopped for good");
}

}  // namespace ftpalg
