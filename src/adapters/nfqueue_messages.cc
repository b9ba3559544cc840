// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/nfqueue_messages.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <sys/socket.h>
// After the linux headers it relies on.
#include <libnetfilter_queue/libnetfilter_queue.h>

namespace ftpalg::nfq {
namespace {

constexpr size_t kHeaderRoom =
    MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));

// Attribute room: header + aligned value.
constexpr size_t AttrRoom(size_t len) { return MNL_ATTR_HDRLEN + MNL_ALIGN(len); }

}  // namespace

size_t MaxVerdictPayload() { return 0xffff - MNL_ATTR_HDRLEN; }

size_t VerdictMessageSize(size_t payload_len) {
  size_t n = kHeaderRoom + AttrRoom(sizeof(struct nfqnl_msg_verdict_hdr));
  if (payload_len > 0) n += AttrRoom(payload_len);
  return n;
}

size_t BuildBindMessage(char* buf, size_t cap, const QueueConfig& config,
                        uint32_t seq) {
  const size_t need = kHeaderRoom +
                      AttrRoom(sizeof(struct nfqnl_msg_config_cmd)) +
                      AttrRoom(sizeof(struct nfqnl_msg_config_params)) +
                      3 * AttrRoom(sizeof(uint32_t));
  if (cap < need) return 0;
  struct nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, config.queue);
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  // The protocol family of a BIND is ignored by current kernels: one queue
  // carries IPv4 and IPv6 alike.
  nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
  nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET,
                           static_cast<int>(config.copy_range));
  nfq_nlmsg_cfg_put_qmaxlen(nlh, config.max_len);
  // libnetfilter_queue has no helper for the flags: two plain u32 attributes.
  const uint32_t mask =
      NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO | NFQA_CFG_F_CONNTRACK;
  const uint32_t flags = config.fail_open ? NFQA_CFG_F_FAIL_OPEN : 0u;
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
  return nlh->nlmsg_len;
}

size_t BuildUnbindMessage(char* buf, size_t cap, uint16_t queue,
                          uint32_t seq) {
  if (cap < kHeaderRoom + AttrRoom(sizeof(struct nfqnl_msg_config_cmd))) {
    return 0;
  }
  struct nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
  return nlh->nlmsg_len;
}

size_t BuildVerdictMessage(char* buf, size_t cap, uint16_t queue, uint32_t id,
                           uint32_t verdict, const uint8_t* payload,
                           size_t payload_len) {
  if (payload != nullptr && payload_len > MaxVerdictPayload()) return 0;
  if (cap < VerdictMessageSize(payload != nullptr ? payload_len : 0)) return 0;
  struct nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue);
  nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), static_cast<int>(verdict));
  if (payload != nullptr) {
    nfq_nlmsg_verdict_put_pkt(nlh, payload, static_cast<uint32_t>(payload_len));
  }
  return nlh->nlmsg_len;
}

size_t BuildBatchVerdictMessage(char* buf, size_t cap, uint16_t queue,
                                uint32_t max_id, uint32_t verdict) {
  if (cap < VerdictMessageSize(0)) return 0;
  struct nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT_BATCH, queue);
  nfq_nlmsg_verdict_put(nlh, static_cast<int>(max_id),
                        static_cast<int>(verdict));
  return nlh->nlmsg_len;
}

const char* ParseStatusName(ParseStatus s) {
  switch (s) {
    case ParseStatus::kOk: return "ok";
    case ParseStatus::kNotPacket: return "not-a-packet";
    case ParseStatus::kMalformed: return "malformed";
    case ParseStatus::kNoPayload: return "no-payload";
    case ParseStatus::kTruncated: return "truncated";
  }
  return "?";
}

ParseStatus ParsePacketMessage(const nlmsghdr* nlh, QueuedPacket* out) {
  *out = QueuedPacket{};
  if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg)) {
    return ParseStatus::kMalformed;
  }
  if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) {
    return ParseStatus::kNotPacket;
  }
  const auto* nfg =
      static_cast<const struct nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  out->queue = ntohs(nfg->res_id);

  struct nlattr* attr[NFQA_MAX + 1] = {};
  if (nfq_nlmsg_parse(nlh, attr) < 0) return ParseStatus::kMalformed;
  if (attr[NFQA_PACKET_HDR] == nullptr ||
      mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) <
          sizeof(struct nfqnl_msg_packet_hdr)) {
    return ParseStatus::kMalformed;
  }
  const auto* ph = static_cast<const struct nfqnl_msg_packet_hdr*>(
      mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
  out->id = ntohl(ph->packet_id);
  out->hw_protocol = ntohs(ph->hw_protocol);
  out->hook = ph->hook;

  if (attr[NFQA_PAYLOAD] == nullptr) return ParseStatus::kNoPayload;
  out->payload =
      static_cast<const uint8_t*>(mnl_attr_get_payload(attr[NFQA_PAYLOAD]));
  out->payload_len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
  if (out->payload_len == 0) return ParseStatus::kNoPayload;
  // NFQA_CAP_LEN is only present when the copy was cut short.
  if (attr[NFQA_CAP_LEN] != nullptr &&
      mnl_attr_get_payload_len(attr[NFQA_CAP_LEN]) >= sizeof(uint32_t) &&
      ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) > out->payload_len) {
    return ParseStatus::kTruncated;
  }
  return ParseStatus::kOk;
}

}  // namespace ftpalg::nfq
