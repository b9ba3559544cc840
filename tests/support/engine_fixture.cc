// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/support/engine_fixture.h"

namespace ftpalg::testing {

void StreamCollector::Add(uint32_t seq, const std::string& data) {
  if (data.empty()) return;
  if (!have_base_) {
    have_base_ = true;
    base_ = seq;
  }
  const uint32_t off = seq - base_;
  auto [it, inserted] = pieces_.emplace(off, data);
  if (!inserted && it->second.size() < data.size()) it->second = data;
}

std::string StreamCollector::From(uint32_t start) const {
  std::string out;
  const uint32_t first = start - base_;
  for (const auto& [off, data] : pieces_) {
    const uint32_t rel = off - first;
    if (rel > out.size()) {
      ADD_FAILURE() << "hole in output stream at " << out.size();
      return out;
    }
    const size_t overlap = std::min<size_t>(out.size() - rel, data.size());
    if (out.compare(rel, overlap, data, 0, overlap) != 0) {
      ADD_FAILURE() << "retransmitted output bytes differ at " << rel;
    }
    out += data.substr(overlap);
  }
  return out;
}

EngineTest::EngineTest() {
  cfg.public_v4 = IpAddress::Parse("203.0.113.1");
  cfg.public_v6 = IpAddress::Parse("2001:db8:1::1");
  Rebuild();
}

void EngineTest::Rebuild() {
  resolver = std::make_unique<IdentityResolver>(cfg);
  engine = std::make_unique<Engine>(cfg, sink, *resolver, log, stats);
}

Result EngineTest::Run(const TcpSpec& spec) {
  Result r;
  r.packet = BuildTcp(spec);
  const size_t len = r.packet.size();
  r.packet.resize(65535 + 1024);
  PacketBuffer b{r.packet.data(), len, r.packet.size()};
  r.decision = engine->Process(b, now_ms);
  r.packet.resize(b.len);
  if (!r.dropped()) {
    const PacketView v = View(r.packet);
    const bool from_client = v.dst.port == server.port;
    const uint32_t data_seq = v.seq + ((v.flags & kTcpSyn) ? 1 : 0);
    const std::string p = PayloadOf(r.packet);
    // A peer acknowledges bytes it received, not the sequence number of a
    // bare ACK (one sent for a segment kept beyond a hole sits past it).
    if (p.empty()) return r;
    if (from_client) {
      client_out_.Add(data_seq, p);
      if (data_seq + p.size() - c_out_next_ < (1u << 31)) {
        c_out_next_ = data_seq + static_cast<uint32_t>(p.size());
      }
    } else {
      server_out_.Add(data_seq, p);
      if (data_seq + p.size() - s_out_next_ < (1u << 31)) {
        s_out_next_ = data_seq + static_cast<uint32_t>(p.size());
      }
    }
  }
  return r;
}

Result EngineTest::ClientSends(const std::string& payload, uint8_t flags) {
  // The client acks what the engine's output of the server stream delivered,
  // mapped back: in live mode the client only knows input-space positions,
  // which the engine produced when it forwarded the server's segments.
  TcpSpec s{client, server, c_next_, s_out_next_, flags, payload, {}, false};
  c_next_ += static_cast<uint32_t>(payload.size());
  return Run(s);
}

Result EngineTest::ServerSends(const std::string& payload, uint8_t flags) {
  TcpSpec s{server, client, s_next_, c_out_next_, flags, payload, {}, false};
  s_next_ += static_cast<uint32_t>(payload.size());
  return Run(s);
}

Result EngineTest::ClientSendsAt(uint32_t seq, const std::string& payload) {
  TcpSpec s{client, server, seq, s_out_next_, kTcpAck | kTcpPsh, payload, {}, false};
  return Run(s);
}

void EngineTest::Handshake() {
  Run(TcpSpec{client, server, c_isn_, 0, kTcpSyn, "", {}, false});
  Run(TcpSpec{server, client, s_isn_, c_isn_ + 1, kTcpSyn | kTcpAck, "", {}, false});
  c_next_ = c_isn_ + 1;
  s_next_ = s_isn_ + 1;
  c_out_next_ = c_next_;
  s_out_next_ = s_next_;
  Run(TcpSpec{client, server, c_next_, s_next_, kTcpAck, "", {}, false});
}

void EngineTest::Greet() {
  ServerSends("220 ready\r\n");
  ClientSends("USER anonymous\r\n");
  ServerSends("331 ok\r\n");
}

}  // namespace ftpalg::testing
