// Tests for the RFC 2428 grammars (announcement_extended.cc): EPRT and 229 -
// verdicts, spans, round trips, huge and random lines.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/announcement.h"
#include "tests/support/announcement_checks.h"

namespace ftpalg {
namespace {

using namespace announcement_checks;  // NOLINT: the tests' vocabulary
using std::literals::string_view_literals::operator""sv;

const std::vector<AnnCase> kCases = {
    // EPRT
    {"EprtKernelExample", Which::kEprt, "EPRT |1|132.235.1.2|6275|", kOk,
     "132.235.1.2:6275", "|1|132.235.1.2|6275|"},
    {"EprtRfcV6", Which::kEprt, "EPRT |2|1080::8:800:200C:417A|5282|", kOk,
     "[1080::8:800:200c:417a]:5282", "|2|1080::8:800:200C:417A|5282|"},
    {"EprtFullV6", Which::kEprt,
     "EPRT |2|2001:0db8:0000:0000:0000:0000:0000:0001|21|", kOk,
     "[2001:db8::1]:21", "|2|2001:0db8:0000:0000:0000:0000:0000:0001|21|"},
    {"EprtCompressedV6", Which::kEprt, "EPRT |2|fd00::1|65535|", kOk,
     "[fd00::1]:65535", "|2|fd00::1|65535|"},
    {"EprtV4MappedV6", Which::kEprt, "eprt |2|::ffff:10.0.0.1|1025|", kOk,
     "[::ffff:10.0.0.1]:1025", "|2|::ffff:10.0.0.1|1025|"},
    {"EprtBangDelimiter", Which::kEprt, "EPRT !1!10.0.0.1!1025!", kOk,
     "10.0.0.1:1025", "!1!10.0.0.1!1025!", '!'},
    {"EprtHashDelimiterV6", Which::kEprt, "EPRT #2#fd00::1#2000#", kOk,
     "[fd00::1]:2000", "#2#fd00::1#2000#", '#'},
    {"EprtTildeDelimiter", Which::kEprt, "EPRT ~1~10.0.0.1~1025~", kOk,
     "10.0.0.1:1025", "~1~10.0.0.1~1025~", '~'},
    {"EprtTabs", Which::kEprt, "EPRT\t|1|10.0.0.1|1025|\t", kOk,
     "10.0.0.1:1025", "|1|10.0.0.1|1025|"},
    {"EprtDoubleSpace", Which::kEprt, "EPRT  |1|10.0.0.1|1025| ", kOk,
     "10.0.0.1:1025", "|1|10.0.0.1|1025|"},
    {"EprtFamily3", Which::kEprt, "EPRT |3|10.0.0.1|1025|", kBadFamily},
    {"EprtFamily0", Which::kEprt, "EPRT |0|10.0.0.1|1025|", kBadFamily},
    {"EprtFamilyEmpty", Which::kEprt, "EPRT ||10.0.0.1|1025|", kMalformed},
    {"EprtFamilyLetters", Which::kEprt, "EPRT |x|10.0.0.1|1025|", kMalformed},
    {"EprtV4FamilyV6Text", Which::kEprt, "EPRT |1|fd00::1|1025|", kBadAddress},
    {"EprtV6FamilyV4Text", Which::kEprt, "EPRT |2|10.0.0.1|1025|", kBadAddress},
    {"EprtOctet256", Which::kEprt, "EPRT |1|256.0.0.1|1025|", kBadAddress},
    {"EprtThreeOctets", Which::kEprt, "EPRT |1|10.0.0|1025|", kBadAddress},
    {"EprtEmptyAddress", Which::kEprt, "EPRT |1||1025|", kBadAddress},
    {"EprtNulInAddress", Which::kEprt, "EPRT |1|10.0\0.0.1|1025|"sv,
     kBadAddress},
    {"EprtPortZero", Which::kEprt, "EPRT |1|10.0.0.1|0|", kPortZero},
    {"EprtPort70000", Which::kEprt, "EPRT |1|10.0.0.1|70000|", kPortRange},
    {"EprtPortSixDigits", Which::kEprt, "EPRT |1|10.0.0.1|000021|", kPortRange},
    {"EprtPortEmpty", Which::kEprt, "EPRT |1|10.0.0.1||", kMalformed},
    {"EprtPortLetters", Which::kEprt, "EPRT |1|10.0.0.1|21a|", kMalformed},
    {"EprtMissingLastDelim", Which::kEprt, "EPRT |1|10.0.0.1|1025", kMalformed},
    {"EprtMixedDelims", Which::kEprt, "EPRT |1!10.0.0.1!1025|", kMalformed},
    {"EprtJunkAfter", Which::kEprt, "EPRT |1|10.0.0.1|1025|x", kMalformed},
    {"EprtDigitDelimiter", Which::kEprt, "EPRT 5152.0.0.15215", kMalformed},
    {"EprtHighByteDelimiter", Which::kEprt,
     "EPRT \xff"
     "1\xff"
     "10.0.0.1\xff"
     "21\xff",
     kMalformed},
    {"EprtNoBlank", Which::kEprt, "EPRT|1|10.0.0.1|1025|", kMalformed},
    {"EprtBare", Which::kEprt, "EPRT", kMalformed},
    {"EprtNulDelimiter", Which::kEprt,
     "EPRT \0"
     "1\0"
     "10.0.0.1\0"
     "21\0"sv,
     kMalformed},
    // 229
    {"P229Kernel", Which::k229, "229 Entering Extended Passive Mode (|||6446|)",
     kOk, "6446", "6446"},
    {"P229TrailingDot", Which::k229,
     "229 Entering Extended Passive Mode (|||6446|).", kOk, "6446", "6446"},
    {"P229Bang", Which::k229, "229 Entering Extended Passive Mode (!!!6446!)",
     kOk, "6446", "6446", '!'},
    {"P229NoParens", Which::k229, "229 Entering Extended Passive Mode |||6446|",
     kOk, "6446", "6446"},
    {"P229LowerCase", Which::k229,
     "229 entering extended passive mode (|||6446|)", kOk, "6446", "6446"},
    {"P229DotsBeforeParen", Which::k229,
     "229 Entering Extended Passive Mode... (|||6446|)", kOk, "6446", "6446"},
    {"P229DotsNoParen", Which::k229,
     "229 Entering Extended Passive Mode... |||6446|", kOk, "6446", "6446"},
    {"P229Continuation", Which::k229,
     "229-Entering Extended Passive Mode (|||1|)", kOk, "1", "1"},
    {"P229MaxPort", Which::k229, "229 (|||65535|)", kOk, "65535", "65535"},
    {"P229PortZero", Which::k229, "229 Entering Extended Passive Mode (|||0|)",
     kPortZero},
    {"P229Port70000", Which::k229,
     "229 Entering Extended Passive Mode (|||70000|)", kPortRange},
    {"P229PortSixDigits", Which::k229,
     "229 Entering Extended Passive Mode (|||123456|)", kPortRange},
    {"P229NoClosingDelim", Which::k229,
     "229 Entering Extended Passive Mode (|||6446)", kMalformed},
    {"P229FourDelims", Which::k229,
     "229 Entering Extended Passive Mode (||||6446|)", kMalformed},
    {"P229WrongClosingDelim", Which::k229,
     "229 Entering Extended Passive Mode (|||6446!)", kMalformed},
    {"P229Letters", Which::k229, "229 Entering Extended Passive Mode (|||abc|)",
     kMalformed},
    {"P229EndsAfterDigits", Which::k229, "229 (|||6446", kMalformed},
    {"P229Logout", Which::k229, "229 Logout", kNoNumbers},
    {"P229BareCode", Which::k229, "229", kNoNumbers},
    {"P229WrongCode", Which::k229, "227 (|||6446|)", kMalformed},
    {"P229NulAfter", Which::k229, "229 (|||6446|)\0"sv, kOk, "6446", "6446"},
};

class ExtendedParseTest : public ::testing::TestWithParam<AnnCase> {};

// Pins each parser's verdict, endpoint, span bytes and delimiter.
TEST_P(ExtendedParseTest, Parses) { ExpectParses(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Table, ExtendedParseTest, ::testing::ValuesIn(kCases),
                         CaseName<::testing::TestParamInfo<AnnCase>>);

class ExtendedRoundTripTest : public ::testing::TestWithParam<AnnCase> {};

// Pins the rewrite round trip: formatted endpoint in the span parses back.
TEST_P(ExtendedRoundTripTest, SubstitutedLineParsesBack) {
  ExpectRoundTrip(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Accepted, ExtendedRoundTripTest,
                         ::testing::ValuesIn(AcceptedCases(kCases)),
                         CaseName<::testing::TestParamInfo<AnnCase>>);

// ---------------------------------------------------------------------------
// Huge lines

class ExtendedHugeLineTest : public ::testing::TestWithParam<HugeCase> {};

// Pins 64 KiB lines: bounded work; a span ending past 65535 is malformed.
TEST_P(ExtendedHugeLineTest, Bounded) { ExpectHugeLineBounded(GetParam()); }

INSTANTIATE_TEST_SUITE_P(
    Table, ExtendedHugeLineTest,
    ::testing::Values(HugeCase{"P229Pipes", Which::k229, "229 (", 65536, "|",
                               "", kMalformed},
                      HugeCase{"P229Late", Which::k229, "229 ", 65536, " ",
                               "(|||6446|)", kMalformed},
                      HugeCase{"P229Digits", Which::k229, "229 (|||", 65536,
                               "7", "|)", kPortRange},
                      HugeCase{"EprtLongAddress", Which::kEprt, "EPRT |2|",
                               65536, ":", "|21|", kBadAddress},
                      HugeCase{"EprtNoClose", Which::kEprt, "EPRT |1|", 65536,
                               "1", "", kMalformed}),
    CaseName<::testing::TestParamInfo<HugeCase>>);

// ---------------------------------------------------------------------------
// Deterministic random lines

class ExtendedNeverCrashTest : public ::testing::TestWithParam<FuzzCase> {};

// Pins never-crash/no-overread on 100k random+mutated lines, and round trips.
TEST_P(ExtendedNeverCrashTest, RandomLines) {
  ExpectNeverCrashes(GetParam(), kCases);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExtendedNeverCrashTest,
    ::testing::Values(FuzzCase{"Eprt", Which::kEprt, "EPRT |"},
                      FuzzCase{"P229", Which::k229, "229 (|||"}),
    CaseName<::testing::TestParamInfo<FuzzCase>>);

}  // namespace
}  // namespace ftpalg
