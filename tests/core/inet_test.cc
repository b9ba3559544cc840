// Tests for addresses, prefixes, endpoints and flow keys.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/inet.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>

#include "tests/support/exact_buffer.h"

namespace ftpalg {
namespace {

using ::ftpalg::testing::ExactBuffer;

struct ParseCase {
  std::string_view text;
  bool ok;
  Family family;
  std::string_view canonical;  // ToString() when ok
};

void PrintTo(const ParseCase& c, std::ostream* os) {
  *os << '"' << c.text << '"';
}

class IpParseTest : public ::testing::TestWithParam<ParseCase> {};

// Pins IpAddress::Parse acceptance and the canonical (RFC 5952) ToString.
TEST_P(IpParseTest, ParsesAndPrintsCanonically) {
  const ParseCase& c = GetParam();
  ExactBuffer buf(c.text);
  const auto addr = IpAddress::Parse(buf.view());
  ASSERT_EQ(addr.has_value(), c.ok);
  if (!c.ok) return;
  EXPECT_EQ(addr->family, c.family);
  EXPECT_EQ(addr->ToString(), c.canonical);
  // Canonical text parses back to the same address.
  const auto again = IpAddress::Parse(addr->ToString());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *addr);
}

using std::literals::string_view_literals::operator""sv;
constexpr Family k4 = Family::kV4;
constexpr Family k6 = Family::kV6;

INSTANTIATE_TEST_SUITE_P(
    Valid, IpParseTest,
    ::testing::Values(
        ParseCase{"1.2.3.4", true, k4, "1.2.3.4"},
        ParseCase{"0.0.0.0", true, k4, "0.0.0.0"},
        ParseCase{"255.255.255.255", true, k4, "255.255.255.255"},
        ParseCase{"010.001.000.1", true, k4, "10.1.0.1"},
        ParseCase{"::", true, k6, "::"}, ParseCase{"::1", true, k6, "::1"},
        ParseCase{"1::", true, k6, "1::"},
        ParseCase{"fd00::1", true, k6, "fd00::1"},
        ParseCase{"FD00:0:0:0:0:0:0:1", true, k6, "fd00::1"},
        ParseCase{"2001:0db8:0000:0000:0000:ff00:0042:8329", true, k6,
                  "2001:db8::ff00:42:8329"},
        ParseCase{"2001:db8:0:1:1:1:1:1", true, k6, "2001:db8:0:1:1:1:1:1"},
        ParseCase{"1:0:0:2:0:0:0:3", true, k6, "1:0:0:2::3"},
        ParseCase{"1:0:0:2:2:0:0:3", true, k6, "1::2:2:0:0:3"},
        ParseCase{"1:2:3:4:5:6:7::", true, k6, "1:2:3:4:5:6:7:0"},
        ParseCase{"::2:3:4:5:6:7:8", true, k6, "0:2:3:4:5:6:7:8"},
        ParseCase{"1080::8:800:200C:417A", true, k6, "1080::8:800:200c:417a"},
        ParseCase{"::ffff:10.0.0.1", true, k6, "::ffff:10.0.0.1"},
        ParseCase{"::FFFF:a00:1", true, k6, "::ffff:10.0.0.1"},
        ParseCase{"0:0:0:0:0:ffff:10.0.0.1", true, k6, "::ffff:10.0.0.1"},
        ParseCase{"64:ff9b::192.0.2.33", true, k6, "64:ff9b::c000:221"},
        ParseCase{"1:2:3:4:5:6:1.2.3.4", true, k6, "1:2:3:4:5:6:102:304"},
        ParseCase{"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", true, k6,
                  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}));

INSTANTIATE_TEST_SUITE_P(
    Invalid, IpParseTest,
    ::testing::Values(
        ParseCase{"", false, k4, ""}, ParseCase{"1.2.3", false, k4, ""},
        ParseCase{"1.2.3.4.5", false, k4, ""},
        ParseCase{"256.1.1.1", false, k4, ""},
        ParseCase{"1.2.3.0001", false, k4, ""},
        ParseCase{"1.2.3.4 ", false, k4, ""},
        ParseCase{" 1.2.3.4", false, k4, ""},
        ParseCase{"1..2.3", false, k4, ""}, ParseCase{"1.2.3.", false, k4, ""},
        ParseCase{"1.2.3.-4", false, k4, ""},
        ParseCase{"1.2.3.4\0"sv, false, k4, ""}, ParseCase{":", false, k6, ""},
        ParseCase{":::", false, k6, ""}, ParseCase{"::1::", false, k6, ""},
        ParseCase{"1::2::3", false, k6, ""}, ParseCase{":1::", false, k6, ""},
        ParseCase{"1:", false, k6, ""}, ParseCase{"1::2:", false, k6, ""},
        ParseCase{"1:2:3:4:5:6:7", false, k6, ""},
        ParseCase{"1:2:3:4:5:6:7:8:9", false, k6, ""},
        ParseCase{"1:2:3:4:5:6:7:8::", false, k6, ""},
        ParseCase{"12345::", false, k6, ""}, ParseCase{"g::1", false, k6, ""},
        ParseCase{"fe80::1%eth0", false, k6, ""},
        ParseCase{"::1.2.3", false, k6, ""},
        ParseCase{"::1.2.3.4:5", false, k6, ""},
        ParseCase{"1:2:3:4:5:6:7:1.2.3.4", false, k6, ""},
        ParseCase{"::256.0.0.1", false, k6, ""},
        ParseCase{"[::1]", false, k6, ""}, ParseCase{"::\xff", false, k6, ""},
        ParseCase{"::1\0"sv, false, k6, ""}));

struct CidrCase {
  std::string_view cidr;
  std::string_view addr;
  bool contains;
};

void PrintTo(const CidrCase& c, std::ostream* os) {
  *os << c.cidr << " ? " << c.addr;
}

class CidrContainsTest : public ::testing::TestWithParam<CidrCase> {};

// Pins Cidr::Contains: prefix bits compared, families never mixed.
TEST_P(CidrContainsTest, Contains) {
  const CidrCase& c = GetParam();
  const auto cidr = Cidr::Parse(c.cidr);
  const auto addr = IpAddress::Parse(c.addr);
  ASSERT_TRUE(cidr.has_value());
  ASSERT_TRUE(addr.has_value());
  EXPECT_EQ(cidr->Contains(*addr), c.contains);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CidrContainsTest,
    ::testing::Values(CidrCase{"10.0.0.0/8", "10.255.1.2", true},
                      CidrCase{"10.0.0.0/8", "11.0.0.1", false},
                      CidrCase{"192.168.1.0/24", "192.168.1.255", true},
                      CidrCase{"192.168.1.0/24", "192.168.2.0", false},
                      CidrCase{"172.16.0.0/12", "172.31.255.255", true},
                      CidrCase{"172.16.0.0/12", "172.32.0.0", false},
                      CidrCase{"0.0.0.0/0", "8.8.8.8", true},
                      CidrCase{"0.0.0.0/0", "::1", false},
                      CidrCase{"1.2.3.4/32", "1.2.3.4", true},
                      CidrCase{"1.2.3.4/32", "1.2.3.5", false},
                      CidrCase{"1.2.3.4", "1.2.3.4", true},
                      CidrCase{"fc00::/7", "fd00::1", true},
                      CidrCase{"fc00::/7", "fe00::1", false},
                      CidrCase{"2001:db8::/32", "2001:db8:ffff::1", true},
                      CidrCase{"2001:db8::/33", "2001:db8:8000::1", false},
                      CidrCase{"::/0", "1.2.3.4", false},
                      CidrCase{"::1/128", "::1", true},
                      CidrCase{"10.1.2.3/8", "10.9.9.9", true}));

struct CidrTextCase {
  std::string_view text;
  bool ok;
  std::string_view canonical;
};

void PrintTo(const CidrTextCase& c, std::ostream* os) {
  *os << '"' << c.text << '"';
}

class CidrParseTest : public ::testing::TestWithParam<CidrTextCase> {};

// Pins Cidr::Parse acceptance and its canonical (host bits cleared) text.
TEST_P(CidrParseTest, ParsesAndPrints) {
  const CidrTextCase& c = GetParam();
  ExactBuffer buf(c.text);
  const auto cidr = Cidr::Parse(buf.view());
  ASSERT_EQ(cidr.has_value(), c.ok);
  if (c.ok) {
    EXPECT_EQ(cidr->ToString(), c.canonical);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CidrParseTest,
    ::testing::Values(
        CidrTextCase{"10.0.0.0/8", true, "10.0.0.0/8"},
        CidrTextCase{"10.1.2.3/8", true, "10.0.0.0/8"},
        CidrTextCase{"1.2.3.4", true, "1.2.3.4/32"},
        CidrTextCase{"fc00::/7", true, "fc00::/7"},
        CidrTextCase{"fd12:3456::1/16", true, "fd12::/16"},
        CidrTextCase{"::1", true, "::1/128"},
        CidrTextCase{"0.0.0.0/0", true, "0.0.0.0/0"},
        CidrTextCase{"10.0.0.0/33", false, ""},
        CidrTextCase{"::/129", false, ""}, CidrTextCase{"10.0.0.0/", false, ""},
        CidrTextCase{"10.0.0.0/-1", false, ""},
        CidrTextCase{"10.0.0.0/0008", false, ""},
        CidrTextCase{"10.0.0.0/8x", false, ""}, CidrTextCase{"/8", false, ""},
        CidrTextCase{"", false, ""}, CidrTextCase{"10.0.0.0/8/8", false, ""}));

struct EndpointCase {
  Endpoint ep;
  std::string_view text;
};

void PrintTo(const EndpointCase& c, std::ostream* os) { *os << c.text; }

class EndpointTextTest : public ::testing::TestWithParam<EndpointCase> {};

// Pins Endpoint::ToString: "a.b.c.d:p" and "[v6]:p".
TEST_P(EndpointTextTest, ToString) {
  EXPECT_EQ(GetParam().ep.ToString(), GetParam().text);
}

Endpoint Ep(std::string_view addr, uint16_t port) {
  return Endpoint{*IpAddress::Parse(addr), port};
}

INSTANTIATE_TEST_SUITE_P(
    Table, EndpointTextTest,
    ::testing::Values(EndpointCase{Ep("1.2.3.4", 21), "1.2.3.4:21"},
                      EndpointCase{Ep("fd00::1", 21), "[fd00::1]:21"},
                      EndpointCase{Ep("::ffff:10.0.0.1", 65535),
                                   "[::ffff:10.0.0.1]:65535"},
                      EndpointCase{Ep("0.0.0.0", 0), "0.0.0.0:0"}));

// Pins FlowKey::ToString as "client->server".
TEST(FlowKeyTest, ToString) {
  FlowKey k{Ep("10.0.0.1", 40000), Ep("10.0.0.2", 21)};
  EXPECT_EQ(k.ToString(), "10.0.0.1:40000->10.0.0.2:21");
  FlowKey key6{Ep("fd00::1", 40000), Ep("fd00::2", 21)};
  EXPECT_EQ(key6.ToString(), "[fd00::1]:40000->[fd00::2]:21");
}

// Pins FlowKeyHash: equal keys hash equally, and it spreads distinct keys.
TEST(FlowKeyTest, HashIsConsistentAndSpreads) {
  FlowKeyHash h;
  FlowKey a{Ep("10.0.0.1", 40000), Ep("10.0.0.2", 21)};
  FlowKey b = a;
  EXPECT_EQ(h(a), h(b));
  std::unordered_set<size_t> seen;
  for (uint16_t port = 1; port <= 1000; ++port) {
    FlowKey k{Ep("10.0.0.1", port), Ep("10.0.0.2", 21)};
    seen.insert(h(k));
  }
  EXPECT_EQ(seen.size(), 1000u);
  FlowKey swapped{a.server, a.client};
  EXPECT_NE(h(a), h(swapped));
}

// Pins IsV4Mapped: only ::ffff:a.b.c.d, never a plain IPv4 address.
TEST(IpAddressTest, IsV4Mapped) {
  EXPECT_TRUE(IpAddress::Parse("::ffff:1.2.3.4")->IsV4Mapped());
  EXPECT_FALSE(IpAddress::Parse("::1.2.3.4")->IsV4Mapped());
  EXPECT_FALSE(IpAddress::Parse("1.2.3.4")->IsV4Mapped());
  EXPECT_FALSE(IpAddress::Parse("::fffe:1.2.3.4")->IsV4Mapped());
}

// Pins V4/FromBytes layout (network order, unused bytes zero) and size().
TEST(IpAddressTest, ConstructorsAndSize) {
  const IpAddress a = IpAddress::V4(192, 168, 1, 2);
  EXPECT_EQ(a.family, Family::kV4);
  EXPECT_EQ(a.size(), 4u);
  EXPECT_EQ(a.ToString(), "192.168.1.2");
  for (size_t i = 4; i < 16; ++i) EXPECT_EQ(a.bytes[i], 0);
  const uint8_t raw[4] = {192, 168, 1, 2};
  EXPECT_EQ(IpAddress::FromBytes(Family::kV4, raw), a);
  uint8_t raw6[16] = {0xfd};
  raw6[15] = 1;
  const IpAddress b = IpAddress::FromBytes(Family::kV6, raw6);
  EXPECT_EQ(b.size(), 16u);
  EXPECT_EQ(b.ToString(), "fd00::1");
}

// Pins FormatAddress: same text as ToString, 0 when the buffer is too small.
TEST(IpAddressTest, FormatAddressBounds) {
  const IpAddress a = *IpAddress::Parse("2001:db8::1");
  char buf[kMaxAddressTextLen];
  EXPECT_EQ(std::string(buf, FormatAddress(a, buf, sizeof(buf))),
            "2001:db8::1");
  EXPECT_EQ(FormatAddress(a, buf, 10), 0u);
  EXPECT_EQ(FormatAddress(a, buf, 11), 11u);
}

// Pins Direction helpers.
TEST(DirectionTest, OppositeAndIndex) {
  EXPECT_EQ(Opposite(Direction::kOriginal), Direction::kReply);
  EXPECT_EQ(Opposite(Direction::kReply), Direction::kOriginal);
  EXPECT_EQ(Index(Direction::kOriginal), 0);
  EXPECT_EQ(Index(Direction::kReply), 1);
}

}  // namespace
}  // namespace ftpalg
