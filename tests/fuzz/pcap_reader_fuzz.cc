// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: the offline capture reader (PcapSource: pcap, pcapng,
// gzip, every supported link type) on arbitrary file bytes, plus its pure
// helpers FindL3Offset/IpPacketLength on arbitrary frames. The bytes go
// through a memfd, opened by path (/proc/self/fd/N) like a real file.
// Invariants (abort on violation): records stay within their buffers, the
// IP packet lies inside the captured bytes, reading ends.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "src/adapters/pcap_source.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "pcap_reader_fuzz: %s\n", what);
  std::abort();
}

int MemFd() {
  static const int fd = memfd_create("pcap_reader_fuzz", 0);
  if (fd < 0) Fail("memfd_create failed");
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftpalg;
  if (size > 1 << 20) return 0;
  // Pure helpers on the raw bytes as one frame of each link type.
  if (size >= 1) {
    const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                        DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP,
                        data[0]};
    for (int dlt : dlts) {
      (void)IsSupportedLinkType(dlt);
      (void)LinkTypeName(dlt);
      const std::optional<size_t> l3 = FindL3Offset(dlt, data + 1, size - 1);
      if (l3) {
        if (*l3 > size - 1) Fail("L3 offset past the frame");
        const size_t n = IpPacketLength(data + 1 + *l3, size - 1 - *l3);
        if (n > size - 1 - *l3) Fail("IP length past the frame");
      }
    }
  }

  const int fd = MemFd();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    Fail("memfd write failed");
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  std::string error;
  std::unique_ptr<PcapSource> src = PcapSource::Open(path, &error);
  if (!src) {
    if (error.empty()) Fail("Open failed without an error");
    return 0;
  }
  PcapRecord rec;
  uint64_t sum = 0;
  for (int i = 0; i < 100000; ++i) {
    error.clear();
    const PcapSource::Status st = src->Next(&rec, &error);
    if (st == PcapSource::Status::kEnd) break;
    if (st == PcapSource::Status::kError) {
      if (error.empty()) Fail("kError without an error");
      break;
    }
    if (rec.caplen > 0 && rec.frame == nullptr) Fail("record without bytes");
    for (size_t k = 0; k < rec.caplen; ++k) sum += rec.frame[k];  // ASan: in bounds
    if (rec.l3_offset) {
      if (*rec.l3_offset > rec.caplen) Fail("L3 offset past caplen");
      if (*rec.l3_offset + rec.l3_len > rec.caplen) Fail("IP packet past caplen");
    }
    (void)rec.TimeMs();
  }
  (void)src->link_type();
  (void)src->snaplen();
  if (sum == 1) std::fputc(0, stderr);  // keep the loop observable
  return 0;
}
