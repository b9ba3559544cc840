// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ftpalg {
namespace {

bool Parse(const std::vector<std::string>& args, DaemonOptions* o,
           std::string* error) {
  const std::vector<std::string_view> views(args.begin(), args.end());
  return ParseArgs(views, o, error);
}

TEST(OptionsTest, Defaults) {
  DaemonOptions o;
  std::string error;
  ASSERT_TRUE(Parse({}, &o, &error));
  EXPECT_EQ(o.queue, 0);
  EXPECT_EQ(o.data_queue(), 1);
  EXPECT_FALSE(o.fail_closed);
  EXPECT_EQ(o.mechanism, Mechanism::kAuto);
  EXPECT_EQ(o.log_level, LogLevel::kInfo);
  const EngineConfig c = MakeEngineConfig(o);
  EXPECT_EQ(c.control_ports, std::vector<uint16_t>{21});
  EXPECT_EQ(c.inside.size(), EngineConfig::DefaultInside().size());
  EXPECT_EQ(c.Validate(), "");
}

TEST(OptionsTest, FullCommandLine) {
  DaemonOptions o;
  std::string error;
  ASSERT_TRUE(Parse({"--queue", "7", "--public-ip", "203.0.113.1",
                     "--public-ip=2001:db8::1", "--inside", "10.7.0.0/16",
                     "--inside=fd00::/8", "--control-port", "21",
                     "--control-port", "2121", "--max-sessions", "1000",
                     "--mechanism", "precreate", "--log-level", "debug",
                     "--fail-closed", "--queue-maxlen", "256"},
                    &o, &error))
      << error;
  EXPECT_EQ(o.queue, 7);
  EXPECT_EQ(o.data_queue(), 8);
  ASSERT_TRUE(o.public_v4);
  EXPECT_EQ(o.public_v4->ToString(), "203.0.113.1");
  ASSERT_TRUE(o.public_v6);
  EXPECT_EQ(o.public_v6->ToString(), "2001:db8::1");
  ASSERT_EQ(o.inside.size(), 2u);
  EXPECT_EQ(o.inside[0].ToString(), "10.7.0.0/16");
  EXPECT_EQ((std::vector<uint16_t>{21, 2121}), o.control_ports);
  EXPECT_EQ(o.max_sessions, 1000u);
  EXPECT_EQ(o.queue_maxlen, 256u);
  EXPECT_EQ(o.mechanism, Mechanism::kPrecreate);
  EXPECT_EQ(o.log_level, LogLevel::kDebug);
  EXPECT_TRUE(o.fail_closed);
  const EngineConfig c = MakeEngineConfig(o);
  EXPECT_EQ(c.Validate(), "");
  EXPECT_EQ(c.max_sessions, 1000u);
  EXPECT_TRUE(c.public_v4.has_value());
  EXPECT_EQ(c.inside.size(), 2u);
}

TEST(OptionsTest, FlagsAndBounds) {
  struct Case {
    std::vector<std::string> args;
    bool ok;
  };
  const Case cases[] = {
      {{"--help"}, true},
      {{"-h"}, true},
      {{"--version"}, true},
      {{"-V"}, true},
      {{"--check"}, true},
      {{"--queue", "0"}, true},
      {{"--queue", "65534"}, true},
      {{"--queue", "65535"}, false},  // data queue would not fit
      {{"--control-port", "1"}, true},
      {{"--control-port", "65535"}, true},
      {{"--max-sessions", "1"}, true},
      {{"--max-sessions", "16777216"}, true},
      {{"--max-sessions", "16777217"}, false},
      {{"--queue-maxlen", "15"}, false},
      {{"--mechanism", "expect"}, true},
      {{"--log-level", "warn"}, true},
      {{"--log-level", "error"}, true},
  };
  for (const Case& c : cases) {
    DaemonOptions o;
    std::string error;
    EXPECT_EQ(Parse(c.args, &o, &error), c.ok) << c.args[0] << " " << error;
  }
}

TEST(OptionsTest, HostileOptionsGiveOneLineErrors) {
  struct Case {
    std::vector<std::string> args;
    const char* expected;  // substring of the error
  };
  const Case cases[] = {
      {{"--queue"}, "--queue needs a value"},
      {{"--queue", ""}, "not a number"},
      {{"--queue", "-1"}, "not a number"},
      {{"--queue", "+1"}, "not a number"},
      {{"--queue", " 1"}, "not a number"},
      {{"--queue", "1x"}, "not a number"},
      {{"--queue", "0x10"}, "not a number"},
      {{"--queue", "99999999999999999999999"}, "not a number"},
      {{"--queue", "18446744073709551616"}, "not a number"},
      {{"--control-port", "0"}, "within 1..65535"},
      {{"--control-port", "65536"}, "within 1..65535"},
      {{"--control-port", "21", "--control-port", "21"}, "given twice"},
      {{"--max-sessions", "0"}, "within 1..16777216"},
      {{"--public-ip", "203.0.113.300"}, "not an IPv4 or IPv6"},
      {{"--public-ip", "example.com"}, "not an IPv4 or IPv6"},
      {{"--public-ip", "1.2.3.4", "--public-ip", "5.6.7.8"}, "only one IPv4"},
      {{"--public-ip", "::1", "--public-ip", "::2"}, "only one IPv6"},
      {{"--public-ip", "::ffff:1.2.3.4"}, "IPv4-mapped"},
      {{"--inside", "10.0.0.0/33"}, "not an address/prefix"},
      {{"--inside", "10.0.0.0/8/8"}, "not an address/prefix"},
      {{"--inside", "garbage"}, "not an address/prefix"},
      {{"--mechanism", "magic"}, "not one of auto, expect, precreate"},
      {{"--log-level", "verbose"}, "not one of debug"},
      {{"--fail-closed=yes"}, "takes no value"},
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
      {{"--frob=1"}, "unknown option '--frob'"},
      {{"-q"}, "unexpected argument '-q'"},
      {{"stray"}, "unexpected argument 'stray'"},
      {{"--"}, "unexpected argument"},
      {{std::string("--queue\x01\xff")}, "unknown option '--queue\\x01\\xff'"},
      {{"--public-ip", std::string("1.2.3.4\n")}, "'1.2.3.4\\n'"},
  };
  for (const Case& c : cases) {
    DaemonOptions o;
    std::string error;
    EXPECT_FALSE(Parse(c.args, &o, &error)) << c.args[0];
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "args[0]=" << c.args[0] << " error=" << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

TEST(OptionsTest, UserAndExpectationCaps) {
  DaemonOptions o;
  std::string error;
  ASSERT_TRUE(Parse({"--user", "nobody", "--max-expectations", "100",
                     "--max-expectations-per-session=3"},
                    &o, &error))
      << error;
  EXPECT_EQ(o.user, "nobody");
  const EngineConfig c = MakeEngineConfig(o);
  EXPECT_EQ(c.max_expectations, 100u);
  EXPECT_EQ(c.max_expectations_per_session, 3u);
  EXPECT_NE(DescribeOptions(o).find(" user=nobody"), std::string::npos);
  EXPECT_NE(DescribeOptions(o).find("max-expectations=100/3-per-session"),
            std::string::npos);
  for (const char* bad : {"", "-x", "a b", "root;id", "x/y",
                          "abcdefghijklmnopqrstuvwxyz0123456789"}) {
    DaemonOptions b;
    EXPECT_FALSE(Parse({"--user", bad}, &b, &error)) << bad;
    EXPECT_NE(error.find("--user"), std::string::npos);
  }
  DaemonOptions b;
  EXPECT_FALSE(Parse({"--max-expectations-per-session", "0"}, &b, &error));
  EXPECT_FALSE(Parse({"--max-expectations", "99999999999"}, &b, &error));
}

TEST(OptionsTest, ManyPortsOrPrefixesAreBounded) {
  std::vector<std::string> args;
  for (int p = 1; p <= 17; ++p) {
    args.push_back("--control-port");
    args.push_back(std::to_string(p));
  }
  DaemonOptions o;
  std::string error;
  EXPECT_FALSE(Parse(args, &o, &error));
  EXPECT_NE(error.find("at most 16"), std::string::npos) << error;

  args.clear();
  for (int i = 0; i < 65; ++i) {
    args.push_back("--inside");
    args.push_back("10." + std::to_string(i) + ".0.0/16");
  }
  EXPECT_FALSE(Parse(args, &o, &error));
  EXPECT_NE(error.find("at most 64"), std::string::npos) << error;
}

TEST(OptionsTest, ConfigFileThenCommandLine) {
  std::vector<std::string> file_args;
  std::string error;
  ASSERT_TRUE(ConfigTextToArgs(
      "# ftpalgd.conf\n"
      "queue 3\n"
      "  public-ip   198.51.100.7  \r\n"
      "\n"
      "inside 10.0.0.0/8\n"
      "inside 192.168.0.0/16\n"
      "--log-level warn\n"
      "fail-closed\n",
      &file_args, &error))
      << error;
  DaemonOptions o;
  const std::vector<std::string_view> fv(file_args.begin(), file_args.end());
  ASSERT_TRUE(ParseArgs(fv, &o, &error)) << error;
  EXPECT_EQ(o.queue, 3);
  EXPECT_EQ(o.inside.size(), 2u);
  EXPECT_EQ(o.log_level, LogLevel::kWarn);
  EXPECT_TRUE(o.fail_closed);
  // The command line overrides scalars and replaces lists.
  ASSERT_TRUE(Parse({"--queue", "5", "--inside", "172.16.0.0/12", "--public-ip",
                     "198.51.100.9", "--fail-open"},
                    &o, &error))
      << error;
  EXPECT_EQ(o.queue, 5);
  ASSERT_EQ(o.inside.size(), 1u);
  EXPECT_EQ(o.inside[0].ToString(), "172.16.0.0/12");
  EXPECT_EQ(o.public_v4->ToString(), "198.51.100.9");
  EXPECT_FALSE(o.fail_closed);
}

TEST(OptionsTest, HostileConfigFiles) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"bogus 1\n", "config line 1: unknown option 'bogus'"},
      {"# ok\nqueue\n", "config line 2: 'queue' needs a value"},
      {"fail-closed yes\n", "takes no value"},
      {"config /etc/other\n", "not allowed in a config file"},
      {"check\n", "not allowed in a config file"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args;
    std::string error;
    EXPECT_FALSE(ConfigTextToArgs(c.text, &args, &error)) << c.text;
    EXPECT_NE(error.find(c.expected), std::string::npos) << error;
  }
}

TEST(OptionsTest, DescribeAndUsage) {
  DaemonOptions o;
  const std::string d = DescribeOptions(o);
  EXPECT_NE(d.find("control=0 data-syn=1"), std::string::npos) << d;
  EXPECT_NE(d.find("fail-open"), std::string::npos) << d;
  EXPECT_NE(d.find("ports=21"), std::string::npos) << d;
  const std::string u = UsageText();
  for (const char* opt : {"--queue", "--public-ip", "--inside", "--control-port",
                          "--max-sessions", "--mechanism", "--log-level",
                          "--fail-closed", "--check", "--help", "--version"}) {
    EXPECT_NE(u.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
}  // namespace ftpalg
