// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/atomic_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace ftpalg::testing {
namespace {

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ftpalg-atomic.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)!std::system(("rm -rf " + dir_).c_str()); }
  static bool Exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }
  static std::string Read(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  std::string dir_;
};

// Streamed text larger than the internal buffer (in small and large
// pieces) plus a final piece arrive in order, and only after Commit.
TEST_F(AtomicFileTest, StreamedTextAppearsWholeOnlyAfterCommit) {
  const std::string path = dir_ + "/out.txt";
  std::string error;
  std::unique_ptr<AtomicFile> f = AtomicFile::Create(path, &error);
  ASSERT_TRUE(f) << error;
  std::string want;
  for (int i = 0; i < 50000; ++i) {
    const std::string line = "line " + std::to_string(i) + "\n";
    f->stream() << line;
    want += line;
  }
  const std::string big(600 * 1024, 'x');  // larger than the buffer
  f->stream() << big;
  want += big;
  f->stream().put('!');
  want += '!';
  EXPECT_FALSE(Exists(path));
  ASSERT_TRUE(f->Commit("tail\n", &error)) << error;
  want += "tail\n";
  EXPECT_EQ(Read(path), want);
}

// Destroyed uncommitted: neither the file nor its temporary remains.
TEST_F(AtomicFileTest, UncommittedLeavesNothing) {
  const std::string path = dir_ + "/out.txt";
  std::string error;
  {
    std::unique_ptr<AtomicFile> f = AtomicFile::Create(path, &error);
    ASSERT_TRUE(f) << error;
    f->stream() << std::string(300 * 1024, 'y');  // some of it written
  }
  EXPECT_FALSE(Exists(path));
  EXPECT_EQ(std::system(("test -z \"$(ls -A " + dir_ + ")\"").c_str()), 0);
}

}  // namespace
}  // namespace ftpalg::testing
