// One direction of a TCP connection as the gateway sees it: where the
// sender's byte stream stands (learned from the SYN or SYN-ACK), which
// control segments (SYN, RST, FIN) count, and the bytes received but not yet
// forwarded (an incomplete line held back; segments beyond a hole, kept
// until the hole fills). Judged by sequence numbers, never by arrival order.
// Pure: no I/O; the kept bytes live in a fixed SegmentPool.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>

#include "ftpalg/segment_pool.h"
#include "ftpalg/seq_ledger.h"
#include "ftpalg/tls_record_tracker.h"

namespace ftpalg {

// Line scanner state for one direction (RFC 959 lines end in LF; CR is kept).
struct LineState {
  uint16_t line_len = 0;       // bytes of the current line so far (saturates)
  uint8_t prefix_len = 0;      // bytes kept in prefix
  char prefix[5] = {};         // first bytes of the current line
  bool synced = false;         // we know where lines start
  bool broken = false;         // current line cannot be rewritten (split, gap)
};

// One direction of the byte stream.
struct StreamState {
  uint32_t next_seq = 0;       // end of the input bytes consumed so far
  uint32_t gap_end = 0;        // gap_open: parsing resumes once this is acked
  uint16_t chain = kNoSlot;    // kept bytes, in sequence order (SegmentPool)
  bool seen : 1 = false;       // any packet of this direction seen
  bool data_seen : 1 = false;  // any payload byte of this direction seen
  bool fin : 1 = false;        // the FIN was reached in sequence
  bool from_syn : 1 = false;   // numbered from a SYN / SYN-ACK seen here
  // A hole could not wait: the bytes after it were forwarded unparsed.
  // Parsing of this direction stays off until the receiver acknowledges
  // gap_end (the stream is whole again), then resumes at the next line.
  bool gap_open : 1 = false;
  // After AUTH was accepted: where the TLS records stand (tls_record_tracker).
  TlsRecordState tls;
  LineState line;
  SeqLedger ledger;
};

enum class SynOutcome : uint8_t {
  kLearned,        // first sight of this direction: stream starts at ISN + 1
  kRetransmitted,  // same ISN again
  kRebased,        // another ISN before any data: the stream follows it
  kStray,          // another ISN after data: not this connection's, ignored
};

class TcpStream {
 public:
  // Bytes further than this beyond the stream's end are not kept (no peer
  // has such a window open on a control connection): such a segment's
  // payload is not forwarded (the peer would drop it) and changes nothing.
  static constexpr uint32_t kMaxAhead = 256 * 1024;
  // A RST counts only within this distance of the stream's end (RFC 5961
  // spirit: a blind RST must hit the window to end the session).
  static constexpr uint32_t kRstWindow = 65535;

  // A SYN (client) or SYN-ACK / simultaneous-open SYN (server) of st's
  // direction, carrying isn.
  static SynOutcome OnSyn(StreamState& st, uint32_t isn);
  // Whether a RST with this sequence number ends the connection.
  static bool RstAcceptable(const StreamState& st, uint32_t seq);
  // A FIN at input position fin_pos (after the segment's data). True when
  // it is reached in sequence for the first time (st.fin is then set); a
  // retransmitted FIN or one beyond a hole changes nothing.
  static bool OnFin(StreamState& st, uint32_t fin_pos);

  TcpStream(SegmentPool& pool, size_t max_slots_beyond_hole)
      : pool_(pool), max_slots_(max_slots_beyond_hole) {}

  // ---- the incomplete line held back (bytes just before next_seq) --------
  // The held line's slot, or kNoSlot.
  uint16_t HeldLine(const StreamState& st) const;
  // Holds bytes [seq, seq + n) (seq + n == st.next_seq). False when the
  // pool is empty.
  bool HoldLine(StreamState& st, uint32_t seq, const uint8_t* p, size_t n,
                uint32_t now_ms);
  // Releases the held line (its bytes were merged or given up).
  void DropHeldLine(StreamState& st);
  // Where forwarded bytes end: the held line's start, else next_seq.
  uint32_t ForwardedEnd(const StreamState& st) const;

  // ---- segments beyond a hole ---------------------------------------------
  // The first kept slot after next_seq (or at it), or kNoSlot.
  uint16_t FirstBeyond(const StreamState& st) const;
  // Engine clock of the oldest kept segment (REQUIRES: FirstBeyond != kNoSlot).
  uint32_t BeyondSince(const StreamState& st) const;
  // Keeps a segment that starts beyond next_seq. False (nothing kept) when
  // it is too far ahead or over the per-stream or pool bounds.
  bool KeepBeyondHole(StreamState& st, uint32_t seq, const uint8_t* p,
                      size_t n, uint32_t now_ms);
  // Where the stream ends counting the kept bytes that continue it.
  uint32_t ContiguousEnd(const StreamState& st) const;
  // Keeps bytes [seq, seq + n) wherever they are (bounded like the above).
  bool Keep(StreamState& st, uint32_t seq, const uint8_t* p, size_t n,
            uint32_t now_ms);
  // Moves kept bytes that continue the stream at *end into out (at most
  // room bytes), advancing *end; kept bytes before *end are duplicates and
  // are dropped. Returns the number of bytes written.
  size_t TakeContiguous(StreamState& st, uint32_t* end, uint8_t* out,
                        size_t room);

  // Forgets everything kept (session end, re-base).
  void Release(StreamState& st) { pool_.ReleaseChain(st.chain); }

  SegmentPool& pool() { return pool_; }

 private:
  SegmentPool& pool_;
  size_t max_slots_;
};

}  // namespace ftpalg
