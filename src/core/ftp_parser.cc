// Pure FTP control-line recognition: verbs, reply codes and the six kinds of
// address/port announcement. Hand-written bounded scanners; no allocation.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/ftp_parser.h"

#include <cstring>
#include <iterator>

namespace ftpalg {
namespace {

// ---------------------------------------------------------------------------
// Character helpers (ASCII only, locale independent).

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char ToUpper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}

// EPRT/229 delimiter: printable, not a space, not a digit (RFC 2428).
bool IsDelimiter(char c) { return c >= 0x21 && c <= 0x7e && !IsDigit(c); }

// True if `line` starts with the four-letter `verb` (any case).
bool StartsWithVerb(std::string_view line, const char* verb) {
  const size_t n = std::strlen(verb);
  if (line.size() < n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (ToUpper(line[i]) != verb[i]) return false;
  }
  return true;
}

// True if `line` starts with the reply `code` followed by ' ', '-' or end.
bool StartsWithCode(std::string_view line, const char* code) {
  if (line.size() < 3 || std::memcmp(line.data(), code, 3) != 0) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '-';
}

bool OnlyBlanksFrom(std::string_view line, size_t pos) {
  for (; pos < line.size(); ++pos) {
    if (!IsBlank(line[pos])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Bounded decimal numbers and comma lists.

// Values stop growing past this so long digit runs cannot overflow; anything
// that reaches it is out of range for every field we parse.
constexpr uint32_t kValueCap = 1000000;

struct Number {
  uint32_t value = 0;   // capped at kValueCap
  uint32_t digits = 0;  // length of the digit run (may exceed 3)
  size_t begin = 0;
  size_t end = 0;  // one past the last digit
};

Number ReadNumber(std::string_view line, size_t pos) {
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

// Fills `out` from a span [begin, end), refusing spans that do not fit the
// 16-bit fields of Announcement (only possible in lines over 64 KiB).
bool SetSpan(Announcement& out, size_t begin, size_t end) {
  if (end > 0xffff || begin > end) return false;
  out.span_offset = static_cast<uint16_t>(begin);
  out.span_len = static_cast<uint16_t>(end - begin);
  return true;
}

ParseResult Fail(ParseError e) {
  ParseResult r;
  r.error = e;
  return r;
}

ParseResult Ok(const Announcement& a) {
  ParseResult r;
  r.announcement = a;
  return r;
}

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

// Port field of EPRT/229: 1..5 digits, 1..65535.
ParseError CheckPort(const Number& n) {
  if (n.digits == 0) return ParseError::kMalformed;
  if (n.digits > 5 || n.value > 65535) return ParseError::kPortRange;
  if (n.value == 0) return ParseError::kPortZero;
  return ParseError::kNone;
}

// Command prefix: verb then at least one space/tab. Returns the position of
// the first argument character, or 0 if the prefix does not match.
size_t ArgumentStart(std::string_view line, const char* verb) {
  if (!StartsWithVerb(line, verb)) return 0;
  size_t pos = std::strlen(verb);
  if (pos >= line.size() || !IsBlank(line[pos])) return 0;
  while (pos < line.size() && IsBlank(line[pos])) ++pos;
  return pos;
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

// ---------------------------------------------------------------------------
// Known verbs.

constexpr const char* kKnownVerbs[] = {
    // RFC 959
    "USER",
    "PASS",
    "ACCT",
    "CWD",
    "CDUP",
    "SMNT",
    "REIN",
    "QUIT",
    "PORT",
    "PASV",
    "TYPE",
    "STRU",
    "MODE",
    "RETR",
    "STOR",
    "STOU",
    "APPE",
    "ALLO",
    "REST",
    "RNFR",
    "RNTO",
    "ABOR",
    "DELE",
    "RMD",
    "MKD",
    "PWD",
    "LIST",
    "NLST",
    "SITE",
    "SYST",
    "STAT",
    "HELP",
    "NOOP",
    // RFC 775 / 1123 X variants
    "XCWD",
    "XCUP",
    "XMKD",
    "XPWD",
    "XRMD",
    // RFC 2228
    "AUTH",
    "ADAT",
    "PROT",
    "PBSZ",
    "CCC",
    "MIC",
    "CONF",
    "ENC",
    // RFC 2389
    "FEAT",
    "OPTS",
    // RFC 2428
    "EPRT",
    "EPSV",
    // RFC 1639
    "LPRT",
    "LPSV",
    // RFC 2640
    "LANG",
    // RFC 3659
    "MDTM",
    "SIZE",
    "MLST",
    "MLSD",
    // RFC 7151
    "HOST",
    // Common extensions
    "CLNT",
    "MFMT",
    "MFCT",
    "MFF",
    "AVBL",
    "CSID",
};

// A verb of 3 or 4 upper-case letters as one number (first letter in the
// low byte): the lookups below compare numbers, not strings.
constexpr uint32_t VerbCode(std::string_view v) {
  uint32_t c = 0;
  for (size_t i = 0; i < v.size() && i < 4; ++i) {
    c |= uint32_t{static_cast<unsigned char>(v[i])} << (8 * i);
  }
  return c;
}

struct KnownVerbCodes {
  uint32_t code[std::size(kKnownVerbs)] = {};
  constexpr KnownVerbCodes() {
    for (size_t i = 0; i < std::size(kKnownVerbs); ++i) {
      code[i] = VerbCode(kKnownVerbs[i]);
    }
  }
};
constexpr KnownVerbCodes kKnownVerbCodes;

}  // namespace

Verb ClassifyCommand(std::string_view line) {
  size_t len = 0;
  while (len < line.size() && len < 5 && IsAlpha(line[len])) ++len;
  if (len < 3 || len > 4) return Verb::kUnknown;
  if (len < line.size() && !IsBlank(line[len])) return Verb::kUnknown;
  uint32_t v = 0;
  for (size_t i = 0; i < len; ++i) {
    v |= uint32_t{static_cast<unsigned char>(ToUpper(line[i]))} << (8 * i);
  }
  switch (v) {
    case VerbCode("PORT"): return Verb::kPort;
    case VerbCode("EPRT"): return Verb::kEprt;
    case VerbCode("LPRT"): return Verb::kLprt;
    case VerbCode("PASV"): return Verb::kPasv;
    case VerbCode("EPSV"): return Verb::kEpsv;
    case VerbCode("LPSV"): return Verb::kLpsv;
    case VerbCode("AUTH"): return Verb::kAuth;
    default: break;
  }
  for (uint32_t known : kKnownVerbCodes.code) {
    if (v == known) return Verb::kOther;
  }
  return Verb::kUnknown;
}

std::optional<ReplyCode> ParseReplyCode(std::string_view line) {
  if (line.size() < 3) return std::nullopt;
  if (line[0] < '1' || line[0] > '5') return std::nullopt;
  if (line[1] < '0' || line[1] > '5') return std::nullopt;
  if (!IsDigit(line[2])) return std::nullopt;
  ReplyCode r;
  r.code = static_cast<uint16_t>((line[0] - '0') * 100 + (line[1] - '0') * 10 +
                                 (line[2] - '0'));
  if (line.size() == 3 || line[3] == ' ') {
    r.final = true;
  } else if (line[3] == '-') {
    r.final = false;
  } else {
    return std::nullopt;
  }
  return r;
}

std::string_view KindName(AnnounceKind k) {
  switch (k) {
    case AnnounceKind::kPort:
      return "PORT";
    case AnnounceKind::kEprt:
      return "EPRT";
    case AnnounceKind::kLprt:
      return "LPRT";
    case AnnounceKind::k227:
      return "227";
    case AnnounceKind::k228:
      return "228";
    case AnnounceKind::k229:
      return "229";
  }
  return "?";
}

std::string_view ErrorName(ParseError e) {
  switch (e) {
    case ParseError::kNone:
      return "none";
    case ParseError::kNoNumbers:
      return "no_numbers";
    case ParseError::kMalformed:
      return "malformed";
    case ParseError::kOctetRange:
      return "octet_range";
    case ParseError::kPortRange:
      return "port_range";
    case ParseError::kPortZero:
      return "port_zero";
    case ParseError::kBadFamily:
      return "bad_family";
    case ParseError::kBadAddress:
      return "bad_address";
  }
  return "?";
}

ParseResult ParsePort(std::string_view line) {
  const size_t pos = ArgumentStart(line, "PORT");
  if (pos == 0 || pos >= line.size() || !IsDigit(line[pos])) {
    return Fail(ParseError::kMalformed);
  }
  const NumberList list = ReadList(line, pos, /*lenient=*/false);
  if (list.dangling || !OnlyBlanksFrom(line, list.end)) {
    return Fail(ParseError::kMalformed);
  }
  return FinishShortHostPort(list, AnnounceKind::kPort);
}

ParseResult ParseLprt(std::string_view line) {
  const size_t pos = ArgumentStart(line, "LPRT");
  if (pos == 0 || pos >= line.size() || !IsDigit(line[pos])) {
    return Fail(ParseError::kMalformed);
  }
  const NumberList list = ReadList(line, pos, /*lenient=*/false);
  if (list.dangling || !OnlyBlanksFrom(line, list.end)) {
    return Fail(ParseError::kMalformed);
  }
  return FinishLongHostPort(list, AnnounceKind::kLprt);
}

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

ParseResult Parse227(std::string_view line) {
  return ParseReplyNumbers(line, "227", AnnounceKind::k227);
}

ParseResult Parse228(std::string_view line) {
  return ParseReplyNumbers(line, "228", AnnounceKind::k228);
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
