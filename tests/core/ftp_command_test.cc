// Tests for ClassifyCommand (ftp_command.cc): which verb a command line
// starts with.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/ftp_command.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/support/announcement_checks.h"

namespace ftpalg {
namespace {

using namespace announcement_checks;  // NOLINT: the tests' vocabulary
using std::literals::string_view_literals::operator""sv;

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

}  // namespace
}  // namespace ftpalg
