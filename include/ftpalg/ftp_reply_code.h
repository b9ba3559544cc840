// Server reply lines (RFC 959 4.2): the three-digit code and whether the line
// ends the reply ("NNN ") or opens a multi-line one ("NNN-"). Only the code;
// the host-port text of 227/228/229 is read by announcement.h.
// Pure: no I/O, no allocation. The line is ONE complete line without its
// terminator (no trailing "\r\n" / "\n"); nothing past it is read.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ftpalg {

// Reply line shape: "227 text" (final) or "227-text" (first line of a
// multi-line reply). RFC 959 4.2.
struct ReplyCode {
  uint16_t code = 0;  // 100..599
  bool final = false;  // true for "NNN " or bare "NNN", false for "NNN-"
};
// nullopt unless the line starts with three digits [1-5][0-5][0-9] followed by
// ' ', '-' or end of line.
std::optional<ReplyCode> ParseReplyCode(std::string_view line);

}  // namespace ftpalg
