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

TEST(OptionsTest, GapTimeout) {
  DaemonOptions o;
  std::string error;
  EXPECT_EQ(MakeEngineConfig(o).gap_timeout_ms, EngineConfig{}.gap_timeout_ms);
  ASSERT_TRUE(Parse({"--gap-timeout-ms", "2500"}, &o, &error)) << error;
  EXPECT_EQ(MakeEngineConfig(o).gap_timeout_ms, 2500u);
  EXPECT_NE(ConfigText(o).find("gap-timeout-ms 2500\n"), std::string::npos);
  for (const char* bad : {"99", "600001", "x", "-1"}) {
    DaemonOptions b;
    EXPECT_FALSE(Parse({"--gap-timeout-ms", bad}, &b, &error)) << bad;
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
  std::string error;
  DaemonOptions o;
  ASSERT_TRUE(ParseConfigText("/etc/ftpalg/ftpalgd.conf",
                              "# ftpalgd.conf\n"
                              "queue 3\n"
                              "  public-ip   198.51.100.7  \r\n"
                              "\n"
                              "inside 10.0.0.0/8\n"
                              "inside 192.168.0.0/16\n"
                              "--log-level warn\n"
                              "log-target syslog\n"
                              "log-rate 0\n"
                              "stats-socket /run/x/y.sock\n"
                              "fail-closed\n",
                              &o, &error))
      << error;
  EXPECT_EQ(o.queue, 3);
  EXPECT_EQ(o.inside.size(), 2u);  // repeatable options accumulate in a file
  EXPECT_EQ(o.log_level, LogLevel::kWarn);
  EXPECT_EQ(o.log_target, LogTarget::kSyslog);
  EXPECT_EQ(o.log_rate, 0u);
  EXPECT_EQ(o.stats_socket, "/run/x/y.sock");
  EXPECT_TRUE(o.fail_closed);
  // The command line overrides scalars and replaces lists.
  ASSERT_TRUE(Parse({"--queue", "5", "--inside", "172.16.0.0/12", "--public-ip",
                     "198.51.100.9", "--fail-open", "--stats-socket", "none",
                     "--log-target=stderr"},
                    &o, &error))
      << error;
  EXPECT_EQ(o.queue, 5);
  ASSERT_EQ(o.inside.size(), 1u);
  EXPECT_EQ(o.inside[0].ToString(), "172.16.0.0/12");
  EXPECT_EQ(o.public_v4->ToString(), "198.51.100.9");
  EXPECT_FALSE(o.fail_closed);
  EXPECT_EQ(o.stats_socket, "");
  EXPECT_EQ(o.log_target, LogTarget::kStderr);
}

// Every error in a file names the file and the line, GNU style.
TEST(OptionsTest, HostileConfigFilesGiveFileLineReason) {
  struct Case {
    const char* text;
    const char* expected;  // the whole error
  };
  const Case cases[] = {
      {"bogus 1\n", "/etc/f.conf:1: unknown option 'bogus'"},
      {"# ok\nqueue\n", "/etc/f.conf:2: 'queue' needs a value"},
      {"fail-closed yes\n", "/etc/f.conf:1: 'fail-closed' takes no value"},
      {"config /etc/other\n", "/etc/f.conf:1: 'config' is not allowed in a config file"},
      {"check\n", "/etc/f.conf:1: 'check' is not allowed in a config file"},
      {"stats\n", "/etc/f.conf:1: 'stats' is not allowed in a config file"},
      {"resync\n", "/etc/f.conf:1: 'resync' is not allowed in a config file"},
      {"print-config\n", "/etc/f.conf:1: 'print-config' is not allowed in a config file"},
      {"\n\n# c\n\nqueue 1\n\n\n\n\n\n\nmax-sessions x\n",
       "/etc/f.conf:12: --max-sessions: 'x' is not a number within 1..16777216"},
      {"queue 1 # comment\n", "/etc/f.conf:1: --queue: '1 # comment' is not a number"},
      {"log-target journal\n",
       "/etc/f.conf:1: --log-target: 'journal' is not one of stderr, syslog"},
      {"log-rate -1\n", "/etc/f.conf:1: --log-rate: '-1' is not a number within 0..1000000"},
      {"stats-socket run/x.sock\n",
       "/etc/f.conf:1: --stats-socket: 'run/x.sock' is not an absolute path (or none)"},
      {"events var/log/e.jsonl\n",
       "/etc/f.conf:1: --events: 'var/log/e.jsonl' is not an absolute path (or none)"},
      {"inside 10.0.0.0/8\ncontrol-port 21\ncontrol-port 21\n",
       "/etc/f.conf:3: --control-port: 21 given twice"},
      {"public-ip 192.0.2.1\npublic-ip 192.0.2.2\n",
       "/etc/f.conf:2: --public-ip: only one IPv4 address may be given"},
  };
  for (const Case& c : cases) {
    DaemonOptions o;
    std::string error;
    EXPECT_FALSE(ParseConfigText("/etc/f.conf", c.text, &o, &error)) << c.text;
    EXPECT_EQ(error.substr(0, std::string(c.expected).size()), c.expected)
        << c.text;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  DaemonOptions o;
  std::string error;
  EXPECT_FALSE(ParseConfigText("f", std::string(1024 * 1024 + 1, '#'), &o, &error));
  EXPECT_EQ(error, "f: larger than 1 MiB");
}

TEST(OptionsTest, NewOptionsAndBounds) {
  DaemonOptions o;
  std::string error;
  EXPECT_EQ(o.log_target, LogTarget::kStderr);
  EXPECT_EQ(o.log_rate, 200u);
  EXPECT_EQ(o.stats_socket, "/run/ftpalg/ftpalgd.sock");
  ASSERT_TRUE(Parse({"--log-target", "syslog", "--log-rate=1000000",
                     "--stats-socket", "/tmp/a.sock", "--stats", "--prometheus"},
                    &o, &error))
      << error;
  EXPECT_EQ(o.log_target, LogTarget::kSyslog);
  EXPECT_EQ(o.log_rate, 1000000u);
  EXPECT_EQ(o.stats_socket, "/tmp/a.sock");
  EXPECT_EQ(o.events, "");
  ASSERT_TRUE(Parse({"--events", "/var/log/ftpalg/events.jsonl"}, &o, &error)) << error;
  EXPECT_EQ(o.events, "/var/log/ftpalg/events.jsonl");
  EXPECT_NE(DescribeOptions(o).find(" events=/var/log/ftpalg/events.jsonl"), std::string::npos);
  EXPECT_NE(ConfigText(o).find("\nevents /var/log/ftpalg/events.jsonl\n"), std::string::npos);
  ASSERT_TRUE(Parse({"--events", "none"}, &o, &error)) << error;
  EXPECT_EQ(o.events, "");
  EXPECT_TRUE(o.stats);
  EXPECT_TRUE(o.prometheus);
  EXPECT_EQ(CheckOptionCombination(o), "");
  const std::string d = DescribeOptions(o);
  EXPECT_NE(d.find("log-target=syslog log-rate=1000000 stats-socket=/tmp/a.sock"),
            std::string::npos)
      << d;

  const std::string long_path = "/" + std::string(107, 'a');
  struct Case {
    std::vector<std::string> args;
    const char* expected;
  };
  const Case bad[] = {
      {{"--log-rate", "1000001"}, "--log-rate: '1000001' is not a number within 0..1000000"},
      {{"--log-target", "Syslog"}, "not one of stderr, syslog"},
      {{"--stats-socket", ""}, "not an absolute path"},
      {{"--stats-socket", long_path}, "--stats-socket: path longer than 107 bytes"},
      {{"--stats-socket", "/tmp/a\nb"}, "contains control characters"},
      {{"--stats=1"}, "--stats takes no value"},
      {{"--print-config=yes"}, "--print-config takes no value"},
      {{"--resync=now"}, "--resync takes no value"},
  };
  for (const Case& c : bad) {
    DaemonOptions b;
    EXPECT_FALSE(Parse(c.args, &b, &error)) << c.args[0];
    EXPECT_NE(error.find(c.expected), std::string::npos) << error;
  }
  // 107 bytes is the most sockaddr_un takes.
  DaemonOptions ok;
  EXPECT_TRUE(Parse({"--stats-socket", long_path.substr(0, 107)}, &ok, &error)) << error;

  struct Combo {
    std::vector<std::string> args;
    const char* expected;
  };
  const Combo combos[] = {
      {{"--prometheus"}, "--prometheus is only used with --stats"},
      {{"--stats", "--check"}, "exclude each other"},
      {{"--print-config", "--stats"}, "exclude each other"},
      {{"--stats", "--stats-socket", "none"}, "the stats socket is disabled"},
      {{"--resync", "--stats"}, "exclude each other"},
      {{"--resync", "--check"}, "exclude each other"},
      {{"--resync", "--stats-socket", "none"}, "--resync: the stats socket is disabled"},
  };
  for (const Combo& c : combos) {
    DaemonOptions b;
    ASSERT_TRUE(Parse(c.args, &b, &error)) << error;
    EXPECT_NE(CheckOptionCombination(b).find(c.expected), std::string::npos)
        << c.args[0] << ": " << CheckOptionCombination(b);
  }
}

// --print-config lists every option with its value, and reads back as a
// config file into the same configuration.
TEST(OptionsTest, PrintedConfigListsEveryOptionAndRoundTrips) {
  DaemonOptions defaults;
  const std::string text = ConfigText(defaults);
  for (const char* line :
       {"\nqueue 0\n", "\n# public-ip (unset", "\ninside 10.0.0.0/8\n",
        "\ninside fc00::/7\n", "\ncontrol-port 21\n", "\nmax-sessions 65536\n",
        "\nmax-expectations 65536\n", "\nmax-expectations-per-session 8\n",
        "\nqueue-maxlen 4096\n", "\nmechanism auto\n", "\nlog-level info\n",
        "\nlog-target stderr\n", "\nlog-rate 200\n", "\nfail-open\n",
        "\n# no-batch (unset", "\n# user (unset",
        "\nstats-socket /run/ftpalg/ftpalgd.sock\n", "# config file: none\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " in\n" << text;
  }
  // Every option a file may hold appears (as a setting or a comment).
  for (const char* name :
       {"queue", "public-ip", "inside", "control-port", "max-sessions",
        "max-expectations", "max-expectations-per-session", "queue-maxlen",
        "mechanism", "log-level", "log-target", "log-rate", "fail-", "no-batch",
        "user", "stats-socket"}) {
    EXPECT_TRUE(text.find(std::string("\n") + name) != std::string::npos ||
                text.find(std::string("\n# ") + name) != std::string::npos)
        << name;
    EXPECT_NE(UsageText().find(std::string("--") + name), std::string::npos) << name;
  }

  DaemonOptions o;
  std::string error;
  ASSERT_TRUE(Parse({"--queue", "9", "--public-ip", "203.0.113.1", "--public-ip",
                     "2001:db8::1", "--inside", "10.7.0.0/16", "--control-port",
                     "2121", "--control-port", "21", "--max-sessions", "7",
                     "--max-expectations", "70", "--max-expectations-per-session",
                     "2", "--queue-maxlen", "64", "--mechanism", "precreate",
                     "--log-level", "debug", "--log-target", "syslog",
                     "--log-rate", "5", "--fail-closed", "--no-batch", "--user",
                     "nobody", "--stats-socket", "none"},
                    &o, &error))
      << error;
  for (const DaemonOptions& start : {defaults, o}) {
    const std::string printed = ConfigText(start);
    DaemonOptions back;
    ASSERT_TRUE(ParseConfigText("printed", printed, &back, &error)) << error;
    EXPECT_EQ(ConfigText(back), printed);
    EXPECT_EQ(DescribeOptions(back), DescribeOptions(start));
  }
  EXPECT_NE(ConfigText(o).find("\nstats-socket none\n"), std::string::npos);
  EXPECT_NE(ConfigText(o).find("\nno-batch\n"), std::string::npos);
  EXPECT_NE(ConfigText(o).find("\nuser nobody\n"), std::string::npos);
}

TEST(OptionsTest, VersionIsGnuStyle) {
  const std::string v = VersionText();
  EXPECT_EQ(v.substr(0, v.find('\n')), "ftpalgd (ftpalg) 0.1.0");
  EXPECT_NE(v.find("\nCopyright (C) "), std::string::npos);
  EXPECT_NE(v.find("GPLv2+"), std::string::npos);
  EXPECT_NE(v.find("NO WARRANTY"), std::string::npos);
  EXPECT_EQ(UsageText().substr(0, 25), "Usage: ftpalgd [OPTION]..");
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
                          "--fail-closed", "--fail-open", "--check", "--help",
                          "--version", "--config", "--print-config", "--stats",
                          "--prometheus", "--stats-socket", "--log-target",
                          "--log-rate", "--no-batch", "--user", "--queue-maxlen",
                          "--resync",
                          "FTPALGD_DEFAULT_CONFIG"}) {
    EXPECT_NE(u.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
}  // namespace ftpalg
