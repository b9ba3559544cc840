// Tests of Mechanism (a), KernelExpectation: EXP_NEW with nat-follow-master, its
// timeout, its deletion, and the kernel's refusals.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/kernel_expectation.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

using KernelExpectationTest = PlaneTest;

TEST_F(KernelExpectationTest, InertHelperUsesKernelExpectations) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  const Expectation e = PortExpectation(kSnatOrig, 45010);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "EXP_NEW", "EXP_NEW"}));
  const std::string& create = Nth(1);
  EXPECT_NE(create.find("flags=REQUEST|ACK|EXCL|CREATE"), std::string::npos);
  EXPECT_NE(create.find("  CTA_EXPECT_TUPLE\n"
                        "    CTA_TUPLE_IP\n"
                        "      CTA_IP_V4_SRC=203.0.113.2\n"
                        "      CTA_IP_V4_DST=203.0.113.1\n"
                        "    CTA_TUPLE_PROTO\n"
                        "      CTA_PROTO_NUM=6\n"
                        "      CTA_PROTO_SRC_PORT=0\n"
                        "      CTA_PROTO_DST_PORT=45010\n"),
            std::string::npos)
      << create;
  EXPECT_NE(create.find("CTA_EXPECT_NAT_DIR=1\n"), std::string::npos);
  EXPECT_NE(create.find("CTA_EXPECT_FN=\"nat-follow-master\""), std::string::npos);
  EXPECT_NE(Last().find("flags=REQUEST|ACK\n"), std::string::npos);
  EXPECT_NE(Last().find("CTA_EXPECT_TIMEOUT=60"), std::string::npos);
  EXPECT_EQ(log_.Count("kernel expectation (helper irc)"), 1u);
  // No SYN is expected for it: nothing in the pending set.
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45010));
  EXPECT_EQ(TakeOps(), OpList{});
  plane_->sink().Remove(e);
  EXPECT_EQ(TakeOps(), OpList({"EXP_DELETE"}));
  EXPECT_NE(Last().find("CTA_EXPECT_TUPLE"), std::string::npos);
}

TEST_F(KernelExpectationTest, ReannouncedExpectationIsRecreatedAfterTheKernelUsedIt) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  const Expectation e = PortExpectation(kSnatOrig, 45010);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  TakeOps();
  // Still pending here, gone in the kernel (a data connection used it).
  kernel_.errors["EXP_NEW"] = {ENOENT};
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"EXP_NEW", "EXP_NEW", "EXP_NEW"}));
  EXPECT_NE(Nth(1).find("EXCL|CREATE"), std::string::npos);
  EXPECT_TRUE(CounterIs("expect_created", 2));
}

TEST_F(KernelExpectationTest, PassiveExpectationUsesOriginalDirection) {
  kernel_.conntracks[1] = Conntrack(kDnatOrig, kDnatReply, "sane");
  ASSERT_EQ(plane_->sink().Install(PasvExpectation(kDnatOrig, 47020)),
            InstallResult::kOk);
  EXPECT_NE(Nth(1).find("CTA_EXPECT_NAT_DIR=0\n"), std::string::npos) << Nth(1);
}

// Hairpin with kernel expectations: the DNAT is the expectation's NAT
// tuple; the SNAT is nat-follow-master from the master's tuple opposite
// to NAT_DIR, so the master must be the hairpin one and the direction right.
TEST_F(KernelExpectationTest, HairpinExpectationsCarryBothMappings) {
  kernel_.conntracks.push_back(Conntrack(kHairpinOrig, kHairpinReply, "irc"));
  const std::string kMaster =
      "  CTA_EXPECT_MASTER\n"
      "    CTA_TUPLE_IP\n"
      "      CTA_IP_V4_SRC=192.168.10.2\n"
      "      CTA_IP_V4_DST=203.0.113.1\n"
      "    CTA_TUPLE_PROTO\n"
      "      CTA_PROTO_NUM=6\n"
      "      CTA_PROTO_SRC_PORT=40200\n"
      "      CTA_PROTO_DST_PORT=21\n";
  ASSERT_EQ(plane_->sink().Install(HairpinPasvExpectation()), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "EXP_NEW", "EXP_NEW"}));
  const std::string& pasv = Nth(1);
  // 227: the client connects to the public address; DNAT to the server
  // (the NAT tuple's source), SNAT from the master's REPLY dst
  // (192.168.20.1) since NAT_DIR is ORIGINAL.
  EXPECT_NE(pasv.find(kMaster), std::string::npos) << pasv;
  EXPECT_NE(pasv.find("  CTA_EXPECT_TUPLE\n"
                      "    CTA_TUPLE_IP\n"
                      "      CTA_IP_V4_SRC=192.168.10.2\n"
                      "      CTA_IP_V4_DST=203.0.113.1\n"),
            std::string::npos)
      << pasv;
  EXPECT_NE(pasv.find("    CTA_EXPECT_NAT_DIR=0\n"
                      "    CTA_EXPECT_NAT_TUPLE\n"
                      "      CTA_TUPLE_IP\n"
                      "        CTA_IP_V4_SRC=192.168.20.2\n"),
            std::string::npos)
      << pasv;
  EXPECT_NE(pasv.find("        CTA_PROTO_SRC_PORT=50001\n"), std::string::npos) << pasv;
  EXPECT_NE(pasv.find("CTA_EXPECT_FN=\"nat-follow-master\""), std::string::npos) << pasv;
  ASSERT_EQ(plane_->sink().Install(HairpinPortExpectation()), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"EXP_NEW", "EXP_NEW"}));
  const std::string& port = Nth(1);
  // PORT: the server connects to 192.168.20.1; DNAT to the inside client,
  // SNAT from the master's ORIGINAL dst (203.0.113.1) since NAT_DIR is REPLY.
  EXPECT_NE(port.find(kMaster), std::string::npos) << port;
  EXPECT_NE(port.find("  CTA_EXPECT_TUPLE\n"
                      "    CTA_TUPLE_IP\n"
                      "      CTA_IP_V4_SRC=192.168.20.2\n"
                      "      CTA_IP_V4_DST=192.168.20.1\n"),
            std::string::npos)
      << port;
  EXPECT_NE(port.find("    CTA_EXPECT_NAT_DIR=1\n"
                      "    CTA_EXPECT_NAT_TUPLE\n"
                      "      CTA_TUPLE_IP\n"
                      "        CTA_IP_V4_SRC=192.168.10.2\n"),
            std::string::npos)
      << port;
  EXPECT_NE(port.find("        CTA_PROTO_SRC_PORT=50005\n"), std::string::npos) << port;
  EXPECT_NE(port.find("CTA_EXPECT_FN=\"nat-follow-master\""), std::string::npos) << port;
}

TEST_F(KernelExpectationTest, KernelExpectationConflictIsPortBusy) {
  kernel_.conntracks[0] = Conntrack(kSnatOrig, kSnatReply, "irc");
  kernel_.errors["EXP_NEW"] = {EBUSY, EEXIST};
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45010)),
            InstallResult::kPortBusy);
  EXPECT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45011)),
            InstallResult::kPortBusy);
  EXPECT_TRUE(CounterIs("port_busy", 2));
  EXPECT_TRUE(CounterIs("pending", 0));
}

}  // namespace
}  // namespace ftpalg::testing
