// SPDX-License-Identifier: GPL-2.0-or-later
// Where a queued packet goes: the control queue to the engine, the data-SYN
// queue to the conntrack plane (then accepted); anything else passes
// unchanged. Counts the data SYNs and the packets from unknown queues.
#pragma once

#include <cstdint>

#include "adapters/nfqueue_socket.h"
#include "daemon/conntrack_plane.h"
#include "ftpalg/engine.h"

namespace ftpalg {

class QueueHandler final : public PacketHandler {
 public:
  QueueHandler(uint16_t control_queue, uint16_t data_queue, Engine& engine,
               ConntrackPlane& plane)
      : control_queue_(control_queue),
        data_queue_(data_queue),
        engine_(engine),
        plane_(plane) {}
  Decision OnPacket(const nfq::QueuedPacket& meta, PacketBuffer& packet,
                    uint64_t now_ms) override;
  uint64_t data_syns() const { return data_syns_; }
  uint64_t unknown_queue() const { return unknown_queue_; }

 private:
  uint16_t control_queue_;
  uint16_t data_queue_;
  Engine& engine_;
  ConntrackPlane& plane_;
  uint64_t data_syns_ = 0;
  uint64_t unknown_queue_ = 0;
};

}  // namespace ftpalg
