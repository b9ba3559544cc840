// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/pcap_source.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ftpalg {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint16_t kEtherQinQOld = 0x9100;

constexpr size_t kEthHeaderLen = 14;
constexpr size_t kSllHeaderLen = 16;
constexpr size_t kSll2HeaderLen = 20;
constexpr size_t kNullHeaderLen = 4;
// stdio buffer of the capture being read (and of a gzip stream's output).
constexpr size_t kReadBuffer = 64 * 1024;

// DLT values libpcap may not define on every platform.
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

uint16_t Be16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

// The IP version nibble, if the bytes at `off` can start an IP header.
bool LooksLikeIp(const uint8_t* frame, size_t len, size_t off) {
  if (off >= len) return false;
  const int version = frame[off] >> 4;
  return version == 4 || version == 6;
}

std::optional<size_t> IpIfEthertype(uint16_t type, const uint8_t* frame,
                                    size_t len, size_t off) {
  if (type != kEtherIpv4 && type != kEtherIpv6) return std::nullopt;
  if (!LooksLikeIp(frame, len, off)) return std::nullopt;
  return off;
}

// BSD loopback address family values for IPv4 and IPv6 (the latter differs
// between BSDs: 24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin; 10 is Linux).
bool IsLoopbackFamily(uint32_t af) {
  return af == 2 || af == 10 || af == 24 || af == 28 || af == 30;
}

// zlib stream behind a FILE* so that libpcap can read it.
ssize_t GzRead(void* cookie, char* buf, size_t size) {
  const unsigned chunk = size > (1u << 30) ? (1u << 30) : static_cast<unsigned>(size);
  const int n = gzread(static_cast<gzFile>(cookie), buf, chunk);
  if (n < 0) {
    errno = EIO;
    return -1;
  }
  return n;
}

int GzClose(void* cookie) {
  return gzclose(static_cast<gzFile>(cookie)) == Z_OK ? 0 : EOF;
}

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

}  // namespace

bool IsSupportedLinkType(int dlt) {
  switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
      return true;
    default:
      return false;
  }
}

std::string LinkTypeName(int dlt) {
  switch (dlt) {
    case DLT_EN10MB: return "EN10MB";
    case DLT_LINUX_SLL: return "LINUX_SLL";
    case DLT_LINUX_SLL2: return "LINUX_SLL2";
    case DLT_RAW: return "RAW";
    case DLT_IPV4: return "IPV4";
    case DLT_IPV6: return "IPV6";
    case DLT_NULL: return "NULL";
    case DLT_LOOP: return "LOOP";
    default: break;
  }
  const char* name = pcap_datalink_val_to_name(dlt);
  return name != nullptr ? std::string(name) + " (DLT " + std::to_string(dlt) + ")"
                         : "DLT " + std::to_string(dlt);
}

std::optional<size_t> FindL3Offset(int dlt, const uint8_t* frame, size_t len) {
  switch (dlt) {
    case DLT_EN10MB: {
      if (len < kEthHeaderLen) return std::nullopt;
      size_t type_off = 12;
      uint16_t type = Be16(frame + type_off);
      for (int tags = 0; type == kEtherVlan || type == kEtherQinQ ||
                         type == kEtherQinQOld;
           ++tags) {
        if (tags == kMaxVlanTags) return std::nullopt;
        type_off += 4;
        if (type_off + 2 > len) return std::nullopt;
        type = Be16(frame + type_off);
      }
      return IpIfEthertype(type, frame, len, type_off + 2);
    }
    case DLT_LINUX_SLL:
      if (len < kSllHeaderLen) return std::nullopt;
      return IpIfEthertype(Be16(frame + 14), frame, len, kSllHeaderLen);
    case DLT_LINUX_SLL2:
      if (len < kSll2HeaderLen) return std::nullopt;
      return IpIfEthertype(Be16(frame), frame, len, kSll2HeaderLen);
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
      if (!LooksLikeIp(frame, len, 0)) return std::nullopt;
      return size_t{0};
    case DLT_NULL:
    case DLT_LOOP: {
      if (len < kNullHeaderLen) return std::nullopt;
      // Host byte order of the capturing machine (NULL) or network order
      // (LOOP); accept either.
      const uint32_t be = (uint32_t{frame[0]} << 24) | (uint32_t{frame[1]} << 16) |
                          (uint32_t{frame[2]} << 8) | frame[3];
      const uint32_t le = (uint32_t{frame[3]} << 24) | (uint32_t{frame[2]} << 16) |
                          (uint32_t{frame[1]} << 8) | frame[0];
      if (!IsLoopbackFamily(be) && !IsLoopbackFamily(le)) return std::nullopt;
      if (!LooksLikeIp(frame, len, kNullHeaderLen)) return std::nullopt;
      return kNullHeaderLen;
    }
    default:
      return std::nullopt;
  }
}

size_t IpPacketLength(const uint8_t* ip, size_t avail) {
  if (avail < 1) return avail;
  const int version = ip[0] >> 4;
  if (version == 4 && avail >= 20) {
    const size_t total = Be16(ip + 2);
    if (total >= 20 && total <= avail) return total;
  } else if (version == 6 && avail >= 40) {
    const size_t payload = Be16(ip + 4);
    if (payload != 0 && 40 + payload <= avail) return 40 + payload;
  }
  return avail;
}

