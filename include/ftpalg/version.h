// SPDX-License-Identifier: GPL-2.0-or-later
// The release version, as ftpalg-replay --version prints it. ftpalgd's
// --version, debian/changelog and this must agree (tests/packaging/docs.sh).
#pragma once

#include <string_view>

namespace ftpalg {

inline constexpr std::string_view kPackageVersion = "0.1.0";

}  // namespace ftpalg
