// SPDX-License-Identifier: GPL-2.0-or-later
// ParseReplyCode (ftp_reply_code.h): the shape of a server reply line, RFC 959
// 4.2 - three digits [1-5][0-5][0-9], then ' ' (the reply's last line), '-'
// (the first line of a multi-line reply) or end of line. Owns nothing else:
// what a code means to the dialogue is ftp_dialogue.cc's, the host-port
// text of 227/228/229 is read by announcement_host_port.cc and
// announcement_extended.cc.
#include "ftpalg/ftp_reply_code.h"

#include "core/ftp_line_scan.h"

namespace ftpalg {

namespace {
using line_scan::IsDigit;
}  // namespace

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

}  // namespace ftpalg
