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
namespace {
// Bytes stream() collects before one write(2).
constexpr size_t kStreamBuffer = 256 * 1024;
}  // namespace

AtomicFile::FdBuf::FdBuf(AtomicFile* owner) : owner_(owner), buf_(kStreamBuffer) {
  setp(buf_.data(), buf_.data() + buf_.size());
}

bool AtomicFile::FdBuf::Drain() {
  const bool ok = owner_->WriteAll({pbase(), static_cast<size_t>(pptr() - pbase())});
  setp(buf_.data(), buf_.data() + buf_.size());
  return ok;
}

AtomicFile::FdBuf::int_type AtomicFile::FdBuf::overflow(int_type c) {
  if (!Drain()) return traits_type::eof();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  return c;
}

std::streamsize AtomicFile::FdBuf::xsputn(const char* s, std::streamsize n) {
  const auto room = static_cast<std::streamsize>(epptr() - pptr());
  if (n <= room) {
    std::memcpy(pptr(), s, static_cast<size_t>(n));
    pbump(static_cast<int>(n));
    return n;
  }
  if (!Drain()) return 0;
  if (n >= static_cast<std::streamsize>(buf_.size())) {
    return owner_->WriteAll({s, static_cast<size_t>(n)}) ? n : 0;
  }
  std::memcpy(pptr(), s, static_cast<size_t>(n));
  pbump(static_cast<int>(n));
  return n;
}

AtomicFile::AtomicFile() : buf_(this), stream_(&buf_) {}

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

bool AtomicFile::WriteAll(std::string_view data) {
  if (write_errno_ != 0 || fd_ < 0) return false;
  while (!data.empty()) {
    const ssize_t n = write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      write_errno_ = n < 0 ? errno : EIO;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool AtomicFile::Commit(std::string_view data, std::string* error) {
  if (!buf_.Drain() || !WriteAll(data)) {
    *error = path_ + ": write failed: " + std::strerror(write_errno_ != 0 ? write_errno_ : EBADF);
    return false;
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
