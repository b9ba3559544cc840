// SPDX-License-Identifier: GPL-2.0-or-later
// The bounded scanning primitives shared by the FTP line grammars (private to
// src/core): ASCII character classes, a verb or reply-code prefix, a capped
// decimal number, the announcement span and the ParseResult shorthands. It
// owns no grammar itself: ftp_command.cc, ftp_reply_code.cc,
// announcement_host_port.cc and announcement_extended.cc build theirs from
// these. Every function reads only inside the line it is given; inline so
// the per-line scanners stay as fast as when they lived in one file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "ftpalg/announcement.h"

namespace ftpalg::line_scan {

// ---------------------------------------------------------------------------
// Character helpers (ASCII only, locale independent).

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }
inline bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline char ToUpper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}

// True if `line` starts with the four-letter `verb` (any case).
inline bool StartsWithVerb(std::string_view line, const char* verb) {
  const size_t n = std::strlen(verb);
  if (line.size() < n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (ToUpper(line[i]) != verb[i]) return false;
  }
  return true;
}

// True if `line` starts with the reply `code` followed by ' ', '-' or end.
inline bool StartsWithCode(std::string_view line, const char* code) {
  if (line.size() < 3 || std::memcmp(line.data(), code, 3) != 0) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '-';
}

inline bool OnlyBlanksFrom(std::string_view line, size_t pos) {
  for (; pos < line.size(); ++pos) {
    if (!IsBlank(line[pos])) return false;
  }
  return true;
}

// Command prefix: verb then at least one space/tab. Returns the position of
// the first argument character, or 0 if the prefix does not match.
inline size_t ArgumentStart(std::string_view line, const char* verb) {
  if (!StartsWithVerb(line, verb)) return 0;
  size_t pos = std::strlen(verb);
  if (pos >= line.size() || !IsBlank(line[pos])) return 0;
  while (pos < line.size() && IsBlank(line[pos])) ++pos;
  return pos;
}

// ---------------------------------------------------------------------------
// Bounded decimal numbers.

// Values stop growing past this so long digit runs cannot overflow; anything
// that reaches it is out of range for every field we parse.
constexpr uint32_t kValueCap = 1000000;

struct Number {
  uint32_t value = 0;   // capped at kValueCap
  uint32_t digits = 0;  // length of the digit run (may exceed 3)
  size_t begin = 0;
  size_t end = 0;  // one past the last digit
};

inline Number ReadNumber(std::string_view line, size_t pos) {
  Number n;
  n.begin = pos;
  while (pos < line.size() && IsDigit(line[pos])) {
    if (n.value < kValueCap) n.value = n.value * 10 + (line[pos] - '0');
    ++n.digits;
    ++pos;
  }
  n.end = pos;
  return n;
}

// ---------------------------------------------------------------------------
// Results.

// Fills `out` from a span [begin, end), refusing spans that do not fit the
// 16-bit fields of Announcement (only possible in lines over 64 KiB).
inline bool SetSpan(Announcement& out, size_t begin, size_t end) {
  if (end > 0xffff || begin > end) return false;
  out.span_offset = static_cast<uint16_t>(begin);
  out.span_len = static_cast<uint16_t>(end - begin);
  return true;
}

inline ParseResult Fail(ParseError e) {
  ParseResult r;
  r.error = e;
  return r;
}

inline ParseResult Ok(const Announcement& a) {
  ParseResult r;
  r.announcement = a;
  return r;
}

}  // namespace ftpalg::line_scan
