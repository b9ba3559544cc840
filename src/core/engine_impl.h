// SPDX-License-Identifier: GPL-2.0-or-later
// The engine's per-packet state and the steps of one packet's walk, shared by
// the engine_*.cc files (private to src/core). Order, for every control
// packet (engine_packet.cc):
//   classify -> session (engine_sessions.cc) -> payload in sequence order,
//   holes (engine_stream.cc, rules in tcp_stream.cc) -> lines (engine_scan.cc;
//   what a line means: ftp_dialogue.cc) -> announcements (engine_announce.cc;
//   when and what: announcement_policy.cc) -> output bytes, ledger, ack and
//   SACK mapping (engine_rewrite.cc; seq_ledger.cc) -> checksums.
// Invariant: per direction, the output byte stream is the input byte stream
// with exactly the recorded rewrites applied; every byte keeps one output
// position, whatever segmentation or retransmission carried it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/announcement_policy.h"
#include "ftpalg/engine.h"
#include "ftpalg/expectation_table.h"
#include "ftpalg/ftp_dialogue.h"
#include "ftpalg/ftp_parser.h"
#include "ftpalg/packet.h"
#include "ftpalg/seq_ledger.h"
#include "ftpalg/segment_pool.h"
#include "ftpalg/session.h"
#include "ftpalg/tcp_stream.h"
#include "ftpalg/tls_record_tracker.h"

