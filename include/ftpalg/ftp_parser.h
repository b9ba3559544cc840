// FTP control-line recognition, all of it: the client's verb
// (ftp_command.h), the server's reply code (ftp_reply_code.h) and the six
// address/port announcements with their replacement text (announcement.h).
// Kept for the engine's units that read every kind of line; a unit that
// needs one kind includes that header alone.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "ftpalg/announcement.h"
#include "ftpalg/ftp_command.h"
#include "ftpalg/ftp_reply_code.h"
