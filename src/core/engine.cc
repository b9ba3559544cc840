// SPDX-License-Identifier: GPL-2.0-or-later
// The Engine facade and the offline resolver. The walk of one packet is in
// engine_packet.cc; src/core/engine_impl.h lists every step by file.
#include "ftpalg/engine.h"

#include "src/core/engine_impl.h"

namespace ftpalg {

std::optional<FlowKey> IdentityResolver::MasterForReply(const Endpoint& src,
                                                        const Endpoint& dst) {
  return FlowKey{dst, src};
}

NatBinding IdentityResolver::Binding(const FlowKey& m) {
  auto outside = [&](const IpAddress& a) {
    if (!config_.IsInside(a)) return a;
    const auto& pub =
        a.family == Family::kV4 ? config_.public_v4 : config_.public_v6;
    return pub ? *pub : a;
  };
  return NatBinding{m.client.addr, outside(m.client.addr),
                    outside(m.server.addr), m.server.addr};
}

Engine::Engine(const EngineConfig& config, ExpectationSink& sink,
               FlowResolver& resolver, Logger& logger, Stats& stats)
    : impl_(std::make_unique<Impl>(config, sink, resolver, logger, stats)) {}

Engine::~Engine() = default;

Decision Engine::Process(PacketBuffer& packet, uint64_t now_ms) {
  return impl_->Process(packet, now_ms);
}

void Engine::Expire(uint64_t now_ms) { impl_->Expire(now_ms); }

void Engine::Shutdown(const char* reason) {
  while (Session* s = impl_->sessions.Oldest()) {
    impl_->EndSession(s, reason);
  }
}

size_t Engine::session_count() const { return impl_->sessions.size(); }

void Engine::SetSessionObserver(SessionObserver* observer) {
  impl_->observer = observer;
}

size_t Engine::BytesPerSession() {
  // Slot + its share of the hash index (one 4-byte bucket per slot).
  return sizeof(Session) + sizeof(uint32_t);
}

}  // namespace ftpalg
