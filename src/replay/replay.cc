// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/replay.h"

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "adapters/pcap_source.h"
#include "adapters/pcap_writer.h"
#include "ftpalg/engine.h"
#include "replay/event_recorder.h"
#include "replay/record_pipeline.h"
#include "replay/recording_sink.h"
#include "replay/replay_resolver.h"
#include "replay/trace_writer.h"

namespace ftpalg {
namespace {

// Frames up to this long are shown to the engine, with 64 KiB to grow.
constexpr size_t kLargestFrame = 262144;
constexpr size_t kBufferSize = kLargestFrame + 65536;
// Engine::Expire runs at most this often (pcap time).
constexpr uint64_t kExpireEveryMs = 1000;

// Fans engine log events out to the trace and/or an external logger.
class TeeLogger final : public Logger {
 public:
  TeeLogger(Logger* a, Logger* b) : a_(a), b_(b) {}
  bool Enabled(LogLevel l) const override {
    return (a_ != nullptr && a_->Enabled(l)) || (b_ != nullptr && b_->Enabled(l));
  }
  void Log(LogLevel l, std::string_view message) override {
    if (a_ != nullptr && a_->Enabled(l)) a_->Log(l, message);
    if (b_ != nullptr && b_->Enabled(l)) b_->Log(l, message);
  }

 private:
  Logger* a_;
  Logger* b_;
};

}  // namespace

std::string ReplaySummary::ToLine() const {
  return "records=" + std::to_string(records) + " ip=" + std::to_string(ip_packets) +
         " not_ip=" + std::to_string(not_ip) + " truncated=" + std::to_string(truncated) +
         " written=" + std::to_string(written) + " dropped=" + std::to_string(dropped) +
         " modified=" + std::to_string(modified) +
         " expectations=" + std::to_string(expectations) +
         " refreshed=" + std::to_string(expectations_refreshed) +
         " busy=" + std::to_string(expectations_busy);
}

std::string ReplaySummary::ToText() const {
  std::string out;
  out += "packets: " + std::to_string(records) + " read, " +
         std::to_string(written) + " written, " + std::to_string(dropped) +
         " dropped, " + std::to_string(modified) + " modified (" +
         std::to_string(ip_packets) + " IP, " + std::to_string(not_ip) +
         " not IP, " + std::to_string(truncated) + " truncated)\n";
  out += "control connections: " +
         std::to_string(stats.sessions_created + stats.sessions_picked_up) +
         " (" + std::to_string(stats.sessions_picked_up) +
         " picked up mid-stream), control packets: " +
         std::to_string(stats.control_packets) + "\n";
  out += "rewrites: " + std::to_string(stats.rewrites) + " (" +
         std::to_string(stats.rewrites_reapplied) + " reapplied)\n";
  out += "expectations: " + std::to_string(expectations) + " (" +
         std::to_string(expectations_refreshed) + " refreshed, " +
         std::to_string(expectations_busy) + " port busy)\n";
  std::string reasons;
  auto reason = [&](const char* name, uint64_t v) {
    if (v == 0) return;
    if (!reasons.empty()) reasons += ", ";
    reasons += std::string(name) + " " + std::to_string(v);
  };
  reason("bounce", stats.refused_bounce);
  reason("low-port", stats.refused_low_port);
  reason("unsolicited", stats.refused_unsolicited);
  reason("not-ftp", stats.refused_not_ftp);
  reason("parse", stats.refused_parse);
  reason("family", stats.refused_family);
  reason("no-public", stats.refused_no_public);
  reason("split", stats.refused_split);
  reason("gap", stats.refused_gap);
  reason("limit", stats.refused_limit);
  out += "refusals: " + std::to_string(stats.refused);
  if (!reasons.empty()) out += " (" + reasons + ")";
  out += "\n";
  out += "stats: " + stats.ToString(true) + "\n";
  return out;
}

namespace {

// One replay: a fresh engine, its expectation sink and trace, fed the
// capture's records in order; writes what passes to the output capture.
class Replayer {
 public:
  Replayer(const ReplayOptions& options, const ReplayOutputs& outputs,
           ReplaySummary* summary)
      : outputs_(outputs),
        summary_(summary),
        logger_(StartTrace(options.engine), outputs.log),
        resolver_(options.engine, options.conntracks),
        engine_(options.engine, sink_, resolver_, logger_, summary->stats) {
    // Expectation records go out as they are installed: none is kept.
    sink_.set_keep_jsonl(false);
    sink_.set_jsonl_out(outputs.expectations);
    if (outputs.events != nullptr) {
      events_.emplace(resolver_, *outputs.events);
      engine_.SetSessionObserver(&*events_);
    }
    sink_.set_observer([this](RecordingSink::Event e, const Expectation& x) {
      if (trace_) trace_->OnExpectation(e, x);
      if (events_) events_->OnExpectation(e, x, now_ms_);
    });
  }

  // Decides record i of the batch: kept, dropped or replaced.
  void OnRecord(RecordBatch& batch, size_t i);
  // After the last record: ends every session and writes the records.
  void Finish();

 private:
  // Called while logger_ is built: the trace is one of its two outputs.
  Logger* StartTrace(const EngineConfig& config);
  void AdvanceClock(const PcapRecord& rec);
  void ProcessIp(RecordBatch& batch, size_t i);

