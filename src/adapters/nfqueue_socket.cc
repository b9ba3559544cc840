// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/nfqueue_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace ftpalg {
namespace {

constexpr size_t kPacketRoom = 65535 + 512;      // engine growth room
constexpr size_t kRecvBufSize = 65536 + 16384;   // one whole 64 KiB packet
constexpr size_t kSendBufSize = 2 * 65536 + 8192;
constexpr int kSocketBufBytes = 8 * 1024 * 1024;
constexpr int kAckWaitMs = 2000;
constexpr int kAckWaitRounds = 64;  // datagrams read while waiting for an ACK

}  // namespace

std::string QueueCounters::ToString() const {
  char buf[512];
  std::snprintf(
      buf, sizeof(buf),
      "queue received=%llu accepted=%llu modified=%llu dropped=%llu "
      "parse_errors=%llu enobufs=%llu recv_errors=%llu send_errors=%llu "
      "kernel_errors=%llu oversize=%llu bursts=%llu early=%llu",
      static_cast<unsigned long long>(received),
      static_cast<unsigned long long>(accepted),
      static_cast<unsigned long long>(modified),
      static_cast<unsigned long long>(dropped),
      static_cast<unsigned long long>(parse_errors),
      static_cast<unsigned long long>(enobufs),
      static_cast<unsigned long long>(recv_errors),
      static_cast<unsigned long long>(send_errors),
      static_cast<unsigned long long>(kernel_errors),
      static_cast<unsigned long long>(oversize),
      static_cast<unsigned long long>(bursts),
      static_cast<unsigned long long>(early));
  return buf;
}

std::unique_ptr<NfqueueSocket> NfqueueSocket::Open(Logger& logger,
                                                   std::string* error,
                                                   int* error_number) {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr) {
    *error_number = errno;
    *error = std::string("cannot open netlink socket: ") + std::strerror(errno);
    return nullptr;
  }
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    *error_number = errno;
    *error = std::string("cannot bind netlink socket: ") + std::strerror(errno);
    mnl_socket_close(nl);
    return nullptr;
  }
  const int fd = mnl_socket_get_fd(nl);
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    *error_number = errno;
    *error = std::string("cannot make netlink socket non-blocking: ") +
             std::strerror(errno);
    mnl_socket_close(nl);
    return nullptr;
  }
  // A large receive buffer absorbs bursts; FORCE passes rmem_max with
  // CAP_NET_ADMIN. NETLINK_NO_ENOBUFS stays off: overruns are reported
  // (ENOBUFS), counted and survived.
  const int bytes = kSocketBufBytes;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
  return std::unique_ptr<NfqueueSocket>(new NfqueueSocket(nl, logger));
}

NfqueueSocket::NfqueueSocket(mnl_socket* nl, Logger& logger)
    : nl_(nl),
      logger_(logger),
      recv_buf_(kRecvBufSize),
      send_buf_(kSendBufSize),
      packet_buf_(kPacketRoom) {}

NfqueueSocket::~NfqueueSocket() { mnl_socket_close(nl_); }

int NfqueueSocket::fd() const { return mnl_socket_get_fd(nl_); }

uint32_t NfqueueSocket::portid() const { return mnl_socket_get_portid(nl_); }

int NfqueueSocket::Bind(const nfq::QueueConfig& config) {
  FlushVerdicts();
  const uint32_t seq = seq_++;
  const size_t len =
      nfq::BuildBindMessage(send_buf_.data(), send_buf_.size(), config, seq);
  if (len == 0) return ENOSPC;
  return SendConfigAndWait(len, seq);
}

int NfqueueSocket::Unbind(uint16_t queue) {
  FlushVerdicts();
  const uint32_t seq = seq_++;
  const size_t len =
      nfq::BuildUnbindMessage(send_buf_.data(), send_buf_.size(), queue, seq);
  if (len == 0) return ENOSPC;
  return SendConfigAndWait(len, seq);
}

