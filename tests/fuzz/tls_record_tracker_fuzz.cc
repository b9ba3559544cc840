// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: TlsRecordTracker on an arbitrary stream (first byte:
// direction and how the stream is cut into chunks). Aborts unless
//  - the outcome (decision and stream offset) is the same however the stream
//    is cut, and the carried bytes are the line's first bytes;
//  - a resumption (cleartext) is at the end of one or more complete, valid
//    records that start at offset 0: never inside a record, never before one.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "ftpalg/tls_record_tracker.h"

namespace ftpalg {
namespace {

[[noreturn]] void Fail(const char* what, size_t at) {
  std::fprintf(stderr, "tls_record_tracker_fuzz: %s (offset %zu)\n", what, at);
  std::abort();
}

// Where `at` falls in a walk of valid records from 0: true when it is
// exactly the end of the n-th complete record, n >= 1.
bool AtRecordEnd(const uint8_t* p, size_t n, size_t at) {
  size_t i = 0;
  int records = 0;
  while (i + 5 <= n && i < at) {
    const bool ok = p[i] >= 20 && p[i] <= 24 && p[i + 1] == 3 && p[i + 2] <= 4;
    const size_t len = size_t{p[i + 3]} << 8 | p[i + 4];
    if (!ok || len > TlsRecordTracker::kMaxRecordLen) return false;
    i += 5 + len;
    ++records;
  }
  return i == at && records >= 1;
}

}  // namespace
}  // namespace ftpalg

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftpalg;
  if (size < 1) return 0;
  const Direction d = (data[0] & 1) ? Direction::kReply : Direction::kOriginal;
  uint32_t cut = data[0] | 1u;
  const uint8_t* p = data + 1;
  const size_t n = size - 1;

  TlsRecordState whole;
  TlsRecordTracker::Start(whole);
  const TlsScan ref = TlsRecordTracker::Feed(whole, d, p, n);

  TlsRecordState t;
  TlsRecordTracker::Start(t);
  TlsScan r;
  size_t off = 0;
  while (off < n) {
    cut = cut * 1103515245u + 12345u;
    size_t len = 1 + (cut >> 16) % 64;
    if (len > n - off) len = n - off;
    r = TlsRecordTracker::Feed(t, d, p + off, len);
    if (r.what != TlsScan::What::kInTls) break;
    off += len;
  }
  if (n > 0 && r.what != ref.what) Fail("decision depends on chunking", off);
  if (ref.what == TlsScan::What::kCleartext) {
    if (off + r.at - r.carried != ref.at) Fail("resume offset depends on chunking", off);
    for (size_t k = 0; k < r.carried; ++k) {
      const uint8_t c = p[ref.at + k];
      const uint8_t up = (c >= 'a' && c <= 'z') ? static_cast<uint8_t>(c - 'a' + 'A') : c;
      if (static_cast<uint8_t>(r.carry[k]) != up) Fail("carried bytes differ", ref.at + k);
    }
    if (!AtRecordEnd(p, n, ref.at)) Fail("resumed inside a record or before one", ref.at);
    if (TlsRecordTracker::Active(whole)) Fail("still active after resuming", ref.at);
  }
  if (ref.what == TlsScan::What::kUnrecognised && !TlsRecordTracker::Stopped(whole)) {
    Fail("unrecognised but not stopped", ref.at);
  }
  return 0;
}
