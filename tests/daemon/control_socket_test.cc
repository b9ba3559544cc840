// SPDX-License-Identifier: GPL-2.0-or-later
// A real server/client pair on a temporary socket path: the server runs a
// poll loop in a thread (as the daemon's loop does); clients are the real
// ControlRequest and raw sockets that misbehave.
#include "daemon/control_socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace ftpalg {
namespace {

uint64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

int RawConnect(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads until EOF or timeout_ms; returns what came.
std::string ReadAll(int fd, int timeout_ms, bool* eof) {
  std::string out;
  *eof = false;
  const uint64_t deadline = NowMs() + static_cast<uint64_t>(timeout_ms);
  while (NowMs() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(deadline - NowMs())) <= 0) continue;
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      *eof = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

class ControlSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ftpalg-ctl-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/run/ftpalgd.sock";  // run/ does not exist yet
  }
  void TearDown() override {
    Stop();
    server_.reset();
    unlink(path_.c_str());
    rmdir((dir_ + "/run").c_str());
    rmdir(dir_.c_str());
  }
  void Start(const ControlServer::Limits& limits = {}) {
    std::string error;
    server_ = ControlServer::Open(path_, static_cast<uid_t>(-1),
                                  static_cast<gid_t>(-1), &error, limits);
    ASSERT_NE(server_, nullptr) << error;
    server_->AddCommand("stats", "counters", [this](std::string_view args) {
      ++calls_;
      if (args == "prometheus") return std::string("# HELP x_total x\nx_total 1\n");
      if (args.empty() || args == "text") return std::string("rewrites 4\n");
      return std::string("error: stats: unknown format\n");
    });
    server_->AddCommand("big", "a large answer",
                        [](std::string_view) { return std::string(3u << 20, 'x'); });
    loop_ = std::thread([this] {
      while (!stop_) {
        pollfd fds[16];
        const size_t n = server_->PollFds(fds, 16);
        int timeout = server_->NextTimeoutMs(NowMs());
        if (timeout < 0 || timeout > 20) timeout = 20;  // to notice stop_
        poll(fds, n, timeout);
        server_->OnPoll(fds, n, NowMs());
        clients_now_ = server_->client_count();
        max_clients_seen_ = std::max(max_clients_seen_.load(), clients_now_.load());
      }
    });
  }
  void Stop() {
    stop_ = true;
    if (loop_.joinable()) loop_.join();
  }

  std::string dir_, path_;
  std::unique_ptr<ControlServer> server_;
  std::thread loop_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  std::atomic<size_t> clients_now_{0};
  std::atomic<size_t> max_clients_seen_{0};
};

TEST_F(ControlSocketTest, CreatesDirectoryAndPrivateSocket) {
  Start();
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/run").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, getuid());
  // The file goes with the server.
  Stop();
  server_.reset();
  EXPECT_NE(lstat(path_.c_str(), &st), 0);
}

TEST_F(ControlSocketTest, AnswersRequests) {
  Start();
  std::string answer, error;
  ASSERT_TRUE(ControlRequest(path_, "stats text", &answer, &error)) << error;
  EXPECT_EQ(answer, "rewrites 4\n");
  ASSERT_TRUE(ControlRequest(path_, "stats", &answer, &error)) << error;
  EXPECT_EQ(answer, "rewrites 4\n");
  ASSERT_TRUE(ControlRequest(path_, "stats prometheus", &answer, &error)) << error;
  EXPECT_EQ(answer, "# HELP x_total x\nx_total 1\n");
  ASSERT_TRUE(ControlRequest(path_, "  stats   text \r", &answer, &error)) << error;
  EXPECT_EQ(answer, "rewrites 4\n");
  ASSERT_TRUE(ControlRequest(path_, "help", &answer, &error)) << error;
  EXPECT_NE(answer.find("stats: counters"), std::string::npos) << answer;
  ASSERT_TRUE(ControlRequest(path_, "resync\x01", &answer, &error)) << error;
  EXPECT_EQ(answer, "error: unknown command 'resync?' (commands: help, stats, big)\n");
  ASSERT_TRUE(ControlRequest(path_, "", &answer, &error)) << error;
  EXPECT_EQ(answer.rfind("error: unknown command ''", 0), 0u) << answer;
  // An answer larger than the socket buffers arrives whole.
  ASSERT_TRUE(ControlRequest(path_, "big", &answer, &error)) << error;
  EXPECT_EQ(answer.size(), 3u << 20);
  EXPECT_EQ(calls_, 4);
}

