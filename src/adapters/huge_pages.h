// SPDX-License-Identifier: GPL-2.0-or-later
// Transparent huge pages for a large table that is read at random (the
// engine's session slots, Engine::SessionMemory): with 4 KiB pages a random
// read of a 250 MB table misses the TLB, and under a hypervisor (nested
// paging) each miss is a two-dimensional page walk. Backed by 2 MiB pages
// the whole table fits in the TLB. Where the kernel's THP mode is
// "madvise" (common default), a region gets huge pages only if it is
// advised before it is first touched.
#pragma once

#include <cstddef>
#include <string>

#include "ftpalg/engine.h"

namespace ftpalg {

struct HugePageAdvice {
  size_t advised_bytes = 0;  // the whole 2 MiB pages inside the region
  int error = 0;             // errno of madvise; 0 when it succeeded or
                             // when the region holds no whole huge page
  HugePageAdvice& operator+=(const HugePageAdvice& o) {
    advised_bytes += o.advised_bytes;
    if (error == 0) error = o.error;
    return *this;
  }
};

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// madvise(MADV_HUGEPAGE) on the 2 MiB-aligned pages lying entirely inside
// [data, data + bytes): memory outside the region is never affected, and
// the region's ends (less than 2 MiB each) stay on small pages.
HugePageAdvice AdviseHugePages(void* data, size_t bytes);

// Every region of engine.SessionMemory(), before the first packet: what
// ftpalgd does at start-up (and engine_bench, which plays its part).
HugePageAdvice AdviseSessionHugePages(Engine& engine);

// The kernel's THP mode: "always", "madvise" or "never" (the bracketed word
// of /sys/kernel/mm/transparent_hugepage/enabled), "" when unknown (no THP
// support, or no /sys).
std::string TransparentHugePageMode();

// One line for the log: what was advised, and whether it can take effect.
std::string DescribeHugePageAdvice(const HugePageAdvice& advice);

}  // namespace ftpalg
