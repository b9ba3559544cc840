// SPDX-License-Identifier: GPL-2.0-or-later
// FormatReplacement: the replacement text of an announcement's span.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "ftpalg/announcement.h"

namespace ftpalg {
namespace {

// fd00::1 port 1025 as an LPRT/228 span.
constexpr std::string_view kV6Lprt =
    "6,16,253,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,2,4,1";

// ---------------------------------------------------------------------------
// FormatReplacement

struct FormatCase {
  const char* name;
  AnnounceKind kind;
  char delimiter;
  std::string_view addr;
  uint16_t port;
  std::string_view want;  // empty: must return 0
};

void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.name; }

std::string FormatName(const ::testing::TestParamInfo<FormatCase>& info) {
  return info.param.name;
}

class FormatTest : public ::testing::TestWithParam<FormatCase> {};

// Pins the exact replacement text per kind, and 0 for unexpressible families.
TEST_P(FormatTest, Formats) {
  const FormatCase& c = GetParam();
  Announcement a;
  a.kind = c.kind;
  a.delimiter = c.delimiter;
  const Endpoint ep{*IpAddress::Parse(c.addr), c.port};
  char out[kMaxReplacementLen];
  const size_t n = FormatReplacement(a, ep, out, sizeof(out));
  EXPECT_EQ(std::string_view(out, n), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FormatTest,
    ::testing::Values(
        FormatCase{"Port", AnnounceKind::kPort, '|', "192.168.1.1", 1286,
                   "192,168,1,1,5,6"},
        FormatCase{"PortV6", AnnounceKind::kPort, '|', "fd00::1", 1286, ""},
        FormatCase{"P227", AnnounceKind::k227, '|', "10.0.0.5", 65535,
                   "10,0,0,5,255,255"},
        FormatCase{"P227V6", AnnounceKind::k227, '|', "::ffff:10.0.0.5", 21,
                   ""},
        FormatCase{"EprtV4", AnnounceKind::kEprt, '|', "132.235.1.2", 6275,
                   "|1|132.235.1.2|6275|"},
        FormatCase{"EprtV6", AnnounceKind::kEprt, '!', "2001:0db8::0001", 21,
                   "!2!2001:db8::1!21!"},
        FormatCase{"EprtV4Mapped", AnnounceKind::kEprt, '|', "::ffff:10.0.0.1",
                   1025, "|2|::ffff:10.0.0.1|1025|"},
        FormatCase{"EprtLongestV6", AnnounceKind::kEprt, '|',
                   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
                   "|2|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|65535|"},
        FormatCase{"P229", AnnounceKind::k229, '|', "0.0.0.0", 6446, "6446"},
        FormatCase{"LprtV4", AnnounceKind::kLprt, '|', "10.0.0.1", 1025,
                   "4,4,10,0,0,1,2,4,1"},
        FormatCase{"P228V6", AnnounceKind::k228, '|', "fd00::1", 1025, kV6Lprt},
        FormatCase{"LprtLongestV6", AnnounceKind::kLprt, '|',
                   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
                   "6,16,255,255,255,255,255,255,255,255,255,255,255,255,255,"
                   "255,255,255,"
                   "2,255,255"}),
    FormatName);

// Pins FormatReplacement's cap handling: exact fit works, one byte less is 0.
TEST(FormatReplacementTest, RespectsCap) {
  Announcement a;
  a.kind = AnnounceKind::kPort;
  const Endpoint ep{IpAddress::V4(192, 168, 1, 1), 1286};
  char out[kMaxReplacementLen];
  EXPECT_EQ(FormatReplacement(a, ep, out, 15), 15u);
  EXPECT_EQ(FormatReplacement(a, ep, out, 14), 0u);
  EXPECT_EQ(FormatReplacement(a, ep, out, 0), 0u);
}

}  // namespace
}  // namespace ftpalg
