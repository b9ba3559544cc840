// Tests for the pure FTP line parsers: verbs, reply codes, announcements and
// their replacement text.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/ftp_parser.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace ftpalg {
namespace {

using std::literals::string_view_literals::operator""sv;

// Copies `s` into a heap buffer of exactly s.size() bytes so that ASan
// reports any read past the end of the view.
class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view s)
      : len_(s.size()), data_(new char[s.size()]) {
    if (len_ > 0) std::memcpy(data_.get(), s.data(), len_);
  }
  std::string_view view() const { return std::string_view(data_.get(), len_); }

 private:
  size_t len_;
  std::unique_ptr<char[]> data_;
};

// ---------------------------------------------------------------------------
// ClassifyCommand

struct VerbCase {
  std::string_view line;
  Verb verb;
};

void PrintTo(const VerbCase& c, std::ostream* os) {
  *os << '"' << c.line << '"';
}

class ClassifyTest : public ::testing::TestWithParam<VerbCase> {};

// Pins verb recognition: case-insensitive, token ends at EOL/space/tab.
TEST_P(ClassifyTest, Classifies) {
  ExactBuffer buf(GetParam().line);
  EXPECT_EQ(ClassifyCommand(buf.view()), GetParam().verb);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifyTest,
    ::testing::Values(
        VerbCase{"PORT 1,2,3,4,5,6", Verb::kPort},
        VerbCase{"port 1,2,3,4,5,6", Verb::kPort},
        VerbCase{"PoRt\t1,2,3,4,5,6", Verb::kPort},
        VerbCase{"PORT", Verb::kPort},
        VerbCase{"EPRT |1|1.2.3.4|5|", Verb::kEprt},
        VerbCase{"eprt", Verb::kEprt},
        VerbCase{"LPRT 4,4,1,2,3,4,2,0,21", Verb::kLprt},
        VerbCase{"PASV", Verb::kPasv}, VerbCase{"pasv ", Verb::kPasv},
        VerbCase{"EPSV", Verb::kEpsv}, VerbCase{"EPSV ALL", Verb::kEpsv},
        VerbCase{"epsv 2", Verb::kEpsv}, VerbCase{"LPSV", Verb::kLpsv},
        VerbCase{"AUTH TLS", Verb::kAuth}, VerbCase{"auth ssl", Verb::kAuth},
        VerbCase{"USER anonymous", Verb::kOther},
        VerbCase{"PASS x", Verb::kOther}, VerbCase{"LIST", Verb::kOther},
        VerbCase{"RETR file", Verb::kOther}, VerbCase{"CWD /", Verb::kOther},
        VerbCase{"cwd /", Verb::kOther}, VerbCase{"XCWD /", Verb::kOther},
        VerbCase{"XCUP", Verb::kOther}, VerbCase{"XMKD d", Verb::kOther},
        VerbCase{"XPWD", Verb::kOther}, VerbCase{"XRMD d", Verb::kOther},
        VerbCase{"HOST ftp.example.com", Verb::kOther},
        VerbCase{"CLNT x", Verb::kOther}, VerbCase{"MLSD", Verb::kOther},
        VerbCase{"MLST x", Verb::kOther}, VerbCase{"SIZE f", Verb::kOther},
        VerbCase{"MDTM f", Verb::kOther}, VerbCase{"FEAT", Verb::kOther},
        VerbCase{"OPTS UTF8 ON", Verb::kOther},
        VerbCase{"PBSZ 0", Verb::kOther}, VerbCase{"PROT P", Verb::kOther},
        VerbCase{"CCC", Verb::kOther}, VerbCase{"ADAT x", Verb::kOther},
        VerbCase{"MIC x", Verb::kOther}, VerbCase{"CONF x", Verb::kOther},
        VerbCase{"ENC x", Verb::kOther}, VerbCase{"LANG en", Verb::kOther},
        VerbCase{"REST 100", Verb::kOther}, VerbCase{"ABOR", Verb::kOther},
        VerbCase{"ALLO 10", Verb::kOther}, VerbCase{"NOOP", Verb::kOther},
        VerbCase{"QUIT", Verb::kOther}, VerbCase{"STOU", Verb::kOther},
        VerbCase{"POST / HTTP/1.1", Verb::kUnknown},
        VerbCase{"GET / HTTP/1.1", Verb::kUnknown},
        VerbCase{"HTTP/1.1", Verb::kUnknown}, VerbCase{"", Verb::kUnknown},
        VerbCase{" PORT 1,2,3,4,5,6", Verb::kUnknown},
        VerbCase{"PORTS", Verb::kUnknown}, VerbCase{"PORT,1", Verb::kUnknown},
        VerbCase{"PO", Verb::kUnknown}, VerbCase{"PORT\0"sv, Verb::kUnknown},
        VerbCase{"\xffPORT", Verb::kUnknown}, VerbCase{"ZZZZ", Verb::kUnknown},
        VerbCase{"USERNAME x", Verb::kUnknown},
        VerbCase{"1234", Verb::kUnknown}));

