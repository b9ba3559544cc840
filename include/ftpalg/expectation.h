// Expectation records (a data connection the gateway must let in and NAT)
// and the interface through which the engine installs them.
// Pure: no I/O. The sink implementations live in adapters/ and replay/.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string_view>

#include "ftpalg/announcement.h"
#include "ftpalg/inet.h"

namespace ftpalg {

// One expected data connection: `peer` (any source port) will connect to
// `target`, which must be NATed to `nat_to`. For PORT/EPRT/LPRT the announcer
// is the client (kOriginal) and the peer the server; for 227/228/229 the
// announcer is the server (kReply) and the peer the client.
struct Expectation {
  uint64_t session_id = 0;
  AnnounceKind kind = AnnounceKind::kPort;
  Direction announcer = Direction::kOriginal;
  FlowKey master;      // control connection, ORIGINAL tuple
  IpAddress peer;      // who connects (as it arrives at the gateway)
  Endpoint target;     // public address/port it connects to
  Endpoint nat_to;     // original (inside) address/port
  uint32_t timeout_s = 300;
};

enum class InstallResult : uint8_t {
  kOk,
  kPortBusy,   // the public port is taken in the kernel: try another one
  kFailed,     // anything else (logged by the sink); the engine does not rewrite
};

class ExpectationSink {
 public:
  virtual ~ExpectationSink() = default;
  // Installs (or, for an identical retransmitted announcement, refreshes) e.
  virtual InstallResult Install(const Expectation& e) = 0;
  // e is no longer wanted (expired, evicted, or its session ended).
  virtual void Remove(const Expectation& e) = 0;
};

}  // namespace ftpalg
