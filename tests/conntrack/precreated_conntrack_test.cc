// Tests of Mechanism (b), PrecreatedConntrack: the pending set element, then the
// related conntrack created from the data SYN (NAT, mark, stale tuples).
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/precreated_conntrack.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

using PrecreatedConntrackTest = PlaneTest;

TEST_F(PrecreatedConntrackTest, PrecreateActiveModeEndToEnd) {
  const Expectation e = PortExpectation(kSnatOrig, 45000);
  EXPECT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD"}));
  EXPECT_NE(Last().find("IPSET_ATTR_SETNAME=\"ftpalg-pend4\""), std::string::npos);
  EXPECT_NE(Last().find("IPSET_ATTR_IPADDR_IPV4 [net]=203.0.113.1"), std::string::npos);
  EXPECT_NE(Last().find("IPSET_ATTR_PORT [net]=45000"), std::string::npos);
  EXPECT_NE(Last().find("IPSET_ATTR_TIMEOUT [net]=60"), std::string::npos);
  EXPECT_EQ(log_.Count("pre-created related conntrack (no helper)"), 1u);

  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW", "IPSET_DEL"}));
  const std::string& ct_new = Nth(1);
  EXPECT_NE(ct_new.find("  CTA_TUPLE_ORIG\n"
                        "    CTA_TUPLE_IP\n"
                        "      CTA_IP_V4_SRC=203.0.113.2\n"
                        "      CTA_IP_V4_DST=203.0.113.1\n"
                        "    CTA_TUPLE_PROTO\n"
                        "      CTA_PROTO_NUM=6\n"
                        "      CTA_PROTO_SRC_PORT=20\n"
                        "      CTA_PROTO_DST_PORT=45000\n"),
            std::string::npos)
      << ct_new;
  EXPECT_NE(ct_new.find("  CTA_TUPLE_MASTER\n"
                        "    CTA_TUPLE_IP\n"
                        "      CTA_IP_V4_SRC=10.7.0.2\n"
                        "      CTA_IP_V4_DST=203.0.113.2\n"),
            std::string::npos);
  // The server keeps its address (how the client knows it); the target is
  // DNATed to the inside client.
  EXPECT_NE(ct_new.find("  CTA_NAT_SRC\n    CTA_NAT_V4_MINIP=203.0.113.2\n"),
            std::string::npos);
  EXPECT_NE(ct_new.find("  CTA_NAT_DST\n    CTA_NAT_V4_MINIP=10.7.0.2\n"),
            std::string::npos);
  EXPECT_NE(ct_new.find("CTA_PROTONAT_PORT_MIN=45000"), std::string::npos);
  EXPECT_TRUE(CounterIs("related_created", 1));

  // One connection per expectation: a second SYN finds nothing.
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList{});
  EXPECT_TRUE(CounterIs("syn_unmatched", 1));
  // The engine's later Remove is harmless.
  plane_->sink().Remove(e);
  EXPECT_EQ(TakeOps(), OpList{});
}

TEST_F(PrecreatedConntrackTest, PrecreatePassiveBehindSnatTranslatesTheClient) {
  Expectation e;
  e.kind = AnnounceKind::k227;
  e.announcer = Direction::kReply;
  e.master = kSnatOrig.ToFlow();
  e.peer = *IpAddress::Parse("10.7.0.2");
  e.target = Ep("203.0.113.2", 46000);
  e.nat_to = Ep("203.0.113.2", 46000);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  DataSyn(Syn("10.7.0.2", 51870, "203.0.113.2", 46000));
  const std::string& ct_new = Nth(1);
  EXPECT_NE(ct_new.find("  CTA_NAT_SRC\n    CTA_NAT_V4_MINIP=203.0.113.1\n"),
            std::string::npos)
      << ct_new;
  EXPECT_NE(ct_new.find("CTA_PROTO_SRC_PORT=51870"), std::string::npos);
}

TEST_F(PrecreatedConntrackTest, PrecreateActiveToDnatedServerSnatsTheServer) {
  Expectation e;
  e.kind = AnnounceKind::kPort;
  e.announcer = Direction::kOriginal;
  e.master = kDnatOrig.ToFlow();
  e.peer = *IpAddress::Parse("10.7.0.2");
  e.target = Ep("203.0.113.2", 47010);
  e.nat_to = Ep("203.0.113.2", 47010);
  ASSERT_EQ(plane_->sink().Install(e), InstallResult::kOk);
  DataSyn(Syn("10.7.0.2", 20, "203.0.113.2", 47010));
  EXPECT_NE(Nth(1).find("  CTA_NAT_SRC\n    CTA_NAT_V4_MINIP=203.0.113.1\n"),
            std::string::npos)
      << Nth(1);
}

