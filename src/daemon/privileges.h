// SPDX-License-Identifier: GPL-2.0-or-later
// ftpalgd's privilege handling: it needs CAP_NET_ADMIN and nothing else.
// Every nfnetlink message (queue verdicts, ctnetlink, ipset) is checked
// against CAP_NET_ADMIN of both the socket's opener and the sender, so the
// capability stays for the whole run; everything else goes once the
// sockets are open, optionally together with root (--user).
#pragma once

#include <string>

namespace ftpalg {

// Whether this process can do what ftpalgd needs right now: false with a
// one-line operator message ("needs CAP_NET_ADMIN ...") otherwise. With a
// user name also checks that the user exists and that we may switch to it.
bool CheckPrivileges(const std::string& user, std::string* error);

// After the sockets are open: optionally switch to `user` (its uid, primary
// gid, no supplementary groups) keeping CAP_NET_ADMIN through the switch,
// then keep CAP_NET_ADMIN alone (permitted and effective; inheritable and
// ambient empty; the bounding set reduced to it when we may; no_new_privs).
// On success *description says what is left ("uid 65534 gid 65534, caps
// cap_net_admin=ep, ..."); false + *error on failure (the caller stops).
bool DropPrivileges(const std::string& user, std::string* description,
                    std::string* error);

// "cap_net_admin=ep" style text of this process's capabilities.
std::string CurrentCapabilities();

}  // namespace ftpalg
