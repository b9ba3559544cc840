// The replay's three-stage pipeline: an I/O thread reads the capture ahead
// into batches, the caller's thread (the engine's) decides each record's fate,
// and the I/O thread writes the batch behind it. Reading, processing and
// writing of different batches overlap, so a replay takes about as long as
// its slowest stage instead of the sum of all three. Records keep their order:
// batches go round a fixed ring (read -> engine -> write -> read), and memory
// stays bounded by the ring whatever the capture's length.
//
// A record's frame stays where it was read to; the engine thread keeps it,
// drops it, or replaces it with bytes it builds in the batch's output arena
// (see RecordBatch::ReplaceBegin), possibly leaving the checksums of the
// replacement to the I/O thread. Nothing here knows about the engine.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/pcap_source.h"
#include "adapters/pcap_writer.h"

namespace ftpalg {

// A growable byte arena that never zero-fills (pages it does not reach are
// never touched) and keeps its capacity across batches.
class ByteArena {
 public:
  uint8_t* data() { return bytes_.get(); }
  const uint8_t* data() const { return bytes_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  // Makes room for n more bytes past size() (keeping the contents) and
  // returns where they start; size() is unchanged.
  uint8_t* Reserve(size_t n);
  void Commit(size_t n) { size_ += n; }
  void Clear() { size_ = 0; }

 private:
  std::unique_ptr<uint8_t[]> bytes_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// One record of a batch, and what the engine thread decided for it.
struct BatchRecord {
  enum class Fate : uint8_t { kKeep, kDrop, kReplace };
  PcapRecord record;        // record.frame points into the batch's input
  size_t in_offset = 0;     // where the frame starts in the input arena
  Fate fate = Fate::kKeep;
  size_t out_offset = 0;    // kReplace: bytes in the output arena
  size_t out_len = 0;
  // kReplace: where the IP packet starts in the replacement when the writer
  // must complete its checksums (CompleteChecksums) first; -1: complete.
  int32_t checksums_at = -1;
};

class RecordBatch {
 public:
  std::vector<BatchRecord>& records() { return records_; }
  const std::vector<BatchRecord>& records() const { return records_; }

  // Engine thread: room for a replacement of record i of up to `capacity`
  // bytes, valid until ReplaceCommit(i, len) or the next ReplaceBegin.
  // checksums_at >= 0: the IP packet at that offset has stale checksums,
  // which the I/O thread completes before writing it.
  uint8_t* ReplaceBegin(size_t capacity) { return out_.Reserve(capacity); }
  void ReplaceCommit(size_t i, size_t len, int32_t checksums_at = -1);
  void Drop(size_t i) { records_[i].fate = BatchRecord::Fate::kDrop; }
  // The frame the writer writes for record i (nullptr: dropped).
  const uint8_t* OutputFrame(const BatchRecord& r) const;
  // The capture ended (or failed) after these records; error() says which
  // ("" at a clean end). Read them before handing the batch back.
  bool last() const { return last_; }
  const std::string& error() const { return error_; }

 private:
  friend class RecordPipeline;
  void Clear();
  // I/O thread: copies rec's frame in; false when the batch is full (an
  // empty batch takes any record, growing its input arena).
  bool Append(const PcapRecord& rec);
  // I/O thread, when the batch is complete: points every record's frame
  // at its bytes (the input arena may have moved while it grew).
  void Seal();

  std::vector<BatchRecord> records_;
  ByteArena in_;
  ByteArena out_;
  bool last_ = false;   // the source ended (or failed) after these records
  std::string error_;   // the source's error, when it failed
};

class RecordPipeline {
 public:
  // Starts the I/O thread reading `source` and writing to `writer` (nullptr:
  // the records are processed but not written). Both must outlive the
  // pipeline.
  RecordPipeline(PcapSource& source, PcapWriter* writer);
  // Stops and joins the I/O thread (whatever is not yet written is dropped).
  ~RecordPipeline();
  RecordPipeline(const RecordPipeline&) = delete;
  RecordPipeline& operator=(const RecordPipeline&) = delete;

  // Engine thread: the next batch in capture order. Blocks until the I/O
  // thread has read one. Every batch taken must be handed back with Done().
  RecordBatch* Next();
  // Engine thread: the batch is decided; the I/O thread writes it.
  void Done(RecordBatch* batch);
  // Engine thread, after the last batch (batch->last()): waits until
  // everything handed back has been written.
  void Drain();

 private:
  // The I/O thread: writes what the engine decided, reads ahead into what
  // the writer freed (writing first: it frees batches for reading).
  void IoLoop();
  void ReadInto(RecordBatch* b);
  void WriteBatch(RecordBatch& b);

  PcapSource& source_;
  PcapWriter* writer_;
  std::vector<std::unique_ptr<RecordBatch>> ring_;
  std::mutex mu_;
  std::condition_variable engine_ready_, io_ready_, drained_;
  // Every batch is in one of these, or with the engine or the I/O thread.
  std::deque<RecordBatch*> free_, read_, decided_;
  bool stopping_ = false;
  // I/O thread only: the record that did not fit the last batch read.
  PcapRecord held_;
  bool holding_ = false;
  std::string read_error_;
  std::thread io_;
};

}  // namespace ftpalg
