// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/support/announcement_checks.h"

#include <gtest/gtest.h>

#include <random>

#include "ftpalg/ftp_command.h"
#include "ftpalg/ftp_reply_code.h"

namespace ftpalg::announcement_checks {

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

void ExpectParses(const AnnCase& c) {
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

void ExpectRoundTrip(const AnnCase& c) {
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

std::vector<AnnCase> AcceptedCases(const std::vector<AnnCase>& all) {
  std::vector<AnnCase> out;
  for (const AnnCase& c : all) {
    if (c.error == kOk) out.push_back(c);
  }
  return out;
}

void ExpectHugeLineBounded(const HugeCase& c) {
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

namespace {

// The accepted line's checks: span inside the line, a port, and the
// formatted endpoint substituted in the span parses back the same.
void ExpectAcceptedRandomLine(const FuzzCase& c, const std::string& line,
                              std::string_view view, const ParseResult& r) {
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

}  // namespace

void ExpectNeverCrashes(const FuzzCase& c, const std::vector<AnnCase>& cases) {
  std::mt19937 rng(12345 + static_cast<unsigned>(c.which));
  static constexpr char kAlphabet[] = "0123456789,,,,|||!(). \t:-fFxX#\0\xff";
  std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 1);
  std::uniform_int_distribution<int> length(0, 60);
  std::uniform_int_distribution<int> coin(0, 3);
  std::uniform_int_distribution<int> any_byte(0, 255);
  std::vector<std::string_view> seeds;
  for (const AnnCase& a : cases) {
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
    ExpectAcceptedRandomLine(c, line, view, r);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(accepted, 500);
  ::testing::Test::RecordProperty("accepted", accepted);
}

}  // namespace ftpalg::announcement_checks
