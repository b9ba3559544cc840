// SPDX-License-Identifier: GPL-2.0-or-later
//
// impair_bridge: a userspace two-port bridge for the impaired e2e lab
// (tests/e2e/impaired.sh). It copies every frame that arrives on one
// interface out of the other, through AF_PACKET raw sockets, and impairs the
// TCP frames in both directions: random loss, duplication, and a random delay
// per frame (jitter) that reorders them. A seed makes the decisions
// reproducible; the seed and the profile are printed at start, the counters
// at exit (SIGTERM / SIGINT).
//
//   impair_bridge --a IF --b IF [--seed N] [--loss P] [--dup P]
//                 [--delay-min-us U] [--delay-max-us U] [--max-queue N]
//                 [--name LABEL]
//
// Only frames that carry TCP (IPv4 or IPv6, no extension headers) are
// impaired; ARP, neighbour discovery and everything else are forwarded at
// once, so address resolution is not slowed down by the profile.
//
// The veths the bridge sits between must have checksum offload, TSO, GSO and
// GRO disabled (ethtool -K): otherwise frames arrive with partial checksums or
// larger than the MTU. Such frames are still forwarded, and counted
// (csum_partial, too_big) so that a misconfigured lab shows up in the counters.
//
// Every queue and loop is bounded: at most --max-queue frames wait (per
// direction; an arriving frame beyond that is dropped and counted as
// overflow), and each poll round reads at most a fixed batch per socket.

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// splitmix64 seeding a xoshiro256** generator: small, fast, and the same
// sequence on every platform for a given seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t Between(uint64_t lo, uint64_t hi) {  // [lo, hi]
    if (hi <= lo) return lo;
    return lo + Next() % (hi - lo + 1);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

uint64_t NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000ULL + static_cast<uint64_t>(ts.tv_nsec) / 1000ULL;
}

struct Options {
  std::string a, b, name;
  uint64_t seed = 1;
  double loss = 0.0, dup = 0.0;
  uint64_t delay_min_us = 0, delay_max_us = 0;
  size_t max_queue = 4096;
};

struct Counters {
  uint64_t rx = 0, tcp = 0, sent = 0, dropped = 0, duplicated = 0, reordered = 0;
  uint64_t overflow = 0, send_errors = 0, csum_partial = 0, too_big = 0;
};

struct Frame {
  uint64_t due_us;
  uint64_t order;  // arrival order in its direction (reorder accounting)
  uint64_t tiebreak;
  int dir;         // 0: a->b, 1: b->a
  std::vector<uint8_t> bytes;
};
struct Later {
  bool operator()(const Frame& x, const Frame& y) const {
    return x.due_us != y.due_us ? x.due_us > y.due_us : x.tiebreak > y.tiebreak;
  }
};

constexpr size_t kFrameMax = 65536 + 64;
constexpr int kBatch = 64;
constexpr size_t kMtuFrame = 1514;

// True when the Ethernet frame carries TCP (IPv4, or IPv6 with TCP as the
// first next header).
bool IsTcp(const uint8_t* p, size_t n) {
  if (n < 14) return false;
  size_t off = 12;
  uint16_t type = static_cast<uint16_t>(p[off] << 8 | p[off + 1]);
  off += 2;
  if (type == 0x8100 && n >= off + 4) {  // one VLAN tag
    type = static_cast<uint16_t>(p[off + 2] << 8 | p[off + 3]);
    off += 4;
  }
  if (type == 0x0800) return n >= off + 20 && p[off + 9] == 6;
  if (type == 0x86dd) return n >= off + 40 && p[off + 6] == 6;
  return false;
}

