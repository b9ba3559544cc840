// SPDX-License-Identifier: GPL-2.0-or-later
// bench/engine_bench: drives the Engine directly (no I/O in the timed loop).
//
//   engine_bench replay FILE.pcap PUBLIC_IP
//       Loads an Ethernet pcap into memory and runs the engine over it with a
//       sink that only counts. Prints ns per packet, and heap allocations per
//       packet over the second half of the capture (steady state) when run
//       with LD_PRELOAD=malloc_count.so.
//   engine_bench scale N [LOOKUPS] [small-pages]
//       Holds N sessions (one client SYN each) in an Engine sized for N, its
//       session memory advised for huge pages as ftpalgd does (not with
//       small-pages: the comparison), and prints the growth of anonymous RSS per session,
//       Engine::BytesPerSession(), the cost of one packet (a bare ACK of a random held session:
//       lookup_ns, the mean; lookup_ns_p10, the 10th percentile of chunks of 4096, which
//       other jobs on a shared machine disturb least), the memory on huge pages, and the
//       cost of one Engine::Expire() pass over the full table.
//
// Output: one "key=value ..." line on stdout.
#include <dlfcn.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/huge_pages.h"
#include "ftpalg/config.h"
#include "ftpalg/engine.h"
#include "ftpalg/expectation.h"
#include "ftpalg/logger.h"
#include "ftpalg/stats.h"

namespace {

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

// Anonymous resident memory in bytes (/proc/self/statm: resident - shared).
// File-backed pages are left out: library code first run while sessions are
// inserted (libc's memset, say) is no per-session memory.
uint64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long long size = 0, resident = 0, shared = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%llu %llu %llu", &size, &resident, &shared) != 3) resident = shared = 0;
    std::fclose(f);
  }
  return (resident - shared) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// Anonymous memory on transparent huge pages, in bytes (AnonHugePages of
// /proc/self/smaps_rollup; 0 when unknown).
uint64_t AnonHugeBytes() {
  FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  unsigned long long kb = 0;
  if (f == nullptr) return 0;
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb * 1024;
}

// The LD_PRELOAD shim's counter, or null when it is not loaded.
using CountFn = unsigned long long (*)();
CountFn MallocCounter() {
  return reinterpret_cast<CountFn>(dlsym(RTLD_DEFAULT, "bench_malloc_count"));
}

class CountingSink final : public ftpalg::ExpectationSink {
 public:
  ftpalg::InstallResult Install(const ftpalg::Expectation&) override {
    ++installed;
    return ftpalg::InstallResult::kOk;
  }
  void Remove(const ftpalg::Expectation&) override { ++removed; }
  uint64_t installed = 0, removed = 0;
};

struct Record {
  uint64_t ts_ms;
  size_t offset;  // of the IP packet in `bytes`
  size_t len;
};

int Replay(const char* path, const char* public_ip) {
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::perror(path);
    return 1;
  }
  std::vector<uint8_t> file;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) file.insert(file.end(), chunk, chunk + n);
  std::fclose(f);
  uint32_t magic = 0;
  if (file.size() < 24) return 1;
  std::memcpy(&magic, file.data(), 4);
  if (magic != 0xa1b2c3d4) {
    std::fprintf(stderr, "engine_bench: %s: not a microsecond pcap\n", path);
    return 1;
  }
  std::vector<Record> recs;
  for (size_t off = 24; off + 16 <= file.size();) {
    uint32_t h[4];
    std::memcpy(h, file.data() + off, 16);
    if (off + 16 + h[2] > file.size()) break;
    if (h[2] > 14) {
      recs.push_back({uint64_t{h[0]} * 1000 + h[1] / 1000, off + 16 + 14, h[2] - 14u});
    }
    off += 16 + h[2];
  }
  ftpalg::EngineConfig cfg;
  cfg.public_v4 = ftpalg::IpAddress::Parse(public_ip);
  cfg.offline_capture = true;
  cfg.expect_unrewritten = false;
  CountingSink sink;
  ftpalg::IdentityResolver resolver(cfg);
  ftpalg::NullLogger logger;
  ftpalg::Stats stats;
  ftpalg::Engine engine(cfg, sink, resolver, logger, stats);
  std::vector<uint8_t> buf(65535 + 4096);
  const CountFn count = MallocCounter();
  const size_t half = recs.size() / 2;
  unsigned long long allocs_at_half = 0;
  uint64_t last_expire = recs.empty() ? 0 : recs[0].ts_ms, modified = 0;
  const uint64_t t0 = NowNs();
  for (size_t i = 0; i < recs.size(); ++i) {
    if (i == half && count != nullptr) allocs_at_half = count();
    const Record& r = recs[i];
    if (r.ts_ms - last_expire >= 1000) {
      engine.Expire(r.ts_ms);
      last_expire = r.ts_ms;
    }
    std::memcpy(buf.data(), file.data() + r.offset, r.len);
    ftpalg::PacketBuffer pkt{buf.data(), r.len, buf.size()};
    if (engine.Process(pkt, r.ts_ms).modified) ++modified;
  }
  const uint64_t t1 = NowNs();
  const unsigned long long allocs_end = count != nullptr ? count() : 0;
  std::printf("packets=%zu ns_per_packet=%.1f modified=%llu rewrites=%llu expectations=%llu",
              recs.size(), static_cast<double>(t1 - t0) / static_cast<double>(recs.size()),
              static_cast<unsigned long long>(modified),
              static_cast<unsigned long long>(stats.rewrites),
              static_cast<unsigned long long>(sink.installed));
  if (count != nullptr) {
    std::printf(" steady_allocs=%llu steady_packets=%zu allocs_per_packet=%.6f",
                allocs_end - allocs_at_half, recs.size() - half,
                static_cast<double>(allocs_end - allocs_at_half) /
                    static_cast<double>(recs.size() - half));
  }
  std::printf("\n");
  return 0;
}

