// SPDX-License-Identifier: GPL-2.0-or-later
// What ftpalgd's options ask of the conntrack plane (public addresses, the
// data-connection mechanism, the expectation limits the engine uses too).
#pragma once

#include "conntrack/plane_options.h"
#include "daemon/options.h"

namespace ftpalg {

PlaneOptions MakePlaneOptions(const DaemonOptions& options);

}  // namespace ftpalg
