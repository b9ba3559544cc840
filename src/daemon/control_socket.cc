// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/control_socket.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace ftpalg {
namespace {

constexpr size_t kMaxAnswer = 4u << 20;  // client side
constexpr int kBacklog = 8;
constexpr int kAcceptsPerWakeup = 16;

bool MakeAddress(const std::string& path, sockaddr_un* addr, std::string* error) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) {
    *error = "socket path '" + path + "' is empty or longer than " +
             std::to_string(sizeof(addr->sun_path) - 1) + " bytes";
    return false;
  }
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

uint64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 +
         static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// Whether something accepts connections at path right now.
bool Listening(const sockaddr_un& addr) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const bool live = rc == 0 || errno == EAGAIN || errno == EINPROGRESS;
  close(fd);
  return live;
}

}  // namespace

std::unique_ptr<ControlServer> ControlServer::Open(const std::string& path,
                                                   uid_t owner_uid,
                                                   gid_t owner_gid,
                                                   std::string* error,
                                                   const Limits& limits) {
  sockaddr_un addr;
  if (!MakeAddress(path, &addr, error)) return nullptr;
  const bool chown_wanted = owner_uid != static_cast<uid_t>(-1);

  const std::string dir = Parent(path);
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || mkdir(dir.c_str(), 0755) != 0) {
      *error = "cannot create directory " + dir + ": " + std::strerror(errno);
      return nullptr;
    }
    chmod(dir.c_str(), 0755);  // whatever the umask
    if (chown_wanted && chown(dir.c_str(), owner_uid, owner_gid) != 0) {
      *error = "cannot chown directory " + dir + ": " + std::strerror(errno);
      return nullptr;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    *error = dir + " is not a directory";
    return nullptr;
  }

  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *error = path + " exists and is not a socket";
      return nullptr;
    }
    if (Listening(addr)) {
      *error = path + " is in use (another ftpalgd is running?)";
      return nullptr;
    }
    unlink(path.c_str());  // stale: left by a daemon that did not stop
  }

  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket(AF_UNIX): ") + std::strerror(errno);
    return nullptr;
  }
  // The file is created with the umask applied: never wider than 0600.
  const mode_t old_mask = umask(0177);
  const int rc = bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int bind_errno = errno;
  umask(old_mask);
  if (rc != 0) {
    *error = "cannot bind " + path + ": " + std::strerror(bind_errno);
    close(fd);
    return nullptr;
  }
  auto fail = [&](const std::string& what) {
    *error = what + " " + path + ": " + std::strerror(errno);
    close(fd);
    unlink(path.c_str());
    return nullptr;
  };
  if (chmod(path.c_str(), 0600) != 0) return fail("cannot chmod");
  if (chown_wanted && chown(path.c_str(), owner_uid, owner_gid) != 0) {
    return fail("cannot chown");
  }
  if (listen(fd, kBacklog) != 0) return fail("cannot listen on");
  if (lstat(path.c_str(), &st) != 0) return fail("cannot stat");
  return std::unique_ptr<ControlServer>(new ControlServer(fd, path, st.st_ino, limits));
}

ControlServer::~ControlServer() {
  for (Client& c : clients_) close(c.fd);
  close(listen_fd_);
  // Only our own socket: a newer daemon may have replaced it.
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0 && st.st_ino == inode_) unlink(path_.c_str());
}

void ControlServer::AddCommand(std::string name, std::string help,
                               Handler handler) {
  commands_.push_back(Command{std::move(name), std::move(help), std::move(handler)});
}

size_t ControlServer::PollFds(struct pollfd* fds, size_t max) const {
  size_t n = 0;
  if (n < max) fds[n++] = {listen_fd_, POLLIN, 0};
  for (const Client& c : clients_) {
    if (n >= max) break;
    fds[n++] = {c.fd, static_cast<short>(c.answering ? POLLOUT : POLLIN), 0};
  }
  return n;
}

int ControlServer::NextTimeoutMs(uint64_t now_ms) const {
  if (clients_.empty()) return -1;
  uint64_t soonest = clients_.front().deadline_ms;
  for (const Client& c : clients_) soonest = std::min(soonest, c.deadline_ms);
  return soonest <= now_ms ? 0 : static_cast<int>(std::min<uint64_t>(soonest - now_ms, 60000));
}

void ControlServer::OnPoll(const struct pollfd* fds, size_t n, uint64_t now_ms) {
  bool accept = false;
  for (size_t i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    if (fds[i].fd == listen_fd_) {
      accept = true;
      continue;
    }
    for (Client& c : clients_) {
      if (c.fd != fds[i].fd) continue;
      const bool alive = c.answering ? Write(c) : Read(c);
      if (!alive) {
        close(c.fd);
        c.fd = -1;
      }
      break;
    }
  }
  for (Client& c : clients_) {
    if (c.fd >= 0 && now_ms >= c.deadline_ms) {
      ++counters_.timeouts;
      close(c.fd);
      c.fd = -1;
    }
  }
  std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
  if (accept) Accept(now_ms);
}

