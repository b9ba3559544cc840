// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/stats_report.h"

#include <utility>

#include "daemon/options.h"

namespace ftpalg {
namespace {

struct HelpEntry {
  std::string_view name;
  std::string_view help;
};

constexpr HelpEntry kEngineHelp[] = {
    {"packets", "Packets seen by the engine"},
    {"control_packets", "Packets of an FTP control connection"},
    {"malformed_packets", "Unparseable IP/TCP packets, passed unchanged"},
    {"modified_packets", "Packets whose bytes the engine changed"},
    {"dropped_packets", "Packets the engine asked to drop"},
    {"sessions_created", "Control sessions created"},
    {"sessions_picked_up", "Control sessions first seen mid-stream (no SYN)"},
    {"sessions_restored", "Sessions picked up with offsets kept by a previous run"},
    {"sessions_ended", "Sessions ended by FIN/RST both ways, after linger"},
    {"sessions_expired", "Sessions ended by the idle timeout"},
    {"sessions_evicted", "Sessions evicted because the session table was full"},
    {"rewrites", "Announcements rewritten"},
    {"rewrites_reapplied", "Retransmitted announcements re-rewritten identically"},
    {"expectations", "Expectations installed for data connections"},
    {"expectations_failed", "Expectations the conntrack plane could not install"},
    {"expectations_evicted", "Expectations withdrawn by a cap or a take-over"},
    {"expectations_expired", "Expectations that timed out unused"},
    {"port_remaps", "Announcements given another public port (port taken)"},
    {"refused", "Announcements refused by the checks, any reason"},
    {"refused_bounce", "Refused: the address is not the sender's"},
    {"refused_low_port", "Refused: port below the minimum data port"},
    {"refused_unsolicited", "Refused: 227/228/229 without a pending PASV/EPSV/LPSV"},
    {"refused_not_ftp", "Refused: the dialogue did not start as FTP"},
    {"refused_parse", "Refused: the parser rejected the line"},
    {"refused_family", "Refused: address family differs from the connection's"},
    {"refused_no_public", "Not rewritten: inside address, no public address known"},
    {"refused_split", "Refused: split announcement not completed in time"},
    {"refused_gap", "Holes given up: the bytes after them passed unparsed"},
    {"gap_resumed", "Parsing resumed after a given-up hole (stream whole again)"},
    {"gap_filled", "Holes filled: kept segments forwarded in sequence order"},
    {"refused_limit", "Refused: expectation or rewrite limits"},
    {"overlong_lines", "Lines over the length cap: passed, no state"},
    {"tls_sessions", "Sessions that switched to TLS (AUTH): parsing stopped"},
    {"tls_cleartext_resumed", "Directions back to cleartext after TLS (CCC): parsed again"},
    {"tls_framing_lost", "Directions whose TLS record framing a hole lost: never parsed again"},
    {"tls_unrecognised", "Directions with bytes neither a TLS record nor an FTP line: stopped"},
    {"holds", "Incomplete announcements held back"},
    {"hold_merges", "Held bytes merged with their continuation"},
    {"hold_timeouts", "Held bytes released unchanged after the hold timeout"},
    {"hold_pool_exhausted", "Announcements not held: the hold pool was empty"},
    {"out_of_order", "Segments kept beyond a hole until it filled"},
    {"out_of_window", "Segments too far beyond the stream: payload not kept"},
    {"isn_rebased", "SYN-ACKs with a new ISN before any data: stream re-based"},
    {"syn_stray", "SYNs with another ISN after data: ignored"},
    {"stale_before_synack", "Server segments before the SYN-ACK (an earlier connection's): passed"},
    {"rst_ignored", "RSTs outside the window: session kept"},
    {"ledger_trims", "Segments cut before a rewrite the ledger had no room for"},
    {"ledger_blocks", "Blocks of change points borrowed for bursts of unacknowledged rewrites"},
    {"partial_span_trims", "Retransmissions cut inside a rewritten span"},
    {"ledger_overflow", "Offline: change points folded out of a full sequence ledger"},
    {"oversize_after_rewrite", "Packets grown beyond max_packet_len by a rewrite"},
};

constexpr HelpEntry kPlaneHelp[] = {
    {"resolver_hits", "Control connections found in the conntrack cache"},
    {"resolver_misses", "Conntrack cache misses (CT_GET asked)"},
    {"resolver_failures", "CT_GET lookups that found nothing or failed"},
    {"resolver_evictions", "Conntrack cache entries evicted"},
    {"binding_fallbacks", "No conntrack: the identity NAT binding was used"},
    {"masters_expect", "Control connections using kernel expectations"},
    {"masters_precreate", "Control connections using pre-created conntracks"},
    {"masters_ftp_helper", "Control connections found with the kernel ftp helper"},
    {"installs", "Expectations installed in the kernel"},
    {"refreshes", "Identical announcements re-installed"},
    {"port_busy", "Installs refused: the public port is taken"},
    {"cap_refusals", "Installs refused: expectation cap reached"},
    {"install_failures", "Installs that failed"},
    {"expect_created", "Kernel expectations created (EXP_NEW)"},
    {"expect_fallbacks", "Kernel expectation refused: fell back to pre-creation"},
    {"pending_added", "Pending set entries added for pre-creation"},
    {"removed", "Expectations removed on request"},
    {"expired", "Expectations expired in the plane"},
    {"syn_seen", "Data SYNs seen on the data-SYN queue"},
    {"syn_malformed", "Data-SYN queue packets that were not a bare SYN"},
    {"syn_unmatched", "Data SYNs matching no pending expectation"},
    {"syn_peer_mismatch", "Data SYNs from another peer than expected"},
    {"related_created", "Related conntracks pre-created"},
    {"related_eexist_retries", "Stale conntracks replaced before pre-creation"},
    {"related_failed", "Related conntracks that could not be created"},
    {"snapshot_saved", "Session offsets written to conntrack labels"},
    {"snapshot_unchanged", "Label writes skipped: offsets unchanged"},
    {"snapshot_no_labels", "Conntracks without label space"},
    {"snapshot_save_failed", "Label writes that failed"},
    {"snapshot_write_us", "Microseconds spent writing conntrack labels"},
    {"snapshot_loaded", "Offsets read back for picked-up sessions"},
    {"snapshot_absent", "Picked-up sessions without ftpalg labels"},
    {"labels_foreign", "FTP control conntracks with label bits another rule set"},
    {"label_writes", "Conntrack label updates the kernel accepted (all kinds)"},
    {"pending_saved", "Pending data connections written to the session's labels"},
    {"pending_cleared", "Pending data connections cleared (used, withdrawn, expired)"},
    {"resync_runs", "Resyncs from the conntrack table (start-up, --resync)"},
    {"resync_scanned", "Conntracks read by resync dumps"},
    {"resync_sessions", "Conntracks read by resync dumps that carried ftpalg labels"},
    {"resync_pending", "Pending data connections re-created by a resync"},
    {"resync_errors", "Resync errors: failed dumps or pending re-creations"},
    {"restored_withdrawn", "Re-created pending data connections gone with their session"},
    {"pending", "Expectations pending now"},
    {"resolver_cached", "Control conntracks cached now"},
};

std::string_view Lookup(const HelpEntry* table, size_t n, std::string_view name) {
  for (size_t i = 0; i < n; ++i) {
    if (table[i].name == name) return table[i].help;
  }
  return {};
}

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string text_name;
  Labels labels;
  uint64_t value = 0;
};

struct MetricFamily {
  std::string group;  // heading in the text format
  std::string name;   // Prometheus metric name
  bool gauge = false;
  std::string help;
  std::vector<Sample> samples;
};

class Report {
 public:
  void Add(std::string_view group, std::string name, bool gauge,
           std::string_view help, std::string text_name, uint64_t value,
           Labels labels = {}) {
    MetricFamily* f = nullptr;
    for (MetricFamily& x : families_) {
      if (x.name == name) f = &x;
    }
    if (f == nullptr) {
      families_.push_back(MetricFamily{std::string(group), std::move(name), gauge,
                                 std::string(help), {}});
      f = &families_.back();
    }
    f->samples.push_back(Sample{std::move(text_name), std::move(labels), value});
  }
  const std::vector<MetricFamily>& families() const { return families_; }

