// SPDX-License-Identifier: GPL-2.0-or-later
// Announcements: the policy's verdict applied (refusal, duplicate, kept,
// rewritten), the expectation installed on a free public port.
#include "src/core/engine_impl.h"

namespace ftpalg {

void Engine::Impl::Refuse(Session* s, uint64_t& counter, const char* reason,
            std::string_view line) {
  ++stats.refused;
  ++counter;
  ++s->refusals;
  if (!log.Enabled(LogLevel::kInfo)) return;  // no string built for nobody
  Log(LogLevel::kInfo, s,
      std::string("REFUSED ") + reason + ": \"" + EscapeForLog(line) +
          "\" passed unchanged");
}

uint64_t& Engine::Impl::RefusalCounter(AnnouncementCheck::Refusal r) {
  using R = AnnouncementCheck::Refusal;
  switch (r) {
    case R::kNotFtp: return stats.refused_not_ftp;
    case R::kParse: return stats.refused_parse;
    case R::kFamily: return stats.refused_family;
    case R::kBounce: return stats.refused_bounce;
    case R::kLowPort: return stats.refused_low_port;
  }
  return stats.refused_parse;
}

// Acts on one complete announcement line (AnnouncementPolicy decides).
// Returns true and fills *op when the line must be rewritten.
bool Engine::Impl::Announce(Session* s, Direction d, AnnounceKind kind,
              std::string_view line, RewriteOp* op) {
  const IpAddress& sender = pv->src.addr;
  const AnnouncementCheck c = policy.Examine(s->dialogue, d, kind, line, sender);
  if (c.verdict == AnnouncementCheck::Verdict::kRefused) {
    Refuse(s, RefusalCounter(c.refusal), policy.Explain(c, sender).c_str(), line);
    return false;
  }
  if (c.verdict == AnnouncementCheck::Verdict::kDuplicate) {
    Log(LogLevel::kInfo, s,
        std::string("retransmission of the announcement rewritten before the "
                    "takeover: passed as the duplicate it is: \"") +
            EscapeForLog(line) + "\"");
    return false;
  }
  const Announcement& a = c.announcement;
  const AnnouncementPlacement p = policy.Place(a, d, resolver.Binding(s->key));
  Expectation e;
  e.session_id = s->id;
  e.kind = kind;
  e.announcer = d;
  e.master = s->key;
  e.peer = p.peer;
  e.nat_to = a.endpoint;
  e.target = p.target;
  e.timeout_s = cfg.expectation_timeout_s;
  if (!p.rewrite) {
    ExpectUnrewritten(s, p, &e);
    return false;
  }
  if (!LedgerRoomForRewrite(s, d, line)) return false;
  if (!InstallWithFreePort(s, &e, true)) {
    Refuse(s, stats.refused_limit,
           expectations.full()
               ? "LIMIT max-expectations reached: no expectation could be installed"
               : "no expectation could be installed",
           line);
    return false;
  }
  if (e.target.port != a.endpoint.port) ++stats.port_remaps;
  const size_t n = FormatReplacement(a, e.target, op->text, sizeof(op->text));
  if (n == 0) {
    RemoveExpectation(e);
    Refuse(s, stats.refused_family, "public address cannot be expressed", line);
    return false;
  }
  if (kind == AnnounceKind::k229 &&
      line.substr(a.span_offset, a.span_len) == std::string_view(op->text, n)) {
    Log(LogLevel::kInfo, s,
        "EXPECT 229 " + e.peer.ToString() + " -> " + e.target.ToString() + " nat " +
            e.nat_to.ToString());
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
  LogRewrite(s, d, line, a, *op, e);
  return true;
}

// Valid, but nothing to rewrite (a public address, or no public address
// known for an inside one): expected as announced where the firewall needs
// it (and always for a 229, which has no address to rewrite).
void Engine::Impl::ExpectUnrewritten(Session* s, const AnnouncementPlacement& p, Expectation* e) {
  if (p.inside) {
    ++stats.refused_no_public;
    Log(LogLevel::kInfo, s,
        "no public address for " + e->nat_to.addr.ToString() + ": not rewritten");
  }
  if (e->kind != AnnounceKind::k229 && !cfg.expect_unrewritten) return;
  if (!InstallWithFreePort(s, e, false)) {
    Log(LogLevel::kWarn, s, "expectation for " + e->target.ToString() + " not installed");
    return;
  }
  Log(LogLevel::kInfo, s,
      std::string("EXPECT ") + std::string(KindName(e->kind)) + " " + e->peer.ToString() +
          " -> " + e->target.ToString() + " (no rewrite needed)");
}

// A rewrite needs a ledger point: live, ScanNew already cut the segment
// before a line that would find none; offline the oldest point is folded.
bool Engine::Impl::LedgerRoomForRewrite(Session* s, Direction d, std::string_view line) {
  StreamState& st = s->stream[Index(d)];
  if (EnsureLedgerRoom(st)) return true;
  if (!cfg.offline_capture) {
    Refuse(s, stats.refused_limit, "LIMIT too many unacknowledged rewrites", line);
    return false;
  }
  ++stats.ledger_overflow;
  st.ledger.FoldOldest(Spill(st));
  return true;
}

void Engine::Impl::LogRewrite(Session* s, Direction d, std::string_view line, const Announcement& a,
                const RewriteOp& op, const Expectation& e) {
  if (!log.Enabled(LogLevel::kInfo)) return;
  std::string new_line(line.substr(0, a.span_offset));
  new_line.append(op.text, op.text_len);
  new_line.append(line.substr(a.span_offset + a.span_len));
  const long delta = static_cast<long>(op.text_len) - static_cast<long>(a.span_len);
  Log(LogLevel::kInfo, s,
      std::string("REWRITE ") + DirName(d) + " '" + EscapeForLog(line) + "' -> '" +
          EscapeForLog(new_line) + "' (delta " + (delta >= 0 ? "+" : "") +
          std::to_string(delta) + "); EXPECT " + e.peer.ToString() + " -> " +
          e.target.ToString() + " nat " + e.nat_to.ToString());
}

// Installs e, moving to another public port while the chosen one is taken.
// Returns false (nothing installed) when no port could be had.
bool Engine::Impl::InstallWithFreePort(Session* s, Expectation* e, bool port_may_change) {
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

// Withdraws the expectation just installed for e's target.
void Engine::Impl::RemoveExpectation(const Expectation& e) {
  Expectation x;
  if (expectations.Take(e.target, &x)) sink.Remove(x);
}

}  // namespace ftpalg
