// Client command verbs (RFC 959, 1123, 1639, 2228, 2389, 2428, 3659, 7151):
// which FTP verb a command line starts with, for the engine's dialogue. Only
// the verb; the arguments of PORT/EPRT/LPRT are read by announcement.h.
// Pure: no I/O, no allocation. The line is ONE complete line without its
// terminator (no trailing "\r\n" / "\n"); nothing past it is read.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string_view>

namespace ftpalg {

// Client command verbs the engine cares about (case-insensitive match).
enum class Verb : uint8_t {
  kUnknown,  // not a recognised FTP verb (e.g. "GET", "POST", junk)
  kOther,    // a known FTP verb with no special meaning to us (USER, LIST...)
  kPort,
  kEprt,
  kLprt,
  kPasv,
  kEpsv,
  kLpsv,
  kAuth,  // AUTH TLS / AUTH SSL / ...
};

// Returns the verb of a command line: the first token (letters only, 3-4
// chars), followed by end of line or a space/tab. "port 1,2,3,4,5,6" is kPort.
// The known-verb list is RFC 959 + 2228 + 2389 + 2428 + 1639 + 3659 + 7151
// plus the X* variants; anything else is kUnknown.
Verb ClassifyCommand(std::string_view line);

}  // namespace ftpalg
