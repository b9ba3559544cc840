// SPDX-License-Identifier: GPL-2.0-or-later
// bench/gen_real_capture: a large capture of real FTP control sessions,
// interleaved, for the replay benchmark (issue 13).
//
//   gen_real_capture --out FILE [--packets N] [--concurrent W] CAPTURE...
//
// Reads the FTP control packets (TCP port 21 on either side) of each real
// capture given (any link type libpcap reads: pcap, pcapng; Ethernet, SLL,
// raw IP, loopback) and replays copies of them, W copies open at a time,
// one packet of each open copy in turn, until N packets are written
// (Ethernet, microsecond pcap, 100 us apart). Copy j of a capture moves
// every client port (the side that is not port 21) by j * 101 (mod 64512,
// above 1023), so each copy is a connection of its own, and fixes the TCP
// checksum for it; addresses, sequence numbers and payloads are the
// capture's own, so the announcements a copy carries (PORT, EPRT, 227, 229,
// ...) are the real ones and are rewritten as in the original. Captures
// with no control packet are skipped (and named on stderr). Deterministic:
// the same inputs give the same bytes.
#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr uint16_t kControlPort = 21;

struct Packet {
  std::vector<uint8_t> ip;  // the IP packet, as captured
  size_t tcp = 0;           // offset of the TCP header in ip
  bool client_is_src = false;
};

using Session = std::vector<Packet>;  // one capture's control packets, in order

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// Offset of the IP header in a frame of link type dlt, or -1.
long IpOffset(int dlt, const uint8_t* f, size_t n) {
  switch (dlt) {
    case DLT_EN10MB: {
      size_t off = 12;
      while (off + 2 <= n && (Be16(f + off) == 0x8100 || Be16(f + off) == 0x88a8)) off += 4;
      if (off + 2 > n) return -1;
      const uint16_t t = Be16(f + off);
      return t == 0x0800 || t == 0x86dd ? static_cast<long>(off + 2) : -1;
    }
    case DLT_LINUX_SLL: return n >= 16 ? 16 : -1;
    case DLT_NULL:
    case DLT_LOOP: return n >= 4 ? 4 : -1;
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
      return 0;
    default: return -1;
  }
}

// The TCP header offset of an unfragmented IPv4/IPv6 TCP packet, or 0.
size_t TcpOffset(const uint8_t* ip, size_t n) {
  if (n >= 20 && (ip[0] >> 4) == 4) {
    const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
    if (ip[9] != 6 || ihl < 20 || (Be16(ip + 6) & 0x3fff) != 0) return 0;
    return n >= ihl + 20 ? ihl : 0;
  }
  if (n >= 60 && (ip[0] >> 4) == 6 && ip[6] == 6) return 40;
  return 0;
}

// Ones' complement checksum update for a 16-bit field going from old to new
// (RFC 1624, eqn. 3).
void AdjustChecksum(uint8_t* field, uint16_t old_v, uint16_t new_v) {
  uint32_t sum = static_cast<uint16_t>(~Be16(field)) + static_cast<uint32_t>(static_cast<uint16_t>(~old_v)) + new_v;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  Put16(field, static_cast<uint16_t>(~sum));
}

bool Load(const char* path, Session* out) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path, err);
  if (p == nullptr) {
    std::fprintf(stderr, "gen_real_capture: %s\n", err);
    return false;
  }
  const int dlt = pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(p, &h, &d) == 1) {
    const long l3 = IpOffset(dlt, d, h->caplen);
    if (l3 < 0 || h->caplen < h->len) continue;
    const uint8_t* ip = d + l3;
    size_t n = h->caplen - static_cast<size_t>(l3);
    if ((ip[0] >> 4) == 4 && n >= 20 && Be16(ip + 2) <= n) n = Be16(ip + 2);
    if ((ip[0] >> 4) == 6 && n >= 40 && 40u + Be16(ip + 4) <= n) n = 40u + Be16(ip + 4);
    const size_t tcp = TcpOffset(ip, n);
    if (tcp == 0) continue;
    const uint16_t sport = Be16(ip + tcp), dport = Be16(ip + tcp + 2);
    if ((sport == kControlPort) == (dport == kControlPort)) continue;
    out->push_back(Packet{std::vector<uint8_t>(ip, ip + n), tcp, dport == kControlPort});
  }
  pcap_close(p);
  return true;
}

