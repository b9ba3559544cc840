// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/ipset_messages.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <iterator>

#include "adapters/nlattr.h"

namespace ftpalg {
namespace {

uint8_t NfProto(Family f) {
  return f == Family::kV4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

nlmsghdr* PutHeader(void* buf, uint8_t cmd, uint16_t flags, uint32_t seq,
                    Family family, std::string_view set_name) {
  std::memset(buf, 0, kNlMsgBufSize);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_IPSET << 8) | cmd);
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = NfProto(family);
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  mnl_attr_put_u8(nlh, IPSET_ATTR_PROTOCOL, IPSET_PROTOCOL);
  char name[IPSET_MAXNAMELEN] = {};
  std::memcpy(name, set_name.data(),
              set_name.size() < sizeof(name) - 1 ? set_name.size()
                                                 : sizeof(name) - 1);
  mnl_attr_put_strz(nlh, IPSET_ATTR_SETNAME, name);
  return nlh;
}

// ipset insists on NLA_F_NET_BYTEORDER for every multi-byte value.
void PutNet(nlmsghdr* nlh, uint16_t type, size_t len, const void* data) {
  mnl_attr_put(nlh, type | NLA_F_NET_BYTEORDER, len, data);
}

constexpr AttrSpec kIpAddrSpecs[] = {
    {IPSET_ATTR_IPADDR_IPV4, "IPSET_ATTR_IPADDR_IPV4", AttrKind::kIpv4},
    {IPSET_ATTR_IPADDR_IPV6, "IPSET_ATTR_IPADDR_IPV6", AttrKind::kIpv6},
};
constexpr AttrSchema kIpAddr{kIpAddrSpecs, std::size(kIpAddrSpecs)};
constexpr AttrSpec kDataSpecs[] = {
    {IPSET_ATTR_IP, "IPSET_ATTR_IP", AttrKind::kNested, &kIpAddr},
    {IPSET_ATTR_PORT, "IPSET_ATTR_PORT", AttrKind::kBe16},
    {IPSET_ATTR_TIMEOUT, "IPSET_ATTR_TIMEOUT", AttrKind::kBe32},
    {IPSET_ATTR_PROTO, "IPSET_ATTR_PROTO", AttrKind::kU8},
    {IPSET_ATTR_CADT_FLAGS, "IPSET_ATTR_CADT_FLAGS", AttrKind::kBe32},
    {IPSET_ATTR_LINENO, "IPSET_ATTR_LINENO", AttrKind::kBe32},
};
constexpr AttrSchema kData{kDataSpecs, std::size(kDataSpecs)};
constexpr AttrSpec kCmdSpecs[] = {
    {IPSET_ATTR_PROTOCOL, "IPSET_ATTR_PROTOCOL", AttrKind::kU8},
    {IPSET_ATTR_SETNAME, "IPSET_ATTR_SETNAME", AttrKind::kString},
    {IPSET_ATTR_TYPENAME, "IPSET_ATTR_TYPENAME", AttrKind::kString},
    {IPSET_ATTR_REVISION, "IPSET_ATTR_REVISION", AttrKind::kU8},
    {IPSET_ATTR_FAMILY, "IPSET_ATTR_FAMILY", AttrKind::kU8},
    {IPSET_ATTR_FLAGS, "IPSET_ATTR_FLAGS", AttrKind::kBe32},
    {IPSET_ATTR_DATA, "IPSET_ATTR_DATA", AttrKind::kNested, &kData},
    {IPSET_ATTR_LINENO, "IPSET_ATTR_LINENO", AttrKind::kBe32},
};
constexpr AttrSchema kCmd{kCmdSpecs, std::size(kCmdSpecs)};

}  // namespace

