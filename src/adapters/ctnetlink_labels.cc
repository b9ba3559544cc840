// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/ctnetlink_labels.h"

#include <climits>
#include <cstring>

namespace ftpalg {
namespace {

// The kernel keeps labels as an unsigned long array and test_bit(n) reads
// bit n % BITS_PER_LONG of word n / BITS_PER_LONG: go through the same type
// so the layout matches the kernel on any byte order.
constexpr unsigned kWordBits = sizeof(unsigned long) * CHAR_BIT;  // NOLINT
constexpr unsigned kWords = 16 / sizeof(unsigned long);            // NOLINT
using Words = unsigned long[kWords];                               // NOLINT

constexpr unsigned kFlagsBit = 96;
constexpr unsigned kVersionBit = 104;
constexpr unsigned kMagicBit = 112;
constexpr unsigned kFlagTls = 0;  // relative to kFlagsBit

uint32_t Field(const CtLabelBits& bits, unsigned first, unsigned width) {
  uint32_t v = 0;
  for (unsigned i = 0; i < width; ++i) {
    if (LabelBit(bits, first + i)) v |= uint32_t{1} << i;
  }
  return v;
}

void SetField(CtLabelBits* bits, unsigned first, unsigned width, uint32_t v) {
  for (unsigned i = 0; i < width; ++i) {
    SetLabelBit(bits, first + i, ((v >> i) & 1u) != 0);
  }
}

}  // namespace

bool LabelBit(const CtLabelBits& bits, unsigned n) {
  if (n >= 128) return false;
  Words w;
  std::memcpy(w, bits.data(), sizeof(w));
  return ((w[n / kWordBits] >> (n % kWordBits)) & 1ul) != 0;
}

void SetLabelBit(CtLabelBits* bits, unsigned n, bool value) {
  if (n >= 128) return;
  Words w;
  std::memcpy(w, bits->data(), sizeof(w));
  const unsigned long m = 1ul << (n % kWordBits);  // NOLINT
  if (value) {
    w[n / kWordBits] |= m;
  } else {
    w[n / kWordBits] &= ~m;
  }
  std::memcpy(bits->data(), w, sizeof(w));
}

uint32_t LabelField32(const CtLabelBits& bits, unsigned first) {
  return Field(bits, first, 32);
}

void SetLabelField32(CtLabelBits* bits, unsigned first, uint32_t value) {
  SetField(bits, first, 32, value);
}

namespace {

void MaskRange(CtLabelWrite* w, unsigned first, unsigned last) {
  for (unsigned n = first; n <= last; ++n) SetLabelBit(&w->mask, n, true);
}

// Version and magic: part of every write, so any write makes the labels
// ours and never all-zero.
void PutHeaderFields(CtLabelWrite* w) {
  MaskRange(w, kVersionBit, 127);
  SetField(&w->data, kVersionBit, 8, kSnapshotVersion);
  SetField(&w->data, kMagicBit, 16, kSnapshotMagic);
}

constexpr unsigned kNatPortBit = 0;
constexpr unsigned kTargetPortBit = 16;
constexpr unsigned kFlagPendingValid = 1;   // relative to kFlagsBit
constexpr unsigned kFlagPassive = 2;
constexpr unsigned kFlagTranslated = 3;
constexpr unsigned kKindBit = kFlagsBit + 4;  // 3 bits
constexpr unsigned kMaxKind = static_cast<unsigned>(AnnounceKind::k229);

}  // namespace

CtLabelWrite EncodeSnapshotLabels(const SessionSnapshot& s) {
  CtLabelWrite w;
  MaskRange(&w, kSnapshotFirstBit, kFlagsBit + kFlagTls);
  SetLabelField32(&w.data, 32, static_cast<uint32_t>(s.offset[0]));
  SetLabelField32(&w.data, 64, static_cast<uint32_t>(s.offset[1]));
  SetLabelBit(&w.data, kFlagsBit + kFlagTls, s.tls);
  PutHeaderFields(&w);
  return w;
}

CtLabelWrite EncodePendingLabels(const std::optional<PendingLabel>& p) {
  CtLabelWrite w;
  MaskRange(&w, kFlagsBit + kFlagPendingValid, kFlagsBit + 7);
  PutHeaderFields(&w);
  if (!p) return w;  // valid bit cleared; the ports mean nothing now
  MaskRange(&w, kNatPortBit, kTargetPortBit + 15);
  SetField(&w.data, kNatPortBit, 16, p->nat_port);
  SetField(&w.data, kTargetPortBit, 16, p->target_port);
  SetLabelBit(&w.data, kFlagsBit + kFlagPendingValid, true);
  SetLabelBit(&w.data, kFlagsBit + kFlagPassive, p->announcer == Direction::kReply);
  SetLabelBit(&w.data, kFlagsBit + kFlagTranslated, p->translated);
  SetField(&w.data, kKindBit, 3, static_cast<uint32_t>(p->kind));
  return w;
}

CtLabelWrite MergeLabelWrites(const CtLabelWrite& base, const CtLabelWrite& over) {
  CtLabelWrite w;
  for (size_t i = 0; i < w.data.size(); ++i) {
    w.mask[i] = static_cast<uint8_t>(base.mask[i] | over.mask[i]);
    w.data[i] = static_cast<uint8_t>((base.data[i] & ~over.mask[i]) | over.data[i]);
  }
  return w;
}

std::optional<LabelState> DecodeLabels(const CtLabelBits& bits) {
  if (Field(bits, kMagicBit, 16) != kSnapshotMagic) return std::nullopt;
  const uint32_t version = Field(bits, kVersionBit, 8);
  if (version != 1 && version != 2) return std::nullopt;
  LabelState st;
  st.version = static_cast<uint8_t>(version);
  st.snapshot.offset[0] = static_cast<int32_t>(LabelField32(bits, 32));
  st.snapshot.offset[1] = static_cast<int32_t>(LabelField32(bits, 64));
  st.snapshot.tls = LabelBit(bits, kFlagsBit + kFlagTls);
  if (version == 1 || !LabelBit(bits, kFlagsBit + kFlagPendingValid)) return st;
  PendingLabel p;
  p.nat_port = static_cast<uint16_t>(Field(bits, kNatPortBit, 16));
  p.target_port = static_cast<uint16_t>(Field(bits, kTargetPortBit, 16));
  p.announcer = LabelBit(bits, kFlagsBit + kFlagPassive) ? Direction::kReply
                                                         : Direction::kOriginal;
  p.translated = LabelBit(bits, kFlagsBit + kFlagTranslated);
  const uint32_t kind = Field(bits, kKindBit, 3);
  // Damaged pending fields (never written like this): no pending.
  if (kind > kMaxKind || p.nat_port == 0 || p.target_port == 0) return st;
  p.kind = static_cast<AnnounceKind>(kind);
  st.pending = p;
  return st;
}

std::optional<SessionSnapshot> DecodeSnapshotLabels(const CtLabelBits& bits) {
  const std::optional<LabelState> st = DecodeLabels(bits);
  if (!st) return std::nullopt;
  SessionSnapshot snap = st->snapshot;
  if (st->pending) {
    snap.pending_port = st->pending->nat_port;
    snap.pending_announcer = st->pending->announcer;
  }
  return snap;
}

PendingLabel PendingFromExpectation(const Expectation& e) {
  PendingLabel p;
  p.announcer = e.announcer;
  p.translated = !(e.target.addr == e.nat_to.addr);
  p.kind = e.kind;
  p.nat_port = e.nat_to.port;
  p.target_port = e.target.port;
  return p;
}

Expectation ExpectationFromPending(const PendingLabel& p, const CtTuple& orig,
                                   const CtTuple& reply,
                                   const std::optional<IpAddress>& public_ip,
                                   uint32_t timeout_s) {
  const bool client = p.announcer == Direction::kOriginal;
  // The announcer as it sends, the other end as it sends, and how the
  // announcer is known on the far side of the NAT.
  const IpAddress& own = client ? orig.src.addr : reply.src.addr;
  const IpAddress& other = client ? reply.src.addr : orig.src.addr;
  const IpAddress& outside = client ? reply.dst.addr : orig.dst.addr;
  Expectation e;
  e.kind = p.kind;
  e.announcer = p.announcer;
  e.master = orig.ToFlow();
  e.peer = other;
  e.nat_to = Endpoint{own, p.nat_port};
  IpAddress target = own;
  if (p.translated) {
    target = public_ip && public_ip->family == own.family ? *public_ip : outside;
  }
  e.target = Endpoint{target, p.target_port};
  e.timeout_s = timeout_s;
  return e;
}

CtLabelBits ApplyLabelWrite(const CtLabelBits& old, const CtLabelWrite& write) {
  CtLabelBits out{};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>((old[i] & ~write.mask[i]) ^ write.data[i]);
  }
  return out;
}

}  // namespace ftpalg
