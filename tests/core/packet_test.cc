// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/packet.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/packet_builder.h"

namespace ftpalg::testing {
namespace {

// A well-formed IPv4 packet parses and its checksums verify.
TEST(PacketTest, ParsesIpv4Tcp) {
  auto p = BuildTcp({Ep("10.0.0.1", 1234), Ep("192.0.2.1", 21), 7, 9,
                     kTcpAck, "NOOP\r\n", {}, false});
  PacketView v;
  ASSERT_EQ(ParsePacket(p.data(), p.size(), &v), PacketError::kNone);
  EXPECT_EQ(v.payload_len, 6u);
  EXPECT_EQ(v.seq, 7u);
  EXPECT_EQ(v.src.port, 1234);
  EXPECT_TRUE(ChecksumsValid(p.data(), v));
  p[v.payload_offset] ^= 1;
  EXPECT_FALSE(ChecksumsValid(p.data(), v));
  FinalizePacket(p.data(), v);
  EXPECT_TRUE(ChecksumsValid(p.data(), v));
}

// IPv6 with a destination-options header in front of TCP.
TEST(PacketTest, SkipsIpv6ExtensionHeaders) {
  auto p = BuildTcp({Ep("fd00::2", 1234), Ep("2001:db8::1", 21), 1, 1,
                     kTcpAck, "PASV\r\n", {}, true});
  PacketView v;
  ASSERT_EQ(ParsePacket(p.data(), p.size(), &v), PacketError::kNone);
  EXPECT_EQ(v.ip_header_len, 48u);
  EXPECT_EQ(v.payload_len, 6u);
  EXPECT_TRUE(ChecksumsValid(p.data(), v));
}

// Truncation, fragments, other protocols and garbage are reported, never
// read past the buffer.
TEST(PacketTest, RejectsBrokenPackets) {
  auto p = BuildTcp({Ep("10.0.0.1", 1), Ep("10.0.0.2", 21), 1, 1, kTcpAck,
                     "x", {}, false});
  PacketView v;
  EXPECT_EQ(ParsePacket(p.data(), 10, &v), PacketError::kTruncated);
  EXPECT_EQ(ParsePacket(p.data(), p.size() - 1, &v), PacketError::kTruncated);
  auto frag = p;
  frag[6] = 0x20;  // MF
  EXPECT_EQ(ParsePacket(frag.data(), frag.size(), &v), PacketError::kFragment);
  auto udp = p;
  udp[9] = 17;
  EXPECT_EQ(ParsePacket(udp.data(), udp.size(), &v), PacketError::kNotTcp);
  auto badoff = p;
  badoff[20 + 12] = 0x10;  // doff 1
  EXPECT_EQ(ParsePacket(badoff.data(), badoff.size(), &v), PacketError::kBadHeader);
  uint8_t junk[3] = {0x99, 0, 0};
  EXPECT_EQ(ParsePacket(junk, 3, &v), PacketError::kBadVersion);
  uint32_t seed = 1;
  for (int i = 0; i < 20000; ++i) {  // random bytes never crash the parser
    uint8_t buf[80];
    for (auto& b : buf) b = static_cast<uint8_t>((seed = seed * 1103515245 + 12345) >> 16);
    buf[0] = static_cast<uint8_t>((buf[0] & 0x0f) | ((i & 1) ? 0x40 : 0x60));
    ParsePacket(buf, sizeof(buf) - (i % 40), &v);
  }
}

// ChecksumAdd adds host-order words in wide steps; it must give exactly the
// value of the plain RFC 1071 loop over big-endian 16-bit words, for every
// length (odd ones too), start alignment and carried-in sum.
TEST(PacketTest, ChecksumAddMatchesTheWordByWordSum) {
  auto reference = [](uint32_t sum, const uint8_t* p, size_t n) {
    size_t i = 0;
    for (; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
    if (i < n) sum += uint32_t{p[i]} << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return sum;
  };
  uint8_t data[1601];
  uint32_t x = 12345;
  for (int round = 0; round < 400; ++round) {
    for (uint8_t& b : data) {
      x = x * 1103515245u + 12345u;
      // Some rounds all 0xff or all zero: the two zeros of ones' complement.
      b = round % 7 == 0 ? 0xff : round % 11 == 0 ? 0 : static_cast<uint8_t>(x >> 16);
    }
    const size_t off = static_cast<size_t>(round % 5);
    const size_t len = static_cast<size_t>(x % 1500);
    const uint32_t carry = round % 3 == 0 ? 0 : (x >> 8) & 0x1ffff;
    ASSERT_EQ(ChecksumAdd(carry, data + off, len), reference(carry, data + off, len))
        << "round " << round << " len " << len;
    ASSERT_EQ(ChecksumFold(ChecksumAdd(carry, data + off, len)),
              ChecksumFold(reference(carry, data + off, len)));
  }
}

// RFC 1624 update of the TCP checksum for changed header bytes (seq, ack,
// SACK blocks, flags) equals a full recompute, on random packets (IPv4 and
// IPv6, random payloads and header values).
TEST(PacketTest, ChecksumUpdateEqualsFullRecompute) {
  std::mt19937 rng(1624);
  auto byte = [&] { return static_cast<char>(rng() & 0xff); };
  for (int round = 0; round < 20000; ++round) {
    TcpSpec spec{round % 3 == 0 ? Ep("2001:db8::7", static_cast<uint16_t>(rng()))
                                : Ep("10.1.2.3", static_cast<uint16_t>(rng())),
                 round % 3 == 0 ? Ep("2001:db8::1", 21) : Ep("192.0.2.9", 21),
                 static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()),
                 static_cast<uint8_t>(rng() & 0x3f), "", {}, round % 6 == 0};
    const size_t len = rng() % 80;
    for (size_t i = 0; i < len; ++i) spec.payload += byte();
    if (round % 4 == 0) spec.sack = {{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng())}};
    auto p = BuildTcp(spec);
    const PacketView v = View(p);
    ASSERT_TRUE(ChecksumsValid(p.data(), v));
    uint8_t* tcp = p.data() + v.tcp_offset;
    std::vector<uint8_t> old(tcp, tcp + v.tcp_header_len);
    // Change what the engine changes: seq, ack, flags, SACK edges.
    if (rng() & 1) StoreBe32(tcp + 4, static_cast<uint32_t>(rng()));
    if (rng() & 1) StoreBe32(tcp + 8, static_cast<uint32_t>(rng()));
    if (rng() & 1) tcp[13] = static_cast<uint8_t>(tcp[13] ^ kTcpFin);
    for (size_t i = 20; i < v.tcp_header_len; ++i) {
      if (rng() % 4 == 0) tcp[i] = static_cast<uint8_t>(rng());
    }
    uint16_t check = LoadBe16(tcp + 16);
    check = ChecksumUpdate(check, old.data(), tcp, 16);
    check = ChecksumUpdate(check, old.data() + 20, tcp + 20, v.tcp_header_len - 20);
    std::vector<uint8_t> full = p;
    FinalizePacket(full.data(), v);
    ASSERT_EQ(check, LoadBe16(full.data() + v.tcp_offset + 16)) << "round " << round;
  }
}

// FinalizePacket in two halves (the replay's deferred checksums): the length
// fields now, the checksums later from the bytes alone; the same bytes.
TEST(PacketTest, SetIpLengthsThenCompleteChecksumsEqualsFinalizePacket) {
  std::mt19937 rng(1071);
  for (int round = 0; round < 5000; ++round) {
    TcpSpec spec{round % 2 == 0 ? Ep("2001:db8::7", 40000) : Ep("10.1.2.3", 40000),
                 round % 2 == 0 ? Ep("2001:db8::1", 21) : Ep("192.0.2.9", 21),
                 static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()), kTcpAck, "", {},
                 round % 6 == 0};
    const size_t len = 1 + rng() % 120;
    for (size_t i = 0; i < len; ++i) spec.payload += static_cast<char>('0' + rng() % 10);
    auto p = BuildTcp(spec);
    PacketView v = View(p);
    // A rewrite changed the payload and its length (the buffer has room).
    const size_t grow = rng() % 8;
    p.resize(p.size() + grow, 'x');
    for (size_t i = v.payload_offset; i < p.size(); ++i) p[i] = static_cast<uint8_t>(rng());
    v.total_len += grow;
    v.payload_len += grow;
    std::vector<uint8_t> whole = p, halves = p;
    FinalizePacket(whole.data(), v);
    SetIpLengths(halves.data(), v);
    ASSERT_TRUE(CompleteChecksums(halves.data(), halves.size()));
    ASSERT_EQ(halves, whole) << "round " << round;
  }
  std::vector<uint8_t> garbage(40, 0x11);
  const std::vector<uint8_t> before = garbage;
  EXPECT_FALSE(CompleteChecksums(garbage.data(), garbage.size()));
  EXPECT_EQ(garbage, before);
}

// Nothing changed: the checksum stays as it was.
TEST(PacketTest, ChecksumUpdateOfUnchangedBytesKeepsTheChecksum) {
  auto p = BuildTcp({Ep("10.0.0.1", 1234), Ep("192.0.2.1", 21), 7, 9, kTcpAck, "NOOP\r\n",
                     {}, false});
  const PacketView v = View(p);
  const uint8_t* tcp = p.data() + v.tcp_offset;
  EXPECT_EQ(ChecksumUpdate(LoadBe16(tcp + 16), tcp, tcp, 16), LoadBe16(tcp + 16));
}

}  // namespace
}  // namespace ftpalg::testing
