// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/event_ring.h"

#include <algorithm>
#include <cstring>

namespace ftpalg {

EventRing::EventRing(size_t capacity_bytes) : buf_(std::max<size_t>(capacity_bytes, 1)) {}

bool EventRing::Push(std::string_view line) {
  const size_t cap = buf_.size();
  if (line.size() > cap - used_) {
    ++dropped_;
    return false;
  }
  size_t tail = (head_ + used_) % cap;
  const size_t first = std::min(line.size(), cap - tail);
  std::memcpy(buf_.data() + tail, line.data(), first);
  std::memcpy(buf_.data(), line.data() + first, line.size() - first);
  used_ += line.size();
  ++pushed_;
  return true;
}

size_t EventRing::Drain(const WriteFn& write) {
  size_t total = 0;
  while (used_ > 0) {
    const size_t chunk = std::min(used_, buf_.size() - head_);
    const long n = write(buf_.data() + head_, chunk);
    if (n <= 0) break;
    const size_t took = std::min(static_cast<size_t>(n), chunk);
    head_ = (head_ + took) % buf_.size();
    used_ -= took;
    total += took;
    if (took < chunk) break;
  }
  if (used_ == 0) head_ = 0;
  return total;
}

}  // namespace ftpalg
