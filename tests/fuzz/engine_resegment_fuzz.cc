// SPDX-License-Identifier: GPL-2.0-or-later
// Structure-aware libFuzzer target. The input picks a valid FTP dialogue
// from a menu of command/reply pairs (PORT, EPRT, PASV/227, EPSV/229,
// LPSV/228, multi-line 227, bounce, low port, injection, unsolicited 227,
// AUTH, overlong lines; after a 234, TLS records holding PORT/227 lines and
// CCC back to cleartext) and, for every turn, how its bytes are carried:
// segment sizes, duplicates, retransmissions, reordering (a later piece
// first), pure ACKs with SACK blocks, one GSO-sized segment. Live or offline
// ack semantics, client ISN anywhere (wrap included). Optionally a scripted
// handshake before the dialogue (see Handshake): retransmitted, duplicated
// and reordered SYN / SYN-ACK / ACK, a SYN-ACK re-numbered after a client SYN
// retransmission, a fresh connection on the same tuple, the greeting on the
// SYN-ACK (server TCP Fast Open), simultaneous open, and stale duplicates of
// the handshake packets between the dialogue's turns.
// Input: mode byte (bit 0 offline, bit 1 client ISN near the wrap, bit 2
// server ISN near 2^31, bit 3 a handshake script follows), client ISN byte,
// server ISN byte (bit 2), the script (bit 3), then the turns. Inputs without
// bit 3 read exactly as before the scripts existed.
// Invariants (abort on violation):
//  - every output byte has one value whatever segment carried it;
//  - without reordering, each direction's output stream is exactly the
//    input with the expected rewrites applied; with reordering (the gap
//    policy leaves lines in a gap-filling segment unrewritten), every line is
//    either its original or its rewritten form;
//  - acks map consistently: the receiver's ack of everything it got maps to
//    the sender's input end (live: output -> input; offline: input ->
//    output end), partial acks and SACK edges map monotonically in range.
//  All of them hold relative to the ISNs the endpoints finally use: after a
//  re-numbered SYN-ACK or a fresh connection on the tuple, each stream starts
//  at the new ISN + 1 and every byte after it must be carried as if the old
//  handshake had never happened.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "ftpalg/engine.h"
#include "ftpalg/packet.h"
#include "ftpalg/seq_ledger.h"
#include "tests/support/packet_builder.h"

