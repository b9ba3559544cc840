// A text file that appears under its name only when committed: written to a
// temporary file in the same directory, renamed by Commit(), removed if the
// object is destroyed uncommitted. Text can be streamed into it while the
// run goes on (stream(): buffered, written as it fills), so a long replay
// never holds its expectation records or trace in memory.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace ftpalg {

class AtomicFile {
 public:
  // Creates the temporary file now, so an unwritable path fails early.
  static std::unique_ptr<AtomicFile> Create(const std::string& path,
                                            std::string* error);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // The file's contents so far; written to the temporary file in blocks.
  std::ostream& stream() { return stream_; }

  // Writes what stream() still buffers, then all of data; syncs, closes
  // and renames into place. False + *error on any write failure (also one
  // met earlier while streaming).
  bool Commit(std::string_view data, std::string* error);
  bool Commit(std::string* error) { return Commit({}, error); }

 private:
  // Buffers stream()'s text and writes it to fd in large blocks; remembers
  // the first write error.
  class FdBuf final : public std::streambuf {
   public:
    explicit FdBuf(AtomicFile* owner);
    bool Drain();  // writes the buffered bytes; false on error
   protected:
    int_type overflow(int_type c) override;
    std::streamsize xsputn(const char* s, std::streamsize n) override;
    int sync() override { return Drain() ? 0 : -1; }

   private:
    AtomicFile* owner_;
    std::vector<char> buf_;
  };

  AtomicFile();
  bool WriteAll(std::string_view data);

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  int write_errno_ = 0;  // first write failure while streaming
  FdBuf buf_;
  std::ostream stream_;
};

}  // namespace ftpalg