// ---------------------------------------------------------------------------
// ParseReplyCode

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

// ---------------------------------------------------------------------------
// Announcement parsers

enum class Which { kPort, kEprt, kLprt, k227, k228, k229 };

ParseResult RunParser(Which w, std::string_view line) {
  switch (w) {
    case Which::kPort:
      return ParsePort(line);
    case Which::kEprt:
      return ParseEprt(line);
    case Which::kLprt:
      return ParseLprt(line);
    case Which::k227:
      return Parse227(line);
    case Which::k228:
      return Parse228(line);
    case Which::k229:
      return Parse229(line);
  }
  return {};
}

AnnounceKind KindOf(Which w) {
  switch (w) {
    case Which::kPort:
      return AnnounceKind::kPort;
    case Which::kEprt:
      return AnnounceKind::kEprt;
    case Which::kLprt:
      return AnnounceKind::kLprt;
    case Which::k227:
      return AnnounceKind::k227;
    case Which::k228:
      return AnnounceKind::k228;
    case Which::k229:
      return AnnounceKind::k229;
  }
  return AnnounceKind::kPort;
}

struct AnnCase {
  const char* name;
  Which which;
  std::string_view line;
  ParseError error;            // kNone for a successful parse
  std::string_view want = {};  // Endpoint::ToString(), or the port for 229
  std::string_view span = {};  // the bytes the span covers
  char delimiter = '|';
};

void PrintTo(const AnnCase& c, std::ostream* os) { *os << c.name; }

std::string NameOf(const ::testing::TestParamInfo<AnnCase>& info) {
  return info.param.name;
}

constexpr ParseError kOk = ParseError::kNone;
constexpr ParseError kNoNumbers = ParseError::kNoNumbers;
constexpr ParseError kMalformed = ParseError::kMalformed;
constexpr ParseError kOctetRange = ParseError::kOctetRange;
constexpr ParseError kPortRange = ParseError::kPortRange;
constexpr ParseError kPortZero = ParseError::kPortZero;
constexpr ParseError kBadFamily = ParseError::kBadFamily;
constexpr ParseError kBadAddress = ParseError::kBadAddress;

constexpr std::string_view kV6Lprt =
    "6,16,253,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,2,4,1";

