// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/ctnetlink_messages.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <cstring>

#include "adapters/nlattr.h"

namespace ftpalg {
namespace {

constexpr char kFollowMaster[] = "nat-follow-master";

uint8_t FamilyCode(Family f) { return f == Family::kV4 ? AF_INET : AF_INET6; }

nlmsghdr* PutHeader(void* buf, uint8_t subsys, uint8_t msg, uint16_t flags,
                    uint32_t seq, Family family) {
  std::memset(buf, 0, kNlMsgBufSize);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = static_cast<uint16_t>((subsys << 8) | msg);
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = FamilyCode(family);
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh;
}

void PutAddr(nlmsghdr* nlh, uint16_t v4_type, uint16_t v6_type,
             const IpAddress& a) {
  if (a.family == Family::kV4) {
    mnl_attr_put(nlh, v4_type, 4, a.data());
  } else {
    mnl_attr_put(nlh, v6_type, 16, a.data());
  }
}

// src/dst ports are written as given (host order in, network order out).
void PutTupleRaw(nlmsghdr* nlh, uint16_t type, Family family,
                 const IpAddress& src, const IpAddress& dst, uint8_t proto,
                 uint16_t sport, uint16_t dport) {
  nlattr* tuple = mnl_attr_nest_start(nlh, type);
  nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
  (void)family;
  PutAddr(nlh, CTA_IP_V4_SRC, CTA_IP_V6_SRC, src);
  PutAddr(nlh, CTA_IP_V4_DST, CTA_IP_V6_DST, dst);
  mnl_attr_nest_end(nlh, ip);
  nlattr* pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
  mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
  mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
  mnl_attr_nest_end(nlh, pr);
  mnl_attr_nest_end(nlh, tuple);
}

void PutTuple(nlmsghdr* nlh, uint16_t type, const CtTuple& t) {
  PutTupleRaw(nlh, type, t.family(), t.src.addr, t.dst.addr, t.proto,
              t.src.port, t.dst.port);
}

void PutMask(nlmsghdr* nlh, const ExpectSpec& spec) {
  IpAddress ones;
  ones.family = spec.tuple.family();
  for (size_t i = 0; i < ones.size(); ++i) ones.bytes[i] = 0xff;
  PutTupleRaw(nlh, CTA_EXPECT_MASK, ones.family, ones, ones, spec.tuple.proto,
              spec.wildcard_src_port ? 0 : 0xffff, 0xffff);
}

void PutNatRange(nlmsghdr* nlh, uint16_t type, const IpAddress& a,
                 std::optional<uint16_t> port) {
  nlattr* nat = mnl_attr_nest_start(nlh, type);
  PutAddr(nlh, CTA_NAT_V4_MINIP, CTA_NAT_V6_MINIP, a);
  PutAddr(nlh, CTA_NAT_V4_MAXIP, CTA_NAT_V6_MAXIP, a);
  if (port) {
    nlattr* pn = mnl_attr_nest_start(nlh, CTA_NAT_PROTO);
    mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MIN, htons(*port));
    mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MAX, htons(*port));
    mnl_attr_nest_end(nlh, pn);
  }
  mnl_attr_nest_end(nlh, nat);
}

bool ParseIp(const nlattr* nest, CtTuple* t, uint8_t* seen) {
  ForEachNested(nest, [&](const nlattr* a) {
    const uint16_t type = mnl_attr_get_type(a);
    const auto n = mnl_attr_get_payload_len(a);
    const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
    if ((type == CTA_IP_V4_SRC || type == CTA_IP_V4_DST) && n == 4) {
      (type == CTA_IP_V4_SRC ? t->src : t->dst).addr =
          IpAddress::FromBytes(Family::kV4, p);
      *seen |= type == CTA_IP_V4_SRC ? 1 : 2;
    } else if ((type == CTA_IP_V6_SRC || type == CTA_IP_V6_DST) && n == 16) {
      (type == CTA_IP_V6_SRC ? t->src : t->dst).addr =
          IpAddress::FromBytes(Family::kV6, p);
      *seen |= type == CTA_IP_V6_SRC ? 1 : 2;
    }
  });
  return true;
}

