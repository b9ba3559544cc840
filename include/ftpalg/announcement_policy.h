// The one place that says *when* an announcement (PORT, EPRT, LPRT, 227,
// 228, 229) is acted on and what it becomes: the dialogue must be FTP, the
// line must parse, the address must be the sender's own (no bounce, same
// family), the port not below the minimum; and where the data connection is
// to be expected: rewritten to the NAT's outside address when the announced
// one is inside and differs, else kept. Pure: no I/O.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>

#include "ftpalg/config.h"
#include "ftpalg/ftp_dialogue.h"
#include "ftpalg/announcement.h"
#include "ftpalg/nat_binding.h"

namespace ftpalg {

// Step 1: the line, its sender and the dialogue.
struct AnnouncementCheck {
  enum class Verdict : uint8_t {
    kAccepted,   // `announcement` is valid (address filled in for a 229)
    kRefused,    // `refusal` says why; the line passes unchanged
    kDuplicate,  // the retransmission of the announcement a previous daemon
                 // rewrote before a takeover: passes as the duplicate it is
  };
  enum class Refusal : uint8_t { kNotFtp, kParse, kFamily, kBounce, kLowPort };
  Verdict verdict = Verdict::kRefused;
  Refusal refusal = Refusal::kNotFtp;
  ParseError error = ParseError::kNone;  // kParse
  Announcement announcement;
};

// Step 2: where the data connection is to be expected.
struct AnnouncementPlacement {
  bool inside = false;    // the announced address is an inside one
  bool rewrite = false;   // announced text changes to `target`
  Endpoint target;        // where the peer will connect (outside address
                          // when rewritten, else the announced one)
  IpAddress peer;         // who will connect, as seen before NAT
};

class AnnouncementPolicy {
 public:
  explicit AnnouncementPolicy(const EngineConfig& cfg) : cfg_(cfg) {}

  // Examines a complete announcement line of `kind` sent by `sender` in
  // direction `from`. Consumes the dialogue's takeover marker when this is
  // the first announcement from that side since a takeover.
  AnnouncementCheck Examine(Dialogue& dlg, Direction from, AnnounceKind kind,
                            std::string_view line, const IpAddress& sender) const;

  // Places an accepted announcement given how the NAT presents its ends.
  AnnouncementPlacement Place(const Announcement& a, Direction from,
                              const NatBinding& b) const;

  // The reason of a refusal, for the log ("address X is not the sender's Y
  // (bounce)").
  std::string Explain(const AnnouncementCheck& c, const IpAddress& sender) const;

 private:
  const EngineConfig& cfg_;
};

}  // namespace ftpalg
