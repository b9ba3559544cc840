// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/huge_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "ftpalg/config.h"
#include "ftpalg/engine.h"
#include "ftpalg/logger.h"
#include "ftpalg/stats.h"

namespace ftpalg {
namespace {

// AnonHugePages (bytes) of the mappings of /proc/self/smaps that overlap
// [addr, addr + bytes): advising part of a mapping splits it into several.
uint64_t AnonHugeBytesIn(const void* addr, size_t bytes) {
  std::ifstream f("/proc/self/smaps");
  std::string line;
  bool inside = false;
  uint64_t total = 0;
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  while (std::getline(f, line)) {
    unsigned long long lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo < a + bytes && a < hi;
      continue;
    }
    unsigned long long kb = 0;
    if (inside && std::sscanf(line.c_str(), "AnonHugePages: %llu kB", &kb) == 1) total += kb * 1024;
  }
  return total;
}

// THP off or absent: the tests that need the kernel to act say so and skip.
bool HugePagesUsable() {
  const std::string mode = TransparentHugePageMode();
  return mode == "always" || mode == "madvise";
}

TEST(HugePagesTest, NothingToAdviseBelowOneWholeHugePage) {
  EXPECT_EQ(AdviseHugePages(nullptr, 64 << 20).advised_bytes, 0u);
  static char small[4096];
  const HugePageAdvice a = AdviseHugePages(small, sizeof small);
  EXPECT_EQ(a.advised_bytes, 0u);
  EXPECT_EQ(a.error, 0);
  EXPECT_NE(DescribeHugePageAdvice(a).find("smaller than a huge page"), std::string::npos);
}

// Only the 2 MiB pages lying entirely inside the region are advised: a
// region starting 4 KiB past a 2 MiB boundary and 8 MiB long holds three.
TEST(HugePagesTest, AdvisesTheWholeHugePagesInside) {
  const size_t map_bytes = 12 * kHugePageBytes;
  void* map = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  const uintptr_t aligned =
      (reinterpret_cast<uintptr_t>(map) + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  void* region = reinterpret_cast<void*>(aligned + 4096);
  const HugePageAdvice a = AdviseHugePages(region, 4 * kHugePageBytes);
  EXPECT_EQ(a.error, 0) << std::strerror(a.error);
  EXPECT_EQ(a.advised_bytes, 3 * kHugePageBytes);
  munmap(map, map_bytes);
}

// The daemon's path: an engine's session slots, advised before the first
// packet, end up on huge pages as the sessions fill them.
TEST(HugePagesTest, EngineSessionSlotsGetHugePages) {
  if (!HugePagesUsable()) {
    GTEST_SKIP() << "SKIPPED: transparent huge pages are '" << TransparentHugePageMode()
                 << "' on this kernel (/sys/kernel/mm/transparent_hugepage/enabled): "
                    "nothing to check";
  }
  EngineConfig cfg;
  // Over 32 MiB of slots: glibc maps an allocation this large afresh (its
  // mmap threshold never exceeds 32 MiB), so no page of it is touched yet.
  cfg.max_sessions = 140000;
  struct NullSink final : ExpectationSink {
    InstallResult Install(const Expectation&) override { return InstallResult::kOk; }
    void Remove(const Expectation&) override {}
  } sink;
  IdentityResolver resolver(cfg);
  NullLogger logger;
  Stats stats;
  Engine engine(cfg, sink, resolver, logger, stats);
  const Engine::MemoryRegion slots = engine.SessionMemory()[0];
  const Engine::MemoryRegion links = engine.SessionMemory()[1];
  ASSERT_NE(slots.data, nullptr);
  ASSERT_NE(links.data, nullptr);
  EXPECT_EQ(slots.bytes + links.bytes,
            cfg.max_sessions * (Engine::BytesPerSession() - sizeof(uint32_t)));
  const HugePageAdvice a = AdviseSessionHugePages(engine);
  ASSERT_EQ(a.error, 0) << std::strerror(a.error);
  ASSERT_GE(a.advised_bytes, 2 * kHugePageBytes);
  EXPECT_NE(DescribeHugePageAdvice(a).find("on transparent huge pages"), std::string::npos)
      << DescribeHugePageAdvice(a);
  EXPECT_EQ(AnonHugeBytesIn(slots.data, slots.bytes), 0u) << "nothing is touched before the first packet";
  // One client SYN per session: 10.x.y.z:1024 -> 198.51.100.1:21.
  for (uint32_t i = 0; i < cfg.max_sessions; ++i) {
    uint8_t p[40] = {0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, static_cast<uint8_t>(i >> 16),
                     static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 198, 51, 100, 1,
                     4, 0, 0, 21, 0, 0, 0, 99, 0, 0, 0, 0, 5 << 4, 0x02, 0xff, 0xff};
    PacketBuffer b{p, sizeof p, sizeof p};
    engine.Process(b, 1000);
  }
  ASSERT_EQ(engine.session_count(), cfg.max_sessions);
  // The kernel may fall back to small pages for a fault when it finds no
  // free 2 MiB page at once; most of the advised pages must be huge.
  const uint64_t huge = AnonHugeBytesIn(slots.data, slots.bytes) + AnonHugeBytesIn(links.data, links.bytes);
  EXPECT_GE(huge, a.advised_bytes / 2)
      << "advised " << a.advised_bytes << " bytes; AnonHugePages of the slots' and links' mappings: "
      << huge;
}

// Control for the test above: where THP is "madvise", the same engine
// without the advice stays on small pages (so the advice is what did it).
TEST(HugePagesTest, WithoutAdviceMadviseModeKeepsSmallPages) {
  if (TransparentHugePageMode() != "madvise") {
    GTEST_SKIP() << "SKIPPED: THP mode is '" << TransparentHugePageMode()
                 << "', not 'madvise': small pages without advice are not guaranteed";
  }
  void* map = mmap(nullptr, 8 * kHugePageBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  std::memset(map, 1, 8 * kHugePageBytes);
  EXPECT_EQ(AnonHugeBytesIn(map, 8 * kHugePageBytes), 0u);
  munmap(map, 8 * kHugePageBytes);
}

}  // namespace
}  // namespace ftpalg