TEST_F(ControlSocketTest, ClientErrorsNameThePath) {
  std::string answer, error;
  EXPECT_FALSE(ControlRequest(path_, "stats", &answer, &error));
  EXPECT_EQ(error, "cannot connect to " + path_ +
                       ": No such file or directory (is ftpalgd running, with "
                       "this --stats-socket?)");
  Start();
  if (geteuid() != 0) {
    chmod(path_.c_str(), 0);
    EXPECT_FALSE(ControlRequest(path_, "stats", &answer, &error));
    EXPECT_NE(error.find("Permission denied (run as root or as the daemon's user)"),
              std::string::npos)
        << error;
    chmod(path_.c_str(), 0600);
  } else {
    // Root passes any mode: ask as nobody from a child process.
    chmod(dir_.c_str(), 0755);
    chmod((dir_ + "/run").c_str(), 0755);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
      std::string a, e;
      const bool ok = ControlRequest(path_, "stats", &a, &e);
      _exit(!ok && e == "cannot connect to " + path_ +
                            ": Permission denied (run as root or as the "
                            "daemon's user)"
                ? 0
                : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "as nobody: not refused with a clear message";
  }
}

TEST_F(ControlSocketTest, SilentClientIsDroppedAndOthersAreServed) {
  ControlServer::Limits limits;
  limits.client_timeout_ms = 300;
  Start(limits);
  const int silent = RawConnect(path_);
  ASSERT_GE(silent, 0);
  // Meanwhile another client gets its answer at once.
  const uint64_t t0 = NowMs();
  std::string answer, error;
  ASSERT_TRUE(ControlRequest(path_, "stats", &answer, &error)) << error;
  EXPECT_EQ(answer, "rewrites 4\n");
  EXPECT_LT(NowMs() - t0, 250u);
  bool eof = false;
  const std::string got = ReadAll(silent, 2000, &eof);
  EXPECT_TRUE(eof) << "the silent client was not dropped";
  EXPECT_EQ(got, "");
  EXPECT_GE(NowMs() - t0, 250u);
  Stop();  // the loop thread owns the server until then
  EXPECT_EQ(server_->counters().timeouts, 1u);
  close(silent);
}

TEST_F(ControlSocketTest, OverlongRequestAndTooManyClients) {
  ControlServer::Limits limits;
  limits.max_clients = 2;
  limits.client_timeout_ms = 1000;
  Start(limits);
  {
    const int fd = RawConnect(path_);
    ASSERT_GE(fd, 0);
    const std::string junk(10000, 'a');
    (void)!send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    bool eof = false;
    EXPECT_EQ(ReadAll(fd, 2000, &eof), "error: request longer than 256 bytes\n");
    EXPECT_TRUE(eof);
    close(fd);
  }
  const int a = RawConnect(path_);
  const int b = RawConnect(path_);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (int i = 0; i < 100 && clients_now_ < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string answer, error;
  ASSERT_TRUE(ControlRequest(path_, "stats", &answer, &error)) << error;
  EXPECT_EQ(answer, "error: busy, try again\n");
  EXPECT_LE(max_clients_seen_.load(), 2u);
  close(a);
  close(b);
  // Once they are gone, requests are served again.
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    ASSERT_TRUE(ControlRequest(path_, "stats", &answer, &error)) << error;
    served = answer == "rewrites 4\n";
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(served);
  Stop();
  EXPECT_GE(server_->counters().busy, 1u);
}

TEST_F(ControlSocketTest, StaleSocketIsReplacedLiveOneRefused) {
  Start();
  std::string error;
  // A second server on a live socket: refused, and the first keeps working.
  auto second = ControlServer::Open(path_, static_cast<uid_t>(-1),
                                    static_cast<gid_t>(-1), &error);
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(error, path_ + " is in use (another ftpalgd is running?)");
  std::string answer;
  ASSERT_TRUE(ControlRequest(path_, "stats", &answer, &error)) << error;
  // A socket file nobody listens on is stale: replaced.
  const std::string stale = dir_ + "/run/stale.sock";
  {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, stale.data(), stale.size());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    close(fd);
  }
  auto third = ControlServer::Open(stale, static_cast<uid_t>(-1),
                                   static_cast<gid_t>(-1), &error);
  ASSERT_NE(third, nullptr) << error;
  third.reset();
  struct stat st {};
  EXPECT_NE(lstat(stale.c_str(), &st), 0);
  // A regular file in the way is not removed.
  const std::string plain = dir_ + "/run/plain";
  close(open(plain.c_str(), O_CREAT | O_WRONLY, 0600));
  EXPECT_EQ(ControlServer::Open(plain, static_cast<uid_t>(-1),
                                static_cast<gid_t>(-1), &error),
            nullptr);
  EXPECT_EQ(error, plain + " exists and is not a socket");
  unlink(plain.c_str());
  // A missing grandparent directory is an error, not a tree of mkdirs.
  EXPECT_EQ(ControlServer::Open(dir_ + "/a/b/c.sock", static_cast<uid_t>(-1),
                                static_cast<gid_t>(-1), &error),
            nullptr);
  EXPECT_NE(error.find("cannot create directory " + dir_ + "/a/b"), std::string::npos)
      << error;
}

}  // namespace
}  // namespace ftpalg
