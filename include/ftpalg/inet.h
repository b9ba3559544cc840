// Addresses, endpoints, flow keys and directions: plain value types.
// Pure: no I/O. Addresses are kept in network byte order.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace ftpalg {

enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

// conntrack's words: kOriginal is client->server, kReply is server->client.
enum class Direction : uint8_t { kOriginal = 0, kReply = 1 };

inline Direction Opposite(Direction d) {
  return d == Direction::kOriginal ? Direction::kReply : Direction::kOriginal;
}
inline int Index(Direction d) { return static_cast<int>(d); }

// An IPv4 or IPv6 address. IPv4 uses bytes[0..3]; the rest stay zero.
struct IpAddress {
  Family family = Family::kV4;
  std::array<uint8_t, 16> bytes{};

  static IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  static IpAddress FromBytes(Family f, const uint8_t* p);
  // Parses dotted IPv4 or any RFC 4291 text form of IPv6 (compressed, full,
  // embedded IPv4). Returns nullopt on anything else.
  static std::optional<IpAddress> Parse(std::string_view text);

  size_t size() const { return family == Family::kV4 ? 4 : 16; }
  const uint8_t* data() const { return bytes.data(); }
  // Canonical text: dotted quad, or RFC 5952 compressed IPv6.
  std::string ToString() const;
  // True for ::ffff:a.b.c.d.
  bool IsV4Mapped() const;

  // Two word compares instead of a byte-wise memcmp: every packet's
  // session lookup compares two of these per endpoint.
  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.bytes.data(), 8);
    std::memcpy(&a1, a.bytes.data() + 8, 8);
    std::memcpy(&b0, b.bytes.data(), 8);
    std::memcpy(&b1, b.bytes.data() + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0 && a.family == b.family;
  }
};

// An address prefix such as 10.0.0.0/8 or fc00::/7.
struct Cidr {
  IpAddress base;
  uint8_t prefix_len = 0;
  static std::optional<Cidr> Parse(std::string_view text);
  bool Contains(const IpAddress& a) const;
  std::string ToString() const;
};

struct Endpoint {
  IpAddress addr;
  uint16_t port = 0;  // host byte order
  std::string ToString() const;  // "a.b.c.d:p" or "[v6]:p"
  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.port == b.port && a.addr == b.addr;
  }
};

// A control connection's ORIGINAL tuple: client -> server, TCP.
struct FlowKey {
  Endpoint client;
  Endpoint server;
  std::string ToString() const;  // "client->server"
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const noexcept;
};

// Longest text FormatAddress can produce
// ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is 45; we never emit more
// than "::ffff:255.255.255.255" or 39 hex characters).
inline constexpr size_t kMaxAddressTextLen = 46;

// Allocation-free IpAddress::ToString: writes the canonical text into
// out[0..cap) and returns its length, or 0 if cap is too small.
size_t FormatAddress(const IpAddress& a, char* out, size_t cap);

}  // namespace ftpalg
