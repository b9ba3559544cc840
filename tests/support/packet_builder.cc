// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/support/packet_builder.h"

#include <algorithm>
#include <stdexcept>

namespace ftpalg::testing {

Endpoint Ep(const char* addr, uint16_t port) {
  auto a = IpAddress::Parse(addr);
  if (!a) throw std::invalid_argument(addr);
  return Endpoint{*a, port};
}

std::vector<uint8_t> BuildTcp(const TcpSpec& s) {
  std::vector<uint8_t> opts;
  if (!s.sack.empty()) {
    opts = {1, 1, 5, static_cast<uint8_t>(2 + 8 * s.sack.size())};
    for (auto [l, r] : s.sack) {
      for (uint32_t v : {l, r}) {
        for (int sh = 24; sh >= 0; sh -= 8) opts.push_back(static_cast<uint8_t>(v >> sh));
      }
    }
  }
  const size_t tcp_len = 20 + opts.size() + s.payload.size();
  const bool v6 = s.src.addr.family == Family::kV6;
  const size_t ext = (v6 && s.ipv6_ext_header) ? 8 : 0;
  const size_t ip_len = v6 ? 40 + ext : 20;
  std::vector<uint8_t> p(ip_len + tcp_len, 0);
  if (v6) {
    p[0] = 0x60;
    StoreBe16(&p[4], static_cast<uint16_t>(ext + tcp_len));
    p[6] = ext ? 60 : 6;
    p[7] = 64;
    std::copy(s.src.addr.bytes.begin(), s.src.addr.bytes.end(), p.begin() + 8);
    std::copy(s.dst.addr.bytes.begin(), s.dst.addr.bytes.end(), p.begin() + 24);
    if (ext) {
      p[40] = 6;  // next header TCP, length 0 (8 bytes), PadN
      p[41] = 0;
      p[42] = 1;
      p[43] = 4;
    }
  } else {
    p[0] = 0x45;
    StoreBe16(&p[2], static_cast<uint16_t>(p.size()));
    p[6] = 0x40;  // DF
    p[8] = 64;
    p[9] = 6;
    std::copy_n(s.src.addr.bytes.begin(), 4, p.begin() + 12);
    std::copy_n(s.dst.addr.bytes.begin(), 4, p.begin() + 16);
  }
  uint8_t* t = &p[ip_len];
  StoreBe16(t, s.src.port);
  StoreBe16(t + 2, s.dst.port);
  StoreBe32(t + 4, s.seq);
  StoreBe32(t + 8, s.ack);
  t[12] = static_cast<uint8_t>(((20 + opts.size()) / 4) << 4);
  t[13] = s.flags;
  StoreBe16(t + 14, 65535);
  std::copy(opts.begin(), opts.end(), t + 20);
  std::copy(s.payload.begin(), s.payload.end(), t + 20 + opts.size());
  PacketView v;
  if (ParsePacket(p.data(), p.size(), &v) != PacketError::kNone) {
    throw std::logic_error("builder made an unparseable packet");
  }
  FinalizePacket(p.data(), v);
  return p;
}

PacketView View(const std::vector<uint8_t>& packet) {
  PacketView v;
  ParsePacket(packet.data(), packet.size(), &v);
  return v;
}

std::string PayloadOf(const std::vector<uint8_t>& packet) {
  const PacketView v = View(packet);
  return std::string(reinterpret_cast<const char*>(packet.data()) + v.payload_offset,
                     v.payload_len);
}

std::vector<std::pair<uint32_t, uint32_t>> SackOf(const std::vector<uint8_t>& packet) {
  const PacketView v = View(packet);
  std::vector<std::pair<uint32_t, uint32_t>> out;
  const uint8_t* t = packet.data() + v.tcp_offset;
  size_t i = 20;
  while (i < v.tcp_header_len) {
    if (t[i] == 0) break;
    if (t[i] == 1) {
      ++i;
      continue;
    }
    const size_t len = t[i + 1];
    if (len < 2) break;
    if (t[i] == 5) {
      for (size_t e = i + 2; e + 8 <= i + len; e += 8) {
        out.emplace_back(LoadBe32(t + e), LoadBe32(t + e + 4));
      }
    }
    i += len;
  }
  return out;
}

}  // namespace ftpalg::testing
