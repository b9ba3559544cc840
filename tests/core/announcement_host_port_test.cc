// Tests for the host-port grammars (announcement_host_port.cc): PORT, LPRT,
// 227 and 228 - verdicts, spans, round trips, huge and random lines.
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

constexpr std::string_view kV6Lprt =
    "6,16,253,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,2,4,1";

const std::vector<AnnCase> kCases = {
    // PORT
    {"PortKernelExample", Which::kPort, "PORT 192,168,1,1,5,6", kOk,
     "192.168.1.1:1286", "192,168,1,1,5,6"},
    {"PortLowerCase", Which::kPort, "port 10,0,0,1,4,1", kOk, "10.0.0.1:1025",
     "10,0,0,1,4,1"},
    {"PortMixedCase", Which::kPort, "PoRt 10,0,0,1,4,1", kOk, "10.0.0.1:1025",
     "10,0,0,1,4,1"},
    {"PortTab", Which::kPort, "PORT\t10,0,0,1,4,1", kOk, "10.0.0.1:1025",
     "10,0,0,1,4,1"},
    {"PortDoubleSpace", Which::kPort, "PORT  10,0,0,1,4,1", kOk,
     "10.0.0.1:1025", "10,0,0,1,4,1"},
    {"PortTrailingBlanks", Which::kPort, "PORT 10,0,0,1,4,1 \t", kOk,
     "10.0.0.1:1025", "10,0,0,1,4,1"},
    {"PortLeadingZeros", Which::kPort, "PORT 010,000,000,001,004,001", kOk,
     "10.0.0.1:1025", "010,000,000,001,004,001"},
    {"PortMax", Which::kPort, "PORT 255,255,255,255,255,255", kOk,
     "255.255.255.255:65535", "255,255,255,255,255,255"},
    {"PortLowPort", Which::kPort, "PORT 1,2,3,4,0,1", kOk, "1.2.3.4:1",
     "1,2,3,4,0,1"},
    {"PortOctet256", Which::kPort, "PORT 256,0,0,1,4,1", kOctetRange},
    {"PortOctetLast256", Which::kPort, "PORT 10,0,0,256,4,1", kOctetRange},
    {"PortOctet4Digits", Which::kPort, "PORT 1000,0,0,1,4,1", kOctetRange},
    {"PortOctet4DigitsZeros", Which::kPort, "PORT 0001,0,0,1,4,1", kOctetRange},
    {"PortOctetHuge", Which::kPort, "PORT 99999999999999999999,0,0,1,4,1",
     kOctetRange},
    {"PortP1Is256", Which::kPort, "PORT 10,0,0,1,256,1", kPortRange},
    {"PortP2FourDigits", Which::kPort, "PORT 10,0,0,1,4,0001", kPortRange},
    {"PortZero", Which::kPort, "PORT 10,0,0,1,0,0", kPortZero},
    {"PortEmptyField", Which::kPort, "PORT 10,0,,1,4,1", kMalformed},
    {"PortSevenNumbers", Which::kPort, "PORT 10,0,0,1,4,1,7", kMalformed},
    {"PortFiveNumbers", Which::kPort, "PORT 10,0,0,1,4", kMalformed},
    {"PortTrailingComma", Which::kPort, "PORT 10,0,0,1,4,1,", kMalformed},
    {"PortLeadingComma", Which::kPort, "PORT ,10,0,0,1,4,1", kMalformed},
    {"PortJunkAfter", Which::kPort, "PORT 10,0,0,1,4,1x", kMalformed},
    {"PortJunkAfterBlank", Which::kPort, "PORT 10,0,0,1,4,1 x", kMalformed},
    {"PortNoBlank", Which::kPort, "PORT10,0,0,1,4,1", kMalformed},
    {"PortBare", Which::kPort, "PORT", kMalformed},
    {"PortOnlyBlank", Which::kPort, "PORT ", kMalformed},
    {"PortSpaceAfterComma", Which::kPort, "PORT 10, 0,0,1,4,1", kMalformed},
    {"PortSpaceBeforeComma", Which::kPort, "PORT 10 ,0,0,1,4,1", kMalformed},
    {"PortNegative", Which::kPort, "PORT -1,0,0,1,4,1", kMalformed},
    {"PortNulAfter", Which::kPort, "PORT 10,0,0,1,4,1\0"sv, kMalformed},
    {"PortNulInside", Which::kPort, "PORT 10,0\0,0,1,4,1"sv, kMalformed},
    {"PortHighByte", Which::kPort, "PORT 10,0,0,1,4,1\xff", kMalformed},
    {"PortWrongVerb", Which::kPort, "PORX 10,0,0,1,4,1", kMalformed},
    {"PortEmpty", Which::kPort, "", kMalformed},
    // LPRT
    {"LprtV4", Which::kLprt, "LPRT 4,4,10,0,0,1,2,4,1", kOk, "10.0.0.1:1025",
     "4,4,10,0,0,1,2,4,1"},
    {"LprtV4Lower", Which::kLprt, "lprt\t4,4,10,0,0,1,2,4,1 ", kOk,
     "10.0.0.1:1025", "4,4,10,0,0,1,2,4,1"},
    {"LprtV6", Which::kLprt,
     "LPRT 6,16,253,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,2,4,1", kOk, "[fd00::1]:1025",
     kV6Lprt},
    {"LprtFamily5", Which::kLprt, "LPRT 5,4,10,0,0,1,2,4,1", kBadFamily},
    {"LprtHalMismatch", Which::kLprt, "LPRT 4,16,10,0,0,1,2,4,1", kMalformed},
    {"LprtPal3", Which::kLprt, "LPRT 4,4,10,0,0,1,3,0,4,1", kMalformed},
    {"LprtTooFew", Which::kLprt, "LPRT 4,4,10,0,0,1,2,4", kMalformed},
    {"LprtTooMany", Which::kLprt, "LPRT 4,4,10,0,0,1,2,4,1,9", kMalformed},
    {"LprtWayTooMany", Which::kLprt,
     "LPRT 6,16,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2,4,1,1,1,1,1,1,1,1",
     kMalformed},
    {"LprtOctet256", Which::kLprt, "LPRT 4,4,10,0,256,1,2,4,1", kOctetRange},
    {"LprtPortZero", Which::kLprt, "LPRT 4,4,10,0,0,1,2,0,0", kPortZero},
    {"LprtPortByte256", Which::kLprt, "LPRT 4,4,10,0,0,1,2,256,0", kPortRange},
    {"LprtJunkAfter", Which::kLprt, "LPRT 4,4,10,0,0,1,2,4,1)", kMalformed},
    {"LprtOnlyFamily", Which::kLprt, "LPRT 4", kMalformed},
    // 227
    {"P227Kernel", Which::k227, "227 Entering Passive Mode (192,168,1,2,4,1)",
     kOk, "192.168.1.2:1025", "192,168,1,2,4,1"},
    {"P227KernelExample", Which::k227,
     "227 Entering Passive Mode (192,168,1,1,5,6)", kOk, "192.168.1.1:1286",
     "192,168,1,1,5,6"},
    {"P227TrailingDot", Which::k227,
     "227 Entering Passive Mode (192,168,1,2,4,1).", kOk, "192.168.1.2:1025",
     "192,168,1,2,4,1"},
    {"P227NoParens", Which::k227, "227 Entering Passive Mode. 192,168,1,2,4,1",
     kOk, "192.168.1.2:1025", "192,168,1,2,4,1"},
    {"P227Equals", Which::k227, "227 =192,168,1,2,4,1", kOk, "192.168.1.2:1025",
     "192,168,1,2,4,1"},
    {"P227Bare", Which::k227, "227 192,168,1,2,4,1", kOk, "192.168.1.2:1025",
     "192,168,1,2,4,1"},
    {"P227LowerCase", Which::k227, "227 entering passive mode (10,0,0,5,4,1)",
     kOk, "10.0.0.5:1025", "10,0,0,5,4,1"},
    {"P227Spaced", Which::k227,
     "227 Entering Passive Mode ( 10, 0, 0, 5, 4, 1)", kOk, "10.0.0.5:1025",
     "10, 0, 0, 5, 4, 1"},
    {"P227Tabs", Which::k227,
     "227 Entering Passive Mode (\t10,\t0,\t0,\t5,\t4,\t1)", kOk,
     "10.0.0.5:1025", "10,\t0,\t0,\t5,\t4,\t1"},
    {"P227Continuation", Which::k227,
     "227-Entering Passive Mode (10,0,0,5,4,1)", kOk, "10.0.0.5:1025",
     "10,0,0,5,4,1"},
    {"P227TrailingText", Which::k227, "227 Passive (10,0,0,5,4,1) ok, go", kOk,
     "10.0.0.5:1025", "10,0,0,5,4,1"},
    {"P227NulAfter", Which::k227, "227 Passive (10,0,0,5,4,1)\0junk"sv, kOk,
     "10.0.0.5:1025", "10,0,0,5,4,1"},
    {"P227NulBefore", Which::k227, "227 \0\0(10,0,0,5,4,1)"sv, kOk,
     "10.0.0.5:1025", "10,0,0,5,4,1"},
    {"P227HighBytes", Which::k227, "227 \xc3\xa9\xff (10,0,0,5,4,1)", kOk,
     "10.0.0.5:1025", "10,0,0,5,4,1"},
    {"P227Logout", Which::k227, "227 Logout.", kNoNumbers},
    {"P227BareCode", Which::k227, "227", kNoNumbers},
    {"P227CodeSpace", Which::k227, "227 ", kNoNumbers},
    {"P227StrayDigit", Which::k227, "227 Entering Passive Mode 2 (1,2,3,4,5,6)",
     kMalformed},
    {"P227Octet256", Which::k227, "227 Entering Passive Mode (256,0,0,5,4,1)",
     kOctetRange},
    {"P227Octet4Digits", Which::k227,
     "227 Entering Passive Mode (1000,0,0,5,4,1)", kOctetRange},
    {"P227PortByte256", Which::k227,
     "227 Entering Passive Mode (10,0,0,5,4,256)", kPortRange},
    {"P227PortZero", Which::k227, "227 Entering Passive Mode (10,0,0,5,0,0)",
     kPortZero},
    {"P227SevenNumbers", Which::k227,
     "227 Entering Passive Mode (10,0,0,5,4,1,7)", kMalformed},
    {"P227FiveNumbers", Which::k227, "227 Entering Passive Mode (10,0,0,5,4)",
     kMalformed},
    {"P227EmptyField", Which::k227, "227 Entering Passive Mode (10,0,,0,5,4,1)",
     kMalformed},
    {"P227WrongCode", Which::k227, "228 Entering Passive Mode (10,0,0,5,4,1)",
     kMalformed},
    {"P227LongCode", Which::k227, "2270 (10,0,0,5,4,1)", kMalformed},
    // 228
    {"P228V4", Which::k228,
     "228 Entering Long Passive Mode (4,4,10,0,0,5,2,4,1)", kOk,
     "10.0.0.5:1025", "4,4,10,0,0,5,2,4,1"},
    {"P228V6", Which::k228,
     "228 Entering Long Passive Mode "
     "(6,16,253,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,2,4,1)",
     kOk, "[fd00::1]:1025", kV6Lprt},
    {"P228Spaced", Which::k228,
     "228 Long Passive ( 4, 4, 10, 0, 0, 5, 2, 4, 1 )", kOk, "10.0.0.5:1025",
     "4, 4, 10, 0, 0, 5, 2, 4, 1"},
    {"P228Logout", Which::k228, "228 Logout.", kNoNumbers},
    {"P228Family5", Which::k228, "228 Long (5,4,10,0,0,5,2,4,1)", kBadFamily},
    {"P228TooFew", Which::k228, "228 Long (4,4,10,0,0,5,2,4)", kMalformed},
    {"P228PortZero", Which::k228, "228 Long (4,4,10,0,0,5,2,0,0)", kPortZero},
    {"P228Octet256", Which::k228, "228 Long (4,4,10,0,0,256,2,4,1)",
     kOctetRange},
};

