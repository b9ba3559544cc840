// SPDX-License-Identifier: GPL-2.0-or-later
#include "replay/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ftpalg {

std::unique_ptr<AtomicFile> AtomicFile::Create(const std::string& path,
                                               std::string* error) {
  std::unique_ptr<AtomicFile> f(new AtomicFile());
  f->path_ = path;
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  f->fd_ = mkstemp(name.data());
  if (f->fd_ < 0) {
    *error = path + ": cannot create: " + std::strerror(errno);
    return nullptr;
  }
  f->temp_path_ = name.data();
  const mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(f->fd_, 0666 & ~mask);
  return f;
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) close(fd_);
  if (!temp_path_.empty()) unlink(temp_path_.c_str());
}

bool AtomicFile::Commit(std::string_view data, std::string* error) {
  while (!data.empty()) {
    const ssize_t n = write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = path_ + ": write failed: " + std::strerror(errno);
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (fsync(fd_) != 0 || close(fd_) != 0) {
    fd_ = -1;
    *error = path_ + ": write failed: " + std::strerror(errno);
    return false;
  }
  fd_ = -1;
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    *error = path_ + ": cannot rename into place: " + std::strerror(errno);
    return false;
  }
  temp_path_.clear();
  return true;
}

}  // namespace ftpalg
