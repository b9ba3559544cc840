// A fixed-size ring of preformatted event lines between the packet path
// (Push) and the writer (Drain). A line goes in whole or not at all: when
// the writer falls behind and the ring is full, the line is dropped and
// counted. No allocation after construction, no I/O of its own.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace ftpalg {

class EventRing {
 public:
  explicit EventRing(size_t capacity_bytes);

  // Appends the whole line, or counts it dropped when it does not fit.
  bool Push(std::string_view line);

  // Writes from the oldest byte on: write(p, n) returns how many bytes it
  // took (less than n: it would block; the rest waits) or -1 (error: stop,
  // nothing taken). Returns the bytes taken in all.
  using WriteFn = std::function<long(const char* p, size_t n)>;
  size_t Drain(const WriteFn& write);

  // A line that was never pushed (e.g. it could not be formatted).
  void CountDropped() { ++dropped_; }

  size_t used() const { return used_; }
  size_t capacity() const { return buf_.size(); }
  uint64_t pushed() const { return pushed_; }
  uint64_t dropped() const { return dropped_; }

 private:
  std::vector<char> buf_;
  size_t head_ = 0;  // oldest byte not written yet
  size_t used_ = 0;
  uint64_t pushed_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace ftpalg
