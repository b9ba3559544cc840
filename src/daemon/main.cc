// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd: the transparent FTP ALG daemon. See --help.
#include <cstdio>
#include <string>
#include <vector>

#include "adapters/journal_stream.h"
#include "adapters/stderr_logger.h"
#include "adapters/syslog_logger.h"
#include "daemon/check.h"
#include "daemon/control_socket.h"
#include "daemon/config_file.h"
#include "daemon/live.h"
#include "daemon/options.h"

namespace {

// ftpalgd --stats [--prometheus] and --resync: one request to the running
// daemon over its unix socket; an "error: " answer exits 1.
int RunControlClient(const ftpalg::DaemonOptions& options, const char* request) {
  std::string answer, error;
  if (!ftpalg::ControlRequest(options.stats_socket, request, &answer, &error)) {
    std::fprintf(stderr, "ftpalgd: %s\n", error.c_str());
    return 1;
  }
  if (answer.rfind("error: ", 0) == 0) {
    std::fprintf(stderr, "ftpalgd: %s: %s", options.stats_socket.c_str(),
                 answer.c_str());
    return 1;
  }
  std::fputs(answer.c_str(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

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
    std::fputs(ftpalg::VersionText().c_str(), stdout);
    return 0;
  }
  if (options.print_config) {
    std::fputs(ftpalg::ConfigText(options).c_str(), stdout);
    return 0;
  }
  if (options.stats) {
    return RunControlClient(options,
                            options.prometheus ? "stats prometheus" : "stats text");
  }
  if (options.resync) return RunControlClient(options, "resync");
  if (options.check) return ftpalg::RunCheck(options, stdout);

  ftpalg::StderrLogger::Options log_options;
  log_options.min_level = options.log_level;
  log_options.lines_per_second = options.log_rate;
  ftpalg::StderrLogger::Writer writer;
  if (options.log_target == ftpalg::LogTarget::kSyslog) {
    log_options.timestamps = false;
    writer = ftpalg::OpenSyslogWriter();
  } else if (ftpalg::StderrIsJournal()) {
    log_options.journal_priority = true;  // journalctl -p warning works
  }
  ftpalg::StderrLogger logger(log_options, std::move(writer));
  return ftpalg::RunDaemon(args, options, logger);
}
