// SPDX-License-Identifier: GPL-2.0-or-later
// Is stderr connected to the systemd journal? systemd sets JOURNAL_STREAM
// to "<st_dev>:<st_ino>" of the stream it gave the service; a stderr with
// the same device and inode is that stream (a redirected one is not). Lines
// written to it may then start with an sd-daemon(3) priority prefix
// ("<3>" error ... "<7>" debug) that journald stores as the priority, so
// `journalctl -p warning` finds them.
#pragma once

#include <string_view>

#include "ftpalg/logger.h"

namespace ftpalg {

// True when fd's device and inode are the ones journal_stream names
// (journal_stream: JOURNAL_STREAM's value; nullptr or malformed: false).
bool FdIsJournalStream(int fd, const char* journal_stream);
// FdIsJournalStream(STDERR_FILENO, getenv("JOURNAL_STREAM")).
bool StderrIsJournal();
// "<3>" error, "<4>" warn, "<6>" info, "<7>" debug (sd-daemon.h's SD_*).
std::string_view JournalPriorityPrefix(LogLevel l);

}  // namespace ftpalg
