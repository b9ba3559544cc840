// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/record_pipeline.h"

#include <cstring>

#include "ftpalg/packet.h"

namespace ftpalg {
namespace {

// Batches in the ring: one being read, one being processed, one being
// written, and one spare so that no stage waits on a hand-over.
constexpr size_t kRingSize = 4;
// A batch is handed on at this many bytes of frames or this many records,
// whichever comes first (a single larger record still fits: the arena grows).
constexpr size_t kBatchBytes = 64 * 1024;
constexpr size_t kBatchRecords = 1024;

}  // namespace

uint8_t* ByteArena::Reserve(size_t n) {
  if (capacity_ - size_ < n) {
    size_t grown = capacity_ == 0 ? 4096 : capacity_;
    while (grown - size_ < n) grown *= 2;
    // Not zero-filled: only the bytes written are ever touched.
    std::unique_ptr<uint8_t[]> bigger(new uint8_t[grown]);
    if (size_ != 0) std::memcpy(bigger.get(), bytes_.get(), size_);
    bytes_ = std::move(bigger);
    capacity_ = grown;
  }
  return bytes_.get() + size_;
}

void RecordBatch::ReplaceCommit(size_t i, size_t len, int32_t checksums_at) {
  BatchRecord& r = records_[i];
  r.fate = BatchRecord::Fate::kReplace;
  r.out_offset = out_.size();
  r.out_len = len;
  r.checksums_at = checksums_at;
  out_.Commit(len);
}

const uint8_t* RecordBatch::OutputFrame(const BatchRecord& r) const {
  switch (r.fate) {
    case BatchRecord::Fate::kKeep:
      return r.record.frame;
    case BatchRecord::Fate::kReplace:
      return out_.data() + r.out_offset;
    case BatchRecord::Fate::kDrop:
      break;
  }
  return nullptr;
}

void RecordBatch::Clear() {
  records_.clear();
  in_.Clear();
  out_.Clear();
  last_ = false;
  error_.clear();
}

bool RecordBatch::Append(const PcapRecord& rec) {
  if (!records_.empty() &&
      (records_.size() >= kBatchRecords || in_.size() + rec.caplen > kBatchBytes)) {
    return false;
  }
  BatchRecord r;
  r.record = rec;
  r.in_offset = in_.size();
  if (rec.caplen != 0) std::memcpy(in_.Reserve(rec.caplen), rec.frame, rec.caplen);
  in_.Commit(rec.caplen);
  records_.push_back(r);
  return true;
}

void RecordBatch::Seal() {
  for (BatchRecord& r : records_) r.record.frame = in_.data() + r.in_offset;
}

RecordPipeline::RecordPipeline(PcapSource& source, PcapWriter* writer)
    : source_(source), writer_(writer) {
  for (size_t i = 0; i < kRingSize; ++i) {
    ring_.push_back(std::make_unique<RecordBatch>());
    ring_.back()->records_.reserve(kBatchRecords);
    free_.push_back(ring_.back().get());
  }
  io_ = std::thread([this] { IoLoop(); });
}

RecordPipeline::~RecordPipeline() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  engine_ready_.notify_all();
  io_ready_.notify_all();
  drained_.notify_all();
  io_.join();
}

RecordBatch* RecordPipeline::Next() {
  std::unique_lock<std::mutex> lock(mu_);
  engine_ready_.wait(lock, [&] { return stopping_ || !read_.empty(); });
  if (stopping_) return nullptr;
  RecordBatch* b = read_.front();
  read_.pop_front();
  return b;
}

void RecordPipeline::Done(RecordBatch* batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    decided_.push_back(batch);
  }
  io_ready_.notify_one();
}

void RecordPipeline::Drain() {
  // After the last batch nothing is read any more: everything handed back is
  // written once every batch is free again.
  std::unique_lock<std::mutex> lock(mu_);
  drained_.wait(lock, [&] { return stopping_ || free_.size() + read_.size() == ring_.size(); });
}

void RecordPipeline::IoLoop() {
  bool reading = true;  // until the batch that ends the capture is read
  for (;;) {
    RecordBatch* b = nullptr;
    bool write = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      io_ready_.wait(lock, [&] {
        return stopping_ || !decided_.empty() || (reading && !free_.empty());
      });
      if (stopping_) return;
      write = !decided_.empty();
      std::deque<RecordBatch*>& from = write ? decided_ : free_;
      b = from.front();
      from.pop_front();
    }
    if (write) {
      WriteBatch(*b);
      {
        std::lock_guard<std::mutex> lock(mu_);
        free_.push_back(b);
      }
      drained_.notify_all();
    } else {
      ReadInto(b);
      reading = !b->last_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        read_.push_back(b);
      }
      engine_ready_.notify_one();
    }
  }
}

void RecordPipeline::ReadInto(RecordBatch* b) {
  b->Clear();
  if (holding_) {
    b->Append(held_);  // an empty batch takes any record
    holding_ = false;
  }
  for (;;) {
    const PcapSource::Status st = source_.Next(&held_, &read_error_);
    if (st != PcapSource::Status::kRecord) {
      b->last_ = true;
      if (st == PcapSource::Status::kError) b->error_ = read_error_;
      break;
    }
    // held_.frame stays valid until the next call to source_.Next().
    if (!b->Append(held_)) {
      holding_ = true;
      break;
    }
  }
  b->Seal();
}

void RecordPipeline::WriteBatch(RecordBatch& b) {
  if (writer_ == nullptr) return;
  for (const BatchRecord& r : b.records()) {
    const uint8_t* frame = b.OutputFrame(r);
    if (frame == nullptr) continue;
    if (r.fate == BatchRecord::Fate::kReplace) {
      if (r.checksums_at >= 0) {
        const size_t at = static_cast<size_t>(r.checksums_at);
        (void)CompleteChecksums(b.out_.data() + r.out_offset + at, r.out_len - at);
      }
      writer_->Write(r.record.ts_ns, frame, r.out_len, r.out_len);
    } else {
      writer_->Write(r.record.ts_ns, frame, r.record.caplen, r.record.wire_len);
    }
  }
}

}  // namespace ftpalg