bool ParseTuple(const nlattr* nest, CtTuple* t) {
  uint8_t seen = 0;
  ForEachNested(nest, [&](const nlattr* a) {
    const uint16_t type = mnl_attr_get_type(a);
    if (type == CTA_TUPLE_IP) {
      ParseIp(a, t, &seen);
    } else if (type == CTA_TUPLE_PROTO) {
      ForEachNested(a, [&](const nlattr* b) {
        const uint16_t bt = mnl_attr_get_type(b);
        const auto n = mnl_attr_get_payload_len(b);
        if (bt == CTA_PROTO_NUM && n >= 1) {
          t->proto = mnl_attr_get_u8(b);
          seen |= 4;
        } else if (bt == CTA_PROTO_SRC_PORT && n == 2) {
          t->src.port = ntohs(mnl_attr_get_u16(b));
        } else if (bt == CTA_PROTO_DST_PORT && n == 2) {
          t->dst.port = ntohs(mnl_attr_get_u16(b));
        }
      });
    }
  });
  return seen == 7 && t->src.addr.family == t->dst.addr.family;
}

bool IsCtnl(const nlmsghdr* nlh, uint8_t subsys) {
  return nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(nfgenmsg)) &&
         NFNL_SUBSYS_ID(nlh->nlmsg_type) == subsys;
}

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

std::string CtTuple::ToString() const {
  std::string s = proto == 6 ? "tcp " : "proto" + std::to_string(proto) + " ";
  return s + src.ToString() + "->" + dst.ToString();
}

nlmsghdr* BuildCtGet(void* buf, uint32_t seq, const CtTuple& t,
                     TupleAttr which) {
  nlmsghdr* nlh = PutHeader(buf, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET,
                            NLM_F_ACK, seq, t.family());
  PutTuple(nlh, which == TupleAttr::kOrig ? CTA_TUPLE_ORIG : CTA_TUPLE_REPLY,
           t);
  return nlh;
}

nlmsghdr* BuildCtDump(void* buf, uint32_t seq, Family family) {
  return PutHeader(buf, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET,
                   NLM_F_DUMP | NLM_F_ACK, seq, family);
}

nlmsghdr* BuildCtDumpAllFamilies(void* buf, uint32_t seq) {
  nlmsghdr* nlh = PutHeader(buf, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET,
                            NLM_F_DUMP | NLM_F_ACK, seq, Family::kV4);
  static_cast<nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->nfgen_family = AF_UNSPEC;
  return nlh;
}

nlmsghdr* BuildCtCreate(void* buf, uint32_t seq, const CtCreateSpec& spec) {
  nlmsghdr* nlh =
      PutHeader(buf, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW,
                NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, spec.orig.family());
  PutTuple(nlh, CTA_TUPLE_ORIG, spec.orig);
  PutTuple(nlh, CTA_TUPLE_REPLY, spec.orig.Inverse());
  if (spec.master) PutTuple(nlh, CTA_TUPLE_MASTER, *spec.master);
  if (spec.snat_to) PutNatRange(nlh, CTA_NAT_SRC, *spec.snat_to, std::nullopt);
  if (spec.dnat_to) {
    PutNatRange(nlh, CTA_NAT_DST, spec.dnat_to->addr, spec.dnat_to->port);
  }
  mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(spec.timeout_s));
  if (spec.mark) mnl_attr_put_u32(nlh, CTA_MARK, htonl(*spec.mark));
  if (!spec.helper.empty()) {
    nlattr* help = mnl_attr_nest_start(nlh, CTA_HELP);
    char name[32] = {};
    std::memcpy(name, spec.helper.data(),
                spec.helper.size() < sizeof(name) - 1 ? spec.helper.size()
                                                      : sizeof(name) - 1);
    mnl_attr_put_strz(nlh, CTA_HELP_NAME, name);
    mnl_attr_nest_end(nlh, help);
  }
  return nlh;
}

nlmsghdr* BuildCtDelete(void* buf, uint32_t seq, const CtTuple& t) {
  nlmsghdr* nlh = PutHeader(buf, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE,
                            NLM_F_ACK, seq, t.family());
  PutTuple(nlh, CTA_TUPLE_ORIG, t);
  return nlh;
}

