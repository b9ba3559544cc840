// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/pcap_source.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace ftpalg {
namespace {

using Bytes = std::vector<uint8_t>;

// A minimal IPv4/TCP packet (no payload), total length 40.
Bytes Ipv4Tcp() {
  Bytes p(40, 0);
  p[0] = 0x45;
  p[3] = 40;
  p[8] = 64;
  p[9] = 6;
  p[12] = 10, p[15] = 2;
  p[16] = 192, p[17] = 168, p[19] = 2;
  p[20 + 1] = 21;
  p[20 + 12] = 0x50;
  return p;
}

Bytes Ipv6Tcp() {
  Bytes p(60, 0);
  p[0] = 0x60;
  p[5] = 20;  // payload length
  p[6] = 6;
  p[7] = 64;
  p[40 + 12] = 0x50;
  return p;
}

Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes Eth(uint16_t type) {
  Bytes h = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
  h.push_back(static_cast<uint8_t>(type >> 8));
  h.push_back(static_cast<uint8_t>(type));
  return h;
}

Bytes Tag(uint16_t tpid_or_type, uint16_t vid) {
  return {static_cast<uint8_t>(vid >> 8), static_cast<uint8_t>(vid),
          static_cast<uint8_t>(tpid_or_type >> 8), static_cast<uint8_t>(tpid_or_type)};
}

void Put32(std::string* s, uint32_t v) {
  s->append(reinterpret_cast<const char*>(&v), 4);  // host (little) endian
}

// Classic pcap file bytes, little-endian.
std::string PcapFile(uint32_t linktype, const std::vector<Bytes>& frames,
                     bool nano = false, uint32_t snaplen = 65535) {
  std::string s;
  Put32(&s, nano ? 0xa1b23c4d : 0xa1b2c3d4);
  s += std::string("\x02\x00\x04\x00", 4);
  Put32(&s, 0);
  Put32(&s, 0);
  Put32(&s, snaplen);
  Put32(&s, linktype);
  uint32_t t = 0;
  for (const Bytes& f : frames) {
    Put32(&s, 1700000000);
    Put32(&s, ++t * (nano ? 1001 : 1));
    Put32(&s, static_cast<uint32_t>(f.size()));
    Put32(&s, static_cast<uint32_t>(f.size()));
    s.append(reinterpret_cast<const char*>(f.data()), f.size());
  }
  return s;
}

class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/ftpalg_src_test_XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    EXPECT_EQ(write(fd, contents.data(), contents.size()),
              static_cast<ssize_t>(contents.size()));
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(FindL3Offset, Ethernet) {
  const Bytes f = Concat(Eth(0x0800), Ipv4Tcp());
  EXPECT_EQ(FindL3Offset(DLT_EN10MB, f.data(), f.size()), 14u);
  const Bytes g = Concat(Eth(0x86dd), Ipv6Tcp());
  EXPECT_EQ(FindL3Offset(DLT_EN10MB, g.data(), g.size()), 14u);
  const Bytes arp = Concat(Eth(0x0806), Bytes(28, 0));
  EXPECT_FALSE(FindL3Offset(DLT_EN10MB, arp.data(), arp.size()));
  EXPECT_FALSE(FindL3Offset(DLT_EN10MB, f.data(), 13));
  // ethertype says IPv4, bytes say otherwise
  const Bytes bad = Concat(Eth(0x0800), Bytes(20, 0));
  EXPECT_FALSE(FindL3Offset(DLT_EN10MB, bad.data(), bad.size()));
}

TEST(FindL3Offset, VlanStacks) {
  Bytes f = Concat(Concat(Eth(0x88a8), Tag(0x8100, 100)), Concat(Tag(0x0800, 200), Ipv4Tcp()));
  EXPECT_EQ(FindL3Offset(DLT_EN10MB, f.data(), f.size()), 22u);
  Bytes deep = Eth(0x8100);
  for (int i = 0; i < kMaxVlanTags - 1; ++i) deep = Concat(deep, Tag(0x9100, 1));
  deep = Concat(Concat(deep, Tag(0x86dd, 1)), Ipv6Tcp());
  EXPECT_EQ(FindL3Offset(DLT_EN10MB, deep.data(), deep.size()), 14u + 4u * kMaxVlanTags);
  Bytes too_deep = Eth(0x8100);
  for (int i = 0; i < kMaxVlanTags; ++i) too_deep = Concat(too_deep, Tag(0x8100, 1));
  too_deep = Concat(Concat(too_deep, Tag(0x0800, 1)), Ipv4Tcp());
  EXPECT_FALSE(FindL3Offset(DLT_EN10MB, too_deep.data(), too_deep.size()));
  // a tag cut short by the end of the frame
  const Bytes cut = Concat(Eth(0x8100), Bytes{0, 1});
  EXPECT_FALSE(FindL3Offset(DLT_EN10MB, cut.data(), cut.size()));
}

TEST(FindL3Offset, CookedAndRawAndLoopback) {
  Bytes sll(16, 0);
  sll[14] = 0x08;
  sll = Concat(sll, Ipv4Tcp());
  EXPECT_EQ(FindL3Offset(DLT_LINUX_SLL, sll.data(), sll.size()), 16u);
  Bytes sll2(20, 0);
  sll2[0] = 0x86, sll2[1] = 0xdd;
  sll2 = Concat(sll2, Ipv6Tcp());
  EXPECT_EQ(FindL3Offset(276, sll2.data(), sll2.size()), 20u);
  const Bytes raw = Ipv4Tcp();
  EXPECT_EQ(FindL3Offset(DLT_RAW, raw.data(), raw.size()), 0u);
  EXPECT_EQ(FindL3Offset(228, raw.data(), raw.size()), 0u);
  const Bytes null_le = Concat(Bytes{2, 0, 0, 0}, Ipv4Tcp());
  const Bytes null_be = Concat(Bytes{0, 0, 0, 2}, Ipv4Tcp());
  const Bytes null_v6 = Concat(Bytes{30, 0, 0, 0}, Ipv6Tcp());
  const Bytes null_other = Concat(Bytes{7, 0, 0, 0}, Ipv4Tcp());
  EXPECT_EQ(FindL3Offset(DLT_NULL, null_le.data(), null_le.size()), 4u);
  EXPECT_EQ(FindL3Offset(DLT_NULL, null_be.data(), null_be.size()), 4u);
  EXPECT_EQ(FindL3Offset(DLT_LOOP, null_be.data(), null_be.size()), 4u);
  EXPECT_EQ(FindL3Offset(DLT_NULL, null_v6.data(), null_v6.size()), 4u);
  EXPECT_FALSE(FindL3Offset(DLT_NULL, null_other.data(), null_other.size()));
  EXPECT_FALSE(FindL3Offset(147, raw.data(), raw.size()));
}

TEST(IpPacketLength, ExcludesLinkPadding) {
  Bytes p = Ipv4Tcp();
  p.resize(46, 0);  // Ethernet minimum-frame padding
  EXPECT_EQ(IpPacketLength(p.data(), p.size()), 40u);
  Bytes q = Ipv6Tcp();
  q.resize(64, 0);
  EXPECT_EQ(IpPacketLength(q.data(), q.size()), 60u);
  // claims more than present: everything present
  EXPECT_EQ(IpPacketLength(p.data(), 30), 30u);
}

TEST(PcapSource, ReadsRecordsAndTimestamps) {
  const TempFile f(PcapFile(DLT_EN10MB, {Concat(Eth(0x0800), Ipv4Tcp()),
                                        Concat(Eth(0x0806), Bytes(28, 0))}));
  std::string err;
  auto src = PcapSource::Open(f.path(), &err);
  ASSERT_TRUE(src) << err;
  EXPECT_EQ(src->link_type(), DLT_EN10MB);
  EXPECT_EQ(src->snaplen(), 65535);
  EXPECT_EQ(src->tstamp_precision(), PCAP_TSTAMP_PRECISION_MICRO);
  PcapRecord r;
  ASSERT_EQ(src->Next(&r, &err), PcapSource::Status::kRecord);
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.ts_ns, 1700000000ull * 1000000000ull + 1000);
  EXPECT_EQ(r.caplen, 54u);
  EXPECT_EQ(r.l3_offset, 14u);
  EXPECT_EQ(r.l3_len, 40u);
  ASSERT_EQ(src->Next(&r, &err), PcapSource::Status::kRecord);
  EXPECT_FALSE(r.l3_offset);
  EXPECT_EQ(src->Next(&r, &err), PcapSource::Status::kEnd);
}

