#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Load generators for the e2e hardening cases (every loop and wait bounded).

  hardening.py server ADDR [--port 21] [--max N] [--seconds S]
      FTP-shaped fake server: greets "220 ok", answers "200 ok" to every
      line ("221 bye" to QUIT), holds up to N connections, exits after S s.
  hardening.py hold HOST --src IP --count N --ready F --go F [--seconds S]
      opens N control connections (waiting for each 220), touches READY,
      holds them until GO exists (or S s), prints "HELD n".
  hardening.py ports HOST --src IP --count N [--seconds S]
      one control connection, N PORT commands (one at a time, distinct
      ports), prints "PORTS sent=N ok=M" (M = "200" replies).
  hardening.py synflood DST --src IP --count N [--port 21]
      N (<= 64512) raw TCP SYNs from distinct source ports in random order,
      prints "SYNS sent=N".
"""
import argparse
import os
import random
import resource
import selectors
import socket
import struct
import sys
import time


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(max(hard, n), 1 << 20))
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        pass


def server(a):
    raise_fd_limit(a.max + 64)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    bufs = {}
    deadline = time.time() + a.seconds
    while time.time() < deadline:
        for key, _ in sel.select(timeout=0.5):
            if key.data is None:
                for _ in range(256):
                    try:
                        c, _ = ls.accept()
                    except (BlockingIOError, OSError):
                        break
                    if len(bufs) >= a.max:
                        c.close()
                        continue
                    c.setblocking(False)
                    try:
                        c.send(b"220 ok\r\n")
                    except OSError:
                        c.close()
                        continue
                    bufs[c] = b""
                    sel.register(c, selectors.EVENT_READ, "c")
                continue
            c = key.fileobj
            try:
                data = c.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(c)
                bufs.pop(c, None)
                c.close()
                continue
            buf = bufs[c] + data
            out = []
            while b"\n" in buf and len(out) < 10000:
                line, buf = buf.split(b"\n", 1)
                out.append(b"221 bye\r\n" if line.strip().upper() == b"QUIT"
                           else b"200 ok\r\n")
            bufs[c] = buf[-4096:]
            try:
                c.sendall(b"".join(out))
            except OSError:
                pass
    return 0


def hold(a):
    raise_fd_limit(a.count + 64)
    socks = []
    t0 = time.time()
    for _ in range(a.count):
        if time.time() - t0 > a.seconds:
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.bind((a.src, 0))
            s.connect((a.host, 21))
            if not s.recv(64).startswith(b"220"):
                s.close()
                continue
        except OSError:
            s.close()
            continue
        socks.append(s)
    print("HELD %d" % len(socks), flush=True)
    open(a.ready, "w").close()
    while not os.path.exists(a.go) and time.time() - t0 < a.seconds:
        time.sleep(0.1)
    for s in socks:
        s.close()
    return 0


def ports(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((a.src, 0))
    s.connect((a.host, 21))
    f = s.makefile("rb")
    f.readline()  # 220
    ip = a.src.replace(".", ",")
    ok = sent = 0
    t0 = time.time()
    try:
        for i in range(a.count):
            if time.time() - t0 > a.seconds:
                break
            port = 1024 + (i % 60000)
            s.sendall(b"PORT %s,%d,%d\r\n" % (ip.encode(), port >> 8, port & 255))
            sent += 1
            if f.readline().startswith(b"200"):
                ok += 1
        s.sendall(b"QUIT\r\n")
        f.readline()
    except OSError as e:
        print("ERROR %s" % e, flush=True)
    print("PORTS sent=%d ok=%d seconds=%.1f" % (sent, ok, time.time() - t0), flush=True)
    return 0


def pipeline(a):
    """Logs in, then sends --count PORT lines in ONE write (one segment), and
    counts the replies: a server that checks the PORT address against the
    peer (vsftpd) answers 200 only to rewritten lines."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    s.bind((a.src, 0))
    s.connect((a.host, 21))
    f = s.makefile("rb")
    if not f.readline().startswith(b"220"):
        print("ERROR no greeting", flush=True)
        return 1
    s.sendall(b"USER anonymous\r\n")
    while True:  # 230 (vsftpd: no password asked) or 331 then PASS
        line = f.readline()
        if not line or line[:4] in (b"230 ", b"331 ") or line[:1] in (b"4", b"5"):
            break
    if line.startswith(b"331"):
        s.sendall(b"PASS x@\r\n")
        line = f.readline()
    if not line.startswith(b"230"):
        print("ERROR login: %r" % line, flush=True)
        return 1
    ip = a.src.replace(".", ",").encode()
    batch = b"".join(b"PORT %s,%d,%d\r\n" % (ip, 40 + i // 256, i % 256)
                     for i in range(a.count))
    t0 = time.time()
    s.sendall(batch)
    codes = {}
    try:
        for _ in range(a.count):
            line = f.readline()
            if not line:
                break
            codes[line[:3]] = codes.get(line[:3], 0) + 1
            if not line.startswith(b"200"):
                print("REPLY %r" % line, flush=True)
        s.sendall(b"QUIT\r\n")
        f.readline()
    except OSError as e:
        print("ERROR %s" % e, flush=True)
    print("PIPELINE bytes=%d sent=%d ok=%d refused=%d seconds=%.1f" % (
        len(batch), a.count, codes.get(b"200", 0), sum(v for k, v in codes.items() if k != b"200"),
        time.time() - t0), flush=True)
    return 0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def synflood(a):
    src = socket.inet_aton(a.src)
    dst = socket.inet_aton(a.dst)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    rnd = random.Random(4)
    # Distinct source ports in random order (a reused port would be a
    # different connection to conntrack only by chance).
    sports = rnd.sample(range(1024, 65536), min(a.count, 65536 - 1024))
    sent = 0
    for i in range(len(sports)):
        sport = sports[i]
        seq = rnd.getrandbits(32)
        tcp = struct.pack("!HHIIBBHHH", sport, a.port, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        try:
            raw.sendto(ip + tcp, (a.dst, 0))
            sent += 1
        except OSError:
            time.sleep(0.001)
    print("SYNS sent=%d" % sent, flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("op", choices=["server", "hold", "ports", "pipeline", "synflood"])
    ap.add_argument("host")
    ap.add_argument("--port", type=int, default=21)
    ap.add_argument("--src")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--max", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--ready")
    ap.add_argument("--go")
    a = ap.parse_args()
    a.addr = a.dst = a.host
    return {"server": server, "hold": hold, "ports": ports, "pipeline": pipeline,
            "synflood": synflood}[a.op](a)


if __name__ == "__main__":
    sys.exit(main())
