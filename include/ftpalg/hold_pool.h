// Fixed pool of buffers for announcement lines held back while incomplete.
// Pure: no I/O; all memory allocated at construction.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <vector>

namespace ftpalg {

class HoldPool {
 public:
  HoldPool(uint16_t slots, uint16_t slot_size)
      : slot_size_(slot_size),
        bytes_(size_t{slots} * slot_size),
        free_(slots) {
    for (uint16_t i = 0; i < slots; ++i) {
      free_[i] = static_cast<uint16_t>(slots - 1 - i);
    }
  }
  // A free slot index, or 0xffff when none is left.
  uint16_t Acquire() {
    if (free_.empty()) return 0xffff;
    const uint16_t s = free_.back();
    free_.pop_back();  // capacity never shrinks: no allocation on Release
    return s;
  }
  void Release(uint16_t slot) { free_.push_back(slot); }
  uint8_t* data(uint16_t slot) { return &bytes_[size_t{slot} * slot_size_]; }
  uint16_t slot_size() const { return slot_size_; }
  size_t available() const { return free_.size(); }

 private:
  uint16_t slot_size_;
  std::vector<uint8_t> bytes_;
  std::vector<uint16_t> free_;
};

}  // namespace ftpalg
