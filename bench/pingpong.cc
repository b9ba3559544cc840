// SPDX-License-Identifier: GPL-2.0-or-later
// bench/pingpong: request/response latency over one FTP-like control
// connection (TCP_NODELAY).
//
//   pingpong server ADDR PORT
//       Accepts connections one after another; sends "220 pingpong ready",
//       then answers every line with "200 NOOP ok". Runs until killed.
//   pingpong client ADDR PORT COUNT WARMUP
//       Connects, reads the greeting, sends WARMUP + COUNT "NOOP" lines one
//       at a time and prints "median_us=.. p99_us=.. count=.." for the
//       last COUNT round trips.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

bool SendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads up to and including the next '\n' (lines are short; one read
// usually suffices). Returns false on EOF/error.
bool ReadLine(int fd, char* buf, size_t cap) {
  size_t len = 0;
  while (len < cap) {
    const ssize_t r = recv(fd, buf + len, cap - len, 0);
    if (r <= 0) return false;
    len += static_cast<size_t>(r);
    if (std::memchr(buf, '\n', len) != nullptr) return true;
  }
  return false;
}

bool Address(const char* addr, const char* port, sockaddr_in* sa) {
  std::memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
  return inet_pton(AF_INET, addr, &sa->sin_addr) == 1;
}

void NoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int Server(const char* addr, const char* port) {
  sockaddr_in sa;
  if (!Address(addr, port, &sa)) return 2;
  const int ls = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || listen(ls, 16) < 0) {
    std::perror("pingpong: bind/listen");
    return 1;
  }
  for (;;) {
    const int fd = accept(ls, nullptr, nullptr);
    if (fd < 0) continue;
    NoDelay(fd);
    static const char kGreeting[] = "220 pingpong ready\r\n";
    static const char kReply[] = "200 NOOP ok\r\n";
    if (SendAll(fd, kGreeting, sizeof kGreeting - 1)) {
      char buf[512];
      while (ReadLine(fd, buf, sizeof buf)) {
        if (!SendAll(fd, kReply, sizeof kReply - 1)) break;
      }
    }
    close(fd);
  }
}

int Client(const char* addr, const char* port, long count, long warmup) {
  sockaddr_in sa;
  if (!Address(addr, port, &sa) || count <= 0 || warmup < 0) return 2;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    std::perror("pingpong: connect");
    return 1;
  }
  NoDelay(fd);
  char buf[512];
  if (!ReadLine(fd, buf, sizeof buf)) {
    std::fprintf(stderr, "pingpong: no greeting\n");
    return 1;
  }
  std::vector<double> us;
  us.reserve(static_cast<size_t>(count));
  static const char kNoop[] = "NOOP\r\n";
  for (long i = 0; i < warmup + count; ++i) {
    timespec a{}, b{};
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (!SendAll(fd, kNoop, sizeof kNoop - 1) || !ReadLine(fd, buf, sizeof buf)) {
      std::fprintf(stderr, "pingpong: connection lost after %ld round trips\n", i);
      return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (i >= warmup) {
      us.push_back(static_cast<double>(b.tv_sec - a.tv_sec) * 1e6 +
                   static_cast<double>(b.tv_nsec - a.tv_nsec) / 1e3);
    }
  }
  close(fd);
  std::sort(us.begin(), us.end());
  const double median = us[us.size() / 2];
  const double p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  std::printf("median_us=%.1f p99_us=%.1f count=%zu\n", median, p99, us.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "server" && argc == 4) return Server(argv[2], argv[3]);
  if (mode == "client" && argc == 6) {
    return Client(argv[2], argv[3], std::atol(argv[4]), std::atol(argv[5]));
  }
  std::fprintf(stderr,
               "usage: pingpong server ADDR PORT | client ADDR PORT COUNT WARMUP\n");
  return 2;
}