// The 10th percentile of the per-item time of the whole chunks between
// consecutive marks (ns), 0 when there is none.
double ChunkP10(const std::vector<uint64_t>& marks, uint64_t chunk) {
  std::vector<uint64_t> d;
  for (size_t i = 1; i < marks.size(); ++i) d.push_back(marks[i] - marks[i - 1]);
  if (d.empty()) return 0;
  std::sort(d.begin(), d.end());
  return static_cast<double>(d[d.size() / 10]) / static_cast<double>(chunk);
}

// A client SYN or bare ACK from client index i to 198.51.100.1:21.
void BuildPacket(uint8_t* p, uint32_t i, bool syn) {
  std::memset(p, 0, 40);
  p[0] = 0x45;
  p[3] = 40;
  p[6] = 0x40;
  p[8] = 64;
  p[9] = 6;
  // Client 10.a.b.c, source port 1024 + (i mod 64512): i < 2^24 * 64512.
  const uint32_t host = i / 64512, port = 1024 + i % 64512;
  p[12] = 10;
  p[13] = static_cast<uint8_t>(host >> 16);
  p[14] = static_cast<uint8_t>(host >> 8);
  p[15] = static_cast<uint8_t>(host);
  p[16] = 198;
  p[17] = 51;
  p[18] = 100;
  p[19] = 1;
  uint8_t* t = p + 20;
  t[0] = static_cast<uint8_t>(port >> 8);
  t[1] = static_cast<uint8_t>(port);
  t[3] = 21;
  t[7] = syn ? 99 : 100;  // seq 99 (SYN), then 100
  t[12] = 5 << 4;
  t[13] = syn ? 0x02 : 0x10;
  t[14] = 0xff;
}

