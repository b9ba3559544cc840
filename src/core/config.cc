// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/config.h"

#include <algorithm>

namespace ftpalg {

std::vector<Cidr> EngineConfig::DefaultInside() {
  std::vector<Cidr> out;
  for (const char* text : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                           "100.64.0.0/10", "fc00::/7"}) {
    out.push_back(*Cidr::Parse(text));
  }
  return out;
}

bool EngineConfig::IsControlPort(uint16_t port) const {
  return std::find(control_ports.begin(), control_ports.end(), port) !=
         control_ports.end();
}

bool EngineConfig::IsInside(const IpAddress& a) const {
  return std::any_of(inside.begin(), inside.end(),
                     [&](const Cidr& c) { return c.Contains(a); });
}

std::string EngineConfig::Validate() const {
  if (control_ports.empty()) return "at least one control port is needed";
  if (control_ports.size() > 16) return "at most 16 control ports";
  if (defer_checksums && !offline_capture) {
    return "deferred checksums are for offline captures only";
  }
  for (uint16_t p : control_ports) {
    if (p == 0) return "control port 0 is not valid";
  }
  if (public_v4 && public_v4->family != Family::kV4) {
    return "public IPv4 address is not IPv4";
  }
  if (public_v6 && public_v6->family != Family::kV6) {
    return "public IPv6 address is not IPv6";
  }
  if (max_line_len < 64 || max_line_len > 4096) {
    return "line cap must be within 64..4096 bytes";
  }
  if (max_sessions < 1 || max_sessions > 16u * 1024 * 1024) {
    return "max sessions must be within 1..16777216";
  }
  if (max_expectations_per_session < 1) return "per-session expectation cap must be >= 1";
  if (max_expectations < 1) return "global expectation cap must be >= 1";
  if (idle_timeout_s < 1) return "idle timeout must be >= 1 s";
  if (expectation_timeout_s < 1) return "expectation timeout must be >= 1 s";
  if (max_packet_len < 576) return "max packet length must be >= 576";
  return "";
}

}  // namespace ftpalg
