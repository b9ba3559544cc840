// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/plane_setup.h"

namespace ftpalg {

PlaneOptions MakePlaneOptions(const DaemonOptions& o) {
  PlaneOptions p;
  p.public_v4 = o.public_v4;
  p.public_v6 = o.public_v6;
  switch (o.mechanism) {
    case Mechanism::kAuto: p.mechanism = PlaneOptions::Mechanism::kAuto; break;
    case Mechanism::kExpect: p.mechanism = PlaneOptions::Mechanism::kExpect; break;
    case Mechanism::kPrecreate:
      p.mechanism = PlaneOptions::Mechanism::kPrecreate;
      break;
  }
  p.max_expectations = MakeEngineConfig(o).max_expectations;
  p.expectation_timeout_s = MakeEngineConfig(o).expectation_timeout_s;
  return p;
}

}  // namespace ftpalg
