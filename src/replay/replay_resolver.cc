// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/replay_resolver.h"

#include <charconv>

namespace ftpalg {
namespace {

std::optional<Endpoint> ParseEndpoint(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size()) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // IPv6 needs brackets
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  const std::optional<IpAddress> addr = IpAddress::Parse(host);
  if (!addr) return std::nullopt;
  return Endpoint{*addr, static_cast<uint16_t>(port)};
}

}  // namespace

std::optional<DeclaredConntrack> ParseDeclaredConntrack(std::string_view text) {
  Endpoint ep[4];
  for (int i = 0; i < 4; ++i) {
    const size_t comma = text.find(',');
    if ((i < 3) == (comma == std::string_view::npos)) return std::nullopt;
    const std::optional<Endpoint> e = ParseEndpoint(text.substr(0, comma));
    if (!e || e->addr.family != (i == 0 ? e->addr.family : ep[0].addr.family)) return std::nullopt;
    ep[i] = *e;
    text = i < 3 ? text.substr(comma + 1) : std::string_view{};
  }
  return DeclaredConntrack{FlowKey{ep[0], ep[1]}, ep[2], ep[3]};
}

std::optional<FlowKey> ReplayResolver::MasterForReply(const Endpoint& src, const Endpoint& dst) {
  for (const DeclaredConntrack& d : declared_) {
    if (d.reply_src == src && d.reply_dst == dst) return d.orig;
  }
  return identity_.MasterForReply(src, dst);
}

NatBinding ReplayResolver::Binding(const FlowKey& master) {
  for (const DeclaredConntrack& d : declared_) {
    if (d.orig == master) {
      return NatBinding{master.client.addr, d.reply_dst.addr, master.server.addr, d.reply_src.addr};
    }
  }
  return identity_.Binding(master);
}

}  // namespace ftpalg
