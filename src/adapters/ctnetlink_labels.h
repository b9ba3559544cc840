// SPDX-License-Identifier: GPL-2.0-or-later
// A session's SessionSnapshot kept in its control conntrack's 128-bit labels
// (CTA_LABELS), so a restarted ftpalgd (or a backup gateway that conntrackd
// keeps in sync) can continue the session's sequence offsets.
//
// Layout, by label bit number (what `-m connlabel --label N`, nft `ct label N`
// and conntrackd use; bit n of the kernel's unsigned long array):
//   bits   0..31   never touched (left to the operator's own labels)
//   bits  32..63   offset[kOriginal] (client->server), int32 two's complement
//   bits  64..95   offset[kReply] (server->client)
//   bits  96..103  flags: bit 96 = TLS (AUTH accepted, parsing stopped)
//   bits 104..111  layout version (1)
//   bits 112..127  magic 0xFA17 (bit 127 set: a written snapshot is never
//                  all-zero, which conntrackd could not replicate)
// Writes carry CTA_LABELS_MASK covering bits 32..127 and pre-masked data:
// the kernel computes new = (old & ~mask) ^ data, so bits 0..31 stay as
// they are. Pure: no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "adapters/ctnetlink_messages.h"
#include "ftpalg/engine.h"

namespace ftpalg {


bool LabelBit(const CtLabelBits& bits, unsigned n);
void SetLabelBit(CtLabelBits* bits, unsigned n, bool value);
// Bits [first, first + 32) as a number (bit `first` is the least significant).
uint32_t LabelField32(const CtLabelBits& bits, unsigned first);
void SetLabelField32(CtLabelBits* bits, unsigned first, uint32_t value);

inline constexpr unsigned kSnapshotFirstBit = 32;
inline constexpr uint16_t kSnapshotMagic = 0xFA17;
inline constexpr uint8_t kSnapshotVersion = 1;

struct CtLabelWrite {
  CtLabelBits data{};  // already masked
  CtLabelBits mask{};
};

CtLabelWrite EncodeSnapshotLabels(const SessionSnapshot& s);
// nullopt when the labels carry no snapshot of this layout (other magic or
// version, e.g. labels never written by ftpalgd).
std::optional<SessionSnapshot> DecodeSnapshotLabels(const CtLabelBits& bits);
// What `write` does to `old` in the kernel: (old & ~mask) ^ data.
CtLabelBits ApplyLabelWrite(const CtLabelBits& old, const CtLabelWrite& write);

// The update message (BuildCtSetLabels, ctnetlink_messages.h) for a write.
inline nlmsghdr* BuildCtSetLabels(void* buf, uint32_t seq, const CtTuple& orig,
                                  const CtLabelWrite& write) {
  return BuildCtSetLabels(buf, seq, orig, write.data, write.mask);
}

}  // namespace ftpalg
