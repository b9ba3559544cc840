// SPDX-License-Identifier: GPL-2.0-or-later
// DescribeCtMessage (declared in ctnetlink_messages.h): a ctnetlink message
// as readable text, attribute by attribute (logs, tests, --check).
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <iterator>
#include <string>

#include "adapters/ctnetlink_messages.h"
#include "adapters/nlattr.h"

namespace ftpalg {
namespace {

// ---- readable dumps ----

constexpr AttrSpec kIpSpecs[] = {
    {CTA_IP_V4_SRC, "CTA_IP_V4_SRC", AttrKind::kIpv4},
    {CTA_IP_V4_DST, "CTA_IP_V4_DST", AttrKind::kIpv4},
    {CTA_IP_V6_SRC, "CTA_IP_V6_SRC", AttrKind::kIpv6},
    {CTA_IP_V6_DST, "CTA_IP_V6_DST", AttrKind::kIpv6},
};
constexpr AttrSchema kIp{kIpSpecs, std::size(kIpSpecs)};
constexpr AttrSpec kProtoSpecs[] = {
    {CTA_PROTO_NUM, "CTA_PROTO_NUM", AttrKind::kU8},
    {CTA_PROTO_SRC_PORT, "CTA_PROTO_SRC_PORT", AttrKind::kBe16},
    {CTA_PROTO_DST_PORT, "CTA_PROTO_DST_PORT", AttrKind::kBe16},
};
constexpr AttrSchema kProto{kProtoSpecs, std::size(kProtoSpecs)};
constexpr AttrSpec kTupleSpecs[] = {
    {CTA_TUPLE_IP, "CTA_TUPLE_IP", AttrKind::kNested, &kIp},
    {CTA_TUPLE_PROTO, "CTA_TUPLE_PROTO", AttrKind::kNested, &kProto},
    {CTA_TUPLE_ZONE, "CTA_TUPLE_ZONE", AttrKind::kBe16},
};
constexpr AttrSchema kTuple{kTupleSpecs, std::size(kTupleSpecs)};
constexpr AttrSpec kProtoNatSpecs[] = {
    {CTA_PROTONAT_PORT_MIN, "CTA_PROTONAT_PORT_MIN", AttrKind::kBe16},
    {CTA_PROTONAT_PORT_MAX, "CTA_PROTONAT_PORT_MAX", AttrKind::kBe16},
};
constexpr AttrSchema kProtoNat{kProtoNatSpecs, std::size(kProtoNatSpecs)};
constexpr AttrSpec kNatSpecs[] = {
    {CTA_NAT_V4_MINIP, "CTA_NAT_V4_MINIP", AttrKind::kIpv4},
    {CTA_NAT_V4_MAXIP, "CTA_NAT_V4_MAXIP", AttrKind::kIpv4},
    {CTA_NAT_PROTO, "CTA_NAT_PROTO", AttrKind::kNested, &kProtoNat},
    {CTA_NAT_V6_MINIP, "CTA_NAT_V6_MINIP", AttrKind::kIpv6},
    {CTA_NAT_V6_MAXIP, "CTA_NAT_V6_MAXIP", AttrKind::kIpv6},
};
constexpr AttrSchema kNat{kNatSpecs, std::size(kNatSpecs)};
constexpr AttrSpec kHelpSpecs[] = {
    {CTA_HELP_NAME, "CTA_HELP_NAME", AttrKind::kString},
    {CTA_HELP_INFO, "CTA_HELP_INFO", AttrKind::kBinary},
};
constexpr AttrSchema kHelp{kHelpSpecs, std::size(kHelpSpecs)};
constexpr AttrSpec kTcpInfoSpecs[] = {
    {CTA_PROTOINFO_TCP_STATE, "CTA_PROTOINFO_TCP_STATE", AttrKind::kU8},
    {CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, "CTA_PROTOINFO_TCP_WSCALE_ORIGINAL",
     AttrKind::kU8},
    {CTA_PROTOINFO_TCP_WSCALE_REPLY, "CTA_PROTOINFO_TCP_WSCALE_REPLY",
     AttrKind::kU8},
    {CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, "CTA_PROTOINFO_TCP_FLAGS_ORIGINAL",
     AttrKind::kBinary},
    {CTA_PROTOINFO_TCP_FLAGS_REPLY, "CTA_PROTOINFO_TCP_FLAGS_REPLY",
     AttrKind::kBinary},
};
constexpr AttrSchema kTcpInfo{kTcpInfoSpecs, std::size(kTcpInfoSpecs)};
constexpr AttrSpec kProtoInfoSpecs[] = {
    {CTA_PROTOINFO_TCP, "CTA_PROTOINFO_TCP", AttrKind::kNested, &kTcpInfo},
};
constexpr AttrSchema kProtoInfo{kProtoInfoSpecs, std::size(kProtoInfoSpecs)};
constexpr AttrSpec kCounterSpecs[] = {
    {CTA_COUNTERS_PACKETS, "CTA_COUNTERS_PACKETS", AttrKind::kBe64},
    {CTA_COUNTERS_BYTES, "CTA_COUNTERS_BYTES", AttrKind::kBe64},
};
constexpr AttrSchema kCounters{kCounterSpecs, std::size(kCounterSpecs)};
constexpr AttrSpec kSeqAdjSpecs[] = {
    {CTA_SEQADJ_CORRECTION_POS, "CTA_SEQADJ_CORRECTION_POS", AttrKind::kBe32},
    {CTA_SEQADJ_OFFSET_BEFORE, "CTA_SEQADJ_OFFSET_BEFORE", AttrKind::kBe32},
    {CTA_SEQADJ_OFFSET_AFTER, "CTA_SEQADJ_OFFSET_AFTER", AttrKind::kBe32},
};
constexpr AttrSchema kSeqAdj{kSeqAdjSpecs, std::size(kSeqAdjSpecs)};
constexpr AttrSpec kTimestampSpecs[] = {
    {CTA_TIMESTAMP_START, "CTA_TIMESTAMP_START", AttrKind::kBe64},
    {CTA_TIMESTAMP_STOP, "CTA_TIMESTAMP_STOP", AttrKind::kBe64},
};
constexpr AttrSchema kTimestamp{kTimestampSpecs, std::size(kTimestampSpecs)};
constexpr AttrSpec kCtSpecs[] = {
    {CTA_TUPLE_ORIG, "CTA_TUPLE_ORIG", AttrKind::kNested, &kTuple},
    {CTA_TUPLE_REPLY, "CTA_TUPLE_REPLY", AttrKind::kNested, &kTuple},
    {CTA_STATUS, "CTA_STATUS", AttrKind::kBe32},
    {CTA_PROTOINFO, "CTA_PROTOINFO", AttrKind::kNested, &kProtoInfo},
    {CTA_HELP, "CTA_HELP", AttrKind::kNested, &kHelp},
    {CTA_NAT_SRC, "CTA_NAT_SRC", AttrKind::kNested, &kNat},
    {CTA_TIMEOUT, "CTA_TIMEOUT", AttrKind::kBe32},
    {CTA_MARK, "CTA_MARK", AttrKind::kBe32},
    {CTA_COUNTERS_ORIG, "CTA_COUNTERS_ORIG", AttrKind::kNested, &kCounters},
    {CTA_COUNTERS_REPLY, "CTA_COUNTERS_REPLY", AttrKind::kNested, &kCounters},
    {CTA_USE, "CTA_USE", AttrKind::kBe32},
    {CTA_ID, "CTA_ID", AttrKind::kBe32},
    {CTA_NAT_DST, "CTA_NAT_DST", AttrKind::kNested, &kNat},
    {CTA_TUPLE_MASTER, "CTA_TUPLE_MASTER", AttrKind::kNested, &kTuple},
    {CTA_SEQ_ADJ_ORIG, "CTA_SEQ_ADJ_ORIG", AttrKind::kNested, &kSeqAdj},
    {CTA_SEQ_ADJ_REPLY, "CTA_SEQ_ADJ_REPLY", AttrKind::kNested, &kSeqAdj},
    {CTA_ZONE, "CTA_ZONE", AttrKind::kBe16},
    {CTA_TIMESTAMP, "CTA_TIMESTAMP", AttrKind::kNested, &kTimestamp},
    {CTA_MARK_MASK, "CTA_MARK_MASK", AttrKind::kBe32},
    {CTA_LABELS, "CTA_LABELS", AttrKind::kBinary},
    {CTA_LABELS_MASK, "CTA_LABELS_MASK", AttrKind::kBinary},
};
constexpr AttrSchema kCt{kCtSpecs, std::size(kCtSpecs)};
constexpr AttrSpec kExpNatSpecs[] = {
    {CTA_EXPECT_NAT_DIR, "CTA_EXPECT_NAT_DIR", AttrKind::kBe32},
    {CTA_EXPECT_NAT_TUPLE, "CTA_EXPECT_NAT_TUPLE", AttrKind::kNested, &kTuple},
};
constexpr AttrSchema kExpNat{kExpNatSpecs, std::size(kExpNatSpecs)};
constexpr AttrSpec kExpSpecs[] = {
    {CTA_EXPECT_MASTER, "CTA_EXPECT_MASTER", AttrKind::kNested, &kTuple},
    {CTA_EXPECT_TUPLE, "CTA_EXPECT_TUPLE", AttrKind::kNested, &kTuple},
    {CTA_EXPECT_MASK, "CTA_EXPECT_MASK", AttrKind::kNested, &kTuple},
    {CTA_EXPECT_TIMEOUT, "CTA_EXPECT_TIMEOUT", AttrKind::kBe32},
    {CTA_EXPECT_ID, "CTA_EXPECT_ID", AttrKind::kBe32},
    {CTA_EXPECT_HELP_NAME, "CTA_EXPECT_HELP_NAME", AttrKind::kString},
    {CTA_EXPECT_ZONE, "CTA_EXPECT_ZONE", AttrKind::kBe16},
    {CTA_EXPECT_FLAGS, "CTA_EXPECT_FLAGS", AttrKind::kBe32},
    {CTA_EXPECT_CLASS, "CTA_EXPECT_CLASS", AttrKind::kBe32},
    {CTA_EXPECT_NAT, "CTA_EXPECT_NAT", AttrKind::kNested, &kExpNat},
    {CTA_EXPECT_FN, "CTA_EXPECT_FN", AttrKind::kString},
};
constexpr AttrSchema kExp{kExpSpecs, std::size(kExpSpecs)};

}  // namespace

std::string DescribeCtMessage(const nlmsghdr* nlh) {
  std::string out;
  const uint8_t subsys = NFNL_SUBSYS_ID(nlh->nlmsg_type);
  const uint8_t msg = nlh->nlmsg_type & 0xff;
  bool get = false;
  if (subsys == NFNL_SUBSYS_CTNETLINK) {
    static constexpr const char* kNames[] = {"CT_NEW", "CT_GET", "CT_DELETE"};
    out += msg < 3 ? kNames[msg] : "CT_MSG#" + std::to_string(msg);
    get = msg == IPCTNL_MSG_CT_GET;
  } else if (subsys == NFNL_SUBSYS_CTNETLINK_EXP) {
    static constexpr const char* kNames[] = {"EXP_NEW", "EXP_GET",
                                             "EXP_DELETE"};
    out += msg < 3 ? kNames[msg] : "EXP_MSG#" + std::to_string(msg);
    get = msg == IPCTNL_MSG_EXP_GET;
  } else {
    return "not ctnetlink (type " + std::to_string(nlh->nlmsg_type) + ")\n";
  }
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg))) return out + " <short>\n";
  const auto* nfg =
      static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  out += nfg->nfgen_family == AF_INET    ? " family=inet"
         : nfg->nfgen_family == AF_INET6 ? " family=inet6"
                                         : " family=" + std::to_string(nfg->nfgen_family);
  out += " flags=";
  const uint16_t f = nlh->nlmsg_flags;
  std::string fl;
  auto add = [&](uint16_t bit, const char* name) {
    if (f & bit) fl += (fl.empty() ? "" : "|") + std::string(name);
  };
  add(NLM_F_REQUEST, "REQUEST");
  add(NLM_F_MULTI, "MULTI");
  add(NLM_F_ACK, "ACK");
  if (get) {
    add(NLM_F_ROOT, "ROOT");
    add(NLM_F_MATCH, "MATCH");
  } else {
    add(NLM_F_REPLACE, "REPLACE");
    add(NLM_F_EXCL, "EXCL");
    add(NLM_F_CREATE, "CREATE");
    add(NLM_F_APPEND, "APPEND");
  }
  out += fl.empty() ? "0" : fl;
  out += "\n";
  const size_t off = mnl_nlmsg_size(sizeof(nfgenmsg));
  DumpAttributes(reinterpret_cast<const uint8_t*>(nlh) + MNL_ALIGN(off) ,
                 nlh->nlmsg_len - MNL_ALIGN(off),
                 subsys == NFNL_SUBSYS_CTNETLINK ? kCt : kExp, 1, &out);
  return out;
}

}  // namespace ftpalg
