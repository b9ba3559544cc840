// The offline replay's FlowResolver: the capture is one consistent world
// (IdentityResolver), except for control connections declared with
// --conntrack: their both tuples, as the live daemon reads them from the
// kernel's conntrack. A server->client packet carrying a declared REPLY
// tuple belongs to its ORIGINAL one, and the session's NAT binding is the
// declared one: a capture taken where the daemon queues (raw PREROUTING:
// the client before DNAT, the server's replies before de-NAT, e.g. hairpin
// NAT) replays as the daemon would handle it.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ftpalg/config.h"
#include "ftpalg/engine.h"
#include "ftpalg/inet.h"

namespace ftpalg {

struct DeclaredConntrack {
  FlowKey orig;        // client -> server as dialled
  Endpoint reply_src;  // the server as it answers
  Endpoint reply_dst;  // the client as the server sees it
};

// "ORIG_SRC,ORIG_DST,REPLY_SRC,REPLY_DST", each a.b.c.d:port or [v6]:port,
// one family.
std::optional<DeclaredConntrack> ParseDeclaredConntrack(std::string_view text);

class ReplayResolver final : public FlowResolver {
 public:
  ReplayResolver(const EngineConfig& config, const std::vector<DeclaredConntrack>& declared)
      : identity_(config), declared_(declared) {}
  std::optional<FlowKey> MasterForReply(const Endpoint& src, const Endpoint& dst) override;
  NatBinding Binding(const FlowKey& master) override;

 private:
  IdentityResolver identity_;
  const std::vector<DeclaredConntrack>& declared_;
};

}  // namespace ftpalg
