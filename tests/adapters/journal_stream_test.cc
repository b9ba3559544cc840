// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/journal_stream.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ftpalg {
namespace {

std::string DevIno(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return "";
  return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
         std::to_string(static_cast<unsigned long long>(st.st_ino));
}

// A pipe standing for the stream systemd hands a service, as JOURNAL_STREAM
// names it.
TEST(JournalStreamTest, MatchesOnlyTheNamedStream) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  int q[2];
  ASSERT_EQ(pipe(q), 0);
  const std::string stream = DevIno(p[1]);
  ASSERT_FALSE(stream.empty());
  EXPECT_TRUE(FdIsJournalStream(p[1], stream.c_str()));
  EXPECT_FALSE(FdIsJournalStream(q[1], stream.c_str()));  // stderr redirected elsewhere
  EXPECT_FALSE(FdIsJournalStream(p[1], nullptr));
  EXPECT_FALSE(FdIsJournalStream(p[1], ""));
  EXPECT_FALSE(FdIsJournalStream(p[1], (stream + "x").c_str()));
  EXPECT_FALSE(FdIsJournalStream(p[1], (":" + stream).c_str()));
  EXPECT_FALSE(FdIsJournalStream(p[1], stream.substr(0, stream.find(':')).c_str()));
  EXPECT_FALSE(FdIsJournalStream(p[1], "-1:-1"));
  EXPECT_FALSE(FdIsJournalStream(p[1], "99999999999999999999999:1"));
  EXPECT_FALSE(FdIsJournalStream(-1, stream.c_str()));
  for (int fd : {p[0], p[1], q[0], q[1]}) close(fd);
}

// The process's own stderr, through JOURNAL_STREAM, as ftpalgd's main()
// asks: dup a pipe onto fd 2 for the test, restore it after.
TEST(JournalStreamTest, StderrIsJournalReadsTheEnvironment) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  const int saved = dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
  const std::string stream = DevIno(p[1]);
  unsetenv("JOURNAL_STREAM");
  const bool without = StderrIsJournal();
  setenv("JOURNAL_STREAM", stream.c_str(), 1);
  const bool with = StderrIsJournal();
  unsetenv("JOURNAL_STREAM");
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(p[0]);
  close(p[1]);
  EXPECT_FALSE(without);
  EXPECT_TRUE(with);
}

TEST(JournalStreamTest, PrioritiesAreSdDaemons) {
  EXPECT_EQ(JournalPriorityPrefix(LogLevel::kError), "<3>");
  EXPECT_EQ(JournalPriorityPrefix(LogLevel::kWarn), "<4>");
  EXPECT_EQ(JournalPriorityPrefix(LogLevel::kInfo), "<6>");
  EXPECT_EQ(JournalPriorityPrefix(LogLevel::kDebug), "<7>");
}

}  // namespace
}  // namespace ftpalg
