// RAII netfilter netlink socket for request/response exchanges (ctnetlink,
// ipset): one outstanding request at a time, bounded wait for the answer.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

struct mnl_socket;
struct nlmsghdr;

namespace ftpalg {

// One request/response exchange with the kernel; NetlinkSocket is the real
// one, tests substitute a scripted kernel.
class NetlinkChannel {
 public:
  // Called for every data message answering the request (not for the final
  // ACK/error or NLMSG_DONE). Must not keep the pointer. A non-owning,
  // allocation-free reference to a callable that outlives the call.
  class ReplyFn {
   public:
    ReplyFn() = default;
    template <typename F>
      requires(!std::is_same_v<std::remove_cv_t<F>, ReplyFn>)
    ReplyFn(F& f)  // NOLINT(google-explicit-constructor)
        : obj_(&f), call_([](void* o, const nlmsghdr* m) {
            (*static_cast<F*>(o))(m);
          }) {}
    void operator()(const nlmsghdr* m) const {
      if (call_ != nullptr) call_(obj_, m);
    }

   private:
    void* obj_ = nullptr;
    void (*call_)(void*, const nlmsghdr*) = nullptr;
  };

  virtual ~NetlinkChannel() = default;
  // Next sequence number to put in a request header.
  virtual uint32_t NextSeq() = 0;
  // Sends the request (whose nlmsg_seq must be the last NextSeq()) with
  // NLM_F_ACK set, passes answers to on_reply, and returns the kernel's
  // verdict: 0 on ACK, else a positive errno (ipset's private codes >= 4096
  // are returned as they come). ETIMEDOUT when nothing arrived in time;
  // ENOBUFS when replies were lost. Messages of older requests (late answers
  // after a timeout) are skipped.
  virtual int Request(nlmsghdr* request, const ReplyFn& on_reply) = 0;
  // Like Request for NLM_F_DUMP requests: runs until NLMSG_DONE; the time
  // bound applies to each next batch of answers, not to the whole dump.
  virtual int Dump(nlmsghdr* request, const ReplyFn& on_reply) = 0;
};

class NetlinkSocket final : public NetlinkChannel {
 public:
  // Opens and binds a NETLINK_NETFILTER socket. nullptr + *error on failure.
  // timeout_ms bounds every Request, and the wait for each batch of a Dump.
  static std::unique_ptr<NetlinkSocket> Open(int timeout_ms,
                                             std::string* error);
  ~NetlinkSocket() override;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  uint32_t NextSeq() override { return ++seq_; }
  int Request(nlmsghdr* request, const ReplyFn& on_reply) override;
  int Dump(nlmsghdr* request, const ReplyFn& on_reply) override;

 private:
  explicit NetlinkSocket(mnl_socket* nl, int timeout_ms);
  int Exchange(nlmsghdr* request, bool dump, const ReplyFn& on_reply);
  int Send(const nlmsghdr* request);

  mnl_socket* nl_;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  int timeout_ms_;
  std::unique_ptr<uint8_t[]> rx_;
  static constexpr size_t kRxSize = 64 * 1024;
};

// "ENOENT"-style short name of an errno (ipset private codes by their
// ipset names), for counters and logs.
const char* ErrnoName(int err);

}  // namespace ftpalg