void ControlServer::Accept(uint64_t now_ms) {
  for (int i = 0; i < kAcceptsPerWakeup; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an error the next wakeup sees again
    if (clients_.size() >= limits_.max_clients) {
      ++counters_.busy;
      static constexpr char kBusy[] = "error: busy, try again\n";
      (void)!send(fd, kBusy, sizeof(kBusy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      close(fd);
      continue;
    }
    Client c;
    c.fd = fd;
    c.deadline_ms = now_ms + limits_.client_timeout_ms;
    clients_.push_back(std::move(c));
  }
}

bool ControlServer::Read(Client& c) {
  char buf[512];
  bool eof = false;
  for (;;) {
    const ssize_t n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      if (c.in.size() > limits_.max_request || c.in.find('\n') != std::string::npos) break;
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return false;
  }
  const size_t nl = c.in.find('\n');
  std::string_view line;
  if (nl != std::string::npos && nl <= limits_.max_request) {
    line = std::string_view(c.in).substr(0, nl);
  } else if (c.in.size() > limits_.max_request) {
    c.out = "error: request longer than " + std::to_string(limits_.max_request) +
            " bytes\n";
  } else if (eof) {
    if (c.in.empty()) return false;  // connected and left
    line = c.in;                     // a last line without its newline
  } else {
    return true;  // wait for the rest
  }
  if (c.out.empty()) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    c.out = Answer(line);
  }
  ++counters_.requests;
  c.answering = true;
  return Write(c);
}

bool ControlServer::Write(Client& c) {
  while (c.written < c.out.size()) {
    const ssize_t n = send(c.fd, c.out.data() + c.written, c.out.size() - c.written,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
  return false;  // all sent: done
}

std::string ControlServer::Answer(std::string_view line) {
  auto is_space = [](char ch) { return ch == ' ' || ch == '\t'; };
  while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  size_t sp = 0;
  while (sp < line.size() && !is_space(line[sp])) ++sp;
  const std::string_view name = line.substr(0, sp);
  std::string_view args = line.substr(sp);
  while (!args.empty() && is_space(args.front())) args.remove_prefix(1);
  if (name == "help") {
    std::string s = "help: this list\n";
    for (const Command& c : commands_) s += c.name + ": " + c.help + "\n";
    return s;
  }
  for (const Command& c : commands_) {
    if (c.name == name) return c.handler(args);
  }
  std::string known = "help";
  for (const Command& c : commands_) known += ", " + c.name;
  std::string shown;
  for (char ch : name.substr(0, 32)) {
    shown += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
  }
  return "error: unknown command '" + shown + "' (commands: " + known + ")\n";
}

bool ControlRequest(const std::string& path, std::string_view request,
                    std::string* answer, std::string* error, int timeout_ms) {
  sockaddr_un addr;
  if (!MakeAddress(path, &addr, error)) return false;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket(AF_UNIX): ") + std::strerror(errno);
    return false;
  }
  auto fail = [&](const std::string& what) {
    *error = what;
    close(fd);
    return false;
  };
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int e = errno;
    std::string why = "cannot connect to " + path + ": " + std::strerror(e);
    if (e == ENOENT || e == ECONNREFUSED) {
      why += " (is ftpalgd running, with this --stats-socket?)";
    } else if (e == EACCES || e == EPERM) {
      why += " (run as root or as the daemon's user)";
    }
    return fail(why);
  }
  std::string line(request);
  line += '\n';
  const uint64_t deadline = NowMs() + static_cast<uint64_t>(timeout_ms);
  size_t sent = 0;
  answer->clear();
  bool done = false;
  while (!done) {
    const uint64_t now = NowMs();
    if (now >= deadline) {
      return fail("no answer from " + path + " within " +
                  std::to_string(timeout_ms) + " ms");
    }
    pollfd p{fd, static_cast<short>(sent < line.size() ? POLLOUT : POLLIN), 0};
    const int n = poll(&p, 1, static_cast<int>(deadline - now));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::string("poll: ") + std::strerror(errno));
    if (n == 0) continue;
    if (sent < line.size()) {
      const ssize_t w = send(fd, line.data() + sent, line.size() - sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        // The daemon may have answered ("busy") and closed: read it.
        if (errno != EPIPE && errno != ECONNRESET) {
          return fail("sending to " + path + ": " + std::strerror(errno));
        }
        sent = line.size();
      } else if (w > 0) {
        sent += static_cast<size_t>(w);
      }
      continue;
    }
    char buf[16384];
    const ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (r > 0) {
      answer->append(buf, static_cast<size_t>(r));
      if (answer->size() > kMaxAnswer) return fail("answer from " + path + " too large");
    } else if (r == 0) {
      done = true;
    } else if (errno != EAGAIN && errno != EINTR) {
      if (errno == ECONNRESET && !answer->empty()) {
        done = true;
      } else {
        return fail("reading from " + path + ": " + std::strerror(errno));
      }
    }
  }
  close(fd);
  return true;
}

}  // namespace ftpalg
