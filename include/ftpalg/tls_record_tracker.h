// One direction of a control connection after AUTH was accepted (234):
// follows the TLS record layer (RFC 8446 5.1, RFC 5246 6.2) without
// decrypting anything, to find where the sender returns to cleartext FTP
// after CCC (RFC 4217 section 12). A record is a 5-byte header (content
// type 20..24, version 3.0..3.4, 16-bit length <= 2^14 + 2048) and that many
// body bytes; the bytes right after a complete record are either another
// header or, once the sender left TLS, the start of an FTP line: a reply
// ("NNN " / "NNN-") from the server, a known command verb from the client.
// Anything else, and any byte of the stream this tracker did not see (a
// given-up hole), ends the tracking for good: the direction stays unparsed.
// Never resumes inside a record. Pure: 3 bytes of state, no allocation.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>

#include "ftpalg/inet.h"

namespace ftpalg {

enum class TlsPhase : uint8_t {
  kOff = 0,       // not in TLS: lines are parsed as usual
  kFirstHeader,   // after 234, before the first complete record
  kHeader,        // at (or inside) a record header after a complete record
  kBody,          // inside a record body
  kReplyStart,    // after a record, reading what may be "NNN " / "NNN-"
  kCommandStart,  // after a record, reading what may be a command verb
  kStopped,       // framing lost or unrecognised bytes: never parsed again
};

// Packed in 3 bytes (it lives in StreamState's padding).
struct TlsRecordState {
  uint8_t phase : 4 = 0;  // TlsPhase
  uint8_t pos : 4 = 0;    // bytes of the header / line start read so far
  uint8_t lo = 0, hi = 0; // body bytes left, header length, or line start so far
};

// What the bytes given to Feed were.
struct TlsScan {
  enum class What : uint8_t {
    kInTls,         // all TLS (or an undecided line start): pass them unparsed
    kCleartext,     // an FTP line starts: parse from `at` on
    kUnrecognised,  // neither a record nor a line start: stopped from now on
    kStopped,       // already stopped: pass them unparsed
  };
  What what = What::kInTls;
  size_t at = 0;         // kCleartext: where the line's bytes in this chunk begin
  uint8_t carried = 0;   // kCleartext: line bytes already seen in earlier chunks
  char carry[3] = {};    // ... and what they were
  uint32_t records = 0;  // complete records in these bytes
  // kInTls and a possible line start still undecided at the end, begun in
  // these bytes at this offset (else kNoProbe): its first bytes may be held
  // back (RewindProbe) and given again with what follows.
  static constexpr size_t kNoProbe = static_cast<size_t>(-1);
  size_t probe_at = kNoProbe;
};

class TlsRecordTracker {
 public:
  static constexpr uint32_t kMaxRecordLen = (1u << 14) + 2048;

  // 234 accepted: the sender's next byte begins a TLS record.
  static void Start(TlsRecordState& t) { t = TlsRecordState{}; t.phase = Of(TlsPhase::kFirstHeader); }
  // Bytes went by unseen (a given-up hole): the framing is lost for good.
  static void LoseFraming(TlsRecordState& t) { t = TlsRecordState{}; t.phase = Of(TlsPhase::kStopped); }
  // Whether this direction's bytes go through Feed rather than the line parser.
  static bool Active(const TlsRecordState& t) { return Phase(t) != TlsPhase::kOff; }
  static bool Stopped(const TlsRecordState& t) { return Phase(t) == TlsPhase::kStopped; }
  static TlsPhase Phase(const TlsRecordState& t) { return static_cast<TlsPhase>(t.phase); }
  // Reading what may be an FTP line start after a record (undecided).
  static bool Probing(const TlsRecordState& t) {
    return Phase(t) == TlsPhase::kReplyStart || Phase(t) == TlsPhase::kCommandStart;
  }
  // REQUIRES: Probing(t). Back to the end of the last record: the bytes read
  // since will be given to Feed again (they were held back, not forwarded).
  static void RewindProbe(TlsRecordState& t) { t = TlsRecordState{}; t.phase = Of(TlsPhase::kHeader); }

  // The next n bytes of direction d (kOriginal: client commands, kReply:
  // server replies), in stream order. REQUIRES: Active(t). On kCleartext
  // the state is kOff: the bytes from `at` on are FTP lines.
  static TlsScan Feed(TlsRecordState& t, Direction d, const uint8_t* p, size_t n);

 private:
  static constexpr uint8_t Of(TlsPhase p) { return static_cast<uint8_t>(p); }
};

}  // namespace ftpalg
