// Tests for ctnetlink message building/parsing: messages are compared as a
// readable attribute dump, never as raw bytes.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/ctnetlink_messages.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ftpalg {
namespace {

Endpoint Ep(const char* a, uint16_t port) {
  return Endpoint{*IpAddress::Parse(a), port};
}

class CtMessages : public ::testing::Test {
 protected:
  alignas(8) uint8_t buf_[kNlMsgBufSize];
  const CtTuple ctrl4_{Ep("10.7.0.2", 40100), Ep("203.0.113.2", 21), 6};
  const CtTuple ctrl6_{Ep("fd00:7::2", 40100), Ep("2001:db8:1::2", 21), 6};
};

TEST_F(CtMessages, GetByReplyTuple) {
  const CtTuple reply{Ep("203.0.113.2", 21), Ep("203.0.113.1", 40100), 6};
  nlmsghdr* nlh = BuildCtGet(buf_, 42, reply, TupleAttr::kReply);
  EXPECT_EQ(nlh->nlmsg_seq, 42u);
  EXPECT_EQ(DescribeCtMessage(nlh),
            "CT_GET family=inet flags=REQUEST|ACK\n"
            "  CTA_TUPLE_REPLY\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V4_SRC=203.0.113.2\n"
            "      CTA_IP_V4_DST=203.0.113.1\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=21\n"
            "      CTA_PROTO_DST_PORT=40100\n");
}

TEST_F(CtMessages, GetByOrigTupleV6) {
  EXPECT_EQ(DescribeCtMessage(BuildCtGet(buf_, 1, ctrl6_, TupleAttr::kOrig)),
            "CT_GET family=inet6 flags=REQUEST|ACK\n"
            "  CTA_TUPLE_ORIG\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V6_SRC=fd00:7::2\n"
            "      CTA_IP_V6_DST=2001:db8:1::2\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=40100\n"
            "      CTA_PROTO_DST_PORT=21\n");
}

TEST_F(CtMessages, DumpRequest) {
  EXPECT_EQ(DescribeCtMessage(BuildCtDump(buf_, 1, Family::kV4)),
            "CT_GET family=inet flags=REQUEST|ACK|ROOT|MATCH\n");
}

TEST_F(CtMessages, CreateRelatedWithBothNatMappings) {
  CtCreateSpec s;
  s.orig = CtTuple{Ep("203.0.113.2", 20), Ep("203.0.113.1", 45000), 6};
  s.master = ctrl4_;
  s.snat_to = *IpAddress::Parse("203.0.113.2");
  s.dnat_to = Ep("10.7.0.2", 45000);
  s.timeout_s = 30;
  s.mark = 7;
  EXPECT_EQ(DescribeCtMessage(BuildCtCreate(buf_, 2, s)),
            "CT_NEW family=inet flags=REQUEST|ACK|EXCL|CREATE\n"
            "  CTA_TUPLE_ORIG\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V4_SRC=203.0.113.2\n"
            "      CTA_IP_V4_DST=203.0.113.1\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=20\n"
            "      CTA_PROTO_DST_PORT=45000\n"
            "  CTA_TUPLE_REPLY\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V4_SRC=203.0.113.1\n"
            "      CTA_IP_V4_DST=203.0.113.2\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=45000\n"
            "      CTA_PROTO_DST_PORT=20\n"
            "  CTA_TUPLE_MASTER\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V4_SRC=10.7.0.2\n"
            "      CTA_IP_V4_DST=203.0.113.2\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=40100\n"
            "      CTA_PROTO_DST_PORT=21\n"
            "  CTA_NAT_SRC\n"
            "    CTA_NAT_V4_MINIP=203.0.113.2\n"
            "    CTA_NAT_V4_MAXIP=203.0.113.2\n"
            "  CTA_NAT_DST\n"
            "    CTA_NAT_V4_MINIP=10.7.0.2\n"
            "    CTA_NAT_V4_MAXIP=10.7.0.2\n"
            "    CTA_NAT_PROTO\n"
            "      CTA_PROTONAT_PORT_MIN=45000\n"
            "      CTA_PROTONAT_PORT_MAX=45000\n"
            "  CTA_TIMEOUT=30\n"
            "  CTA_MARK=7\n");
}

TEST_F(CtMessages, CreateV6NatUsesV6Attributes) {
  CtCreateSpec s;
  s.orig = CtTuple{Ep("fd00:7::2", 34118), Ep("2001:db8:1::2", 45110), 6};
  s.master = ctrl6_;
  s.snat_to = *IpAddress::Parse("2001:db8:1::1");
  s.dnat_to = Ep("2001:db8:1::2", 45110);
  const std::string d = DescribeCtMessage(BuildCtCreate(buf_, 2, s));
  EXPECT_NE(d.find("  CTA_NAT_SRC\n"
                   "    CTA_NAT_V6_MINIP=2001:db8:1::1\n"
                   "    CTA_NAT_V6_MAXIP=2001:db8:1::1\n"
                   "  CTA_NAT_DST\n"
                   "    CTA_NAT_V6_MINIP=2001:db8:1::2\n"
                   "    CTA_NAT_V6_MAXIP=2001:db8:1::2\n"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("CTA_TIMEOUT=120\n"), std::string::npos);
  EXPECT_EQ(d.find("CTA_MARK"), std::string::npos);
  EXPECT_EQ(d.find("[not-nested-flag]"), std::string::npos);
}

TEST_F(CtMessages, CreateWithHelperAndNoMaster) {
  CtCreateSpec s;
  s.orig = CtTuple{Ep("192.0.2.1", 40000), Ep("192.0.2.2", 21), 6};
  s.timeout_s = 10;
  s.helper = "irc";
  const std::string d = DescribeCtMessage(BuildCtCreate(buf_, 2, s));
  EXPECT_EQ(d.find("CTA_TUPLE_MASTER"), std::string::npos);
  EXPECT_EQ(d.find("CTA_NAT"), std::string::npos);
  EXPECT_NE(d.find("  CTA_HELP\n    CTA_HELP_NAME=\"irc\"\n"), std::string::npos)
      << d;
}

TEST_F(CtMessages, Delete) {
  EXPECT_EQ(DescribeCtMessage(BuildCtDelete(buf_, 3, ctrl4_)),
            "CT_DELETE family=inet flags=REQUEST|ACK\n"
            "  CTA_TUPLE_ORIG\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V4_SRC=10.7.0.2\n"
            "      CTA_IP_V4_DST=203.0.113.2\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=40100\n"
            "      CTA_PROTO_DST_PORT=21\n");
}

ExpectSpec PortSpec6() {
  ExpectSpec e;
  e.master = CtTuple{Ep("fd00:7::2", 40100), Ep("2001:db8:1::2", 21), 6};
  e.tuple = CtTuple{Ep("2001:db8:1::2", 0), Ep("2001:db8:1::1", 45000), 6};
  e.nat_dir = Direction::kReply;
  e.nat_to = Ep("fd00:7::2", 45000);
  e.timeout_s = 60;
  return e;
}

TEST_F(CtMessages, ExpectCreateFollowMaster) {
  EXPECT_EQ(DescribeCtMessage(BuildExpCreate(buf_, 4, PortSpec6())),
            "EXP_NEW family=inet6 flags=REQUEST|ACK|EXCL|CREATE\n"
            "  CTA_EXPECT_MASTER\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V6_SRC=fd00:7::2\n"
            "      CTA_IP_V6_DST=2001:db8:1::2\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=40100\n"
            "      CTA_PROTO_DST_PORT=21\n"
            "  CTA_EXPECT_TUPLE\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V6_SRC=2001:db8:1::2\n"
            "      CTA_IP_V6_DST=2001:db8:1::1\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=0\n"
            "      CTA_PROTO_DST_PORT=45000\n"
            "  CTA_EXPECT_MASK\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V6_SRC=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
            "      CTA_IP_V6_DST=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=0\n"
            "      CTA_PROTO_DST_PORT=65535\n"
            "  CTA_EXPECT_NAT\n"
            "    CTA_EXPECT_NAT_DIR=1\n"
            "    CTA_EXPECT_NAT_TUPLE\n"
            "      CTA_TUPLE_IP\n"
            "        CTA_IP_V6_SRC=fd00:7::2\n"
            "        CTA_IP_V6_DST=2001:db8:1::1\n"
            "      CTA_TUPLE_PROTO\n"
            "        CTA_PROTO_NUM=6\n"
            "        CTA_PROTO_SRC_PORT=45000\n"
            "        CTA_PROTO_DST_PORT=45000\n"
            "  CTA_EXPECT_FN=\"nat-follow-master\"\n");
}

TEST_F(CtMessages, ExpectCreateTimeoutOnlyInUpdate) {
  const std::string create = DescribeCtMessage(BuildExpCreate(buf_, 4, PortSpec6()));
  EXPECT_EQ(create.find("CTA_EXPECT_TIMEOUT"), std::string::npos);
  const std::string update =
      DescribeCtMessage(BuildExpSetTimeout(buf_, 5, PortSpec6()));
  EXPECT_EQ(update.substr(0, update.find('\n')),
            "EXP_NEW family=inet6 flags=REQUEST|ACK");  // no CREATE, no EXCL
  EXPECT_NE(update.find("\n  CTA_EXPECT_TIMEOUT=60\n"), std::string::npos);
  EXPECT_NE(update.find("CTA_EXPECT_MASTER"), std::string::npos);
  EXPECT_NE(update.find("CTA_EXPECT_MASK"), std::string::npos);
  EXPECT_EQ(update.find("CTA_EXPECT_NAT"), std::string::npos);
}

TEST_F(CtMessages, ExpectPassiveUsesOriginalDirection) {
  ExpectSpec e;
  e.master = ctrl4_;
  e.tuple = CtTuple{Ep("203.0.113.2", 0), Ep("203.0.113.1", 47000), 6};
  e.nat_dir = Direction::kOriginal;
  e.nat_to = Ep("10.7.0.2", 47000);
  const std::string d = DescribeCtMessage(BuildExpCreate(buf_, 4, e));
  EXPECT_NE(d.find("CTA_EXPECT_NAT_DIR=0\n"), std::string::npos) << d;
  EXPECT_NE(d.find("CTA_IP_V4_SRC=255.255.255.255"), std::string::npos);
}

TEST_F(CtMessages, ExpectWithoutNatHasNoFunction) {
  ExpectSpec e;
  e.master = ctrl4_;
  e.tuple = CtTuple{Ep("203.0.113.2", 0), Ep("203.0.113.1", 47000), 6};
  const std::string d = DescribeCtMessage(BuildExpCreate(buf_, 4, e));
  EXPECT_EQ(d.find("CTA_EXPECT_NAT"), std::string::npos);
  EXPECT_EQ(d.find("CTA_EXPECT_FN"), std::string::npos);
}

TEST_F(CtMessages, ExpectDeleteAlwaysCarriesTheTuple) {
  // An EXP_DELETE without a tuple would flush every expectation.
  const CtTuple t{Ep("203.0.113.2", 0), Ep("203.0.113.1", 47000), 6};
  EXPECT_EQ(DescribeCtMessage(BuildExpDelete(buf_, 6, t)),
            "EXP_DELETE family=inet flags=REQUEST|ACK\n"
            "  CTA_EXPECT_TUPLE\n"
            "    CTA_TUPLE_IP\n"
            "      CTA_IP_V4_SRC=203.0.113.2\n"
            "      CTA_IP_V4_DST=203.0.113.1\n"
            "    CTA_TUPLE_PROTO\n"
            "      CTA_PROTO_NUM=6\n"
            "      CTA_PROTO_SRC_PORT=0\n"
            "      CTA_PROTO_DST_PORT=47000\n");
}

TEST_F(CtMessages, ParseRoundTripV4) {
  CtInfo in;
  in.orig = ctrl4_;
  in.reply = CtTuple{Ep("203.0.113.2", 21), Ep("203.0.113.1", 40100), 6};
  in.status = 0x19e;
  in.timeout_s = 431999;
  in.id = 1234;
  in.mark = 0xdeadbeef;
  std::array<uint8_t, 16> labels{};
  labels[0] = 1;
  labels[15] = 0x80;
  in.labels = labels;
  std::strcpy(in.helper.data(), "irc");
  CtInfo out;
  ASSERT_TRUE(ParseCtMessage(BuildCtInfoMessage(buf_, 9, in), &out));
  EXPECT_EQ(out.orig, in.orig);
  EXPECT_EQ(out.reply, in.reply);
  EXPECT_FALSE(out.master.has_value());
  EXPECT_EQ(out.status, 0x19eu);
  EXPECT_EQ(out.timeout_s, 431999u);
  EXPECT_EQ(out.id, 1234u);
  EXPECT_EQ(out.mark, 0xdeadbeefu);
  EXPECT_EQ(out.labels, labels);
  EXPECT_EQ(out.helper_name(), "irc");
}

TEST_F(CtMessages, ParseRoundTripV6WithMaster) {
  CtInfo in;
  in.orig = CtTuple{Ep("2001:db8:1::2", 20), Ep("2001:db8:1::1", 45100), 6};
  in.reply = CtTuple{Ep("fd00:7::2", 45100), Ep("2001:db8:1::2", 20), 6};
  in.master = ctrl6_;
  CtInfo out;
  ASSERT_TRUE(ParseCtMessage(BuildCtInfoMessage(buf_, 9, in), &out));
  EXPECT_EQ(out.orig, in.orig);
  EXPECT_EQ(out.reply, in.reply);
  EXPECT_EQ(out.master, in.master);
  EXPECT_FALSE(out.mark.has_value());
  EXPECT_FALSE(out.labels.has_value());
  EXPECT_EQ(out.helper_name(), "");
}

TEST_F(CtMessages, ParseRejectsRequestsAndOtherSubsystems) {
  CtInfo out;
  EXPECT_FALSE(ParseCtMessage(BuildCtGet(buf_, 1, ctrl4_, TupleAttr::kOrig), &out));
  EXPECT_FALSE(ParseCtMessage(BuildExpDelete(buf_, 1, ctrl4_), &out));
  // A CT_DELETE request carries only the original tuple: not a full entry.
  EXPECT_FALSE(ParseCtMessage(BuildCtDelete(buf_, 1, ctrl4_), &out));
}

TEST_F(CtMessages, ParseSurvivesTruncation) {
  CtInfo in;
  in.orig = ctrl4_;
  in.reply = ctrl4_.Inverse();
  nlmsghdr* nlh = BuildCtInfoMessage(buf_, 9, in);
  const uint32_t full = nlh->nlmsg_len;
  for (uint32_t len = 16; len < full; len += 3) {
    nlh->nlmsg_len = len;
    CtInfo out;
    ParseCtMessage(nlh, &out);  // must not read past len (ASan build)
    (void)DescribeCtMessage(nlh);
  }
  nlh->nlmsg_len = full;
  CtInfo out;
  EXPECT_TRUE(ParseCtMessage(nlh, &out));
}

TEST_F(CtMessages, ParseExpMaster) {
  EXPECT_EQ(ParseExpMaster(BuildExpCreate(buf_, 4, PortSpec6())),
            std::optional<CtTuple>(PortSpec6().master));
  EXPECT_FALSE(ParseExpMaster(BuildCtDelete(buf_, 4, ctrl4_)).has_value());
}

TEST_F(CtMessages, DecodeNetlinkError) {
  std::memset(buf_, 0, sizeof(buf_));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf_);
  nlh->nlmsg_type = NLMSG_ERROR;
  auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
  err->error = -EEXIST;
  EXPECT_EQ(DecodeNetlinkError(nlh), std::optional<int>(EEXIST));
  err->error = 0;
  EXPECT_EQ(DecodeNetlinkError(nlh), std::optional<int>(0));
  nlh->nlmsg_len = 16;  // shorter than an nlmsgerr
  EXPECT_EQ(DecodeNetlinkError(nlh), std::optional<int>(EPROTO));
  EXPECT_FALSE(DecodeNetlinkError(BuildCtDelete(buf_, 1, ctrl4_)).has_value());
}

TEST(CtTupleTest, InverseAndText) {
  const CtTuple t{Ep("10.0.0.1", 1000), Ep("10.0.0.2", 21), 6};
  EXPECT_EQ(t.Inverse().src, t.dst);
  EXPECT_EQ(t.Inverse().Inverse(), t);
  EXPECT_EQ(t.ToString(), "tcp 10.0.0.1:1000->10.0.0.2:21");
  EXPECT_EQ(CtTuple::FromFlow(t.ToFlow()), t);
}

}  // namespace
}  // namespace ftpalg
