// Address/port announcements: the six forms in which an FTP peer names the
// endpoint of a data connection (PORT, EPRT, LPRT commands; 227, 228, 229
// replies), what parsing one yields (kind, endpoint, the exact span a rewrite
// replaces, or why it was refused) and the inverse, the replacement text.
// The grammars live in announcement_host_port.cc (PORT/LPRT/227/228, RFC
// 959/1123/1639), announcement_extended.cc (EPRT/229, RFC 2428); the names
// in announcement_names.cc, the text in announcement_format.cc.
// Pure: no I/O, no allocation. Every parser takes ONE complete line without
// its terminator (no trailing "\r\n" / "\n") and never reads past it.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ftpalg/inet.h"

namespace ftpalg {

enum class AnnounceKind : uint8_t {
  kPort,  // PORT h1,h2,h3,h4,p1,p2
  kEprt,  // EPRT |1|a.b.c.d|port| or |2|v6|port|, any delimiter
  kLprt,  // LPRT af,hal,h1..hn,pal,p1,p2 (RFC 1639)
  k227,   // 227 ... h1,h2,h3,h4,p1,p2 ...
  k228,   // 228 ... (af,hal,h1..hn,pal,p1,p2)
  k229,   // 229 ... (|||port|)
};
std::string_view KindName(AnnounceKind k);  // "PORT", "EPRT", ... "229"

// Why a line that looked like an announcement was refused by the parser.
enum class ParseError : uint8_t {
  kNone,
  kNoNumbers,       // "227 Logout." - no host-port anywhere
  kMalformed,       // wrong field count, bad separators, junk after the span
  kOctetRange,      // an address octet > 255 or more than 3 digits
  kPortRange,       // port > 65535 (or a port byte > 255)
  kPortZero,        // port 0
  kBadFamily,       // EPRT/LPRT family the parser does not know (not 1/2, 4/6)
  kBadAddress,      // EPRT address text does not parse for its family
};
std::string_view ErrorName(ParseError e);  // "no_numbers", "malformed", ...

// A parsed announcement. span_offset/span_len delimit, within the line, the
// exact bytes a rewrite replaces; everything else in the line is kept.
//   PORT/LPRT/227/228: the comma-separated numbers (first digit..last digit)
//   EPRT: from the first delimiter to the last one inclusive ("|1|a|p|")
//   229:  the port digits only
struct Announcement {
  AnnounceKind kind = AnnounceKind::kPort;
  uint16_t span_offset = 0;
  uint16_t span_len = 0;
  bool has_address = true;  // false for 229 (no address in the text)
  Endpoint endpoint;        // announced address (if any) and port (1..65535)
  char delimiter = '|';     // EPRT/229 delimiter as sent
};

struct ParseResult {
  std::optional<Announcement> announcement;
  ParseError error = ParseError::kNone;  // set when announcement is empty
};

// Command parsers: the line must start with the verb (case-insensitive).
ParseResult ParsePort(std::string_view line);  // announcement_host_port.cc
ParseResult ParseEprt(std::string_view line);  // announcement_extended.cc
ParseResult ParseLprt(std::string_view line);  // announcement_host_port.cc
// Reply parsers: the line must start with the code ("227 " / "227-").
// 227: RFC 1123 4.1.2.6 - scan for the first digit after the code; the
// numbers may be wrapped in (), follow '=', or stand alone; trailing text kept.
ParseResult Parse227(std::string_view line);  // announcement_host_port.cc
ParseResult Parse228(std::string_view line);  // announcement_host_port.cc
ParseResult Parse229(std::string_view line);  // announcement_extended.cc

// Writes the replacement text for `a`'s span announcing `ep` into out[0..cap).
// Same kind and delimiter as `a`; PORT/227 give "h1,h2,h3,h4,p1,p2", EPRT
// "<d>1<d>a.b.c.d<d>port<d>" or "<d>2<d>v6<d>port<d>" (RFC 5952 text), 229 the
// port digits, LPRT/228 "4,4,h1,h2,h3,h4,2,p1,p2" / "6,16,...,2,p1,p2".
// Returns the length written, or 0 if ep's family cannot be expressed in this
// kind (IPv6 in PORT/227) or cap is too small. kMaxReplacementLen bytes
// always suffice (an IPv6 LPRT/228 span can be 78 bytes, so it is not 64).
size_t FormatReplacement(const Announcement& a, const Endpoint& ep, char* out,
                         size_t cap);

inline constexpr size_t kMaxReplacementLen = 96;

}  // namespace ftpalg
