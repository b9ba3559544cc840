// Addresses, endpoints and flow keys: parsing and canonical text.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/inet.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace ftpalg {

namespace {

// bytes[at..at+8) as a big-endian number (one load and a byte swap).
inline uint64_t LoadBe64(const std::array<uint8_t, 16>& bytes, size_t at) {
  uint64_t v;
  std::memcpy(&v, bytes.data() + at, 8);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

}  // namespace

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict dotted quad: exactly four fields of 1..3 decimal digits, each <= 255.
bool ParseDottedQuad(std::string_view text, uint8_t* out) {
  size_t pos = 0;
  for (int field = 0; field < 4; ++field) {
    if (field > 0) {
      if (pos >= text.size() || text[pos] != '.') return false;
      ++pos;
    }
    int value = 0;
    int digits = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (++digits > 3) return false;
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    if (digits == 0 || value > 255) return false;
    out[field] = static_cast<uint8_t>(value);
  }
  return pos == text.size();
}

// RFC 4291 section 2.2 text forms: full, "::" compressed (once), and a
// trailing embedded dotted quad. No zone index.
bool ParseIpv6(std::string_view text, uint8_t* out) {
  uint16_t groups[8] = {};
  int count = 0;
  int gap = -1;  // index in groups[] where "::" stands, or -1
  size_t pos = 0;
  const size_t len = text.size();
  if (len >= 2 && text[0] == ':' && text[1] == ':') {
    gap = 0;
    pos = 2;
  } else if (len >= 1 && text[0] == ':') {
    return false;
  }
  while (pos < len) {
    if (count >= 8) return false;
    size_t run = 0;
    while (pos + run < len && HexValue(text[pos + run]) >= 0) ++run;
    if (pos + run < len && text[pos + run] == '.') {
      // Embedded IPv4 takes the last 32 bits and must end the text.
      if (count > 6) return false;
      uint8_t quad[4];
      if (!ParseDottedQuad(text.substr(pos), quad)) return false;
      groups[count++] = static_cast<uint16_t>(quad[0] << 8 | quad[1]);
      groups[count++] = static_cast<uint16_t>(quad[2] << 8 | quad[3]);
      pos = len;
      break;
    }
    if (run == 0 || run > 4) return false;
    uint16_t value = 0;
    for (size_t i = 0; i < run; ++i) {
      value = static_cast<uint16_t>(value << 4 | HexValue(text[pos + i]));
    }
    groups[count++] = value;
    pos += run;
    if (pos == len) break;
    if (text[pos] != ':') return false;
    ++pos;
    if (pos < len && text[pos] == ':') {
      if (gap >= 0) return false;
      gap = count;
      ++pos;
    } else if (pos == len) {
      return false;  // a single trailing ':'
    }
  }
  uint16_t full[8] = {};
  if (gap < 0) {
    if (count != 8) return false;
    std::memcpy(full, groups, sizeof(full));
  } else {
    if (count > 7) return false;
    const int tail = count - gap;
    for (int i = 0; i < gap; ++i) full[i] = groups[i];
    for (int i = 0; i < tail; ++i) full[8 - tail + i] = groups[gap + i];
  }
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<uint8_t>(full[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(full[i] & 0xff);
  }
  return true;
}

size_t PutDecimal(unsigned value, char* out) {
  char tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

size_t PutDottedQuad(const uint8_t* b, char* out) {
  size_t n = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) out[n++] = '.';
    n += PutDecimal(b[i], out + n);
  }
  return n;
}

size_t PutHexGroup(unsigned value, char* out) {
  size_t n = 0;
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned nibble = (value >> shift) & 0xf;
    if (nibble != 0 || started || shift == 0) {
      out[n++] = kHexDigits[nibble];
      started = true;
    }
  }
  return n;
}

}  // namespace

