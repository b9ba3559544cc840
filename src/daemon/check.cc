// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/check.h"

#include <string>

#include "adapters/nfqueue_socket.h"
#include "daemon/check_report.h"
#include "daemon/conntrack_probe.h"
#include "daemon/kernel_queue.h"
#include "daemon/plane_setup.h"
#include "daemon/privileges.h"
#include "ftpalg/logger.h"

namespace ftpalg {
namespace {

constexpr const char* kPathPrefix =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ";

// Runs a shell command (at most 8 MiB of its output kept); *status as
// pclose() gives it, -1 when it could not be started.
std::string RunCommand(const std::string& command, int* status) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0 && out.size() < (8u << 20)) {
    out.append(buf, n);
  }
  *status = pclose(p);
  return out;
}

void CheckConfiguration(const DaemonOptions& options, CheckReport& report) {
  const EngineConfig config = MakeEngineConfig(options);
  if (const std::string e = config.Validate(); !e.empty()) {
    report.Fail("configuration: " + e);
  } else {
    report.Line("ok", "configuration: " + DescribeOptions(options));
  }
}

void CheckCapabilities(const DaemonOptions& options, CheckReport& report) {
  std::string why;
  if (CheckPrivileges(options.user, &why)) {
    report.Line("ok", "privileges: CAP_NET_ADMIN present" +
                          (options.user.empty()
                               ? std::string()
                               : "; can switch to user " + options.user) +
                          " (the daemon keeps only CAP_NET_ADMIN once its "
                          "sockets are open)");
  } else {
    report.Fail("privileges: " + why);
  }
}

// NFQUEUE: can both queues be bound right now?
void CheckQueues(const DaemonOptions& options, CheckReport& report) {
  NullLogger quiet;
  std::string error;
  int error_number = 0;
  auto sock = NfqueueSocket::Open(quiet, &error, &error_number);
  if (!sock) {
    report.Fail("nfqueue: " + error);
    return;
  }
  bool bound_all = true;
  for (uint16_t q : {options.queue, options.data_queue()}) {
    nfq::QueueConfig qc;
    qc.queue = q;
    qc.fail_open = !options.fail_closed;
    const int rc = sock->Bind(qc);
    if (rc != 0) {
      report.Fail("nfqueue: " + BindError(q, rc, sock->portid()));
      bound_all = false;
    } else {
      sock->Unbind(q);
    }
  }
  if (bound_all) {
    report.Line("ok", "nfqueue: queues " + std::to_string(options.queue) + " and " +
                          std::to_string(options.data_queue()) +
                          " can be bound (copy 0xffff, " +
                          (options.fail_closed ? "fail-closed" : "fail-open") + ")");
  }
}

// Conntrack: ctnetlink, expectations, pending sets; the plane explains.
// Then restart survival: conntrack labels (warn only: the ALG works without).
void CheckConntrack(const DaemonOptions& options, CheckReport& report) {
  std::string probe_report;
  const bool ct_ok = ProbeConntrack(MakePlaneOptions(options), &probe_report);
  ReportConntrackProbe(ct_ok, probe_report, report);
  std::string labels;
  const bool labels_ok = ProbeLabels(&labels);
  report.Line(labels_ok ? "ok" : "warn", "conntrack: " + labels);
}

// nft queue: whether ftpalg-rules can use its native nft table here.
void CheckNft(CheckReport& report) {
  int status = 0;
  const std::string nft_path =
      RunCommand(std::string(kPathPrefix) + "command -v nft 2>/dev/null", &status);
  if (nft_path.empty()) {
    report.Line("info", "nft: not installed: iptables NFQUEUE used");
    return;
  }
  RunCommand(std::string(kPathPrefix) +
                 "printf 'table inet ftpalg_probe { chain c { type filter hook "
                 "prerouting priority 0; queue num 0 bypass; }; }\\n' | "
                 "nft -c -f - 2>&1",
             &status);
  if (status == 0) {
    report.Line("info", "nft: kernel has nft queue: ftpalg-rules uses its native "
                        "table inet ftpalg (backend nft)");
  } else {
    report.Line("info", "nft: no nft queue on this kernel: ftpalg-rules uses "
                        "iptables NFQUEUE (backend iptables)");
  }
}

// The installed rules (iptables and nft) against the daemon's queue and
// ports; the kernel FTP helper must never see the connections ftpalgd
// handles, in either form.
void CheckRules(const DaemonOptions& options, CheckReport& report) {
  InstalledRules rules;
  bool have_iptables = false;
  for (const char* tool : {"iptables-save", "ip6tables-save"}) {
    int status = 0;
    const std::string text =
        RunCommand(std::string(kPathPrefix) + tool + " 2>/dev/null", &status);
    if (status == 0) have_iptables = true;
    ParseIptablesSave(text, &rules);
  }
  if (!have_iptables) {
    report.Fail("iptables: iptables-save did not run: iptables is needed");
    return;
  }
  int status = 0;
  const std::string nft = RunCommand(
      std::string(kPathPrefix) + "nft list ruleset 2>/dev/null", &status);
  if (status == 0) ParseNftRuleset(nft, &rules);
  ReportInstalledRules(rules, options.queue, options.control_ports, report);
}

}  // namespace

int RunCheck(const DaemonOptions& options, std::FILE* out) {
  CheckReport report(out);
  report.Heading();
  CheckConfiguration(options, report);
  CheckCapabilities(options, report);
  CheckQueues(options, report);
  CheckConntrack(options, report);
  CheckNft(report);
  CheckRules(options, report);
  return report.Finish();
}

}  // namespace ftpalg