 private:
  std::vector<MetricFamily> families_;
};

constexpr std::string_view kGeneral = "ftpalgd ";
constexpr std::string_view kEngine = "engine";
constexpr std::string_view kPlane = "conntrack plane";
constexpr std::string_view kSocket = "nfqueue socket";
constexpr std::string_view kKernel =
    "kernel queues (/proc/net/netfilter/nfnetlink_queue)";

void AddGeneral(const StatsSnapshot& s, Report& r) {
  const std::string general = std::string(kGeneral) + std::string(kVersion);
  r.Add(general, "ftpalg_uptime_seconds", true,
        "Seconds since the daemon started", "uptime_seconds", s.uptime_s);
  r.Add(general, "ftpalg_sessions_active", true,
        "Control sessions tracked now", "sessions_active", s.sessions_active);
  r.Add(general, "ftpalg_data_syns_total", false,
        "Packets read from the data-SYN queue", "data_syns", s.data_syns);
  r.Add(general, "ftpalg_unknown_queue_packets_total", false,
        "Packets from a queue that is not ftpalgd's (passed)", "unknown_queue",
        s.unknown_queue);
  r.Add(general, "ftpalg_log_lines_suppressed_total", false,
        "Log lines held back by the log rate limit", "log_suppressed",
        s.log_suppressed);
  r.Add(general, "ftpalg_rules_gone_warnings_total", false,
        "Times no control packet was queued for an interval while FTP control "
        "conntracks were active (rules gone?)",
        "rules_gone_warnings", s.rules_gone_warnings);
  r.Add(general, "ftpalg_events_recorded_total", false,
        "NAT-binding records (--events) queued for the file", "events_recorded",
        s.events_recorded);
  r.Add(general, "ftpalg_events_dropped_total", false,
        "NAT-binding records dropped because the writer fell behind",
        "events_dropped", s.events_dropped);
}

// Refusal reasons share one metric, labelled by reason.
void AddEngineCounter(std::string_view field, uint64_t value, Report& r) {
  const std::string_view help = EngineCounterHelp(field);
  constexpr std::string_view kRefused = "refused_";
  if (field.substr(0, kRefused.size()) == kRefused) {
    r.Add(kEngine, "ftpalg_refusals_total", false,
          "Announcements refused or left unrewritten, by reason",
          std::string(field), value,
          {{"reason", std::string(field.substr(kRefused.size()))}});
  } else if (field == "refused") {
    r.Add(kEngine, "ftpalg_refused_announcements_total", false, help,
          std::string(field), value);
  } else {
    r.Add(kEngine, "ftpalg_" + std::string(field) + "_total", false, help,
          std::string(field), value);
  }
}

void AddEngine(const StatsSnapshot& s, Report& r) {
#define FTPALG_STATS_REPORT(name) AddEngineCounter(#name, s.engine.name, r);
  FTPALG_STATS(FTPALG_STATS_REPORT)
#undef FTPALG_STATS_REPORT
}

// Errors share one metric, labelled by errno.
void AddPlane(const StatsSnapshot& s, Report& r) {
  constexpr size_t kPlaneHelpN = sizeof(kPlaneHelp) / sizeof(kPlaneHelp[0]);
  for (const PlaneCounter& c : s.plane) {
    const std::string_view name = c.name;
    const std::string text = "plane_" + std::string(name);
    std::string_view help = Lookup(kPlaneHelp, kPlaneHelpN, name);
    const std::string fallback = "Conntrack plane counter " + std::string(name);
    if (help.empty()) help = fallback;
    if (name.substr(0, 4) == "err_") {
      r.Add(kPlane, "ftpalg_conntrack_errors_total", false,
            "Errors from ctnetlink and ipset requests, by errno", text, c.value,
            {{"kind", std::string(name.substr(4))}});
    } else if (c.gauge) {
      r.Add(kPlane, "ftpalg_plane_" + std::string(name), true, help, text, c.value);
    } else if (name == "snapshot_write_us") {
      r.Add(kPlane, "ftpalg_plane_snapshot_write_microseconds_total", false, help,
            text, c.value);
    } else {
      r.Add(kPlane, "ftpalg_plane_" + std::string(name) + "_total", false, help,
            text, c.value);
    }
  }
}

void AddSocket(const QueueCounters& q, Report& r) {
  const std::pair<const char*, uint64_t> socket_counts[] = {
      {"received", q.received}, {"accepted", q.accepted},
      {"modified", q.modified}, {"dropped", q.dropped},
      {"oversize", q.oversize}, {"bursts", q.bursts},
      {"early", q.early}};
  const char* socket_help[] = {
      "Packet messages read from the queues",
      "Packets accepted unchanged",
      "Packets accepted with new bytes",
      "Packets dropped on the engine's request",
      "Modified packets too large to return (dropped)",
      "Wakeups that read at least one message",
      "Packets accepted unchanged while binding"};
  for (size_t i = 0; i < std::size(socket_counts); ++i) {
    r.Add(kSocket, std::string("ftpalg_nfqueue_") + socket_counts[i].first + "_total",
          false, socket_help[i], std::string("nfqueue_") + socket_counts[i].first,
          socket_counts[i].second);
  }
  const std::pair<const char*, uint64_t> socket_errors[] = {
      {"parse", q.parse_errors}, {"enobufs", q.enobufs},
      {"recv", q.recv_errors},   {"send", q.send_errors},
      {"kernel", q.kernel_errors}};
  const char* error_names[] = {"parse_errors", "enobufs", "recv_errors",
                               "send_errors", "kernel_errors"};
  for (size_t i = 0; i < std::size(socket_errors); ++i) {
    r.Add(kSocket, "ftpalg_nfqueue_errors_total", false,
          "NFQUEUE socket errors by kind (enobufs: the kernel lost messages)",
          std::string("nfqueue_") + error_names[i], socket_errors[i].second,
          {{"kind", socket_errors[i].first}});
  }
}

void AddKernelQueues(const std::vector<KernelQueueStats>& queues, Report& r) {
  for (const KernelQueueStats& k : queues) {
    const std::string prefix = "queue" + std::to_string(k.queue) + "_";
    const Labels l = {{"queue", std::to_string(k.queue)}};
    r.Add(kKernel, "ftpalg_queue_bound", true,
          "Whether the kernel queue is bound (1) or not (0)", prefix + "bound",
          k.bound ? 1 : 0, l);
    if (!k.bound) continue;
    r.Add(kKernel, "ftpalg_queue_waiting", true,
          "Packets waiting in the kernel queue", prefix + "waiting", k.waiting, l);
    r.Add(kKernel, "ftpalg_queue_dropped_total", false,
          "Packets the full kernel queue could not take (passed unchanged "
          "when fail-open, dropped when fail-closed)",
          prefix + "queue_dropped", k.queue_dropped, l);
    r.Add(kKernel, "ftpalg_queue_user_dropped_total", false,
          "Packets the netlink socket could not take (receive buffer full)",
          prefix + "user_dropped", k.user_dropped, l);
  }
}

// Every metric family in the order both formats print them.
Report Build(const StatsSnapshot& s) {
  Report r;
  AddGeneral(s, r);
  AddEngine(s, r);
  AddPlane(s, r);
  AddSocket(s.nfqueue, r);
  AddKernelQueues(s.queues, r);
  return r;
}

std::string EscapeHelp(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string_view EngineCounterHelp(std::string_view field) {
  return Lookup(kEngineHelp, sizeof(kEngineHelp) / sizeof(kEngineHelp[0]), field);
}

std::string EscapePrometheusLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatStatsText(const StatsSnapshot& s) {
  const Report r = Build(s);
  std::string out;
  std::string group;
  for (const MetricFamily& f : r.families()) {
    if (f.group != group) {
      group = f.group;
      out += "# " + group + "\n";
    }
    for (const Sample& x : f.samples) {
      out += x.text_name + " " + std::to_string(x.value) + "\n";
    }
  }
  return out;
}

std::string FormatStatsPrometheus(const StatsSnapshot& s) {
  const Report r = Build(s);
  std::string out;
  out += "# HELP ftpalg_info ftpalgd version\n# TYPE ftpalg_info gauge\n";
  out += "ftpalg_info{version=\"" + EscapePrometheusLabel(kVersion) + "\"} 1\n";
  for (const MetricFamily& f : r.families()) {
    out += "# HELP " + f.name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + f.name + (f.gauge ? " gauge\n" : " counter\n");
    for (const Sample& x : f.samples) {
      out += f.name;
      if (!x.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < x.labels.size(); ++i) {
          if (i > 0) out += ',';
          out += x.labels[i].first + "=\"" +
                 EscapePrometheusLabel(x.labels[i].second) + "\"";
        }
        out += '}';
      }
      out += " " + std::to_string(x.value) + "\n";
    }
  }
  return out;
}

}  // namespace ftpalg
