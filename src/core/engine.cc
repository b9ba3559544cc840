// SPDX-License-Identifier: GPL-2.0-or-later
// The per-packet pipeline. Order, for every control packet:
//   classify -> session -> payload (retransmitted part: re-apply recorded
//   rewrites; new part: line scan, policy, expectation, rewrite, hold back an
//   incomplete announcement) -> seq, ack and SACK mapping -> checksums.
// Invariant: per direction, the output byte stream is the input byte stream
// with exactly the recorded rewrites applied; every byte keeps one output
// position, whatever segmentation or retransmission carried it.
#include "ftpalg/engine.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/expectation_table.h"
#include "ftpalg/ftp_parser.h"
#include "ftpalg/packet.h"
#include "ftpalg/seq_ledger.h"
#include "ftpalg/segment_pool.h"
#include "ftpalg/session.h"
#include "ftpalg/tcp_stream.h"

namespace ftpalg {

std::optional<FlowKey> IdentityResolver::MasterForReply(const Endpoint& src,
                                                        const Endpoint& dst) {
  return FlowKey{dst, src};
}

NatBinding IdentityResolver::Binding(const FlowKey& m) {
  auto outside = [&](const IpAddress& a) {
    if (!config_.IsInside(a)) return a;
    const auto& pub =
        a.family == Family::kV4 ? config_.public_v4 : config_.public_v6;
    return pub ? *pub : a;
  };
  return NatBinding{m.client.addr, outside(m.client.addr),
                    outside(m.server.addr), m.server.addr};
}

namespace {

constexpr size_t kPrefixLen = sizeof(LineState::prefix);
constexpr size_t kMaxIpPacket = 65535;
constexpr uint8_t kPendingOther = 0, kPendingPassive = 1;

// A rewrite found while scanning: replace work[offset, offset+len).
struct RewriteOp {
  size_t offset = 0;
  size_t len = 0;
  uint8_t text_len = 0;
  char text[kMaxReplacementLen] = {};
  ChangePoint point;
};

std::string_view AsText(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

const char* DirName(Direction d) {
  return d == Direction::kOriginal ? "c->s" : "s->c";
}

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

struct Engine::Impl {
  Impl(const EngineConfig& c, ExpectationSink& s, FlowResolver& r, Logger& l,
       Stats& st)
      : cfg(c),
        sink(s),
        resolver(r),
        log(l),
        stats(st),
        sessions(c.max_sessions),
        expectations(c.max_expectations, sessions),
        pool(c.hold_slots, c.max_line_len),
        tracker(pool, c.max_gap_slots),
        work(kMaxIpPacket + c.max_line_len + 1),
        out(kMaxIpPacket + 1) {}

  const EngineConfig& cfg;
  ExpectationSink& sink;
  FlowResolver& resolver;
  Logger& log;
  Stats& stats;
  SessionTable sessions;
  ExpectationTable expectations;
  SegmentPool pool;   // bytes received but not forwarded yet, all sessions
  TcpStream tracker;  // per-direction stream rules over the pool
  std::vector<uint8_t> work;  // held bytes + new payload of one packet
  std::vector<uint8_t> out;   // output payload of one packet
  size_t out_len = 0;
  size_t out_limit = 0;       // room for the output payload in the packet
  bool out_edited = false;    // out holds rewritten or regenerated text
  uint32_t next_id = 1;
  uint64_t now_ms = 0;

  // Per-packet context.
  const PacketView* pv = nullptr;
  const uint8_t* payload = nullptr;

  void Log(LogLevel level, const Session* s, const std::string& msg) {
    if (!log.Enabled(level)) return;
    log.Log(level, s ? "#" + std::to_string(s->id) + " " + msg : msg);
  }

  // ---- sessions ----------------------------------------------------------

  void EndSession(Session* s, const char* reason) {
    expectations.RemoveSession(s, [&](const Expectation& e) { sink.Remove(e); });
    for (StreamState& st : s->stream) tracker.Release(st);
    resolver.Forget(s->key);
    // (Log messages are only built when they are written: no allocation per
    // session or rewrite otherwise.)
    if (log.Enabled(LogLevel::kInfo)) Log(LogLevel::kInfo, s,
        std::string("session ended (") + reason + "): " +
            std::to_string(s->rewrites) + " rewrites, " +
            std::to_string(s->refusals) + " refusals");
    sessions.Remove(s);
  }

  Session* CreateSession(const FlowKey& key, bool picked_up) {
    if (sessions.size() >= sessions.capacity()) {
      ++stats.sessions_evicted;
      EndSession(sessions.Oldest(), "LIMIT max-sessions reached: least recently used, evicted");
    }
    Session* s = sessions.Insert(key);
    s->id = next_id++;
    if (picked_up) {
      if (const std::optional<SessionSnapshot> snap = resolver.LoadSnapshot(key)) {
        // Offsets a previous run (or the other gateway) kept: this session
        // already spoke FTP. Each stream is read from its first segment that
        // starts like a line (a command verb, a reply code; FTP peers send a
        // line per segment), else from the next LF. Pairing starts afresh
        // from the commands seen here: a 227 is rewritten only after a PASV
        // this daemon saw; a reply to a command sent before the takeover
        // that arrives after it is not paired with a later PASV by mistake,
        // since the queue is empty when it comes (it is refused instead).
        for (int d = 0; d < 2; ++d) s->stream[d].ledger.Restore(snap->offset[d]);
        s->dialogue.greeting_seen = true;
        s->dialogue.commands_seen = true;
        s->dialogue.takeover_port = snap->pending_port;
        s->dialogue.takeover_by_server = snap->pending_announcer == Direction::kReply;
        s->dialogue.tls = snap->tls;
        s->restored = true;
        ++stats.sessions_restored;
        Log(LogLevel::kInfo, s,
            "offsets restored from conntrack: c->s " + std::to_string(snap->offset[0]) +
                ", s->c " + std::to_string(snap->offset[1]) + (snap->tls ? ", encrypted" : ""));
      }
    }
    if (next_id == 0) next_id = 1;  // 0 means "no owner"
    ++stats.sessions_created;
    if (picked_up) ++stats.sessions_picked_up;
    if (log.Enabled(LogLevel::kInfo)) Log(LogLevel::kInfo, s,
        "session " + key.ToString() +
            (picked_up ? " picked up mid-stream" : " started"));
    return s;
  }

  void SaveSnapshot(Session* s) {
    SessionSnapshot snap;
    for (int d = 0; d < 2; ++d) snap.offset[d] = s->stream[d].ledger.TotalOffset();
    snap.tls = s->dialogue.tls;
    resolver.SaveSnapshot(s->key, snap);
  }

  // ---- refusals and announcements ----------------------------------------

  void Refuse(Session* s, uint64_t& counter, const char* reason,
              std::string_view line) {
    ++stats.refused;
    ++counter;
    ++s->refusals;
    Log(LogLevel::kInfo, s,
        std::string("REFUSED ") + reason + ": \"" + EscapeForLog(line) +
            "\" passed unchanged");
  }

  ParseResult ParseByKind(AnnounceKind k, std::string_view line) {
    switch (k) {
      case AnnounceKind::kPort: return ParsePort(line);
      case AnnounceKind::kEprt: return ParseEprt(line);
      case AnnounceKind::kLprt: return ParseLprt(line);
      case AnnounceKind::k227: return Parse227(line);
      case AnnounceKind::k228: return Parse228(line);
      case AnnounceKind::k229: return Parse229(line);
    }
    return {};
  }

  // Installs e, moving to another public port while the chosen one is taken.
  // Returns false (nothing installed) when no port could be had.
  bool InstallWithFreePort(Session* s, Expectation* e, bool port_may_change) {
    if (s->exp_count >= cfg.max_expectations_per_session) {
      Expectation old;
      if (expectations.PopOldest(s, &old)) {
        sink.Remove(old);
        ++stats.expectations_evicted;
        Log(LogLevel::kInfo, s,
            "LIMIT max-expectations-per-session " +
                std::to_string(cfg.max_expectations_per_session) +
                " reached: oldest expectation, for " + old.target.ToString() +
                ", withdrawn");
      }
    }
    const uint16_t low = std::max<uint16_t>(cfg.min_data_port, 1024);
    for (int attempt = 0; attempt < 64; ++attempt) {
      const uint64_t owner = expectations.OwnerOf(e->target);
      const bool taken_by_other = owner != 0 && owner != s->id;
      if (!taken_by_other) {
        if (owner == 0 && expectations.full()) return false;
        const InstallResult r = sink.Install(*e);
        if (r == InstallResult::kOk) {
          if (owner == 0) {
            expectations.Add(s, *e, now_ms + uint64_t{e->timeout_s} * 1000);
          }
          ++stats.expectations;
          return true;
        }
        if (r == InstallResult::kFailed) {
          ++stats.expectations_failed;
          return false;
        }
      }
      if (!port_may_change) {
        // The announcer's own address:port (no NAT: the port is the
        // server's or client's to choose). It reuses a port another session
        // was promised, so that promise is over: the newer one takes it.
        Expectation old;
        if (expectations.Take(e->target, &old)) {
          sink.Remove(old);
          ++stats.expectations_evicted;
          Log(LogLevel::kInfo, s,
              "expectation for " + old.target.ToString() + " taken over from #" +
                  std::to_string(old.session_id) + " (port announced again)");
        }
        continue;
      }
      // Deterministic walk upwards through the unprivileged range.
      const uint16_t p = e->target.port;
      e->target.port = p >= 65535 ? low : static_cast<uint16_t>(p + 1);
    }
    return false;
  }

  // Acts on one complete announcement line. Returns true and fills *op when
  // the line must be rewritten.
  bool Announce(Session* s, Direction d, AnnounceKind kind,
                std::string_view line, RewriteOp* op) {
    Dialogue& dlg = s->dialogue;
    if (dlg.not_ftp) {
      Refuse(s, stats.refused_not_ftp, "not an FTP dialogue", line);
      return false;
    }
    const ParseResult pr = ParseByKind(kind, line);
    if (!pr.announcement) {
      Refuse(s, stats.refused_parse,
             (std::string("unparseable (") + std::string(ErrorName(pr.error)) +
              ")").c_str(),
             line);
      return false;
    }
    Announcement a = *pr.announcement;
    const IpAddress& sender = pv->src.addr;
    if (!a.has_address) a.endpoint.addr = sender;
    if (a.endpoint.addr.family != sender.family) {
      Refuse(s, stats.refused_family, "address family differs from the connection's", line);
      return false;
    }
    if (!(a.endpoint.addr == sender)) {
      Refuse(s, stats.refused_bounce,
             ("address " + a.endpoint.addr.ToString() + " is not the sender's " +
              sender.ToString() + " (bounce)").c_str(),
             line);
      return false;
    }
    if (dlg.takeover_port != 0 && dlg.takeover_by_server == (d == Direction::kReply)) {
      // The first announcement from this side since the takeover: if it
      // repeats the port the previous daemon rewrote last, it is that
      // segment retransmitted (its ACK was lost with the old gateway). The
      // peer has the rewritten copy; this one goes out unchanged at the
      // restored offset, which makes it an exact duplicate.
      const bool repeat = a.endpoint.port == dlg.takeover_port;
      dlg.takeover_port = 0;
      if (repeat) {
        Log(LogLevel::kInfo, s,
            std::string("retransmission of the announcement rewritten before the "
                        "takeover: passed as the duplicate it is: \"") +
                EscapeForLog(line) + "\"");
        return false;
      }
    }
    if (a.endpoint.port < cfg.min_data_port) {
      Refuse(s, stats.refused_low_port,
             ("port " + std::to_string(a.endpoint.port) + " below " +
              std::to_string(cfg.min_data_port)).c_str(),
             line);
      return false;
    }
    const NatBinding b = resolver.Binding(s->key);
    const bool from_client = d == Direction::kOriginal;
    const IpAddress& outside = from_client ? b.client_outside : b.server_outside;
    const bool inside = cfg.IsInside(a.endpoint.addr);
    const bool nat = inside && outside.family == a.endpoint.addr.family &&
                     !(outside == a.endpoint.addr);

    Expectation e;
    e.session_id = s->id;
    e.kind = kind;
    e.announcer = d;
    e.master = s->key;
    e.peer = from_client ? b.server_inside : b.client_inside;
    e.nat_to = a.endpoint;
    e.target = Endpoint{nat ? outside : a.endpoint.addr, a.endpoint.port};
    e.timeout_s = cfg.expectation_timeout_s;

    if (!nat) {
      if (inside) {
        ++stats.refused_no_public;
        Log(LogLevel::kInfo, s,
            "no public address for " + a.endpoint.addr.ToString() +
                ": not rewritten");
      }
      if (kind == AnnounceKind::k229 || cfg.expect_unrewritten) {
        if (!InstallWithFreePort(s, &e, false)) {
          Log(LogLevel::kWarn, s,
              "expectation for " + e.target.ToString() + " not installed");
        } else {
          Log(LogLevel::kInfo, s,
              std::string("EXPECT ") + std::string(KindName(kind)) + " " +
                  e.peer.ToString() + " -> " + e.target.ToString() +
                  " (no rewrite needed)");
        }
      }
      return false;
    }
    SeqLedger& ledger = s->stream[Index(d)].ledger;
    if (!ledger.HasRoom()) {
      if (!cfg.offline_capture) {  // ScanNew trims before such a line
        Refuse(s, stats.refused_limit, "LIMIT too many unacknowledged rewrites", line);
        return false;
      }
      ++stats.ledger_overflow;
      ledger.FoldOldest();
    }
    if (!InstallWithFreePort(s, &e, true)) {
      Refuse(s, stats.refused_limit,
             expectations.full()
                 ? "LIMIT max-expectations reached: no expectation could be installed"
                 : "no expectation could be installed",
             line);
      return false;
    }
    if (e.target.port != a.endpoint.port) ++stats.port_remaps;
    const size_t n =
        FormatReplacement(a, e.target, op->text, sizeof(op->text));
    const std::string_view old_span = line.substr(a.span_offset, a.span_len);
    if (n == 0) {
      RemoveExpectation(e);
      Refuse(s, stats.refused_family, "public address cannot be expressed", line);
      return false;
    }
    if (kind == AnnounceKind::k229 && old_span == std::string_view(op->text, n)) {
      Log(LogLevel::kInfo, s,
          "EXPECT 229 " + e.peer.ToString() + " -> " + e.target.ToString() +
              " nat " + e.nat_to.ToString());
      return false;  // port kept: nothing to rewrite
    }
    op->text_len = static_cast<uint8_t>(n);
    op->len = a.span_len;
    op->offset = a.span_offset;  // relative to the line; caller adds
    op->point.in_len = static_cast<uint8_t>(a.span_len);
    op->point.out_len = static_cast<uint8_t>(n);
    op->point.port = e.target.port;
    op->point.kind = kind;
    op->point.delimiter = a.delimiter;
    if (!log.Enabled(LogLevel::kInfo)) return true;
    std::string new_line(line.substr(0, a.span_offset));
    new_line.append(op->text, n);
    new_line.append(line.substr(a.span_offset + a.span_len));
    const long delta = static_cast<long>(n) - static_cast<long>(a.span_len);
    Log(LogLevel::kInfo, s,
        std::string("REWRITE ") + DirName(d) + " '" + EscapeForLog(line) +
            "' -> '" + EscapeForLog(new_line) + "' (delta " +
            (delta >= 0 ? "+" : "") + std::to_string(delta) + "); EXPECT " +
            e.peer.ToString() + " -> " + e.target.ToString() + " nat " +
            e.nat_to.ToString());
    return true;
  }

  // Withdraws the expectation just installed for e's target.
  void RemoveExpectation(const Expectation& e) {
    Expectation x;
    if (expectations.Take(e.target, &x)) sink.Remove(x);
  }

  // ---- dialogue ----------------------------------------------------------

  void PushCommand(Dialogue& dlg, uint8_t kind) {
    if (dlg.pending_count >= 16) {
      dlg.commands_lost = true;
      return;
    }
    dlg.pending_kinds |= uint32_t{kind} << (2 * dlg.pending_count);
    ++dlg.pending_count;
  }

  // Commands or replies went by unseen (a given-up hole): which reply
  // answers which command is unknown until the outstanding commands seen
  // from now on are all answered. A 227/228/229 is not rewritten meanwhile.
  static void ForgetPairing(Dialogue& dlg, Direction d) {
    dlg.pending_kinds = 0;
    dlg.pending_count = 0;
    dlg.commands_lost = true;
    if (d == Direction::kReply) dlg.multiline_code = 0;
  }

  // A hole in d's stream that cannot wait (not filled within the gap
  // timeout, too much kept beyond it, or acknowledged by the receiver
  // although never seen here: a capture that missed bytes). The stream
  // resumes at `resume_at`: the bytes there and after pass unparsed, each
  // keeping its position, until the receiver acknowledges them (the stream
  // is whole again); parsing of d then restarts at the next line start. The
  // other direction is not affected. Bytes that fill the hole later pass
  // unchanged: the bytes after them are placed already.
  void GiveUpHole(Session* s, Direction d, uint32_t resume_at, const char* why) {
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
    if (!s->dialogue.tls) ForgetPairing(s->dialogue, d);
  }

  // Returns the kind of the oldest outstanding command, or 0xff if none.
  uint8_t PopCommand(Dialogue& dlg) {
    if (dlg.pending_count == 0) return 0xff;
    const uint8_t k = dlg.pending_kinds & 3;
    dlg.pending_kinds >>= 2;
    --dlg.pending_count;
    // Every recorded command answered: treat the dialogue as lock-step
    // again (pairing was unknown only while lost commands could be queued).
    if (dlg.pending_count == 0) dlg.commands_lost = false;
    return k;
  }

  // One complete line. `text` is the whole line when `whole`, else only its
  // first bytes (the line began in a segment already forwarded).
  bool OnLine(Session* s, Direction d, std::string_view text, bool whole,
              bool overlong, RewriteOp* op) {
    Dialogue& dlg = s->dialogue;
    if (dlg.tls) return false;
    if (d == Direction::kOriginal) {
      const Verb verb = ClassifyCommand(text);
      if (!dlg.commands_seen) {
        dlg.commands_seen = true;
        if (verb == Verb::kUnknown && !dlg.not_ftp) {
          dlg.not_ftp = true;
          Log(LogLevel::kWarn, s,
              "first command \"" + EscapeForLog(text, 40) +
                  "\" is not FTP: no rewrites on this connection");
        }
      }
      const bool passive =
          verb == Verb::kPasv || verb == Verb::kEpsv || verb == Verb::kLpsv;
      PushCommand(dlg, passive ? kPendingPassive : kPendingOther);
      AnnounceKind ak;
      if (verb == Verb::kPort) {
        ak = AnnounceKind::kPort;
      } else if (verb == Verb::kEprt) {
        ak = AnnounceKind::kEprt;
      } else if (verb == Verb::kLprt) {
        ak = AnnounceKind::kLprt;
      } else {
        return false;
      }
      return CheckedAnnounce(s, d, ak, text, whole, overlong, op);
    }

    const std::optional<ReplyCode> rc = ParseReplyCode(text);
    if (dlg.multiline_code != 0) {
      if (!rc || !rc->final || rc->code != dlg.multiline_code) return false;
      dlg.multiline_code = 0;
    } else if (!rc) {
      if (!dlg.greeting_seen && !dlg.not_ftp) {
        dlg.not_ftp = true;
        Log(LogLevel::kWarn, s,
            "server's first line \"" + EscapeForLog(text, 40) +
                "\" is not an FTP reply: no rewrites on this connection");
      }
      return false;
    } else if (!rc->final) {
      dlg.multiline_code = rc->code;
      return false;
    }
    if (!dlg.greeting_seen) {
      if (rc->code == 220) {
        dlg.greeting_seen = true;
      } else if (rc->code / 100 != 1 && !dlg.not_ftp) {
        dlg.not_ftp = true;
        Log(LogLevel::kWarn, s,
            "no 220 greeting (got " + std::to_string(rc->code) +
                "): no rewrites on this connection");
      }
      return false;
    }
    if (rc->code / 100 == 1) return false;  // preliminary: command still open
    const bool lost_before_pop = dlg.commands_lost;
    const uint8_t answered = PopCommand(dlg);
    // 234 answers only AUTH (RFC 2228): stop parsing even when the AUTH was
    // never seen (a gap hid it); parsing on would read ciphertext as FTP.
    if (rc->code == 234) {
      dlg.tls = true;
      ++stats.tls_sessions;
      // Always offered: the resolver keeps it only where labels already
      // hold this session's state (a rewrite, a pending data connection).
      SaveSnapshot(s);
      Log(LogLevel::kInfo, s,
          "AUTH accepted (234): control connection encrypted, parsing stopped");
      return false;
    }
    AnnounceKind ak;
    if (rc->code == 227) {
      ak = AnnounceKind::k227;
    } else if (rc->code == 228) {
      ak = AnnounceKind::k228;
    } else if (rc->code == 229) {
      ak = AnnounceKind::k229;
    } else {
      return false;
    }
    if (answered != kPendingPassive) {
      Refuse(s, stats.refused_unsolicited,
             "reply answers no PASV/EPSV/LPSV", text);
      return false;
    }
    if (lost_before_pop) {
      // A command went unseen (gap, or more than 16 outstanding): this reply
      // may answer it rather than the PASV it was paired with.
      Refuse(s, stats.refused_unsolicited,
             "pairing unknown after unseen commands", text);
      return false;
    }
    return CheckedAnnounce(s, d, ak, text, whole, overlong, op);
  }

  bool CheckedAnnounce(Session* s, Direction d, AnnounceKind ak,
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

  // ---- output building ---------------------------------------------------

  bool Emit(const uint8_t* p, size_t n) {
    if (out_len + n > out_limit) return false;
    std::memcpy(out.data() + out_len, p, n);
    out_len += n;
    return true;
  }

  // Re-emits already-forwarded input bytes [from, to) (they sit at
  // payload + (from - seg_seq)), re-applying recorded rewrites identically.
  // Returns the input position where emission stopped (== to unless a
  // rewrite span crosses `to`).
  uint32_t EmitOld(Session* s, Direction d, uint32_t seg_seq, uint32_t from,
                   uint32_t to) {
    const SeqLedger& ledger = s->stream[Index(d)].ledger;
    uint32_t pos = from;
    while (SeqLt(pos, to)) {
      const ChangePoint* next = nullptr;
      for (int i = 0; i < ledger.size(); ++i) {
        const ChangePoint& c = ledger.at(i);
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

  size_t Regenerate(Session* s, Direction d, const ChangePoint& c, char* text) {
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

  // Whether bytes that begin a segment of a restored session look like the
  // start of a line: a known command verb (client) or "NNN " / "NNN-"
  // (server). Used once per stream, to read from the first such segment.
  static bool StartsLikeLine(Direction d, const uint8_t* w, size_t n) {
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

  // What ScanNew did not forward: bytes held back at the end (an incomplete
  // announcement line) and bytes trimmed (not consumed: the sender resends
  // them once the receiver acknowledged the rest).
  struct ScanTail {
    size_t held = 0;
    size_t trimmed = 0;
  };

  // Live, a rewrite needs a free ledger point (each unacknowledged rewrite
  // is kept to regenerate its retransmissions). Without one, the segment is
  // cut before the line: the receiver acknowledges what it got, which frees
  // points, and the sender resends the rest. Offline the oldest point is
  // folded instead (a capture cannot be asked to resend).
  bool MustTrimBefore(const StreamState& st, Direction d, const LineState& ls,
                      uint16_t multiline) const {
    return !cfg.offline_capture && !st.ledger.HasRoom() &&
           IsCandidatePrefix(d, ls.prefix, ls.prefix_len, multiline);
  }

  // Scans new bytes work[0..n) (input positions from w_seq) line by line,
  // appending them to the output with rewrites applied.
  ScanTail ScanNew(Session* s, Direction d, uint32_t w_seq, size_t n, bool fin) {
    StreamState& st = s->stream[Index(d)];
    LineState& ls = st.line;
    const uint8_t* w = work.data();
    constexpr size_t kBefore = static_cast<size_t>(-1);
    size_t line_start = ls.line_len == 0 ? 0 : kBefore;
    size_t copied = 0;
    if (s->dialogue.tls || st.gap_open) {
      Emit(w, n);  // parsing stopped: bytes only keep their positions
      // Where the next line starts is known again if these bytes end one.
      if (n > 0) {
        ls = LineState{};
        ls.synced = w[n - 1] == '\n';
      }
      return {};
    }
    size_t i = 0;
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
      const size_t take = (found ? lf + 1 : n) - i;
      const size_t room = kPrefixLen - ls.prefix_len;
      const size_t to_prefix = take < room ? take : room;
      std::memcpy(ls.prefix + ls.prefix_len, w + i, to_prefix);
      ls.prefix_len = static_cast<uint8_t>(ls.prefix_len + to_prefix);
      ls.line_len = static_cast<uint16_t>(std::min<size_t>(0xffff, ls.line_len + take));
      if (!found) break;
      const bool overlong = ls.line_len > size_t{cfg.max_line_len};
      if (overlong) ++stats.overlong_lines;
      const bool whole = line_start != kBefore && !ls.broken;
      std::string_view text;
      if (line_start != kBefore) {
        text = AsText(w + line_start, lf - line_start);
      } else {
        text = std::string_view(ls.prefix, std::min<size_t>(ls.prefix_len, ls.line_len - 1));
      }
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (line_start != kBefore &&
          MustTrimBefore(st, d, ls, s->dialogue.multiline_code)) {
        ++stats.ledger_trims;
        Log(LogLevel::kDebug, s,
            std::string("no ledger room for another rewrite in ") + DirName(d) +
                ": segment cut before \"" + EscapeForLog(text, 40) +
                "\"; the sender resends it once the rest is acknowledged");
        Emit(w + copied, line_start - copied);
        ls = LineState{};
        ls.synced = true;
        return {0, n - line_start};
      }
      RewriteOp op;
      if (OnLine(s, d, text, whole, overlong, &op)) {
        const size_t at = line_start + op.offset;
        if (!ApplyRewrite(s, d, w_seq, at, op, w, &copied)) {
          Log(LogLevel::kWarn, s, "rewrite does not fit in the packet");
        }
      }
      ls = LineState{};
      ls.synced = true;
      line_start = lf + 1;
      i = lf + 1;
    }
    // Incomplete last line: hold it back if it may become an announcement.
    size_t hold = 0;
    if (ls.synced && ls.line_len > 0 && !s->dialogue.tls) {
      const bool candidate =
          IsCandidatePrefix(d, ls.prefix, ls.prefix_len, s->dialogue.multiline_code);
      if (candidate && line_start != kBefore && !ls.broken && !fin &&
          ls.line_len <= cfg.max_line_len && !s->dialogue.not_ftp) {
        if (!tracker.HoldLine(st, w_seq + static_cast<uint32_t>(line_start),
                              w + line_start, n - line_start,
                              static_cast<uint32_t>(now_ms))) {
          ++stats.hold_pool_exhausted;
          Log(LogLevel::kWarn, s,
              std::string("LIMIT hold pool exhausted: an incomplete line in ") +
                  DirName(d) + " is not held back and passes unchanged");
          ls.broken = true;
        } else {
          hold = n - line_start;
          ls = LineState{};  // the held line is scanned again when whole
          ls.synced = true;
          ++stats.holds;
        }
      } else if (candidate) {
        ls.broken = true;
      }
    }
    Emit(w + copied, n - hold - copied);
    return {hold, 0};
  }

  bool ApplyRewrite(Session* s, Direction d, uint32_t w_seq, size_t at,
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
    st.ledger.Add(cp);
    ++stats.rewrites;
    ++s->rewrites;
    SaveSnapshot(s);
    return true;
  }

  // ---- per packet --------------------------------------------------------

  // Room for bytes merged into this packet's payload (held line, kept
  // segments): the packet may grow to max_packet_len (or its own length),
  // less a margin for the rewrites' growth.
  size_t MergeRoom(size_t have) const {
    constexpr size_t kRewriteMargin = 64;
    size_t allowed = std::max<size_t>(cfg.max_packet_len, pv->total_len);
    allowed = allowed > pv->payload_offset ? allowed - pv->payload_offset : 0;
    allowed = std::min({allowed, out_limit, work.size()});
    return allowed > have + kRewriteMargin ? allowed - have - kRewriteMargin : 0;
  }

  // The client spoke before the server sent a byte: not an FTP dialogue
  // (FTP servers speak first). Judged by the server's stream, not by the
  // arrival of a greeting, so a greeting still held beyond a hole counts.
  void CheckClientSpeaksFirst(Session* s, Direction d) {
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
  void CheckHole(Session* s, Direction d) {
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
  bool KeepOrGiveUp(Session* s, Direction d, uint32_t seg_seq, size_t len) {
    StreamState& st = s->stream[Index(d)];
    if (seg_seq - st.next_seq > TcpStream::kMaxAhead) {
      ++stats.out_of_window;
      Log(LogLevel::kDebug, s,
          std::string("segment far beyond the ") + DirName(d) +
              " stream: payload not kept, nothing changed");
      return true;
    }
    if (tracker.KeepBeyondHole(st, seg_seq, payload, len, static_cast<uint32_t>(now_ms))) {
      ++stats.out_of_order;
      Log(LogLevel::kDebug, s,
          std::string("segment beyond a hole in ") + DirName(d) +
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

  // Only the held line came again (a retransmission): keep holding, unless
  // the hold is over time; then let the bytes go unchanged.
  uint32_t RetransmittedHeldLine(Session* s, StreamState& st, uint32_t out_start,
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
  uint32_t HandlePayload(Session* s, Direction d, uint32_t seg_seq,
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
    // 1. Bytes forwarded before: re-emit identically.
    if (SeqLt(seg_seq, emitted_end)) {
      const uint32_t old_end = SeqLt(seg_end, emitted_end) ? seg_end : emitted_end;
      uint32_t from = seg_seq;
      if (const ChangePoint* c = st.ledger.SpanAt(from); c && c->pos != from) {
        from = c->end();  // starts inside a rewritten span: skip it
        ++stats.partial_span_trims;
      }
      out_start = from;
      if (SeqLt(from, old_end)) {
        const uint32_t stop = EmitOld(s, d, seg_seq, from, old_end);
        if (stop != old_end) {
          *whole = false;
          return out_start;
        }
      }
    }
    // 2. New bytes, in sequence order: the held line, kept bytes that
    // continue the stream, the rest of this segment, kept bytes after it.
    const uint16_t held = tracker.HeldLine(st);
    size_t n = 0;
    uint32_t w_seq = st.next_seq;
    if (held != kNoSlot) {
      n = pool.meta(held).len;
      std::memcpy(work.data(), pool.data(held), n);
      w_seq = pool.meta(held).seq;
    }
    uint32_t end = st.next_seq;
    size_t taken = tracker.TakeContiguous(st, &end, work.data() + n, MergeRoom(n));
    n += taken;
    if (SeqLe(seg_seq, end) && SeqLt(end, seg_end)) {
      const size_t rest = seg_end - end;
      if (rest <= work.size() - n) {
        std::memcpy(work.data() + n, payload + (end - seg_seq), rest);
        n += rest;
        end = seg_end;
        const size_t after = tracker.TakeContiguous(st, &end, work.data() + n, MergeRoom(n));
        n += after;
        taken += after;
      }
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

  // Maps a 32-bit ack/SACK edge acknowledging direction `acked`.
  uint32_t MapAck(Session* s, Direction acked, uint32_t v) {
    const SeqLedger& l = s->stream[Index(acked)].ledger;
    return cfg.offline_capture ? l.ToOutput(v) : l.ToInput(v);
  }

  // The cumulative ack field. Offline, a receiver in the capture may ack
  // bytes the engine holds back or keeps beyond a hole: in the rewritten
  // world it cannot have them yet, so the ack is clamped to what was
  // forwarded.
  uint32_t MapAckField(Session* s, Direction acked, uint32_t v) {
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
  bool MapSack(Session* s, Direction acked, uint8_t* tcp, size_t hlen) {
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

  Decision Process(PacketBuffer& pkt, uint64_t now) {
    now_ms = now;
    ++stats.packets;
    PacketView v;
    const PacketError err = ParsePacket(pkt.data, pkt.len, &v);
    if (err != PacketError::kNone) {
      if (err == PacketError::kTruncated || err == PacketError::kBadHeader) {
        ++stats.malformed_packets;
      }
      return {};
    }
    Direction d;
    FlowKey key;
    if (cfg.IsControlPort(v.dst.port)) {
      d = Direction::kOriginal;
      key = FlowKey{v.src, v.dst};
    } else if (cfg.IsControlPort(v.src.port)) {
      d = Direction::kReply;
      const std::optional<FlowKey> m = resolver.MasterForReply(v.src, v.dst);
      if (!m) return {};
      key = *m;
    } else {
      return {};
    }
    ++stats.control_packets;
    pv = &v;
    const bool syn = v.flags & kTcpSyn, ackf = v.flags & kTcpAck,
               rst = v.flags & kTcpRst, fin = v.flags & kTcpFin;
    const bool client_syn = syn && !ackf && d == Direction::kOriginal;
    Session* s = sessions.Find(key);
    if (s && client_syn && s->stream[0].seen && s->stream[0].next_seq != v.seq + 1 &&
        (s->closing || !s->stream[0].data_seen)) {
      // A new connection on the tuple (port reuse after a close, or the
      // client gave up a handshake and started another): nothing of the
      // old one may leak into it (offsets, pairing, kept bytes).
      EndSession(s, s->closing ? "tuple reused by a new connection"
                               : "new SYN before any data: a new connection");
      s = nullptr;
    }
    if (!s) {
      if (rst) return {};
      s = CreateSession(key, !client_syn);
    }
    s->last_seen_s = static_cast<uint32_t>(now / 1000);
    sessions.Touch(s);
    StreamState& st = s->stream[Index(d)];
    if (syn) {
      const uint32_t before = st.next_seq;
      const bool first = !st.seen;
      switch (TcpStream::OnSyn(st, v.seq)) {
        case SynOutcome::kLearned:
          if (first && s->restored) st.line.synced = false;
          break;
        case SynOutcome::kRetransmitted:
          break;
        case SynOutcome::kRebased:
          ++stats.isn_rebased;
          tracker.Release(st);
          Log(LogLevel::kInfo, s,
              std::string(DirName(d)) + " SYN with a new ISN before any data (" +
                  std::to_string(static_cast<int32_t>(v.seq + 1 - before)) +
                  " from the first): the stream follows the new one");
          break;
        case SynOutcome::kStray:
          // Another ISN after data (or a late duplicate): the peer answers
          // it with a challenge ACK; this connection's state stays.
          ++stats.syn_stray;
          Log(LogLevel::kDebug, s, std::string("stray SYN in ") + DirName(d) + " ignored");
          return {};
      }
    } else if (!st.seen) {
      st.seen = true;
      st.next_seq = v.seq;
      // A stream first seen mid-stream is read as if it began here. The
      // dialogue rules then decide: only a server whose first bytes are a
      // 220 greeting, with no client bytes before it, is treated as FTP
      // (a capture that missed just the handshake). A session picked up
      // after its start (daemon restart) fails them and passes untouched.
      st.line.synced = !s->restored;
    }
    if (v.payload_len > 0 && !rst) st.data_seen = true;
    bool rst_counts = false;
    if (rst) {
      rst_counts = TcpStream::RstAcceptable(st, v.seq);
      if (!rst_counts) {
        ++stats.rst_ignored;
        Log(LogLevel::kInfo, s,
            std::string("RST in ") + DirName(d) +
                " outside the window ignored: the session stays");
      }
    }

    bool changed = false;
    size_t new_total = v.total_len;
    uint32_t first_input = v.seq + (syn ? 1u : 0u);
    bool clear_fin = false;
    if (v.payload_len > 0 && !rst) {
      payload = pkt.data + v.payload_offset;
      out_len = 0;
      out_edited = false;
      const size_t room = std::min(pkt.capacity, kMaxIpPacket);
      out_limit = room > v.payload_offset ? room - v.payload_offset : 0;
      out_limit = std::min(out_limit, out.size());
      bool whole = true;
      first_input = HandlePayload(s, d, first_input, v.payload_len, fin, &whole);
      if (fin && !whole) clear_fin = true;
      // Same start, same length and no rewritten text: the bytes are the
      // input's (everything else was copied through unchanged).
      const bool same = first_input == v.seq + (syn ? 1u : 0u) &&
                        out_len == v.payload_len && !out_edited;
      if (!same) {
        std::memcpy(pkt.data + v.payload_offset, out.data(), out_len);
        new_total = v.payload_offset + out_len;
        changed = true;
        if (out_len == 0 && !ackf) {
          ++stats.dropped_packets;
          return Decision{Verdict::kDrop, false};
        }
      }
    }
    // A bare ACK beyond the bytes seen says data was lost before us: its
    // retransmission will arrive in order, so nothing changes here.

    // Sequence number of the first output byte (SYN keeps its ISN).
    uint8_t* tcp = pkt.data + v.tcp_offset;
    const uint32_t new_seq =
        st.ledger.ToOutput(first_input) - (syn ? 1u : 0u);
    if (new_seq != v.seq) {
      StoreBe32(tcp + 4, new_seq);
      changed = true;
    }
    const Direction other = Opposite(d);
    if (ackf) {
      const uint32_t mapped = MapAckField(s, other, v.ack);
      const uint32_t acked_input =
          cfg.offline_capture ? v.ack : s->stream[Index(other)].ledger.ToInput(v.ack);
      if (mapped != v.ack) {
        StoreBe32(tcp + 8, mapped);
        changed = true;
      }
      if (MapSack(s, other, tcp, v.tcp_header_len)) changed = true;
      StreamState& os = s->stream[Index(other)];
      os.ledger.NoteAck(acked_input);
      if (os.gap_open && SeqLe(os.gap_end, acked_input)) {
        os.gap_open = false;
        ++stats.gap_resumed;
        Log(LogLevel::kInfo, s,
            std::string(DirName(other)) +
                " stream whole again at the receiver: parsing resumes at the next line");
      }
    }
    if (clear_fin) {
      tcp[13] = static_cast<uint8_t>(tcp[13] & ~kTcpFin);
      changed = true;
    } else if (fin) {
      // The FIN takes one sequence number after the data; it counts only
      // in sequence (not beyond a hole, not a stray one).
      TcpStream::OnFin(st, v.seq + (syn ? 1u : 0u) + static_cast<uint32_t>(v.payload_len));
    }
    if ((rst_counts || (s->stream[0].fin && s->stream[1].fin)) && !s->closing) {
      // The session stays for late retransmissions (their seq/ack still
      // need mapping), but it opens nothing any more.
      s->closing = true;
      expectations.RemoveSession(s, [&](const Expectation& e) { sink.Remove(e); });
    }
    if (!changed) return {};
    PacketView nv = v;
    nv.total_len = new_total;
    nv.payload_len = new_total - v.payload_offset;
    FinalizePacket(pkt.data, nv);
    pkt.len = new_total;
    ++stats.modified_packets;
    if (new_total > cfg.max_packet_len && new_total > v.total_len) {
      ++stats.oversize_after_rewrite;
      Log(LogLevel::kWarn, s,
          "packet grew to " + std::to_string(new_total) +
              " bytes, over max_packet_len " +
              std::to_string(cfg.max_packet_len) +
              ": the path MTU may reject it (sender will retransmit smaller)");
    }
    return Decision{Verdict::kAccept, true};
  }

  void Expire(uint64_t now) {
    now_ms = now;
    const uint32_t now_s = static_cast<uint32_t>(now / 1000);
    expectations.Expire(now, [&](const Expectation& e) {
      ++stats.expectations_expired;
      sink.Remove(e);
    });
    // Walk from the least recently used end: bounded work per call, and
    // it stops at the first session too recent for any timeout.
    const uint32_t soonest = std::min(cfg.closed_linger_s, cfg.idle_timeout_s);
    int budget = 4096;
    for (Session* s = sessions.Oldest(); s != nullptr && budget-- > 0;) {
      const uint32_t prev = s->lru_prev;
      const uint32_t idle = now_s - s->last_seen_s;
      if (idle < soonest) break;
      if (s->closing && idle >= cfg.closed_linger_s) {
        ++stats.sessions_ended;
        EndSession(s, "closed");
      } else if (idle >= cfg.idle_timeout_s) {
        ++stats.sessions_expired;
        EndSession(s, "idle timeout");
      }
      s = prev == kNoIndex ? nullptr : sessions.at(prev);
    }
  }
};

Engine::Engine(const EngineConfig& config, ExpectationSink& sink,
               FlowResolver& resolver, Logger& logger, Stats& stats)
    : impl_(std::make_unique<Impl>(config, sink, resolver, logger, stats)) {}

Engine::~Engine() = default;

Decision Engine::Process(PacketBuffer& packet, uint64_t now_ms) {
  return impl_->Process(packet, now_ms);
}

void Engine::Expire(uint64_t now_ms) { impl_->Expire(now_ms); }

void Engine::Shutdown(const char* reason) {
  while (Session* s = impl_->sessions.Oldest()) {
    impl_->EndSession(s, reason);
  }
}

size_t Engine::session_count() const { return impl_->sessions.size(); }

size_t Engine::BytesPerSession() {
  // Slot + its share of the hash index (one 4-byte bucket per slot).
  return sizeof(Session) + sizeof(uint32_t);
}

}  // namespace ftpalg