nlmsghdr* BuildIpsetElement(void* buf, uint32_t seq, IpsetOp op,
                            std::string_view set_name, const Endpoint& element,
                            std::optional<uint32_t> timeout_s) {
  const uint8_t cmd = op == IpsetOp::kAdd   ? IPSET_CMD_ADD
                      : op == IpsetOp::kDel ? IPSET_CMD_DEL
                                            : IPSET_CMD_TEST;
  const Family family = element.addr.family;
  nlmsghdr* nlh = PutHeader(buf, cmd, NLM_F_ACK, seq, family, set_name);
  nlattr* data = mnl_attr_nest_start(nlh, IPSET_ATTR_DATA);
  nlattr* ip = mnl_attr_nest_start(nlh, IPSET_ATTR_IP);
  PutNet(nlh,
         family == Family::kV4 ? IPSET_ATTR_IPADDR_IPV4 : IPSET_ATTR_IPADDR_IPV6,
         element.addr.size(), element.addr.data());
  mnl_attr_nest_end(nlh, ip);
  const uint16_t port = htons(element.port);
  PutNet(nlh, IPSET_ATTR_PORT, sizeof(port), &port);
  mnl_attr_put_u8(nlh, IPSET_ATTR_PROTO, 6);  // IPPROTO_TCP
  if (op == IpsetOp::kAdd && timeout_s) {
    const uint32_t t = htonl(*timeout_s);
    PutNet(nlh, IPSET_ATTR_TIMEOUT, sizeof(t), &t);
  }
  mnl_attr_nest_end(nlh, data);
  return nlh;
}

nlmsghdr* BuildIpsetHeader(void* buf, uint32_t seq, std::string_view set_name,
                           Family family) {
  return PutHeader(buf, IPSET_CMD_HEADER, NLM_F_ACK, seq, family, set_name);
}

std::optional<IpsetHeader> ParseIpsetHeader(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg)) ||
      NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_IPSET ||
      (nlh->nlmsg_type & 0xff) != IPSET_CMD_HEADER) {
    return std::nullopt;
  }
  IpsetHeader h;
  bool have_type = false;
  ForEachMessageAttribute(nlh, sizeof(nfgenmsg), [&](const nlattr* a) {
    const uint16_t type = mnl_attr_get_type(a);
    const size_t n = mnl_attr_get_payload_len(a);
    const auto* p = static_cast<const char*>(mnl_attr_get_payload(a));
    if (type == IPSET_ATTR_TYPENAME) {
      h.type_name.assign(p, strnlen(p, n));
      have_type = true;
    } else if (type == IPSET_ATTR_FAMILY && n >= 1) {
      h.family = mnl_attr_get_u8(a);
    } else if (type == IPSET_ATTR_REVISION && n >= 1) {
      h.revision = mnl_attr_get_u8(a);
    }
  });
  if (!have_type) return std::nullopt;
  return h;
}

std::string DescribeIpsetMessage(const nlmsghdr* nlh) {
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_IPSET) {
    return "not ipset (type " + std::to_string(nlh->nlmsg_type) + ")\n";
  }
  std::string out;
  switch (nlh->nlmsg_type & 0xff) {
    case IPSET_CMD_ADD: out = "IPSET_ADD"; break;
    case IPSET_CMD_DEL: out = "IPSET_DEL"; break;
    case IPSET_CMD_TEST: out = "IPSET_TEST"; break;
    case IPSET_CMD_HEADER: out = "IPSET_HEADER"; break;
    default: out = "IPSET_CMD#" + std::to_string(nlh->nlmsg_type & 0xff);
  }
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg))) return out + " <short>\n";
  const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  out += nfg->nfgen_family == NFPROTO_IPV4   ? " family=inet"
         : nfg->nfgen_family == NFPROTO_IPV6 ? " family=inet6"
                                             : " family=" + std::to_string(nfg->nfgen_family);
  std::string fl;
  auto add = [&](uint16_t bit, const char* name) {
    if (nlh->nlmsg_flags & bit) fl += (fl.empty() ? "" : "|") + std::string(name);
  };
  add(NLM_F_REQUEST, "REQUEST");
  add(NLM_F_ACK, "ACK");
  add(NLM_F_EXCL, "EXCL");
  add(NLM_F_CREATE, "CREATE");
  out += " flags=" + (fl.empty() ? std::string("0") : fl) + "\n";
  const size_t off = MNL_ALIGN(mnl_nlmsg_size(sizeof(nfgenmsg)));
  DumpAttributes(reinterpret_cast<const uint8_t*>(nlh) + off,
                 nlh->nlmsg_len - off, kCmd, 1, &out);
  return out;
}

}  // namespace ftpalg
