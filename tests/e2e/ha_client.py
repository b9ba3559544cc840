#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""One FTP control connection, driven step by step (tests/e2e/ha.sh).

  ha_client.py HOST [--src IP] [--port 21] < STEPS

Logs in anonymously, prints "READY <local ip>:<port>", then reads one step
per line from stdin and answers each with one line
"STEP <n> OK <details>" or "STEP <n> FAIL <reason>":

  retr active|passive FILE   RETR FILE on a new data connection (passive:
                             connects to the address the 227 names);
                             details: sha=<hex> peer=<ip>:<port> [227=<reply>]
  announce-port              open a listening socket, send PORT (active),
                             keep the socket for retr-pending
  announce-pasv              send PASV, remember the 227's address and port
  retr-pending FILE          RETR FILE over the announced data connection
                             (accept on the PORT socket or connect to the 227)
  noop | pwd                 the reply
  quit

Every socket operation has a timeout (10 s); a step that fails leaves the
process running for the next one. Exit status 0 after quit or end of input.
"""
import argparse
import ftplib
import hashlib
import re
import select
import socket
import sys

TIMEOUT = 10


class Client:
    def __init__(self, host, port, src):
        source = (src, 0) if src else None
        self.f = ftplib.FTP(timeout=TIMEOUT, source_address=source)
        self.f.connect(host, port, timeout=TIMEOUT, source_address=source)
        self.f.login()
        # Use the address the 227 names (ftplib ignores it by default): the
        # rewrite must be right for the transfer to work.
        self.f.trust_server_pasv_ipv4_address = True
        self.listener = None
        self.pasv = None
        self.last227 = ""

    def _pasv(self):
        reply = self.f.sendcmd("PASV")
        self.last227 = reply
        m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", reply)
        if not m or not reply.startswith("227"):
            raise ftplib.error_reply("bad PASV reply: " + reply)
        n = [int(x) for x in m.groups()]
        return "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]

    def _read_all(self, conn):
        h = hashlib.sha256()
        conn.settimeout(TIMEOUT)
        with conn:
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                h.update(b)
        return h.hexdigest()

    def _retr_on(self, conn_factory, name, listener=None):
        """Send RETR, get the data connection from conn_factory(), read it.
        With a listener (active mode) a reply that comes instead of the data
        connection (425: the server could not connect) ends the step at once."""
        self.f.putcmd("RETR " + name)
        resp = None
        if listener is not None:
            ready, _, _ = select.select([listener, self.f.sock], [], [], TIMEOUT)
            if not ready:
                raise TimeoutError("no data connection and no reply within %d s" % TIMEOUT)
            if listener not in ready:
                resp = self.f.getresp()
                if not resp.startswith("1"):
                    listener.close()
                    raise ftplib.error_reply(resp)
        conn = conn_factory()
        if resp is None:
            resp = self.f.getresp()
        if not resp.startswith("1"):
            conn.close()
            raise ftplib.error_reply(resp)
        peer = conn.getpeername()
        sha = self._read_all(conn)
        self.f.voidresp()
        return "sha=%s peer=%s:%d" % (sha, peer[0], peer[1])

    def retr(self, mode, name):
        if mode == "active":
            self.announce_port()
            return self.retr_pending(name)
        if mode == "passive":
            self.announce_pasv()
            return self.retr_pending(name) + " 227=" + self.last227.replace(" ", "_")
        raise ValueError("mode must be active or passive")

    def announce_port(self):
        if self.listener:
            self.listener.close()
        local = self.f.sock.getsockname()[0]
        s = socket.create_server((local, 0), backlog=1)
        s.settimeout(TIMEOUT)
        port = s.getsockname()[1]
        reply = self.f.sendport(local, port)
        self.listener, self.pasv = s, None
        return "port=%d reply=%s" % (port, reply.replace(" ", "_"))

    def announce_pasv(self):
        if self.listener:
            self.listener.close()
            self.listener = None
        self.pasv = self._pasv()
        return "addr=%s:%d 227=%s" % (self.pasv[0], self.pasv[1], self.last227.replace(" ", "_"))

    def retr_pending(self, name):
        if self.listener:
            s, self.listener = self.listener, None

            def accept():
                with s:
                    return s.accept()[0]
            return self._retr_on(accept, name, listener=s)
        if self.pasv:
            addr, self.pasv = self.pasv, None
            conn = socket.create_connection(addr, timeout=TIMEOUT,
                                            source_address=(self.f.sock.getsockname()[0], 0))
            return self._retr_on(lambda: conn, name)
        raise ValueError("nothing announced")

    def step(self, words):
        op = words[0]
        if op == "retr" and len(words) == 3:
            return self.retr(words[1], words[2])
        if op == "announce-port":
            return self.announce_port()
        if op == "announce-pasv":
            return self.announce_pasv()
        if op == "retr-pending" and len(words) == 2:
            return self.retr_pending(words[1])
        if op == "noop":
            return self.f.sendcmd("NOOP").replace(" ", "_")
        if op == "pwd":
            return self.f.sendcmd("PWD").replace(" ", "_")
        raise ValueError("unknown step: " + " ".join(words))

    def drain(self):
        """After a failed step: read replies still on their way (bounded), so
        the next step's reply is its own. Returns them joined by '|'."""
        got = []
        try:
            while select.select([self.f.sock], [], [], 3)[0]:
                line = self.f.getline()
                got.append(line)
        except (EOFError, OSError, ftplib.Error):
            pass
        return "|".join(got)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("--port", type=int, default=21)
    ap.add_argument("--src")
    a = ap.parse_args()
    try:
        c = Client(a.host, a.port, a.src)
    except ftplib.all_errors as e:
        print("CONNECT-FAIL %s" % e, flush=True)
        return 1
    local = c.f.sock.getsockname()
    print("READY %s:%d" % (local[0], local[1]), flush=True)
    n = 0
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        n += 1
        if words[0] == "quit":
            try:
                c.f.quit()
            except ftplib.all_errors:
                c.f.close()
            print("STEP %d OK bye" % n, flush=True)
            return 0
        try:
            print("STEP %d OK %s" % (n, c.step(words)), flush=True)
        except (socket.timeout, TimeoutError) as e:
            late = c.drain()
            print("STEP %d FAIL timeout %s%s" % (n, e, " (late: %s)" % late if late else ""), flush=True)
        except ftplib.all_errors + (ValueError,) as e:
            late = c.drain()
            print("STEP %d FAIL %s: %s%s" % (n, type(e).__name__, str(e).strip(),
                                           " (late: %s)" % late if late else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
