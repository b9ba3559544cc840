// SPDX-License-Identifier: GPL-2.0-or-later
// bench/nfq_accept: the bare NFQUEUE round trip. Binds one queue (copy mode,
// whole packet, fail-open, like ftpalgd) and accepts every packet unchanged
// with its own verdict, sent at once. Runs until SIGTERM/SIGINT; prints the
// packets handled on exit.
//
//   nfq_accept QUEUE
#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace {

volatile sig_atomic_t g_stop = 0;
unsigned long long g_packets = 0;

void OnSignal(int) { g_stop = 1; }

int OnPacket(nfq_q_handle* qh, nfgenmsg*, nfq_data* nfa, void*) {
  const nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(nfa);
  if (ph == nullptr) return 0;
  ++g_packets;
  return nfq_set_verdict(qh, ntohl(ph->packet_id), NF_ACCEPT, 0, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: nfq_accept QUEUE\n");
    return 2;
  }
  const auto queue = static_cast<uint16_t>(std::atoi(argv[1]));
  struct sigaction sa {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: recv returns EINTR
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  nfq_handle* h = nfq_open();
  if (h == nullptr) {
    std::perror("nfq_accept: nfq_open");
    return 1;
  }
  nfq_q_handle* qh = nfq_create_queue(h, queue, &OnPacket, nullptr);
  if (qh == nullptr) {
    std::perror("nfq_accept: bind queue");
    nfq_close(h);
    return 1;
  }
  nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff);
  nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);
  const int fd = nfq_fd(h);
  const int bytes = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes);
  std::fprintf(stderr, "nfq_accept: ready on queue %u\n", queue);
  alignas(8) char buf[65536 + 4096];
  while (!g_stop) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == ENOBUFS) continue;
      std::perror("nfq_accept: recv");
      break;
    }
    nfq_handle_packet(h, buf, static_cast<int>(n));
  }
  nfq_destroy_queue(qh);
  nfq_close(h);
  std::fprintf(stderr, "nfq_accept: %llu packets\n", g_packets);
  return 0;
}
