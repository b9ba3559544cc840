// SPDX-License-Identifier: GPL-2.0-or-later
// FormatReplacement (declared in announcement.h): the text that replaces an
// announcement's address and port span, in the announcement's own syntax.
#include <cstring>

#include "ftpalg/announcement.h"

namespace ftpalg {

namespace {

// Tiny bounded writer for FormatReplacement.
class Writer {
 public:
  void Char(char c) {
    if (len_ < sizeof(buf_))
      buf_[len_++] = c;
    else
      overflow_ = true;
  }
  void Decimal(unsigned v) {
    char tmp[10];
    size_t k = 0;
    do {
      tmp[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (k > 0) Char(tmp[--k]);
  }
  void Bytes(const char* p, size_t k) {
    for (size_t i = 0; i < k; ++i) Char(p[i]);
  }
  size_t CopyTo(char* out, size_t cap) const {
    if (overflow_ || len_ > cap) return 0;
    std::memcpy(out, buf_, len_);
    return len_;
  }

 private:
  char buf_[kMaxReplacementLen];
  size_t len_ = 0;
  bool overflow_ = false;
};

}  // namespace

size_t FormatReplacement(const Announcement& a, const Endpoint& ep, char* out,
                         size_t cap) {
  if (out == nullptr) return 0;
  Writer w;
  const uint8_t* b = ep.addr.bytes.data();
  switch (a.kind) {
    case AnnounceKind::kPort:
    case AnnounceKind::k227: {
      if (ep.addr.family != Family::kV4) return 0;
      for (int i = 0; i < 4; ++i) {
        w.Decimal(b[i]);
        w.Char(',');
      }
      w.Decimal(ep.port >> 8);
      w.Char(',');
      w.Decimal(ep.port & 0xff);
      break;
    }
    case AnnounceKind::kLprt:
    case AnnounceKind::k228: {
      const bool v4 = ep.addr.family == Family::kV4;
      const int hal = v4 ? 4 : 16;
      w.Decimal(v4 ? 4 : 6);
      w.Char(',');
      w.Decimal(hal);
      for (int i = 0; i < hal; ++i) {
        w.Char(',');
        w.Decimal(b[i]);
      }
      w.Bytes(",2,", 3);
      w.Decimal(ep.port >> 8);
      w.Char(',');
      w.Decimal(ep.port & 0xff);
      break;
    }
    case AnnounceKind::kEprt: {
      const char d = a.delimiter;
      char text[kMaxAddressTextLen];
      const size_t text_len = FormatAddress(ep.addr, text, sizeof(text));
      if (text_len == 0) return 0;
      w.Char(d);
      w.Char(ep.addr.family == Family::kV4 ? '1' : '2');
      w.Char(d);
      w.Bytes(text, text_len);
      w.Char(d);
      w.Decimal(ep.port);
      w.Char(d);
      break;
    }
    case AnnounceKind::k229:
      w.Decimal(ep.port);
      break;
  }
  return w.CopyTo(out, cap);
}

}  // namespace ftpalg
