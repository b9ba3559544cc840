// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/kernel_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>

namespace ftpalg {
namespace {

constexpr const char* kQueueStats = "/proc/net/netfilter/nfnetlink_queue";

}  // namespace

KernelQueueStats ParseKernelQueue(std::string_view text, uint16_t queue) {
  KernelQueueStats k;
  k.queue = queue;
  // Fields: queue_num portid waiting copy_mode copy_range queue_dropped
  // user_dropped id_sequence 1.
  for (int rows = 0; rows < 65536 && !text.empty(); ++rows) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    uint64_t f[7] = {};
    size_t got = 0;
    const char* p = line.data();
    const char* end = line.data() + line.size();
    while (got < 7) {
      while (p < end && *p == ' ') ++p;
      const auto [next, ec] = std::from_chars(p, end, f[got]);
      if (ec != std::errc() || (next < end && *next != ' ')) break;
      p = next;
      ++got;
    }
    if (got < 7 || f[0] != queue) continue;
    k.bound = true;
    k.portid = static_cast<uint32_t>(f[1]);
    k.waiting = static_cast<uint32_t>(f[2]);
    k.queue_dropped = static_cast<uint32_t>(f[5]);
    k.user_dropped = static_cast<uint32_t>(f[6]);
    return k;
  }
  return k;
}

void KernelQueueReader::OpenEarly() {
  Close();
  fd_ = open(kQueueStats, O_RDONLY | O_CLOEXEC);
}

void KernelQueueReader::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

KernelQueueStats KernelQueueReader::Read(uint16_t queue) const {
  std::string text;
  if (fd_ >= 0 && lseek(fd_, 0, SEEK_SET) == 0) {
    char buf[4096];
    ssize_t n = 0;
    while (text.size() < (1u << 20) && (n = read(fd_, buf, sizeof(buf))) > 0) {
      text.append(buf, static_cast<size_t>(n));
    }
  } else {
    std::ifstream file(kQueueStats);
    text.assign(std::istreambuf_iterator<char>(file), {});
  }
  return ParseKernelQueue(text, queue);
}

std::string KernelQueueReader::Text(uint16_t queue) const {
  const KernelQueueStats k = Read(queue);
  if (!k.bound) return "q" + std::to_string(queue) + "=unbound";
  return "q" + std::to_string(queue) + " portid=" + std::to_string(k.portid) +
         " waiting=" + std::to_string(k.waiting) +
         " kernel_dropped=" + std::to_string(k.queue_dropped) +
         " user_dropped=" + std::to_string(k.user_dropped);
}

std::string BindError(uint16_t queue, int err, uint32_t own_portid) {
  std::string s = "cannot bind NFQUEUE queue " + std::to_string(queue) + ": " +
                  std::strerror(err);
  if (err == EPERM) {
    const KernelQueueStats k = KernelQueueReader().Read(queue);
    if (k.bound && k.portid != own_portid) {
      s += ": the queue is already bound by netlink port " +
           std::to_string(k.portid) + " (another ftpalgd or NFQUEUE consumer?)";
    } else {
      s += ": needs CAP_NET_ADMIN (run as root or grant the capability)";
    }
  } else if (err == EBUSY) {
    s += ": the queue is already bound (another ftpalgd?)";
  }
  return s;
}

}  // namespace ftpalg
