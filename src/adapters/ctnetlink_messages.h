// Pure ctnetlink message building and parsing (IPv4 and IPv6, TCP):
// conntrack lookup, creation of a related (expected) conntrack, deletion,
// expectations, and decoding of conntrack messages and netlink errors.
// No I/O: every builder writes one complete message into a caller buffer of
// at least kNlMsgBufSize bytes and returns its header.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ftpalg/inet.h"

struct nlmsghdr;

namespace ftpalg {

inline constexpr size_t kNlMsgBufSize = 1024;

// One conntrack tuple (addresses, ports in host order, protocol).
struct CtTuple {
  Endpoint src;
  Endpoint dst;
  uint8_t proto = 6;  // IPPROTO_TCP

  Family family() const { return src.addr.family; }
  CtTuple Inverse() const { return CtTuple{dst, src, proto}; }
  static CtTuple FromFlow(const FlowKey& k) {
    return CtTuple{k.client, k.server, 6};
  }
  FlowKey ToFlow() const { return FlowKey{src, dst}; }
  std::string ToString() const;  // "tcp a:p->b:q"
  friend bool operator==(const CtTuple&, const CtTuple&) = default;
};

// Which tuple attribute carries a lookup key.
enum class TupleAttr : uint8_t { kOrig, kReply };

// IPCTNL_MSG_CT_GET of one conntrack by its ORIGINAL or REPLY tuple.
nlmsghdr* BuildCtGet(void* buf, uint32_t seq, const CtTuple& t,
                     TupleAttr which);
// IPCTNL_MSG_CT_GET dump of a family's conntracks (for probing).
nlmsghdr* BuildCtDump(void* buf, uint32_t seq, Family family);
// The same for every family at once (AF_UNSPEC: the kernel walks its table
// once, not once per family).
nlmsghdr* BuildCtDumpAllFamilies(void* buf, uint32_t seq);

// A conntrack created from userspace (IPCTNL_MSG_CT_NEW, CREATE|EXCL).
struct CtCreateSpec {
  CtTuple orig;                    // e.g. the data SYN exactly as it arrives
  std::optional<CtTuple> master;   // CTA_TUPLE_MASTER: makes it RELATED
  std::optional<IpAddress> snat_to;  // CTA_NAT_SRC (address only)
  std::optional<Endpoint> dnat_to;   // CTA_NAT_DST (address and port)
  uint32_t timeout_s = 120;        // CTA_TIMEOUT (mandatory on create)
  std::optional<uint32_t> mark;    // CTA_MARK
  std::string_view helper;         // CTA_HELP name; empty: none
};
// The reply tuple sent is orig.Inverse(); the kernel rewrites it for NAT.
nlmsghdr* BuildCtCreate(void* buf, uint32_t seq, const CtCreateSpec& spec);

// IPCTNL_MSG_CT_DELETE of the conntrack whose ORIGINAL tuple is t.
nlmsghdr* BuildCtDelete(void* buf, uint32_t seq, const CtTuple& t);

// A kernel expectation: tuple.src (source port wildcarded when
// wildcard_src_port) connecting to tuple.dst, related to master.
struct ExpectSpec {
  CtTuple master;        // control conntrack, ORIGINAL tuple
  CtTuple tuple;         // peer:0 -> target
  bool wildcard_src_port = true;
  // nat-follow-master: SNAT/DNAT addresses come from the master's tuple in
  // the opposite direction of nat_dir; the DNAT port is nat_to.port.
  std::optional<Direction> nat_dir;
  Endpoint nat_to;
  uint32_t timeout_s = 300;
};
// IPCTNL_MSG_EXP_NEW, CREATE|EXCL: master, tuple, mask, NAT + "nat-follow-
// master" when nat_dir is set. The kernel ignores a timeout here, so none is
// sent: follow with BuildExpSetTimeout.
nlmsghdr* BuildExpCreate(void* buf, uint32_t seq, const ExpectSpec& spec);
// IPCTNL_MSG_EXP_NEW without CREATE: sets the timeout of an existing one.
nlmsghdr* BuildExpSetTimeout(void* buf, uint32_t seq, const ExpectSpec& spec);
// IPCTNL_MSG_EXP_DELETE of the expectation matching tuple (never a flush:
// the tuple is always sent).
nlmsghdr* BuildExpDelete(void* buf, uint32_t seq, const CtTuple& tuple);
// IPCTNL_MSG_EXP_GET of the expectation matching tuple.
nlmsghdr* BuildExpGet(void* buf, uint32_t seq, const CtTuple& tuple);

// 128 conntrack label bits in the kernel's byte layout (CTA_LABELS payload:
// the kernel's unsigned long array, so bit n is host-order bit n).
using CtLabelBits = std::array<uint8_t, 16>;

// IPCTNL_MSG_CT_NEW without CREATE (an update) of the conntrack whose
// ORIGINAL tuple is orig: CTA_LABELS = data, CTA_LABELS_MASK = mask. The
// kernel computes new = (old & ~mask) ^ data: pass data already masked.
// ENOSPC when the conntrack has no label extension.
nlmsghdr* BuildCtSetLabels(void* buf, uint32_t seq, const CtTuple& orig,
                           const CtLabelBits& data, const CtLabelBits& mask);
// The inverse, for scripted kernels and tests: false when nlh is not such an
// update (needs CTA_TUPLE_ORIG and CTA_LABELS; a missing mask is all ones).
bool ParseCtSetLabels(const nlmsghdr* nlh, CtTuple* orig, CtLabelBits* data,
                      CtLabelBits* mask);

// A decoded conntrack message (CT_NEW answer to CT_GET, dump entry, event).
struct CtInfo {
  std::optional<CtTuple> orig;
  std::optional<CtTuple> reply;
  std::optional<CtTuple> master;
  uint32_t status = 0;
  uint32_t timeout_s = 0;
  uint32_t id = 0;
  std::optional<uint32_t> mark;
  std::optional<CtLabelBits> labels;
  std::array<char, 32> helper{};  // NUL-terminated; empty when none
  std::string_view helper_name() const { return helper.data(); }
};
// False when nlh is not a ctnetlink conntrack message or is malformed.
bool ParseCtMessage(const nlmsghdr* nlh, CtInfo* out);
// Encodes info as the kernel reports a conntrack (IPCTNL_MSG_CT_NEW with
// both tuples, status, timeout, id, mark, labels, helper): the inverse of
// ParseCtMessage, for tests and scripted kernels. orig and reply must be set.
nlmsghdr* BuildCtInfoMessage(void* buf, uint32_t seq, const CtInfo& info);

// An expectation message's master (CTA_EXPECT_MASTER), for EXP_GET answers.
std::optional<CtTuple> ParseExpMaster(const nlmsghdr* nlh);

// NLMSG_ERROR -> 0 for an ACK, positive errno otherwise; nullopt when nlh is
// not an error message.
std::optional<int> DecodeNetlinkError(const nlmsghdr* nlh);

// Readable dump of a ctnetlink message: a header line
// ("CT_NEW family=inet flags=REQUEST|ACK|CREATE|EXCL") then attributes.
std::string DescribeCtMessage(const nlmsghdr* nlh);

}  // namespace ftpalg