TEST(PcapSource, NanosecondFile) {
  const TempFile f(PcapFile(DLT_RAW, {Ipv4Tcp()}, /*nano=*/true));
  std::string err;
  auto src = PcapSource::Open(f.path(), &err);
  ASSERT_TRUE(src) << err;
  EXPECT_EQ(src->tstamp_precision(), PCAP_TSTAMP_PRECISION_NANO);
  PcapRecord r;
  ASSERT_EQ(src->Next(&r, &err), PcapSource::Status::kRecord);
  EXPECT_EQ(r.ts_ns, 1700000000ull * 1000000000ull + 1001);
}

TEST(PcapSource, GzipCompressed) {
  const std::string plain = PcapFile(DLT_RAW, {Ipv4Tcp(), Ipv6Tcp()});
  char name[] = "/tmp/ftpalg_src_gz_XXXXXX";
  close(mkstemp(name));
  gzFile gz = gzopen(name, "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, plain.data(), static_cast<unsigned>(plain.size())),
            static_cast<int>(plain.size()));
  gzclose(gz);
  std::string err;
  auto src = PcapSource::Open(name, &err);
  ASSERT_TRUE(src) << err;
  EXPECT_TRUE(src->gzipped());
  PcapRecord r;
  int n = 0;
  while (src->Next(&r, &err) == PcapSource::Status::kRecord) ++n;
  EXPECT_EQ(n, 2);
  unlink(name);
}