// Hairpin: the master is DNATed (to the server) and SNATed (to the
// gateway's inside address) at once; the data connection needs both.
TEST_F(PrecreatedConntrackTest, HairpinPassiveIsDnatedToTheServerAndSnatedToTheGateway) {
  kernel_.conntracks.push_back(Conntrack(kHairpinOrig, kHairpinReply));
  ASSERT_EQ(plane_->sink().Install(HairpinPasvExpectation()), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD"}));
  EXPECT_NE(Last().find("IPSET_ATTR_IPADDR_IPV4 [net]=203.0.113.1"), std::string::npos) << Last();
  EXPECT_NE(Last().find("IPSET_ATTR_PORT [net]=50001"), std::string::npos) << Last();
  DataSyn(Syn("192.168.10.2", 51000, "203.0.113.1", 50001));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW", "IPSET_DEL"}));
  const std::string& ct_new = Nth(1);
  EXPECT_NE(ct_new.find("  CTA_TUPLE_ORIG\n"
                        "    CTA_TUPLE_IP\n"
                        "      CTA_IP_V4_SRC=192.168.10.2\n"
                        "      CTA_IP_V4_DST=203.0.113.1\n"),
            std::string::npos)
      << ct_new;
  EXPECT_NE(ct_new.find("  CTA_TUPLE_MASTER\n"
                        "    CTA_TUPLE_IP\n"
                        "      CTA_IP_V4_SRC=192.168.10.2\n"
                        "      CTA_IP_V4_DST=203.0.113.1\n"),
            std::string::npos)
      << ct_new;
  // SNAT: the client as the server knows it (the master's REPLY dst).
  EXPECT_NE(ct_new.find("  CTA_NAT_SRC\n    CTA_NAT_V4_MINIP=192.168.20.1\n"), std::string::npos)
      << ct_new;
  // DNAT: the server's own address and port.
  EXPECT_NE(ct_new.find("  CTA_NAT_DST\n    CTA_NAT_V4_MINIP=192.168.20.2\n"), std::string::npos)
      << ct_new;
  EXPECT_NE(ct_new.find("CTA_PROTONAT_PORT_MIN=50001"), std::string::npos) << ct_new;
  EXPECT_TRUE(CounterIs("related_created", 1));
}

TEST_F(PrecreatedConntrackTest, HairpinActiveIsDnatedToTheClientAndSnatedToThePublicAddress) {
  kernel_.conntracks.push_back(Conntrack(kHairpinOrig, kHairpinReply));
  ASSERT_EQ(plane_->sink().Install(HairpinPortExpectation()), InstallResult::kOk);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET", "IPSET_ADD"}));
  EXPECT_NE(Last().find("IPSET_ATTR_IPADDR_IPV4 [net]=192.168.20.1"), std::string::npos) << Last();
  DataSyn(Syn("192.168.20.2", 20, "192.168.20.1", 50005));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW", "IPSET_DEL"}));
  const std::string& ct_new = Nth(1);
  EXPECT_NE(ct_new.find("  CTA_TUPLE_ORIG\n"
                        "    CTA_TUPLE_IP\n"
                        "      CTA_IP_V4_SRC=192.168.20.2\n"
                        "      CTA_IP_V4_DST=192.168.20.1\n"),
            std::string::npos)
      << ct_new;
  // SNAT: the server as the client knows it (the public address it dialled).
  EXPECT_NE(ct_new.find("  CTA_NAT_SRC\n    CTA_NAT_V4_MINIP=203.0.113.1\n"), std::string::npos)
      << ct_new;
  // DNAT: the inside client's own address and port.
  EXPECT_NE(ct_new.find("  CTA_NAT_DST\n    CTA_NAT_V4_MINIP=192.168.10.2\n"), std::string::npos)
      << ct_new;
  EXPECT_NE(ct_new.find("CTA_PROTONAT_PORT_MIN=50005"), std::string::npos) << ct_new;
}

TEST_F(PrecreatedConntrackTest, EexistDeletesTheStaleConntrackAndRetriesOnce) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  TakeOps();
  kernel_.errors["CT_NEW"] = {EEXIST, 0};
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW", "CT_DELETE", "CT_NEW", "IPSET_DEL"}));
  EXPECT_NE(Nth(2).find("CTA_PROTO_SRC_PORT=20"), std::string::npos);
  EXPECT_TRUE(CounterIs("related_eexist_retries", 1));
  EXPECT_TRUE(CounterIs("related_created", 1));
}

TEST_F(PrecreatedConntrackTest, FailedCreateKeepsTheExpectationForARetransmittedSyn) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  TakeOps();
  kernel_.errors["CT_NEW"] = {ENOENT};
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW"}));
  EXPECT_TRUE(CounterIs("related_failed", 1));
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_EQ(TakeOps(), OpList({"CT_NEW", "IPSET_DEL"}));
}

TEST_F(PrecreatedConntrackTest, SynFromAnotherPeerOrNotASynIsIgnored) {
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  TakeOps();
  DataSyn(Syn("198.51.100.9", 20, "203.0.113.1", 45000));
  EXPECT_TRUE(CounterIs("syn_peer_mismatch", 1));
  TcpSpec s;
  s.src = Ep("203.0.113.2", 20);
  s.dst = Ep("203.0.113.1", 45000);
  s.flags = kTcpSyn | kTcpAck;
  DataSyn(BuildTcp(s));
  const uint8_t junk[7] = {0x45, 0, 0, 7, 0, 0, 0};
  plane_->OnDataSyn(junk, sizeof(junk), 2000);
  EXPECT_TRUE(CounterIs("syn_malformed", 2));
  EXPECT_EQ(TakeOps(), OpList{});
}

TEST_F(PrecreatedConntrackTest, MasterMarkIsInherited) {
  kernel_.conntracks[0].mark = 0x42;
  ASSERT_EQ(plane_->sink().Install(PortExpectation(kSnatOrig, 45000)),
            InstallResult::kOk);
  DataSyn(Syn("203.0.113.2", 20, "203.0.113.1", 45000));
  EXPECT_NE(Nth(1).find("CTA_MARK=66\n"), std::string::npos) << Nth(1);
}

}  // namespace
}  // namespace ftpalg::testing
