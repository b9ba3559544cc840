// SPDX-License-Identifier: GPL-2.0-or-later
// bench/gen_capture: writes a large deterministic synthetic FTP capture
// (Ethernet, microsecond pcap) for the replay benchmark.
//
//   gen_capture --out FILE [--packets N] [--sessions S] [--concurrent W]
//
// S control connections, W of them open at any time, interleaved round-robin.
// Every session: handshake, 220 greeting, login, then rounds of
//   PORT (inside address: rewritten) / 200, LIST / 150 / 226,
//   PASV / 227 (public server: expectation, no rewrite), RETR / 150 / 226,
// with a retransmitted PORT (rewrite re-applied) answered by an ACK carrying
// a D-SACK block every 3rd round, a PORT split across two segments (held
// back, merged) every 5th round, then QUIT / 221 / FIN. Output stops after N
// packets (so a shorter capture is a prefix of a longer one).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;

uint32_t Sum16(const uint8_t* p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}

uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void Put32(uint8_t* p, uint32_t v) {
  Put16(p, static_cast<uint16_t>(v >> 16));
  Put16(p + 2, static_cast<uint16_t>(v));
}

struct Segment {
  bool from_client;
  uint8_t flags;
  uint32_t seq, ack;
  std::string payload;
  bool sack = false;
  uint32_t sack_left = 0, sack_right = 0;
};

class Writer {
 public:
  explicit Writer(FILE* f) : f_(f) {
    uint8_t h[24] = {};
    const uint32_t magic = 0xa1b2c3d4, snap = 65535, link = 1;
    std::memcpy(h, &magic, 4);
    const uint16_t major = 2, minor = 4;
    std::memcpy(h + 4, &major, 2);
    std::memcpy(h + 6, &minor, 2);
    std::memcpy(h + 16, &snap, 4);
    std::memcpy(h + 20, &link, 4);
    buf_.assign(h, h + 24);
  }

  void Add(uint32_t client, uint16_t cport, uint32_t server, const Segment& s) {
    uint8_t pkt[1600];
    const size_t opt = s.sack ? 12 : 0;  // NOP NOP SACK(10)
    const size_t tcp_len = 20 + opt;
    const size_t ip_len = 20 + tcp_len + s.payload.size();
    uint8_t* eth = pkt;
    static const uint8_t kMacC[6] = {2, 0, 0, 0, 0, 1}, kMacS[6] = {2, 0, 0, 0, 0, 2};
    std::memcpy(eth, s.from_client ? kMacS : kMacC, 6);
    std::memcpy(eth + 6, s.from_client ? kMacC : kMacS, 6);
    Put16(eth + 12, 0x0800);
    uint8_t* ip = eth + 14;
    std::memset(ip, 0, 20);
    ip[0] = 0x45;
    Put16(ip + 2, static_cast<uint16_t>(ip_len));
    Put16(ip + 4, static_cast<uint16_t>(ip_id_++));
    Put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    const uint32_t src = s.from_client ? client : server;
    const uint32_t dst = s.from_client ? server : client;
    Put32(ip + 12, src);
    Put32(ip + 16, dst);
    Put16(ip + 10, Fold(Sum16(ip, 20, 0)));
    uint8_t* tcp = ip + 20;
    std::memset(tcp, 0, tcp_len);
    Put16(tcp, s.from_client ? cport : 21);
    Put16(tcp + 2, s.from_client ? 21 : cport);
    Put32(tcp + 4, s.seq);
    Put32(tcp + 8, s.ack);
    tcp[12] = static_cast<uint8_t>((tcp_len / 4) << 4);
    tcp[13] = s.flags;
    Put16(tcp + 14, 64240);
    if (s.sack) {
      tcp[20] = 1;
      tcp[21] = 1;
      tcp[22] = 5;
      tcp[23] = 10;
      Put32(tcp + 24, s.sack_left);
      Put32(tcp + 28, s.sack_right);
    }
    std::memcpy(tcp + tcp_len, s.payload.data(), s.payload.size());
    uint8_t pseudo[12];
    Put32(pseudo, src);
    Put32(pseudo + 4, dst);
    pseudo[8] = 0;
    pseudo[9] = 6;
    Put16(pseudo + 10, static_cast<uint16_t>(tcp_len + s.payload.size()));
    Put16(tcp + 16, Fold(Sum16(tcp, tcp_len + s.payload.size(), Sum16(pseudo, 12, 0))));

    const uint32_t frame = static_cast<uint32_t>(14 + ip_len);
    uint32_t rec[4] = {static_cast<uint32_t>(1700000000 + t_us_ / 1000000),
                       static_cast<uint32_t>(t_us_ % 1000000), frame, frame};
    t_us_ += 1000;  // 1000 packets/s of capture time
    const auto* r = reinterpret_cast<const uint8_t*>(rec);
    buf_.insert(buf_.end(), r, r + 16);
    buf_.insert(buf_.end(), pkt, pkt + frame);
    ++count_;
    if (buf_.size() > (8u << 20)) Flush();
  }

