// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalg-replay: runs the FTP ALG engine offline over a capture.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/logger.h"
#include "ftpalg/version.h"
#include "replay/atomic_file.h"
#include "replay/replay.h"
#include "replay/replay_options.h"

namespace {

class StderrLogger final : public ftpalg::Logger {
 public:
  bool Enabled(ftpalg::LogLevel) const override { return true; }
  void Log(ftpalg::LogLevel l, std::string_view message) override {
    std::fprintf(stderr, "ftpalg-replay: %.*s: %.*s\n",
                 static_cast<int>(ftpalg::LevelName(l).size()),
                 ftpalg::LevelName(l).data(), static_cast<int>(message.size()),
                 message.data());
  }
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "ftpalg-replay: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  ftpalg::ReplayOptions options;
  if (std::string err = ftpalg::ParseReplayArgs(args, &options); !err.empty()) {
    std::fprintf(stderr, "ftpalg-replay: %s\n%s", err.c_str(),
                 std::string(ftpalg::ReplayUsage()).c_str());
    return 2;
  }
  if (options.help) {
    std::fputs(std::string(ftpalg::ReplayUsage()).c_str(), stdout);
    return 0;
  }
  if (options.version) {
    std::printf("ftpalg-replay %s\n", std::string(ftpalg::kPackageVersion).c_str());
    return 0;
  }

  std::string error;
  std::unique_ptr<ftpalg::AtomicFile> exp_file, trace_file, events_file;
  if (!options.expectations_path.empty()) {
    exp_file = ftpalg::AtomicFile::Create(options.expectations_path, &error);
    if (!exp_file) return Fail(error);
  }
  if (!options.trace_path.empty()) {
    trace_file = ftpalg::AtomicFile::Create(options.trace_path, &error);
    if (!trace_file) return Fail(error);
  }

  if (!options.events_path.empty()) {
    events_file = ftpalg::AtomicFile::Create(options.events_path, &error);
    if (!events_file) return Fail(error);
  }

  // The files are streamed (written as the replay goes), and appear under
  // their names only once everything succeeded.
  StderrLogger stderr_logger;
  ftpalg::ReplayOutputs outputs;
  outputs.expectations = exp_file ? &exp_file->stream() : nullptr;
  outputs.trace = trace_file ? &trace_file->stream() : nullptr;
  outputs.events = events_file ? &events_file->stream() : nullptr;
  outputs.log = options.verbose ? &stderr_logger : nullptr;
  ftpalg::ReplaySummary summary;
  if (std::string err = ftpalg::RunReplay(options, outputs, &summary); !err.empty()) {
    return Fail(err);  // the writer removed its temporary file
  }
  if (exp_file && !exp_file->Commit(&error)) {
    std::remove(options.output.c_str());
    return Fail(error);
  }
  if (trace_file && !trace_file->Commit(&error)) {
    std::remove(options.output.c_str());
    return Fail(error);
  }
  if (events_file && !events_file->Commit(&error)) {
    std::remove(options.output.c_str());
    return Fail(error);
  }
  std::fprintf(stderr, "ftpalg-replay: %s -> %s\n%s", options.input.c_str(),
               options.output.c_str(), summary.ToText().c_str());
  return 0;
}