class HostPortParseTest : public ::testing::TestWithParam<AnnCase> {};

// Pins each parser's verdict, endpoint, span bytes and delimiter.
TEST_P(HostPortParseTest, Parses) { ExpectParses(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Table, HostPortParseTest, ::testing::ValuesIn(kCases),
                         CaseName<::testing::TestParamInfo<AnnCase>>);

class HostPortRoundTripTest : public ::testing::TestWithParam<AnnCase> {};

// Pins the rewrite round trip: formatted endpoint in the span parses back.
TEST_P(HostPortRoundTripTest, SubstitutedLineParsesBack) {
  ExpectRoundTrip(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Accepted, HostPortRoundTripTest,
                         ::testing::ValuesIn(AcceptedCases(kCases)),
                         CaseName<::testing::TestParamInfo<AnnCase>>);

// ---------------------------------------------------------------------------
// Huge lines

class HostPortHugeLineTest : public ::testing::TestWithParam<HugeCase> {};

// Pins 64 KiB lines: bounded work; a span ending past 65535 is malformed.
TEST_P(HostPortHugeLineTest, Bounded) { ExpectHugeLineBounded(GetParam()); }

INSTANTIATE_TEST_SUITE_P(
    Table, HostPortHugeLineTest,
    ::testing::Values(HugeCase{"PortDigits", Which::kPort, "PORT 1", 65536, "9",
                               ",0,0,1,4,1", kOctetRange},
                      HugeCase{"PortTrailingBlanks", Which::kPort,
                               "PORT 10,0,0,1,4,1", 65536, " ", "", kOk},
                      HugeCase{"PortCommas", Which::kPort, "PORT 1", 65536, ",",
                               "", kMalformed},
                      HugeCase{"P227TextThenNumbers", Which::k227, "227 ",
                               65536, "x", "(10,0,0,5,4,1)", kMalformed},
                      HugeCase{"P227NumbersThenText", Which::k227,
                               "227 (10,0,0,5,4,1)", 65536, "x", "", kOk},
                      HugeCase{"P227NoDigits", Which::k227, "227 ", 65536,
                               std::string(1, '\0'), "", kNoNumbers},
                      HugeCase{"P227DanglingCommas", Which::k227, "227 1",
                               65536, ",", "", kMalformed},
                      HugeCase{"P227ManyNumbers", Which::k227, "227 (1", 16384,
                               ",1", ")", kMalformed},
                      HugeCase{"P228OneHugeNumber", Which::k228, "228 ", 65536,
                               "1", "", kMalformed},
                      HugeCase{"P228ManyNumbers", Which::k228, "228 (6,16",
                               16384, ", 1", ")", kMalformed},
                      HugeCase{"PortManyNumbers", Which::kPort, "PORT 1", 16384,
                               ",1", "", kMalformed},
                      HugeCase{"LprtManyNumbers", Which::kLprt, "LPRT 6,16",
                               65536, ",", "", kMalformed}),
    CaseName<::testing::TestParamInfo<HugeCase>>);

// ---------------------------------------------------------------------------
// Deterministic random lines

class HostPortNeverCrashTest : public ::testing::TestWithParam<FuzzCase> {};

// Pins never-crash/no-overread on 100k random+mutated lines, and round trips.
TEST_P(HostPortNeverCrashTest, RandomLines) {
  ExpectNeverCrashes(GetParam(), kCases);
}

INSTANTIATE_TEST_SUITE_P(
    Table, HostPortNeverCrashTest,
    ::testing::Values(FuzzCase{"Port", Which::kPort, "PORT 10,0,0,1,"},
                      FuzzCase{"Lprt", Which::kLprt, "LPRT 4,4,"},
                      FuzzCase{"P227", Which::k227, "227 ("},
                      FuzzCase{"P228", Which::k228, "228 (4,4,1,2,3,4,"}),
    CaseName<::testing::TestParamInfo<FuzzCase>>);

}  // namespace
}  // namespace ftpalg
