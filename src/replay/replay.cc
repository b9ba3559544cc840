// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/replay.h"

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "adapters/pcap_source.h"
#include "adapters/pcap_writer.h"
#include "ftpalg/engine.h"
#include "replay/recording_sink.h"
#include "replay/trace_writer.h"

namespace ftpalg {
namespace {

// Room for the largest frame libpcap hands out plus growth.
constexpr size_t kBufferSize = 262144 + 65536;
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

  RecordingSink sink;
  sink.set_keep_jsonl(outputs.expectations != nullptr);
  std::optional<TraceWriter> trace;
  if (outputs.trace != nullptr) {
    trace.emplace(options.engine, *outputs.trace);
    sink.set_observer([&trace](RecordingSink::Event e, const Expectation& x) {
      trace->OnExpectation(e, x);
    });
  }
  TeeLogger logger(trace ? &*trace : nullptr, outputs.log);
  IdentityResolver resolver(options.engine);
  Stats& stats = summary->stats;
  Engine engine(options.engine, sink, resolver, logger, stats);

  std::vector<uint8_t> buffer(kBufferSize);
  uint64_t now_ms = 0;  // monotonic: capture clocks may step back
  uint64_t last_expire_ms = 0;
  uint64_t last_ts_ns = 0;
  bool first = true;
  PcapRecord rec;
  for (;;) {
    const PcapSource::Status st = source->Next(&rec, &error);
    if (st == PcapSource::Status::kEnd) break;
    if (st == PcapSource::Status::kError) return error;
    ++summary->records;
    last_ts_ns = rec.ts_ns;
    if (first || rec.TimeMs() > now_ms) now_ms = rec.TimeMs();
    if (first) {
      last_expire_ms = now_ms;
      first = false;
    }
    sink.set_now_ms(now_ms);
    if (now_ms - last_expire_ms >= kExpireEveryMs) {
      engine.Expire(now_ms);
      last_expire_ms = now_ms;
      if (trace) trace->FlushEvents(rec.ts_ns, "expire");
    }

    if (!rec.l3_offset) {
      ++summary->not_ip;
      if (writer) writer->Write(rec.ts_ns, rec.frame, rec.caplen, rec.wire_len);
      ++summary->written;
      continue;
    }
    if (rec.truncated() || *rec.l3_offset + rec.l3_len + 65536 > buffer.size()) {
      ++summary->truncated;
      if (writer) writer->Write(rec.ts_ns, rec.frame, rec.caplen, rec.wire_len);
      ++summary->written;
      continue;
    }
    ++summary->ip_packets;
    const size_t l3 = *rec.l3_offset;
    // Copy link header + IP packet (padding after the IP packet is dropped
    // from a rewritten frame; an unchanged frame is written as read).
    std::memcpy(buffer.data(), rec.frame, l3 + rec.l3_len);
    PacketBuffer pkt{buffer.data() + l3, rec.l3_len, buffer.size() - l3};
    if (trace) trace->BeginPacket(rec.index, rec.ts_ns, pkt.data, pkt.len);
    const Decision d = engine.Process(pkt, now_ms);
    if (trace) trace->EndPacket(pkt.data, pkt.len, d);
    if (d.verdict == Verdict::kDrop) {
      ++summary->dropped;
      continue;
    }
    if (d.modified) {
      ++summary->modified;
      if (writer) writer->Write(rec.ts_ns, buffer.data(), l3 + pkt.len, l3 + pkt.len);
    } else if (writer) {
      writer->Write(rec.ts_ns, rec.frame, rec.caplen, rec.wire_len);
    }
    ++summary->written;
  }
  engine.Shutdown();
  if (trace) trace->FlushEvents(last_ts_ns, "shutdown");

  summary->expectations = sink.installed();
  summary->expectations_refreshed = sink.refreshed();
  summary->expectations_busy = sink.busy();
  if (outputs.expectations != nullptr) *outputs.expectations << sink.jsonl();
  if (trace) trace->Finish(summary->ToLine(), stats);
  if (writer && !writer->Commit(&error)) return error;
  return "";
}

}  // namespace ftpalg
