// Engine configuration: what is inside, what is public, which ports are FTP,
// and every limit. Pure value type; Validate() reports the first problem.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ftpalg/inet.h"

namespace ftpalg {

struct EngineConfig {
  std::vector<uint16_t> control_ports{21};
  // Addresses that are "inside" (private): only these are ever rewritten.
  std::vector<Cidr> inside = DefaultInside();
  // Operator overrides of the public address, one per family (--public-ip).
  std::optional<IpAddress> public_v4;
  std::optional<IpAddress> public_v6;

  uint16_t max_line_len = 512;       // longer lines pass untouched, no state
  uint16_t min_data_port = 1024;     // lower announced ports are refused
  uint32_t max_sessions = 65536;     // LRU eviction beyond this
  uint32_t idle_timeout_s = 3600;    // control connection with no packet
  uint32_t closed_linger_s = 120;    // after FIN/RST: retransmissions still mapped
  uint32_t expectation_timeout_s = 300;
  uint16_t max_expectations_per_session = 8;  // oldest evicted beyond this
  uint32_t max_expectations = 65536;          // global; refused beyond this
  uint32_t hold_timeout_ms = 2000;   // incomplete announcement held at most this
  uint16_t hold_slots = 4096;        // global pool of hold buffers (max_line_len each)
  // Segments beyond a hole are kept until the hole fills (an inline gateway
  // always sees the retransmission that fills it): at most this many hold
  // buffers per direction, for at most this long. Past either bound the
  // hole is given up: the bytes after it pass unparsed, and parsing of that
  // direction resumes at the next line once the receiver has them all.
  uint16_t max_gap_slots = 16;
  uint32_t gap_timeout_ms = 8000;
  uint16_t max_packet_len = 1500;    // growth beyond this is counted and logged
  // Expectations for valid announcements that needed no rewrite (public or
  // un-NATed address). The daemon needs them so a stateful firewall sees the
  // data connection as RELATED; replay lists only rewrites and 229s unless
  // asked (--all-expectations).
  bool expect_unrewritten = true;
  // Offline captures: both directions are in the original (pre-ALG) sequence
  // space, so acks/SACKs of the rewritten direction are mapped FORWARD into
  // the rewritten space. Live: the receiver acks what it received (rewritten
  // space) and acks are mapped BACK for the sender.
  bool offline_capture = false;
  // Segments that continue their stream exactly and hold no line start that
  // could announce are scanned where they lie in the packet, without the
  // copy through the engine's buffers (same result; off only in tests that
  // compare both paths).
  bool scan_in_place = true;
  // Offline only: a changed packet leaves Process with its length fields set
  // and its checksums stale (Decision::checksums_pending), for the caller to
  // complete elsewhere (ftpalg-replay: on its writer thread). Same bytes in
  // the end; the full sums leave the engine's thread.
  bool defer_checksums = false;

  static std::vector<Cidr> DefaultInside();
  // Empty string when valid, else a one-line description of the problem.
  std::string Validate() const;
  bool IsControlPort(uint16_t port) const;
  bool IsInside(const IpAddress& a) const;
};

}  // namespace ftpalg
