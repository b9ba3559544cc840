// Test vocabulary shared by the FTP line grammar tests (ftp_command_test,
// ftp_reply_code_test, announcement_host_port_test, announcement_extended_test):
// ExactBuffer (ASan sees any read past the line), one enum naming the six
// announcement parsers, and the checks every parser's table goes through -
// verdict and span, formatted round trip, 64 KiB lines, random lines.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/announcement.h"
#include "tests/support/exact_buffer.h"

namespace ftpalg::announcement_checks {

using ::ftpalg::testing::ExactBuffer;

// The parser under test (the order seeds NeverCrash's random generator).
enum class Which { kPort, kEprt, kLprt, k227, k228, k229 };

ParseResult RunParser(Which w, std::string_view line);
AnnounceKind KindOf(Which w);

constexpr ParseError kOk = ParseError::kNone;
constexpr ParseError kNoNumbers = ParseError::kNoNumbers;
constexpr ParseError kMalformed = ParseError::kMalformed;
constexpr ParseError kOctetRange = ParseError::kOctetRange;
constexpr ParseError kPortRange = ParseError::kPortRange;
constexpr ParseError kPortZero = ParseError::kPortZero;
constexpr ParseError kBadFamily = ParseError::kBadFamily;
constexpr ParseError kBadAddress = ParseError::kBadAddress;

// One line, one parser, the expected verdict.
struct AnnCase {
  const char* name;
  Which which;
  std::string_view line;
  ParseError error;            // kNone for a successful parse
  std::string_view want = {};  // Endpoint::ToString(), or the port for 229
  std::string_view span = {};  // the bytes the span covers
  char delimiter = '|';
};
inline void PrintTo(const AnnCase& c, std::ostream* os) { *os << c.name; }

// Each parser's verdict, endpoint, span bytes and delimiter.
void ExpectParses(const AnnCase& c);
// The formatted endpoint substituted in the span parses back the same.
void ExpectRoundTrip(const AnnCase& c);
// The cases of `all` the parser accepts (the round-trip table).
std::vector<AnnCase> AcceptedCases(const std::vector<AnnCase>& all);

// prefix + repeat x fill + suffix: a line of 64 KiB or more.
struct HugeCase {
  const char* name;
  Which which;
  std::string prefix;
  size_t repeat;  // copies of `fill` between prefix and suffix
  std::string fill;
  std::string suffix;
  ParseError error;
};
inline void PrintTo(const HugeCase& c, std::ostream* os) { *os << c.name; }

// Bounded work; a span ending past 65535 is malformed.
void ExpectHugeLineBounded(const HugeCase& c);

struct FuzzCase {
  const char* name;
  Which which;
  std::string_view prefix;
};
inline void PrintTo(const FuzzCase& c, std::ostream* os) { *os << c.name; }

// Never a crash or an over-read on 100k random and mutated lines (mutations
// of the lines of `cases` for c.which); every accepted line round-trips.
void ExpectNeverCrashes(const FuzzCase& c, const std::vector<AnnCase>& cases);

// gtest parameter names: the case's own name.
template <typename Info>
std::string CaseName(const Info& info) {
  return info.param.name;
}

}  // namespace ftpalg::announcement_checks
