// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/replay_resolver.h"

#include <gtest/gtest.h>

namespace ftpalg {
namespace {

Endpoint Ep(const char* addr, uint16_t port) { return Endpoint{*IpAddress::Parse(addr), port}; }

constexpr const char* kHairpin = "192.168.10.2:40300,203.0.113.1:21,192.168.20.2:21,192.168.20.1:40300";

TEST(ReplayResolver, ParsesDeclaredConntracks) {
  const auto v4 = ParseDeclaredConntrack(kHairpin);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->orig, (FlowKey{Ep("192.168.10.2", 40300), Ep("203.0.113.1", 21)}));
  EXPECT_EQ(v4->reply_src, Ep("192.168.20.2", 21));
  EXPECT_EQ(v4->reply_dst, Ep("192.168.20.1", 40300));
  const auto v6 = ParseDeclaredConntrack("[fd00:10::2]:1,[2001:db8:1::1]:21,[fd00:20::2]:21,[fd00:10::2]:1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->orig.server.port, 21);
  for (const char* bad : {"", "10.0.0.1:1,10.0.0.2:21,10.0.0.2:21", "10.0.0.1:1,10.0.0.2:21,10.0.0.2:21,10.0.0.1:1,",
                          "10.0.0.1:1,10.0.0.2:21,10.0.0.2:21,10.0.0.1:0",
                          "10.0.0.1:1,10.0.0.2:21,10.0.0.2:21,10.0.0.1:65536",
                          "10.0.0.1:1,10.0.0.2:21,[fd00::2]:21,10.0.0.1:1", "fd00::1:1,10.0.0.2:21,10.0.0.2:21,10.0.0.1:1",
                          "10.0.0.1:x,10.0.0.2:21,10.0.0.2:21,10.0.0.1:1", "10.0.0.1,10.0.0.2:21,10.0.0.2:21,10.0.0.1:1"}) {
    EXPECT_FALSE(ParseDeclaredConntrack(bad)) << bad;
  }
}

TEST(ReplayResolver, DeclaredReplyTupleMapsToItsMasterAndBinding) {
  EngineConfig config;
  config.public_v4 = *IpAddress::Parse("203.0.113.1");
  const std::vector<DeclaredConntrack> declared{*ParseDeclaredConntrack(kHairpin)};
  ReplayResolver r(config, declared);
  const FlowKey master{Ep("192.168.10.2", 40300), Ep("203.0.113.1", 21)};
  EXPECT_EQ(r.MasterForReply(Ep("192.168.20.2", 21), Ep("192.168.20.1", 40300)), master);
  const NatBinding b = r.Binding(master);
  EXPECT_EQ(b.client_inside.ToString(), "192.168.10.2");
  EXPECT_EQ(b.client_outside.ToString(), "192.168.20.1");
  EXPECT_EQ(b.server_outside.ToString(), "203.0.113.1");
  EXPECT_EQ(b.server_inside.ToString(), "192.168.20.2");
  // Anything else: the identity world (--public-ip for inside addresses).
  const FlowKey other{Ep("10.7.0.2", 40000), Ep("198.51.100.9", 21)};
  EXPECT_EQ(r.MasterForReply(Ep("198.51.100.9", 21), Ep("10.7.0.2", 40000)), other);
  EXPECT_EQ(r.Binding(other).client_outside.ToString(), "203.0.113.1");
  EXPECT_EQ(r.Binding(other).server_inside.ToString(), "198.51.100.9");
}

}  // namespace
}  // namespace ftpalg
