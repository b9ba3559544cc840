// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/rules_watch.h"

#include <algorithm>
#include <fstream>

#include "adapters/ctnetlink_messages.h"

namespace ftpalg {

std::string RulesWatch::Tick(uint64_t now_ms, uint64_t control_packets) {
  if (!started_) {
    started_ = true;
    last_ms_ = quiet_since_ms_ = now_ms;
    last_packets_ = control_packets;
    return "";
  }
  if (control_packets != last_packets_) {
    last_packets_ = control_packets;
    quiet_since_ms_ = now_ms;
  }
  if (now_ms - last_ms_ < interval_ms_) return "";
  last_ms_ = now_ms;
  const uint64_t quiet_ms = now_ms - quiet_since_ms_;
  if (quiet_ms < interval_ms_) return "";
  // Nothing queued for a whole interval: were there control packets?
  const uint32_t window_s = static_cast<uint32_t>(interval_ms_ / 1000u);
  const std::optional<uint64_t> active = count_(window_s);
  if (!active || *active == 0) return "";
  ++warnings_;
  return "rules gone? nothing queued for " + std::to_string(quiet_ms / 1000u) +
         " s while " + std::to_string(*active) +
         " FTP control conntracks saw packets in the last " + std::to_string(window_s) +
         " s: their packets pass without ftpalgd (a firewall reload flushed the "
         "ftpalg rules?); check with `ftpalgd --check`, restore with "
         "`ftpalg-rules install` (systemctl restart ftpalgd)";
}

std::optional<uint64_t> CountActiveControlConntracks(NetlinkChannel& channel,
                                                     const std::vector<uint16_t>& ports,
                                                     uint32_t established_timeout_s,
                                                     uint32_t window_s) {
  const std::vector<uint16_t> wanted = ports.empty() ? std::vector<uint16_t>{21} : ports;
  const uint32_t floor =
      established_timeout_s > window_s ? established_timeout_s - window_s : 0;
  uint64_t count = 0;
  auto on_entry = [&](const nlmsghdr* m) {
    CtInfo info;
    if (!ParseCtMessage(m, &info) || !info.orig || info.orig->proto != 6) return;
    if (info.timeout_s <= floor) return;  // last packet window_s or more ago
    if (std::find(wanted.begin(), wanted.end(), info.orig->dst.port) != wanted.end()) {
      ++count;
    }
  };
  alignas(8) char buf[kNlMsgBufSize];  // the builders clear this much
  const int err = channel.Dump(BuildCtDumpAllFamilies(buf, channel.NextSeq()), on_entry);
  if (err != 0) return std::nullopt;
  return count;
}

uint32_t ReadEstablishedTimeout() {
  std::ifstream in("/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established");
  uint32_t v = 0;
  if (in >> v && v > 0) return v;
  return 432000;
}

}  // namespace ftpalg