int Scale(uint32_t n, uint64_t lookups, bool huge_pages) {
  const uint64_t rss0 = RssBytes();
  ftpalg::EngineConfig cfg;
  cfg.max_sessions = n;
  CountingSink sink;
  ftpalg::IdentityResolver resolver(cfg);
  ftpalg::NullLogger logger;
  ftpalg::Stats stats;
  ftpalg::Engine engine(cfg, sink, resolver, logger, stats);
  // As ftpalgd does, before the first packet.
  ftpalg::HugePageAdvice advice;
  if (huge_pages) advice = ftpalg::AdviseSessionHugePages(engine);
  const uint64_t rss1 = RssBytes();
  uint8_t pkt[128];
  const uint64_t t0 = NowNs();
  for (uint32_t i = 0; i < n; ++i) {
    BuildPacket(pkt, i, true);
    ftpalg::PacketBuffer b{pkt, 40, sizeof pkt};
    engine.Process(b, 1000);
  }
  const uint64_t t1 = NowNs();
  const uint64_t rss2 = RssBytes();
  const uint64_t huge2 = AnonHugeBytes();
  if (engine.session_count() != n) {
    std::fprintf(stderr, "engine_bench: holds %zu sessions, wanted %u\n",
                 engine.session_count(), n);
    return 1;
  }
  // Lookups: bare ACKs of uniformly random held sessions (xorshift), read
  // kAhead packets ahead as a batch consumer would: the packet kAhead ahead
  // gets its bucket prefetched, the one kAhead/2 ahead its slot, the next
  // but one its LRU neighbours (Engine::Prefetch; nothing below 32k
  // sessions).
  constexpr uint64_t kAhead = 8;
  uint8_t ring[kAhead][128];
  uint64_t hint[kAhead] = {};
  uint32_t x = 2463534242u;
  auto next_packet = [&](uint64_t slot) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    BuildPacket(ring[slot], x % n, false);
  };
  // Besides the mean, the time of each chunk of kChunk lookups: on a shared
  // machine most chunks run whole on the CPU, and their 10th percentile is
  // the figure the other jobs disturb least (lookup_ns_p10).
  constexpr uint64_t kChunk = 4096;
  std::vector<uint64_t> marks(lookups / kChunk + 1), build_marks(lookups / kChunk + 1);
  const uint64_t t2 = NowNs();
  for (uint64_t k = 0; k < kAhead; ++k) next_packet(k);
  for (uint64_t k = 0; k < lookups; ++k) {
    if (k % kChunk == 0) marks[k / kChunk] = NowNs();
    const uint64_t slot = k % kAhead;
    ftpalg::PacketBuffer b{ring[slot], 40, sizeof ring[slot]};
    engine.Process(b, 2000);
    next_packet(slot);
    hint[slot] = engine.LookupHint(ring[slot], 40);
    engine.Prefetch(hint[slot], ftpalg::Engine::PrefetchStep::kBucket);
    engine.Prefetch(hint[(k + kAhead / 2) % kAhead], ftpalg::Engine::PrefetchStep::kSlot);
    engine.Prefetch(hint[(k + 2) % kAhead], ftpalg::Engine::PrefetchStep::kNeighbours);
  }
  const uint64_t t3 = NowNs();
  // The packet build alone, to subtract.
  const uint64_t t4 = NowNs();
  uint64_t sink_sum = 0;
  for (uint64_t k = 0; k < lookups; ++k) {
    if (k % kChunk == 0) build_marks[k / kChunk] = NowNs();
    next_packet(k % kAhead);
    sink_sum += ring[k % kAhead][15];
    asm volatile("" : : "r"(ring) : "memory");
  }
  const uint64_t t5 = NowNs();
  // One housekeeping pass over the whole table (nothing expires).
  const uint64_t t6 = NowNs();
  engine.Expire(3000);
  const uint64_t t7 = NowNs();
  const double p10 = ChunkP10(marks, kChunk) - ChunkP10(build_marks, kChunk);
  std::printf(
      "sessions=%u held=%zu bytes_per_session_rss=%.1f bytes_per_session_all=%.1f "
      "engine_bytes_per_session=%zu insert_ns=%.1f lookup_ns=%.1f lookup_ns_p10=%.1f "
      "expire_ms=%.3f rss_mb=%.1f huge_advised_mb=%zu anon_huge_mb=%llu chk=%llu\n",
      n, engine.session_count(),
      static_cast<double>(rss2 - rss1) / n, static_cast<double>(rss2 - rss0) / n,
      ftpalg::Engine::BytesPerSession(), static_cast<double>(t1 - t0) / n,
      (static_cast<double>(t3 - t2) - static_cast<double>(t5 - t4)) /
          static_cast<double>(lookups),
      p10, static_cast<double>(t7 - t6) / 1e6, static_cast<double>(rss2) / 1048576.0,
      advice.advised_bytes >> 20, static_cast<unsigned long long>(huge2 >> 20),
      static_cast<unsigned long long>(sink_sum & 1));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "replay" && argc == 4) return Replay(argv[2], argv[3]);
  const bool small_pages = argc > 3 && std::string_view(argv[argc - 1]) == "small-pages";
  const int scale_args = argc - (small_pages ? 1 : 0);
  if (mode == "scale" && (scale_args == 3 || scale_args == 4)) {
    const uint32_t n = static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10));
    const uint64_t lookups = scale_args == 4 ? std::strtoull(argv[3], nullptr, 10) : 2000000;
    if (n == 0 || lookups == 0) return 2;
    return Scale(n, lookups, !small_pages);
  }
  std::fprintf(stderr,
               "usage: engine_bench replay FILE.pcap PUBLIC_IP\n"
               "       engine_bench scale N [LOOKUPS] [small-pages]\n");
  return 2;
}