  void Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      std::perror("gen_capture: write");
      std::exit(1);
    }
    buf_.clear();
  }

  uint64_t count() const { return count_; }

 private:
  FILE* f_;
  std::vector<uint8_t> buf_;
  uint64_t t_us_ = 0;
  uint32_t ip_id_ = 1;
  uint64_t count_ = 0;
};

class Session {
 public:
  Session(uint32_t index, uint32_t rounds) : index_(index) {
    client_ = (10u << 24) | (((index / 250) % 65536) << 8) | (2 + index % 250);
    cport_ = static_cast<uint16_t>(32768 + index % 28000);
    server_ = (198u << 24) | (51u << 16) | (100u << 8) | (1 + index % 200);
    rng_ = index * 2654435761u + 1;
    c_ = 1000000 + index * 7919u;
    s_ = 2000000000u + index * 104729u;
    Script(rounds);
  }

  bool done() const { return next_ >= segs_.size(); }
  const Segment& Next() { return segs_[next_++]; }
  uint32_t client() const { return client_; }
  uint16_t cport() const { return cport_; }
  uint32_t server() const { return server_; }

 private:
  uint32_t Rand() {
    rng_ = rng_ * 1103515245u + 12345u;
    return rng_ >> 8;
  }
  // Client data: advances the client's sequence; returns the segment index.
  size_t C(std::string text, uint8_t flags = kAck | kPsh) {
    segs_.push_back({true, flags, c_, s_, std::move(text)});
    c_ += static_cast<uint32_t>(segs_.back().payload.size());
    return segs_.size() - 1;
  }
  size_t S(std::string text, uint8_t flags = kAck | kPsh) {
    segs_.push_back({false, flags, s_, c_, std::move(text)});
    s_ += static_cast<uint32_t>(segs_.back().payload.size());
    return segs_.size() - 1;
  }
  std::string PortLine() {
    const uint16_t p = static_cast<uint16_t>(1024 + Rand() % 60000);
    char b[64];
    std::snprintf(b, sizeof b, "PORT %u,%u,%u,%u,%u,%u\r\n", client_ >> 24,
                  (client_ >> 16) & 255, (client_ >> 8) & 255, client_ & 255,
                  p >> 8, p & 255);
    return b;
  }
  std::string PasvReply() {
    const uint16_t p = static_cast<uint16_t>(30000 + Rand() % 30000);
    char b[96];
    std::snprintf(b, sizeof b, "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).\r\n",
                  server_ >> 24, (server_ >> 16) & 255, (server_ >> 8) & 255,
                  server_ & 255, p >> 8, p & 255);
    return b;
  }

