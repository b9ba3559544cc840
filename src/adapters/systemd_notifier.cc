// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/systemd_notifier.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

namespace ftpalg {
namespace {

class SystemdNotifier final : public ServiceNotifier {
 public:
  explicit SystemdNotifier(Logger& logger) : logger_(logger) {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket != nullptr && socket[0] != '\0';
    if (enabled_) socket_ = socket;
    uint64_t usec = 0;
    // > 0: WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process.
    if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_usec_ = usec;
  }

  bool enabled() const override { return enabled_; }
  uint64_t watchdog_usec() const override { return watchdog_usec_; }

  bool Send(const std::string& state) override {
    if (!enabled_) return false;
    const int rc = sd_notify(0, state.c_str());
    if (rc > 0) return true;
    if (failures_++ == 0) {
      logger_.Log(LogLevel::kWarn,
                  "service manager notification failed (NOTIFY_SOCKET=" + socket_ +
                      "): " +
                      (rc < 0 ? std::strerror(-rc) : "not sent") +
                      "; further failures are not logged");
    }
    return false;
  }

 private:
  Logger& logger_;
  std::string socket_;
  bool enabled_ = false;
  uint64_t watchdog_usec_ = 0;
  uint64_t failures_ = 0;
};

}  // namespace

std::unique_ptr<ServiceNotifier> MakeSystemdNotifier(Logger& logger) {
  return std::make_unique<SystemdNotifier>(logger);
}

}  // namespace ftpalg
