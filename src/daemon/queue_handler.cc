// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/queue_handler.h"

namespace ftpalg {

Decision QueueHandler::OnPacket(const nfq::QueuedPacket& meta,
                                PacketBuffer& packet, uint64_t now_ms) {
  if (meta.queue == control_queue_) return engine_.Process(packet, now_ms);
  if (meta.queue == data_queue_) {
    ++data_syns_;
    plane_.OnDataSyn(packet.data, packet.len, now_ms);
    return Decision{};
  }
  ++unknown_queue_;
  return Decision{};
}

}  // namespace ftpalg
