// SPDX-License-Identifier: GPL-2.0-or-later
// Session lifecycle: create (restoring offsets a previous run kept), end
// (expectations withdrawn, kept bytes released), expire; the session log.
#include "src/core/engine_impl.h"

namespace ftpalg {

void Engine::Impl::Log(LogLevel level, const Session* s, const std::string& msg) {
  if (!log.Enabled(level)) return;
  log.Log(level, s ? "#" + std::to_string(s->id) + " " + msg : msg);
}

void Engine::Impl::EndSession(Session* s, const char* reason) {
  expectations.RemoveSession(s, [&](const Expectation& e) { sink.Remove(e); });
  for (StreamState& st : s->stream) {
    tracker.Release(st);
    ReturnLedgerBlock(st, true);
  }
  if (observer != nullptr) {
    observer->SessionEnded(s->id, s->key, reason, s->rewrites, s->refusals, now_ms);
  }
  resolver.Forget(s->key);
  // (Log messages are only built when they are written: no allocation per
  // session or rewrite otherwise.)
  if (log.Enabled(LogLevel::kInfo)) Log(LogLevel::kInfo, s,
      std::string("session ended (") + reason + "): " +
          std::to_string(s->rewrites) + " rewrites, " +
          std::to_string(s->refusals) + " refusals");
  sessions.Remove(s);
}

Session* Engine::Impl::CreateSession(const FlowKey& key, bool picked_up) {
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
  if (observer != nullptr) observer->SessionStarted(s->id, key, picked_up, now_ms);
  if (log.Enabled(LogLevel::kInfo)) Log(LogLevel::kInfo, s,
      "session " + key.ToString() +
          (picked_up ? " picked up mid-stream" : " started"));
  return s;
}

void Engine::Impl::SaveSnapshot(Session* s) {
  SessionSnapshot snap;
  for (int d = 0; d < 2; ++d) snap.offset[d] = s->stream[d].ledger.TotalOffset(Spill(s->stream[d]));
  snap.tls = s->dialogue.tls;
  resolver.SaveSnapshot(s->key, snap);
}

void Engine::Impl::Expire(uint64_t now) {
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
    Session* const newer = sessions.Newer(s);
    const uint32_t idle = now_s - s->last_seen_s;
    if (idle < soonest) break;
    if (s->closing && idle >= cfg.closed_linger_s) {
      ++stats.sessions_ended;
      EndSession(s, "closed");
    } else if (idle >= cfg.idle_timeout_s) {
      ++stats.sessions_expired;
      EndSession(s, "idle timeout");
    }
    s = newer;
  }
}

}  // namespace ftpalg
