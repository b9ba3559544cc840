// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace ftpalg {
namespace {

bool HasCap(cap_value_t cap, cap_flag_t which) {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return false;
  cap_flag_value_t v = CAP_CLEAR;
  const int rc = cap_get_flag(caps, cap, which, &v);
  cap_free(caps);
  return rc == 0 && v == CAP_SET;
}

bool LookUpUser(const std::string& user, uid_t* uid, gid_t* gid,
                std::string* error) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  const int rc = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr) {
    *error = "--user " + user + ": no such user" +
             (rc != 0 ? std::string(" (") + std::strerror(rc) + ")" : "");
    return false;
  }
  *uid = pw.pw_uid;
  *gid = pw.pw_gid;
  return true;
}

// Permitted and effective = {CAP_NET_ADMIN} (plus `extra` while switching).
bool SetCaps(const std::vector<cap_value_t>& keep, std::string* error) {
  cap_t caps = cap_init();  // all clear
  if (caps == nullptr) {
    *error = std::string("cap_init: ") + std::strerror(errno);
    return false;
  }
  const int n = static_cast<int>(keep.size());
  bool ok = cap_set_flag(caps, CAP_PERMITTED, n, keep.data(), CAP_SET) == 0 &&
            cap_set_flag(caps, CAP_EFFECTIVE, n, keep.data(), CAP_SET) == 0 &&
            cap_set_proc(caps) == 0;
  if (!ok) *error = std::string("cap_set_proc: ") + std::strerror(errno);
  cap_free(caps);
  return ok;
}

}  // namespace

std::string CurrentCapabilities() {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return "?";
  char* text = cap_to_text(caps, nullptr);
  std::string s = text != nullptr ? text : "?";
  if (text != nullptr) cap_free(text);
  cap_free(caps);
  return s.empty() ? "none" : s;
}

bool CheckPrivileges(const std::string& user, std::string* error) {
  if (!HasCap(CAP_NET_ADMIN, CAP_EFFECTIVE)) {
    *error =
        "ftpalgd needs CAP_NET_ADMIN (NFQUEUE, ctnetlink and ipset all "
        "require it): run it as root, or grant the capability (systemd: "
        "AmbientCapabilities=CAP_NET_ADMIN); it has: " +
        CurrentCapabilities();
    return false;
  }
  if (!user.empty()) {
    uid_t uid = 0;
    gid_t gid = 0;
    if (!LookUpUser(user, &uid, &gid, error)) return false;
    if (uid != getuid() && (!HasCap(CAP_SETUID, CAP_EFFECTIVE) ||
                            !HasCap(CAP_SETGID, CAP_EFFECTIVE))) {
      *error = "--user " + user +
               ": switching users needs CAP_SETUID and CAP_SETGID (start "
               "ftpalgd as root)";
      return false;
    }
  }
  return true;
}

bool DropPrivileges(const std::string& user, std::string* description,
                    std::string* error) {
  if (!HasCap(CAP_NET_ADMIN, CAP_PERMITTED)) {
    *error = "CAP_NET_ADMIN is not permitted: cannot keep it";
    return false;
  }
  // The bounding set first (needs CAP_SETPCAP, which goes next): nothing
  // this process or a child execs can regain any other capability.
  bool bounded = HasCap(CAP_SETPCAP, CAP_EFFECTIVE);
  if (bounded) {
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
      if (c == CAP_NET_ADMIN) continue;
      if (cap_drop_bound(c) != 0 && errno != EINVAL) bounded = false;
    }
  }
  if (!user.empty()) {
    uid_t uid = 0;
    gid_t gid = 0;
    if (!LookUpUser(user, &uid, &gid, error)) return false;
    // Keep the permitted set through setuid; only what is needed to switch.
    if (!SetCaps({CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID}, error)) return false;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
      *error = std::string("prctl(PR_SET_KEEPCAPS): ") + std::strerror(errno);
      return false;
    }
    if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
      *error = "--user " + user + ": " + std::strerror(errno);
      return false;
    }
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  }
  // setuid cleared the effective set: set exactly CAP_NET_ADMIN again.
  if (!SetCaps({CAP_NET_ADMIN}, error)) return false;
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (!HasCap(CAP_NET_ADMIN, CAP_EFFECTIVE)) {
    *error = "CAP_NET_ADMIN lost while dropping privileges";
    return false;
  }
  *description = "uid " + std::to_string(getuid()) + " gid " +
                 std::to_string(getgid()) + ", capabilities " +
                 CurrentCapabilities() +
                 (bounded ? ", bounding set cap_net_admin only"
                          : ", bounding set unchanged (no CAP_SETPCAP)") +
                 ", no_new_privs";
  return true;
}

}  // namespace ftpalg
