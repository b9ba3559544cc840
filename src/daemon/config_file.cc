// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "adapters/stderr_logger.h"

namespace ftpalg {
namespace {

constexpr size_t kMaxConfigBytes = 1024 * 1024;

// Reads a config file whole (at most 1 MiB). false + *err (errno) + *error.
bool ReadFileBounded(const std::string& path, std::string* text, int* err,
                     std::string* error) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  *err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    char buf[8192];
    ssize_t n = 0;
    text->clear();
    while (text->size() <= kMaxConfigBytes &&
           (n = read(fd, buf, sizeof(buf))) > 0) {
      text->append(buf, static_cast<size_t>(n));
    }
    if (n < 0) *err = errno;
    close(fd);
  }
  if (*err != 0) {
    *error = "cannot read config file '" + EscapeForLog(path, 200) +
             "': " + std::strerror(*err);
    return false;
  }
  if (text->size() > kMaxConfigBytes) {
    *error = path + ": config file larger than 1 MiB";
    return false;
  }
  return true;
}

}  // namespace

std::string DefaultConfigPath() {
  if (const char* env = std::getenv("FTPALGD_DEFAULT_CONFIG")) return env;
  return FTPALG_DEFAULT_CONFIG;
}

bool LoadOptions(const std::vector<std::string>& args, DaemonOptions* out,
                 std::string* error) {
  const std::vector<std::string_view> views(args.begin(), args.end());
  DaemonOptions cli;
  if (!ParseArgs(views, &cli, error)) return false;
  if (cli.help || cli.version) {
    *out = cli;
    return true;
  }
  // A named file must exist; the default one may be missing.
  const bool named = !cli.config_file.empty();
  std::string path = named ? cli.config_file : DefaultConfigPath();
  DaemonOptions merged;
  if (!path.empty()) {
    std::string text;
    int err = 0;
    if (ReadFileBounded(path, &text, &err, error)) {
      if (!ParseConfigText(path, text, &merged, error)) return false;
    } else if (named || err != ENOENT) {
      return false;
    } else {
      path.clear();
    }
  }
  if (!ParseArgs(views, &merged, error)) return false;
  merged.config_file = path;
  if (const std::string e = CheckOptionCombination(merged); !e.empty()) {
    *error = e;
    return false;
  }
  *out = merged;
  return true;
}

}  // namespace ftpalg
