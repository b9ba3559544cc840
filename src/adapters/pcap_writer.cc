// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/pcap_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ftpalg {
namespace {
constexpr size_t kWriteBuffer = 64 * 1024;
// Every this many bytes the kernel is asked to start writing the file out,
// so that Commit's fsync finds little left to wait for.
constexpr uint64_t kWritebackEvery = 8u << 20;
}  // namespace

std::unique_ptr<PcapWriter> PcapWriter::Create(const std::string& path,
                                               int link_type, int snaplen,
                                               int precision,
                                               std::string* error) {
  std::unique_ptr<PcapWriter> w(new PcapWriter());
  w->path_ = path;
  w->precision_ = precision;
  w->dead_.reset(pcap_open_dead_with_tstamp_precision(
      link_type, snaplen > 0 ? snaplen : 262144,
      static_cast<u_int>(precision)));
  if (!w->dead_) {
    *error = path + ": cannot set up the pcap writer";
    return nullptr;
  }
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = mkstemp(name.data());
  if (fd < 0) {
    *error = path + ": cannot create output: " + std::strerror(errno);
    return nullptr;
  }
  w->temp_path_ = name.data();
  // mkstemp creates 0600; give the file the usual 0666 & ~umask instead.
  const mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask);
  FILE* f = fdopen(fd, "wb");
  if (f == nullptr) {
    *error = path + ": cannot create output: " + std::strerror(errno);
    close(fd);
    unlink(w->temp_path_.c_str());
    return nullptr;
  }
  // pcap_dump does two small fwrites per record: a large stdio buffer makes
  // the write(2) calls kWriteBuffer-sized instead of 4 KiB.
  // (glibc ignores the size unless given the buffer.)
  w->write_buffer_.reset(new char[kWriteBuffer]);
  (void)std::setvbuf(f, w->write_buffer_.get(), _IOFBF, kWriteBuffer);
  w->dumper_.reset(pcap_dump_fopen(w->dead_.get(), f));
  if (!w->dumper_) {
    *error = path + ": cannot write pcap header: " + pcap_geterr(w->dead_.get());
    std::fclose(f);
    unlink(w->temp_path_.c_str());
    return nullptr;
  }
  return w;
}

PcapWriter::~PcapWriter() {
  if (!committed_) Discard();
}

void PcapWriter::Discard() {
  dumper_.reset();
  if (!temp_path_.empty()) {
    unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

void PcapWriter::Write(uint64_t ts_ns, const uint8_t* frame, size_t caplen,
                       size_t wire_len) {
  pcap_pkthdr hdr{};
  hdr.ts.tv_sec = static_cast<time_t>(ts_ns / 1000000000ull);
  const uint64_t sub = ts_ns % 1000000000ull;
  hdr.ts.tv_usec = static_cast<suseconds_t>(
      precision_ == PCAP_TSTAMP_PRECISION_NANO ? sub : sub / 1000);
  hdr.caplen = static_cast<bpf_u_int32>(caplen);
  hdr.len = static_cast<bpf_u_int32>(wire_len < caplen ? caplen : wire_len);
  pcap_dump(reinterpret_cast<u_char*>(dumper_.get()), &hdr, frame);
  ++records_;
  unsynced_ += 16 + caplen;
  if (unsynced_ >= kWritebackEvery) StartWriteback();
}

void PcapWriter::StartWriteback() {
  unsynced_ = 0;
  FILE* f = pcap_dump_file(dumper_.get());
  if (std::fflush(f) != 0) return;  // Commit reports the error
  // Asynchronous: starts writeback of the dirty pages, does not wait for it.
  // Only an optimisation (Commit still fsyncs), so a failure is ignored.
  (void)sync_file_range(fileno(f), 0, 0, SYNC_FILE_RANGE_WRITE);
}

bool PcapWriter::Commit(std::string* error) {
  if (committed_ || !dumper_) {
    *error = path_ + ": writer already closed";
    return false;
  }
  FILE* f = pcap_dump_file(dumper_.get());
  bool ok = pcap_dump_flush(dumper_.get()) == 0 && std::ferror(f) == 0 &&
            fsync(fileno(f)) == 0;
  const int saved = errno;
  dumper_.reset();  // fclose
  if (!ok) {
    *error = path_ + ": write failed: " + std::strerror(saved);
    Discard();
    return false;
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    *error = path_ + ": cannot rename output into place: " + std::strerror(errno);
    Discard();
    return false;
  }
  temp_path_.clear();
  committed_ = true;
  return true;
}

}  // namespace ftpalg
