// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/stats.h"

namespace ftpalg {

std::string Stats::ToString(bool nonzero_only) const {
  std::string out;
#define FTPALG_STATS_PRINT(name)                      \
  if (!nonzero_only || name != 0) {                   \
    if (!out.empty()) out += ' ';                     \
    out += #name "=" + std::to_string(name);          \
  }
  FTPALG_STATS(FTPALG_STATS_PRINT)
#undef FTPALG_STATS_PRINT
  return out;
}

}  // namespace ftpalg
