// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/pending_set.h"

#include <linux/netfilter/ipset/ip_set.h>

namespace ftpalg {

int PendingSet::Add(const Endpoint& element, uint32_t timeout_s) {
  const std::string& set = NameFor(element.addr.family);
  const int err = kernel_.Call(
      KernelOp::kIpsetAdd, BuildIpsetElement(kernel_.buf(), kernel_.NextSeq(),
                                             IpsetOp::kAdd, set, element, timeout_s));
  if (err != 0) kernel_.Fail(KernelOp::kIpsetAdd, err, set + " " + element.ToString());
  return err;
}

void PendingSet::Remove(const Endpoint& element) {
  const std::string& set = NameFor(element.addr.family);
  const int err = kernel_.Call(
      KernelOp::kIpsetDel, BuildIpsetElement(kernel_.buf(), kernel_.NextSeq(),
                                             IpsetOp::kDel, set, element, std::nullopt));
  // IPSET_ERR_EXIST on delete: the element timed out already.
  if (err != 0 && err != IPSET_ERR_EXIST) {
    kernel_.Fail(KernelOp::kIpsetDel, err, set + " " + element.ToString());
  }
}

std::optional<IpsetHeader> ReadSetHeader(NetlinkChannel& channel, uint8_t* buf,
                                         const std::string& name, Family f,
                                         int* err) {
  std::optional<IpsetHeader> header;
  auto on_reply = [&](const nlmsghdr* m) { header = ParseIpsetHeader(m); };
  *err = channel.Request(BuildIpsetHeader(buf, channel.NextSeq(), name, f), on_reply);
  if (*err != 0) return std::nullopt;
  return header;
}

}  // namespace ftpalg