std::unique_ptr<PcapSource> PcapSource::Open(const std::string& path,
                                             std::string* error) {
  // The stdio buffer of the stream (see setvbuf below); declared first, so
  // it outlives every stream closed on the way out.
  std::unique_ptr<char[]> read_buffer(new char[kReadBuffer]);
  std::unique_ptr<FILE, FileCloser> plain(std::fopen(path.c_str(), "rb"));
  if (!plain) {
    *error = path + ": cannot open: " + std::strerror(errno);
    return nullptr;
  }
  // libpcap reads each record with two small freads: a large stdio buffer
  // (set before any other use of the stream) turns 4 KiB read(2) calls into
  // kReadBuffer-sized ones. (glibc ignores the size unless given the buffer.)
  (void)std::setvbuf(plain.get(), read_buffer.get(), _IOFBF, kReadBuffer);
  uint8_t magic[4] = {0, 0, 0, 0};
  size_t got = std::fread(magic, 1, sizeof magic, plain.get());
  const bool gzipped = got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (std::fseek(plain.get(), 0, SEEK_SET) != 0) {
    *error = path + ": cannot seek: " + std::strerror(errno);
    return nullptr;
  }

  FILE* stream = nullptr;  // owned by libpcap once pcap_fopen_offline succeeds
  if (gzipped) {
    plain.reset();
    std::unique_ptr<gzFile_s, GzCloser> gz(gzopen(path.c_str(), "rb"));
    if (!gz) {
      *error = path + ": cannot open gzip stream";
      return nullptr;
    }
    const int n = gzread(gz.get(), magic, sizeof magic);
    got = n < 0 ? 0 : static_cast<size_t>(n);
    if (gzrewind(gz.get()) != 0) {
      *error = path + ": cannot rewind gzip stream";
      return nullptr;
    }
    cookie_io_functions_t io{};
    io.read = GzRead;
    io.close = GzClose;
    stream = fopencookie(gz.get(), "rb", io);
    if (stream == nullptr) {
      *error = path + ": fopencookie failed: " + std::strerror(errno);
      return nullptr;
    }
    gz.release();  // closed through the cookie's close function
    (void)std::setvbuf(stream, read_buffer.get(), _IOFBF, kReadBuffer);
  } else {
    stream = plain.release();
  }

  // Classic pcap with nanosecond timestamps (either byte order); anything
  // else (microsecond pcap, pcapng) is written back with microseconds.
  const bool nano_file = got == 4 && ((magic[0] == 0xa1 && magic[1] == 0xb2 &&
                                       magic[2] == 0x3c && magic[3] == 0x4d) ||
                                      (magic[0] == 0x4d && magic[1] == 0x3c &&
                                       magic[2] == 0xb2 && magic[3] == 0xa1));
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(
      stream, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (p == nullptr) {
    std::fclose(stream);
    *error = path + ": not a readable capture: " + errbuf;
    return nullptr;
  }
  std::unique_ptr<PcapSource> src(new PcapSource());
  src->read_buffer_ = std::move(read_buffer);  // outlives the stream
  src->pcap_.reset(p);
  src->path_ = path;
  src->gzipped_ = gzipped;
  src->link_type_ = pcap_datalink(p);
  src->snaplen_ = pcap_snapshot(p);
  src->precision_ =
      nano_file ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO;
  if (!IsSupportedLinkType(src->link_type_)) {
    *error = path + ": unsupported link type " + LinkTypeName(src->link_type_) +
             " (supported: EN10MB with VLAN tags, LINUX_SLL, LINUX_SLL2, RAW, "
             "IPV4, IPV6, NULL, LOOP)";
    return nullptr;
  }
  return src;
}

PcapSource::~PcapSource() = default;

PcapSource::Status PcapSource::Next(PcapRecord* record, std::string* error) {
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(pcap_.get(), &hdr, &data);
  if (rc == PCAP_ERROR_BREAK) return Status::kEnd;
  if (rc != 1) {
    *error = path_ + ": record " + std::to_string(count_ + 1) + ": " +
             pcap_geterr(pcap_.get());
    return Status::kError;
  }
  ++count_;
  record->index = count_;
  const uint64_t sub = static_cast<uint64_t>(hdr->ts.tv_usec);
  const uint64_t sec = static_cast<uint64_t>(hdr->ts.tv_sec);
  record->ts_ns = sec * 1000000000ull + sub;  // opened with nanoseconds
  record->frame = data;
  record->caplen = hdr->caplen;
  record->wire_len = hdr->len < hdr->caplen ? hdr->caplen : hdr->len;
  record->l3_offset = FindL3Offset(link_type_, data, hdr->caplen);
  record->l3_len = 0;
  if (record->l3_offset) {
    record->l3_len =
        IpPacketLength(data + *record->l3_offset, hdr->caplen - *record->l3_offset);
  }
  return Status::kRecord;
}

}  // namespace ftpalg
