// SPDX-License-Identifier: GPL-2.0-or-later
// AnnouncementPolicy: when an announcement is acted on, and what it becomes.
#include "ftpalg/announcement_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace ftpalg {
namespace {

using V = AnnouncementCheck::Verdict;
using R = AnnouncementCheck::Refusal;

struct CheckCase {
  const char* name;
  Direction from;
  AnnounceKind kind;
  const char* line;
  const char* sender;
  V verdict;
  R refusal = R::kNotFtp;
};

const std::vector<CheckCase>& Cases() {
  static const std::vector<CheckCase> cases = {
      {"own address", Direction::kOriginal, AnnounceKind::kPort, "PORT 10,7,0,2,4,1", "10.7.0.2",
       V::kAccepted},
      {"bounce to a third host", Direction::kOriginal, AnnounceKind::kPort,
       "PORT 192,168,30,9,4,1", "10.7.0.2", V::kRefused, R::kBounce},
      {"low port", Direction::kOriginal, AnnounceKind::kPort, "PORT 10,7,0,2,0,22", "10.7.0.2",
       V::kRefused, R::kLowPort},
      {"unparseable", Direction::kOriginal, AnnounceKind::kPort, "PORT 10,7,0,2,999,1",
       "10.7.0.2", V::kRefused, R::kParse},
      {"EPRT |2| on IPv4", Direction::kOriginal, AnnounceKind::kEprt, "EPRT |2|fd00::2|5000|",
       "10.7.0.2", V::kRefused, R::kFamily},
      {"229 takes the sender's address", Direction::kReply, AnnounceKind::k229,
       "229 Entering (|||5000|)", "192.168.20.2", V::kAccepted},
      {"227 from the server", Direction::kReply, AnnounceKind::k227,
       "227 Entering Passive Mode (192,168,20,2,4,1).", "192.168.20.2", V::kAccepted},
  };
  return cases;
}

class PolicyTest : public ::testing::TestWithParam<size_t> {};

TEST_P(PolicyTest, Examine) {
  const CheckCase& c = Cases()[GetParam()];
  EngineConfig cfg;
  AnnouncementPolicy policy(cfg);
  Dialogue dlg;
  const IpAddress sender = *IpAddress::Parse(c.sender);
  const AnnouncementCheck r = policy.Examine(dlg, c.from, c.kind, c.line, sender);
  EXPECT_EQ(r.verdict, c.verdict) << c.name;
  if (c.verdict == V::kRefused) {
    EXPECT_EQ(r.refusal, c.refusal) << c.name;
    EXPECT_FALSE(policy.Explain(r, sender).empty());
  } else {
    EXPECT_EQ(r.announcement.endpoint.addr, sender) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, PolicyTest, ::testing::Range<size_t>(0, Cases().size()));

TEST(AnnouncementPolicy, NotFtpDialogueRefusesEverything) {
  EngineConfig cfg;
  AnnouncementPolicy policy(cfg);
  Dialogue dlg;
  dlg.not_ftp = true;
  const IpAddress sender = *IpAddress::Parse("10.7.0.2");
  const AnnouncementCheck r =
      policy.Examine(dlg, Direction::kOriginal, AnnounceKind::kPort, "PORT 10,7,0,2,4,1", sender);
  EXPECT_EQ(r.verdict, V::kRefused);
  EXPECT_EQ(policy.Explain(r, sender), "not an FTP dialogue");
}

TEST(AnnouncementPolicy, ExplainsABounce) {
  EngineConfig cfg;
  AnnouncementPolicy policy(cfg);
  Dialogue dlg;
  const IpAddress sender = *IpAddress::Parse("10.7.0.2");
  const AnnouncementCheck r = policy.Examine(dlg, Direction::kOriginal, AnnounceKind::kPort,
                                             "PORT 192,168,30,9,4,1", sender);
  EXPECT_EQ(policy.Explain(r, sender), "address 192.168.30.9 is not the sender's 10.7.0.2 (bounce)");
}

TEST(AnnouncementPolicy, TakeoverRetransmissionIsADuplicateOnce) {
  EngineConfig cfg;
  AnnouncementPolicy policy(cfg);
  Dialogue dlg;
  dlg.takeover_port = 1025;
  dlg.takeover_by_server = false;
  const IpAddress sender = *IpAddress::Parse("10.7.0.2");
  EXPECT_EQ(policy.Examine(dlg, Direction::kOriginal, AnnounceKind::kPort, "PORT 10,7,0,2,4,1",
                           sender).verdict,
            V::kDuplicate);
  EXPECT_EQ(dlg.takeover_port, 0);
  EXPECT_EQ(policy.Examine(dlg, Direction::kOriginal, AnnounceKind::kPort, "PORT 10,7,0,2,4,1",
                           sender).verdict,
            V::kAccepted);
}

struct PlaceCase {
  const char* name;
  Direction from;
  const char* announced;
  const char* outside;  // the announcer's outside address in the binding
  bool rewrite;
  const char* target;
};

TEST(AnnouncementPolicy, Place) {
  const PlaceCase cases[] = {
      {"inside client behind MASQUERADE", Direction::kOriginal, "10.7.0.2", "203.0.113.1", true,
       "203.0.113.1"},
      {"public client: kept", Direction::kOriginal, "198.51.100.7", "198.51.100.7", false,
       "198.51.100.7"},
      {"inside client without NAT: kept", Direction::kOriginal, "10.7.0.2", "10.7.0.2", false,
       "10.7.0.2"},
      {"DNATed inside server", Direction::kReply, "192.168.20.2", "203.0.113.1", true,
       "203.0.113.1"},
      {"no outside address of that family", Direction::kOriginal, "10.7.0.2", "2001:db8::1", false,
       "10.7.0.2"},
  };
  EngineConfig cfg;
  AnnouncementPolicy policy(cfg);
  for (const PlaceCase& c : cases) {
    NatBinding b;
    b.client_inside = b.client_outside = *IpAddress::Parse("10.7.0.2");
    b.server_inside = b.server_outside = *IpAddress::Parse("192.168.20.2");
    (c.from == Direction::kOriginal ? b.client_outside : b.server_outside) =
        *IpAddress::Parse(c.outside);
    Announcement a;
    a.endpoint = Endpoint{*IpAddress::Parse(c.announced), 5000};
    const AnnouncementPlacement p = policy.Place(a, c.from, b);
    EXPECT_EQ(p.rewrite, c.rewrite) << c.name;
    EXPECT_EQ(p.target.addr, *IpAddress::Parse(c.target)) << c.name;
    EXPECT_EQ(p.target.port, 5000) << c.name;
  }
}

}  // namespace
}  // namespace ftpalg