int NfqueueSocket::SendConfigAndWait(size_t len, uint32_t seq) {
  const ssize_t sent = mnl_socket_sendto(nl_, send_buf_.data(), len);
  const int send_errno = errno;
  if (sent < 0) return send_errno;

  int ack_errno = -1;
  for (int round = 0; round < kAckWaitRounds && ack_errno < 0; ++round) {
    struct pollfd pfd = {fd(), POLLIN, 0};
    const int ready = poll(&pfd, 1, kAckWaitMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0 ? ETIMEDOUT : errno;
    const ssize_t n = ReadOne();
    if (n < 0 && -n != EAGAIN) continue;  // counted in ReadOne
    if (n <= 0) continue;
    // Packets that arrive before the answer are accepted unchanged.
    HandleDatagram(static_cast<size_t>(n), nullptr, 0, seq, &ack_errno);
    FlushVerdicts();
  }
  return ack_errno < 0 ? ETIMEDOUT : ack_errno;
}

ssize_t NfqueueSocket::ReadOne() {
  struct iovec iov = {recv_buf_.data(), recv_buf_.size()};
  struct sockaddr_nl addr = {};
  struct msghdr msg = {};
  msg.msg_name = &addr;
  msg.msg_namelen = sizeof(addr);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const ssize_t n = recvmsg(fd(), &msg, MSG_DONTWAIT);
    if (n >= 0) {
      if ((msg.msg_flags & MSG_TRUNC) != 0) {
        ++counters_.parse_errors;
        logger_.Log(LogLevel::kWarn, "nfqueue: truncated netlink message dropped");
        return -EAGAIN;
      }
      if (addr.nl_pid != 0) return -EAGAIN;  // not from the kernel
      return n;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (errno == ENOBUFS) {
      // The kernel could not deliver some messages: with fail-open those
      // packets were accepted unchanged, otherwise dropped. Keep going.
      ++counters_.enobufs;
      if (logger_.Enabled(LogLevel::kWarn)) {
        char line[128];
        std::snprintf(line, sizeof(line),
                      "nfqueue: receive buffer overrun (ENOBUFS #%llu)",
                      static_cast<unsigned long long>(counters_.enobufs));
        logger_.Log(LogLevel::kWarn, line);
      }
      continue;
    }
    ++counters_.recv_errors;
    if (logger_.Enabled(LogLevel::kWarn)) {
      char line[160];
      std::snprintf(line, sizeof(line), "nfqueue: receive failed: %s",
                    std::strerror(errno));
      logger_.Log(LogLevel::kWarn, line);
    }
    return -errno;
  }
  return -EAGAIN;
}

size_t NfqueueSocket::ReceiveBurst(PacketHandler& handler, uint64_t now_ms,
                                   size_t max_messages) {
  size_t handled = 0;
  size_t reads = 0;
  while (handled < max_messages && reads < max_messages) {
    ++reads;
    const ssize_t n = ReadOne();
    if (n == 0) break;
    if (n < 0) {
      if (-n == EAGAIN) continue;
      break;
    }
    handled += HandleDatagram(static_cast<size_t>(n), &handler, now_ms, 0,
                              nullptr);
  }
  if (handled > 0) ++counters_.bursts;
  FlushVerdicts();
  return handled;
}

void NfqueueSocket::HandleKernelError(const struct nlmsghdr* nlh,
                                      uint32_t wait_seq, int* ack_errno) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr))) return;
  const auto* err =
      static_cast<const struct nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  if (ack_errno != nullptr && wait_seq != 0 && nlh->nlmsg_seq == wait_seq) {
    *ack_errno = -err->error;
    return;
  }
  if (err->error == 0) return;
  ++counters_.kernel_errors;
  if (logger_.Enabled(LogLevel::kWarn)) {
    char line[160];
    std::snprintf(line, sizeof(line), "nfqueue: kernel refused a message: %s",
                  std::strerror(-err->error));
    logger_.Log(LogLevel::kWarn, line);
  }
}

