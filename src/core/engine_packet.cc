// SPDX-License-Identifier: GPL-2.0-or-later
// One packet through the units: classify, session, handshake and control
// segments (tcp_stream), payload, seq/ack/SACK mapping, checksums.
#include "src/core/engine_impl.h"

namespace ftpalg {

Decision Engine::Impl::Process(PacketBuffer& pkt, uint64_t now) {
  now_ms = now;
  ++stats.packets;
  PacketView v;
  const PacketError err = ParsePacket(pkt.data, pkt.len, &v);
  if (err != PacketError::kNone) {
    if (err == PacketError::kTruncated || err == PacketError::kBadHeader) {
      ++stats.malformed_packets;
    }
    return {};
  }
  Direction d;
  FlowKey key;
  if (!Classify(v, &d, &key)) return {};
  ++stats.control_packets;
  pv = &v;
  Session* s = SessionFor(key, v, d);
  if (s == nullptr) return {};
  if (!FollowHandshake(s, d, v)) return {};  // a stray SYN passes untouched
  const bool rst = v.flags & kTcpRst;
  if (v.payload_len > 0 && !rst) s->stream[Index(d)].data_seen = true;
  const bool rst_counts = rst && RstCounts(s, d, v);

  PacketEdit edit;
  edit.new_total = v.total_len;
  edit.first_input = v.seq + ((v.flags & kTcpSyn) ? 1u : 0u);
  if (v.payload_len > 0 && !rst) {
    RewritePayload(pkt, v, s, d, &edit);
    if (edit.drop) {
      ++stats.dropped_packets;
      return Decision{Verdict::kDrop, false};
    }
  }
  // Live, the kernel hands over complete, verified checksums: when only
  // header fields change, the TCP checksum is updated for them (RFC 1624)
  // instead of summed again. A capture's checksums may be wrong (offload):
  // offline, every changed packet is summed in full.
  uint8_t old_tcp[60];
  const bool header_only = !edit.changed && !cfg.offline_capture;
  if (header_only) std::memcpy(old_tcp, pkt.data + v.tcp_offset, v.tcp_header_len);
  // A bare ACK beyond the bytes seen says data was lost before us: its
  // retransmission will arrive in order, so nothing changes here.
  MapSeqAndAck(pkt.data + v.tcp_offset, v, s, d, &edit);
  EndOfStream(pkt.data + v.tcp_offset, s, d, v, edit, rst_counts);
  if (!edit.changed) return {};
  if (header_only) return FinishHeaderOnly(pkt, v, old_tcp);
  return Finish(pkt, v, s, edit.new_total);
}

// Only TCP header fields changed (seq, ack, SACK blocks, FIN): the checksum
// is updated for the changed header bytes, all but the checksum field and
// the urgent pointer (never changed).
Decision Engine::Impl::FinishHeaderOnly(PacketBuffer& pkt, const PacketView& v,
                                        const uint8_t* old_tcp) {
  uint8_t* tcp = pkt.data + v.tcp_offset;
  uint16_t check = LoadBe16(tcp + 16);
  check = ChecksumUpdate(check, old_tcp, tcp, 16);
  check = ChecksumUpdate(check, old_tcp + 20, tcp + 20, v.tcp_header_len - 20);
  StoreBe16(tcp + 16, check);
  ++stats.modified_packets;
  return Decision{Verdict::kAccept, true};
}

bool Engine::Impl::Classify(const PacketView& v, Direction* d, FlowKey* key) {
  if (cfg.IsControlPort(v.dst.port)) {
    *d = Direction::kOriginal;
    *key = FlowKey{v.src, v.dst};
    return true;
  }
  if (!cfg.IsControlPort(v.src.port)) return false;
  *d = Direction::kReply;
  const std::optional<FlowKey> m = resolver.MasterForReply(v.src, v.dst);
  if (!m) return false;
  *key = *m;
  return true;
}

Session* Engine::Impl::SessionFor(const FlowKey& key, const PacketView& v, Direction d) {
  const bool client_syn =
      (v.flags & kTcpSyn) && !(v.flags & kTcpAck) && d == Direction::kOriginal;
  Session* s = sessions.Find(key);
  if (s && client_syn && s->stream[0].seen && s->stream[0].next_seq != v.seq + 1 &&
      (s->closing || !s->stream[0].data_seen)) {
    // A new connection on the tuple (port reuse after a close, or the
    // client gave up a handshake and started another): nothing of the
    // old one may leak into it (offsets, pairing, kept bytes).
    EndSession(s, s->closing ? "tuple reused by a new connection"
                             : "new SYN before any data: a new connection");
    s = nullptr;
  }
  if (!s) {
    if (v.flags & kTcpRst) return nullptr;
    s = CreateSession(key, !client_syn);
  }
  s->last_seen_s = static_cast<uint32_t>(now_ms / 1000);
  sessions.Touch(s);
  return s;
}

bool Engine::Impl::FollowHandshake(Session* s, Direction d, const PacketView& v) {
  StreamState& st = s->stream[Index(d)];
  if (!(v.flags & kTcpSyn)) {
    if (!st.seen) {
      if (d == Direction::kReply && s->stream[0].from_syn) {
        // The client's SYN was seen but not the SYN-ACK that answers it:
        // this is a leftover of an earlier connection on the tuple (the
        // server's challenge ACK to the new SYN, a retransmitted reply),
        // numbered in that connection's space. It passes untouched and
        // does not anchor this connection's server stream.
        ++stats.stale_before_synack;
        LogParts(LogLevel::kDebug, s, "s->c segment before the SYN-ACK (an earlier connection's) passed");
        return false;
      }
      st.seen = true;
      st.next_seq = v.seq;
      // A stream first seen mid-stream is read as if it began here. The
      // dialogue rules then decide: only a server whose first bytes are a
      // 220 greeting, with no client bytes before it, is treated as FTP
      // (a capture that missed just the handshake). A session picked up
      // after its start (daemon restart) fails them and passes untouched.
      st.line.synced = !s->restored;
    }
    StreamState& server = s->stream[Index(Direction::kReply)];
    if (d == Direction::kOriginal && (v.flags & kTcpAck) && st.from_syn && !server.seen) {
      // The SYN-ACK went unseen (lost before a capture point): the client's
      // ACK of the handshake names the server's ISN + 1.
      server.seen = true;
      server.from_syn = true;
      server.next_seq = v.ack;
      server.line.synced = !s->restored;
    }
    return true;
  }
  const uint32_t before = st.next_seq;
  const bool first = !st.seen;
  switch (TcpStream::OnSyn(st, v.seq)) {
    case SynOutcome::kLearned:
      if (first && s->restored) st.line.synced = false;
      return true;
    case SynOutcome::kRetransmitted:
      return true;
    case SynOutcome::kRebased:
      ++stats.isn_rebased;
      tracker.Release(st);
      Log(LogLevel::kInfo, s,
          std::string(DirName(d)) + " SYN with a new ISN before any data (" +
              std::to_string(static_cast<int32_t>(v.seq + 1 - before)) +
              " from the first): the stream follows the new one");
      return true;
    case SynOutcome::kStray:
      // Another ISN after data (or a late duplicate): the peer answers
      // it with a challenge ACK; this connection's state stays.
      ++stats.syn_stray;
      LogParts(LogLevel::kDebug, s, "stray SYN in ", DirName(d), " ignored");
      return false;
  }
  return true;
}

bool Engine::Impl::RstCounts(Session* s, Direction d, const PacketView& v) {
  if (TcpStream::RstAcceptable(s->stream[Index(d)], v.seq)) return true;
  ++stats.rst_ignored;
  Log(LogLevel::kInfo, s,
      std::string("RST in ") + DirName(d) + " outside the window ignored: the session stays");
  return false;
}

void Engine::Impl::RewritePayload(PacketBuffer& pkt, const PacketView& v, Session* s,
                                  Direction d, PacketEdit* edit) {
  const bool syn = v.flags & kTcpSyn, fin = v.flags & kTcpFin;
  payload = pkt.data + v.payload_offset;
  out_len = 0;
  out_edited = false;
  const size_t room = std::min(pkt.capacity, kMaxIpPacket);
  out_limit = room > v.payload_offset ? room - v.payload_offset : 0;
  out_limit = std::min(out_limit, out.size());
  if (!syn && CanScanInPlace(s, d, v.seq, v.payload_len)) {
    ScanInPlace(s, d, v.seq, v.payload_len, fin);
    return;  // the payload is unchanged
  }
  bool whole = true;
  edit->first_input = HandlePayload(s, d, edit->first_input, v.payload_len, fin, &whole);
  if (fin && !whole) edit->clear_fin = true;
  // Same start, same length and no rewritten text: the bytes are the
  // input's (everything else was copied through unchanged).
  const bool same = edit->first_input == v.seq + (syn ? 1u : 0u) &&
                    out_len == v.payload_len && !out_edited;
  if (same) return;
  std::memcpy(pkt.data + v.payload_offset, out.data(), out_len);
  edit->new_total = v.payload_offset + out_len;
  edit->changed = true;
  edit->drop = out_len == 0 && !(v.flags & kTcpAck);
}

void Engine::Impl::MapSeqAndAck(uint8_t* tcp, const PacketView& v, Session* s, Direction d,
                                PacketEdit* edit) {
  StreamState& st = s->stream[Index(d)];
  // Sequence number of the first output byte (SYN keeps its ISN).
  const bool syn = v.flags & kTcpSyn;
  const uint32_t new_seq = st.ledger.ToOutput(edit->first_input, Spill(st)) - (syn ? 1u : 0u);
  if (new_seq != v.seq) {
    StoreBe32(tcp + 4, new_seq);
    edit->changed = true;
  }
  if (!(v.flags & kTcpAck)) return;
  const Direction other = Opposite(d);
  const uint32_t mapped = MapAckField(s, other, v.ack);
  const uint32_t acked_input = cfg.offline_capture ? v.ack : MapAck(s, other, v.ack);
  if (mapped != v.ack) {
    StoreBe32(tcp + 8, mapped);
    edit->changed = true;
  }
  if (MapSack(s, other, tcp, v.tcp_header_len)) edit->changed = true;
  NoteAcked(s, other, acked_input);
}

void Engine::Impl::NoteAcked(Session* s, Direction acked, uint32_t acked_input) {
  StreamState& st = s->stream[Index(acked)];
  st.ledger.NoteAck(acked_input);
  ReturnLedgerBlock(st);
  if (st.gap_open && SeqLe(st.gap_end, acked_input)) {
    st.gap_open = false;
    ++stats.gap_resumed;
    Log(LogLevel::kInfo, s,
        std::string(DirName(acked)) +
            " stream whole again at the receiver: parsing resumes at the next line");
  }
}

void Engine::Impl::EndOfStream(uint8_t* tcp, Session* s, Direction d, const PacketView& v,
                               PacketEdit& edit, bool rst_counts) {
  if (edit.clear_fin) {
    tcp[13] = static_cast<uint8_t>(tcp[13] & ~kTcpFin);
    edit.changed = true;
  } else if (v.flags & kTcpFin) {
    // The FIN takes one sequence number after the data; it counts only
    // in sequence (not beyond a hole, not a stray one).
    const uint32_t data_seq = v.seq + ((v.flags & kTcpSyn) ? 1u : 0u);
    TcpStream::OnFin(s->stream[Index(d)], data_seq + static_cast<uint32_t>(v.payload_len));
  }
  if ((rst_counts || (s->stream[0].fin && s->stream[1].fin)) && !s->closing) {
    // The session stays for late retransmissions (their seq/ack still
    // need mapping), but it opens nothing any more.
    s->closing = true;
    expectations.RemoveSession(s, [&](const Expectation& e) { sink.Remove(e); });
  }
}

Decision Engine::Impl::Finish(PacketBuffer& pkt, const PacketView& v, Session* s,
                              size_t new_total) {
  PacketView nv = v;
  nv.total_len = new_total;
  nv.payload_len = new_total - v.payload_offset;
  Decision done{Verdict::kAccept, true};
  if (cfg.defer_checksums) {
    SetIpLengths(pkt.data, nv);
    done.checksums_pending = true;
  } else {
    FinalizePacket(pkt.data, nv);
  }
  pkt.len = new_total;
  ++stats.modified_packets;
  if (new_total > cfg.max_packet_len && new_total > v.total_len) {
    ++stats.oversize_after_rewrite;
    Log(LogLevel::kWarn, s,
        "packet grew to " + std::to_string(new_total) + " bytes, over max_packet_len " +
            std::to_string(cfg.max_packet_len) +
            ": the path MTU may reject it (sender will retransmit smaller)");
  }
  return done;
}

}  // namespace ftpalg
