// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/conntrack_probe.h"

#include <errno.h>
#include <linux/netfilter/ipset/ip_set.h>

#include <cstring>
#include <memory>
#include <optional>

#include "adapters/ctnetlink_labels.h"
#include "adapters/ctnetlink_messages.h"
#include "adapters/ipset_messages.h"
#include "adapters/netlink_socket.h"
#include "conntrack/kernel_calls.h"
#include "conntrack/pending_set.h"
#include "conntrack/plane_context.h"

namespace ftpalg {
namespace {

using Mechanism = PlaneOptions::Mechanism;

constexpr int kProbeTimeoutMs = kConntrackRequestTimeoutMs * 5;

const char* MechanismName(Mechanism m) {
  switch (m) {
    case Mechanism::kAuto: return "auto";
    case Mechanism::kExpect: return "expect";
    case Mechanism::kPrecreate: return "precreate";
  }
  return "?";
}

uint16_t ProbePort() { return static_cast<uint16_t>(40000 + MonotonicMs() % 20000); }

// CT_NEW; a leftover with the same tuple is deleted and created again.
int CreateConntrack(NetlinkSocket& sock, uint8_t* buf, const CtCreateSpec& ct) {
  int err = sock.Request(BuildCtCreate(buf, sock.NextSeq(), ct), {});
  if (err == EEXIST) {
    sock.Request(BuildCtDelete(buf, sock.NextSeq(), ct.orig), {});
    err = sock.Request(BuildCtCreate(buf, sock.NextSeq(), ct), {});
  }
  return err;
}

// What ftpalgd writes: offsets, then a pending data connection.
PendingLabel ProbePending() {
  PendingLabel pending;
  pending.announcer = Direction::kReply;
  pending.translated = true;
  pending.kind = AnnounceKind::k227;
  pending.nat_port = 50001;
  pending.target_port = 50002;
  return pending;
}

// Writes offsets 3/-2 and ProbePending() into ct's labels and reads them
// back into *back. Returns the first write's error.
int WriteAndReadLabels(NetlinkSocket& sock, uint8_t* buf, const CtTuple& ct,
                       std::optional<LabelState>* back) {
  SessionSnapshot snap;
  snap.offset[0] = 3;
  snap.offset[1] = -2;
  int err = sock.Request(
      BuildCtSetLabels(buf, sock.NextSeq(), ct, EncodeSnapshotLabels(snap)), {});
  if (err == 0) {
    err = sock.Request(
        BuildCtSetLabels(buf, sock.NextSeq(), ct, EncodePendingLabels(ProbePending())),
        {});
  }
  if (err != 0) return err;
  auto on_reply = [&](const nlmsghdr* m) {
    CtInfo info;
    if (ParseCtMessage(m, &info) && info.labels) *back = DecodeLabels(*info.labels);
  };
  sock.Request(BuildCtGet(buf, sock.NextSeq(), ct, TupleAttr::kOrig), on_reply);
  return 0;
}

// 1. ctnetlink: a conntrack dump works.
bool ProbeDump(NetlinkSocket& sock, uint8_t* buf, std::string* report) {
  size_t entries = 0;
  auto count = [&entries](const nlmsghdr*) { ++entries; };
  const int err = sock.Dump(BuildCtDump(buf, sock.NextSeq(), Family::kV4), count);
  *report += err == 0 ? "ctnetlink: OK (conntrack dump: " + std::to_string(entries) +
                            " IPv4 entries)\n"
                      : std::string("ctnetlink: FAIL conntrack dump: ") +
                            ErrnoName(err) + " (" + strerror(err) + ")\n";
  return err == 0;
}

// Attaches helper to a throwaway master a:port -> b:21 and tries EXP_NEW
// (nat-follow-master) on it; deleting the master removes the expectation
// too. True when it worked; else what failed goes to *tried.
bool TryHelper(NetlinkSocket& sock, uint8_t* buf, const char* helper,
               const IpAddress& a, const IpAddress& b, uint16_t port,
               std::string* tried) {
  CtCreateSpec master;
  master.orig = CtTuple{Endpoint{a, port}, Endpoint{b, 21}, 6};
  master.timeout_s = 10;
  master.helper = helper;
  const int err = CreateConntrack(sock, buf, master);
  if (err != 0) {
    *tried += std::string(tried->empty() ? "" : ", ") + helper + ": " + ErrnoName(err);
    return false;
  }
  ExpectSpec exp;
  exp.master = master.orig;
  const Endpoint target{a, static_cast<uint16_t>(port + 1)};
  exp.tuple = CtTuple{Endpoint{b, 0}, target, 6};
  exp.nat_dir = Direction::kReply;
  exp.nat_to = target;
  exp.timeout_s = 5;
  const int exp_err = sock.Request(BuildExpCreate(buf, sock.NextSeq(), exp), {});
  sock.Request(BuildCtDelete(buf, sock.NextSeq(), master.orig), {});
  if (exp_err == 0) return true;
  *tried += std::string(tried->empty() ? "" : ", ") + helper +
            " EXP_NEW: " + ErrnoName(exp_err);
  return false;
}

// 2. Expectations: is an inert helper attachable in family f? Returns its
// name, or "" when none is.
std::string ProbeExpectations(NetlinkSocket& sock, uint8_t* buf, Family f,
                              std::string* report) {
  const uint16_t port = ProbePort();
  const IpAddress a = f == Family::kV4 ? IpAddress::V4(192, 0, 2, 1)
                                       : *IpAddress::Parse("2001:db8::1");
  const IpAddress b = f == Family::kV4 ? IpAddress::V4(192, 0, 2, 2)
                                       : *IpAddress::Parse("2001:db8::2");
  std::string tried, found;
  for (const char* helper : {"irc", "sane"}) {
    if (TryHelper(sock, buf, helper, a, b, port, &tried)) {
      found = helper;
      break;
    }
  }
  const std::string fam = f == Family::kV4 ? "IPv4" : "IPv6";
  if (!found.empty()) {
    *report += "expectations (" + fam + "): possible when an inert helper is "
               "attached to the control conntrack (EXP_NEW with "
               "nat-follow-master worked with helper " + found + ")\n";
  } else {
    *report += "expectations (" + fam + "): not possible here (" + tried +
               "); pre-created related conntracks are used\n";
  }
  return found;
}

// 3. A pending set: exists, right type, writable with a timeout.
bool ProbePendingSet(const PlaneOptions& options, NetlinkSocket& sock, uint8_t* buf,
                     Family f, std::string* report) {
  const std::string& name = options.PendingSetFor(f);
  int err = 0;
  const std::optional<IpsetHeader> header = ReadSetHeader(sock, buf, name, f, &err);
  if (!header) {
    *report += "ipset " + name + ": missing (" + ErrnoName(err) +
               "; scripts/ftpalg-rules install creates it)\n";
    return false;
  }
  if (header->type_name != "hash:ip,port") {
    *report += "ipset " + name + ": FAIL type " + header->type_name +
               ", expected hash:ip,port\n";
    return false;
  }
  Endpoint probe;
  probe.addr = f == Family::kV4 ? IpAddress::V4(192, 0, 2, 255)
                                : *IpAddress::Parse("2001:db8::ff");
  probe.port = 9;
  const int add_err = sock.Request(
      BuildIpsetElement(buf, sock.NextSeq(), IpsetOp::kAdd, name, probe, 2u), {});
  sock.Request(BuildIpsetElement(buf, sock.NextSeq(), IpsetOp::kDel, name, probe,
                                 std::nullopt),
               {});
  if (add_err != 0) {
    *report += "ipset " + name + ": FAIL add with timeout: " + ErrnoName(add_err) +
               (add_err == IPSET_ERR_TIMEOUT ? " (create it with 'timeout 0')" : "") +
               "\n";
    return false;
  }
  *report += "ipset " + name + ": OK (hash:ip,port, timeout support)\n";
  return true;
}

// Whether the configured mechanism can work, from what the probes found.
bool MechanismReady(Mechanism mechanism, const std::string& usable_helper,
                    bool any_set, std::string* report) {
  if (mechanism == Mechanism::kExpect) {
    *report += std::string("mechanism expect: ") +
               (usable_helper.empty() ? "NOT usable" : "usable") + "\n";
    return !usable_helper.empty();
  }
  *report += std::string("mechanism ") + MechanismName(mechanism) +
             ": pre-created related conntracks " +
             (any_set ? "usable" : "NOT usable (no pending set)") +
             (mechanism == Mechanism::kAuto
                  ? std::string("; kernel expectations ") +
                        (usable_helper.empty() ? "unavailable"
                                               : "used for control conntracks "
                                                 "with an inert helper")
                  : std::string()) +
             "\n";
  return any_set;
}

}  // namespace

bool ProbeLabels(std::string* report) {
  std::string error;
  std::unique_ptr<NetlinkSocket> sock = NetlinkSocket::Open(kProbeTimeoutMs, &error);
  if (!sock) {
    *report = "labels: cannot tell (" + error + ")";
    return false;
  }
  auto buf = std::make_unique<uint8_t[]>(kNlMsgBufSize);
  CtCreateSpec ct;
  ct.orig = CtTuple{Endpoint{IpAddress::V4(192, 0, 2, 3), ProbePort()},
                    Endpoint{IpAddress::V4(192, 0, 2, 4), 21}, 6};
  ct.timeout_s = 10;
  int err = CreateConntrack(*sock, buf.get(), ct);
  if (err != 0) {
    *report = std::string("labels: cannot tell (probe conntrack: ") +
              ErrnoName(err) + ")";
    return false;
  }
  std::optional<LabelState> back;
  err = WriteAndReadLabels(*sock, buf.get(), ct.orig, &back);
  sock->Request(BuildCtDelete(buf.get(), sock->NextSeq(), ct.orig), {});
  if (err == ENOSPC) {
    *report =
        "labels: NOT available on new connections (conntracks get no label "
        "space: no rule references labels; scripts/ftpalg-rules install adds "
        "one): sessions with rewrites break, and pending data connections are "
        "lost, when ftpalgd restarts or the gateway fails over";
    return false;
  }
  if (err != 0 || !back || back->snapshot.offset[0] != 3 ||
      back->snapshot.offset[1] != -2 || back->pending != ProbePending()) {
    *report = std::string("labels: NOT usable (write ") + ErrnoName(err) +
              (err == 0 ? ", read back differs" : "") +
              "): sessions with rewrites break, and pending data connections "
              "are lost, when ftpalgd restarts or the gateway fails over";
    return false;
  }
  *report =
      "labels: available on new connections (session offsets and the newest "
      "pending data connection kept in conntrack label bits 0..127, layout "
      "v2: sessions and pending data connections survive a daemon restart, "
      "and a failover when conntrackd replicates the labels)";
  return true;
}

bool ProbeConntrack(const PlaneOptions& options, std::string* report) {
  std::string error;
  std::unique_ptr<NetlinkSocket> sock = NetlinkSocket::Open(kProbeTimeoutMs, &error);
  if (!sock) {
    *report += "ctnetlink: FAIL " + error + "\n";
    return false;
  }
  auto buf = std::make_unique<uint8_t[]>(kNlMsgBufSize);
  const bool ct_ok = ProbeDump(*sock, buf.get(), report);
  std::string usable_helper;
  if (ct_ok) {
    for (Family f : {Family::kV4, Family::kV6}) {
      const std::string found = ProbeExpectations(*sock, buf.get(), f, report);
      if (usable_helper.empty()) usable_helper = found;
    }
  }
  bool any_set = false;
  for (Family f : {Family::kV4, Family::kV6}) {
    any_set = ProbePendingSet(options, *sock, buf.get(), f, report) || any_set;
  }
  return MechanismReady(options.mechanism, usable_helper, any_set, report) && ct_ok;
}

}  // namespace ftpalg