namespace ftpalg {
namespace {

using testing::BuildTcp;
using testing::Ep;
using testing::TcpSpec;

[[noreturn]] void Fail(const char* what, uint64_t a = 0, uint64_t b = 0) {
  std::fprintf(stderr, "engine_resegment_fuzz: %s (%llu, %llu)\n", what,
               static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  std::abort();
}

// Switches for knobs an engine before the stream tracker (f6e75d6) fails,
// so that the rest can be fuzzed against such an engine: on by default now.
// Off, the same inputs still read the same way (every byte is consumed as
// when on), so a crash input replays under either setting. Built in with
// -DNAME=0|1; NAME=0|1 in the environment overrides it at run time.
//  RESEG_RENUMBER_SYNACK  the re-numbered SYN-ACK (issue 11: the server's
//    SYN-ACK is lost after the gateway, the client retransmits its SYN and
//    the server answers with a different ISN). An engine that keeps the
//    first ISN loses the server's stream. Off: that second SYN-ACK keeps the
//    first ISN (a plain retransmission).
//  RESEG_STALE_SYN  a stale duplicate of the client's SYN (same ISN) after
//    the client sent data. An engine that takes any SYN not at the stream's
//    next byte for a new connection on the tuple drops the session's offsets
//    mid-dialogue (and holds the client's next segment as beyond a hole).
//    Off: such a duplicate is sent only before client data.
//  RESEG_TFO_RETX  (on) a Fast Open SYN-ACK sent again with its data
//    (retransmitted or duplicated). An engine that takes a SYN-ACK after data
//    for a stray one passes it untouched, so bytes it holds back (a "22" that
//    may become a 227) reach the receiver behind its back, and offline the
//    receiver's ack of them is clamped to before them (found here; fixed:
//    TcpStream::OnSyn). Off: SYN-ACKs after the first that carried data carry
//    none.
#ifndef RESEG_RENUMBER_SYNACK
#define RESEG_RENUMBER_SYNACK 1
#endif
#ifndef RESEG_STALE_SYN
#define RESEG_STALE_SYN 1
#endif
bool Switch(const char* name, bool built_in) {
  const char* e = std::getenv(name);
  if (e != nullptr && *e != '\0') return *e != '0';
  return built_in;
}
bool RenumberSynAck() {
  static const bool on = Switch("RESEG_RENUMBER_SYNACK", RESEG_RENUMBER_SYNACK != 0);
  return on;
}
bool StaleSyn() {
  static const bool on = Switch("RESEG_STALE_SYN", RESEG_STALE_SYN != 0);
  return on;
}
#ifndef RESEG_TFO_RETX
#define RESEG_TFO_RETX 1
#endif
bool TfoRetx() {
  static const bool on = Switch("RESEG_TFO_RETX", RESEG_TFO_RETX != 0);
  return on;
}

class Input {
 public:
  Input(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  uint8_t U8() { return i_ < n_ ? d_[i_++] : 0; }
  uint32_t U32() {  // big-endian, so a hand-written seed reads naturally
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | U8();
    return v;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

// One command and its reply; "rw" fields are what the ALG must turn them
// into (empty: unchanged). The client 10.7.0.2 and server 192.168.20.2 are
// both inside, public address 203.0.113.1.
struct Item {
  const char* cmd;
  const char* cmd_rw;
  const char* reply;
  const char* reply_rw;
  bool starts_tls;
};

const std::string kLong = "STOR " + std::string(600, 'x') + "\r\n";

const Item kMenu[] = {
    {"NOOP\r\n", "", "200 ok\r\n", "", false},
    {"PORT 10,7,0,2,4,1\r\n", "PORT 203,0,113,1,4,1\r\n", "200 PORT ok\r\n", "", false},
    {"port 10,7,0,2,4,2\n", "port 203,0,113,1,4,2\n", "200 ok\r\n", "", false},
    {"EPRT |1|10.7.0.2|6000|\r\n", "EPRT |1|203.0.113.1|6000|\r\n", "200 ok\r\n", "", false},
    {"EPRT !1!10.7.0.2!6001!\r\n", "EPRT !1!203.0.113.1!6001!\r\n", "200 ok\r\n", "", false},
    {"PORT 10,7,0,9,4,3\r\n", "", "200 ok\r\n", "", false},  // bounce
    {"PORT 10,7,0,2,0,22\r\n", "", "200 ok\r\n", "", false},  // low port
    {"RETR a PORT 10,7,0,2,4,5\r\n", "", "550 no\r\n", "", false},  // injection
    {"PASV\r\n", "", "227 Entering Passive Mode (192,168,20,2,117,74).\r\n",
     "227 Entering Passive Mode (203,0,113,1,117,74).\r\n", false},
    {"EPSV\r\n", "", "229 Entering Extended Passive Mode (|||30001|)\r\n", "", false},
    {"PASV\r\n", "", "227-hello\r\n227 =192,168,20,2,117,75\r\n",
     "227-hello\r\n227 =203,0,113,1,117,75\r\n", false},
    {"NOOP\r\n", "", "227 (192,168,20,2,4,9)\r\n", "", false},  // unsolicited
    {nullptr, "", "150 go\r\n226 done\r\n", "", false},  // overlong STOR
    {"AUTH TLS\r\n", "", "502 no\r\n", "", false},
    {"LPSV\r\n", "", "228 Long Passive Mode (4,4,192,168,20,2,2,117,76)\r\n",
     "228 Long Passive Mode (4,4,203,0,113,1,2,117,76)\r\n", false},
    {"TYPE I\r\n", "", "200 ok\r\n", "", false},
    {"EPSV\r\n", "", "227 (192,168,20,2,117,77)\r\n", "227 (203,0,113,1,117,77)\r\n", false},
    {"AUTH TLS\r\n", "", "234 go\r\n", "", true},  // parsing stops after it
};
constexpr size_t kMenuSize = sizeof(kMenu) / sizeof(kMenu[0]);

// After a 234 the client's commands and the server's replies go inside TLS
// records (unparsed, unchanged, whatever FTP lines their bytes hold) until
// a CCC item: its records end with close_notify, and what follows is
// cleartext again, parsed and rewritten (RFC 4217). Each record body ends in
// LF so that the line-wise oracle splits them as it splits lines.
std::string TlsRecord(uint8_t type, std::string body) {
  body += '\n';
  std::string r{static_cast<char>(type), '\x03', '\x03', static_cast<char>(body.size() >> 8),
                static_cast<char>(body.size() & 0xff)};
  return r + body;
}
const Item kTlsData = {nullptr, "", nullptr, "", false};  // texts below
const Item kCcc = {nullptr, "", nullptr, "", false};
const std::string kTlsCmd = TlsRecord(23, "PORT 10,7,0,2,4,1\r\n" + std::string(9, '\x9c'));
const std::string kTlsReply = TlsRecord(23, "227 (192,168,20,2,4,9)\r\n");
const std::string kCccCmd = TlsRecord(23, "CCC\r\n" + std::string(12, '\x9d')) +
                            TlsRecord(21, std::string(25, '\x9e'));
const std::string kCccReply = TlsRecord(23, "200 ok\r\n" + std::string(12, '\x9f')) +
                              TlsRecord(21, std::string(25, '\xa0'));

// One output byte stream, reassembled by output sequence number.
class Collector {
 public:
  explicit Collector(uint32_t base) : base_(base) {}
  void Add(uint32_t seq, const std::string& data) {
    const uint32_t off = seq - base_;
    if (off >= (1u << 31)) Fail("output segment before the stream start", off);
    // A dialogue here is a few KB: an output position far beyond the start
    // is a mapping error (a stream followed from the wrong ISN), and would
    // make the collector allocate as far.
    if (off >= (1u << 20)) Fail("output segment far beyond the stream start", off);
    if (off + data.size() > bytes_.size()) {
      bytes_.resize(off + data.size());
      filled_.resize(off + data.size());
    }
    for (size_t i = 0; i < data.size(); ++i) {
      if (filled_[off + i] && bytes_[off + i] != data[i]) {
        Fail("one output position, two different bytes", off + i);
      }
      bytes_[off + i] = data[i];
      filled_[off + i] = true;
    }
  }
  size_t ContiguousEnd() const {
    size_t i = 0;
    while (i < filled_.size() && filled_[i]) ++i;
    return i;
  }
  std::string Contiguous() const { return bytes_.substr(0, ContiguousEnd()); }

 private:
  uint32_t base_;
  std::string bytes_;
  std::vector<bool> filled_;
};

struct Line {
  std::string orig, rw;  // rw == orig when no rewrite is expected
};

struct Side {
  Endpoint ep;
  uint32_t isn = 0;
  std::string in;                  // input stream so far
  std::vector<Line> lines;         // the expected transformation, line by line
  Collector out{0};
};

class Harness {
 public:
  Harness(bool offline, uint32_t c_isn, uint32_t s_isn)
      : offline_(offline) {
    cfg_.public_v4 = IpAddress::Parse("203.0.113.1");
    cfg_.offline_capture = offline;
    cfg_.max_sessions = 2;  // one session; small tables keep runs fast
    cfg_.max_expectations = 64;
    cfg_.hold_slots = 4;
    resolver_ = std::make_unique<IdentityResolver>(cfg_);
    engine_ = std::make_unique<Engine>(cfg_, sink_, *resolver_, log_, stats_);
    side_[0].ep = Ep("10.7.0.2", 40000);
    side_[1].ep = Ep("192.168.20.2", 21);
    side_[0].isn = c_isn;
    side_[1].isn = s_isn;
    side_[0].out = Collector(c_isn + 1);
    side_[1].out = Collector(s_isn + 1);
  }

  // ---- the handshake --------------------------------------------------
  // Without a script: SYN, SYN-ACK, ACK. A script is a header byte
  //   bits 0-3  number of ops (0..15)
  //   bit 4     server TCP Fast Open: the SYN-ACK carries the first
  //             1 + (next byte % greeting length) bytes of the greeting
  //             (its retransmissions too with TfoRetx())
  //   bit 5     stale duplicates of the handshake packets between turns
  //             (one byte per turn, see LateDup)
  // then the ops, one byte each (op = b & 7, b & 8 a variant), some followed
  // by 32-bit ISN deltas. The client's first SYN always comes first (the
  // gateway sees a connection start); an op that does not fit the state is
  // skipped (its bytes are still read, so the rest of the input means the
  // same whatever the state or the switch). Afterwards whatever the script
  // left out is completed (SYN-ACK, the client's ACK), so the dialogue always
  // runs on an established connection:
  //   0, 6  client SYN again (retransmission or network duplicate, same ISN)
  //   1, 7  server SYN-ACK (first, or retransmitted with the same ISN)
  //   2     the client's ACK of the SYN-ACK (again: a duplicate); in a
  //         simultaneous open, first the client's own SYN-ACK
  //   3     + 4 bytes delta: the SYN-ACK was lost after the gateway (b & 8:
  //         the server retransmitted it once more first), the client
  //         retransmits its SYN, the server answers with ISN + delta (0 reads
  //         as 16124080, the capture's); only before the client's ACK, not
  //         with Fast Open or simultaneous open. RenumberSynAck() off: the
  //         answer keeps the old ISN. (Not generated: a copy of the old
  //         SYN-ACK after the new one; until the client's ACK nothing at the
  //         gateway tells it from a second re-numbering.)
  //   4     + 4 bytes client delta (0 reads as 2^31), 4 bytes server delta:
  //         a fresh connection on the same tuple before any data (b & 8: the
  //         client resets the old one first, when it was established)
  //   5     simultaneous open: the server's own SYN (before any SYN-ACK)
  void Handshake(Input* script, const std::string& greeting) {
    Send(0, side_[0].isn, kTcpSyn, "", 0, false);
    if (script == nullptr) {
      SynAck();
      ClientAck();
      return;
    }
    const uint8_t h = script->U8();
    late_dups_ = (h & 0x20) != 0;
    if (h & 0x10) {
      tfo_ = greeting.substr(0, 1 + script->U8() % greeting.size());
      side_[1].in = tfo_;
    }
    const int nops = h & 15;
    for (int k = 0; k < nops; ++k) {
      const uint8_t b = script->U8();
      switch (b & 7) {
        case 0: case 6:
          Send(0, side_[0].isn, kTcpSyn, "", 0, false);
          break;
        case 1: case 7:
          SynAck();
          break;
        case 2:
          if (hs_.simul && !hs_.client_synack) {
            ClientSynAck();
          } else if (hs_.synack) {
            ClientAck();
          }
          break;
        case 3: {
          uint32_t delta = script->U32();
          if (delta == 0) delta = 16124080;  // the capture of issue 11
          if (!hs_.synack || hs_.acked || hs_.simul || !tfo_.empty()) break;
          if (b & 8) SynAck();
          Send(0, side_[0].isn, kTcpSyn, "", 0, false);
          if (RenumberSynAck()) Rebase(1, side_[1].isn + delta);
          SynAck();
          break;
        }
        case 4: {
          uint32_t dc = script->U32();
          const uint32_t ds = script->U32();
          if (dc == 0) dc = 0x80000000u;
          if ((b & 8) && hs_.acked) {
            Send(0, side_[0].isn + 1, kTcpRst | kTcpAck, "", PeerAck(1), false);
          }
          hs_ = HandshakeState{};
          tfo_sent_ = false;  // the new connection's first SYN-ACK carries them
          Rebase(0, side_[0].isn + dc);
          Rebase(1, side_[1].isn + ds);
          Send(0, side_[0].isn, kTcpSyn, "", 0, false);
          break;
        }
        case 5:
          if (hs_.synack || hs_.simul) break;
          Send(1, side_[1].isn, kTcpSyn, "", 0, false);
          hs_.simul = true;
          break;
      }
    }
    if (hs_.simul && !hs_.client_synack) ClientSynAck();
    if (!hs_.synack) SynAck();
    if (!hs_.acked) ClientAck();
  }

  // Bytes of the greeting the SYN-ACK carried (Fast Open).
  size_t tfo_len() const { return tfo_.size(); }

  // A stale copy of a handshake packet, between turns of the dialogue (a
  // duplicate delayed in the network, a retransmission that crossed the
  // packet it answered). One byte: 0 none, 1 the client's SYN (after client
  // data only with StaleSyn()), 2 the server's SYN-ACK, 3 the client's
  // handshake ACK. They must not disturb the streams (the later turns
  // check that). Their own output is not collected: once the receiver acked
  // past a rewrite the ledger may forget its change point (documented
  // limit), and a packet from before it then leaves with today's offset; the
  // receiver discards it either way (below its window: a challenge ACK).
  void LateDup(Input& in) {
    if (!late_dups_) return;
    stale_ = true;
    switch (in.U8() & 3) {
      case 0:
        break;
      case 1:
        if (side_[0].in.empty() || StaleSyn()) Send(0, side_[0].isn, kTcpSyn, "", 0, false);
        break;
      case 2:
        Send(1, side_[1].isn, kTcpSyn | kTcpAck, SynAckData(), side_[0].isn + 1, false);
        break;
      case 3:
        Send(0, side_[0].isn + 1, kTcpAck, "", hs_ack_, false);
        break;
    }
    stale_ = false;
  }

  // Input-space end of side d's stream (absolute seq).
  uint32_t InEnd(int d) const {
    return side_[d].isn + 1 + static_cast<uint32_t>(side_[d].in.size());
  }
  uint32_t OutEnd(int d) const {
    return side_[d].isn + 1 + static_cast<uint32_t>(side_[d].out.ContiguousEnd());
  }
  // What the peer of side d acks: live, the output it got; offline, the
  // original (input) positions, as a capture on the sender side shows.
  uint32_t PeerAck(int d) const { return offline_ ? InEnd(d) : OutEnd(d); }
  // What the engine must hand to side d for that ack.
  uint32_t MappedPeerAck(int d) const { return offline_ ? OutEnd(d) : InEnd(d); }

  // Sends one segment of side d; checks the ack mapping when `check_ack`.
  void Send(int d, uint32_t seq, uint8_t flags, const std::string& payload,
            uint32_t ack, bool check_ack, uint32_t want_ack = 0,
            std::vector<std::pair<uint32_t, uint32_t>> sack = {}) {
    TcpSpec spec{side_[d].ep, side_[1 - d].ep, seq, ack, flags, payload, sack, false};
    std::vector<uint8_t> pkt = BuildTcp(spec);
    const size_t len = pkt.size();
    pkt.resize(len + 512);
    PacketBuffer pb{pkt.data(), len, pkt.size()};
    const Decision dec = engine_->Process(pb, 1'000'000);
    pkt.resize(pb.len);
    if (dec.verdict == Verdict::kDrop) {
      if (flags & kTcpAck) Fail("dropped a segment that carries an ack");
      return;
    }
    PacketView v;
    if (ParsePacket(pkt.data(), pkt.size(), &v) != PacketError::kNone) {
      Fail("output packet does not parse");
    }
    if (dec.modified && !ChecksumsValid(pkt.data(), v)) Fail("bad checksum");
    const uint32_t data_seq = v.seq + ((v.flags & kTcpSyn) ? 1 : 0);
    if (std::getenv("RESEG_TRACE")) {  // debugging aid for a crash input
      std::fprintf(stderr, "%s%s%s%s seq+%u ack=%u [%s] -> seq+%u [%.*s]\n", d ? "S" : "C",
                   (flags & kTcpSyn) ? " SYN" : "", (flags & kTcpRst) ? " RST" : "",
                   (flags & kTcpAck) ? "" : " noACK", seq - side_[d].isn, ack,
                   payload.c_str(), data_seq - side_[d].isn,
                   static_cast<int>(v.payload_len),
                   reinterpret_cast<const char*>(pkt.data() + v.payload_offset));
    }
    if (!stale_) {
      side_[d].out.Add(data_seq, std::string(reinterpret_cast<const char*>(
                                                 pkt.data() + v.payload_offset),
                                             v.payload_len));
    }
    if (check_ack && (flags & kTcpAck) && v.ack != want_ack) {
      Fail("ack of a fully received stream mapped wrongly", v.ack, want_ack);
    }
    last_ack_ = v.ack;
    if (!sack.empty()) last_sack_ = testing::SackOf(pkt);
  }

  void Data(int d, uint32_t from, uint32_t to) {
    if (!SeqLt(from, to)) return;
    const uint32_t base = side_[d].isn + 1;
    const std::string piece = side_[d].in.substr(from - base, to - from);
    Send(d, from, kTcpAck | kTcpPsh, piece, PeerAck(1 - d), true, MappedPeerAck(1 - d));
    last_ = {from, to};
  }

  // A pure ack from the receiver of side d at `p`, with a SACK block.
  void PureAck(int d, uint32_t p, uint32_t turn_in_start, uint32_t turn_out_start) {
    const int r = 1 - d;
    Send(r, InEnd(r), kTcpAck, "", p, false, 0, {{p, p + 3}});
    const uint32_t m = last_ack_;
    if (!offline_) {
      if (SeqLt(m, turn_in_start) || SeqLt(InEnd(d), m)) {
        Fail("partial ack mapped outside the turn", m - turn_in_start);
      }
    } else if (SeqLt(m, turn_out_start)) {
      Fail("offline partial ack mapped before the turn", m - turn_out_start);
    }
    if (have_prev_ && ((SeqLt(prev_p_, p) && SeqLt(m, prev_m_)) ||
                       (SeqLt(p, prev_p_) && SeqLt(prev_m_, m)))) {
      Fail("ack mapping not monotonic", p, m);
    }
    // Offline, a block naming bytes not forwarded yet is blanked (NOPs).
    const bool blanked = offline_ && last_sack_.empty();
    if (!blanked && (last_sack_.size() != 1 || last_sack_[0].first != m)) {
      Fail("SACK left edge mapped unlike the ack", last_sack_.empty() ? 0 : last_sack_[0].first, m);
    }
    have_prev_ = true;
    prev_p_ = p;
    prev_m_ = m;
    // What the receiver acknowledged, in the sender's (input) space. Change
    // points behind it may be forgotten once the ledger needs room (a
    // documented limit: a receiver discards re-sent bytes it acked), so the
    // sender below re-sends only bytes at or after it.
    const uint32_t in_acked = offline_ ? p : m;
    if (SeqLt(acked_in_, in_acked)) acked_in_ = in_acked;
  }

  // Carries `text` (whole lines) from side d, steered by the fuzzer.
  // `carried`: bytes of this turn sent before it (the Fast Open part of the
  // greeting, on the SYN-ACK), which the engine may still hold or have
  // dropped: the turn starts at them, so acks and retransmissions may cover
  // them. They precede any rewrite, so their output positions are their own.
  void Turn(int d, const std::string& text, Input& in, uint32_t carried = 0) {
    Side& s = side_[d];
    const uint32_t start = InEnd(d) - carried;
    const uint32_t out_start = carried ? start : OutEnd(d);
    uint32_t next = InEnd(d);
    s.in += text;
    const uint32_t end = InEnd(d);
    have_prev_ = false;
    last_ = {start, start};
    acked_in_ = start;
    const int nops = in.U8() % 24;
    for (int k = 0; k < nops && SeqLt(next, end); ++k) {
      const uint8_t b = in.U8();
      switch (b & 7) {
        case 0: case 1: case 2: {  // next piece
          const uint32_t stop = SeqLt(end, next + 1 + (b >> 3)) ? end : next + 1 + (b >> 3);
          Data(d, next, stop);
          next = stop;
          break;
        }
        case 3: {  // retransmit a range of this turn sent and not yet acked
          const uint32_t lo = SeqLt(acked_in_, next) ? acked_in_ : next;
          const uint32_t span = next - lo;
          if (span == 0) break;
          const uint32_t from = lo + in.U8() % span;
          const uint32_t to = std::min<uint32_t>(next - lo, from - lo + 1 + in.U8()) + lo;
          Data(d, from, to);
          break;
        }
        case 4: {  // reordering: a later piece before the bytes before it
          const uint32_t from = next + 1 + (b >> 3) % 16;
          if (!SeqLt(from, end)) break;
          const uint32_t want = from + 1 + in.U8() % 32;
          Data(d, from, SeqLt(end, want) ? end : want);
          reordered_ = true;
          break;
        }
        case 5: {  // pure ack (+ SACK) from the receiver
          // Offline, a capture's receiver acks original bytes the engine
          // may still hold; re-sending below such an ack after the ledger
          // forgot the point differs (documented limit), so offline pure
          // acks stay at the turn start.
          const uint32_t got = offline_ ? start : OutEnd(d);
          const uint32_t lo = offline_ ? start : out_start;
          const uint32_t p = lo + in.U8() % (got - lo + 1);
          PureAck(d, p, start, out_start);
          break;
        }
        case 6:  // duplicate of the last data segment (its unacked part)
          Data(d, SeqLt(last_.first, acked_in_) ? acked_in_ : last_.first, last_.second);
          break;
        case 7:  // everything left in one (GSO-sized) segment
          Data(d, next, end);
          next = end;
          break;
      }
    }
    Data(d, next, end);
    // Bytes the engine consumed without forwarding (a hold dropped at a gap)
    // are never acked: the sender retransmits from what the receiver acks
    // (live: the mapped ack; offline, where acks are not mapped back, the
    // whole turn).
    const int r = 1 - d;
    for (int round = 0; round < 4; ++round) {
      Send(r, InEnd(r), kTcpAck, "", PeerAck(d), false);
      const uint32_t from = offline_ ? acked_in_ : last_ack_;
      if (!offline_ && (SeqLt(from, start) || SeqLt(end, from))) {
        Fail("ack mapped outside the turn", from - start);
      }
      if (from == end) break;
      if (offline_ && round > 0) break;
      Data(d, from, end);
    }
    // The receiver acks the whole turn: must map to the sender's end.
    Send(r, InEnd(r), kTcpAck, "", PeerAck(d), true, MappedPeerAck(d));
  }

  // The server's SYN-ACK; nothing of the client's is acked yet, so its ack
  // maps to itself.
  void SynAck() {
    const uint32_t a = side_[0].isn + 1;
    Send(1, side_[1].isn, kTcpSyn | kTcpAck, SynAckData(), a, true, a);
    hs_.synack = true;
    tfo_sent_ = !tfo_.empty();
  }
  // What a SYN-ACK carries: the Fast Open bytes; again on a retransmission
  // only with TfoRetx().
  std::string SynAckData() const { return !tfo_sent_ || TfoRetx() ? tfo_ : std::string(); }
  // The client's ACK of the SYN-ACK (and of any Fast Open bytes on it).
  // Checked only when every Fast Open byte was forwarded: the engine may
  // hold back a part that could begin an announcement ("22"), and what an
  // ack of held bytes maps to is the turn's business (Turn flushes them).
  void ClientAck() {
    hs_ack_ = PeerAck(1);
    const bool all_out = side_[1].out.ContiguousEnd() == tfo_.size();
    Send(0, side_[0].isn + 1, kTcpAck, "", hs_ack_, all_out, MappedPeerAck(1));
    hs_.acked = true;
  }
  // Simultaneous open: the client answers the server's SYN with its own
  // SYN-ACK (same ISN as its SYN), acking the server's SYN only.
  void ClientSynAck() {
    const uint32_t a = side_[1].isn + 1;
    Send(0, side_[0].isn, kTcpSyn | kTcpAck, "", a, true, a);
    hs_.client_synack = true;
  }
  // Side d starts over at `isn`: its output is judged from isn + 1 on. No
  // data of that side has been exchanged yet (bar Fast Open bytes, which
  // the new connection's SYN-ACK carries again).
  void Rebase(int d, uint32_t isn) {
    side_[d].isn = isn;
    side_[d].out = Collector(isn + 1);
  }

  void AddLine(int d, const std::string& orig, const std::string& rw) {
    // Split multi-line texts so the weak oracle works line by line.
    size_t a = 0, b = 0;
    while (a < orig.size()) {
      const size_t ea = orig.find('\n', a) + 1;
      const size_t eb = rw.find('\n', b) + 1;
      side_[d].lines.push_back({orig.substr(a, ea - a), rw.substr(b, eb - b)});
      a = ea;
      b = eb;
    }
  }

  void Verify() const {
    for (int d = 0; d < 2; ++d) {
      const Side& s = side_[d];
      const std::string out = s.out.Contiguous();
      if (!reordered_) {
        std::string want;
        for (const Line& l : s.lines) want += l.rw;
        if (out != want) {
          std::fprintf(stderr, "dir %d\nwant:\n%s\ngot:\n%s\n", d, want.c_str(), out.c_str());
          Fail("output stream differs from input with rewrites applied");
        }
        continue;
      }
      size_t pos = 0;
      for (const Line& l : s.lines) {
        if (out.compare(pos, l.rw.size(), l.rw) == 0) {
          pos += l.rw.size();
        } else if (out.compare(pos, l.orig.size(), l.orig) == 0) {
          pos += l.orig.size();
        } else {
          std::fprintf(stderr, "dir %d at %zu: got:\n%s\nlines:\n", d, pos, out.c_str());
          for (const Line& x : s.lines) {
            std::fprintf(stderr, "  %s    -> %s", x.orig.c_str(), x.rw.c_str());
          }
          Fail("a line is neither its original nor its rewrite", pos);
        }
      }
      if (pos != out.size()) Fail("output longer than the input lines", pos, out.size());
    }
  }

  bool reordered_ = false;

 private:
  bool offline_;
  EngineConfig cfg_;
  struct Sink final : ExpectationSink {
    InstallResult Install(const Expectation&) override { return InstallResult::kOk; }
    void Remove(const Expectation&) override {}
  } sink_;
  NullLogger log_;
  Stats stats_;
  std::unique_ptr<IdentityResolver> resolver_;
  std::unique_ptr<Engine> engine_;
  Side side_[2];
  std::pair<uint32_t, uint32_t> last_{0, 0};
  uint32_t last_ack_ = 0;
  std::vector<std::pair<uint32_t, uint32_t>> last_sack_;
  bool have_prev_ = false;
  uint32_t prev_p_ = 0, prev_m_ = 0;
  uint32_t acked_in_ = 0;
  struct HandshakeState {
    bool synack = false;         // a SYN-ACK with the current server ISN seen
    bool acked = false;          // the client acked it (established)
    bool simul = false;          // the server sent its own SYN
    bool client_synack = false;  // the client answered that SYN
  } hs_;
  std::string tfo_;        // greeting bytes the SYN-ACK carries
  bool tfo_sent_ = false;  // a SYN-ACK of this connection carried them
  uint32_t hs_ack_ = 0;    // the ack of the client's handshake ACK
  bool late_dups_ = false;
  bool stale_ = false;  // sending a LateDup: output not collected
};

}  // namespace
}  // namespace ftpalg

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftpalg;
  if (size > 4096) return 0;
  Input in(data, size);
  const uint8_t mode = in.U8();
  const uint32_t c_isn = (mode & 2) ? 0xffffffffu - in.U8() : 1000u + in.U8() * 977u;
  const uint32_t s_isn = (mode & 4) ? 0x7fffffffu - in.U8() : 5000u;
  Harness h(mode & 1, c_isn, s_isn);
  const std::string greeting = "220 ready\r\n";
  h.Handshake((mode & 8) ? &in : nullptr, greeting);

  auto both = [&](int d, const std::string& t) {
    h.AddLine(d, t, t);
    h.Turn(d, t, in);
    h.LateDup(in);
  };
  h.AddLine(1, greeting, greeting);
  // The rest of the greeting after the Fast Open part.
  h.Turn(1, greeting.substr(h.tfo_len()), in, static_cast<uint32_t>(h.tfo_len()));
  h.LateDup(in);
  both(0, "USER anonymous\r\n");
  both(1, "331 ok\r\n");
  bool tls = false;             // the client's commands go inside TLS
  bool server_tls = false;      // the server's replies go inside TLS
  bool server_stopped = false;  // a cleartext reply right after a 234: never parsed again
  for (int turn = 0; turn < 10 && !in.empty(); ++turn) {
    const int k = 1 + in.U8() % 3;  // pipelined commands in one turn
    const Item* items[3];
    std::string cmds, replies;
    for (int i = 0; i < k; ++i) {
      const uint8_t pick = in.U8();
      if (tls) {
        items[i] = pick % 4 == 0 ? &kCcc : &kTlsData;
      } else {
        items[i] = &kMenu[pick % kMenuSize];
        if (items[i]->starts_tls && server_stopped) items[i] = &kMenu[0];  // its 234 is unseen
      }
      const Item& it = *items[i];
      std::string cmd = it.cmd ? it.cmd : kLong;
      if (&it == &kTlsData) cmd = kTlsCmd;
      if (&it == &kCcc) cmd = kCccCmd;
      const std::string rw = (!tls && *it.cmd_rw) ? it.cmd_rw : cmd;
      h.AddLine(0, cmd, rw);
      cmds += cmd;
      if (&it == &kCcc) tls = false;  // cleartext from the next command on
    }
    h.Turn(0, cmds, in);
    h.LateDup(in);
    for (int i = 0; i < k; ++i) {
      const Item& it = *items[i];
      if (&it == &kTlsData || &it == &kCcc) {
        const std::string& reply = &it == &kCcc ? kCccReply : kTlsReply;
        h.AddLine(1, reply, reply);
        replies += reply;
        if (&it == &kCcc) server_tls = false;
        continue;
      }
      if (server_tls) server_stopped = true;  // no record since the 234
      const bool parsed = !server_tls && !server_stopped;
      h.AddLine(1, it.reply, (parsed && *it.reply_rw) ? it.reply_rw : it.reply);
      replies += it.reply;
      if (it.starts_tls) tls = server_tls = true;
    }
    h.Turn(1, replies, in);
    h.LateDup(in);
  }
  h.Verify();
  return 0;
}