nlmsghdr* BuildExpCreate(void* buf, uint32_t seq, const ExpectSpec& spec) {
  nlmsghdr* nlh = PutHeader(buf, NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_NEW,
                            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq,
                            spec.tuple.family());
  PutTuple(nlh, CTA_EXPECT_MASTER, spec.master);
  PutTuple(nlh, CTA_EXPECT_TUPLE, spec.tuple);
  PutMask(nlh, spec);
  if (spec.nat_dir) {
    nlattr* nat = mnl_attr_nest_start(nlh, CTA_EXPECT_NAT);
    mnl_attr_put_u32(nlh, CTA_EXPECT_NAT_DIR,
                     htonl(static_cast<uint32_t>(Index(*spec.nat_dir))));
    // Only the source part matters to the kernel (saved address/port).
    PutTupleRaw(nlh, CTA_EXPECT_NAT_TUPLE, spec.tuple.family(),
                spec.nat_to.addr, spec.tuple.dst.addr, spec.tuple.proto,
                spec.nat_to.port, spec.tuple.dst.port);
    mnl_attr_nest_end(nlh, nat);
    mnl_attr_put_strz(nlh, CTA_EXPECT_FN, kFollowMaster);
  }
  return nlh;
}

nlmsghdr* BuildExpSetTimeout(void* buf, uint32_t seq, const ExpectSpec& spec) {
  nlmsghdr* nlh = PutHeader(buf, NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_NEW,
                            NLM_F_ACK, seq, spec.tuple.family());
  PutTuple(nlh, CTA_EXPECT_MASTER, spec.master);
  PutTuple(nlh, CTA_EXPECT_TUPLE, spec.tuple);
  PutMask(nlh, spec);
  mnl_attr_put_u32(nlh, CTA_EXPECT_TIMEOUT, htonl(spec.timeout_s));
  return nlh;
}

nlmsghdr* BuildExpDelete(void* buf, uint32_t seq, const CtTuple& tuple) {
  nlmsghdr* nlh = PutHeader(buf, NFNL_SUBSYS_CTNETLINK_EXP,
                            IPCTNL_MSG_EXP_DELETE, NLM_F_ACK, seq,
                            tuple.family());
  PutTuple(nlh, CTA_EXPECT_TUPLE, tuple);
  return nlh;
}

nlmsghdr* BuildExpGet(void* buf, uint32_t seq, const CtTuple& tuple) {
  nlmsghdr* nlh = PutHeader(buf, NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_GET,
                            NLM_F_ACK, seq, tuple.family());
  PutTuple(nlh, CTA_EXPECT_TUPLE, tuple);
  return nlh;
}

nlmsghdr* BuildCtSetLabels(void* buf, uint32_t seq, const CtTuple& orig,
                           const CtLabelBits& data, const CtLabelBits& mask) {
  nlmsghdr* nlh = PutHeader(buf, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW,
                            NLM_F_ACK, seq, orig.family());
  PutTuple(nlh, CTA_TUPLE_ORIG, orig);
  mnl_attr_put(nlh, CTA_LABELS, data.size(), data.data());
  mnl_attr_put(nlh, CTA_LABELS_MASK, mask.size(), mask.data());
  return nlh;
}

bool ParseCtSetLabels(const nlmsghdr* nlh, CtTuple* orig, CtLabelBits* data,
                      CtLabelBits* mask) {
  if (!IsCtnl(nlh, NFNL_SUBSYS_CTNETLINK)) return false;
  if ((nlh->nlmsg_type & 0xff) != IPCTNL_MSG_CT_NEW) return false;
  if ((nlh->nlmsg_flags & NLM_F_CREATE) != 0) return false;
  bool have_orig = false, have_data = false, bad = false;
  mask->fill(0xff);
  ForEachMessageAttribute(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    const uint16_t type = mnl_attr_get_type(a);
    const auto n = mnl_attr_get_payload_len(a);
    if (type == CTA_TUPLE_ORIG) {
      have_orig = ParseTuple(a, orig);
    } else if (type == CTA_LABELS || type == CTA_LABELS_MASK) {
      if (n != 16) {
        bad = true;
        return;
      }
      std::memcpy(type == CTA_LABELS ? data->data() : mask->data(),
                  mnl_attr_get_payload(a), 16);
      have_data = have_data || type == CTA_LABELS;
    }
  });
  return have_orig && have_data && !bad;
}

