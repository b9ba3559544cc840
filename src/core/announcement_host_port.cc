// SPDX-License-Identifier: GPL-2.0-or-later
// The host-port grammars (announcement.h): comma-separated byte lists.
// PORT and 227 carry h1,h2,h3,h4,p1,p2 (RFC 959; 227 found anywhere after the
// code, RFC 1123 4.1.2.6); LPRT and 228 carry af,hal,h1..hn,pal,p1,p2 (RFC
// 1639, IPv4 or IPv6). Owns the bounded comma-list reader, the byte and port
// range checks and the field-count rules of these four kinds; EPRT and 229
// are announcement_extended.cc's.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/ftp_line_scan.h"
#include "ftpalg/announcement.h"

namespace ftpalg {
namespace {

using line_scan::ArgumentStart;
using line_scan::Fail;
using line_scan::IsBlank;
using line_scan::IsDigit;
using line_scan::Number;
using line_scan::Ok;
using line_scan::OnlyBlanksFrom;
using line_scan::ReadNumber;
using line_scan::SetSpan;
using line_scan::StartsWithCode;

// Longest list: LPRT/228 with IPv6 is af,hal,16 bytes,pal,2 bytes = 22.
constexpr size_t kMaxNumbers = 22;

struct NumberList {
  Number nums[kMaxNumbers];
  size_t count = 0;       // numbers seen (may exceed kMaxNumbers)
  bool dangling = false;  // a ',' not followed by another number
  size_t end = 0;         // one past the last digit of the last number
};

// Reads "n,n,...,n" starting at a digit. With `lenient`, spaces/tabs may
// follow each comma (227/228 servers write "( 10, 0, 0, 5, 4, 1)").
NumberList ReadList(std::string_view line, size_t pos, bool lenient) {
  NumberList list;
  for (;;) {
    const Number n = ReadNumber(line, pos);
    if (list.count < kMaxNumbers) list.nums[list.count] = n;
    ++list.count;
    list.end = n.end;
    pos = n.end;
    if (pos >= line.size() || line[pos] != ',') break;
    size_t next = pos + 1;
    if (lenient) {
      while (next < line.size() && IsBlank(line[next])) ++next;
    }
    if (next >= line.size() || !IsDigit(line[next])) {
      list.dangling = true;
      break;
    }
    pos = next;
  }
  return list;
}

bool ByteOk(const Number& n) { return n.digits <= 3 && n.value <= 255; }

// Validates p1,p2 and stores the port.
ParseError TakePort(const Number& p1, const Number& p2, Endpoint& ep) {
  if (!ByteOk(p1) || !ByteOk(p2)) return ParseError::kPortRange;
  const uint32_t port = p1.value * 256 + p2.value;
  if (port == 0) return ParseError::kPortZero;
  ep.port = static_cast<uint16_t>(port);
  return ParseError::kNone;
}

// h1,h2,h3,h4,p1,p2 (PORT and 227).
ParseResult FinishShortHostPort(const NumberList& list, AnnounceKind kind) {
  if (list.count != 6) return Fail(ParseError::kMalformed);
  const Number* n = list.nums;
  for (int i = 0; i < 4; ++i) {
    if (!ByteOk(n[i])) return Fail(ParseError::kOctetRange);
  }
  Announcement a;
  a.kind = kind;
  a.endpoint.addr = IpAddress::V4(
      static_cast<uint8_t>(n[0].value), static_cast<uint8_t>(n[1].value),
      static_cast<uint8_t>(n[2].value), static_cast<uint8_t>(n[3].value));
  const ParseError e = TakePort(n[4], n[5], a.endpoint);
  if (e != ParseError::kNone) return Fail(e);
  if (!SetSpan(a, n[0].begin, n[5].end)) return Fail(ParseError::kMalformed);
  return Ok(a);
}

// af,hal,h1..hn,pal,p1,p2 (LPRT and 228, RFC 1639).
ParseResult FinishLongHostPort(const NumberList& list, AnnounceKind kind) {
  if (list.count < 2 || list.count > kMaxNumbers) {
    return Fail(ParseError::kMalformed);
  }
  const Number* n = list.nums;
  Family family;
  size_t hal;
  if (n[0].digits <= 3 && n[0].value == 4) {
    family = Family::kV4;
    hal = 4;
  } else if (n[0].digits <= 3 && n[0].value == 6) {
    family = Family::kV6;
    hal = 16;
  } else {
    return Fail(ParseError::kBadFamily);
  }
  if (n[1].digits > 3 || n[1].value != hal) return Fail(ParseError::kMalformed);
  const size_t pal_index = 2 + hal;
  if (list.count != pal_index + 3) return Fail(ParseError::kMalformed);
  if (n[pal_index].digits > 3 || n[pal_index].value != 2) {
    return Fail(ParseError::kMalformed);
  }
  uint8_t bytes[16] = {};
  for (size_t i = 0; i < hal; ++i) {
    if (!ByteOk(n[2 + i])) return Fail(ParseError::kOctetRange);
    bytes[i] = static_cast<uint8_t>(n[2 + i].value);
  }
  Announcement a;
  a.kind = kind;
  a.endpoint.addr = IpAddress::FromBytes(family, bytes);
  const ParseError e = TakePort(n[pal_index + 1], n[pal_index + 2], a.endpoint);
  if (e != ParseError::kNone) return Fail(e);
  if (!SetSpan(a, n[0].begin, list.end)) return Fail(ParseError::kMalformed);
  return Ok(a);
}

// Reply host-port scan shared by 227 and 228: first digit after the code.
ParseResult ParseReplyNumbers(std::string_view line, const char* code,
                              AnnounceKind kind) {
  if (!StartsWithCode(line, code)) return Fail(ParseError::kMalformed);
  size_t pos = 3;
  while (pos < line.size() && !IsDigit(line[pos])) ++pos;
  if (pos >= line.size()) return Fail(ParseError::kNoNumbers);
  const NumberList list = ReadList(line, pos, /*lenient=*/true);
  return kind == AnnounceKind::k227 ? FinishShortHostPort(list, kind)
                                    : FinishLongHostPort(list, kind);
}

// The strict number list of a "VERB n,n,..." command (PORT, LPRT), nothing
// after it but blanks; nullopt when the line is not that.
std::optional<NumberList> ReadCommandList(std::string_view line, const char* verb) {
  const size_t pos = ArgumentStart(line, verb);
  if (pos == 0 || pos >= line.size() || !IsDigit(line[pos])) return std::nullopt;
  const NumberList list = ReadList(line, pos, /*lenient=*/false);
  if (list.dangling || !OnlyBlanksFrom(line, list.end)) return std::nullopt;
  return list;
}

}  // namespace

ParseResult ParsePort(std::string_view line) {
  const std::optional<NumberList> list = ReadCommandList(line, "PORT");
  if (!list) return Fail(ParseError::kMalformed);
  return FinishShortHostPort(*list, AnnounceKind::kPort);
}

ParseResult ParseLprt(std::string_view line) {
  const std::optional<NumberList> list = ReadCommandList(line, "LPRT");
  if (!list) return Fail(ParseError::kMalformed);
  return FinishLongHostPort(*list, AnnounceKind::kLprt);
}

ParseResult Parse227(std::string_view line) {
  return ParseReplyNumbers(line, "227", AnnounceKind::k227);
}

ParseResult Parse228(std::string_view line) {
  return ParseReplyNumbers(line, "228", AnnounceKind::k228);
}

}  // namespace ftpalg
