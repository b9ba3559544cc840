// SPDX-License-Identifier: GPL-2.0-or-later
// The RFC 2428 extended grammars (announcement.h): EPRT <d>af<d>addr<d>port<d>
// with any printable non-digit delimiter, the address as IPv4 or IPv6 text
// for family 1 or 2; and the 229 reply's (<d><d><d>port<d>), which names no
// address. Owns the delimiter rules, the search for the 229 triple and the
// 1..65535 decimal port field; the comma-list kinds are
// announcement_host_port.cc's.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/ftp_line_scan.h"
#include "ftpalg/announcement.h"

namespace ftpalg {
namespace {

using line_scan::ArgumentStart;
using line_scan::Fail;
using line_scan::IsDigit;
using line_scan::Number;
using line_scan::Ok;
using line_scan::OnlyBlanksFrom;
using line_scan::ReadNumber;
using line_scan::SetSpan;
using line_scan::StartsWithCode;

// EPRT/229 delimiter: printable, not a space, not a digit (RFC 2428).
bool IsDelimiter(char c) { return c >= 0x21 && c <= 0x7e && !IsDigit(c); }

// Port field of EPRT/229: 1..5 digits, 1..65535.
ParseError CheckPort(const Number& n) {
  if (n.digits == 0) return ParseError::kMalformed;
  if (n.digits > 5 || n.value > 65535) return ParseError::kPortRange;
  if (n.value == 0) return ParseError::kPortZero;
  return ParseError::kNone;
}

}  // namespace

ParseResult ParseEprt(std::string_view line) {
  const size_t start = ArgumentStart(line, "EPRT");
  if (start == 0 || start >= line.size() || !IsDelimiter(line[start])) {
    return Fail(ParseError::kMalformed);
  }
  const char d = line[start];
  // Positions of the four delimiters.
  size_t delim[4] = {start, 0, 0, 0};
  for (int i = 1; i < 4; ++i) {
    size_t p = delim[i - 1] + 1;
    while (p < line.size() && line[p] != d) ++p;
    if (p >= line.size()) return Fail(ParseError::kMalformed);
    delim[i] = p;
  }
  if (!OnlyBlanksFrom(line, delim[3] + 1)) return Fail(ParseError::kMalformed);

  const std::string_view af =
      line.substr(delim[0] + 1, delim[1] - delim[0] - 1);
  const std::string_view addr_text =
      line.substr(delim[1] + 1, delim[2] - delim[1] - 1);
  const size_t port_begin = delim[2] + 1;

  // Address family: digits only.
  const Number af_num = ReadNumber(line, delim[0] + 1);
  if (af.empty() || af_num.end != delim[1]) return Fail(ParseError::kMalformed);
  Family family;
  if (af_num.digits <= 3 && af_num.value == 1) {
    family = Family::kV4;
  } else if (af_num.digits <= 3 && af_num.value == 2) {
    family = Family::kV6;
  } else {
    return Fail(ParseError::kBadFamily);
  }

  // Port: digits only, checked before the address text so that structural
  // junk is reported as malformed.
  const Number port = ReadNumber(line, port_begin);
  if (port.end != delim[3]) return Fail(ParseError::kMalformed);

  const std::optional<IpAddress> addr = IpAddress::Parse(addr_text);
  if (!addr || addr->family != family) return Fail(ParseError::kBadAddress);

  const ParseError e = CheckPort(port);
  if (e != ParseError::kNone) return Fail(e);

  Announcement a;
  a.kind = AnnounceKind::kEprt;
  a.delimiter = d;
  a.endpoint.addr = *addr;
  a.endpoint.port = static_cast<uint16_t>(port.value);
  if (!SetSpan(a, delim[0], delim[3] + 1)) return Fail(ParseError::kMalformed);
  return Ok(a);
}

ParseResult Parse229(std::string_view line) {
  if (!StartsWithCode(line, "229")) return Fail(ParseError::kMalformed);
  const size_t n = line.size();
  auto is_triple = [&](size_t p) {
    return p + 2 < n && IsDelimiter(line[p]) && line[p + 1] == line[p] &&
           line[p + 2] == line[p];
  };
  // 1. "(" followed by <d><d><d>.
  size_t found = n;
  for (size_t p = 3; p < n; ++p) {
    if (line[p] == '(' && is_triple(p + 1)) {
      found = p + 1;
      break;
    }
  }
  // 2. The first <d><d><d> followed by a digit; failing that, the first
  // triple at all (so "|||x|" is reported as malformed, not as no numbers).
  if (found == n) {
    size_t first_triple = n;
    for (size_t p = 3; p < n; ++p) {
      if (!is_triple(p)) continue;
      if (first_triple == n) first_triple = p;
      if (p + 3 < n && IsDigit(line[p + 3])) {
        found = p;
        break;
      }
    }
    if (found == n) found = first_triple;
  }
  if (found == n) return Fail(ParseError::kNoNumbers);

  const char d = line[found];
  const Number port = ReadNumber(line, found + 3);
  if (port.digits == 0 || port.end >= n || line[port.end] != d) {
    return Fail(ParseError::kMalformed);
  }
  const ParseError e = CheckPort(port);
  if (e != ParseError::kNone) return Fail(e);

  Announcement a;
  a.kind = AnnounceKind::k229;
  a.has_address = false;
  a.delimiter = d;
  a.endpoint.port = static_cast<uint16_t>(port.value);
  if (!SetSpan(a, port.begin, port.end)) return Fail(ParseError::kMalformed);
  return Ok(a);
}

}  // namespace ftpalg
