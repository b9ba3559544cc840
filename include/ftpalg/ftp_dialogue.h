// The FTP dialogue of one control connection, line by line: whether it is
// FTP at all (the server's 220 first), which reply answers which command
// (replies come in command order; PASV/EPSV/LPSV are paired with their
// 227/228/229), multi-line replies, and the switch to TLS (234). It says
// which lines are announcements; whether one is acted on is the
// announcement policy's business. Pure: no I/O, no allocation.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string_view>

#include "ftpalg/announcement.h"
#include "ftpalg/inet.h"

namespace ftpalg {

// What the dialogue has shown so far (flags packed: per-session bytes count
// against the 256-byte budget).
struct Dialogue {
  uint32_t pending_kinds = 0;  // 2 bits per outstanding command, oldest first
  uint8_t pending_count = 0;   // outstanding commands (at most 16)
  uint16_t multiline_code = 0; // inside a "NNN-" reply until "NNN "
  bool greeting_seen : 1 = false;  // the server's 220 came first
  bool not_ftp : 1 = false;        // never rewrite this connection
  bool tls : 1 = false;            // AUTH accepted, no side back to cleartext
  bool commands_lost : 1 = false;  // pairing unknown (commands went unseen)
  bool commands_seen : 1 = false;  // the first command was checked
  bool takeover_by_server : 1 = false;  // who announced takeover_port
  // Restored session: the port of the announcement the previous daemon
  // rewrote last and whose data connection was still pending (0: none). The
  // first announcement of that port from that side is its retransmission.
  uint16_t takeover_port = 0;
};

// What one complete line means.
struct LineMeaning {
  enum class What : uint8_t {
    kNothing,           // not an announcement (or parsing is off)
    kAnnouncement,      // `kind` is announced: the policy decides
    kNotFtp,            // this line shows the dialogue is not FTP (`why`)
    kTlsStarted,        // 234: the control connection is encrypted from here
    kUnsolicited,       // a 227/228/229 answering no PASV/EPSV/LPSV
    kPairingUnknown,    // a 227/228/229 after commands went unseen
  };
  enum class NotFtp : uint8_t {
    kFirstCommand,      // the client's first line is no FTP command
    kFirstServerLine,   // the server's first line is no reply
    kNoGreeting,        // the server's first reply is not 220 (`code`)
  };
  What what = What::kNothing;
  AnnounceKind kind = AnnounceKind::kPort;
  NotFtp why = NotFtp::kFirstCommand;
  uint16_t code = 0;
};

class FtpDialogue {
 public:
  // A complete command line from the client.
  static LineMeaning OnCommand(Dialogue& dlg, std::string_view line);
  // A complete reply line from the server.
  static LineMeaning OnReply(Dialogue& dlg, std::string_view line);
  // Commands or replies went by unseen (a given-up hole in direction d):
  // which reply answers which command is unknown until the commands seen
  // from now on are all answered. Replies lost while an AUTH waits for its
  // answer end parsing for good (`tls`): the 234 may be among them.
  static void ForgetPairing(Dialogue& dlg, Direction d);
  // The first direction came back to cleartext after TLS (CCC): the
  // commands and replies inside TLS went unseen, so pairing starts afresh
  // from the lines seen from now on.
  static void ResumeAfterTls(Dialogue& dlg);
  // Whether an AUTH command still waits for its reply.
  static bool AuthOutstanding(const Dialogue& dlg);

  static constexpr uint8_t kMaxOutstanding = 16;
};

}  // namespace ftpalg
