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

uint64_t Engine::LookupHint(const uint8_t* data, size_t len) const {
  // Below this many sessions the slots mostly stay cached: no extra work.
  constexpr uint32_t kPrefetchFrom = 32768;
  if (impl_->sessions.size() < kPrefetchFrom) return 0;
  PacketView v;
  if (ParsePacket(data, len, &v) != PacketError::kNone) return 0;
  FlowKey key;
  if (impl_->cfg.IsControlPort(v.dst.port)) {
    key = FlowKey{v.src, v.dst};
  } else if (impl_->cfg.IsControlPort(v.src.port)) {
    // The resolver is not asked (live it may look further): the reply's
    // reversed tuple is the master's when no NAT sits between.
    key = FlowKey{v.dst, v.src};
  } else {
    return 0;
  }
  const uint64_t h = FlowKeyHash{}(key);
  return h != 0 ? h : 1;
}

void Engine::Prefetch(uint64_t hint, PrefetchStep step) const {
  if (hint == 0) return;
  switch (step) {
    case PrefetchStep::kBucket: impl_->sessions.PrefetchBucket(hint); break;
    case PrefetchStep::kSlot: impl_->sessions.PrefetchSlot(hint); break;
    case PrefetchStep::kNeighbours: impl_->sessions.PrefetchNeighbours(hint); break;
  }
}

size_t Engine::session_count() const { return impl_->sessions.size(); }

std::array<Engine::MemoryRegion, 2> Engine::SessionMemory() {
  SessionTable& t = impl_->sessions;
  return {MemoryRegion{t.storage(), t.storage_bytes()},
          MemoryRegion{t.lru_storage(), t.lru_storage_bytes()}};
}

void Engine::SetSessionObserver(SessionObserver* observer) {
  impl_->observer = observer;
}

size_t Engine::BytesPerSession() {
  // Slot, its LRU links and its share of the hash index (one 4-byte bucket
  // per slot).
  return sizeof(Session) + sizeof(SessionTable::LruLinks) + sizeof(uint32_t);
}

}  // namespace ftpalg
