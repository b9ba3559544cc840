#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A fake systemd notify socket (tests/packaging/unit.sh, the e2e case
# ftpalgd-notify-watchdog): binds a unix datagram socket at PATH (mode 0777,
# so a sandboxed daemon's uid can send) and appends one line per datagram
# to LOG:
#   <monotonic ms> <queues> <datagram, newlines as '|'>
# <queues> is "bound=Q,Q" listing the NFQUEUE queues bound in this network
# namespace when the datagram arrived (run it in the daemon's namespace), so
# the test can tell READY=1 came after the queues were bound.
# Usage: notify_sink.py PATH LOG   (runs until killed)
import os
import socket
import sys
import time


def bound_queues():
    try:
        with open("/proc/net/netfilter/nfnetlink_queue") as f:
            return ",".join(line.split()[0] for line in f if line.strip()) or "-"
    except OSError:
        return "?"


def main():
    path, log = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o777)
    with open(log, "a", buffering=1) as out:
        while True:
            data = s.recv(4096)
            now = int(time.monotonic() * 1000)
            text = data.decode("utf-8", "replace").replace("\n", "|")
            out.write(f"{now} bound={bound_queues()} {text}\n")


if __name__ == "__main__":
    main()
