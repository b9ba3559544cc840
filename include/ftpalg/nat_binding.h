// How the gateway's NAT presents the two ends of a control connection.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "ftpalg/inet.h"

namespace ftpalg {

// How the gateway's NAT presents each end of one control connection.
// Offline: the identity, with --public-ip standing in for an inside address.
// Live: read from the control conntrack (ORIGINAL and REPLY tuples).
struct NatBinding {
  IpAddress client_inside;   // client as it sends (ORIGINAL src)
  IpAddress client_outside;  // client as the server sees it (REPLY dst)
  IpAddress server_outside;  // server as the client dialled it (ORIGINAL dst)
  IpAddress server_inside;   // server as it sends (REPLY src)
};

}  // namespace ftpalg
