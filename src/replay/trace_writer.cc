// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/trace_writer.h"

#include <cinttypes>
#include <cstdio>

#include "ftpalg/packet.h"

namespace ftpalg {
namespace {

std::string FlagText(uint8_t flags) {
  std::string s;
  if (flags & kTcpSyn) s += 'S';
  if (flags & kTcpFin) s += 'F';
  if (flags & kTcpRst) s += 'R';
  if (flags & kTcpPsh) s += 'P';
  if (flags & kTcpAck) s += 'A';
  if (s.empty()) s = "-";
  return s;
}

// SACK blocks from the TCP options, "l-r,l-r"; malformed options end the walk.
std::string SackText(const uint8_t* ip, const PacketView& v) {
  std::string out;
  const uint8_t* opt = ip + v.tcp_offset + 20;
  const uint8_t* end = ip + v.tcp_offset + v.tcp_header_len;
  while (opt < end) {
    const uint8_t kind = opt[0];
    if (kind == 0) break;
    if (kind == 1) {
      ++opt;
      continue;
    }
    if (end - opt < 2 || opt[1] < 2 || opt[1] > end - opt) break;
    if (kind == 5) {
      for (int i = 2; i + 8 <= opt[1]; i += 8) {
        if (!out.empty()) out += ',';
        out += std::to_string(LoadBe32(opt + i)) + "-" +
               std::to_string(LoadBe32(opt + i + 4));
      }
    }
    opt += opt[1];
  }
  return out;
}

template <typename T>
std::string Change(const T& before, const T& after) {
  if (before == after) return std::to_string(before);
  return std::to_string(before) + "->" + std::to_string(after);
}

std::string_view EventName(RecordingSink::Event e) {
  switch (e) {
    case RecordingSink::Event::kInstalled: return "expect";
    case RecordingSink::Event::kRefreshed: return "expect-refresh";
    case RecordingSink::Event::kBusy: return "expect-busy";
    case RecordingSink::Event::kRemoved: return "expect-removed";
  }
  return "?";
}


}  // namespace

TraceWriter::TraceWriter(const EngineConfig& config, std::ostream& out)
    : config_(config), out_(out) {}

void TraceWriter::Log(LogLevel l, std::string_view message) {
  pending_ += "  ";
  pending_ += LevelName(l);
  pending_ += ": ";
  // The engine escapes untrusted bytes; a stray newline must still not
  // break the one-event-per-line format.
  for (char c : message) pending_ += (c == '\n' || c == '\r') ? ' ' : c;
  pending_ += '\n';
}

void TraceWriter::OnExpectation(RecordingSink::Event event,
                                const Expectation& e) {
  pending_ += "  ";
  pending_ += EventName(event);
  pending_ += ' ';
  pending_ += KindName(e.kind);
  pending_ += " session=" + std::to_string(e.session_id);
  pending_ += " peer=" + e.peer.ToString();
  pending_ += " target=" + e.target.ToString();
  pending_ += " nat=" + e.nat_to.ToString();
  pending_ += " master=" + e.master.ToString();
  pending_ += " timeout=" + std::to_string(e.timeout_s) + "s\n";
}

TraceWriter::Snapshot TraceWriter::Take(const uint8_t* ip, size_t len) const {
  Snapshot s;
  PacketView v;
  const PacketError err = ParsePacket(ip, len, &v);
  if (err != PacketError::kNone) {
    s.error = std::string(PacketErrorName(err));
    return s;
  }
  s.tcp = true;
  s.control = config_.IsControlPort(v.src.port) || config_.IsControlPort(v.dst.port);
  s.endpoints = v.src.ToString() + ">" + v.dst.ToString();
  s.flags = v.flags;
  s.seq = v.seq;
  s.ack = v.ack;
  s.payload_len = v.payload_len;
  s.payload.assign(reinterpret_cast<const char*>(ip + v.payload_offset), v.payload_len);
  s.sack = SackText(ip, v);
  return s;
}

std::string TraceWriter::RelativeTime(uint64_t ts_ns) {
  if (!have_first_) {
    have_first_ = true;
    first_ts_ns_ = ts_ns;
  }
  const bool negative = ts_ns < first_ts_ns_;
  const uint64_t d = negative ? first_ts_ns_ - ts_ns : ts_ns - first_ts_ns_;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%06" PRIu64, negative ? "-" : "+",
                d / 1000000000u, (d % 1000000000u) / 1000u);
  return buf;
}

void TraceWriter::BeginPacket(uint64_t index, uint64_t ts_ns, const uint8_t* ip,
                              size_t len) {
  index_ = index;
  ts_ns_ = ts_ns;
  before_ = Take(ip, len);
}

void TraceWriter::EndPacket(const uint8_t* ip, size_t len,
                            const Decision& decision) {
  const std::string time = RelativeTime(ts_ns_);
  const bool dropped = decision.verdict == Verdict::kDrop;
  if (!before_.control && pending_.empty() && !decision.modified && !dropped) {
    return;
  }
  std::string line = "p" + std::to_string(index_) + " " + time + " ";
  if (!before_.tcp) {
    line += "not-tcp(" + before_.error + ")";
  } else {
    const Snapshot after = decision.modified ? Take(ip, len) : before_;
    line += before_.endpoints + " " + FlagText(before_.flags);
    line += " seq=" + Change(before_.seq, after.seq);
    line += " ack=" + Change(before_.ack, after.ack);
    line += " len=" + Change(before_.payload_len, after.payload_len);
    if (!before_.sack.empty() || !after.sack.empty()) {
      line += " sack=" + before_.sack;
      if (after.sack != before_.sack) line += "->" + after.sack;
    }
    if (!before_.payload.empty()) {
      line += " \"" + EscapeForLog(before_.payload, kMaxPayloadShown) + "\"";
    }
    if (after.payload != before_.payload) {
      line += " -> \"" + EscapeForLog(after.payload, kMaxPayloadShown) + "\"";
    }
    if (!after.tcp) line += " AFTER-UNPARSEABLE(" + after.error + ")";
  }
  if (dropped) line += " DROP";
  line += '\n';
  out_ << line << pending_;
  pending_.clear();
}

void TraceWriter::FlushEvents(uint64_t ts_ns, std::string_view context) {
  if (pending_.empty()) return;
  out_ << RelativeTime(ts_ns) << " " << context << "\n" << pending_;
  pending_.clear();
}

void TraceWriter::Finish(std::string_view summary, const Stats& stats) {
  out_ << "replay " << summary << "\n";
  out_ << "stats " << stats.ToString(true) << "\n";
}

}  // namespace ftpalg
