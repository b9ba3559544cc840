// SPDX-License-Identifier: GPL-2.0-or-later
// The real sd_notify(3) against a notify socket the test owns (a unix
// datagram socket, as systemd's), with the environment a Type=notify
// service gets.
#include "adapters/systemd_notifier.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace ftpalg {
namespace {

class RecordingLogger final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return true; }
  void Log(LogLevel l, std::string_view m) override {
    lines.push_back(std::string(LevelName(l)) + ": " + std::string(m));
  }
  std::vector<std::string> lines;
};

// A bound unix datagram socket in a scratch directory, and the
// environment pointing at it; both undone at the end.
class NotifySocket {
 public:
  NotifySocket() {
    char dir[] = "/tmp/ftpalg-notify-test.XXXXXX";
    if (mkdtemp(dir) == nullptr) return;
    dir_ = dir;
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a {};
    a.sun_family = AF_UNIX;
    path_.copy(a.sun_path, sizeof(a.sun_path) - 1);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd_);
      fd_ = -1;
    }
    struct timeval tv {1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  // The next datagram, "" after a second without one.
  std::string Receive() {
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

TEST(SystemdNotifierTest, SendsToNotifySocketWithWatchdogOfThisProcess) {
  NotifySocket sock;
  ASSERT_TRUE(sock.ok());
  setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
  setenv("WATCHDOG_USEC", "3000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  RecordingLogger log;
  const auto n = MakeSystemdNotifier(log);
  EXPECT_TRUE(n->enabled());
  EXPECT_EQ(n->watchdog_usec(), 3000000u);
  EXPECT_TRUE(n->Send("READY=1\nSTATUS=sessions 0"));
  EXPECT_TRUE(n->Send("WATCHDOG=1"));
  EXPECT_EQ(sock.Receive(), "READY=1\nSTATUS=sessions 0");
  EXPECT_EQ(sock.Receive(), "WATCHDOG=1");
  EXPECT_TRUE(log.lines.empty());
  // The environment is left for a later reader (sd_notify's unset_environment = 0).
  EXPECT_NE(std::getenv("NOTIFY_SOCKET"), nullptr);
}

TEST(SystemdNotifierTest, WatchdogOfAnotherProcessIsNotOurs) {
  NotifySocket sock;
  ASSERT_TRUE(sock.ok());
  setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
  setenv("WATCHDOG_USEC", "3000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  RecordingLogger log;
  EXPECT_EQ(MakeSystemdNotifier(log)->watchdog_usec(), 0u);
}

TEST(SystemdNotifierTest, WithoutNotifySocketNothingHappens) {
  unsetenv("NOTIFY_SOCKET");
  setenv("WATCHDOG_USEC", "3000000", 1);
  RecordingLogger log;
  const auto n = MakeSystemdNotifier(log);
  EXPECT_FALSE(n->enabled());
  EXPECT_EQ(n->watchdog_usec(), 0u);
  EXPECT_FALSE(n->Send("READY=1"));
  EXPECT_TRUE(log.lines.empty());
  unsetenv("WATCHDOG_USEC");
}

TEST(SystemdNotifierTest, UnreachableSocketIsLoggedOnce) {
  setenv("NOTIFY_SOCKET", "/nonexistent/ftpalg-notify", 1);
  RecordingLogger log;
  const auto n = MakeSystemdNotifier(log);
  EXPECT_TRUE(n->enabled());
  EXPECT_FALSE(n->Send("READY=1"));
  EXPECT_FALSE(n->Send("WATCHDOG=1"));
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_NE(log.lines[0].find("warn: service manager notification failed "
                              "(NOTIFY_SOCKET=/nonexistent/ftpalg-notify): "
                              "No such file or directory"),
            std::string::npos)
      << log.lines[0];
  unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace ftpalg