size_t FormatAddress(const IpAddress& a, char* out, size_t cap) {
  char buf[kMaxAddressTextLen];
  size_t n = 0;
  if (a.family == Family::kV4) {
    n = PutDottedQuad(a.bytes.data(), buf);
  } else if (a.IsV4Mapped()) {
    std::memcpy(buf, "::ffff:", 7);
    n = 7 + PutDottedQuad(a.bytes.data() + 12, buf + 7);
  } else {
    unsigned groups[8];
    for (int i = 0; i < 8; ++i) {
      groups[i] =
          static_cast<unsigned>(a.bytes[2 * i]) << 8 | a.bytes[2 * i + 1];
    }
    // RFC 5952 4.2: compress the longest run (>= 2) of zero groups, the
    // first one on a tie.
    int best_start = -1;
    int best_len = 0;
    for (int i = 0; i < 8;) {
      if (groups[i] != 0) {
        ++i;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) ++j;
      if (j - i > best_len) {
        best_start = i;
        best_len = j - i;
      }
      i = j;
    }
    if (best_len < 2) best_start = -1;
    for (int i = 0; i < 8;) {
      if (i == best_start) {
        buf[n++] = ':';
        buf[n++] = ':';
        i += best_len;
        continue;
      }
      // After a "::" the separator is already written.
      const bool after_gap = best_start >= 0 && i == best_start + best_len;
      if (i > 0 && !after_gap) buf[n++] = ':';
      n += PutHexGroup(groups[i], buf + n);
      ++i;
    }
  }
  if (n > cap) return 0;
  std::memcpy(out, buf, n);
  return n;
}

IpAddress IpAddress::V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress r;
  r.family = Family::kV4;
  r.bytes[0] = a;
  r.bytes[1] = b;
  r.bytes[2] = c;
  r.bytes[3] = d;
  return r;
}

IpAddress IpAddress::FromBytes(Family f, const uint8_t* p) {
  IpAddress r;
  r.family = f;
  std::memcpy(r.bytes.data(), p, f == Family::kV4 ? 4 : 16);
  return r;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  IpAddress r;
  if (text.find(':') == std::string_view::npos) {
    r.family = Family::kV4;
    if (!ParseDottedQuad(text, r.bytes.data())) return std::nullopt;
    return r;
  }
  r.family = Family::kV6;
  if (!ParseIpv6(text, r.bytes.data())) return std::nullopt;
  return r;
}

std::string IpAddress::ToString() const {
  char buf[kMaxAddressTextLen];
  const size_t n = FormatAddress(*this, buf, sizeof(buf));
  return std::string(buf, n);
}

bool IpAddress::IsV4Mapped() const {
  if (family != Family::kV6) return false;
  for (int i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  const auto addr = IpAddress::Parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  const int max_len = addr->family == Family::kV4 ? 32 : 128;
  int len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    len = 0;
    for (char c : digits) {
      if (!IsDigit(c)) return std::nullopt;
      len = len * 10 + (c - '0');
    }
    if (len > max_len) return std::nullopt;
  }
  Cidr r;
  r.base = *addr;
  r.prefix_len = static_cast<uint8_t>(len);
  // Keep only the prefix bits so ToString is canonical.
  for (int i = 0; i < 16; ++i) {
    const int bits = len - 8 * i;
    if (bits >= 8) continue;
    r.base.bytes[i] &= bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
  }
  return r;
}

bool Cidr::Contains(const IpAddress& a) const {
  if (a.family != base.family) return false;
  const int max_len = base.family == Family::kV4 ? 32 : 128;
  const int len = prefix_len > max_len ? max_len : prefix_len;
  // Two 64-bit words, big-endian, compared under the prefix's mask.
  for (int w = 0; w < 2; ++w) {
    const int bits = std::clamp(len - 64 * w, 0, 64);
    if (bits == 0) break;
    const uint64_t mask = bits == 64 ? ~uint64_t{0} : ~(~uint64_t{0} >> bits);
    if (((LoadBe64(a.bytes, 8 * w) ^ LoadBe64(base.bytes, 8 * w)) & mask) != 0) return false;
  }
  return true;
}

std::string Cidr::ToString() const {
  return base.ToString() + "/" + std::to_string(prefix_len);
}

std::string Endpoint::ToString() const {
  if (addr.family == Family::kV6) {
    return "[" + addr.ToString() + "]:" + std::to_string(port);
  }
  return addr.ToString() + ":" + std::to_string(port);
}

std::string FlowKey::ToString() const {
  return client.ToString() + "->" + server.ToString();
}


size_t FlowKeyHash::operator()(const FlowKey& k) const noexcept {
  // Word-wise multiply-xorshift over both endpoints (one step per 8 address
  // bytes instead of one per byte; this runs for every control packet).
  uint64_t h = 0x9e3779b97f4a7c15ull;
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  };
  auto endpoint = [&mix](const Endpoint& ep) {
    mix(LoadBe64(ep.addr.bytes, 0));
    mix(LoadBe64(ep.addr.bytes, 8));
    mix((uint64_t{ep.port} << 8) | static_cast<uint64_t>(ep.addr.family));
  };
  endpoint(k.client);
  endpoint(k.server);
  return static_cast<size_t>(h);
}

}  // namespace ftpalg