namespace ftpalg {

constexpr size_t kPrefixLen = sizeof(LineState::prefix);
constexpr size_t kMaxIpPacket = 65535;
// The line being scanned began in bytes forwarded before this packet.
constexpr size_t kLineBegunBefore = static_cast<size_t>(-1);

// A rewrite found while scanning: replace work[offset, offset+len).
struct RewriteOp {
  size_t offset = 0;
  size_t len = 0;
  uint8_t text_len = 0;
  char text[kMaxReplacementLen];  // text_len bytes used: not zero-filled per line
  ChangePoint point;
};

inline std::string_view AsText(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

inline const char* DirName(Direction d) {
  return d == Direction::kOriginal ? "c->s" : "s->c";
}

// What ScanNew did not forward: bytes held back at the end (an incomplete
// announcement line) and bytes trimmed (not consumed: the sender resends
// them once the receiver acknowledged the rest).
struct ScanTail {
  size_t held = 0;
  size_t trimmed = 0;
};

// What the walk of one packet changed in it.
struct PacketEdit {
  bool changed = false;     // bytes or header fields changed
  bool drop = false;        // nothing left to send and no ACK to carry
  bool clear_fin = false;   // the FIN would sit before bytes not sent yet
  size_t new_total = 0;     // IP total length after the payload edit
  uint32_t first_input = 0; // input position of the first output byte
};

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
        policy(c),
        pool(c.hold_slots, c.max_line_len),
        tracker(pool, c.max_gap_slots),
        work(kMaxIpPacket + c.max_line_len + 1),
        out(kMaxIpPacket + 1) {}


  const EngineConfig& cfg;
  ExpectationSink& sink;
  FlowResolver& resolver;
  Logger& log;
  Stats& stats;
  SessionObserver* observer = nullptr;  // optional (Engine::SetSessionObserver)
  SessionTable sessions;
  ExpectationTable expectations;
  AnnouncementPolicy policy;
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

  // ---- engine_sessions.cc: session lifecycle and the log
  void Log(LogLevel level, const Session* s, const std::string& msg);
  // Joins the parts only when the level is logged: the packet path builds
  // no string for a line nobody reads.
  template <typename... Parts>
  void LogParts(LogLevel level, const Session* s, const Parts&... parts) {
    if (!log.Enabled(level)) return;
    std::string msg;
    ((msg += parts), ...);
    Log(level, s, msg);
  }
  void EndSession(Session* s, const char* reason);
  Session* CreateSession(const FlowKey& key, bool picked_up);
  void SaveSnapshot(Session* s);
  void Expire(uint64_t now);

  // ---- engine_packet.cc: one packet through the units
  Decision Process(PacketBuffer& pkt, uint64_t now);
  bool Classify(const PacketView& v, Direction* d, FlowKey* key);
  Session* SessionFor(const FlowKey& key, const PacketView& v, Direction d);
  bool FollowHandshake(Session* s, Direction d, const PacketView& v);
  bool RstCounts(Session* s, Direction d, const PacketView& v);
  void RewritePayload(PacketBuffer& pkt, const PacketView& v, Session* s, Direction d,
                      PacketEdit* edit);
  void MapSeqAndAck(uint8_t* tcp, const PacketView& v, Session* s, Direction d,
                    PacketEdit* edit);
  void NoteAcked(Session* s, Direction acked, uint32_t acked_input);
  void EndOfStream(uint8_t* tcp, Session* s, Direction d, const PacketView& v,
                   PacketEdit& edit, bool rst_counts);
  Decision Finish(PacketBuffer& pkt, const PacketView& v, Session* s, size_t new_total);
  Decision FinishHeaderOnly(PacketBuffer& pkt, const PacketView& v, const uint8_t* old_tcp);

  // ---- engine_stream.cc: payload in sequence order, holes
  size_t MergeRoom(size_t have) const;
  void CheckClientSpeaksFirst(Session* s, Direction d);
  void CheckHole(Session* s, Direction d);
  bool KeepOrGiveUp(Session* s, Direction d, uint32_t seg_seq, size_t len);
  void GiveUpHole(Session* s, Direction d, uint32_t resume_at, const char* why);
  uint32_t RetransmittedHeldLine(Session* s, StreamState& st, uint32_t out_start,
                                 bool fin, bool* whole);
  uint32_t HandlePayload(Session* s, Direction d, uint32_t seg_seq,
                         size_t len, bool fin, bool* whole);
  bool ReemitForwarded(Session* s, Direction d, uint32_t seg_seq, uint32_t seg_end,
                       uint32_t* out_start);
  uint32_t CollectNew(Session* s, Direction d, uint32_t seg_seq, uint32_t seg_end, size_t* n,
                      uint32_t* w_seq, bool* whole);

  // ---- engine_fast_path.cc: segments read in place
  bool CanScanInPlace(const Session* s, Direction d, uint32_t seg_seq, size_t len) const;
  void ScanInPlace(Session* s, Direction d, uint32_t seg_seq, size_t n, bool fin);

  // ---- engine_scan.cc: lines of the new bytes
  static bool StartsLikeLine(Direction d, const uint8_t* w, size_t n);
  bool MustTrimBefore(StreamState& st, Direction d, const LineState& ls,
                      uint16_t multiline);
  ScanTail ScanNew(Session* s, Direction d, uint32_t w_seq, size_t n, bool fin);
  ScanTail PassUnparsed(LineState& ls, const uint8_t* w, size_t n);
  static void AddToLine(LineState& ls, const uint8_t* p, size_t take);
  static std::string_view CurrentLine(const LineState& ls, const uint8_t* w, size_t line_start,
                                      size_t lf);
  ScanTail TrimBefore(Session* s, Direction d, std::string_view text, const uint8_t* w,
                      size_t copied, size_t line_start, size_t n);
  void EndLine(Session* s, Direction d, std::string_view text, size_t line_start,
               uint32_t w_seq, size_t* copied);
  size_t HoldTail(Session* s, Direction d, uint32_t w_seq, size_t line_start, size_t n,
                  bool fin);
  ScanTail HoldTlsProbe(Session* s, Direction d, uint32_t w_seq, size_t copied, size_t at,
                        size_t n, bool fin);
  bool OnLine(Session* s, Direction d, std::string_view text, bool whole,
              bool overlong, RewriteOp* op);
  void LogNotFtp(Session* s, const LineMeaning& m, std::string_view text);
  bool CheckedAnnounce(Session* s, Direction d, AnnounceKind ak,
                       std::string_view text, bool whole, bool overlong,
                       RewriteOp* op);

  // ---- engine_tls.cc: TLS records followed after 234, cleartext after CCC
  void StartTls(Session* s);
  size_t FollowTls(Session* s, Direction d, const uint8_t* w, size_t from, size_t n,
                   size_t* probe_at);
  void ResumeCleartext(Session* s, Direction d, const TlsScan& r);
  void LoseTlsFraming(Session* s, Direction d, const char* why);

  // ---- engine_announce.cc: announcement policy applied, expectations
  void Refuse(Session* s, uint64_t& counter, const char* reason,
              std::string_view line);
  uint64_t& RefusalCounter(AnnouncementCheck::Refusal r);
  bool Announce(Session* s, Direction d, AnnounceKind kind,
                std::string_view line, RewriteOp* op);
  void ExpectUnrewritten(Session* s, const AnnouncementPlacement& p, Expectation* e);
  bool LedgerRoomForRewrite(Session* s, Direction d, std::string_view line);
  void LogRewrite(Session* s, Direction d, std::string_view line, const Announcement& a,
                  const RewriteOp& op, const Expectation& e);
  bool InstallWithFreePort(Session* s, Expectation* e, bool port_may_change);
  void RemoveExpectation(const Expectation& e);

  // ---- engine_rewrite.cc: output bytes, ledger, ack and SACK mapping
  bool Emit(const uint8_t* p, size_t n);
  uint32_t EmitOld(Session* s, Direction d, uint32_t seg_seq, uint32_t from,
                   uint32_t to);
  size_t Regenerate(Session* s, Direction d, const ChangePoint& c, char* text);
  bool ApplyRewrite(Session* s, Direction d, uint32_t w_seq, size_t at,
                    const RewriteOp& op, const uint8_t* w, size_t* copied);
  ChangePoint* Spill(StreamState& st);
  bool EnsureLedgerRoom(StreamState& st);
  void ReturnLedgerBlock(StreamState& st, bool ending = false);
  uint32_t MapAck(Session* s, Direction acked, uint32_t v);
  uint32_t MapAckField(Session* s, Direction acked, uint32_t v);
  bool MapSack(Session* s, Direction acked, uint8_t* tcp, size_t hlen);
};

}  // namespace ftpalg
