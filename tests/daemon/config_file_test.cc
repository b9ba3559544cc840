// SPDX-License-Identifier: GPL-2.0-or-later
// LoadOptions: the config file under the command line.
#include "daemon/config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace ftpalg {
namespace {

// The default config file (FTPALGD_DEFAULT_CONFIG in tests) is read when it
// exists; a named --config file must exist; the command line wins.
class LoadOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ftpalg-load-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const char* old = getenv("FTPALGD_DEFAULT_CONFIG");
    had_env_ = old != nullptr;
    if (had_env_) old_env_ = old;
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
    if (had_env_) {
      setenv("FTPALGD_DEFAULT_CONFIG", old_env_.c_str(), 1);
    } else {
      unsetenv("FTPALGD_DEFAULT_CONFIG");
    }
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
  bool had_env_ = false;
  std::string old_env_;
};

TEST_F(LoadOptionsTest, MissingDefaultFileIsFine) {
  setenv("FTPALGD_DEFAULT_CONFIG", (dir_ + "/absent.conf").c_str(), 1);
  DaemonOptions o;
  std::string error;
  ASSERT_TRUE(LoadOptions({"--queue", "2"}, &o, &error)) << error;
  EXPECT_EQ(o.queue, 2);
  EXPECT_EQ(o.config_file, "");
  setenv("FTPALGD_DEFAULT_CONFIG", "", 1);  // no default file at all
  EXPECT_EQ(DefaultConfigPath(), "");
  ASSERT_TRUE(LoadOptions({}, &o, &error)) << error;
  EXPECT_EQ(o.config_file, "");
  unsetenv("FTPALGD_DEFAULT_CONFIG");
  EXPECT_EQ(DefaultConfigPath(), "/etc/ftpalg/ftpalgd.conf");
}

TEST_F(LoadOptionsTest, DefaultFileIsReadAndCommandLineOverrides) {
  const std::string path = Write("ftpalgd.conf", "queue 4\nlog-rate 10\ninside 10.9.0.0/16\n");
  setenv("FTPALGD_DEFAULT_CONFIG", path.c_str(), 1);
  DaemonOptions o;
  std::string error;
  ASSERT_TRUE(LoadOptions({"--queue", "6"}, &o, &error)) << error;
  EXPECT_EQ(o.queue, 6);
  EXPECT_EQ(o.log_rate, 10u);
  ASSERT_EQ(o.inside.size(), 1u);
  EXPECT_EQ(o.config_file, path);
  EXPECT_NE(ConfigText(o).find("# config file: " + path), std::string::npos);
}

TEST_F(LoadOptionsTest, ErrorsNameFileAndLine) {
  const std::string bad = Write("bad.conf", "queue 1\nmax-sessions x\n");
  setenv("FTPALGD_DEFAULT_CONFIG", bad.c_str(), 1);
  DaemonOptions o;
  std::string error;
  EXPECT_FALSE(LoadOptions({}, &o, &error));
  EXPECT_EQ(error, bad + ":2: --max-sessions: 'x' is not a number within 1..16777216");
  // --help and --version never read the file.
  EXPECT_TRUE(LoadOptions({"--help"}, &o, &error)) << error;
  EXPECT_TRUE(LoadOptions({"--version"}, &o, &error)) << error;
  // A named file replaces the default one, and must exist.
  const std::string good = Write("good.conf", "queue 8\n");
  ASSERT_TRUE(LoadOptions({"--config", good}, &o, &error)) << error;
  EXPECT_EQ(o.queue, 8);
  EXPECT_EQ(o.config_file, good);
  EXPECT_FALSE(LoadOptions({"--config", dir_ + "/absent.conf"}, &o, &error));
  EXPECT_EQ(error, "cannot read config file '" + dir_ +
                       "/absent.conf': No such file or directory");
  // A default file that exists but cannot be read is an error too.
  setenv("FTPALGD_DEFAULT_CONFIG", dir_.c_str(), 1);  // a directory
  EXPECT_FALSE(LoadOptions({}, &o, &error));
  EXPECT_NE(error.find("Is a directory"), std::string::npos) << error;
  // Combinations are checked after the merge.
  setenv("FTPALGD_DEFAULT_CONFIG", Write("none.conf", "stats-socket none\n").c_str(), 1);
  EXPECT_FALSE(LoadOptions({"--stats"}, &o, &error));
  EXPECT_NE(error.find("stats socket is disabled"), std::string::npos) << error;
}

}  // namespace
}  // namespace ftpalg
