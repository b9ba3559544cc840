#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the seed corpora of engine_fuzz and engine_resegment_fuzz (their
input formats are documented in the targets). Usage: make_seeds.py OUTDIR
(writes OUTDIR/engine_fuzz/* and OUTDIR/engine_resegment_fuzz/*)."""
import os
import struct
import sys


def engine_session(mode, conn, lines_c, lines_s, split=None):
    """One control connection: handshake, then alternating lines."""
    out = bytearray([mode, 99, 99])
    cbit = conn << 7

    def pkt(from_client, f, payload=b""):
        op = cbit | (0x40 if from_client else 0)
        rec = bytearray([op, f])
        if len(payload) > 255:
            rec[1] |= 0x80
            rec += bytes([len(payload) // 64, len(payload) % 64])
        else:
            rec += bytes([len(payload)])
        return rec + payload

    out += pkt(True, 0x02 | 0x10)   # SYN
    out += pkt(False, 0x02)         # SYN-ACK
    out += pkt(True, 0x00)          # ACK
    for i in range(max(len(lines_c), len(lines_s))):
        if i < len(lines_s):
            out += pkt(False, 0x01, lines_s[i])
        if i < len(lines_c):
            line = lines_c[i]
            if split and i == split[0]:
                out += pkt(True, 0x01, line[:split[1]])
                out += pkt(True, 0x01, line[split[1]:])
            else:
                out += pkt(True, 0x01, line)
    out += pkt(True, 0x04 | 0x01)   # FIN
    out += pkt(False, 0x04 | 0x01)
    out += bytes([0x3e, 0xff, 0xff, 0x00])  # time passes, Expire
    return bytes(out)


def engine_seeds():
    s220 = [b"220 ready\r\n", b"331 ok\r\n", b"200 ok\r\n", b"200 ok\r\n"]
    yield "active_v4", engine_session(
        0, 0, [b"USER a\r\n", b"PORT 10,7,0,2,4,1\r\n", b"LIST\r\n"], s220)
    yield "active_split", engine_session(
        0, 0, [b"USER a\r\n", b"PORT 10,7,0,2,4,1\r\nLIST\r\n"], s220,
        split=(1, 9))
    yield "passive_2121", engine_session(
        16, 1, [b"USER a\r\n", b"PASV\r\n", b"EPSV\r\n"],
        [b"220 ready\r\n", b"331 ok\r\n",
         b"227 Entering Passive Mode (192,168,20,2,117,74).\r\n",
         b"229 Entering Extended Passive Mode (|||30001|)\r\n"])
    yield "eprt_v6", engine_session(
        8, 0, [b"USER a\r\n", b"EPRT |2|fd00:10::2|5282|\r\n", b"EPSV\r\n"],
        s220)
    yield "offline_lprt", engine_session(
        1, 0, [b"USER a\r\n", b"LPRT 4,4,10,7,0,2,2,4,1\r\n",
               b"port 10,7,0,2,4,2\n"], s220)
    yield "slipstream", engine_session(
        0, 0, [b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n",
               b"PORT 10,7,0,2,4,1\r\n"], [])
    yield "tls", engine_session(
        4, 0, [b"AUTH TLS\r\n", b"\x16\x03\x01\x00\x05PASV\r\n"],
        [b"220 ready\r\n", b"234 go\r\n", b"227 (198,51,100,2,4,1)\r\n"])


def reseg_seeds():
    # mode, c_isn byte, [s_isn byte], 3 prelude turns, then turns.
    plain = [0, 0, 0]
    turns = [(1,), (8,), (3, 10), (14, 16, 9), (2, 5, 6), (7, 11, 12), (17, 1)]

    def build(mode, isn, ops):
        out = bytearray([mode, isn])
        if mode & 4:
            out.append(7)
        out += bytes(ops) * 3  # prelude turns
        for t in turns:
            out.append(len(t) - 1)
            out += bytes(t)
            out += bytes(ops)  # client turn
            out += bytes(ops)  # server turn
        return bytes(out)

    yield "in_order", build(0, 0, [0])
    yield "bytewise", build(0, 3, [12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    yield "retransmit", build(0, 5, [4, 0x28, 3, 0, 40, 0x30])
    yield "reorder", build(0, 9, [4, 0x08, 0x0c, 5, 0x07])
    yield "wrap_offline", build(1 | 2 | 4, 20, [5, 0x18, 6, 5, 7, 3])
    yield "sack", build(2, 40, [3, 0x10, 5, 9])


def main():
    root = sys.argv[1]
    for target, gen in (("engine_fuzz", engine_seeds),
                        ("engine_resegment_fuzz", reseg_seeds)):
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        for name, data in gen():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
