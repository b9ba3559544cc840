// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/replay_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ftpalg {
namespace {

std::string Parse(std::vector<std::string_view> args, ReplayOptions* o) {
  return ParseReplayArgs(args, o);
}

TEST(ReplayOptions, Defaults) {
  ReplayOptions o;
  ASSERT_EQ(Parse({"in.pcap", "out.pcap"}, &o), "");
  EXPECT_EQ(o.input, "in.pcap");
  EXPECT_EQ(o.output, "out.pcap");
  EXPECT_EQ(o.engine.control_ports, std::vector<uint16_t>{21});
  EXPECT_EQ(o.engine.inside.size(), EngineConfig::DefaultInside().size());
  EXPECT_FALSE(o.engine.public_v4);
  EXPECT_FALSE(o.engine.public_v6);
  EXPECT_TRUE(o.expectations_path.empty());
  EXPECT_EQ(o.engine.max_line_len, 512);
  EXPECT_TRUE(o.engine.offline_capture);
  EXPECT_FALSE(o.engine.expect_unrewritten);
}

TEST(ReplayOptions, AllFlags) {
  ReplayOptions o;
  ASSERT_EQ(Parse({"--public-ip", "203.0.113.1", "--public-ip=2001:db8:1::1",
                   "--inside", "10.0.0.0/8", "--inside=fd00::/8",
                   "--control-port", "21", "--control-port=2121",
                   "--expectations", "e.jsonl", "--trace", "t.txt", "--events=ev.jsonl", "--conntrack", "192.168.10.2:40300,203.0.113.1:21,192.168.20.2:21,192.168.20.1:40300",
                   "--max-line", "1024", "--verbose", "--all-expectations", "in.pcap",
                   "out.pcap"},
                  &o),
            "");
  ASSERT_TRUE(o.engine.public_v4);
  EXPECT_EQ(o.engine.public_v4->ToString(), "203.0.113.1");
  ASSERT_TRUE(o.engine.public_v6);
  EXPECT_EQ(o.engine.public_v6->ToString(), "2001:db8:1::1");
  ASSERT_EQ(o.engine.inside.size(), 2u);  // replaces the default list
  EXPECT_EQ(o.engine.inside[1].ToString(), "fd00::/8");
  EXPECT_EQ(o.engine.control_ports, (std::vector<uint16_t>{21, 2121}));
  EXPECT_EQ(o.expectations_path, "e.jsonl");
  EXPECT_EQ(o.trace_path, "t.txt");
  EXPECT_EQ(o.events_path, "ev.jsonl");
  ASSERT_EQ(o.conntracks.size(), 1u);
  EXPECT_EQ(o.conntracks[0].reply_dst.ToString(), "192.168.20.1:40300");
  EXPECT_EQ(o.engine.max_line_len, 1024);
  EXPECT_TRUE(o.verbose);
  EXPECT_TRUE(o.engine.expect_unrewritten);
  EXPECT_TRUE(o.engine.offline_capture);
}

TEST(ReplayOptions, DoubleDashEndsOptions) {
  ReplayOptions o;
  ASSERT_EQ(Parse({"--", "--odd-name.pcap", "out.pcap"}, &o), "");
  EXPECT_EQ(o.input, "--odd-name.pcap");
}

TEST(ReplayOptions, Help) {
  ReplayOptions o;
  EXPECT_EQ(Parse({"--help"}, &o), "");
  EXPECT_TRUE(o.help);
  EXPECT_NE(ReplayUsage().find("--public-ip"), std::string_view::npos);
}

TEST(ReplayOptions, Version) {
  ReplayOptions o;
  EXPECT_EQ(Parse({"--version"}, &o), "");
  EXPECT_TRUE(o.version);
  EXPECT_FALSE(o.help);
  EXPECT_NE(ReplayUsage().find("--version"), std::string_view::npos);
}

struct BadCase {
  std::vector<std::string_view> args;
  std::string_view expect_in_message;
};

class ReplayOptionsBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(ReplayOptionsBad, RefusedWithMessage) {
  ReplayOptions o;
  const std::string err = ParseReplayArgs(GetParam().args, &o);
  ASSERT_FALSE(err.empty());
  EXPECT_NE(err.find(GetParam().expect_in_message), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << "one line: " << err;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ReplayOptionsBad,
    ::testing::Values(
        BadCase{{}, "missing"},
        BadCase{{"in.pcap"}, "missing"},
        BadCase{{"a", "b", "c"}, "too many"},
        BadCase{{"x.pcap", "x.pcap"}, "different"},
        BadCase{{"--bogus", "a", "b"}, "unknown option"},
        BadCase{{"-x", "a", "b"}, "unknown option"},
        BadCase{{"a", "b", "--public-ip"}, "needs a value"},
        BadCase{{"--public-ip=", "a", "b"}, "non-empty"},
        BadCase{{"--public-ip", "300.1.1.1", "a", "b"}, "not an IP address"},
        BadCase{{"--public-ip", "1.2.3.4", "--public-ip", "5.6.7.8", "a", "b"}, "at most one"},
        BadCase{{"--public-ip", "::1", "--public-ip", "::2", "a", "b"}, "IPv6"},
        BadCase{{"--inside", "10.0.0.0/33", "a", "b"}, "CIDR"},
        BadCase{{"--inside", "banana", "a", "b"}, "CIDR"},
        BadCase{{"--control-port", "0", "a", "b"}, "1..65535"},
        BadCase{{"--control-port", "65536", "a", "b"}, "1..65535"},
        BadCase{{"--control-port", "-1", "a", "b"}, "1..65535"},
        BadCase{{"--control-port", "2 1", "a", "b"}, "1..65535"},
        BadCase{{"--control-port", "99999999999999999999", "a", "b"}, "1..65535"},
        BadCase{{"--max-line", "63", "a", "b"}, "64..4096"},
        BadCase{{"--max-line", "4097", "a", "b"}, "64..4096"},
        BadCase{{"--max-line", "1e3", "a", "b"}, "64..4096"},
        BadCase{{"--verbose=yes", "a", "b"}, "no value"},
        BadCase{{"--all-expectations=1", "a", "b"}, "no value"},
        BadCase{{"--trace", "t", "--trace", "u", "a", "b"}, "twice"},
        BadCase{{"--events", "t", "--events", "u", "a", "b"}, "twice"},
        BadCase{{"--conntrack", "10.0.0.1:1,10.0.0.2:21", "a", "b"}, "--conntrack: not ORIG_SRC"},
        BadCase{{"--expectations", "t", "--expectations", "u", "a", "b"}, "twice"}));

TEST(ParseBoundedNumber, Bounds) {
  unsigned long v = 0;
  EXPECT_TRUE(ParseBoundedNumber("1", 1, 10, &v));
  EXPECT_EQ(v, 1u);
  EXPECT_TRUE(ParseBoundedNumber("0010", 1, 10, &v));
  EXPECT_FALSE(ParseBoundedNumber("11", 1, 10, &v));
  EXPECT_FALSE(ParseBoundedNumber("", 1, 10, &v));
  EXPECT_FALSE(ParseBoundedNumber("+5", 1, 10, &v));
  EXPECT_FALSE(ParseBoundedNumber("12345678901", 0, 4294967295ul, &v));
}

}  // namespace
}  // namespace ftpalg