class Writer {
 public:
  explicit Writer(FILE* f) : f_(f) {
    const uint32_t h[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1};
    std::fwrite(h, sizeof h, 1, f_);
  }
  void Write(uint64_t ts_us, const std::vector<uint8_t>& ip) {
    uint8_t eth[14] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
    if ((ip[0] >> 4) == 6) eth[12] = 0x86, eth[13] = 0xdd;
    const uint32_t h[4] = {static_cast<uint32_t>(ts_us / 1000000), static_cast<uint32_t>(ts_us % 1000000),
                           static_cast<uint32_t>(ip.size() + 14), static_cast<uint32_t>(ip.size() + 14)};
    std::fwrite(h, sizeof h, 1, f_);
    std::fwrite(eth, sizeof eth, 1, f_);
    std::fwrite(ip.data(), ip.size(), 1, f_);
  }

 private:
  FILE* f_;
};

// Packet i of copy j: the client port moved, the TCP checksum adjusted.
void CopyPacket(const Packet& p, uint64_t copy, std::vector<uint8_t>* out) {
  *out = p.ip;
  uint8_t* port = out->data() + p.tcp + (p.client_is_src ? 0 : 2);
  const uint16_t old_port = Be16(port);
  const uint16_t new_port = static_cast<uint16_t>(1024 + (old_port + copy * 101) % 64512);
  Put16(port, new_port);
  if (out->size() >= p.tcp + 18) AdjustChecksum(out->data() + p.tcp + 16, old_port, new_port);
}

}  // namespace

int main(int argc, char** argv) {
  const char* out_path = nullptr;
  uint64_t packets = 1000000, concurrent = 1000;
  std::vector<Session> sessions;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else if (a == "--packets" && i + 1 < argc) {
      packets = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--concurrent" && i + 1 < argc) {
      concurrent = std::strtoull(argv[++i], nullptr, 10);
    } else {
      Session s;
      if (!Load(argv[i], &s)) return 1;
      if (s.empty()) {
        std::fprintf(stderr, "gen_real_capture: %s: no control packets, skipped\n", argv[i]);
        continue;
      }
      sessions.push_back(std::move(s));
      names.push_back(argv[i]);
    }
  }
  if (out_path == nullptr || sessions.empty() || concurrent == 0) {
    std::fprintf(stderr, "usage: gen_real_capture --out FILE [--packets N] [--concurrent W] CAPTURE...\n");
    return 2;
  }
  FILE* f = std::fopen(out_path, "wb");
  if (f == nullptr) {
    std::perror(out_path);
    return 1;
  }
  Writer w(f);
  struct Open {
    size_t session;
    uint64_t copy;
    size_t next = 0;
  };
  std::vector<Open> open;
  uint64_t started = 0, copies_done = 0;
  auto start = [&]() {
    const size_t s = started % sessions.size();
    open.push_back(Open{s, started / sessions.size(), 0});
    ++started;
  };
  while (open.size() < concurrent) start();
  std::vector<uint8_t> buf;
  uint64_t written = 0, ts_us = 1700000000ull * 1000000;
  for (size_t k = 0; written < packets; k = (k + 1) % open.size()) {
    Open& o = open[k];
    CopyPacket(sessions[o.session][o.next], o.copy, &buf);
    w.Write(ts_us, buf);
    ts_us += 100;
    ++written;
    if (++o.next == sessions[o.session].size()) {
      ++copies_done;
      open[k] = Open{started % sessions.size(), started / sessions.size(), 0};
      ++started;
    }
  }
  if (std::fclose(f) != 0) {
    std::perror(out_path);
    return 1;
  }
  size_t tmpl = 0;
  for (const Session& s : sessions) tmpl += s.size();
  std::fprintf(stderr,
               "gen_real_capture: %s: %llu packets, %zu captures (%zu control packets), "
               "%llu copies started, %llu complete\n",
               out_path, static_cast<unsigned long long>(written), sessions.size(), tmpl,
               static_cast<unsigned long long>(started), static_cast<unsigned long long>(copies_done));
  return 0;
}
