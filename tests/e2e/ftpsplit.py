#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Active-mode FTP client that announces its data port the hard way, for the
impaired e2e lab (every socket operation has a timeout).

  ftpsplit.py split HOST --src IP [--out DIR] FILE...
      for each FILE: the PORT line is written in two parts (TCP_NODELAY, a
      short pause between them: two segments unless a retransmission joins
      them), split at a different place each time; then RETR FILE.
  ftpsplit.py pipelined HOST --src IP [--out DIR] FILE...
      for each FILE: one write carries "NOOP", "PORT ..." and "RETR FILE"
      (three command lines, one segment); the replies are read afterwards.

Prints "SENT <repr of each write>" and "SHA256 <file> <hex>" per transfer;
exit status 0 when every transfer completed with 226.
"""
import argparse
import hashlib
import os
import socket
import sys
import time

TIMEOUT = 10


class Control:
    def __init__(self, host, src):
        self.s = socket.create_connection((host, 21), timeout=TIMEOUT, source_address=(src, 0))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def line(self):
        for _ in range(10000):
            if b"\n" in self.buf:
                ln, self.buf = self.buf.split(b"\n", 1)
                return ln.decode("latin-1").rstrip("\r")
            data = self.s.recv(4096)
            if not data:
                raise EOFError("control connection closed")
            self.buf += data
        raise EOFError("no line")

    def reply(self):
        """One (possibly multi-line) reply: returns (code, text)."""
        first = self.line()
        code = first[:3]
        text = [first]
        if len(first) > 3 and first[3] == "-":
            for _ in range(1000):
                ln = self.line()
                text.append(ln)
                if ln.startswith(code + " "):
                    break
        return code, "\n".join(text)

    def expect(self, prefix, what):
        code, text = self.reply()
        if not code.startswith(prefix):
            raise RuntimeError("%s: expected %s, got %r" % (what, prefix, text))
        return text

    def send(self, data):
        print("SENT %r" % data, flush=True)
        self.s.sendall(data)


def transfer(c, src, name, outdir, how, i):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.settimeout(TIMEOUT)
    ls.bind((src, 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    line = b"PORT %s,%d,%d\r\n" % (src.replace(".", ",").encode(), port >> 8, port & 255)
    if how == "split":
        # Split inside the address on odd transfers, inside the port on even ones.
        cut = 8 + (i % 2) * (len(line) - 12)
        c.send(line[:cut])
        time.sleep(0.05)
        c.send(line[cut:])
        c.expect("200", "PORT")
        c.send(b"RETR %s\r\n" % name.encode())
    else:
        c.send(b"NOOP\r\n" + line + b"RETR %s\r\n" % name.encode())
        c.expect("200", "NOOP")
        c.expect("200", "PORT")
    c.expect("150", "RETR")
    d, peer = ls.accept()
    ls.close()
    d.settimeout(TIMEOUT)
    h = hashlib.sha256()
    with open(os.path.join(outdir, os.path.basename(name)), "wb") as f:
        for _ in range(1 << 20):
            data = d.recv(65536)
            if not data:
                break
            h.update(data)
            f.write(data)
    d.close()
    c.expect("226", "end of RETR")
    print("DATA %s peer=%s" % (name, peer[0]))
    print("SHA256 %s %s" % (name, h.hexdigest()), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("how", choices=["split", "pipelined"])
    ap.add_argument("host")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", default=".")
    a = ap.parse_intermixed_args()
    c = Control(a.host, a.src)
    c.expect("220", "greeting")
    c.send(b"USER anonymous\r\n")
    code, text = c.reply()
    if code == "331":
        c.send(b"PASS ftpsplit@\r\n")
        c.expect("230", "PASS")
    elif code != "230":
        raise RuntimeError("USER: got %r" % text)
    c.send(b"TYPE I\r\n")
    c.expect("200", "TYPE")
    for i, name in enumerate(a.files):
        transfer(c, a.src, name, a.out, a.how, i)
    c.send(b"QUIT\r\n")
    c.expect("221", "QUIT")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, EOFError, RuntimeError) as e:
        print("ERROR %s" % e, file=sys.stderr, flush=True)
        sys.exit(1)
