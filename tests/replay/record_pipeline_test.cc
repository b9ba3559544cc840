// SPDX-License-Identifier: GPL-2.0-or-later
// The replay pipeline: every record arrives once and in order, the engine
// thread's decisions (keep, drop, replace) reach the output capture in
// order, records bigger than a batch pass whole, a broken capture's error
// arrives after the records before it, and stopping early does not hang.
#include "replay/record_pipeline.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace ftpalg {
namespace {

namespace fs = std::filesystem;

constexpr int kEthernet = 1;  // DLT_EN10MB

// Frame n: `len` bytes, each derived from n and its position.
std::vector<uint8_t> Frame(uint32_t n, size_t len) {
  std::vector<uint8_t> f(len);
  for (size_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(n * 31 + i * 7);
  return f;
}

// Sizes that cross batch boundaries in every way: small, mid, and a few
// larger than a whole batch.
size_t SizeOf(uint32_t n) {
  if (n % 997 == 5) return 150000;
  if (n % 13 == 0) return 1500;
  return 60 + n % 200;
}

class RecordPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ftpalg_pipeline_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteCapture(uint32_t records) {
    const std::string path = dir_ + "/in.pcap";
    std::string error;
    auto w = PcapWriter::Create(path, kEthernet, 262144, PCAP_TSTAMP_PRECISION_NANO, &error);
    EXPECT_NE(w, nullptr) << error;
    for (uint32_t n = 1; n <= records; ++n) {
      const std::vector<uint8_t> f = Frame(n, SizeOf(n));
      w->Write(uint64_t{1700000000} * 1000000000 + n, f.data(), f.size(), f.size());
    }
    EXPECT_TRUE(w->Commit(&error)) << error;
    return path;
  }

  std::unique_ptr<PcapSource> Open(const std::string& path) {
    std::string error;
    auto s = PcapSource::Open(path, &error);
    EXPECT_NE(s, nullptr) << error;
    return s;
  }

  std::string dir_;
};

TEST_F(RecordPipelineTest, DecisionsReachTheOutputInOrder) {
  constexpr uint32_t kRecords = 20000;
  auto source = Open(WriteCapture(kRecords));
  std::string error;
  const std::string out_path = dir_ + "/out.pcap";
  auto writer = PcapWriter::Create(out_path, kEthernet, 262144, PCAP_TSTAMP_PRECISION_NANO, &error);
  ASSERT_NE(writer, nullptr) << error;
  uint64_t seen = 0, batches = 0;
  {
    RecordPipeline pipeline(*source, writer.get());
    for (;;) {
      RecordBatch* b = pipeline.Next();
      ++batches;
      for (size_t i = 0; i < b->records().size(); ++i) {
        const PcapRecord& r = b->records()[i].record;
        ++seen;
        ASSERT_EQ(r.index, seen);
        ASSERT_EQ(std::vector<uint8_t>(r.frame, r.frame + r.caplen), Frame(r.index, SizeOf(r.index)));
        if (r.index % 7 == 0) {
          b->Drop(i);
        } else if (r.index % 5 == 0) {
          // Replaced by a frame 3 bytes longer, built in the batch.
          std::vector<uint8_t> f = Frame(r.index + 100000, r.caplen + 3);
          uint8_t* room = b->ReplaceBegin(f.size() + 65536);
          std::copy(f.begin(), f.end(), room);
          b->ReplaceCommit(i, f.size());
        }
      }
      const bool last = b->last();
      EXPECT_EQ(b->error(), "");
      pipeline.Done(b);
      if (last) break;
    }
    pipeline.Drain();
    ASSERT_TRUE(writer->Commit(&error)) << error;
  }
  EXPECT_EQ(seen, kRecords);
  EXPECT_GT(batches, 20u);  // the capture really crossed many batches

  auto out = Open(out_path);
  PcapRecord r;
  uint32_t n = 0, written = 0;
  while (out->Next(&r, &error) == PcapSource::Status::kRecord) {
    ++written;
    do ++n; while (n % 7 == 0);
    const std::vector<uint8_t> want =
        n % 5 == 0 ? Frame(n + 100000, SizeOf(n) + 3) : Frame(n, SizeOf(n));
    ASSERT_EQ(std::vector<uint8_t>(r.frame, r.frame + r.caplen), want) << "record " << n;
    ASSERT_EQ(r.ts_ns, uint64_t{1700000000} * 1000000000 + n);
  }
  EXPECT_EQ(written, kRecords - kRecords / 7);
}

TEST_F(RecordPipelineTest, ABrokenCaptureEndsAfterTheRecordsBeforeIt) {
  const std::string path = WriteCapture(3000);
  // Cut the file in the middle of a record near its end.
  fs::resize_file(path, fs::file_size(path) - 30);
  auto source = Open(path);
  RecordPipeline pipeline(*source, nullptr);
  uint64_t seen = 0;
  std::string error;
  for (;;) {
    RecordBatch* b = pipeline.Next();
    seen += b->records().size();
    const bool last = b->last();
    error = b->error();
    pipeline.Done(b);
    if (last) break;
  }
  EXPECT_EQ(seen, 2999u);
  EXPECT_NE(error.find("record 3000"), std::string::npos) << error;
}

TEST_F(RecordPipelineTest, StoppingEarlyJoinsBothThreads) {
  auto source = Open(WriteCapture(20000));
  RecordPipeline pipeline(*source, nullptr);
  RecordBatch* b = pipeline.Next();
  ASSERT_FALSE(b->records().empty());
  pipeline.Done(b);
  // The reader is blocked on a full ring: the destructor must wake it.
}

TEST(ByteArena, GrowsWithoutLosingItsBytes) {
  ByteArena a;
  for (int i = 0; i < 100000; ++i) {
    *a.Reserve(1) = static_cast<uint8_t>(i);
    a.Commit(1);
  }
  ASSERT_EQ(a.size(), 100000u);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(a.data()[i], static_cast<uint8_t>(i));
  a.Clear();
  EXPECT_EQ(a.size(), 0u);
  EXPECT_GE(a.capacity(), 100000u);
}

}  // namespace
}  // namespace ftpalg
