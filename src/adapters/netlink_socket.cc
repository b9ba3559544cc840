// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/netlink_socket.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <cstring>

namespace ftpalg {
namespace {

int64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

std::unique_ptr<NetlinkSocket> NetlinkSocket::Open(int timeout_ms,
                                                   std::string* error) {
  mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (nl == nullptr) {
    if (error) *error = std::string("netlink socket: ") + strerror(errno);
    return nullptr;
  }
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    if (error) *error = std::string("netlink bind: ") + strerror(errno);
    mnl_socket_close(nl);
    return nullptr;
  }
  // Short error messages (no echo of our request); never fail on this.
  int one = 1;
  mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
  mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
  return std::unique_ptr<NetlinkSocket>(new NetlinkSocket(nl, timeout_ms));
}

NetlinkSocket::NetlinkSocket(mnl_socket* nl, int timeout_ms)
    : nl_(nl),
      portid_(mnl_socket_get_portid(nl)),
      timeout_ms_(timeout_ms),
      rx_(new uint8_t[kRxSize]) {}

NetlinkSocket::~NetlinkSocket() { mnl_socket_close(nl_); }

int NetlinkSocket::Send(const nlmsghdr* request) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (mnl_socket_sendto(nl_, request, request->nlmsg_len) >= 0) return 0;
    if (errno != ENOBUFS && errno != EINTR && errno != EAGAIN) return errno;
  }
  return errno;
}

int NetlinkSocket::Request(nlmsghdr* request, const ReplyFn& on_reply) {
  return Exchange(request, false, on_reply);
}

int NetlinkSocket::Dump(nlmsghdr* request, const ReplyFn& on_reply) {
  return Exchange(request, true, on_reply);
}

int NetlinkSocket::Exchange(nlmsghdr* request, bool dump,
                            const ReplyFn& on_reply) {
  request->nlmsg_flags |= NLM_F_ACK;
  const uint32_t seq = request->nlmsg_seq;
  if (int err = Send(request); err != 0) return err;

  // A request waits at most timeout_ms for its answer; a dump at most
  // timeout_ms for each next batch (a large table takes longer in total).
  int64_t deadline = MonotonicMs() + timeout_ms_;
  const int fd = mnl_socket_get_fd(nl_);
  for (;;) {
    const int64_t left = deadline - MonotonicMs();
    if (left <= 0) return ETIMEDOUT;
    pollfd pfd{fd, POLLIN, 0};
    const int pr = poll(&pfd, 1, static_cast<int>(left));
    if (pr < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (pr == 0) return ETIMEDOUT;
    const ssize_t n = recv(fd, rx_.get(), kRxSize, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errno;  // ENOBUFS: answers were lost
    }
    if (dump) deadline = MonotonicMs() + timeout_ms_;
    int len = static_cast<int>(n);
    for (const nlmsghdr* m = reinterpret_cast<const nlmsghdr*>(rx_.get());
         mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
      if (m->nlmsg_seq != seq || (m->nlmsg_pid != 0 && m->nlmsg_pid != portid_))
        continue;  // late answer to an earlier request
      if (m->nlmsg_type == NLMSG_ERROR) {
        if (m->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) return EPROTO;
        const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
        return e->error < 0 ? -e->error : e->error;
      }
      if (m->nlmsg_type == NLMSG_DONE) {
        if (dump) return 0;
        continue;
      }
      if (m->nlmsg_type < NLMSG_MIN_TYPE) continue;  // NOOP / OVERRUN
      on_reply(m);
    }
  }
}

const char* ErrnoName(int err) {
  switch (err) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EPROTO: return "EPROTO";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOBUFS: return "ENOBUFS";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EALREADY: return "EALREADY";
    case IPSET_ERR_PROTOCOL: return "IPSET_ERR_PROTOCOL";
    case IPSET_ERR_FIND_TYPE: return "IPSET_ERR_FIND_TYPE";
    case IPSET_ERR_TYPE_MISMATCH: return "IPSET_ERR_TYPE_MISMATCH";
    case IPSET_ERR_EXIST: return "IPSET_ERR_EXIST";
    case IPSET_ERR_INVALID_FAMILY: return "IPSET_ERR_INVALID_FAMILY";
    case IPSET_ERR_TIMEOUT: return "IPSET_ERR_TIMEOUT";
    case IPSET_ERR_IPADDR_IPV4: return "IPSET_ERR_IPADDR_IPV4";
    case IPSET_ERR_IPADDR_IPV6: return "IPSET_ERR_IPADDR_IPV6";
    default: return "errno_other";
  }
}

}  // namespace ftpalg
