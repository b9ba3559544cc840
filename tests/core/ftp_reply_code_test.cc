// Tests for ParseReplyCode (ftp_reply_code.cc): the shape of a reply line.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/ftp_reply_code.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/support/announcement_checks.h"

namespace ftpalg {
namespace {

using namespace announcement_checks;  // NOLINT: the tests' vocabulary
using std::literals::string_view_literals::operator""sv;

struct CodeCase {
  std::string_view line;
  bool ok;
  uint16_t code;
  bool final;
};

void PrintTo(const CodeCase& c, std::ostream* os) {
  *os << '"' << c.line << '"';
}

class ReplyCodeTest : public ::testing::TestWithParam<CodeCase> {};

// Pins reply-code shape: [1-5][0-5][0-9] then ' ', '-' or end.
TEST_P(ReplyCodeTest, Parses) {
  const CodeCase& c = GetParam();
  ExactBuffer buf(c.line);
  const auto r = ParseReplyCode(buf.view());
  ASSERT_EQ(r.has_value(), c.ok);
  if (!c.ok) return;
  EXPECT_EQ(r->code, c.code);
  EXPECT_EQ(r->final, c.final);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ReplyCodeTest,
    ::testing::Values(
        CodeCase{"227 Entering Passive Mode", true, 227, true},
        CodeCase{"227-Entering", true, 227, false},
        CodeCase{"220", true, 220, true}, CodeCase{"100 x", true, 100, true},
        CodeCase{"559 x", true, 559, true}, CodeCase{"660 x", false, 0, false},
        CodeCase{"099 x", false, 0, false}, CodeCase{"260 x", false, 0, false},
        CodeCase{"2270 x", false, 0, false}, CodeCase{"22", false, 0, false},
        CodeCase{"", false, 0, false}, CodeCase{"227\t", false, 0, false},
        CodeCase{"227\0"sv, false, 0, false},
        CodeCase{" 227 x", false, 0, false},
        CodeCase{"a27 x", false, 0, false}));

}  // namespace
}  // namespace ftpalg
