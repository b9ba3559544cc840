// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/ftp_dialogue.h"

#include <optional>

#include "ftpalg/ftp_command.h"
#include "ftpalg/ftp_reply_code.h"

namespace ftpalg {
namespace {

constexpr uint8_t kPendingOther = 0, kPendingPassive = 1, kPendingAuth = 2, kPendingNone = 0xff;

void PushCommand(Dialogue& dlg, uint8_t kind) {
  if (dlg.pending_count >= FtpDialogue::kMaxOutstanding) {
    dlg.commands_lost = true;
    return;
  }
  dlg.pending_kinds |= uint32_t{kind} << (2 * dlg.pending_count);
  ++dlg.pending_count;
}

// The kind of the oldest outstanding command, or kPendingNone.
uint8_t PopCommand(Dialogue& dlg) {
  if (dlg.pending_count == 0) return kPendingNone;
  const uint8_t k = dlg.pending_kinds & 3;
  dlg.pending_kinds >>= 2;
  --dlg.pending_count;
  // Every recorded command answered: treat the dialogue as lock-step
  // again (pairing was unknown only while lost commands could be queued).
  if (dlg.pending_count == 0) dlg.commands_lost = false;
  return k;
}

LineMeaning Announces(AnnounceKind k) {
  LineMeaning m;
  m.what = LineMeaning::What::kAnnouncement;
  m.kind = k;
  return m;
}

LineMeaning NotFtp(Dialogue& dlg, LineMeaning::NotFtp why, uint16_t code = 0) {
  dlg.not_ftp = true;
  LineMeaning m;
  m.what = LineMeaning::What::kNotFtp;
  m.why = why;
  m.code = code;
  return m;
}

LineMeaning Only(LineMeaning::What what) {
  LineMeaning m;
  m.what = what;
  return m;
}

}  // namespace

LineMeaning FtpDialogue::OnCommand(Dialogue& dlg, std::string_view line) {
  if (dlg.tls) return {};
  const Verb verb = ClassifyCommand(line);
  LineMeaning first;
  if (!dlg.commands_seen) {
    dlg.commands_seen = true;
    if (verb == Verb::kUnknown && !dlg.not_ftp) {
      first = NotFtp(dlg, LineMeaning::NotFtp::kFirstCommand);
    }
  }
  const bool passive = verb == Verb::kPasv || verb == Verb::kEpsv || verb == Verb::kLpsv;
  PushCommand(dlg, passive ? kPendingPassive : verb == Verb::kAuth ? kPendingAuth : kPendingOther);
  switch (verb) {
    case Verb::kPort: return Announces(AnnounceKind::kPort);
    case Verb::kEprt: return Announces(AnnounceKind::kEprt);
    case Verb::kLprt: return Announces(AnnounceKind::kLprt);
    default: return first;
  }
}

LineMeaning FtpDialogue::OnReply(Dialogue& dlg, std::string_view line) {
  if (dlg.tls) return {};
  const std::optional<ReplyCode> rc = ParseReplyCode(line);
  if (dlg.multiline_code != 0) {
    if (!rc || !rc->final || rc->code != dlg.multiline_code) return {};
    dlg.multiline_code = 0;
  } else if (!rc) {
    if (!dlg.greeting_seen && !dlg.not_ftp) {
      return NotFtp(dlg, LineMeaning::NotFtp::kFirstServerLine);
    }
    return {};
  } else if (!rc->final) {
    dlg.multiline_code = rc->code;
    return {};
  }
  if (!dlg.greeting_seen) {
    if (rc->code == 220) {
      dlg.greeting_seen = true;
    } else if (rc->code / 100 != 1 && !dlg.not_ftp) {
      return NotFtp(dlg, LineMeaning::NotFtp::kNoGreeting, rc->code);
    }
    return {};
  }
  if (rc->code / 100 == 1) return {};  // preliminary: command still open
  const bool lost_before_pop = dlg.commands_lost;
  const uint8_t answered = PopCommand(dlg);
  // 234 answers only AUTH (RFC 2228): stop parsing even when the AUTH was
  // never seen (a gap hid it); parsing on would read ciphertext as FTP.
  if (rc->code == 234) {
    dlg.tls = true;
    return Only(LineMeaning::What::kTlsStarted);
  }
  AnnounceKind kind;
  switch (rc->code) {
    case 227: kind = AnnounceKind::k227; break;
    case 228: kind = AnnounceKind::k228; break;
    case 229: kind = AnnounceKind::k229; break;
    default: return {};
  }
  if (answered != kPendingPassive) return Only(LineMeaning::What::kUnsolicited);
  // A command went unseen (a hole, or more than 16 outstanding): this reply
  // may answer it rather than the PASV it was paired with.
  if (lost_before_pop) return Only(LineMeaning::What::kPairingUnknown);
  return Announces(kind);
}

bool FtpDialogue::AuthOutstanding(const Dialogue& dlg) {
  for (uint8_t i = 0; i < dlg.pending_count; ++i) {
    if (((dlg.pending_kinds >> (2 * i)) & 3) == kPendingAuth) return true;
  }
  return false;
}

void FtpDialogue::ResumeAfterTls(Dialogue& dlg) {
  dlg.tls = false;
  dlg.pending_kinds = 0;
  dlg.pending_count = 0;
  dlg.commands_lost = false;
  dlg.multiline_code = 0;
}

void FtpDialogue::ForgetPairing(Dialogue& dlg, Direction d) {
  // Replies went by unseen while an AUTH waited for one: its 234 may be
  // among them, and everything after it ciphertext. Never parse again.
  if (d == Direction::kReply && AuthOutstanding(dlg)) dlg.tls = true;
  dlg.pending_kinds = 0;
  dlg.pending_count = 0;
  dlg.commands_lost = true;
  if (d == Direction::kReply) dlg.multiline_code = 0;
}

}  // namespace ftpalg
