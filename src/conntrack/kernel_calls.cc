// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/kernel_calls.h"

#include <errno.h>

#include <utility>

#include "adapters/ctnetlink_messages.h"

namespace ftpalg {

const char* KernelOpName(KernelOp op) {
  switch (op) {
    case KernelOp::kCtGet: return "CT_GET";
    case KernelOp::kCtNew: return "CT_NEW";
    case KernelOp::kCtDelete: return "CT_DELETE";
    case KernelOp::kCtSetLabels: return "CT_NEW(labels)";
    case KernelOp::kCtDump: return "CT_GET(dump)";
    case KernelOp::kExpNew: return "EXP_NEW";
    case KernelOp::kExpTimeout: return "EXP_NEW(timeout)";
    case KernelOp::kExpDelete: return "EXP_DELETE";
    case KernelOp::kIpsetAdd: return "IPSET_ADD";
    case KernelOp::kIpsetDel: return "IPSET_DEL";
  }
  return "?";
}

KernelCalls::KernelCalls(PlaneContext& ctx,
                         std::unique_ptr<NetlinkChannel> channel)
    : ctx_(ctx),
      nl_(std::move(channel)),
      buf_(new uint8_t[kNlMsgBufSize]),
      bursts_(ctx.logger) {}

int KernelCalls::Call(KernelOp op, nlmsghdr* request,
                      const NetlinkChannel::ReplyFn& on_reply) {
  (void)op;
  return nl_->Request(request, on_reply);
}

int KernelCalls::Dump(nlmsghdr* request,
                      const NetlinkChannel::ReplyFn& on_reply) {
  return nl_->Dump(request, on_reply);
}

void KernelCalls::Count(int err) {
  PlaneCounters& c = ctx_.counters;
  switch (err) {
    case ENOBUFS: ++c.err_enobufs; break;
    case EEXIST: ++c.err_eexist; break;
    case ENOENT: ++c.err_enoent; break;
    case EPERM: ++c.err_eperm; break;
    case EOPNOTSUPP: ++c.err_eopnotsupp; break;
    case EBUSY: ++c.err_ebusy; break;
    case ENOSPC: ++c.err_enospc; break;
    case ETIMEDOUT: ++c.err_etimedout; break;
    default: ++c.err_other; break;
  }
}

void KernelCalls::Fail(KernelOp op, int err, const std::string& what) {
  Count(err);
  std::string key = KernelOpName(op);
  key += ' ';
  key += ErrnoName(err);
  LogLimited(LogLevel::kWarn, key,
             key + " (" + std::to_string(err) + "): " + what);
}

void KernelCalls::LogLimited(LogLevel level, const std::string& key,
                             const std::string& message) {
  bursts_.Log(level, key, message, ctx_.now_ms);
}

void KernelCalls::FlushSuppressed(bool all) { bursts_.Flush(all, ctx_.now_ms); }

}  // namespace ftpalg