  void Script(uint32_t rounds) {
    segs_.push_back({true, kSyn, c_ - 1, 0, ""});
    segs_.push_back({false, kSyn | kAck, s_ - 1, c_, ""});
    C("", kAck);
    S("220 (bench FTP server)\r\n");
    C("USER anonymous\r\n");
    S("331 Please specify the password.\r\n");
    C("PASS bench@\r\n");
    S("230 Login successful.\r\n");
    for (uint32_t r = 0; r < rounds; ++r) {
      const std::string port = PortLine();
      if (r % 5 == 4) {
        C(port.substr(0, 12));
        C(port.substr(12));
      } else {
        const size_t i = C(port);
        if (r % 3 == 1) {
          Segment again = segs_[i];  // retransmission: rewrite re-applied
          segs_.push_back(again);
          // The server acks it with a D-SACK block for the duplicate.
          S("200 PORT command successful. Consider using PASV.\r\n");
          segs_.back().sack = true;
          segs_.back().sack_left = again.seq;
          segs_.back().sack_right = again.seq + static_cast<uint32_t>(again.payload.size());
          goto list;
        }
      }
      S("200 PORT command successful. Consider using PASV.\r\n");
    list:
      C("LIST\r\n");
      S("150 Here comes the directory listing.\r\n");
      S("226 Directory send OK.\r\n");
      C("PASV\r\n");
      S(PasvReply());
      C("RETR file" + std::to_string(index_ % 100) + ".bin\r\n");
      S("150 Opening BINARY mode data connection for file.bin (1048576 bytes).\r\n");
      S("226 Transfer complete.\r\n");
      C("", kAck);
    }
    C("QUIT\r\n");
    S("221 Goodbye.\r\n");
    segs_.push_back({false, kFin | kAck, s_, c_, ""});
    ++s_;
    segs_.push_back({true, kFin | kAck, c_, s_, ""});
    ++c_;
    segs_.push_back({false, kAck, s_, c_, ""});
  }

  uint32_t index_;
  uint32_t client_, server_;
  uint16_t cport_;
  uint32_t rng_;
  uint32_t c_, s_;
  std::vector<Segment> segs_;
  size_t next_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string out;
  uint64_t packets = 1000000;
  uint32_t sessions = 10000, concurrent = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view a = argv[i];
    if (a == "--out") {
      out = argv[i + 1];
    } else if (a == "--packets") {
      packets = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (a == "--sessions") {
      sessions = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    } else if (a == "--concurrent") {
      concurrent = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    } else {
      std::fprintf(stderr, "gen_capture: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (out.empty() || sessions == 0 || concurrent == 0) {
    std::fprintf(stderr,
                 "usage: gen_capture --out FILE [--packets N] [--sessions S] "
                 "[--concurrent W]\n");
    return 2;
  }
  if (concurrent > sessions) concurrent = sessions;
  // Rounds per session so that S sessions make about N packets (13 setup and
  // teardown packets, about 11.5 per round).
  const double per = static_cast<double>(packets) / sessions;
  const uint32_t rounds = per > 26 ? static_cast<uint32_t>((per - 13) / 11.5 + 0.999) : 1;

  FILE* f = std::fopen(out.c_str(), "wb");
  if (f == nullptr) {
    std::perror(out.c_str());
    return 1;
  }
  Writer w(f);
  std::vector<Session> active;
  active.reserve(concurrent);
  uint32_t started = 0;
  for (; started < concurrent; ++started) active.emplace_back(started, rounds);
  while (w.count() < packets && !active.empty()) {
    for (size_t i = 0; i < active.size() && w.count() < packets;) {
      Session& s = active[i];
      w.Add(s.client(), s.cport(), s.server(), s.Next());
      if (s.done()) {
        if (started < sessions) {
          s = Session(started++, rounds);
        } else {
          s = std::move(active.back());
          active.pop_back();
          continue;
        }
      }
      ++i;
    }
  }
  w.Flush();
  if (std::fclose(f) != 0) {
    std::perror(out.c_str());
    return 1;
  }
  std::fprintf(stderr, "gen_capture: %s: %llu packets, %u sessions (%u rounds each)\n",
               out.c_str(), static_cast<unsigned long long>(w.count()), started, rounds);
  return 0;
}
