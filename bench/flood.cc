// SPDX-License-Identifier: GPL-2.0-or-later
// bench/flood: a bounded, paced generator of FTP control packets for the
// queue-throughput benchmark. Sends COUNT TCP segments (ACK|PSH, payload
// "NOOP\r\n", in-order sequence numbers) round-robin over FLOWS client
// connections SRC:40000+i -> DST:21 through a raw socket, at RATE packets/s
// (paced in bursts of 16 with sendmmsg), and prints what it achieved.
//
//   flood SRC DST RATE COUNT FLOWS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr int kBurst = 16;
constexpr char kPayload[] = "NOOP\r\n";
constexpr size_t kPayloadLen = sizeof kPayload - 1;
constexpr size_t kLen = 20 + 20 + kPayloadLen;

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

uint32_t Sum16(const uint8_t* p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}

uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void Build(uint8_t* p, in_addr src, in_addr dst, uint16_t sport, uint32_t seq) {
  std::memset(p, 0, kLen);
  p[0] = 0x45;
  p[2] = 0;
  p[3] = static_cast<uint8_t>(kLen);
  p[6] = 0x40;
  p[8] = 64;
  p[9] = 6;
  std::memcpy(p + 12, &src, 4);
  std::memcpy(p + 16, &dst, 4);
  uint8_t* t = p + 20;
  t[0] = static_cast<uint8_t>(sport >> 8);
  t[1] = static_cast<uint8_t>(sport);
  t[3] = 21;
  t[4] = static_cast<uint8_t>(seq >> 24);
  t[5] = static_cast<uint8_t>(seq >> 16);
  t[6] = static_cast<uint8_t>(seq >> 8);
  t[7] = static_cast<uint8_t>(seq);
  t[11] = 1;  // ack 1
  t[12] = 5 << 4;
  t[13] = 0x18;
  t[14] = 0xff;
  std::memcpy(t + 20, kPayload, kPayloadLen);
  uint8_t pseudo[12] = {};
  std::memcpy(pseudo, &src, 4);
  std::memcpy(pseudo + 4, &dst, 4);
  pseudo[9] = 6;
  pseudo[11] = static_cast<uint8_t>(20 + kPayloadLen);
  const uint16_t c = Fold(Sum16(t, 20 + kPayloadLen, Sum16(pseudo, 12, 0)));
  t[16] = static_cast<uint8_t>(c >> 8);
  t[17] = static_cast<uint8_t>(c);
  const uint16_t ic = Fold(Sum16(p, 20, 0));
  p[10] = static_cast<uint8_t>(ic >> 8);
  p[11] = static_cast<uint8_t>(ic);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: flood SRC DST RATE COUNT FLOWS\n");
    return 2;
  }
  in_addr src{}, dst{};
  if (inet_pton(AF_INET, argv[1], &src) != 1 || inet_pton(AF_INET, argv[2], &dst) != 1) return 2;
  const double rate = std::atof(argv[3]);
  const long count = std::atol(argv[4]);
  const int flows = std::atoi(argv[5]);
  if (rate <= 0 || count <= 0 || count > 50000000 || flows <= 0 || flows > 20000) return 2;
  const int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) {
    std::perror("flood: raw socket");
    return 1;
  }
  const int bytes = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr = dst;
  std::vector<uint32_t> seq(static_cast<size_t>(flows), 1000);
  uint8_t pkts[kBurst][kLen];
  iovec iov[kBurst];
  mmsghdr msgs[kBurst];
  std::memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < kBurst; ++i) {
    iov[i] = {pkts[i], kLen};
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof to;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const double ns_per_packet = 1e9 / rate;
  long sent = 0, errors = 0, flow = 0;
  const uint64_t t0 = NowNs();
  while (sent < count) {
    // Pace: wait until this burst is due (spin; the generator owns its CPU).
    const uint64_t due = t0 + static_cast<uint64_t>(static_cast<double>(sent) * ns_per_packet);
    while (NowNs() < due) {
    }
    const int n = static_cast<int>(count - sent < kBurst ? count - sent : kBurst);
    for (int i = 0; i < n; ++i) {
      Build(pkts[i], src, dst, static_cast<uint16_t>(40000 + flow), seq[flow]);
      seq[flow] += kPayloadLen;
      flow = (flow + 1) % flows;
    }
    const int r = sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
    if (r < 0) {
      ++errors;
      if (errors > 1000000) break;
      continue;  // (the sequence numbers moved on: a gap, still in order)
    }
    sent += r;
  }
  const uint64_t t1 = NowNs();
  std::printf("sent=%ld seconds=%.3f achieved_pps=%.0f send_errors=%ld\n", sent,
              static_cast<double>(t1 - t0) / 1e9,
              static_cast<double>(sent) * 1e9 / static_cast<double>(t1 - t0), errors);
  close(fd);
  return 0;
}
