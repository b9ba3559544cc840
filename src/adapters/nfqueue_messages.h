// SPDX-License-Identifier: GPL-2.0-or-later
// Pure NFQUEUE message work (no socket): build the queue configuration and
// verdict messages, and parse a queued-packet message from the kernel.
// Built on libnetfilter_queue's nfq_nlmsg_* helpers and libmnl.
#pragma once

#include <cstddef>
#include <cstdint>

struct nlmsghdr;

namespace ftpalg::nfq {

// Largest payload a verdict can carry: a netlink attribute length is 16 bits.
size_t MaxVerdictPayload();

// Room needed for one verdict message carrying `payload_len` bytes.
size_t VerdictMessageSize(size_t payload_len);

struct QueueConfig {
  uint16_t queue = 0;
  uint32_t copy_range = 0xffff;  // whole packets
  uint32_t max_len = 4096;       // packets waiting in the kernel
  bool fail_open = true;         // NFQA_CFG_F_FAIL_OPEN (queue full -> accept)
};

// Builds, in buf[0..cap), one NFQNL_MSG_CONFIG message that binds the queue
// and sets copy mode, queue length and flags in the same step (so no packet
// is ever delivered with the default metadata-only copy mode). F_GSO and
// F_CONNTRACK are explicitly cleared. Requests an ACK with sequence `seq`.
// Returns the message length, or 0 if cap is too small.
size_t BuildBindMessage(char* buf, size_t cap, const QueueConfig& config,
                        uint32_t seq);

// NFQNL_CFG_CMD_UNBIND for `queue`, with ACK. Returns the length or 0.
size_t BuildUnbindMessage(char* buf, size_t cap, uint16_t queue, uint32_t seq);

// One NFQNL_MSG_VERDICT for packet `id` of `queue`. When payload is not null
// the message carries it (the packet is replaced by these bytes). Never adds
// NFQA_CT: the kernel would apply its own seq adjustment a second time.
// Returns the length, or 0 if cap is too small or the payload too long.
size_t BuildVerdictMessage(char* buf, size_t cap, uint16_t queue, uint32_t id,
                           uint32_t verdict, const uint8_t* payload,
                           size_t payload_len);

// NFQNL_MSG_VERDICT_BATCH: `verdict` for every packet of `queue` with an id
// up to and including `max_id` that has no verdict yet. Returns the length
// or 0.
size_t BuildBatchVerdictMessage(char* buf, size_t cap, uint16_t queue,
                                uint32_t max_id, uint32_t verdict);

enum class ParseStatus : uint8_t {
  kOk,
  kNotPacket,   // another message type (not an NFQNL_MSG_PACKET)
  kMalformed,   // attributes do not parse, or no usable packet header: no id
  kNoPayload,   // id known, but no payload: accept it unchanged
  kTruncated,   // id known, payload shorter than the packet: accept unchanged
};
const char* ParseStatusName(ParseStatus s);

// One queued packet as received. `payload` points into the message.
struct QueuedPacket {
  uint16_t queue = 0;      // nfgenmsg.res_id: the verdict must name it
  uint32_t id = 0;         // packet id (host order)
  uint16_t hw_protocol = 0;  // ethertype (host order)
  uint8_t hook = 0;        // NF_INET_* hook number
  const uint8_t* payload = nullptr;
  size_t payload_len = 0;
};

// Parses a message received on the queue socket. `out` is filled as far as
// the message allows (queue and id are valid for kNoPayload/kTruncated).
ParseStatus ParsePacketMessage(const nlmsghdr* nlh, QueuedPacket* out);

}  // namespace ftpalg::nfq
