// Capture writer: classic pcap with the input's link type, snaplen and
// timestamp precision. Written to a temporary file beside the target and
// renamed into place by Commit(); destroyed uncommitted, it leaves nothing.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace ftpalg {

class PcapWriter {
 public:
  // precision: PCAP_TSTAMP_PRECISION_MICRO or _NANO. A snaplen <= 0 becomes
  // 262144. Returns nullptr and a one-line *error when the temporary file
  // cannot be created (e.g. the directory does not exist or is read-only).
  static std::unique_ptr<PcapWriter> Create(const std::string& path,
                                            int link_type, int snaplen,
                                            int precision, std::string* error);
  ~PcapWriter();  // an uncommitted file is removed
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Appends one record: frame[0..caplen), original length wire_len (raised
  // to caplen if smaller), time ts_ns (nanoseconds since the epoch).
  void Write(uint64_t ts_ns, const uint8_t* frame, size_t caplen,
             size_t wire_len);

  // Flushes, closes and renames the file into place. False + *error on any
  // I/O failure (the temporary file is then removed).
  bool Commit(std::string* error);

  uint64_t records() const { return records_; }

 private:
  struct PcapCloser {
    void operator()(pcap_t* p) const { pcap_close(p); }
  };
  struct DumperCloser {
    void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
  };
  PcapWriter() = default;
  void Discard();
  // Flushes stdio and asks the kernel to start writing the file out.
  void StartWriteback();

  std::unique_ptr<pcap_t, PcapCloser> dead_;
  // The output stream's stdio buffer: declared before dumper_, so it is
  // freed after the stream is closed.
  std::unique_ptr<char[]> write_buffer_;
  std::unique_ptr<pcap_dumper_t, DumperCloser> dumper_;
  std::string path_;
  std::string temp_path_;
  int precision_ = PCAP_TSTAMP_PRECISION_MICRO;
  uint64_t records_ = 0;
  uint64_t unsynced_ = 0;  // bytes written since the last StartWriteback
  bool committed_ = false;
};

}  // namespace ftpalg