bool ParseCtMessage(const nlmsghdr* nlh, CtInfo* out) {
  if (!IsCtnl(nlh, NFNL_SUBSYS_CTNETLINK)) return false;
  const uint8_t msg = nlh->nlmsg_type & 0xff;
  if (msg != IPCTNL_MSG_CT_NEW && msg != IPCTNL_MSG_CT_DELETE) return false;
  *out = CtInfo{};
  bool ok = true;
  ForEachMessageAttribute(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    const uint16_t type = mnl_attr_get_type(a);
    const auto n = mnl_attr_get_payload_len(a);
    switch (type) {
      case CTA_TUPLE_ORIG:
      case CTA_TUPLE_REPLY:
      case CTA_TUPLE_MASTER: {
        CtTuple t;
        if (!ParseTuple(a, &t)) {
          ok = false;
          break;
        }
        (type == CTA_TUPLE_ORIG    ? out->orig
         : type == CTA_TUPLE_REPLY ? out->reply
                                   : out->master) = t;
        break;
      }
      case CTA_STATUS:
        if (n == 4) out->status = ntohl(mnl_attr_get_u32(a));
        break;
      case CTA_TIMEOUT:
        if (n == 4) out->timeout_s = ntohl(mnl_attr_get_u32(a));
        break;
      case CTA_ID:
        if (n == 4) out->id = ntohl(mnl_attr_get_u32(a));
        break;
      case CTA_MARK:
        if (n == 4) out->mark = ntohl(mnl_attr_get_u32(a));
        break;
      case CTA_LABELS:
        if (n == 16) {
          std::array<uint8_t, 16> l{};
          std::memcpy(l.data(), mnl_attr_get_payload(a), 16);
          out->labels = l;
        }
        break;
      case CTA_HELP: {
        ForEachNested(a, [&](const nlattr* b) {
          if (mnl_attr_get_type(b) != CTA_HELP_NAME) return;
          const auto* s = static_cast<const char*>(mnl_attr_get_payload(b));
          const size_t len = strnlen(s, mnl_attr_get_payload_len(b));
          const size_t k = len < out->helper.size() - 1 ? len
                                                        : out->helper.size() - 1;
          std::memcpy(out->helper.data(), s, k);
          out->helper[k] = '\0';
        });
        break;
      }
      default:
        break;
    }
  });
  return ok && out->orig.has_value() && out->reply.has_value();
}

nlmsghdr* BuildCtInfoMessage(void* buf, uint32_t seq, const CtInfo& info) {
  nlmsghdr* nlh = PutHeader(buf, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW, 0,
                            seq, info.orig->family());
  nlh->nlmsg_flags = 0;
  PutTuple(nlh, CTA_TUPLE_ORIG, *info.orig);
  PutTuple(nlh, CTA_TUPLE_REPLY, *info.reply);
  if (info.master) PutTuple(nlh, CTA_TUPLE_MASTER, *info.master);
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(info.status));
  mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(info.timeout_s));
  mnl_attr_put_u32(nlh, CTA_ID, htonl(info.id));
  if (info.mark) mnl_attr_put_u32(nlh, CTA_MARK, htonl(*info.mark));
  if (info.labels) mnl_attr_put(nlh, CTA_LABELS, 16, info.labels->data());
  if (!info.helper_name().empty()) {
    nlattr* help = mnl_attr_nest_start(nlh, CTA_HELP);
    mnl_attr_put_strz(nlh, CTA_HELP_NAME, info.helper.data());
    mnl_attr_nest_end(nlh, help);
  }
  return nlh;
}

std::optional<CtTuple> ParseExpMaster(const nlmsghdr* nlh) {
  if (!IsCtnl(nlh, NFNL_SUBSYS_CTNETLINK_EXP)) return std::nullopt;
  std::optional<CtTuple> master;
  ForEachMessageAttribute(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    CtTuple t;
    if (mnl_attr_get_type(a) == CTA_EXPECT_MASTER && ParseTuple(a, &t)) {
      master = t;
    }
  });
  return master;
}

std::optional<int> DecodeNetlinkError(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != NLMSG_ERROR) return std::nullopt;
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) return EPROTO;
  const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  return e->error < 0 ? -e->error : e->error;
}

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
