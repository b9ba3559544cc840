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

CtLabelWrite EncodeSnapshotLabels(const SessionSnapshot& s) {
  CtLabelWrite w;
  for (unsigned n = kSnapshotFirstBit; n < 128; ++n) SetLabelBit(&w.mask, n, true);
  SetLabelField32(&w.data, 32, static_cast<uint32_t>(s.offset[0]));
  SetLabelField32(&w.data, 64, static_cast<uint32_t>(s.offset[1]));
  SetField(&w.data, kFlagsBit, 8, s.tls ? 1u << kFlagTls : 0u);
  SetField(&w.data, kVersionBit, 8, kSnapshotVersion);
  SetField(&w.data, kMagicBit, 16, kSnapshotMagic);
  return w;
}

std::optional<SessionSnapshot> DecodeSnapshotLabels(const CtLabelBits& bits) {
  if (Field(bits, kMagicBit, 16) != kSnapshotMagic) return std::nullopt;
  if (Field(bits, kVersionBit, 8) != kSnapshotVersion) return std::nullopt;
  SessionSnapshot s;
  s.offset[0] = static_cast<int32_t>(LabelField32(bits, 32));
  s.offset[1] = static_cast<int32_t>(LabelField32(bits, 64));
  s.tls = ((Field(bits, kFlagsBit, 8) >> kFlagTls) & 1u) != 0;
  return s;
}

CtLabelBits ApplyLabelWrite(const CtLabelBits& old, const CtLabelWrite& write) {
  CtLabelBits out{};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>((old[i] & ~write.mask[i]) ^ write.data[i]);
  }
  return out;
}

}  // namespace ftpalg