TEST(PcapSource, Errors) {
  std::string err;
  EXPECT_FALSE(PcapSource::Open("/nonexistent/x.pcap", &err));
  EXPECT_NE(err.find("cannot open"), std::string::npos) << err;

  const TempFile garbage("this is not a capture file at all, sorry");
  err.clear();
  EXPECT_FALSE(PcapSource::Open(garbage.path(), &err));
  EXPECT_NE(err.find("not a readable capture"), std::string::npos) << err;

  const TempFile empty("");
  err.clear();
  EXPECT_FALSE(PcapSource::Open(empty.path(), &err));

  const TempFile usb(PcapFile(189, {Ipv4Tcp()}));  // DLT_USB_LINUX
  err.clear();
  EXPECT_FALSE(PcapSource::Open(usb.path(), &err));
  EXPECT_NE(err.find("unsupported link type"), std::string::npos) << err;
}

TEST(PcapSource, TruncatedRecordIsAnError) {
  std::string bytes = PcapFile(DLT_RAW, {Ipv4Tcp(), Ipv4Tcp()});
  bytes.resize(bytes.size() - 10);
  const TempFile f(bytes);
  std::string err;
  auto src = PcapSource::Open(f.path(), &err);
  ASSERT_TRUE(src) << err;
  PcapRecord r;
  EXPECT_EQ(src->Next(&r, &err), PcapSource::Status::kRecord);
  EXPECT_EQ(src->Next(&r, &err), PcapSource::Status::kError);
  EXPECT_NE(err.find("record 2"), std::string::npos) << err;
}

TEST(PcapSource, SnappedRecordIsMarkedTruncated) {
  std::string bytes = PcapFile(DLT_RAW, {Ipv4Tcp()});
  // wire length 1500 while 40 bytes were captured
  const uint32_t wire = 1500;
  std::memcpy(&bytes[24 + 12], &wire, 4);
  const TempFile f(bytes);
  std::string err;
  auto src = PcapSource::Open(f.path(), &err);
  ASSERT_TRUE(src) << err;
  PcapRecord r;
  ASSERT_EQ(src->Next(&r, &err), PcapSource::Status::kRecord);
  EXPECT_TRUE(r.truncated());
  EXPECT_EQ(r.wire_len, 1500u);
}

TEST(PcapSource, LinkTypeNames) {
  EXPECT_TRUE(IsSupportedLinkType(DLT_LINUX_SLL));
  EXPECT_FALSE(IsSupportedLinkType(189));
  EXPECT_EQ(LinkTypeName(DLT_EN10MB), "EN10MB");
  EXPECT_NE(LinkTypeName(189).find("189"), std::string::npos);
}

}  // namespace
}  // namespace ftpalg
