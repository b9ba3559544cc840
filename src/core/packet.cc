// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/packet.h"

#include <bit>
#include <cstring>

namespace ftpalg {

std::string_view PacketErrorName(PacketError e) {
  switch (e) {
    case PacketError::kNone: return "none";
    case PacketError::kTruncated: return "truncated";
    case PacketError::kBadVersion: return "bad_version";
    case PacketError::kBadHeader: return "bad_header";
    case PacketError::kFragment: return "fragment";
    case PacketError::kNotTcp: return "not_tcp";
  }
  return "unknown";
}

uint16_t LoadBe16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
void StoreBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void StoreBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kV6HopByHop = 0, kV6Routing = 43, kV6Fragment = 44,
                  kV6DestOpts = 60;

PacketError ParseTcp(const uint8_t* b, size_t l4_offset, PacketView* v) {
  if (v->total_len < l4_offset + 20) return PacketError::kTruncated;
  const size_t doff = static_cast<size_t>(b[l4_offset + 12] >> 4) * 4;
  if (doff < 20) return PacketError::kBadHeader;
  if (v->total_len < l4_offset + doff) return PacketError::kTruncated;
  v->tcp_offset = l4_offset;
  v->tcp_header_len = doff;
  v->payload_offset = l4_offset + doff;
  v->payload_len = v->total_len - v->payload_offset;
  v->src.port = LoadBe16(b + l4_offset);
  v->dst.port = LoadBe16(b + l4_offset + 2);
  v->seq = LoadBe32(b + l4_offset + 4);
  v->ack = LoadBe32(b + l4_offset + 8);
  v->flags = b[l4_offset + 13];
  return PacketError::kNone;
}

}  // namespace

PacketError ParsePacket(const uint8_t* b, size_t len, PacketView* v) {
  *v = PacketView{};
  if (len < 1) return PacketError::kTruncated;
  const int version = b[0] >> 4;
  if (version == 4) {
    if (len < 20) return PacketError::kTruncated;
    const size_t ihl = size_t{b[0] & 0x0fu} * 4;
    const size_t total = LoadBe16(b + 2);
    if (ihl < 20 || total < ihl) return PacketError::kBadHeader;
    if (total > len) return PacketError::kTruncated;
    const uint16_t frag = LoadBe16(b + 6);
    if ((frag & 0x3fff) != 0) return PacketError::kFragment;  // MF or offset
    if (b[9] != kProtoTcp) return PacketError::kNotTcp;
    v->family = Family::kV4;
    v->ip_header_len = ihl;
    v->total_len = total;
    v->src.addr = IpAddress::FromBytes(Family::kV4, b + 12);
    v->dst.addr = IpAddress::FromBytes(Family::kV4, b + 16);
    return ParseTcp(b, ihl, v);
  }
  if (version == 6) {
    if (len < 40) return PacketError::kTruncated;
    const size_t total = 40 + size_t{LoadBe16(b + 4)};
    if (total > len) return PacketError::kTruncated;
    v->family = Family::kV6;
    v->total_len = total;
    v->src.addr = IpAddress::FromBytes(Family::kV6, b + 8);
    v->dst.addr = IpAddress::FromBytes(Family::kV6, b + 24);
    uint8_t next = b[6];
    size_t off = 40;
    for (int hops = 0; hops < 8; ++hops) {  // bounded extension-header walk
      if (next == kProtoTcp) {
        v->ip_header_len = off;
        return ParseTcp(b, off, v);
      }
      if (next == kV6Fragment) return PacketError::kFragment;
      if (next != kV6HopByHop && next != kV6Routing && next != kV6DestOpts) {
        return PacketError::kNotTcp;
      }
      if (total < off + 8) return PacketError::kTruncated;
      const size_t ext_len = (size_t{b[off + 1]} + 1) * 8;
      next = b[off];
      off += ext_len;
      if (off > total) return PacketError::kTruncated;
    }
    return PacketError::kNotTcp;
  }
  return PacketError::kBadVersion;
}

