// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/nfqueue_messages.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include <cstring>
#include <vector>

namespace ftpalg::nfq {
namespace {

// A kernel-style NFQNL_MSG_PACKET, built attribute by attribute.
struct CannedPacket {
  uint16_t queue = 3;
  uint32_t id = 77;
  uint16_t hw_protocol = 0x0800;
  uint8_t hook = NF_INET_PRE_ROUTING;
  bool with_header = true;
  bool short_header = false;
  bool with_payload = true;
  std::vector<uint8_t> payload = {0x45, 0, 0, 20, 1, 2, 3, 4};
  uint32_t cap_len = 0;  // 0: no NFQA_CAP_LEN
  uint16_t type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
};

const nlmsghdr* Build(const CannedPacket& c, std::vector<char>* buf) {
  buf->assign(4096, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf->data());
  nlh->nlmsg_type = c.type;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(c.queue);
  if (c.with_header) {
    nfqnl_msg_packet_hdr ph{};
    ph.packet_id = htonl(c.id);
    ph.hw_protocol = htons(c.hw_protocol);
    ph.hook = c.hook;
    mnl_attr_put(nlh, NFQA_PACKET_HDR, c.short_header ? 4 : sizeof(ph), &ph);
  }
  const uint32_t mark = htonl(5);
  mnl_attr_put(nlh, NFQA_MARK, sizeof(mark), &mark);
  if (c.with_payload) {
    mnl_attr_put(nlh, NFQA_PAYLOAD, c.payload.size(), c.payload.data());
  }
  if (c.cap_len != 0) mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(c.cap_len));
  return nlh;
}

TEST(NfqueueMessagesTest, ParsesPacket) {
  std::vector<char> buf;
  CannedPacket c;
  QueuedPacket p;
  ASSERT_EQ(ParsePacketMessage(Build(c, &buf), &p), ParseStatus::kOk);
  EXPECT_EQ(p.queue, 3);
  EXPECT_EQ(p.id, 77u);
  EXPECT_EQ(p.hw_protocol, 0x0800);
  EXPECT_EQ(p.hook, NF_INET_PRE_ROUTING);
  ASSERT_EQ(p.payload_len, c.payload.size());
  EXPECT_EQ(std::memcmp(p.payload, c.payload.data(), p.payload_len), 0);
}

TEST(NfqueueMessagesTest, CapLenEqualToPayloadIsWhole) {
  std::vector<char> buf;
  CannedPacket c;
  c.cap_len = static_cast<uint32_t>(c.payload.size());
  QueuedPacket p;
  EXPECT_EQ(ParsePacketMessage(Build(c, &buf), &p), ParseStatus::kOk);
}

TEST(NfqueueMessagesTest, RejectsWhatCannotBeUsed) {
  std::vector<char> buf;
  QueuedPacket p;
  {
    CannedPacket c;
    c.with_payload = false;
    EXPECT_EQ(ParsePacketMessage(Build(c, &buf), &p), ParseStatus::kNoPayload);
    EXPECT_EQ(p.id, 77u);  // still known: the packet can be accepted
    EXPECT_EQ(p.queue, 3);
  }
  {
    CannedPacket c;
    c.cap_len = 1500;  // copy cut short
    EXPECT_EQ(ParsePacketMessage(Build(c, &buf), &p), ParseStatus::kTruncated);
    EXPECT_EQ(p.id, 77u);
  }
  {
    CannedPacket c;
    c.with_header = false;
    EXPECT_EQ(ParsePacketMessage(Build(c, &buf), &p), ParseStatus::kMalformed);
  }
  {
    CannedPacket c;
    c.short_header = true;
    EXPECT_EQ(ParsePacketMessage(Build(c, &buf), &p), ParseStatus::kMalformed);
  }
  {
    CannedPacket c;
    c.type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG;
    EXPECT_EQ(ParsePacketMessage(Build(c, &buf), &p), ParseStatus::kNotPacket);
  }
  {
    CannedPacket c;
    const nlmsghdr* nlh = Build(c, &buf);
    const_cast<nlmsghdr*>(nlh)->nlmsg_len = MNL_NLMSG_HDRLEN + 2;  // no nfgenmsg
    EXPECT_EQ(ParsePacketMessage(nlh, &p), ParseStatus::kMalformed);
  }
  {
    // The payload attribute runs past the message: it is not trusted, but
    // the id is, so the packet can still be accepted unchanged.
    CannedPacket c;
    nlmsghdr* nlh = const_cast<nlmsghdr*>(Build(c, &buf));
    nlh->nlmsg_len -= 4;
    EXPECT_EQ(ParsePacketMessage(nlh, &p), ParseStatus::kNoPayload);
    EXPECT_EQ(p.id, 77u);
  }
}

// mnl_attr_for_each relies on C's implicit void* conversion: spelled out.
template <typename F>
void ForEachAttr(const nlmsghdr* nlh, F f) {
  const char* end = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
  auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
  while (mnl_attr_ok(attr, static_cast<int>(end - reinterpret_cast<const char*>(attr)))) {
    f(attr);
    attr = static_cast<const nlattr*>(mnl_attr_next(attr));
  }
}

struct Attrs {
  const nlattr* a[NFQA_MAX + 1] = {};
  int count = 0;
};

Attrs ParseVerdict(const char* buf, size_t len, uint16_t* type, uint16_t* queue) {
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  EXPECT_EQ(nlh->nlmsg_len, len);
  *type = nlh->nlmsg_type;
  *queue = ntohs(static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->res_id);
  Attrs out;
  ForEachAttr(nlh, [&](const nlattr* attr) {
    const uint16_t t = mnl_attr_get_type(attr);
    if (t <= NFQA_MAX) out.a[t] = attr;
    ++out.count;
  });
  return out;
}

TEST(NfqueueMessagesTest, VerdictWithPayloadWhenModified) {
  char buf[4096];
  const uint8_t pkt[] = {0x45, 0, 0, 23, 9, 9, 9};
  const size_t len =
      BuildVerdictMessage(buf, sizeof(buf), 1, 42, NF_ACCEPT, pkt, sizeof(pkt));
  ASSERT_GT(len, 0u);
  uint16_t type = 0, queue = 0;
  Attrs at = ParseVerdict(buf, len, &type, &queue);
  EXPECT_EQ(type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT);
  EXPECT_EQ(queue, 1);
  ASSERT_NE(at.a[NFQA_VERDICT_HDR], nullptr);
  const auto* vh = static_cast<const nfqnl_msg_verdict_hdr*>(
      mnl_attr_get_payload(at.a[NFQA_VERDICT_HDR]));
  EXPECT_EQ(ntohl(vh->id), 42u);
  EXPECT_EQ(ntohl(vh->verdict), static_cast<uint32_t>(NF_ACCEPT));
  ASSERT_NE(at.a[NFQA_PAYLOAD], nullptr);
  ASSERT_EQ(mnl_attr_get_payload_len(at.a[NFQA_PAYLOAD]), sizeof(pkt));
  EXPECT_EQ(std::memcmp(mnl_attr_get_payload(at.a[NFQA_PAYLOAD]), pkt, sizeof(pkt)), 0);
  EXPECT_EQ(at.a[NFQA_CT], nullptr);
  EXPECT_EQ(at.count, 2);
  EXPECT_EQ(len, VerdictMessageSize(sizeof(pkt)));
}

TEST(NfqueueMessagesTest, VerdictWithoutPayloadWhenUnmodified) {
  char buf[256];
  const size_t len = BuildVerdictMessage(buf, sizeof(buf), 0, 7, NF_DROP, nullptr, 0);
  ASSERT_GT(len, 0u);
  uint16_t type = 0, queue = 0;
  Attrs at = ParseVerdict(buf, len, &type, &queue);
  EXPECT_EQ(at.a[NFQA_PAYLOAD], nullptr);
  EXPECT_EQ(at.a[NFQA_CT], nullptr);
  EXPECT_EQ(at.count, 1);
  const auto* vh = static_cast<const nfqnl_msg_verdict_hdr*>(
      mnl_attr_get_payload(at.a[NFQA_VERDICT_HDR]));
  EXPECT_EQ(ntohl(vh->verdict), static_cast<uint32_t>(NF_DROP));
}

TEST(NfqueueMessagesTest, BatchVerdict) {
  char buf[256];
  const size_t len = BuildBatchVerdictMessage(buf, sizeof(buf), 9, 1000, NF_ACCEPT);
  ASSERT_GT(len, 0u);
  uint16_t type = 0, queue = 0;
  Attrs at = ParseVerdict(buf, len, &type, &queue);
  EXPECT_EQ(type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH);
  EXPECT_EQ(queue, 9);
  EXPECT_EQ(at.count, 1);
  const auto* vh = static_cast<const nfqnl_msg_verdict_hdr*>(
      mnl_attr_get_payload(at.a[NFQA_VERDICT_HDR]));
  EXPECT_EQ(ntohl(vh->id), 1000u);
}

TEST(NfqueueMessagesTest, VerdictRefusesTooSmallBufferOrHugePayload) {
  char small[16];
  const uint8_t pkt[8] = {};
  EXPECT_EQ(BuildVerdictMessage(small, sizeof(small), 0, 1, NF_ACCEPT, pkt, sizeof(pkt)), 0u);
  std::vector<char> big(200000);
  std::vector<uint8_t> huge(70000);
  EXPECT_EQ(BuildVerdictMessage(big.data(), big.size(), 0, 1, NF_ACCEPT, huge.data(),
                                huge.size()),
            0u);
  EXPECT_GT(BuildVerdictMessage(big.data(), big.size(), 0, 1, NF_ACCEPT, huge.data(),
                                MaxVerdictPayload()),
            0u);
}

TEST(NfqueueMessagesTest, BindConfiguresCopyLengthAndFlagsAtOnce) {
  char buf[512];
  QueueConfig qc;
  qc.queue = 4;
  qc.max_len = 1234;
  qc.fail_open = true;
  const size_t len = BuildBindMessage(buf, sizeof(buf), qc, 99);
  ASSERT_GT(len, 0u);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  EXPECT_EQ(nlh->nlmsg_type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG);
  EXPECT_NE(nlh->nlmsg_flags & NLM_F_ACK, 0);
  EXPECT_EQ(nlh->nlmsg_seq, 99u);
  EXPECT_EQ(ntohs(static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->res_id), 4);
  const nlattr* a[NFQA_CFG_MAX + 1] = {};
  ForEachAttr(nlh, [&](const nlattr* attr) {
    ASSERT_LE(mnl_attr_get_type(attr), NFQA_CFG_MAX);
    a[mnl_attr_get_type(attr)] = attr;
  });
  ASSERT_NE(a[NFQA_CFG_CMD], nullptr);
  EXPECT_EQ(static_cast<const nfqnl_msg_config_cmd*>(mnl_attr_get_payload(a[NFQA_CFG_CMD]))->command,
            NFQNL_CFG_CMD_BIND);
  ASSERT_NE(a[NFQA_CFG_PARAMS], nullptr);
  const auto* params =
      static_cast<const nfqnl_msg_config_params*>(mnl_attr_get_payload(a[NFQA_CFG_PARAMS]));
  EXPECT_EQ(params->copy_mode, NFQNL_COPY_PACKET);
  EXPECT_EQ(ntohl(params->copy_range), 0xffffu);
  ASSERT_NE(a[NFQA_CFG_QUEUE_MAXLEN], nullptr);
  EXPECT_EQ(ntohl(mnl_attr_get_u32(a[NFQA_CFG_QUEUE_MAXLEN])), 1234u);
  ASSERT_NE(a[NFQA_CFG_FLAGS], nullptr);
  ASSERT_NE(a[NFQA_CFG_MASK], nullptr);
  const uint32_t flags = ntohl(mnl_attr_get_u32(a[NFQA_CFG_FLAGS]));
  const uint32_t mask = ntohl(mnl_attr_get_u32(a[NFQA_CFG_MASK]));
  EXPECT_EQ(flags, static_cast<uint32_t>(NFQA_CFG_F_FAIL_OPEN));
  // GSO and CONNTRACK are explicitly cleared.
  EXPECT_NE(mask & NFQA_CFG_F_GSO, 0u);
  EXPECT_NE(mask & NFQA_CFG_F_CONNTRACK, 0u);
  EXPECT_EQ(flags & (NFQA_CFG_F_GSO | NFQA_CFG_F_CONNTRACK), 0u);

  qc.fail_open = false;
  ASSERT_GT(BuildBindMessage(buf, sizeof(buf), qc, 1), 0u);
  ForEachAttr(nlh, [&](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == NFQA_CFG_FLAGS) {
      EXPECT_EQ(ntohl(mnl_attr_get_u32(attr)), 0u);
    }
  });
}

TEST(NfqueueMessagesTest, Unbind) {
  char buf[128];
  const size_t len = BuildUnbindMessage(buf, sizeof(buf), 2, 5);
  ASSERT_GT(len, 0u);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf);
  const nlattr* cmd = nullptr;
  int n = 0;
  ForEachAttr(nlh, [&](const nlattr* attr) {
    cmd = attr;
    ++n;
  });
  ASSERT_EQ(n, 1);
  EXPECT_EQ(static_cast<const nfqnl_msg_config_cmd*>(mnl_attr_get_payload(cmd))->command,
            NFQNL_CFG_CMD_UNBIND);
  EXPECT_EQ(BuildUnbindMessage(buf, 8, 2, 5), 0u);
}

}  // namespace
}  // namespace ftpalg::nfq
