// SPDX-License-Identifier: GPL-2.0-or-later
// KindName and ErrorName (announcement.h): the fixed names of the six
// announcement kinds and of the parser's refusal reasons, as written in logs,
// stats and golden files ("PORT" ... "229", "no_numbers", "malformed" ...).
// Changing one changes every golden that prints it.
#include "ftpalg/announcement.h"

namespace ftpalg {

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

}  // namespace ftpalg
