// SPDX-License-Identifier: GPL-2.0-or-later
// TEMPORARY pass-through until the real engine lands (same interface).
#include "ftpalg/engine.h"

#include "ftpalg/packet.h"

namespace ftpalg {

std::optional<FlowKey> IdentityResolver::MasterForReply(const Endpoint& src,
                                                        const Endpoint& dst) {
  return FlowKey{dst, src};
}

NatBinding IdentityResolver::Binding(const FlowKey& m) {
  NatBinding b{m.client.addr, m.client.addr, m.server.addr, m.server.addr};
  return b;
}

struct Engine::Impl {};

Engine::Engine(const EngineConfig&, ExpectationSink&, FlowResolver&, Logger&,
               Stats& stats)
    : impl_(std::make_unique<Impl>()) {
  (void)stats;
}
Engine::~Engine() = default;
Decision Engine::Process(PacketBuffer&, uint64_t) { return {}; }
void Engine::Expire(uint64_t) {}
void Engine::Shutdown() {}
size_t Engine::session_count() const { return 0; }
size_t Engine::BytesPerSession() { return 0; }

}  // namespace ftpalg
