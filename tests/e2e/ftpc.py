#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Small ftplib client for the e2e lab (every socket operation has a timeout).

  ftpc.py get  HOST [--src IP] [--active] [--out DIR] FILE...
      RETR each FILE, print "DATA <file> peer=<ip> port=<p>" (the address the
      data connection came from / went to) and "SHA256 <file> <hex>".
  ftpc.py put  HOST [--src IP] [--active] LOCAL REMOTE      STOR LOCAL as REMOTE
  ftpc.py ctl  HOST [--src IP]                              login, PWD, NOOP, QUIT
  ftpc.py inflight HOST --src IP --ready F --go F [--no-before] [--retr-after] FILE
      active RETR FILE (--no-before: PWD only, no rewrite), touch READY, wait
      (bounded) for GO, then send NOOP and PWD and print their replies (or
      "TIMEOUT"/"ERROR ...") one per line as AFTER1/AFTER2; --retr-after: then
      one more RETR FILE in the same session (active unless --passive-after),
      printed as "AFTER3 <sha256>" or "AFTER3 ERROR ...".
  ftpc.py pending HOST --src IP --ready F --go F [--active] FILE
      announce a data connection (PASV, or PORT with --active) for FILE,
      touch READY, wait (bounded) for GO, then open it and RETR FILE; prints
      "PENDING <sha256>" or "PENDING ERROR ..." / "PENDING TIMEOUT".
Exit status 0 on success (inflight, pending: 0 whenever it ran to the end).
"""
import argparse
import ftplib
import hashlib
import os
import socket
import sys
import time

TIMEOUT = 10


class FTP(ftplib.FTP):
    peers = []

    def ntransfercmd(self, cmd, rest=None):
        conn, size = super().ntransfercmd(cmd, rest)
        self.peers.append(conn.getpeername()[:2])
        return conn, size


def connect(a):
    src = (a.src, 0) if a.src else None
    f = FTP(timeout=TIMEOUT, source_address=src)
    f.connect(a.host, a.port, timeout=TIMEOUT, source_address=src)
    f.login()
    f.set_pasv(not a.active)
    return f


def reply_of(f, cmd):
    try:
        return f.sendcmd(cmd)
    except (socket.timeout, TimeoutError):
        return "TIMEOUT"
    except ftplib.all_errors as e:
        return "ERROR %s" % str(e).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("op", choices=["get", "put", "ctl", "inflight", "pending"])
    ap.add_argument("host")
    ap.add_argument("args", nargs="*")
    ap.add_argument("--port", type=int, default=21)
    ap.add_argument("--src")
    ap.add_argument("--active", action="store_true")
    ap.add_argument("--out", default=".")
    ap.add_argument("--ready")
    ap.add_argument("--go")
    ap.add_argument("--no-before", action="store_true")
    ap.add_argument("--retr-after", action="store_true")
    ap.add_argument("--passive-after", action="store_true")
    a = ap.parse_intermixed_args()

    f = connect(a)
    if a.op == "get":
        for name in a.args:
            h = hashlib.sha256()
            path = os.path.join(a.out, os.path.basename(name))
            with open(path, "wb") as out:
                def cb(b):
                    h.update(b)
                    out.write(b)
                f.retrbinary("RETR " + name, cb)
            peer = f.peers[-1]
            print("DATA %s peer=%s port=%d" % (name, peer[0], peer[1]))
            print("SHA256 %s %s" % (name, h.hexdigest()))
    elif a.op == "put":
        local, remote = a.args
        with open(local, "rb") as fp:
            f.storbinary("STOR " + remote, fp)
        peer = f.peers[-1]
        print("DATA %s peer=%s port=%d" % (remote, peer[0], peer[1]))
    elif a.op == "ctl":
        print("PWD", f.sendcmd("PWD"))
        print("NOOP", f.sendcmd("NOOP"))
    elif a.op == "inflight":
        a.active = True
        f.set_pasv(False)
        buf = []
        if a.no_before:
            print("BEFORE", f.sendcmd("PWD"), flush=True)
        else:
            f.retrbinary("RETR " + a.args[0], buf.append)
            print("BEFORE", hashlib.sha256(b"".join(buf)).hexdigest(), flush=True)
        open(a.ready, "w").close()
        t0 = time.time()
        while not os.path.exists(a.go):
            if time.time() - t0 > 30:
                print("GO-TIMEOUT")
                return 1
            time.sleep(0.05)
        f.sock.settimeout(5)
        print("AFTER1", reply_of(f, "NOOP"), flush=True)
        print("AFTER2", reply_of(f, "PWD"), flush=True)
        if a.retr_after:
            f.set_pasv(a.passive_after)
            buf = []
            try:
                f.retrbinary("RETR " + a.args[0], buf.append)
                print("AFTER3", hashlib.sha256(b"".join(buf)).hexdigest(), flush=True)
            except (socket.timeout, TimeoutError):
                print("AFTER3 TIMEOUT", flush=True)
            except (ftplib.all_errors, OSError) as e:
                print("AFTER3 ERROR %s" % str(e).strip(), flush=True)
        try:
            f.sock.close()
        except OSError:
            pass
        return 0
    elif a.op == "pending":
        f.voidcmd("TYPE I")
        if a.active:
            listener = f.makeport()  # sends PORT (the ALG rewrites it)
            listener.settimeout(TIMEOUT)
        else:
            host, port = ftplib.parse227(f.sendcmd("PASV"))
        open(a.ready, "w").close()
        t0 = time.time()
        while not os.path.exists(a.go):
            if time.time() - t0 > 30:
                print("GO-TIMEOUT")
                return 1
            time.sleep(0.05)
        try:
            if a.active:
                f.sendcmd("RETR " + a.args[0])
                conn, _ = listener.accept()
            else:
                src = (a.src, 0) if a.src else None
                conn = socket.create_connection((host, port), TIMEOUT, src)
                f.sendcmd("RETR " + a.args[0])
            conn.settimeout(TIMEOUT)
            h = hashlib.sha256()
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                h.update(b)
            conn.close()
            f.voidresp()
            print("PENDING", h.hexdigest(), flush=True)
        except (socket.timeout, TimeoutError):
            print("PENDING TIMEOUT", flush=True)
        except (ftplib.all_errors, OSError) as e:
            print("PENDING ERROR %s" % str(e).strip(), flush=True)
        f.close()
        return 0
    try:
        f.quit()
    except ftplib.all_errors:
        f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
