// Pure ipset netlink messages for hash:ip,port sets (IPv4 and IPv6):
// add (with timeout), delete, test one TCP addr:port element, and read a
// set's header (type, family). No I/O: builders write one message into a
// caller buffer of at least kNlMsgBufSize bytes (ctnetlink_messages.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/ctnetlink_messages.h"
#include "ftpalg/inet.h"

struct nlmsghdr;

namespace ftpalg {

enum class IpsetOp : uint8_t { kAdd, kDel, kTest };

// IPSET_CMD_ADD/DEL/TEST of "addr,tcp:port" in set `set_name` (at most 31
// bytes). timeout_s is sent with kAdd only (0: the set's default). kAdd is
// sent without NLM_F_EXCL, so adding an existing element refreshes its
// timeout instead of failing.
nlmsghdr* BuildIpsetElement(void* buf, uint32_t seq, IpsetOp op,
                            std::string_view set_name, const Endpoint& element,
                            std::optional<uint32_t> timeout_s);

// IPSET_CMD_HEADER: asks for a set's type name, family and revision.
nlmsghdr* BuildIpsetHeader(void* buf, uint32_t seq, std::string_view set_name,
                           Family family);

struct IpsetHeader {
  std::string type_name;   // "hash:ip,port"
  uint8_t family = 0;      // NFPROTO_IPV4 (2) / NFPROTO_IPV6 (10)
  uint8_t revision = 0;
};
// Parses the kernel's answer to BuildIpsetHeader.
std::optional<IpsetHeader> ParseIpsetHeader(const nlmsghdr* nlh);

// Readable dump: "IPSET_ADD family=inet flags=REQUEST|ACK" + attributes.
std::string DescribeIpsetMessage(const nlmsghdr* nlh);

}  // namespace ftpalg
