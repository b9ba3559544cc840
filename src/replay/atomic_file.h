// A text file that appears under its name only when committed: written to a
// temporary file in the same directory, renamed by Commit(), removed if the
// object is destroyed uncommitted.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ftpalg {

class AtomicFile {
 public:
  // Creates the temporary file now, so an unwritable path fails early.
  static std::unique_ptr<AtomicFile> Create(const std::string& path,
                                            std::string* error);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Writes all of data, syncs, closes and renames into place.
  bool Commit(std::string_view data, std::string* error);

 private:
  AtomicFile() = default;
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
};

}  // namespace ftpalg
