// SPDX-License-Identifier: GPL-2.0-or-later
// The ring between the packet path and the --events writer: whole lines in
// order, wrap-around, partial and refused writes, drop-and-count when full.
#include "daemon/event_ring.h"

#include <gtest/gtest.h>

#include <string>

namespace ftpalg {
namespace {

// A writer that takes at most `room` bytes per call (0: would block).
struct Sink {
  std::string got;
  size_t room = 1 << 20;
  bool broken = false;
  EventRing::WriteFn Fn() {
    return [this](const char* p, size_t n) -> long {
      if (broken) return -1;
      const size_t take = n < room ? n : room;
      got.append(p, take);
      return static_cast<long>(take);
    };
  }
};

TEST(EventRing, LinesComeOutWholeAndInOrder) {
  EventRing ring(64);
  Sink sink;
  EXPECT_TRUE(ring.Push("one\n"));
  EXPECT_TRUE(ring.Push("two\n"));
  EXPECT_EQ(ring.Drain(sink.Fn()), 8u);
  EXPECT_EQ(sink.got, "one\ntwo\n");
  EXPECT_EQ(ring.used(), 0u);
  EXPECT_EQ(ring.pushed(), 2u);
  EXPECT_EQ(ring.dropped(), 0u);
}

TEST(EventRing, FullRingDropsAndCountsWholeLines) {
  EventRing ring(10);
  Sink sink;
  EXPECT_TRUE(ring.Push("aaaa\n"));
  EXPECT_TRUE(ring.Push("bbbb\n"));
  EXPECT_FALSE(ring.Push("c\n"));  // the writer fell behind: nothing of it goes in
  EXPECT_FALSE(ring.Push("dddddddddddd\n"));  // longer than the ring
  EXPECT_EQ(ring.dropped(), 2u);
  EXPECT_EQ(ring.pushed(), 2u);
  ring.Drain(sink.Fn());
  EXPECT_EQ(sink.got, "aaaa\nbbbb\n");
  EXPECT_TRUE(ring.Push("c\n"));
}

TEST(EventRing, WrapsAroundTheEnd) {
  EventRing ring(8);
  Sink sink;
  ring.Push("12345\n");
  sink.room = 4;
  ring.Drain(sink.Fn());  // takes "1234", leaves "5\n"
  EXPECT_EQ(sink.got, "1234");
  EXPECT_TRUE(ring.Push("abcdef"));  // 2 used + 6: wraps
  EXPECT_FALSE(ring.Push("x"));
  sink.room = 100;
  ring.Drain(sink.Fn());
  EXPECT_EQ(sink.got, "12345\nabcdef");
  EXPECT_EQ(ring.used(), 0u);
}

TEST(EventRing, ABlockedOrBrokenWriterKeepsTheBytes) {
  EventRing ring(32);
  Sink sink;
  ring.Push("line\n");
  sink.room = 0;  // EAGAIN
  EXPECT_EQ(ring.Drain(sink.Fn()), 0u);
  EXPECT_EQ(ring.used(), 5u);
  sink.broken = true;
  EXPECT_EQ(ring.Drain(sink.Fn()), 0u);
  EXPECT_EQ(ring.used(), 5u);
  sink.broken = false;
  sink.room = 100;
  ring.Drain(sink.Fn());
  EXPECT_EQ(sink.got, "line\n");
}

TEST(EventRing, CountDroppedForLinesNeverPushed) {
  EventRing ring(8);
  ring.CountDropped();
  EXPECT_EQ(ring.dropped(), 1u);
  EXPECT_EQ(ring.pushed(), 0u);
}

}  // namespace
}  // namespace ftpalg
