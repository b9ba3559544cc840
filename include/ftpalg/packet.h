// Validated view of an IPv4/IPv6 + TCP packet, and checksum repair.
// Pure: no I/O. Byte offsets are from the start of the IP header. Fields are
// loaded with memcpy-free byte arithmetic, never by casting structs onto bytes.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ftpalg/inet.h"

namespace ftpalg {

enum class PacketError : uint8_t {
  kNone,
  kTruncated,      // fewer bytes than the headers/lengths claim
  kBadVersion,     // not IPv4/IPv6
  kBadHeader,      // IHL < 5, doff < 5, bad lengths
  kFragment,       // IPv4 fragment or IPv6 fragment header
  kNotTcp,         // another transport (or an unknown extension header)
};
std::string_view PacketErrorName(PacketError e);

inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04,
                         kTcpPsh = 0x08, kTcpAck = 0x10;

// A parsed packet. Valid only while the bytes it was parsed from are unchanged.
struct PacketView {
  Family family = Family::kV4;
  size_t ip_header_len = 0;   // IPv6: fixed header + extension headers
  size_t tcp_offset = 0;      // start of the TCP header
  size_t tcp_header_len = 0;  // doff * 4
  size_t payload_offset = 0;
  size_t payload_len = 0;
  size_t total_len = 0;       // IP total length (<= buffer length)
  Endpoint src, dst;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
};

// Parses bytes[0..len) as one IP packet. Skips IPv6 extension headers
// (hop-by-hop, routing, destination options); a fragment => kFragment.
PacketError ParsePacket(const uint8_t* bytes, size_t len, PacketView* out);

// Recomputes IPv4 total length + header checksum (or IPv6 payload length) and
// the full TCP checksum of a packet whose view is `v` (v.total_len is the new
// IP total length).
void FinalizePacket(uint8_t* bytes, const PacketView& v);
// FinalizePacket in two halves: the length fields only (SetIpLengths), and
// later, from the bytes alone, the checksums (CompleteChecksums: parses the
// packet again; false, and nothing written, when it does not parse).
void SetIpLengths(uint8_t* bytes, const PacketView& v);
bool CompleteChecksums(uint8_t* bytes, size_t len);

// The checksum field value `check` (as loaded big-endian) updated for the
// covered bytes old_bytes[0..n) now being new_bytes[0..n) (RFC 1624, eqn. 3;
// n even, both at the same even offset in the summed data). Equal to a full
// recompute when `check` was right.
uint16_t ChecksumUpdate(uint16_t check, const uint8_t* old_bytes, const uint8_t* new_bytes,
                        size_t n);

// Internet checksum helpers (RFC 1071).
uint32_t ChecksumAdd(uint32_t sum, const uint8_t* data, size_t len);
uint16_t ChecksumFold(uint32_t sum);
// True when the packet's IP (v4) and TCP checksums verify.
bool ChecksumsValid(const uint8_t* bytes, const PacketView& v);

uint16_t LoadBe16(const uint8_t* p);
uint32_t LoadBe32(const uint8_t* p);
void StoreBe16(uint8_t* p, uint16_t v);
void StoreBe32(uint8_t* p, uint32_t v);

}  // namespace ftpalg
