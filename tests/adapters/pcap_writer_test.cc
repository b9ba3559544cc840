// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/pcap_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "adapters/pcap_source.h"

namespace ftpalg {
namespace {

namespace fs = std::filesystem;

class PcapWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ftpalg_writer_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  size_t FileCount() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_),
                                             fs::directory_iterator()));
  }
  std::string dir_;
};

TEST_F(PcapWriterTest, RoundTripKeepsLinkTypeSnaplenAndTime) {
  for (int precision : {PCAP_TSTAMP_PRECISION_MICRO, PCAP_TSTAMP_PRECISION_NANO}) {
    const std::string out = Path("out.pcap");
    std::string err;
    auto w = PcapWriter::Create(out, DLT_LINUX_SLL, 8192, precision, &err);
    ASSERT_TRUE(w) << err;
    const std::vector<uint8_t> a(60, 0xaa), b(70, 0xbb);
    const uint64_t t0 = 1700000000ull * 1000000000ull + 123456789;
    w->Write(t0, a.data(), a.size(), a.size());
    w->Write(t0 + 1000, b.data(), b.size(), 1500);  // snapped record
    EXPECT_FALSE(fs::exists(out)) << "visible before Commit";
    ASSERT_TRUE(w->Commit(&err)) << err;
    EXPECT_EQ(w->records(), 2u);
    EXPECT_EQ(FileCount(), 1u);

    auto src = PcapSource::Open(out, &err);
    ASSERT_TRUE(src) << err;
    EXPECT_EQ(src->link_type(), DLT_LINUX_SLL);
    EXPECT_EQ(src->snaplen(), 8192);
    EXPECT_EQ(src->tstamp_precision(), precision);
    PcapRecord r;
    ASSERT_EQ(src->Next(&r, &err), PcapSource::Status::kRecord);
    const uint64_t want = precision == PCAP_TSTAMP_PRECISION_NANO
                              ? t0
                              : t0 / 1000 * 1000;
    EXPECT_EQ(r.ts_ns, want);
    EXPECT_EQ(std::vector<uint8_t>(r.frame, r.frame + r.caplen), a);
    ASSERT_EQ(src->Next(&r, &err), PcapSource::Status::kRecord);
    EXPECT_EQ(r.caplen, 70u);
    EXPECT_EQ(r.wire_len, 1500u);
    EXPECT_EQ(src->Next(&r, &err), PcapSource::Status::kEnd);
    fs::remove(out);
  }
}

TEST_F(PcapWriterTest, UncommittedLeavesNothing) {
  std::string err;
  {
    auto w = PcapWriter::Create(Path("out.pcap"), DLT_EN10MB, 65535,
                                PCAP_TSTAMP_PRECISION_MICRO, &err);
    ASSERT_TRUE(w) << err;
    const std::vector<uint8_t> a(60, 1);
    w->Write(0, a.data(), a.size(), a.size());
  }
  EXPECT_EQ(FileCount(), 0u);
}

TEST_F(PcapWriterTest, CommitReplacesExistingFileAtomically) {
  const std::string out = Path("out.pcap");
  { std::FILE* f = std::fopen(out.c_str(), "w"); std::fputs("old", f); std::fclose(f); }
  std::string err;
  auto w = PcapWriter::Create(out, DLT_RAW, 65535, PCAP_TSTAMP_PRECISION_MICRO, &err);
  ASSERT_TRUE(w) << err;
  EXPECT_EQ(fs::file_size(out), 3u);
  ASSERT_TRUE(w->Commit(&err)) << err;
  EXPECT_EQ(fs::file_size(out), 24u);  // a pcap header, no records
  std::string again;
  EXPECT_FALSE(w->Commit(&again));
}

TEST_F(PcapWriterTest, UnwritableDirectoryFails) {
  std::string err;
  EXPECT_FALSE(PcapWriter::Create(Path("missing/out.pcap"), DLT_EN10MB, 65535,
                                  PCAP_TSTAMP_PRECISION_MICRO, &err));
  EXPECT_NE(err.find("cannot create output"), std::string::npos) << err;
}

}  // namespace
}  // namespace ftpalg