  const ReplayOutputs& outputs_;
  ReplaySummary* summary_;
  RecordingSink sink_;
  std::optional<TraceWriter> trace_;
  TeeLogger logger_;
  std::optional<ReplayEventRecorder> events_;  // --events; outlives engine_
  ReplayResolver resolver_;  // IdentityResolver plus --conntrack
  Engine engine_;
  // The engine's working copy of one frame. Not zero-filled: only the pages
  // the largest frame reaches get mapped.
  std::unique_ptr<uint8_t[]> buffer_{new uint8_t[kBufferSize]};
  uint64_t now_ms_ = 0;  // monotonic: capture clocks may step back
  uint64_t last_expire_ms_ = 0;
  uint64_t last_ts_ns_ = 0;
  bool first_ = true;
};

Logger* Replayer::StartTrace(const EngineConfig& config) {
  if (outputs_.trace == nullptr) return nullptr;
  trace_.emplace(config, *outputs_.trace);
  return &*trace_;
}

void Replayer::OnRecord(RecordBatch& batch, size_t i) {
  const PcapRecord& rec = batch.records()[i].record;
  ++summary_->records;
  ++summary_->written;  // undone below for a dropped record
  AdvanceClock(rec);
  if (!rec.l3_offset) {
    ++summary_->not_ip;
    return;
  }
  if (rec.truncated() || *rec.l3_offset + rec.l3_len > kLargestFrame) {
    ++summary_->truncated;
    return;
  }
  ProcessIp(batch, i);
}

void Replayer::AdvanceClock(const PcapRecord& rec) {
  last_ts_ns_ = rec.ts_ns;
  if (first_ || rec.TimeMs() > now_ms_) now_ms_ = rec.TimeMs();
  if (first_) {
    last_expire_ms_ = now_ms_;
    first_ = false;
  }
  sink_.set_now_ms(now_ms_);
  if (now_ms_ - last_expire_ms_ >= kExpireEveryMs) {
    engine_.Expire(now_ms_);
    last_expire_ms_ = now_ms_;
    if (trace_) trace_->FlushEvents(rec.ts_ns, "expire");
  }
}

void Replayer::ProcessIp(RecordBatch& batch, size_t i) {
  const PcapRecord& rec = batch.records()[i].record;
  ++summary_->ip_packets;
  const size_t l3 = *rec.l3_offset;
  // Link header + IP packet (padding after the IP packet is dropped from a
  // rewritten frame; an unchanged frame is written as read).
  std::memcpy(buffer_.get(), rec.frame, l3 + rec.l3_len);
  PacketBuffer pkt{buffer_.get() + l3, rec.l3_len, kBufferSize - l3};
  if (trace_) trace_->BeginPacket(rec.index, rec.ts_ns, pkt.data, pkt.len);
  const Decision d = engine_.Process(pkt, now_ms_);
  if (trace_) trace_->EndPacket(pkt.data, pkt.len, d);
  if (d.verdict == Verdict::kDrop) {
    batch.Drop(i);
    ++summary_->dropped;
    --summary_->written;
    return;
  }
  if (!d.modified) return;
  ++summary_->modified;
  // Only a changed frame is kept beside the batch, for the writer (which
  // completes its checksums: the full sums leave this thread).
  std::memcpy(batch.ReplaceBegin(l3 + pkt.len), buffer_.get(), l3 + pkt.len);
  batch.ReplaceCommit(i, l3 + pkt.len, d.checksums_pending ? static_cast<int32_t>(l3) : -1);
}

void Replayer::Finish() {
  engine_.Shutdown();
  if (trace_) trace_->FlushEvents(last_ts_ns_, "shutdown");
  summary_->expectations = sink_.installed();
  summary_->expectations_refreshed = sink_.refreshed();
  summary_->expectations_busy = sink_.busy();
  if (trace_) trace_->Finish(summary_->ToLine(), summary_->stats);
}

}  // namespace

std::string RunReplay(const ReplayOptions& options, const ReplayOutputs& outputs,
                      ReplaySummary* summary) {
  *summary = ReplaySummary{};
  std::string error;
  std::unique_ptr<PcapSource> source = PcapSource::Open(options.input, &error);
  if (!source) return error;

  std::unique_ptr<PcapWriter> writer;
  if (!options.output.empty()) {
    writer = PcapWriter::Create(options.output, source->link_type(),
                                source->snaplen(), source->tstamp_precision(),
                                &error);
    if (!writer) return error;
  }

  Replayer replayer(options, outputs, summary);
  // Reading ahead and writing behind run on their own threads.
  RecordPipeline pipeline(*source, writer.get());
  for (;;) {
    RecordBatch* batch = pipeline.Next();
    for (size_t i = 0; i < batch->records().size(); ++i) replayer.OnRecord(*batch, i);
    const bool last = batch->last();
    error = batch->error();  // read before the writer has it
    pipeline.Done(batch);
    if (last) break;
  }
  if (!error.empty()) return error;
  pipeline.Drain();
  replayer.Finish();
  if (writer && !writer->Commit(&error)) return error;
  return "";
}

}  // namespace ftpalg