int OpenPort(const std::string& ifname) {
  const unsigned idx = if_nametoindex(ifname.c_str());
  if (idx == 0) {
    std::fprintf(stderr, "impair_bridge: no interface %s: %s\n", ifname.c_str(), std::strerror(errno));
    return -1;
  }
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) {
    std::fprintf(stderr, "impair_bridge: socket(AF_PACKET): %s\n", std::strerror(errno));
    return -1;
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(idx);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    std::fprintf(stderr, "impair_bridge: bind %s: %s\n", ifname.c_str(), std::strerror(errno));
    close(fd);
    return -1;
  }
  packet_mreq mr{};
  mr.mr_ifindex = static_cast<int>(idx);
  mr.mr_type = PACKET_MR_PROMISC;
  setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr);
  const int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
  const int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
  // Discard whatever arrived between socket() and bind() (other interfaces).
  uint8_t scratch[2048];
  for (int i = 0; i < 1024 && recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) >= 0; ++i) {
  }
  return fd;
}

bool ParseU64(const char* s, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0') return false;
  *out = v;
  return true;
}
bool ParseProb(const char* s, double* out) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0)) return false;
  *out = v;
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: impair_bridge --a IF --b IF [--seed N] [--loss P] [--dup P]\n"
               "       [--delay-min-us U] [--delay-max-us U] [--max-queue N] [--name LABEL]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* v = argv[++i];
    uint64_t u = 0;
    bool ok = true;
    if (k == "--a") {
      o.a = v;
    } else if (k == "--b") {
      o.b = v;
    } else if (k == "--name") {
      o.name = v;
    } else if (k == "--seed") {
      ok = ParseU64(v, &o.seed);
    } else if (k == "--loss") {
      ok = ParseProb(v, &o.loss);
    } else if (k == "--dup") {
      ok = ParseProb(v, &o.dup);
    } else if (k == "--delay-min-us") {
      ok = ParseU64(v, &o.delay_min_us);
    } else if (k == "--delay-max-us") {
      ok = ParseU64(v, &o.delay_max_us);
    } else if (k == "--max-queue") {
      ok = ParseU64(v, &u) && u > 0 && u <= 1000000;
      o.max_queue = static_cast<size_t>(u);
    } else {
      return Usage();
    }
    if (!ok) {
      std::fprintf(stderr, "impair_bridge: bad value for %s: %s\n", k.c_str(), v);
      return 2;
    }
  }
  if (o.a.empty() || o.b.empty() || o.delay_max_us < o.delay_min_us || o.delay_max_us > 10000000) {
    return Usage();
  }
  if (o.name.empty()) o.name = o.a + "<->" + o.b;

  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const int fds[2] = {OpenPort(o.a), OpenPort(o.b)};
  if (fds[0] < 0 || fds[1] < 0) return 1;

  Rng rng(o.seed);
  Counters c[2];
  uint64_t arrivals[2] = {0, 0};
  uint64_t last_sent_order[2] = {0, 0};
  size_t queued[2] = {0, 0};
  uint64_t tiebreak = 0;
  std::priority_queue<Frame, std::vector<Frame>, Later> heap;
  std::vector<uint8_t> buf(kFrameMax);

  std::printf("impair_bridge %s: seed %" PRIu64 " loss %.4f dup %.4f delay %" PRIu64 "-%" PRIu64
              " us (TCP frames only), max queue %zu per direction: ready\n",
              o.name.c_str(), o.seed, o.loss, o.dup, o.delay_min_us, o.delay_max_us, o.max_queue);
  std::fflush(stdout);

  auto enqueue = [&](int dir, const uint8_t* p, size_t n, uint64_t now, bool impair) {
    if (queued[dir] >= o.max_queue) {
      ++c[dir].overflow;
      return;
    }
    const uint64_t delay = impair ? rng.Between(o.delay_min_us, o.delay_max_us) : 0;
    heap.push(Frame{now + delay, arrivals[dir], ++tiebreak, dir, std::vector<uint8_t>(p, p + n)});
    ++queued[dir];
  };

  while (!g_stop) {
    // Release every frame that is due.
    uint64_t now = NowUs();
    for (int budget = 4096; budget > 0 && !heap.empty() && heap.top().due_us <= now; --budget) {
      const Frame& f = heap.top();
      const int dir = f.dir;
      const int out = fds[1 - dir];
      if (send(out, f.bytes.data(), f.bytes.size(), 0) < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
          break;  // socket full: retry on the next round (the frame stays due)
        }
        ++c[dir].send_errors;
      } else {
        ++c[dir].sent;
        if (f.order < last_sent_order[dir]) ++c[dir].reordered;
        if (f.order > last_sent_order[dir]) last_sent_order[dir] = f.order;
      }
      --queued[dir];
      heap.pop();
    }

    int timeout_ms = 200;
    if (!heap.empty()) {
      now = NowUs();
      const uint64_t due = heap.top().due_us;
      timeout_ms = due <= now ? 0 : static_cast<int>((due - now + 999) / 1000);
      if (timeout_ms > 200) timeout_ms = 200;
    }
    pollfd pfd[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    const int pr = poll(pfd, 2, timeout_ms);
    if (pr < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "impair_bridge: poll: %s\n", std::strerror(errno));
      break;
    }
    for (int dir = 0; dir < 2; ++dir) {
      if (!(pfd[dir].revents & POLLIN)) continue;
      for (int i = 0; i < kBatch; ++i) {
        sockaddr_ll from{};
        iovec iov{buf.data(), buf.size()};
        alignas(cmsghdr) uint8_t ctrl[CMSG_SPACE(sizeof(tpacket_auxdata))];
        msghdr mh{};
        mh.msg_name = &from;
        mh.msg_namelen = sizeof from;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctrl;
        mh.msg_controllen = sizeof ctrl;
        const ssize_t n = recvmsg(fds[dir], &mh, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) break;
        if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own sends (and the stack's)
        if (static_cast<size_t>(n) > buf.size()) {
          ++c[dir].too_big;  // truncated: cannot be forwarded
          continue;
        }
        ++c[dir].rx;
        ++arrivals[dir];
        for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm != nullptr; cm = CMSG_NXTHDR(&mh, cm)) {
          if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA) {
            tpacket_auxdata aux{};
            std::memcpy(&aux, CMSG_DATA(cm), sizeof aux);
            if (aux.tp_status & TP_STATUS_CSUMNOTREADY) ++c[dir].csum_partial;
          }
        }
        const size_t len = static_cast<size_t>(n);
        if (len > kMtuFrame + 4) ++c[dir].too_big;
        now = NowUs();
        if (!IsTcp(buf.data(), len)) {
          enqueue(dir, buf.data(), len, now, false);
          continue;
        }
        ++c[dir].tcp;
        if (o.loss > 0 && rng.Uniform() < o.loss) {
          ++c[dir].dropped;
          continue;
        }
        enqueue(dir, buf.data(), len, now, true);
        if (o.dup > 0 && rng.Uniform() < o.dup) {
          ++c[dir].duplicated;
          enqueue(dir, buf.data(), len, now, true);
        }
      }
    }
  }

  const char* names[2] = {"->", "<-"};
  for (int dir = 0; dir < 2; ++dir) {
    std::printf("impair_bridge %s: %s %s %s rx %" PRIu64 " tcp %" PRIu64 " sent %" PRIu64 " dropped %" PRIu64
                " duplicated %" PRIu64 " reordered %" PRIu64 " overflow %" PRIu64 " send_errors %" PRIu64
                " csum_partial %" PRIu64 " too_big %" PRIu64 " unsent %zu\n",
                o.name.c_str(), o.a.c_str(), names[dir], o.b.c_str(), c[dir].rx, c[dir].tcp, c[dir].sent,
                c[dir].dropped, c[dir].duplicated, c[dir].reordered, c[dir].overflow, c[dir].send_errors,
                c[dir].csum_partial, c[dir].too_big, queued[dir]);
  }
  std::fflush(stdout);
  close(fds[0]);
  close(fds[1]);
  return 0;
}