const AnnCase kCases[] = {
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

class AnnounceTest : public ::testing::TestWithParam<AnnCase> {};

// Pins each parser's verdict, endpoint, span bytes and delimiter.
TEST_P(AnnounceTest, Parses) {
  const AnnCase& c = GetParam();
  ExactBuffer buf(c.line);
  const std::string_view line = buf.view();
  const ParseResult r = RunParser(c.which, line);
  if (c.error != kOk) {
    EXPECT_FALSE(r.announcement.has_value());
    EXPECT_EQ(ErrorName(r.error), ErrorName(c.error));
    return;
  }
  ASSERT_TRUE(r.announcement.has_value()) << ErrorName(r.error);
  EXPECT_EQ(r.error, kOk);
  const Announcement& a = *r.announcement;
  EXPECT_EQ(a.kind, KindOf(c.which));
  ASSERT_LE(size_t{a.span_offset} + a.span_len, line.size());
  EXPECT_EQ(line.substr(a.span_offset, a.span_len), c.span);
  if (c.which == Which::k229) {
    EXPECT_FALSE(a.has_address);
    EXPECT_EQ(std::to_string(a.endpoint.port), c.want);
  } else {
    EXPECT_TRUE(a.has_address);
    EXPECT_EQ(a.endpoint.ToString(), c.want);
  }
  if (c.which == Which::kEprt || c.which == Which::k229) {
    EXPECT_EQ(a.delimiter, c.delimiter);
  }
}

class RoundTripTest : public ::testing::TestWithParam<AnnCase> {};

// Pins the rewrite round trip: formatted endpoint in the span parses back.
TEST_P(RoundTripTest, SubstitutedLineParsesBack) {
  const AnnCase& c = GetParam();
  const ParseResult r = RunParser(c.which, c.line);
  ASSERT_TRUE(r.announcement.has_value());
  const Announcement& a = *r.announcement;
  char out[kMaxReplacementLen];
  const size_t n = FormatReplacement(a, a.endpoint, out, sizeof(out));
  ASSERT_GT(n, 0u);
  std::string rewritten(c.line.substr(0, a.span_offset));
  rewritten.append(out, n);
  rewritten.append(c.line.substr(a.span_offset + a.span_len));
  ExactBuffer buf(rewritten);
  const ParseResult again = RunParser(c.which, buf.view());
  ASSERT_TRUE(again.announcement.has_value()) << rewritten;
  EXPECT_EQ(again.announcement->endpoint, a.endpoint) << rewritten;
  EXPECT_EQ(again.announcement->span_offset, a.span_offset);
  EXPECT_EQ(again.announcement->span_len, n);
}

INSTANTIATE_TEST_SUITE_P(Table, AnnounceTest, ::testing::ValuesIn(kCases),
                         NameOf);

std::vector<AnnCase> AcceptedCases() {
  std::vector<AnnCase> out;
  for (const AnnCase& c : kCases) {
    if (c.error == kOk) out.push_back(c);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Accepted, RoundTripTest,
                         ::testing::ValuesIn(AcceptedCases()), NameOf);

// Pins the enum names used in logs and golden files.
TEST(NamesTest, KindAndErrorNames) {
  EXPECT_EQ(KindName(AnnounceKind::kPort), "PORT");
  EXPECT_EQ(KindName(AnnounceKind::kEprt), "EPRT");
  EXPECT_EQ(KindName(AnnounceKind::kLprt), "LPRT");
  EXPECT_EQ(KindName(AnnounceKind::k227), "227");
  EXPECT_EQ(KindName(AnnounceKind::k228), "228");
  EXPECT_EQ(KindName(AnnounceKind::k229), "229");
  EXPECT_EQ(ErrorName(ParseError::kNone), "none");
  EXPECT_EQ(ErrorName(ParseError::kNoNumbers), "no_numbers");
  EXPECT_EQ(ErrorName(ParseError::kMalformed), "malformed");
  EXPECT_EQ(ErrorName(ParseError::kOctetRange), "octet_range");
  EXPECT_EQ(ErrorName(ParseError::kPortRange), "port_range");
  EXPECT_EQ(ErrorName(ParseError::kPortZero), "port_zero");
  EXPECT_EQ(ErrorName(ParseError::kBadFamily), "bad_family");
  EXPECT_EQ(ErrorName(ParseError::kBadAddress), "bad_address");
}

// ---------------------------------------------------------------------------
// Huge lines

struct HugeCase {
  const char* name;
  Which which;
  std::string prefix;
  size_t repeat;  // copies of `fill` between prefix and suffix
  std::string fill;
  std::string suffix;
  ParseError error;
};

void PrintTo(const HugeCase& c, std::ostream* os) { *os << c.name; }

std::string HugeName(const ::testing::TestParamInfo<HugeCase>& info) {
  return info.param.name;
}

class HugeLineTest : public ::testing::TestWithParam<HugeCase> {};

// Pins 64 KiB lines: bounded work; a span ending past 65535 is malformed.
TEST_P(HugeLineTest, Bounded) {
  const HugeCase& c = GetParam();
  std::string line = c.prefix;
  for (size_t i = 0; i < c.repeat; ++i) line += c.fill;
  line += c.suffix;
  ExactBuffer buf(line);
  const ParseResult r = RunParser(c.which, buf.view());
  EXPECT_EQ(ErrorName(r.error), ErrorName(c.error));
  if (r.announcement) {
    EXPECT_LE(size_t{r.announcement->span_offset} + r.announcement->span_len,
              line.size());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, HugeLineTest,
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
                      HugeCase{"P229Pipes", Which::k229, "229 (", 65536, "|",
                               "", kMalformed},
                      HugeCase{"P229Late", Which::k229, "229 ", 65536, " ",
                               "(|||6446|)", kMalformed},
                      HugeCase{"P229Digits", Which::k229, "229 (|||", 65536,
                               "7", "|)", kPortRange},
                      HugeCase{"EprtLongAddress", Which::kEprt, "EPRT |2|",
                               65536, ":", "|21|", kBadAddress},
                      HugeCase{"EprtNoClose", Which::kEprt, "EPRT |1|", 65536,
                               "1", "", kMalformed},
                      HugeCase{"LprtManyNumbers", Which::kLprt, "LPRT 6,16",
                               65536, ",", "", kMalformed}),
    HugeName);

// ---------------------------------------------------------------------------
// Deterministic random lines

struct FuzzCase {
  const char* name;
  Which which;
  std::string_view prefix;
};

void PrintTo(const FuzzCase& c, std::ostream* os) { *os << c.name; }

std::string FuzzName(const ::testing::TestParamInfo<FuzzCase>& info) {
  return info.param.name;
}

class NeverCrashTest : public ::testing::TestWithParam<FuzzCase> {};

// Pins never-crash/no-overread on 100k random+mutated lines, and round trips.
TEST_P(NeverCrashTest, RandomLines) {
  const FuzzCase& c = GetParam();
  std::mt19937 rng(12345 + static_cast<unsigned>(c.which));
  static constexpr char kAlphabet[] = "0123456789,,,,|||!(). \t:-fFxX#\0\xff";
  std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 1);
  std::uniform_int_distribution<int> length(0, 60);
  std::uniform_int_distribution<int> coin(0, 3);
  std::uniform_int_distribution<int> any_byte(0, 255);
  std::vector<std::string_view> seeds;
  for (const AnnCase& a : kCases) {
    if (a.which == c.which) seeds.push_back(a.line);
  }
  ASSERT_FALSE(seeds.empty());
  auto random_char = [&]() {
    return coin(rng) == 0 ? static_cast<char>(any_byte(rng))
                          : kAlphabet[pick(rng)];
  };
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string line;
    if (i % 2 == 0) {
      if (coin(rng) != 0) line.append(c.prefix);
      const int len = length(rng);
      for (int j = 0; j < len; ++j) line.push_back(random_char());
    } else {
      line = std::string(seeds[static_cast<size_t>(i / 2) % seeds.size()]);
      const int edits = 1 + coin(rng) % 3;
      for (int e = 0; e < edits && !line.empty(); ++e) {
        const size_t at =
            static_cast<size_t>(any_byte(rng) * 977 + i) % line.size();
        switch (coin(rng)) {
          case 0:
            line[at] = random_char();
            break;
          case 1:
            line.insert(line.begin() + static_cast<std::ptrdiff_t>(at),
                        random_char());
            break;
          case 2:
            line.erase(at, 1);
            break;
          default:
            line.resize(at);
            break;
        }
      }
    }
    ExactBuffer buf(line);
    const std::string_view view = buf.view();
    const ParseResult r = RunParser(c.which, view);
    (void)ClassifyCommand(view);
    (void)ParseReplyCode(view);
    if (!r.announcement) {
      ASSERT_NE(r.error, ParseError::kNone) << line;
      continue;
    }
    ++accepted;
    const Announcement& a = *r.announcement;
    ASSERT_EQ(r.error, ParseError::kNone);
    ASSERT_EQ(a.kind, KindOf(c.which));
    ASSERT_LE(size_t{a.span_offset} + a.span_len, view.size());
    ASSERT_GT(a.span_len, 0);
    ASSERT_NE(a.endpoint.port, 0);
    char out[kMaxReplacementLen];
    const size_t n = FormatReplacement(a, a.endpoint, out, sizeof(out));
    ASSERT_GT(n, 0u);
    std::string rewritten(view.substr(0, a.span_offset));
    rewritten.append(out, n);
    rewritten.append(view.substr(a.span_offset + a.span_len));
    const ParseResult again = RunParser(c.which, rewritten);
    ASSERT_TRUE(again.announcement.has_value()) << line << " -> " << rewritten;
    ASSERT_EQ(again.announcement->endpoint, a.endpoint)
        << line << " -> " << rewritten;
  }
  EXPECT_GT(accepted, 500);
  RecordProperty("accepted", accepted);
}

INSTANTIATE_TEST_SUITE_P(
    Table, NeverCrashTest,
    ::testing::Values(FuzzCase{"Port", Which::kPort, "PORT 10,0,0,1,"},
                      FuzzCase{"Eprt", Which::kEprt, "EPRT |"},
                      FuzzCase{"Lprt", Which::kLprt, "LPRT 4,4,"},
                      FuzzCase{"P227", Which::k227, "227 ("},
                      FuzzCase{"P228", Which::k228, "228 (4,4,1,2,3,4,"},
                      FuzzCase{"P229", Which::k229, "229 (|||"}),
    FuzzName);

}  // namespace
}  // namespace ftpalg