size_t NfqueueSocket::HandleDatagram(size_t len, PacketHandler* handler,
                                     uint64_t now_ms, uint32_t wait_seq,
                                     int* ack_errno) {
  size_t handled = 0;
  int remaining = static_cast<int>(len);
  for (const struct nlmsghdr* nlh =
           reinterpret_cast<const struct nlmsghdr*>(recv_buf_.data());
       mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (nlh->nlmsg_type == NLMSG_ERROR) {
      HandleKernelError(nlh, wait_seq, ack_errno);
      continue;
    }
    if (nlh->nlmsg_type < NLMSG_MIN_TYPE) continue;  // NOOP, DONE, OVERRUN

    nfq::QueuedPacket meta;
    const nfq::ParseStatus status = nfq::ParsePacketMessage(nlh, &meta);
    if (status == nfq::ParseStatus::kNotPacket) continue;
    ++counters_.received;
    ++handled;
    if (status != nfq::ParseStatus::kOk) {
      // Fail-open: whatever we cannot read passes unchanged.
      ++counters_.parse_errors;
      if (logger_.Enabled(LogLevel::kWarn)) {
        char line[160];
        std::snprintf(line, sizeof(line),
                      "nfqueue: queue %u packet %u: %s message, accepted "
                      "unchanged",
                      static_cast<unsigned>(meta.queue), meta.id,
                      nfq::ParseStatusName(status));
        logger_.Log(LogLevel::kWarn, line);
      }
      // Without an id, a later batch verdict on the queue still covers it.
      if (status != nfq::ParseStatus::kMalformed) {
        AcceptLater(meta.queue, meta.id);
        ++counters_.accepted;
      }
      continue;
    }
    if (handler == nullptr) {
      ++counters_.early;
      ++counters_.accepted;
      AcceptLater(meta.queue, meta.id);
      continue;
    }

    std::memcpy(packet_buf_.data(), meta.payload, meta.payload_len);
    PacketBuffer packet;
    packet.data = packet_buf_.data();
    packet.len = meta.payload_len;
    packet.capacity = std::max(
        meta.payload_len, std::min(packet_buf_.size(), nfq::MaxVerdictPayload()));
    const Decision d = handler->OnPacket(meta, packet, now_ms);
    if (d.verdict == Verdict::kDrop) {
      ++counters_.dropped;
      AppendVerdict(meta.queue, meta.id, NF_DROP, nullptr, 0);
    } else if (d.modified) {
      if (packet.len == 0 || packet.len > nfq::MaxVerdictPayload() ||
          packet.len > packet.capacity) {
        // The engine's state already counts the rewrite: passing the old
        // bytes would desynchronise the stream, so let the sender retry.
        ++counters_.oversize;
        ++counters_.dropped;
        logger_.Log(LogLevel::kWarn,
                    "nfqueue: rewritten packet cannot be returned, dropped");
        AppendVerdict(meta.queue, meta.id, NF_DROP, nullptr, 0);
      } else {
        ++counters_.modified;
        AppendVerdict(meta.queue, meta.id, NF_ACCEPT, packet.data, packet.len);
      }
    } else {
      ++counters_.accepted;
      AcceptLater(meta.queue, meta.id);
    }
    if (!batching_) FlushVerdicts();
  }
  return handled;
}

void NfqueueSocket::AcceptLater(uint16_t queue, uint32_t id) {
  if (!batching_) {
    AppendVerdict(queue, id, NF_ACCEPT, nullptr, 0);
    return;
  }
  PendingAccept* free_slot = nullptr;
  for (PendingAccept& p : pending_) {
    if (p.pending && p.queue == queue) {
      p.max_id = id;  // ids grow in delivery order
      return;
    }
    if (!p.pending && free_slot == nullptr) free_slot = &p;
  }
  if (free_slot == nullptr) {
    AppendVerdict(queue, id, NF_ACCEPT, nullptr, 0);
    return;
  }
  *free_slot = PendingAccept{queue, id, true};
}

bool NfqueueSocket::Reserve(size_t len) {
  if (send_buf_.size() - send_len_ >= len) return true;
  SendPending();
  return send_buf_.size() >= len;
}

void NfqueueSocket::AppendBatch(PendingAccept& p) {
  p.pending = false;
  if (!Reserve(nfq::VerdictMessageSize(0))) return;
  send_len_ += nfq::BuildBatchVerdictMessage(send_buf_.data() + send_len_,
                                             send_buf_.size() - send_len_,
                                             p.queue, p.max_id, NF_ACCEPT);
}

void NfqueueSocket::AppendVerdict(uint16_t queue, uint32_t id, uint32_t verdict,
                                  const uint8_t* payload, size_t len) {
  // Earlier unchanged packets of the queue go first: keeps the order.
  for (PendingAccept& p : pending_) {
    if (p.pending && p.queue == queue) AppendBatch(p);
  }
  const size_t need = nfq::VerdictMessageSize(payload != nullptr ? len : 0);
  if (!Reserve(need)) return;
  send_len_ += nfq::BuildVerdictMessage(send_buf_.data() + send_len_,
                                        send_buf_.size() - send_len_, queue, id,
                                        verdict, payload, len);
}

void NfqueueSocket::FlushVerdicts() {
  for (PendingAccept& p : pending_) {
    if (p.pending) AppendBatch(p);
  }
  SendPending();
}

void NfqueueSocket::SendPending() {
  if (send_len_ == 0) return;
  ssize_t sent = -1;
  for (int attempt = 0; attempt < 4; ++attempt) {
    sent = mnl_socket_sendto(nl_, send_buf_.data(), send_len_);
    if (sent >= 0 || errno != EINTR) break;
  }
  if (sent < 0) {
    ++counters_.send_errors;
    if (logger_.Enabled(LogLevel::kWarn)) {
      char line[160];
      std::snprintf(line, sizeof(line), "nfqueue: sending verdicts failed: %s",
                    std::strerror(errno));
      logger_.Log(LogLevel::kWarn, line);
    }
  }
  send_len_ = 0;
}

}  // namespace ftpalg
