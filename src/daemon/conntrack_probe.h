// `ftpalgd --check`'s look at the conntrack plane's kernel side: can it
// talk ctnetlink, make kernel expectations, use the pending ipsets, and
// keep state in conntrack labels? Each probe works on throwaway TEST-NET
// conntracks (192.0.2.0/24, 2001:db8::/32) in the current namespace and
// deletes them again.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>

#include "conntrack/plane_options.h"

namespace ftpalg {

// Probes ctnetlink (CT dump works), whether EXP_NEW can work (is any inert
// helper attachable), and whether the pending ipsets exist. Appends
// human-readable lines to *report; returns true when the daemon can run.
// Briefly creates (and deletes) one conntrack and one set element on
// TEST-NET-1 addresses (192.0.2.0/24) in the current namespace.
bool ProbeConntrack(const PlaneOptions&, std::string* report);

// Do new conntracks get labels, so session offsets and pending data
// connections survive a restart or a failover? Creates a throwaway
// TEST-NET conntrack (it gets label space exactly when a new connection
// would), writes and reads back offsets and a pending data connection
// (layout v2), deletes it. *report gets one line.
bool ProbeLabels(std::string* report);

}  // namespace ftpalg
