// SPDX-License-Identifier: GPL-2.0-or-later
// The NFQUEUE netlink socket: binds queues, receives queued packets in
// bursts without blocking, hands each to a PacketHandler and sends the
// verdicts (unchanged packets are accepted with one batch verdict per queue
// and burst; modified or dropped packets get their own verdict, in order).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapters/nfqueue_messages.h"
#include "ftpalg/engine.h"
#include "ftpalg/logger.h"

struct mnl_socket;

namespace ftpalg {

struct QueueCounters {
  uint64_t received = 0;       // packet messages read
  uint64_t accepted = 0;       // accepted unchanged
  uint64_t modified = 0;       // accepted with new bytes
  uint64_t dropped = 0;        // dropped on the handler's request
  uint64_t parse_errors = 0;   // unusable messages (accepted if the id was known)
  uint64_t enobufs = 0;        // socket overran: the kernel lost messages
  uint64_t recv_errors = 0;
  uint64_t send_errors = 0;
  uint64_t kernel_errors = 0;  // the kernel refused a verdict
  uint64_t oversize = 0;       // modified packet too large to return: dropped
  uint64_t bursts = 0;         // wakeups that read at least one message
  uint64_t early = 0;          // accepted unchanged while binding
  std::string ToString() const;
};

class PacketHandler {
 public:
  virtual ~PacketHandler() = default;
  // packet.data[0..len) is the queued IP packet with room for growth
  // (capacity); the handler may rewrite it in place and report it modified.
  virtual Decision OnPacket(const nfq::QueuedPacket& meta, PacketBuffer& packet,
                            uint64_t now_ms) = 0;
};

class NfqueueSocket {
 public:
  // Opens the netlink socket (non-blocking, large receive buffer). On
  // failure returns null, with *error set and *error_number the errno.
  static std::unique_ptr<NfqueueSocket> Open(Logger& logger, std::string* error,
                                             int* error_number);
  ~NfqueueSocket();  // closing the socket unbinds whatever is still bound
  NfqueueSocket(const NfqueueSocket&) = delete;
  NfqueueSocket& operator=(const NfqueueSocket&) = delete;

  int fd() const;
  uint32_t portid() const;

  // Binds and configures a queue; waits (bounded) for the kernel's answer.
  // Returns 0 or an errno (EPERM: no CAP_NET_ADMIN, or bound elsewhere).
  int Bind(const nfq::QueueConfig& config);
  int Unbind(uint16_t queue);

  // Reads at most max_messages messages without blocking, handles them and
  // sends every verdict before returning. Returns the packets handled.
  size_t ReceiveBurst(PacketHandler& handler, uint64_t now_ms,
                      size_t max_messages);

  const QueueCounters& counters() const { return counters_; }
  // Off: every packet gets its own verdict message, sent before the next
  // packet is handled (no batch verdicts, one send per packet).
  void set_batching(bool on) { batching_ = on; }

 private:
  struct PendingAccept {
    uint16_t queue = 0;
    uint32_t max_id = 0;
    bool pending = false;
  };

  NfqueueSocket(mnl_socket* nl, Logger& logger);
  // Reads one datagram into recv_buf_. >0: bytes, 0: nothing more, <0: error.
  ssize_t ReadOne();
  // Handles every message of a datagram; returns packets handled. When
  // wait_seq is set, an ACK with that sequence stores its errno in *ack_errno.
  size_t HandleDatagram(size_t len, PacketHandler* handler, uint64_t now_ms,
                        uint32_t wait_seq, int* ack_errno);
  void HandleKernelError(const struct nlmsghdr* nlh, uint32_t wait_seq,
                         int* ack_errno);
  int SendConfigAndWait(size_t len, uint32_t seq);
  void AcceptLater(uint16_t queue, uint32_t id);
  void AppendBatch(PendingAccept& p);
  void AppendVerdict(uint16_t queue, uint32_t id, uint32_t verdict,
                     const uint8_t* payload, size_t len);
  bool Reserve(size_t len);
  void FlushVerdicts();  // pending batches, then send everything
  void SendPending();    // send what is in send_buf_

  mnl_socket* nl_;
  Logger& logger_;
  uint32_t seq_ = 1;
  QueueCounters counters_;
  std::vector<char> recv_buf_;
  std::vector<char> send_buf_;
  size_t send_len_ = 0;
  std::vector<uint8_t> packet_buf_;
  std::array<PendingAccept, 8> pending_{};
  bool batching_ = true;
};

}  // namespace ftpalg
