// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's control socket: a unix stream socket the daemon polls in its
// packet loop, and the client side `ftpalgd --stats` uses.
//
// Protocol: the client sends one request line ("stats text", "stats
// prometheus", "help"); the daemon answers with text and closes. An answer
// that starts with "error: " is a refusal. The server never blocks: every
// socket is non-blocking, a request is at most Limits::max_request bytes, a
// client has Limits::client_timeout_ms for the whole exchange, and at most
// Limits::max_clients are served at once (others get "error: busy").
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ftpalg {

class ControlServer {
 public:
  // Answers a request; args is the rest of the line after the command.
  using Handler = std::function<std::string(std::string_view args)>;

  struct Limits {
    size_t max_clients = 4;
    size_t max_request = 256;
    uint64_t client_timeout_ms = 1000;
  };

  struct Counters {
    uint64_t requests = 0;   // answered (including errors)
    uint64_t busy = 0;       // refused: max_clients reached
    uint64_t timeouts = 0;   // dropped: too slow
  };

  // Creates the socket at path: its directory is created (0755) when
  // missing, a stale socket is replaced (a live one is an error), the
  // socket is mode 0600 and, when owner_uid is not -1, chowned to
  // owner_uid:owner_gid (a directory created here too). nullptr + *error.
  static std::unique_ptr<ControlServer> Open(const std::string& path,
                                             uid_t owner_uid, gid_t owner_gid,
                                             std::string* error,
                                             const Limits& limits);
  static std::unique_ptr<ControlServer> Open(const std::string& path,
                                             uid_t owner_uid, gid_t owner_gid,
                                             std::string* error) {
    return Open(path, owner_uid, owner_gid, error, Limits{});
  }
  ~ControlServer();  // closes every socket; removes the socket file
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Commands: the first word of a request line. "help" is built in.
  void AddCommand(std::string name, std::string help, Handler handler);

  // Poll integration: PollFds fills at most max entries (the listening
  // socket, then each client) and returns how many; OnPoll takes the same
  // entries back after poll(). NextTimeoutMs: how long poll may wait for the
  // next client deadline (-1: no client).
  size_t PollFds(struct pollfd* fds, size_t max) const;
  void OnPoll(const struct pollfd* fds, size_t n, uint64_t now_ms);
  int NextTimeoutMs(uint64_t now_ms) const;

  size_t client_count() const { return clients_.size(); }
  const Counters& counters() const { return counters_; }
  const std::string& path() const { return path_; }

 private:
  struct Client {
    int fd = -1;
    uint64_t deadline_ms = 0;
    std::string in;
    std::string out;
    size_t written = 0;
    bool answering = false;
  };
  struct Command {
    std::string name;
    std::string help;
    Handler handler;
  };

  ControlServer(int fd, std::string path, ino_t inode, const Limits& limits)
      : listen_fd_(fd), path_(std::move(path)), inode_(inode), limits_(limits) {}
  void Accept(uint64_t now_ms);
  // False when the client is done (closed).
  bool Read(Client& c);
  bool Write(Client& c);
  std::string Answer(std::string_view line);

  int listen_fd_;
  std::string path_;
  ino_t inode_;
  Limits limits_;
  std::vector<Client> clients_;
  std::vector<Command> commands_;
  Counters counters_;
};

// Client side: connects to path, sends request (a '\n' is added), reads the
// answer until the daemon closes, within timeout_ms. false + *error naming
// the path and what to do ("is ftpalgd running?").
bool ControlRequest(const std::string& path, std::string_view request,
                    std::string* answer, std::string* error,
                    int timeout_ms = 5000);

}  // namespace ftpalg
