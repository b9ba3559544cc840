// SPDX-License-Identifier: GPL-2.0-or-later
// The release version, printed by ftpalgd --version and ftpalg-replay
// --version. debian/changelog and the man pages must agree with it
// (tests/packaging/docs.sh).
#pragma once

#include <string_view>

namespace ftpalg {

inline constexpr std::string_view kPackageVersion = "0.1.0";

}  // namespace ftpalg
