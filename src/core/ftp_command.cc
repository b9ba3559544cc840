// SPDX-License-Identifier: GPL-2.0-or-later
// ClassifyCommand (ftp_command.h): which FTP verb a client command line
// starts with. Owns the known-verb list (RFC 959, 775/1123 X variants, 2228,
// 2389, 2428, 1639, 2640, 3659, 7151 and common extensions) and its
// compile-time table of verb codes, so a lookup compares numbers, not
// strings. The arguments of PORT/EPRT/LPRT are not read here (see
// announcement_host_port.cc, announcement_extended.cc).
#include "ftpalg/ftp_command.h"

#include <iterator>

#include "core/ftp_line_scan.h"

namespace ftpalg {
namespace {

using line_scan::IsAlpha;
using line_scan::IsBlank;
using line_scan::ToUpper;

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

}  // namespace ftpalg
