// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/plane_context.h"

namespace ftpalg {

std::string FormatPlaneCounters(const PlaneCounters& c, uint64_t pending,
                                uint64_t resolver_cached) {
  std::string s;
#define FTPALG_PLANE_PRINT(name) \
  s += #name "=" + std::to_string(c.name) + " ";
  FTPALG_PLANE_COUNTERS(FTPALG_PLANE_PRINT)
#undef FTPALG_PLANE_PRINT
  s += "pending=" + std::to_string(pending) +
       " resolver_cached=" + std::to_string(resolver_cached);
  return s;
}

std::vector<PlaneCounter> ListPlaneCounters(const PlaneCounters& c,
                                            uint64_t pending,
                                            uint64_t resolver_cached) {
  std::vector<PlaneCounter> list;
#define FTPALG_PLANE_LIST(name) list.push_back(PlaneCounter{#name, c.name, false});
  FTPALG_PLANE_COUNTERS(FTPALG_PLANE_LIST)
#undef FTPALG_PLANE_LIST
  list.push_back(PlaneCounter{"pending", pending, true});
  list.push_back(PlaneCounter{"resolver_cached", resolver_cached, true});
  return list;
}

}  // namespace ftpalg
