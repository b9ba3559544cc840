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
    # mode, c_isn byte, [s_isn byte], [handshake script], 3 prelude turns,
    # then turns; with late duplicates (script header bit 5) one byte after
    # every turn.
    plain = [0, 0, 0]
    turns = [(1,), (8,), (3, 10), (14, 16, 9), (2, 5, 6), (7, 11, 12), (17, 1)]

    def build(mode, isn, ops, script=b"", late=None):
        out = bytearray([mode, isn])
        if mode & 4:
            out.append(7)
        if mode & 8:
            out += script
        n = [0]

        def turn():
            out.extend(ops)
            if late:
                out.append(late[n[0] % len(late)])
                n[0] += 1
        for _ in range(3):  # prelude turns
            turn()
        for t in turns:
            out.append(len(t) - 1)
            out += bytes(t)
            turn()  # client turn
            turn()  # server turn
        return bytes(out)

    def script(ops, tfo=None, late=False):
        """Handshake script: header (op count, Fast Open, late duplicates),
        [Fast Open length byte], ops (bytes; deltas included)."""
        count = sum(1 for o in ops if isinstance(o, int))
        head = count | (0x10 if tfo is not None else 0) | (0x20 if late else 0)
        out = bytearray([head])
        if tfo is not None:
            out.append(tfo)
        for o in ops:
            out += bytes([o]) if isinstance(o, int) else o
        return bytes(out)

    def delta(v):
        return struct.pack(">I", v % (1 << 32))

    # Carriage that reads exactly its bytes in every turn of two bytes or
    # more (so the turn menu and the late-duplicate bytes stay aligned): a
    # 1-byte piece, its duplicate, a pure ack (+SACK) at the turn start, the
    # rest in one segment. No reordering: the strict oracle applies.
    dup = [4, 0x00, 6, 5, 0x00, 7]

    yield "in_order", build(0, 0, [0])
    yield "bytewise", build(0, 3, [12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    yield "retransmit", build(0, 5, [4, 0x28, 3, 0, 40, 0x30])
    yield "reorder", build(0, 9, [4, 0x08, 0x0c, 5, 0x07])
    yield "wrap_offline", build(1 | 2 | 4, 20, [5, 0x18, 6, 5, 7, 3])
    yield "sack", build(2, 40, [3, 0x10, 5, 9])
    # Handshake scripts (ops: 0 SYN, 1 SYN-ACK, 2 ACK, 3 re-numbered SYN-ACK
    # + delta, 4 fresh connection + client and server deltas, 5 server SYN;
    # | 8 the variant; see Handshake in the target). Mode bit 3: a script
    # follows the ISN bytes.
    # SYN and SYN-ACK retransmitted, the client's ACK before and after a
    # duplicate SYN-ACK.
    yield "hs_retransmit", build(8, 11, dup, script([0, 1, 0, 1, 2, 1, 2]))
    # The capture of issue 11: SYN-ACK lost after the gateway, the client's
    # SYN retransmitted, a SYN-ACK 16124080 higher (delta 0 reads as that),
    # retransmitted once; then PORT lines that must be rewritten.
    # (RESEG_RENUMBER_SYNACK=0: the second SYN-ACK keeps the first ISN.)
    yield "hs_renumber_synack", build(8, 13, [0], script(
        [1, 3, delta(0), 7, 2]))
    # The same with the old SYN-ACK retransmitted first, twice re-numbered,
    # the second time across the wrap (server ISN 5000 -> 4000 ->
    # 0xfffffffa: the greeting crosses 2^32), offline, with duplicates.
    yield "hs_renumber_wrap", build(8 | 1, 17, dup, script(
        [1, 3 | 8, delta(-1000), 3, delta(0xfffffffa - 4000), 2]))
    # A fresh connection on the same tuple: once after a full handshake
    # (the client resets it first), once before any SYN-ACK (deltas 0: the
    # client's reads as 2^31, the server keeps its ISN).
    yield "hs_fresh_tuple", build(8 | 2, 21, dup, script(
        [1, 2, 4 | 8, delta(0x01000000), delta(0x12345678), 4, delta(0),
         delta(0), 1, 0, 2]))
    # Server Fast Open: the whole greeting on the SYN-ACK, retransmitted
    # after the client's ACK (with the data again only with RESEG_TFO_RETX=1);
    # and part of it ("220 r"), with stale duplicates of the handshake
    # between turns (2 SYN-ACK, 3 ACK, 0 none).
    yield "hs_tfo", build(8, 23, [0], script([1, 2, 1], tfo=10))
    yield "hs_tfo_partial", build(8, 25, dup, script([1, 2, 2], tfo=4, late=True),
                                  late=[2, 3, 0])
    # Simultaneous open: the server's SYN crosses the client's; the
    # client's SYN-ACK, a duplicate SYN, then the server's SYN-ACK.
    yield "hs_simultaneous", build(8, 27, [0], script([5, 2, 0, 1]))
    # Stale duplicates of SYN, SYN-ACK and the client's ACK between turns
    # (the SYN after client data not with RESEG_STALE_SYN=0).
    yield "hs_late_dups", build(8, 29, [0], script([1, 2], late=True),
                                late=[1, 2, 3, 0])


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
