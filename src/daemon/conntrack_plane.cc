// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/conntrack_plane.h"

#include <memory>
#include <utility>

#include "adapters/netlink_socket.h"
#include "conntrack/expectation_installer.h"
#include "conntrack/flow_cache.h"
#include "conntrack/kernel_calls.h"
#include "conntrack/label_store.h"
#include "conntrack/pending_set.h"
#include "conntrack/plane_context.h"
#include "conntrack/resync.h"

namespace ftpalg {
namespace {

using Mechanism = PlaneOptions::Mechanism;

std::string DescribeMechanisms(const PlaneOptions& options) {
  std::string s = "mechanisms: ";
  switch (options.mechanism) {
    case Mechanism::kAuto:
      s += "auto (kernel expectation with nat-follow-master when the control "
           "conntrack has an inert helper such as irc or sane; otherwise a "
           "related conntrack pre-created from the data SYN";
      break;
    case Mechanism::kExpect:
      s += "expect (kernel expectation only; needs an inert helper on every "
           "control conntrack";
      break;
    case Mechanism::kPrecreate:
      s += "precreate (related conntrack pre-created from the data SYN";
      break;
  }
  if (options.mechanism != Mechanism::kExpect) {
    s += ", pending sets " + options.pending_set_v4 + "/" + options.pending_set_v6;
  }
  s += "); public-ip";
  s += options.public_v4 ? " v4=" + options.public_v4->ToString() : "";
  s += options.public_v6 ? " v6=" + options.public_v6->ToString() : "";
  if (!options.public_v4 && !options.public_v6) s += " from conntrack";
  s += "; max_expectations=" + std::to_string(options.max_expectations) +
       " resolver_cache=" + std::to_string(options.resolver_cache_size);
  return s;
}

class Plane final : public ConntrackPlane, private FlowResolver {
 public:
  Plane(const PlaneOptions& options, Logger& logger,
        std::unique_ptr<NetlinkChannel> channel, uint64_t now_ms)
      : ctx_(options, logger, now_ms),
        kernel_(ctx_, std::move(channel)),
        cache_(ctx_, kernel_),
        labels_(ctx_, kernel_, cache_),
        installer_(ctx_, kernel_, cache_, labels_),
        resync_(ctx_, kernel_, cache_, installer_) {}

  FlowResolver& resolver() override { return *this; }
  ExpectationSink& sink() override { return installer_; }

  std::optional<FlowKey> MasterForReply(const Endpoint& src,
                                        const Endpoint& dst) override {
    return cache_.MasterForReply(src, dst);
  }
  NatBinding Binding(const FlowKey& master) override { return cache_.Binding(master); }
  void Forget(const FlowKey& master) override {
    installer_.WithdrawRestored(master);
    cache_.Forget(master);
  }
  void SaveSnapshot(const FlowKey& master, const SessionSnapshot& snap) override {
    labels_.SaveSnapshot(master, snap);
  }
  std::optional<SessionSnapshot> LoadSnapshot(const FlowKey& master) override {
    return labels_.LoadSnapshot(master);
  }

  void OnDataSyn(const uint8_t* packet, size_t len, uint64_t now_ms) override {
    ctx_.now_ms = now_ms;
    installer_.OnDataSyn(packet, len);
  }

  void Expire(uint64_t now_ms) override {
    ctx_.now_ms = now_ms;
    installer_.Expire(now_ms);
    cache_.Sweep(now_ms);
    kernel_.FlushSuppressed(false);
  }

  void RemoveAll() override {
    const size_t n = installer_.RemoveAll();
    kernel_.FlushSuppressed(true);
    if (n > 0 && ctx_.logger.Enabled(LogLevel::kInfo)) {
      ctx_.logger.Log(LogLevel::kInfo, "conntrack plane: removed " + std::to_string(n) +
                                           " pending expectations");
    }
  }

  void KeepLabelsOnRemove(bool keep) override { labels_.KeepOnRemove(keep); }

  void SetBindingEvents(BindingEvents* events) override { ctx_.events = events; }
  bool ReplyTuple(const FlowKey& master, Endpoint* src, Endpoint* dst) override {
    const CtEntry* entry = cache_.Lookup(master);
    if (entry == nullptr) return false;
    *src = entry->reply.src;
    *dst = entry->reply.dst;
    return true;
  }

  ResyncCounts ResyncFromConntrack(uint64_t now_ms) override {
    ctx_.now_ms = now_ms;
    return resync_.Run();
  }

  std::string Describe() const override { return DescribeMechanisms(ctx_.options); }
  std::string Counters() const override {
    return FormatPlaneCounters(ctx_.counters, installer_.size(), cache_.size());
  }
  std::vector<PlaneCounter> CounterList() const override {
    return ListPlaneCounters(ctx_.counters, installer_.size(), cache_.size());
  }

 private:
  PlaneContext ctx_;
  KernelCalls kernel_;
  FlowCache cache_;
  LabelStore labels_;
  ExpectationInstaller installer_;
  Resync resync_;
};

// Missing sets are not fatal (kernel expectations may still work, and the
// rules may come later) but the operator should know now.
void WarnAboutPendingSets(const PlaneOptions& options, NetlinkChannel& channel,
                          Logger& logger) {
  auto buf = std::make_unique<uint8_t[]>(kNlMsgBufSize);
  for (Family f : {Family::kV4, Family::kV6}) {
    const std::string& name = options.PendingSetFor(f);
    int err = 0;
    const std::optional<IpsetHeader> header =
        ReadSetHeader(channel, buf.get(), name, f, &err);
    if (!header) {
      logger.Log(LogLevel::kWarn,
                 "conntrack plane: pending set " + name + " unavailable (" +
                     ErrnoName(err) +
                     "): data connections of that family without a "
                     "helper cannot be made RELATED");
    } else if (header->type_name != "hash:ip,port") {
      logger.Log(LogLevel::kWarn, "conntrack plane: pending set " + name +
                                      " has type " + header->type_name +
                                      ", expected hash:ip,port");
    }
  }
}

}  // namespace

std::unique_ptr<ConntrackPlane> MakeConntrackPlane(
    const PlaneOptions& options, Logger& logger,
    std::unique_ptr<NetlinkChannel> channel, uint64_t now_ms) {
  return std::make_unique<Plane>(options, logger, std::move(channel), now_ms);
}

std::unique_ptr<ConntrackPlane> ConntrackPlane::Open(const PlaneOptions& options,
                                                     Logger& logger,
                                                     std::string* error) {
  std::unique_ptr<NetlinkSocket> sock =
      NetlinkSocket::Open(kConntrackRequestTimeoutMs, error);
  if (!sock) return nullptr;
  if (options.mechanism != Mechanism::kExpect) {
    WarnAboutPendingSets(options, *sock, logger);
  }
  return MakeConntrackPlane(options, logger, std::move(sock), MonotonicMs());
}

}  // namespace ftpalg
