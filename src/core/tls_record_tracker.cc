// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/tls_record_tracker.h"

#include <string_view>

#include "ftpalg/ftp_command.h"

namespace ftpalg {
namespace {

constexpr size_t kNotHere = static_cast<size_t>(-1);

uint32_t Value(const TlsRecordState& t) { return t.lo | uint32_t{t.hi} << 8; }
void SetValue(TlsRecordState& t, uint32_t v) {
  t.lo = static_cast<uint8_t>(v & 0xff);
  t.hi = static_cast<uint8_t>((v >> 8) & 0xff);
}
void Enter(TlsRecordState& t, TlsPhase p) {
  t.phase = static_cast<uint8_t>(p) & 0xf;
  t.pos = 0;
  SetValue(t, 0);
}

bool IsLetter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
char Upper(uint8_t c) { return static_cast<char>(c >= 'a' ? c - 'a' + 'A' : c); }

// Byte `t.pos` of a record header; false when it cannot be one.
bool HeaderByte(TlsRecordState& t, uint8_t c) {
  switch (t.pos) {
    case 0: return c >= 20 && c <= 24;  // change_cipher_spec .. heartbeat
    case 1: return c == 3;              // version major: SSL 3.0 .. TLS 1.3
    case 2: return c <= 4;
    case 3: SetValue(t, uint32_t{c} << 8); return true;
    default:
      SetValue(t, Value(t) | c);
      return Value(t) <= TlsRecordTracker::kMaxRecordLen;
  }
}

// The line start read so far (3 bytes: reply digits or verb letters).
void LineStartSoFar(const TlsRecordState& t, TlsPhase p, char out[3]) {
  const uint32_t v = Value(t);
  if (p == TlsPhase::kReplyStart) {
    out[0] = static_cast<char>('0' + v / 100);
    out[1] = static_cast<char>('0' + v / 10 % 10);
    out[2] = static_cast<char>('0' + v % 10);
    return;
  }
  for (int k = 0; k < 3; ++k) out[k] = static_cast<char>('A' - 1 + ((v >> (5 * (2 - k))) & 31));
}

// Reads one byte of a possible line start. Returns false when the bytes
// cannot start an FTP line; sets *decided once they do (at the 4th byte).
bool LineStartByte(TlsRecordState& t, TlsPhase p, uint8_t c, bool* decided) {
  if (p == TlsPhase::kReplyStart) {
    if (t.pos == 3) return *decided = (c == ' ' || c == '-');
    const bool ok = t.pos == 0 ? (c >= '1' && c <= '5')
                    : t.pos == 1 ? (c >= '0' && c <= '5')
                                 : (c >= '0' && c <= '9');
    if (ok) SetValue(t, Value(t) * 10 + (c - '0'));
    return ok;
  }
  if (t.pos < 3) {
    if (IsLetter(c)) SetValue(t, Value(t) << 5 | static_cast<uint32_t>(Upper(c) - 'A' + 1));
    return IsLetter(c);
  }
  // The 4th byte: a 4th letter, or what ends a 3-letter verb.
  char verb[5];
  LineStartSoFar(t, p, verb);
  size_t len = 3;
  if (IsLetter(c)) verb[len++] = Upper(c);
  else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  verb[len] = ' ';
  return *decided = ClassifyCommand(std::string_view(verb, len + 1)) != Verb::kUnknown;
}

}  // namespace

TlsScan TlsRecordTracker::Feed(TlsRecordState& t, Direction d, const uint8_t* p, size_t n) {
  TlsScan r;
  size_t line_at = kNotHere;  // where a line start began in these bytes
  size_t i = 0;
  while (i < n) {
    const TlsPhase phase = Phase(t);
    if (phase == TlsPhase::kStopped || phase == TlsPhase::kOff) {
      if (phase == TlsPhase::kStopped) r.what = TlsScan::What::kStopped;
      return r;
    }
    if (phase == TlsPhase::kBody) {
      const size_t left = Value(t);
      const size_t take = left < n - i ? left : n - i;
      i += take;
      SetValue(t, static_cast<uint32_t>(left - take));
      if (take == left) {
        ++r.records;
        Enter(t, TlsPhase::kHeader);
      }
      continue;
    }
    const uint8_t c = p[i];
    if (phase == TlsPhase::kHeader && t.pos == 0 && !(c >= 20 && c <= 24)) {
      Enter(t, d == Direction::kOriginal ? TlsPhase::kCommandStart : TlsPhase::kReplyStart);
      line_at = i;
      continue;  // this byte again, as a line's first byte
    }
    if (phase == TlsPhase::kFirstHeader || phase == TlsPhase::kHeader) {
      if (!HeaderByte(t, c)) break;
      ++i;
      if (++t.pos < 5) continue;
      const uint32_t len = Value(t);
      Enter(t, len > 0 ? TlsPhase::kBody : TlsPhase::kHeader);
      SetValue(t, len);
      if (len == 0) ++r.records;
      continue;
    }
    bool decided = false;
    if (!LineStartByte(t, phase, c, &decided)) break;
    if (!decided) {
      ++t.pos;
      ++i;
      continue;
    }
    // An FTP line starts: its first bytes are here, or some came before.
    r.what = TlsScan::What::kCleartext;
    if (line_at != kNotHere) {
      r.at = line_at;
    } else {
      r.carried = static_cast<uint8_t>(t.pos - i);
      char so_far[3];
      LineStartSoFar(t, phase, so_far);
      for (size_t k = 0; k < r.carried; ++k) r.carry[k] = so_far[k];
    }
    t = TlsRecordState{};
    return r;
  }
  if (i < n) {  // a byte that is neither a record header's nor a line's
    Enter(t, TlsPhase::kStopped);
    r.what = TlsScan::What::kUnrecognised;
    r.at = i;
  } else if (Probing(t) && line_at != kNotHere) {
    r.probe_at = line_at;
  }
  return r;
}

}  // namespace ftpalg
