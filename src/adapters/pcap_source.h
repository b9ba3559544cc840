// Offline capture reader: anything libpcap reads (pcap, pcapng) plus
// gzip-compressed pcap, with the L3 (IP) offset found for each record.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ftpalg {

// Deepest stack of 802.1Q / 802.1ad tags followed on Ethernet; a deeper
// stack is reported as "not IP" (the record is passed through untouched).
inline constexpr int kMaxVlanTags = 8;

// True for the link types this reader understands: EN10MB, LINUX_SLL,
// LINUX_SLL2, RAW, IPV4, IPV6, NULL and LOOP.
bool IsSupportedLinkType(int dlt);
// "EN10MB", "LINUX_SLL", ... or "DLT <n>" for an unknown one.
std::string LinkTypeName(int dlt);

// Where the IP packet starts in a frame of link type `dlt`, or nullopt when
// the frame is not IPv4/IPv6 (other ethertype, too short, too many tags).
// Pure: looks only at frame[0..len).
std::optional<size_t> FindL3Offset(int dlt, const uint8_t* frame, size_t len);

// Length of the IP packet at ip[0..avail): its IP total length (IPv4) or
// 40 + payload length (IPv6) when that fits in avail, else avail. Link-layer
// padding after the IP packet is thereby excluded.
size_t IpPacketLength(const uint8_t* ip, size_t avail);

// One record. `frame` points into the reader's buffer and stays valid until
// the next call to Next().
struct PcapRecord {
  uint64_t index = 0;        // 1-based record number
  uint64_t ts_ns = 0;        // capture time, nanoseconds since the epoch
  const uint8_t* frame = nullptr;
  size_t caplen = 0;         // bytes present
  size_t wire_len = 0;       // bytes on the wire (caplen < wire_len: snapped)
  std::optional<size_t> l3_offset;  // nullopt: not an IP packet
  size_t l3_len = 0;         // IP packet length (see IpPacketLength)

  bool truncated() const { return caplen < wire_len; }
  uint64_t TimeMs() const { return ts_ns / 1000000; }
};

class PcapSource {
 public:
  enum class Status : uint8_t { kRecord, kEnd, kError };

  // Opens `path`. A gzip file (magic 1f 8b) is decompressed on the fly.
  // Returns nullptr and a one-line *error when the file cannot be read, is
  // not a capture, or has a link type IsSupportedLinkType() rejects.
  static std::unique_ptr<PcapSource> Open(const std::string& path,
                                          std::string* error);
  ~PcapSource();
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  // Reads the next record. kError (with *error set) on a broken file, e.g. a
  // record cut short by the end of the file; reading cannot continue then.
  Status Next(PcapRecord* record, std::string* error);

  int link_type() const { return link_type_; }
  int snaplen() const { return snaplen_; }
  // Timestamp precision of the file: PCAP_TSTAMP_PRECISION_MICRO or _NANO.
  int tstamp_precision() const { return precision_; }
  bool gzipped() const { return gzipped_; }

 private:
  struct PcapCloser {
    void operator()(pcap_t* p) const { pcap_close(p); }
  };
  PcapSource() = default;

  // The stream's stdio buffer: declared first, so it is freed after pcap_
  // closed the stream.
  std::unique_ptr<char[]> read_buffer_;
  std::unique_ptr<pcap_t, PcapCloser> pcap_;
  std::string path_;
  int link_type_ = 0;
  int snaplen_ = 0;
  int precision_ = PCAP_TSTAMP_PRECISION_MICRO;
  bool gzipped_ = false;
  uint64_t count_ = 0;
};

}  // namespace ftpalg
