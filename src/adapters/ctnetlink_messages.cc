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

}  // namespace ftpalg
