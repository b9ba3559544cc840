// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd: the transparent FTP ALG daemon. See --help.
#include <cstdio>
#include <string>
#include <vector>

#include "adapters/stderr_logger.h"
#include "daemon/live.h"
#include "daemon/options.h"

int main(int argc, char** argv) {
  using ftpalg::DaemonOptions;
  const std::vector<std::string> args(argv + 1, argv + argc);
  DaemonOptions options;
  std::string error;
  if (!ftpalg::LoadOptions(args, &options, &error)) {
    std::fprintf(stderr, "ftpalgd: %s\n", error.c_str());
    return 2;
  }
  if (options.help) {
    std::fputs(ftpalg::UsageText().c_str(), stdout);
    return 0;
  }
  if (options.version) {
    std::printf("ftpalgd %s\n", std::string(ftpalg::kVersion).c_str());
    return 0;
  }
  if (options.check) return ftpalg::RunCheck(options, stdout);

  ftpalg::StderrLogger::Options log_options;
  log_options.min_level = options.log_level;
  ftpalg::StderrLogger logger(log_options);
  return ftpalg::RunDaemon(args, options, logger);
}
