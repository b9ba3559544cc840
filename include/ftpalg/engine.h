// The FTP ALG engine: one entry point shared by the live daemon and replay.
// Pure: no I/O. The outside world is reached only through the interfaces
// passed to the constructor. Single-threaded; one Engine per queue.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "ftpalg/config.h"
#include "ftpalg/expectation.h"
#include "ftpalg/inet.h"
#include "ftpalg/logger.h"
#include "ftpalg/nat_binding.h"
#include "ftpalg/stats.h"

namespace ftpalg {

// What a restarted daemon needs to keep serving a session that already
// rewrote: the cumulative sequence offset of each direction and the dialogue
// facts it cannot see again. Small enough for conntrack labels (128 bits),
// which survive a daemon restart and reach a backup gateway via conntrackd.
struct SessionSnapshot {
  int32_t offset[2] = {0, 0};  // output - input, per Direction, after the
                               // newest rewrite
  bool tls = false;            // AUTH accepted: never parse again
  // The newest pending data connection's announced port and announcer, when
  // the labels hold one (0: none). A session restored on another daemon does
  // not rewrite a retransmission of that announcement a second time.
  uint16_t pending_port = 0;
  Direction pending_announcer = Direction::kOriginal;
};

// Maps packets to control connections. Queue points are chosen so that a
// client->server packet carries its ORIGINAL tuple; a server->client packet
// carries the REPLY tuple, which only the conntrack can map back.
class FlowResolver {
 public:
  virtual ~FlowResolver() = default;
  // The ORIGINAL tuple of the control connection a server->client packet
  // (src = server side, dst = client side, as on the wire) belongs to, or
  // nullopt when unknown (the packet then passes untouched).
  virtual std::optional<FlowKey> MasterForReply(const Endpoint& src,
                                                const Endpoint& dst) = 0;
  // The NAT view of a control connection (asked once per announcement).
  virtual NatBinding Binding(const FlowKey& master) = 0;
  // The control connection ended: forget cached state about it.
  virtual void Forget(const FlowKey& master) { (void)master; }
  // A session's offsets changed (a rewrite) or it went encrypted (AUTH
  // accepted, offered for every session): keep them where a restarted
  // daemon finds them. The resolver may ignore an AUTH of a session that
  // left nothing to restore. Default: nowhere.
  virtual void SaveSnapshot(const FlowKey& master, const SessionSnapshot& s) {
    (void)master;
    (void)s;
  }
  // A session first seen mid-stream: what a previous run kept, if anything.
  virtual std::optional<SessionSnapshot> LoadSnapshot(const FlowKey& master) {
    (void)master;
    return std::nullopt;
  }
};

// Offline resolver: no NAT on the wire; config.public_v4/v6 replace inside
// client/server addresses.
class IdentityResolver final : public FlowResolver {
 public:
  explicit IdentityResolver(const EngineConfig& config) : config_(config) {}
  std::optional<FlowKey> MasterForReply(const Endpoint& src,
                                        const Endpoint& dst) override;
  NatBinding Binding(const FlowKey& master) override;

 private:
  const EngineConfig& config_;
};

// Told when a control session starts and ends (the daemon's NAT-binding
// records, --events). Called on the packet path and from Expire/Shutdown:
// implementations must not block.
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  // key: the ORIGINAL tuple; picked_up: first seen mid-stream.
  virtual void SessionStarted(uint64_t id, const FlowKey& key, bool picked_up,
                              uint64_t now_ms) = 0;
  virtual void SessionEnded(uint64_t id, const FlowKey& key, const char* reason,
                            uint32_t rewrites, uint32_t refusals,
                            uint64_t now_ms) = 0;
};

enum class Verdict : uint8_t { kAccept, kDrop };

struct Decision {
  Verdict verdict = Verdict::kAccept;
  bool modified = false;  // bytes (and possibly length) changed in place
  // EngineConfig::defer_checksums: the packet's checksums are stale; the
  // caller completes them (CompleteChecksums) before the packet leaves.
  bool checksums_pending = false;
};

// A packet the engine may rewrite in place: data[0..len) is one IP packet
// and data has room for `capacity` bytes (growth needs capacity > len; a
// rewrite that does not fit is refused).
struct PacketBuffer {
  uint8_t* data = nullptr;
  size_t len = 0;
  size_t capacity = 0;
};

class Engine {
 public:
  // config, sink, resolver, logger and stats must outlive the Engine.
  Engine(const EngineConfig& config, ExpectationSink& sink,
         FlowResolver& resolver, Logger& logger, Stats& stats);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Processes one IP packet at time now_ms (monotonic milliseconds; pcap
  // time offline). Non-control and unparseable packets are never modified.
  Decision Process(PacketBuffer& packet, uint64_t now_ms);

  // Housekeeping: expires idle sessions, closed sessions past their linger,
  // expectations past their timeout, and held bytes past the hold timeout.
  void Expire(uint64_t now_ms);

  // Ends every session (their expectations are removed through the sink),
  // logging reason. Also used to forget every session before they are
  // rebuilt from the conntrack table (resync after a failover).
  void Shutdown(const char* reason = "shutdown");

  // Batching (pure, no state change): the lookup hint of a packet that will
  // be processed soon (its session's flow hash; 0 when there is nothing to
  // prefetch: not a control packet, unparseable, or a table small enough to
  // stay cached), and the prefetches for it. A batch asks, for the packet k
  // ahead, kBucket; for the one k/2 ahead, kSlot; for the next but one,
  // kNeighbours; so that the cache misses of several lookups overlap.
  enum class PrefetchStep : uint8_t { kBucket, kSlot, kNeighbours };
  uint64_t LookupHint(const uint8_t* data, size_t len) const;
  void Prefetch(uint64_t hint, PrefetchStep step) const;

  size_t session_count() const;
  // The memory that will hold the sessions: their slots, then their LRU
  // links (together Engine::BytesPerSession() minus the hash bucket, times
  // max_sessions). Reserved at construction and first written as sessions
  // are created, so that an adapter may advise the kernel about it before
  // the first packet (huge pages: adapters/huge_pages.h). The engine itself
  // makes no system call.
  struct MemoryRegion {
    void* data = nullptr;
    size_t bytes = 0;
  };
  std::array<MemoryRegion, 2> SessionMemory();
  // Optional (nullptr: none); must outlive the Engine.
  void SetSessionObserver(SessionObserver* observer);
  // Bytes of engine memory per session slot (fixed at construction).
  static size_t BytesPerSession();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ftpalg
