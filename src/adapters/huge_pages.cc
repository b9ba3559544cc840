// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/huge_pages.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace ftpalg {

HugePageAdvice AdviseHugePages(void* data, size_t bytes) {
  HugePageAdvice out;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
  if (data == nullptr || bytes < kHugePageBytes || begin + bytes < begin) return out;
  const uintptr_t first = (begin + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  const uintptr_t last = (begin + bytes) & ~(uintptr_t{kHugePageBytes} - 1);
  if (last <= first) return out;
#ifdef MADV_HUGEPAGE
  if (madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE) != 0) {
    out.error = errno;
    return out;
  }
  out.advised_bytes = last - first;
#else
  out.error = ENOSYS;
#endif
  return out;
}

HugePageAdvice AdviseSessionHugePages(Engine& engine) {
  HugePageAdvice total;
  for (const Engine::MemoryRegion& r : engine.SessionMemory()) {
    total += AdviseHugePages(r.data, r.bytes);
  }
  return total;
}

std::string TransparentHugePageMode() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(f, line)) return "";
  const size_t open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return line.substr(open + 1, close - open - 1);
}

std::string DescribeHugePageAdvice(const HugePageAdvice& advice) {
  const std::string mode = TransparentHugePageMode();
  const std::string mib = std::to_string(advice.advised_bytes >> 20);
  if (advice.error != 0) {
    return "session table: huge pages not advised (madvise: " +
           std::string(std::strerror(advice.error)) + ")";
  }
  if (advice.advised_bytes == 0) {
    return "session table: smaller than a huge page, left on small pages";
  }
  if (mode == "never" || mode.empty()) {
    return "session table: " + mib + " MiB advised for huge pages, but transparent huge pages are " +
           (mode.empty() ? "not available" : "off (never)") + " on this kernel";
  }
  return "session table: " + mib + " MiB on transparent huge pages (THP mode " + mode + ")";
}

}  // namespace ftpalg
