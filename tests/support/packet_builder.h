// Builds IPv4/IPv6 TCP packets for engine tests, with valid checksums.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ftpalg/inet.h"
#include "ftpalg/packet.h"

namespace ftpalg::testing {

struct TcpSpec {
  Endpoint src, dst;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = kTcpAck;
  std::string payload;
  std::vector<std::pair<uint32_t, uint32_t>> sack;  // SACK blocks
  bool ipv6_ext_header = false;  // prepend a destination-options header
};

// The packet bytes (IP header first).
std::vector<uint8_t> BuildTcp(const TcpSpec& spec);

// Convenience accessors on a packet.
PacketView View(const std::vector<uint8_t>& packet);
std::string PayloadOf(const std::vector<uint8_t>& packet);
std::vector<std::pair<uint32_t, uint32_t>> SackOf(const std::vector<uint8_t>& packet);

Endpoint Ep(const char* addr, uint16_t port);

}  // namespace ftpalg::testing
