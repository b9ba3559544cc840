// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/expectation_table.h"

#include <gtest/gtest.h>

namespace ftpalg {
namespace {

Expectation Exp(uint32_t session, uint16_t port) {
  Expectation e;
  e.session_id = session;
  e.target = Endpoint{IpAddress::V4(203, 0, 113, 1), port};
  return e;
}

FlowKey Key(uint16_t port) {
  return FlowKey{Endpoint{IpAddress::V4(10, 0, 0, 1), port},
                 Endpoint{IpAddress::V4(192, 0, 2, 1), 21}};
}

// Ownership by target, oldest-first removal per session.
TEST(ExpectationTableTest, OwnerAndOldestFirst) {
  SessionTable sessions(4);
  ExpectationTable t(8, sessions);
  Session* s = sessions.Insert(Key(1));
  s->id = 7;
  t.Add(s, Exp(7, 2000), 10);
  t.Add(s, Exp(7, 2001), 20);
  EXPECT_EQ(t.OwnerOf(Exp(0, 2000).target), 7u);
  EXPECT_EQ(t.OwnerOf(Exp(0, 2002).target), 0u);
  EXPECT_EQ(s->exp_count, 2);
  Expectation e;
  ASSERT_TRUE(t.PopOldest(s, &e));
  EXPECT_EQ(e.target.port, 2000);
  EXPECT_EQ(t.OwnerOf(Exp(0, 2000).target), 0u);
  EXPECT_EQ(t.size(), 1u);
}

// Expiry removes only what is due, and the capacity is a hard cap.
TEST(ExpectationTableTest, ExpiryAndCapacity) {
  SessionTable sessions(4);
  ExpectationTable t(2, sessions);
  Session* s = sessions.Insert(Key(1));
  s->id = 1;
  t.Add(s, Exp(1, 3000), 100);
  t.Add(s, Exp(1, 3001), 200);
  EXPECT_TRUE(t.full());
  int expired = 0;
  t.Expire(150, [&](const Expectation& e) {
    EXPECT_EQ(e.target.port, 3000);
    ++expired;
  });
  EXPECT_EQ(expired, 1);
  EXPECT_FALSE(t.full());
  EXPECT_EQ(s->exp_count, 1);
  int removed = 0;
  t.RemoveSession(s, [&](const Expectation&) { ++removed; });
  EXPECT_EQ(removed, 1);
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace ftpalg
