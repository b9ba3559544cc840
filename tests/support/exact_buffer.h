// A string copied into a heap buffer of exactly its size, so that ASan
// reports any read past the end of the view (tests of line parsers).
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace ftpalg::testing {

class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view s)
      : len_(s.size()), data_(new char[s.size()]) {
    if (len_ > 0) std::memcpy(data_.get(), s.data(), len_);
  }
  std::string_view view() const { return std::string_view(data_.get(), len_); }

 private:
  size_t len_;
  std::unique_ptr<char[]> data_;
};

}  // namespace ftpalg::testing
