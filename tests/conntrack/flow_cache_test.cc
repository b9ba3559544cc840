// Tests of FlowCache through the plane's FlowResolver: one CT_GET per control
// connection, the NAT binding from its tuples, the cache's bounds.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/flow_cache.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tests/conntrack/plane_fixture.h"

namespace ftpalg::testing {
namespace {

using FlowCacheTest = PlaneTest;

TEST_F(FlowCacheTest, MasterForReplyAsksOnceThenUsesTheCache) {
  const auto m = plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, kSnatOrig.ToFlow());
  EXPECT_NE(Last().find("CTA_TUPLE_REPLY"), std::string::npos);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst), m);
  }
  EXPECT_EQ(TakeOps(), OpList{});  // no netlink round trip per packet
  // Binding of a resolved connection comes from the same cache entry.
  plane_->resolver().Binding(*m);
  EXPECT_EQ(TakeOps(), OpList{});
  EXPECT_TRUE(CounterIs("resolver_hits", 5));
  plane_->resolver().Forget(*m);
  plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst);
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));
}

TEST_F(FlowCacheTest, UnknownReplyTupleIsNullopt) {
  EXPECT_FALSE(plane_->resolver()
                   .MasterForReply(Ep("198.51.100.1", 21), Ep("203.0.113.1", 1))
                   .has_value());
  EXPECT_TRUE(CounterIs("resolver_failures", 1));
  EXPECT_TRUE(CounterIs("err_enoent", 1));
}

TEST_F(FlowCacheTest, BindingFromConntrackTuples) {
  NatBinding b = plane_->resolver().Binding(kSnatOrig.ToFlow());
  EXPECT_EQ(b.client_inside.ToString(), "10.7.0.2");
  EXPECT_EQ(b.client_outside.ToString(), "203.0.113.1");
  EXPECT_EQ(b.server_outside.ToString(), "203.0.113.2");
  EXPECT_EQ(b.server_inside.ToString(), "203.0.113.2");
  b = plane_->resolver().Binding(kDnatOrig.ToFlow());
  EXPECT_EQ(b.client_inside.ToString(), "203.0.113.2");
  EXPECT_EQ(b.client_outside.ToString(), "203.0.113.2");
  EXPECT_EQ(b.server_outside.ToString(), "203.0.113.1");
  EXPECT_EQ(b.server_inside.ToString(), "10.7.0.2");
}

TEST_F(FlowCacheTest, PublicIpOverridesOnlyTheNatedEnd) {
  PlaneOptions o;
  o.public_v4 = IpAddress::Parse("198.51.100.7");
  Make(o);
  NatBinding b = plane_->resolver().Binding(kSnatOrig.ToFlow());
  EXPECT_EQ(b.client_outside.ToString(), "198.51.100.7");
  EXPECT_EQ(b.server_outside.ToString(), "203.0.113.2");
  b = plane_->resolver().Binding(kDnatOrig.ToFlow());
  EXPECT_EQ(b.client_outside.ToString(), "203.0.113.2");
  EXPECT_EQ(b.server_outside.ToString(), "198.51.100.7");
}

TEST_F(FlowCacheTest, UnknownMasterGetsIdentityBinding) {
  const FlowKey k{Ep("10.9.9.9", 5555), Ep("192.0.2.9", 21)};
  const NatBinding b = plane_->resolver().Binding(k);
  EXPECT_EQ(b.client_outside, k.client.addr);
  EXPECT_EQ(b.server_inside, k.server.addr);
  EXPECT_TRUE(CounterIs("binding_fallbacks", 1));
}

TEST_F(FlowCacheTest, ResolverCacheIsBounded) {
  PlaneOptions o;
  o.resolver_cache_size = 1;
  Make(o);
  plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst);
  plane_->resolver().MasterForReply(kDnatReply.src, kDnatReply.dst);
  EXPECT_TRUE(CounterIs("resolver_evictions", 1));
  EXPECT_TRUE(CounterIs("resolver_cached", 1));
  TakeOps();
  EXPECT_TRUE(plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst));
  EXPECT_EQ(TakeOps(), OpList({"CT_GET"}));
}

TEST_F(FlowCacheTest, IdleCacheEntriesExpire) {
  plane_->resolver().MasterForReply(kSnatReply.src, kSnatReply.dst);
  plane_->Expire(1000 + 899 * 1000);
  EXPECT_TRUE(CounterIs("resolver_cached", 1));
  plane_->Expire(1000 + 911 * 1000);  // sweeps run every 10 s
  EXPECT_TRUE(CounterIs("resolver_cached", 0));
}

}  // namespace
}  // namespace ftpalg::testing
