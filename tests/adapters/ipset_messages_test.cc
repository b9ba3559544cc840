// Tests for the ipset hash:ip,port messages, compared as readable dumps.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/ipset_messages.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <string>

namespace ftpalg {
namespace {

Endpoint Ep(const char* a, uint16_t port) {
  return Endpoint{*IpAddress::Parse(a), port};
}

class IpsetMessages : public ::testing::Test {
 protected:
  alignas(8) uint8_t buf_[kNlMsgBufSize];
};

TEST_F(IpsetMessages, AddV4WithTimeout) {
  nlmsghdr* nlh = BuildIpsetElement(buf_, 7, IpsetOp::kAdd, "ftpalg-pend4",
                                    Ep("203.0.113.1", 45000), 60u);
  EXPECT_EQ(nlh->nlmsg_seq, 7u);
  // No EXCL: re-adding an element refreshes its timeout.
  EXPECT_EQ(DescribeIpsetMessage(nlh),
            "IPSET_ADD family=inet flags=REQUEST|ACK\n"
            "  IPSET_ATTR_PROTOCOL=7\n"
            "  IPSET_ATTR_SETNAME=\"ftpalg-pend4\"\n"
            "  IPSET_ATTR_DATA\n"
            "    IPSET_ATTR_IP\n"
            "      IPSET_ATTR_IPADDR_IPV4 [net]=203.0.113.1\n"
            "    IPSET_ATTR_PORT [net]=45000\n"
            "    IPSET_ATTR_PROTO=6\n"
            "    IPSET_ATTR_TIMEOUT [net]=60\n");
}

TEST_F(IpsetMessages, DelV6HasNoTimeout) {
  EXPECT_EQ(DescribeIpsetMessage(BuildIpsetElement(
                buf_, 1, IpsetOp::kDel, "ftpalg-pend6", Ep("2001:db8::1", 45000),
                std::nullopt)),
            "IPSET_DEL family=inet6 flags=REQUEST|ACK\n"
            "  IPSET_ATTR_PROTOCOL=7\n"
            "  IPSET_ATTR_SETNAME=\"ftpalg-pend6\"\n"
            "  IPSET_ATTR_DATA\n"
            "    IPSET_ATTR_IP\n"
            "      IPSET_ATTR_IPADDR_IPV6 [net]=2001:db8::1\n"
            "    IPSET_ATTR_PORT [net]=45000\n"
            "    IPSET_ATTR_PROTO=6\n");
}

TEST_F(IpsetMessages, TestNeverSendsTimeout) {
  const std::string d = DescribeIpsetMessage(BuildIpsetElement(
      buf_, 1, IpsetOp::kTest, "s", Ep("192.0.2.1", 1), 5u));
  EXPECT_EQ(d.substr(0, d.find('\n')), "IPSET_TEST family=inet flags=REQUEST|ACK");
  EXPECT_EQ(d.find("TIMEOUT"), std::string::npos);
}

TEST_F(IpsetMessages, LongSetNameIsTruncatedToKernelLimit) {
  const std::string name(40, 'x');
  const std::string d = DescribeIpsetMessage(BuildIpsetElement(
      buf_, 1, IpsetOp::kDel, name, Ep("192.0.2.1", 1), std::nullopt));
  EXPECT_NE(d.find("IPSET_ATTR_SETNAME=\"" + std::string(31, 'x') + "\"\n"),
            std::string::npos)
      << d;
}

TEST_F(IpsetMessages, HeaderRequestAndAnswer) {
  EXPECT_EQ(DescribeIpsetMessage(
                BuildIpsetHeader(buf_, 3, "ftpalg-pend4", Family::kV4)),
            "IPSET_HEADER family=inet flags=REQUEST|ACK\n"
            "  IPSET_ATTR_PROTOCOL=7\n"
            "  IPSET_ATTR_SETNAME=\"ftpalg-pend4\"\n");
  // The kernel's answer: same command, with type name, revision, family.
  nlmsghdr* nlh = BuildIpsetHeader(buf_, 3, "ftpalg-pend4", Family::kV4);
  mnl_attr_put_strz(nlh, IPSET_ATTR_TYPENAME, "hash:ip,port");
  mnl_attr_put_u8(nlh, IPSET_ATTR_REVISION, 7);
  mnl_attr_put_u8(nlh, IPSET_ATTR_FAMILY, 2);
  const auto h = ParseIpsetHeader(nlh);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->type_name, "hash:ip,port");
  EXPECT_EQ(h->revision, 7);
  EXPECT_EQ(h->family, 2);
  // A header without a type name (our own request) is not an answer.
  EXPECT_FALSE(ParseIpsetHeader(
                   BuildIpsetHeader(buf_, 3, "ftpalg-pend4", Family::kV4))
                   .has_value());
}

}  // namespace
}  // namespace ftpalg
