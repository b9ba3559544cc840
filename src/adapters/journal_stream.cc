// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/journal_stream.h"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace ftpalg {
namespace {

// A decimal number ending at `end` (strtoull, no sign, no overflow).
bool ParseNumber(const char* text, char end, const char** next,
                 unsigned long long* out) {
  if (*text < '0' || *text > '9') return false;
  char* stop = nullptr;
  errno = 0;
  *out = std::strtoull(text, &stop, 10);
  if (errno != 0 || *stop != end) return false;
  *next = stop;
  return true;
}

}  // namespace

bool FdIsJournalStream(int fd, const char* journal_stream) {
  if (journal_stream == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  const char* p = journal_stream;
  if (!ParseNumber(p, ':', &p, &dev) || !ParseNumber(p + 1, '\0', &p, &ino)) {
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

bool StderrIsJournal() {
  return FdIsJournalStream(STDERR_FILENO, std::getenv("JOURNAL_STREAM"));
}

std::string_view JournalPriorityPrefix(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return SD_DEBUG;
    case LogLevel::kInfo:
      return SD_INFO;
    case LogLevel::kWarn:
      return SD_WARNING;
    case LogLevel::kError:
      return SD_ERR;
  }
  return SD_INFO;
}

}  // namespace ftpalg
