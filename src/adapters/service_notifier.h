// SPDX-License-Identifier: GPL-2.0-or-later
// How ftpalgd tells a service manager about itself: readiness, a status
// line, watchdog pings, reloading and stopping (sd_notify(3) states such as
// "READY=1\nSTATUS=..."). The systemd implementation is in
// systemd_notifier.h; tests pass a recording fake.
#pragma once

#include <cstdint>
#include <string>

namespace ftpalg {

class ServiceNotifier {
 public:
  virtual ~ServiceNotifier() = default;
  // False when no service manager listens (NOTIFY_SOCKET unset): Send then
  // does nothing.
  virtual bool enabled() const = 0;
  // The watchdog interval the manager expects of this process
  // (WATCHDOG_USEC, when WATCHDOG_PID is unset or this process), 0: none.
  virtual uint64_t watchdog_usec() const = 0;
  // One notification of newline-separated assignments; false if it could
  // not be sent.
  virtual bool Send(const std::string& state) = 0;
};

}  // namespace ftpalg
