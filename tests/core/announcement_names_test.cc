// Tests for KindName and ErrorName (announcement_names.cc): the names logs,
// stats and golden files print.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include "ftpalg/announcement.h"

namespace ftpalg {
namespace {

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

}  // namespace
}  // namespace ftpalg
