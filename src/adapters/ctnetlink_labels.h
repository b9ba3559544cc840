// SPDX-License-Identifier: GPL-2.0-or-later
// The per-session state ftpalgd keeps in its control conntrack's 128-bit
// labels (CTA_LABELS), so a restarted ftpalgd, or a backup gateway that
// conntrackd keeps in sync, can continue the session: its sequence offsets
// and its newest pending data connection.
//
// Layout v2, by label bit number (what `-m connlabel --label N`, nft
// `ct label N` and conntrackd use; bit n of the kernel's unsigned long array):
//   bits   0..15   pending: nat_to port (the port the announcer announced)
//   bits  16..31   pending: target port (the public port the peer connects
//                  to; differs from bits 0..15 after a port remap)
//   bits  32..63   offset[kOriginal] (client->server), int32 two's complement
//   bits  64..95   offset[kReply] (server->client)
//   bits  96..103  flags:
//                    96  TLS (AUTH accepted, parsing stopped)
//                    97  pending valid (bits 0..31 and 98..102 mean something)
//                    98  pending announcer: 0 client (PORT/EPRT/LPRT, active),
//                        1 server (227/228/229, passive)
//                    99  pending translated: the target address is the NAT's
//                        outside address of the announcer (the announcement
//                        was rewritten, or a 229 kept its port); 0: the
//                        announcer's own address (no rewrite needed)
//                   100..102 pending kind (AnnounceKind: 0 PORT, 1 EPRT,
//                        2 LPRT, 3 227, 4 228, 5 229)
//                   103  reserved, 0
//   bits 104..111  layout version (2; version 1 is still read: it has no
//                  pending fields and left bits 0..31 to the operator)
//   bits 112..127  magic 0xFA17 (bit 127 set: written labels are never
//                  all-zero, which conntrackd could not replicate)
// Every other address of the pending data connection is derived from the
// control conntrack's ORIGINAL and REPLY tuples (ExpectationFromPending).
// Writes carry CTA_LABELS_MASK and pre-masked data (the kernel computes
// new = (old & ~mask) ^ data): a snapshot write covers bits 32..96 and
// 104..127, a pending write bits 0..31 and 97..127, a pending clear bits
// 97..127 (the ports then mean nothing and are left as they are). So bits
// 0..31 of a control conntrack are only written once it has had a pending
// data connection. Pure: no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "adapters/ctnetlink_messages.h"
#include "ftpalg/engine.h"
#include "ftpalg/expectation.h"

namespace ftpalg {

bool LabelBit(const CtLabelBits& bits, unsigned n);
void SetLabelBit(CtLabelBits* bits, unsigned n, bool value);
// Bits [first, first + 32) as a number (bit `first` is the least significant).
uint32_t LabelField32(const CtLabelBits& bits, unsigned first);
void SetLabelField32(CtLabelBits* bits, unsigned first, uint32_t value);

inline constexpr unsigned kSnapshotFirstBit = 32;
inline constexpr uint16_t kSnapshotMagic = 0xFA17;
inline constexpr uint8_t kSnapshotVersion = 2;  // written; 1 and 2 are read

struct CtLabelWrite {
  CtLabelBits data{};  // already masked
  CtLabelBits mask{};
};

// The newest pending data connection of a session, as far as the master
// conntrack's tuples do not already tell it.
struct PendingLabel {
  Direction announcer = Direction::kOriginal;
  bool translated = false;
  AnnounceKind kind = AnnounceKind::kPort;
  uint16_t nat_port = 0;     // Expectation::nat_to.port
  uint16_t target_port = 0;  // Expectation::target.port
  friend bool operator==(const PendingLabel&, const PendingLabel&) = default;
};

// Everything the labels carry.
struct LabelState {
  uint8_t version = kSnapshotVersion;
  SessionSnapshot snapshot;
  std::optional<PendingLabel> pending;  // v2 only
};

CtLabelWrite EncodeSnapshotLabels(const SessionSnapshot& s);
// p: the pending fields; nullopt: "no pending data connection" (clears the
// valid bit only).
CtLabelWrite EncodePendingLabels(const std::optional<PendingLabel>& p);
// One write doing both: over's bits win where the masks overlap.
CtLabelWrite MergeLabelWrites(const CtLabelWrite& base, const CtLabelWrite& over);
// nullopt when the labels carry no state of a known layout (other magic or
// version, e.g. labels never written by ftpalgd).
std::optional<LabelState> DecodeLabels(const CtLabelBits& bits);
std::optional<SessionSnapshot> DecodeSnapshotLabels(const CtLabelBits& bits);
// What `write` does to `old` in the kernel: (old & ~mask) ^ data.
CtLabelBits ApplyLabelWrite(const CtLabelBits& old, const CtLabelWrite& write);

// The pending fields of an expectation the engine installed.
PendingLabel PendingFromExpectation(const Expectation& e);
// The expectation back, from the pending fields and the master conntrack's
// tuples, exactly as the engine built it (engine.cc Announce, with the
// plane's NatBinding): the announcer is the ORIGINAL source (client) or the
// REPLY source (server), the peer the other one's sending address, nat_to
// the announcer's address with nat_port, and the target the announcer's
// outside address (REPLY destination for a client, ORIGINAL destination for
// a server; public_ip instead when --public-ip is set for that family) when
// translated, else its own address, with target_port. session_id is 0.
Expectation ExpectationFromPending(const PendingLabel& p, const CtTuple& orig,
                                   const CtTuple& reply,
                                   const std::optional<IpAddress>& public_ip,
                                   uint32_t timeout_s);

// The update message (BuildCtSetLabels, ctnetlink_messages.h) for a write.
inline nlmsghdr* BuildCtSetLabels(void* buf, uint32_t seq, const CtTuple& orig,
                                  const CtLabelWrite& write) {
  return BuildCtSetLabels(buf, seq, orig, write.data, write.mask);
}

}  // namespace ftpalg
