// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's live wiring: options -> EngineConfig, the conntrack plane, the
// engine and the NFQUEUE socket, and the poll loop over the queue socket, a
// signalfd and a 1 s housekeeping timer. Also the --check probe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "adapters/nfqueue_socket.h"
#include "adapters/stderr_logger.h"
#include "daemon/options.h"
#include "ftpalg/engine.h"

#include "daemon/conntrack_plane.h"

namespace ftpalg {

// Routes queued packets: the control queue to the engine, the data-SYN
// queue to the plane (then accepted); anything else passes unchanged.
class QueueHandler final : public PacketHandler {
 public:
  QueueHandler(uint16_t control_queue, uint16_t data_queue, Engine& engine,
               ConntrackPlane& plane)
      : control_queue_(control_queue),
        data_queue_(data_queue),
        engine_(engine),
        plane_(plane) {}
  Decision OnPacket(const nfq::QueuedPacket& meta, PacketBuffer& packet,
                    uint64_t now_ms) override;
  uint64_t data_syns() const { return data_syns_; }
  uint64_t unknown_queue() const { return unknown_queue_; }

 private:
  uint16_t control_queue_;
  uint16_t data_queue_;
  Engine& engine_;
  ConntrackPlane& plane_;
  uint64_t data_syns_ = 0;
  uint64_t unknown_queue_ = 0;
};

PlaneOptions MakePlaneOptions(const DaemonOptions& options);

// The config file read when --config is not given: $FTPALGD_DEFAULT_CONFIG
// when set (empty: none), else FTPALG_DEFAULT_CONFIG (a build define).
#ifndef FTPALG_DEFAULT_CONFIG
#define FTPALG_DEFAULT_CONFIG "/etc/ftpalg/ftpalgd.conf"
#endif
std::string DefaultConfigPath();

// Parses args, then the config file (--config FILE, which must exist, or
// DefaultConfigPath() when it exists) with args on top. Errors in the file
// read "FILE:LINE: reason". out->config_file names the file read ("": none).
bool LoadOptions(const std::vector<std::string>& args, DaemonOptions* out,
                 std::string* error);

// Runs until SIGTERM/SIGINT. Returns the process exit status.
int RunDaemon(const std::vector<std::string>& args, const DaemonOptions& options,
              StderrLogger& logger);

// --check: prints a report to out; returns 0 when ready, 1 when not.
int RunCheck(const DaemonOptions& options, std::FILE* out);

}  // namespace ftpalg