namespace {

// The ones' complement sum does not depend on byte order (RFC 1071 2.B):
// words are added as the host loads them, 32 bits at a time, into a 64-bit
// accumulator that never overflows at packet sizes; HostSumToBe folds it and
// puts its bytes in network order. An odd last byte is the high byte of a
// word padded with zero. Only the last piece summed may have an odd length.
uint64_t AddHostWords(uint64_t acc, const uint8_t* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint32_t a, b;
    std::memcpy(&a, p + i, 4);
    std::memcpy(&b, p + i + 4, 4);
    acc += uint64_t{a} + b;
  }
  if (i + 4 <= n) {
    uint32_t a;
    std::memcpy(&a, p + i, 4);
    acc += a;
    i += 4;
  }
  if (i + 2 <= n) {
    uint16_t w;
    std::memcpy(&w, p + i, 2);
    acc += w;
    i += 2;
  }
  if (i < n) {
    acc += std::endian::native == std::endian::little ? uint64_t{p[i]} : uint64_t{p[i]} << 8;
  }
  return acc;
}

uint32_t HostSumToBe(uint64_t acc) {
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  uint32_t v = static_cast<uint32_t>(acc);
  if constexpr (std::endian::native == std::endian::little) v = ((v & 0xff) << 8) | (v >> 8);
  return v;
}

}  // namespace

uint32_t ChecksumAdd(uint32_t sum, const uint8_t* data, size_t len) {
  // Same value as adding big-endian 16-bit words one by one, a quarter of
  // the additions.
  sum += HostSumToBe(AddHostWords(0, data, len));
  // Fold early so that long inputs never overflow 32 bits.
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

uint16_t ChecksumUpdate(uint16_t check, const uint8_t* old_bytes, const uint8_t* new_bytes,
                        size_t n) {
  // ~m + m' for each word; a 32-bit complement complements both halves.
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t a, b;
    std::memcpy(&a, old_bytes + i, 4);
    std::memcpy(&b, new_bytes + i, 4);
    acc += uint64_t{static_cast<uint32_t>(~a)} + b;
  }
  if (i + 2 <= n) {
    uint16_t a, b;
    std::memcpy(&a, old_bytes + i, 2);
    std::memcpy(&b, new_bytes + i, 2);
    acc += uint64_t{static_cast<uint16_t>(~a)} + b;
  }
  return ChecksumFold(HostSumToBe(acc) + (~uint32_t{check} & 0xffff));
}

uint16_t ChecksumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

namespace {

// One accumulator over the pseudo-header addresses and the segment (its
// checksum field taken as zero), folded once.
uint16_t TcpChecksum(const uint8_t* b, const PacketView& v) {
  const size_t tcp_len = v.total_len - v.tcp_offset;
  uint64_t acc = v.family == Family::kV4 ? AddHostWords(0, b + 12, 8) : AddHostWords(0, b + 8, 32);
  acc = AddHostWords(acc, b + v.tcp_offset, 16);
  acc = AddHostWords(acc, b + v.tcp_offset + 18, tcp_len - 18);
  uint32_t sum = HostSumToBe(acc);
  sum += kProtoTcp;
  sum += static_cast<uint32_t>(tcp_len & 0xffff) +
         static_cast<uint32_t>(tcp_len >> 16);
  return ChecksumFold(sum);
}

uint16_t Ipv4HeaderChecksum(const uint8_t* b, size_t ihl) {
  return ChecksumFold(HostSumToBe(AddHostWords(AddHostWords(0, b, 10), b + 12, ihl - 12)));
}

}  // namespace

void SetIpLengths(uint8_t* b, const PacketView& v) {
  if (v.family == Family::kV4) {
    StoreBe16(b + 2, static_cast<uint16_t>(v.total_len));
  } else {
    StoreBe16(b + 4, static_cast<uint16_t>(v.total_len - 40));
  }
}

namespace {
void StoreChecksums(uint8_t* b, const PacketView& v) {
  if (v.family == Family::kV4) StoreBe16(b + 10, Ipv4HeaderChecksum(b, v.ip_header_len));
  StoreBe16(b + v.tcp_offset + 16, TcpChecksum(b, v));
}
}  // namespace

void FinalizePacket(uint8_t* b, const PacketView& v) {
  SetIpLengths(b, v);
  StoreChecksums(b, v);
}

bool CompleteChecksums(uint8_t* b, size_t len) {
  PacketView v;
  if (ParsePacket(b, len, &v) != PacketError::kNone) return false;
  StoreChecksums(b, v);
  return true;
}

bool ChecksumsValid(const uint8_t* b, const PacketView& v) {
  if (v.family == Family::kV4 &&
      LoadBe16(b + 10) != Ipv4HeaderChecksum(b, v.ip_header_len)) {
    return false;
  }
  return LoadBe16(b + v.tcp_offset + 16) == TcpChecksum(b, v);
}

}  // namespace ftpalg
