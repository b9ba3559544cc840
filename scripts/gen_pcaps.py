#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Builds the synthetic FTP captures in pcaps/synthetic/ (and their .args sidecars).

    /usr/bin/python3 scripts/gen_pcaps.py [--out DIR]     write the captures
    /usr/bin/python3 scripts/gen_pcaps.py --check DIR     regenerate into a temporary
                                                          directory and compare byte for byte

Deterministic: fixed base time, MACs, ISNs and IP ids; the pcap files are written
by this script (not by scapy's writer). Every session is a realistic TCP exchange:
SYN / SYN-ACK / ACK, the server's 220 greeting first, ACKs with correct numbers, FIN.
Addresses: clients 10.7.0.2 / 192.168.10.2 / fd00:10::2, servers 192.168.20.2 /
10.20.0.2 / fd00:20::2; public 203.0.113.1 and 2001:db8:1::1 (given in the .args).
"""
import argparse
import filecmp
import os
import struct
import sys
import tempfile

from scapy.all import IP, IPv6, IPv6ExtHdrDestOpt, TCP, Ether, Dot1Q, Raw, raw  # noqa

BASE_TIME = 1700000000          # 2023-11-14T22:13:20Z
STEP_US = 1000                  # 1 ms between records
MAC_CLIENT = "02:00:00:00:00:01"
MAC_SERVER = "02:00:00:00:00:02"
ARGS = "--public-ip 203.0.113.1 --public-ip 2001:db8:1::1\n"
# Replay flags some cases need beyond ARGS (appended to their .args).
EXTRA_ARGS = {
    # the control conntrack the daemon would read: DNAT to the server, SNAT to the gateway
    "hairpin_227": "--conntrack 192.168.10.2:40300,203.0.113.1:21,192.168.20.2:21,192.168.20.1:40300\n",
}

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

C4, C4B, S4, S4B = "10.7.0.2", "192.168.10.2", "192.168.20.2", "10.20.0.2"
C6, S6 = "fd00:10::2", "fd00:20::2"


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


class Capture:
    """Records with a fixed clock; link layer chosen per capture."""

    def __init__(self, link="eth", vlans=(), nano=False):
        self.link, self.vlans, self.nano = link, vlans, nano
        self.records, self.t_us = [], 0

    def add(self, ip_pkt, from_client):
        src, dst = (MAC_CLIENT, MAC_SERVER) if from_client else (MAC_SERVER, MAC_CLIENT)
        l3 = raw(ip_pkt)
        ethertype = 0x86DD if isinstance(ip_pkt, IPv6) else 0x0800
        if self.link == "eth":
            frame = Ether(src=src, dst=dst)
            for i, vid in enumerate(self.vlans):
                frame = frame / Dot1Q(vlan=vid)
            frame = raw(frame / ip_pkt)
            if self.vlans:   # outer tag 802.1ad (QinQ)
                frame = frame[:12] + b"\x88\xa8" + frame[14:]
        elif self.link == "sll":
            pkttype = 4 if from_client else 0
            frame = struct.pack(">HHH8sH", pkttype, 1, 6, mac_bytes(src) + b"\0\0", ethertype) + l3
        elif self.link == "sll2":
            pkttype = 4 if from_client else 0
            frame = struct.pack(">HHIHBB8s", ethertype, 0, 2, 1, pkttype, 6,
                                mac_bytes(src) + b"\0\0") + l3
        else:
            raise ValueError(self.link)
        self.t_us += STEP_US
        self.records.append((self.t_us, frame))

    def wait(self, us):
        """Time passes with nothing on the wire (a retransmission timeout)."""
        self.t_us += us

    def linktype(self):
        return {"eth": LINKTYPE_ETHERNET, "sll": LINKTYPE_LINUX_SLL,
                "sll2": LINKTYPE_LINUX_SLL2}[self.link]

    def bytes(self):
        magic = 0xA1B23C4D if self.nano else 0xA1B2C3D4
        out = [struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, self.linktype())]
        for t_us, frame in self.records:
            sec = BASE_TIME + t_us // 1000000
            sub = (t_us % 1000000) * (1000 if self.nano else 1)
            out.append(struct.pack("<IIII", sec, sub, len(frame), len(frame)))
            out.append(frame)
        return b"".join(out)


class Tcp:
    """One TCP connection; tracks both sides' next sequence numbers."""

    def __init__(self, cap, cli, srv, cport, sport=21, cisn=1000000, sisn=5000000,
                 ext_header=False):
        self.cap, self.cli, self.srv, self.cport, self.sport = cap, cli, srv, cport, sport
        self.v6 = ":" in cli
        self.c_next, self.s_next = cisn, sisn
        self.ext_header = ext_header
        self.ip_id = 100

    def pkt(self, from_client, flags, seq, ack, payload=b"", options=None):
        src, dst = (self.cli, self.srv) if from_client else (self.srv, self.cli)
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        tcp = TCP(sport=sp, dport=dp, flags=flags, seq=seq & 0xFFFFFFFF,
                  ack=ack & 0xFFFFFFFF, window=64240, options=options or [])
        if self.v6:
            l3 = IPv6(src=src, dst=dst, hlim=64)
            if self.ext_header:
                l3 = l3 / IPv6ExtHdrDestOpt()
        else:
            self.ip_id += 1
            l3 = IP(src=src, dst=dst, ttl=64, id=self.ip_id, flags="DF")
        p = l3 / tcp
        if payload:
            p = p / Raw(payload)
        self.cap.add(p, from_client)

    def handshake(self):
        self.pkt(True, "S", self.c_next, 0, options=[("MSS", 1460)])
        self.pkt(False, "SA", self.s_next, self.c_next + 1, options=[("MSS", 1460)])
        self.c_next += 1
        self.s_next += 1
        self.pkt(True, "A", self.c_next, self.s_next)

    def c(self, data, ack=True):
        """Client sends data (one segment); the server ACKs it unless ack=False."""
        self.pkt(True, "PA", self.c_next, self.s_next, data)
        self.c_next += len(data)
        if ack:
            self.pkt(False, "A", self.s_next, self.c_next)

    def s(self, data, ack=True):
        self.pkt(False, "PA", self.s_next, self.c_next, data)
        self.s_next += len(data)
        if ack:
            self.pkt(True, "A", self.c_next, self.s_next)

    def ack_c(self, options=None):
        """Server ACKs everything the client sent."""
        self.pkt(False, "A", self.s_next, self.c_next, options=options)

    def ack_s(self):
        self.pkt(True, "A", self.c_next, self.s_next)

    def login(self, greeting=b"220 (vsFTPd 3.0.3)\r\n"):
        """Greeting (unless b"": already sent), USER, PASS."""
        if greeting:
            self.s(greeting)
        self.c(b"USER anonymous\r\n")
        self.s(b"331 Please specify the password.\r\n")
        self.c(b"PASS guest@\r\n")
        self.s(b"230 Login successful.\r\n")

    def close(self):
        self.c(b"QUIT\r\n")
        self.s(b"221 Goodbye.\r\n")
        self.pkt(False, "FA", self.s_next, self.c_next)
        self.s_next += 1
        self.pkt(True, "FA", self.c_next, self.s_next)
        self.c_next += 1
        self.pkt(False, "A", self.s_next, self.c_next)


def ftp(cap, cli=C4, srv=S4, cport=40000, **kw):
    t = Tcp(cap, cli, srv, cport, **kw)
    t.handshake()
    t.login()
    return t


def port_text(addr, port):
    return ",".join(addr.split(".")) + ",%d,%d" % (port >> 8, port & 255)


def active_list(t, cmd):
    t.c(cmd)
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n")
    t.s(b"226 Directory send OK.\r\n")


def passive(t, req, reply):
    t.c(req)
    t.s(reply)


# ---------------------------------------------------------------- cases

def port_basic(cap):
    t = ftp(cap)
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    # the data connection itself: not a control connection, passes untouched
    d = Tcp(cap, S4, C4, 20, sport=50000, cisn=7000000, sisn=8000000)
    d.handshake()
    d.c(b"-rw-r--r-- 1 ftp ftp 42 Nov 14 22:13 readme.txt\r\n")
    t.close()


def port_shrink(cap):
    t = ftp(cap, cli=C4B)
    active_list(t, b"PORT 192,168,10,2,195,80\r\n")
    t.close()


def port_lowercase(cap):
    t = ftp(cap)
    active_list(t, b"port 10,7,0,2,195,80\r\n")
    t.close()


def port_two_rewrites(cap):
    t = ftp(cap)
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    active_list(t, b"PORT 10,7,0,2,195,81\r\n")
    t.close()


def port_pipelined_list(cap):
    t = ftp(cap)
    t.c(b"PORT 10,7,0,2,195,80\r\nLIST\r\n")
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.s(b"150 Here comes the directory listing.\r\n")
    t.s(b"226 Directory send OK.\r\n")
    t.close()


def port_type_same_segment(cap):
    t = ftp(cap)
    t.c(b"TYPE I\r\nPORT 10,7,0,2,195,80\r\n")
    t.s(b"200 Switching to Binary mode.\r\n200 PORT command successful.\r\n")
    t.c(b"RETR file.bin\r\n")
    t.s(b"150 Opening BINARY mode data connection.\r\n")
    t.s(b"226 Transfer complete.\r\n")
    t.close()


def port_split_two(cap):
    t = ftp(cap)
    t.c(b"PORT 10,7,0,", ack=False)
    t.c(b"2,195,80\r\n")
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def port_one_byte_segments(cap):
    t = ftp(cap)
    for b in b"PORT 10,7,0,2,195,80\r\n":
        t.c(bytes([b]))
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def eprt_v4(cap):
    t = ftp(cap)
    active_list(t, b"EPRT |1|10.7.0.2|50000|\r\n")
    t.close()


def eprt_v6_forms(cap):
    t = ftp(cap, cli=C6, srv=S6, cport=40000)
    active_list(t, b"EPRT |2|fd00:10::2|50000|\r\n")
    t.close()
    t = ftp(cap, cli=C6, srv=S6, cport=40001, cisn=2000000, sisn=6000000)
    active_list(t, b"EPRT |2|fd00:0010:0000:0000:0000:0000:0000:0002|50001|\r\n")
    t.close()
    t = ftp(cap, cli=C6, srv=S6, cport=40002, cisn=3000000, sisn=7000000)
    active_list(t, b"EPRT |2|::ffff:10.7.0.2|50002|\r\n")
    t.close()
    # v4-mapped form of the sender's own address on an IPv4 control connection
    t = ftp(cap, cli=C4, srv=S4, cport=40003, cisn=4000000, sisn=8000000)
    active_list(t, b"EPRT |2|::ffff:10.7.0.2|50003|\r\n")
    t.close()


def pasv_227_forms(cap):
    t = ftp(cap)
    for reply in (b"227 Entering Passive Mode (192,168,20,2,195,81).\r\n",
                  b"227 Entering Passive Mode (192,168,20,2,195,82)\r\n",
                  b"227 Entering Passive Mode 192,168,20,2,195,83\r\n",
                  b"227 =192,168,20,2,195,84\r\n",
                  b"227 192,168,20,2,195,85\r\n",
                  b"227 entering passive mode (192,168,20,2,195,87).\r\n"):
        passive(t, b"PASV\r\n", reply)
        t.c(b"LIST\r\n")
        t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def pasv_227_multiline(cap):
    t = ftp(cap)
    passive(t, b"PASV\r\n",
            b"227-Passive mode on\r\n227 Entering Passive Mode (192,168,20,2,195,81)\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def epsv_229(cap):
    t = ftp(cap)
    passive(t, b"EPSV\r\n", b"229 Entering Extended Passive Mode (|||50001|)\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    passive(t, b"EPSV\r\n", b"229 Extended Passive mode OK (!!!50002!)\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def passive_crossed(cap):
    t = ftp(cap)
    passive(t, b"EPSV\r\n", b"227 Entering Passive Mode (192,168,20,2,195,81).\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    passive(t, b"PASV\r\n", b"229 Entering Extended Passive Mode (|||50002|)\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def unsolicited_227(cap):
    t = ftp(cap)
    t.c(b"NOOP\r\n")
    t.s(b"227 Entering Passive Mode (192,168,20,2,195,81).\r\n")
    t.close()


def port_bounce(cap):
    t = ftp(cap)
    active_list(t, b"PORT 192,168,30,9,195,80\r\n")
    active_list(t, b"PORT 203,0,113,77,0,80\r\n")
    t.close()


def port_low_port(cap):
    t = ftp(cap)
    active_list(t, b"PORT 10,7,0,2,0,22\r\n")
    t.close()


def port_octet_overflow(cap):
    t = ftp(cap)
    t.c(b"PORT 10,7,0,258,195,80\r\n")
    t.s(b"501 Illegal PORT command.\r\n")
    t.c(b"PORT 10,7,0,2,256,80\r\n")
    t.s(b"501 Illegal PORT command.\r\n")
    t.c(b"PORT 10,7,0,0002,195,80\r\n")
    t.s(b"501 Illegal PORT command.\r\n")
    t.close()


def reply_227_logout(cap):
    t = ftp(cap)
    passive(t, b"PASV\r\n", b"227 Logout.\r\n")
    t.close()


def overlong_line(cap):
    t = ftp(cap)
    t.c(b"STOR " + b"X" * 2000 + b"\r\n")
    t.s(b"500 Command too long.\r\n")
    active_list(t, b"PORT 10,7,0,2,195,81\r\n")
    t.close()


def auth_tls_binary(cap):
    t = ftp(cap)
    t.c(b"AUTH TLS\r\n")
    t.s(b"234 Proceed with negotiation.\r\n")
    # "TLS records" whose bytes happen to contain FTP-looking lines
    t.c(b"\x16\x03\x01\x00\x40" + bytes(range(0x20, 0x40)) +
        b"\r\nPORT 10,7,0,2,195,80\r\n" + b"\x00\xff" * 8)
    t.s(b"\x16\x03\x03\x00\x50" + b"\x8a\x00" * 6 +
        b"\r\n227 Entering Passive Mode (10,7,0,2,195,81)\r\n" +
        b"\r\n227 Entering Passive Mode (192,168,20,2,195,82)\r\n" + b"\x01\x02" * 8)
    t.c(b"\x17\x03\x03\x00\x20PASV\r\n" + b"\x9c" * 16)
    t.s(b"\x17\x03\x03\x00\x30227 Entering Passive Mode (192,168,20,2,195,83)\r\n")
    t.pkt(True, "FA", t.c_next, t.s_next)
    t.c_next += 1
    t.pkt(False, "FA", t.s_next, t.c_next)
    t.s_next += 1
    t.pkt(True, "A", t.c_next, t.s_next)


def tls_record(ctype, body, minor=3):
    """One TLS record: 5-byte header (type, version 3.minor, length) + body."""
    return bytes([ctype, 3, minor]) + struct.pack(">H", len(body)) + body


def opaque(n, seed):
    """n deterministic pseudo-random bytes (stand-in for ciphertext)."""
    out, x = bytearray(), seed & 0xFFFFFFFF
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


def tls_handshake(t, client_version_minor=1):
    """AUTH TLS, 234, then a handshake in fake records: a header split across
    segments, a record spanning three segments."""
    t.c(b"AUTH TLS\r\n")
    t.s(b"234 AUTH TLS successful\r\n")
    t.c(tls_record(22, opaque(250, 1), minor=client_version_minor))
    hello = tls_record(22, opaque(90, 2)) + tls_record(20, b"\x01")
    big = tls_record(23, opaque(2500, 3))
    t.s(hello + big[:3])                 # record header split 3 + 2
    t.s(big[3:1400])
    t.s(big[1400:])
    t.c(tls_record(20, b"\x01") + tls_record(23, opaque(53, 4)))


def ccc_clear_after_tls(cap):
    # 1: client and server both send close_notify, then cleartext.
    t = Tcp(cap, C4, S4, 40000)
    t.handshake()
    t.s(b"220 ProFTPD Server (ftpalg lab)\r\n")
    tls_handshake(t)
    # Ciphertext that happens to hold FTP lines: never parsed, never rewritten.
    t.c(tls_record(23, b"USER anonymous\r\nPORT 10,7,0,2,195,80\r\n" + opaque(17, 5)))
    t.s(tls_record(23, b"\r\n227 Entering Passive Mode (192,168,20,2,195,82)\r\n" + opaque(9, 6)))
    t.c(tls_record(23, b"PASV\r\n" + opaque(16, 7)))
    t.s(tls_record(23, b"227 Entering Passive Mode (192,168,20,2,195,83)\r\n"))
    t.c(tls_record(23, b"CCC\r\n" + opaque(17, 8)))
    t.s(tls_record(23, b"200 Clearing control channel protection\r\n" + opaque(17, 9)))
    t.s(tls_record(21, opaque(26, 10)))               # server's close_notify
    t.c(tls_record(21, opaque(26, 11)) + b"PASV\r\n")  # client's, and cleartext PASV
    t.s(b"227 Entering Passive Mode (192,168,20,2,195,84).\r\n")
    t.c(b"TYPE I\r\n")
    t.s(b"200 Type set to I\r\n")
    t.c(b"PORT 10,7,0,2,195,85\r\n")
    t.s(b"200 PORT command successful\r\n")
    t.c(b"EPSV\r\n")
    t.s(b"229 Entering Extended Passive Mode (|||50006|)\r\n")
    t.close()
    # 2: no close_notify from the server (straight to cleartext), a TLS 1.3
    # style close_notify (an application_data record) from the client, and the
    # server's 227 split right after its first bytes.
    t = Tcp(cap, C4, S4, 40001)
    t.handshake()
    t.s(b"220 ProFTPD Server (ftpalg lab)\r\n")
    tls_handshake(t, client_version_minor=3)
    t.c(tls_record(23, opaque(22, 12)))               # CCC
    t.s(tls_record(23, opaque(57, 13)))               # 200
    t.c(tls_record(23, opaque(19, 14)))               # close_notify (TLS 1.3)
    t.c(b"PASV\r\n")
    t.s(b"22")                                        # first cleartext bytes: held
    t.s(b"7 Entering Passive Mode (192,168,20,2,195,86)\r\n")  # back, then rewritten
    t.c(b"EPRT |1|10.7.0.2|50010|\r\n")
    t.s(b"200 EPRT command successful\r\n")
    t.c(b"PASV\r\n")
    t.s(b"227 Entering Passive Mode (192,168,20,2,195,87)\r\n")
    t.close()


def ccc_tls_forever(cap):
    """TLS that never leaves TLS (TLS 1.3: every record application_data),
    records whose bytes look like FTP lines, a record header at a segment's
    end: nothing is ever parsed again, nothing rewritten."""
    t = Tcp(cap, C4, S4, 40000)
    t.handshake()
    t.s(b"220 ProFTPD Server (ftpalg lab)\r\n")
    tls_handshake(t)
    for k in range(6):
        t.c(tls_record(23, b"PORT 10,7,0,2,195,%d\r\n" % (90 + k) + opaque(11 + k, 20 + k)))
        rec = tls_record(23, b"227 Entering Passive Mode (192,168,20,2,195,%d)\r\n" % (90 + k))
        t.s(rec + tls_record(23, opaque(30, 30 + k))[:4])
        t.s(tls_record(23, opaque(30, 30 + k))[4:])
    # after a complete record, bytes that are neither a record nor an FTP line
    t.c(tls_record(21, opaque(26, 40)) + b"\x00\x01PORT 10,7,0,2,195,99\r\n")
    t.s(tls_record(23, opaque(40, 41)) + b"\xff\xfe227 (192,168,20,2,195,99)\r\n")
    t.pkt(True, "FA", t.c_next, t.s_next)
    t.c_next += 1
    t.pkt(False, "FA", t.s_next, t.c_next)
    t.s_next += 1
    t.pkt(True, "A", t.c_next, t.s_next)


def seq_wrap(cap):
    t = Tcp(cap, C4, S4, 40000, cisn=0xFFFFFFFF - 50, sisn=0xFFFFFFFF - 40)
    t.handshake()
    t.login(greeting=b"220 ready\r\n")                # server stream wraps in 331
    t.c(b"TYPE I\r\n")
    t.s(b"200 Switching to Binary mode.\r\n")
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")     # client stream wraps here
    active_list(t, b"PORT 10,7,0,2,195,81\r\n")
    t.close()


def retransmit_rewritten(cap):
    t = ftp(cap)
    t.c(b"PORT 10,7,0,2,195,80\r\n", ack=False)
    t.c_next -= len(b"PORT 10,7,0,2,195,80\r\n")   # timeout: same segment again
    t.c(b"PORT 10,7,0,2,195,80\r\n")
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def retransmit_repacketized(cap):
    t = ftp(cap)
    t.c(b"PORT 10,7,0,2,195,80\r\n", ack=False)
    t.c(b"LIST\r\n", ack=False)
    # both lost beyond the gateway: the retransmission coalesces them
    t.c_next -= len(b"PORT 10,7,0,2,195,80\r\nLIST\r\n")
    t.c(b"PORT 10,7,0,2,195,80\r\nLIST\r\n")
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    # and a retransmission that starts in the middle of the rewritten line
    t.c(b"PORT 10,7,0,2,195,81\r\n", ack=False)
    t.c_next -= len(b"0,2,195,81\r\n")
    t.pkt(True, "PA", t.c_next, t.s_next, b"0,2,195,81\r\n")
    t.c_next += len(b"0,2,195,81\r\n")
    t.ack_c()
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.close()


def sack_after_rewrite(cap):
    t = ftp(cap)
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    a0 = t.c_next
    t.c(b"NOOP\r\n", ack=False)
    b0 = t.c_next
    t.c(b"SYST\r\n", ack=False)
    c0 = t.c_next
    t.c(b"STAT\r\n", ack=False)
    c1 = t.c_next
    # SYST lost after the gateway: ACK up to NOOP, SACK the STAT
    t.pkt(False, "A", t.s_next, b0, options=[("SAck", (c0, c1))])
    t.pkt(True, "PA", b0, t.s_next, b"SYST\r\n")       # retransmission
    t.ack_c()
    t.s(b"200 NOOP ok.\r\n215 UNIX Type: L8\r\n211 FTP server status.\r\n")
    # spurious retransmission of the STAT: D-SACK below the ACK
    t.pkt(True, "PA", c0, t.s_next, b"STAT\r\n")
    t.pkt(False, "A", t.s_next, t.c_next, options=[("SAck", (c0, c1))])
    # SACK for a block that spans the earlier rewrite
    t.pkt(False, "A", t.s_next, t.c_next, options=[("SAck", (a0 - 30, a0))])
    t.close()


def reordering(cap):
    t = ftp(cap)
    port = b"PORT 10,7,0,2,195,80\r\n"
    p0 = t.c_next
    # LIST (sent second) reaches the gateway first
    t.pkt(True, "PA", p0 + len(port), t.s_next, b"LIST\r\n")
    t.pkt(False, "A", t.s_next, p0, options=[("SAck", (p0 + len(port), p0 + len(port) + 6))])
    t.pkt(True, "PA", p0, t.s_next, port)
    t.c_next = p0 + len(port) + 6
    t.ack_c()
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def slipstream_http(cap):
    t = Tcp(cap, C4, S4, 40000)
    t.handshake()
    head = (b"POST /upload HTTP/1.1\r\nHost: 192.168.20.2:21\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 1500\r\n\r\n")
    body1 = head + b"A" * (1400 - len(head))
    t.c(body1, ack=False)
    t.c(b"PORT 10,7,0,2,13,236\r\n" + b"B" * 78)
    t.s(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    t.pkt(False, "FA", t.s_next, t.c_next)
    t.s_next += 1
    t.pkt(True, "FA", t.c_next, t.s_next)
    t.c_next += 1
    t.pkt(False, "A", t.s_next, t.c_next)


def midstream_pickup(cap):
    t = Tcp(cap, C4, S4, 40000, cisn=1234567, sisn=7654321)
    t.c(b"NOOP\r\n")
    t.s(b"200 NOOP ok.\r\n")
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    passive(t, b"PASV\r\n", b"227 Entering Passive Mode (192,168,20,2,195,81).\r\n")
    t.close()


def ipv6_ext_header(cap):
    t = ftp(cap, cli=C6, srv=S6, ext_header=True)
    active_list(t, b"EPRT |2|fd00:10::2|50000|\r\n")
    passive(t, b"EPSV\r\n", b"229 Entering Extended Passive Mode (|||50001|)\r\n")
    t.close()


def port_basic_variant(cap):
    t = ftp(cap)
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    passive(t, b"PASV\r\n", b"227 Entering Passive Mode (192,168,20,2,195,81).\r\n")
    t.close()


def server_10_20(cap):
    """Second server address: 10.20.0.2 answering PASV, client 192.168.10.2."""
    t = ftp(cap, cli=C4B, srv=S4B)
    passive(t, b"PASV\r\n", b"227 Entering Passive Mode (10,20,0,2,195,81).\r\n")
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()



def hairpin_227(cap):
    """Hairpin NAT (docs/operating.md) as the gateway's raw PREROUTING sees it (where
    ftpalgd's queue is): the inside client 192.168.10.2 dials the public address
    203.0.113.1:21 of the port-forwarded inside server 192.168.20.2 (before DNAT);
    the server's replies come from its private address to the hairpin SNAT address
    192.168.20.1 (before de-NAT), their 227 carrying the private address. The
    .args declare the control conntrack (--conntrack), which the daemon reads from
    the kernel. The data connection (client to the public address) passes untouched."""
    t = Tcp(cap, C4B, "203.0.113.1", 40300)
    # the server's half as raw PREROUTING sees it: the REPLY tuple
    reply = Tcp(cap, "192.168.20.1", S4, 40300)

    def from_server(flags, payload=b""):
        reply.pkt(False, flags, t.s_next, t.c_next, payload)
        t.s_next += len(payload) + (1 if "S" in flags or "F" in flags else 0)

    t.pkt(True, "S", t.c_next, 0)
    t.c_next += 1
    from_server("SA")
    t.pkt(True, "A", t.c_next, t.s_next)

    def c(data):
        t.pkt(True, "PA", t.c_next, t.s_next, data)
        t.c_next += len(data)

    def s(data):
        from_server("PA", data)
        t.pkt(True, "A", t.c_next, t.s_next)

    s(b"220 (vsFTPd 3.0.3)\r\n")
    c(b"USER anonymous\r\n")
    s(b"331 Please specify the password.\r\n")
    c(b"PASS guest@\r\n")
    s(b"230 Login successful.\r\n")
    c(b"PASV\r\n")
    s(b"227 Entering Passive Mode (192,168,20,2,195,81).\r\n")
    c(b"RETR readme.txt\r\n")
    d = Tcp(cap, C4B, "203.0.113.1", 51000, sport=50001, cisn=7000000, sisn=8000000)
    d.pkt(True, "S", d.c_next, 0)
    s(b"150 Opening BINARY mode data connection.\r\n226 Transfer complete.\r\n")
    c(b"QUIT\r\n")
    s(b"221 Goodbye.\r\n")
    from_server("FA")
    t.pkt(True, "FA", t.c_next, t.s_next)
    t.c_next += 1
    from_server("A")


# ---------------------------------------------------------------- impaired networks
# Captures as seen at the gateway (issue 11): "lost before the gateway" means the
# segment is absent from the capture (only its retransmission appears); "lost after
# the gateway" means it appears twice (original and retransmission).

RTO_US = 200000                 # a retransmission timeout after the handshake
SYN_RTO_US = 1000000            # the initial (SYN) retransmission timeout


def sack_blocks(rcv_next, ranges, latest):
    """SACK blocks for the out-of-order ranges above rcv_next, as a receiver sends
    them (RFC 2018): the block holding the latest segment first, then the others
    from the highest down; at most 3."""
    merged = []
    for lo, hi in sorted(ranges):
        if hi <= rcv_next:
            continue
        lo = max(lo, rcv_next)
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    first = [b for b in merged if b[0] <= latest[0] and latest[1] <= b[1]]
    rest = [b for b in reversed(merged) if b not in first]
    blocks = [tuple(b) for b in first + rest][:3]
    return [("SAck", tuple(x for b in blocks for x in b))] if blocks else None


def deliver(t, from_client, pieces, order, gaps_us=()):
    """Segments `pieces` (consecutive in sequence) sent by one side arrive at the
    gateway in `order` (indices into pieces; each index once, every hole filled by
    the end). The receiver acks every arrival: cumulative ack plus SACK blocks."""
    base = t.c_next if from_client else t.s_next
    offs, o = [], base
    for p in pieces:
        offs.append(o)
        o += len(p)
    got, rcv = [], base
    for n, i in enumerate(order):
        if n < len(gaps_us) and gaps_us[n]:
            t.cap.wait(gaps_us[n])
        seq, data = offs[i], pieces[i]
        if from_client:
            t.pkt(True, "PA", seq, t.s_next, data)
        else:
            t.pkt(False, "PA", seq, t.c_next, data)
        got.append((seq, seq + len(data)))
        while True:   # advance the cumulative ack over every range now contiguous
            ext = [hi for lo, hi in got if lo <= rcv < hi]
            if not ext:
                break
            rcv = max(ext)
        opts = sack_blocks(rcv, got, (seq, seq + len(data)))
        if from_client:
            t.pkt(False, "A", t.s_next, rcv, options=opts)
        else:
            t.pkt(True, "A", t.c_next, rcv, options=opts)
    assert rcv == o, "deliver(): a hole was left open"
    if from_client:
        t.c_next = o
    else:
        t.s_next = o


def synack_new_isn(cap):
    """The server's SYN-ACK is lost after the gateway; the client retransmits its SYN
    (same ISN) 1 s later and the server answers with a SYN-ACK carrying a new ISN."""
    t = Tcp(cap, C4, S4, 40000)
    s1 = t.s_next
    t.pkt(True, "S", t.c_next, 0, options=[("MSS", 1460)])
    t.pkt(False, "SA", s1, t.c_next + 1, options=[("MSS", 1460)])
    cap.wait(SYN_RTO_US)
    t.pkt(True, "S", t.c_next, 0, options=[("MSS", 1460)])
    s2 = s1 + 16124080
    t.pkt(False, "SA", s2, t.c_next + 1, options=[("MSS", 1460)])
    t.c_next += 1
    t.s_next = s2 + 1
    t.ack_s()
    t.login()
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    t.close()


FEAT_LINES = [b"211-Features:\r\n", b" EPRT\r\n", b" EPSV\r\n", b" MDTM\r\n", b" PASV\r\n",
              b" REST STREAM\r\n", b" SIZE\r\n", b" TVFS\r\n", b" UTF8\r\n", b" LANG EN\r\n",
              b" MLST type*;size*;modify*;\r\n", b"211 End\r\n"]


def reorder_feat_then_port(cap):
    """FEAT answered by a 12-segment 211 reply that reaches the gateway shuffled (several
    segments beyond each hole), then PORT, then PASV answered by a 227 in three reordered
    segments; a second connection has only the reordered 227 (judged on its own)."""
    t = ftp(cap)
    t.c(b"FEAT\r\n")
    deliver(t, False, FEAT_LINES, [0, 2, 3, 1, 5, 7, 6, 4, 8, 11, 9, 10])
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    t.c(b"PASV\r\n")
    deliver(t, False, [b"227 Entering Pas", b"sive Mode (192,168,",
                       b"20,2,195,81).\r\n"], [1, 2, 0])
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()
    t = ftp(cap, cport=40001, cisn=2000000, sisn=6000000)
    t.c(b"PASV\r\n")
    deliver(t, False, [b"227 Entering Pas", b"sive Mode (192,168,",
                       b"20,2,195,82).\r\n"], [1, 2, 0])
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def loss_retransmit(cap):
    """Three connections. 1: loss before the gateway in the server's direction (the first
    of 4 segments of a HELP reply absent, the 3 others beyond the hole, then its
    retransmission), then a PORT. 2: loss before the gateway in the client's direction
    (TYPE I of a pipelined TYPE I / PORT / LIST burst absent, PORT and LIST beyond the
    hole, then TYPE I retransmitted). 3: loss after the gateway (TYPE A seen twice, the
    PORT behind it SACKed by the server; the server's 200 seen twice)."""
    t = ftp(cap)
    t.c(b"HELP\r\n")
    helps = [b"214-The following commands are recognized.\r\n",
             b" ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD\r\n",
             b" MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR\r\n",
             b"214 Help OK.\r\n"]
    deliver(t, False, helps, [1, 2, 3, 0], gaps_us=(0, 0, 0, RTO_US))
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    t.close()
    t = ftp(cap, cport=40001, cisn=2000000, sisn=6000000)
    deliver(t, True, [b"TYPE I\r\n", b"PORT 10,7,0,2,195,81\r\n", b"LIST\r\n"],
            [1, 2, 0], gaps_us=(0, 0, RTO_US))
    t.s(b"200 Switching to Binary mode.\r\n")
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()
    t = ftp(cap, cport=40002, cisn=3000000, sisn=7000000)
    ta = t.c_next
    t.c(b"TYPE A\r\n", ack=False)
    pa = t.c_next
    t.c(b"PORT 10,7,0,2,195,82\r\n", ack=False)
    t.pkt(False, "A", t.s_next, ta, options=[("SAck", (pa, t.c_next))])
    cap.wait(RTO_US)
    t.pkt(True, "PA", ta, t.s_next, b"TYPE A\r\n")
    t.ack_c()
    t.s(b"200 Switching to ASCII mode.\r\n")
    r = b"200 PORT command successful. Consider using PASV.\r\n"
    t.s(r, ack=False)
    cap.wait(RTO_US)
    t.pkt(False, "PA", t.s_next - len(r), t.c_next, r)
    t.ack_s()
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def port_50_one_segment(cap):
    """50 pipelined PORT lines in one client segment (distinct ports), the server's 50
    replies (the first alone, the rest coalesced into full-sized segments)."""
    t = ftp(cap)
    lines = b"".join(b"PORT " + port_text(C4, 50000 + i).encode() + b"\r\n" for i in range(50))
    t.c(lines)
    r = b"200 PORT command successful. Consider using PASV.\r\n"
    t.s(r, ack=False)
    rest = r * 49
    while rest:
        t.s(rest[:1460], ack=False)
        rest = rest[1460:]
    t.ack_s()
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
    t.close()


def port_reuse_new_isn(cap):
    """A session closes (FIN/FIN; the server holds TIME_WAIT); 5 s later a new SYN on the
    same 4-tuple with a new, higher ISN opens a second full session with a PORT."""
    t = ftp(cap)
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    active_list(t, b"PORT 10,7,0,2,195,81\r\n")
    t.close()
    cap.wait(5000000)
    t = ftp(cap, cisn=3000000, sisn=9000000)
    active_list(t, b"PORT 10,7,0,2,195,90\r\n")
    t.close()


def stale_before_synack(cap):
    """Connection 1 ends with a refused PORT and the client's RST, which the server
    never gets; the client reuses its port at once. The server, still holding
    connection 1, answers the new SYN with a challenge ACK and retransmits its 500,
    both in connection 1's numbering and before the new SYN-ACK; the client's RST to
    the challenge ACK ends connection 1 and its retransmitted SYN opens connection 2,
    whose 220 is the greeting and whose PORT is rewritten (the lab's "no 220 greeting
    (got 500)")."""
    t = ftp(cap)
    t.c(b"PORT 10,7,0,9,195,80\r\n", ack=False)
    old500 = b"500 Illegal PORT command.\r\n"
    t.pkt(True, "R", t.c_next, 0)            # lost before the server (seen here)
    t2 = Tcp(cap, C4, S4, 40000, cisn=3000000, sisn=9000000)
    t2.pkt(True, "S", t2.c_next, 0, options=[("MSS", 1460)])
    t.pkt(False, "A", t.s_next, t.c_next)    # challenge ACK (connection 1's numbers)
    t.pkt(False, "PA", t.s_next, t.c_next, old500)   # connection 1's 500, again
    t.pkt(True, "R", t.c_next, 0)            # the client's RST to the challenge ACK
    cap.wait(RTO_US)
    t2.handshake()
    t2.login()
    active_list(t2, b"PORT 10,7,0,2,195,81\r\n")
    t2.close()


def rst_out_of_window(cap):
    """After a PORT (its expectation open), RSTs far outside the window in both
    directions (to be ignored: the expectation stays, the next PORT is rewritten), then
    an in-window RST from the client after 221 ends the session."""
    t = ftp(cap)
    t.c(b"PORT 10,7,0,2,195,80\r\n")
    t.s(b"200 PORT command successful. Consider using PASV.\r\n")
    t.pkt(True, "R", t.c_next + 0x40000000, 0)
    t.pkt(False, "R", t.s_next - 0x30000000, 0)
    t.c(b"LIST\r\n")
    t.s(b"150 Here comes the directory listing.\r\n")
    t.s(b"226 Directory send OK.\r\n")
    active_list(t, b"PORT 10,7,0,2,195,81\r\n")
    t.c(b"QUIT\r\n")
    t.s(b"221 Goodbye.\r\n")
    t.pkt(True, "RA", t.c_next, t.s_next)


def greeting_retransmitted(cap):
    """The 220 lost after the gateway (seen twice); a single 220 lost before it (only
    the retransmission, 1 s after the handshake); a three-segment 220 banner whose
    first segment is lost before the gateway (the two others beyond the hole)."""
    g = b"220 (vsFTPd 3.0.3)\r\n"
    t = Tcp(cap, C4, S4, 40000)
    t.handshake()
    t.s(g, ack=False)
    cap.wait(RTO_US)
    t.pkt(False, "PA", t.s_next - len(g), t.c_next, g)
    t.ack_s()
    t.login(greeting=b"")   # greeting already sent: only USER/PASS
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    t.close()
    t = Tcp(cap, C4, S4, 40001, cisn=2000000, sisn=6000000)
    t.handshake()
    cap.wait(SYN_RTO_US)
    t.s(g)
    t.login(greeting=b"")
    active_list(t, b"PORT 10,7,0,2,195,81\r\n")
    t.close()
    t = Tcp(cap, C4, S4, 40002, cisn=3000000, sisn=7000000)
    t.handshake()
    deliver(t, False, [b"220-Welcome to the example FTP service.\r\n",
                       b"220-All transfers are logged.\r\n", b"220 FTP server ready.\r\n"],
            [1, 2, 0], gaps_us=(0, 0, RTO_US))
    t.login(greeting=b"")
    active_list(t, b"PORT 10,7,0,2,195,82\r\n")
    t.close()


def fin_retransmitted(cap):
    """After a rewrite (+3): the server's 221 + FIN lost after the gateway and
    retransmitted, then the client's FIN lost after it and retransmitted."""
    t = ftp(cap)
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    t.c(b"QUIT\r\n")
    bye = b"221 Goodbye.\r\n"
    t.pkt(False, "FPA", t.s_next, t.c_next, bye)
    cap.wait(RTO_US)
    t.pkt(False, "FPA", t.s_next, t.c_next, bye)
    t.s_next += len(bye) + 1
    t.pkt(True, "FA", t.c_next, t.s_next)
    cap.wait(RTO_US)
    t.pkt(True, "FA", t.c_next, t.s_next)
    t.c_next += 1
    t.pkt(False, "A", t.s_next, t.c_next)


def tfo_synack_data(cap):
    """TCP Fast Open style: the client's SYN asks for a cookie, the server's SYN-ACK
    carries one and the 220 greeting (data on the SYN-ACK); then a PORT."""
    t = Tcp(cap, C4, S4, 40000)
    g = b"220 (vsFTPd 3.0.3)\r\n"
    t.pkt(True, "S", t.c_next, 0, options=[("MSS", 1460), ("TFO", b"")])
    t.pkt(False, "SA", t.s_next, t.c_next + 1,
          g, options=[("MSS", 1460), ("TFO", b"\x5a\xa5\x0f\xf0\x12\x34\x56\x78")])
    t.c_next += 1
    t.s_next += 1 + len(g)
    t.ack_s()
    t.login(greeting=b"")
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    t.close()



def handshake_retransmitted(cap):
    """Retransmitted handshake packets with unchanged ISNs (the cases a re-basing on a
    new ISN must leave alone). 1: the client's SYN lost after the gateway (seen twice).
    2: the SYN-ACK lost after it: SYN retransmitted, the same SYN-ACK again. 3: the
    client's ACK lost after it: the server retransmits its SYN-ACK, the client
    re-ACKs, and the 220 follows."""
    t = Tcp(cap, C4, S4, 40000)
    t.pkt(True, "S", t.c_next, 0, options=[("MSS", 1460)])
    cap.wait(SYN_RTO_US)
    t.handshake()
    t.login()
    active_list(t, b"PORT 10,7,0,2,195,80\r\n")
    t.close()
    t = Tcp(cap, C4, S4, 40001, cisn=2000000, sisn=6000000)
    t.pkt(True, "S", t.c_next, 0, options=[("MSS", 1460)])
    t.pkt(False, "SA", t.s_next, t.c_next + 1, options=[("MSS", 1460)])
    cap.wait(SYN_RTO_US)
    t.handshake()
    t.login()
    active_list(t, b"PORT 10,7,0,2,195,81\r\n")
    t.close()
    t = Tcp(cap, C4, S4, 40002, cisn=3000000, sisn=7000000)
    t.handshake()
    cap.wait(SYN_RTO_US)
    t.pkt(False, "SA", t.s_next - 1, t.c_next, options=[("MSS", 1460)])
    t.ack_s()
    t.login()
    active_list(t, b"PORT 10,7,0,2,195,82\r\n")
    t.close()


def reply_crossing_retransmit(cap):
    """TYPE I and PASV pipelined in one segment; the replies 200 and 227 cross their
    retransmissions (order by sequence, not arrival). 1: the 200 lost before the
    gateway: the 227 arrives first, the 200's retransmission after it. 2: the 200 lost
    after the gateway: 200, 227, then the 200 again."""
    r200 = b"200 Switching to Binary mode.\r\n"
    for cport, isns, port in ((40000, (1000000, 5000000), 81), (40001, (2000000, 6000000), 82)):
        t = ftp(cap, cport=cport, cisn=isns[0], sisn=isns[1])
        t.c(b"TYPE I\r\nPASV\r\n")
        r227 = b"227 Entering Passive Mode (192,168,20,2,195,%d).\r\n" % port
        if cport == 40000:
            deliver(t, False, [r200, r227], [1, 0], gaps_us=(0, RTO_US))
        else:
            t.s(r200, ack=False)
            t.s(r227, ack=False)
            t.pkt(True, "A", t.c_next, t.s_next - len(r227) - len(r200),
                  options=[("SAck", (t.s_next - len(r227), t.s_next))])
            cap.wait(RTO_US)
            t.pkt(False, "PA", t.s_next - len(r227) - len(r200), t.c_next, r200)
            t.ack_s()
        t.c(b"LIST\r\n")
        t.s(b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n")
        t.close()


CASES = [
    # name, builder, capture options, what it exercises
    ("port_basic", port_basic, {}, "PORT rewrite that grows the line (10.7.0.2 -> 203.0.113.1), data connection untouched"),
    ("port_shrink", port_shrink, {}, "PORT rewrite that shrinks the line (192.168.10.2)"),
    ("port_lowercase", port_lowercase, {}, "lower-case 'port' verb"),
    ("port_two_rewrites", port_two_rewrites, {}, "two rewrites in one session: cumulative delta"),
    ("port_pipelined_list", port_pipelined_list, {}, "'PORT ...\\r\\nLIST\\r\\n' in one segment: LIST kept"),
    ("port_type_same_segment", port_type_same_segment, {}, "'TYPE I\\r\\nPORT ...\\r\\n' in one segment"),
    ("port_split_two", port_split_two, {}, "PORT split across two segments"),
    ("port_one_byte_segments", port_one_byte_segments, {}, "PORT one byte per segment"),
    ("eprt_v4", eprt_v4, {}, "EPRT |1| rewrite"),
    ("eprt_v6_forms", eprt_v6_forms, {}, "EPRT |2| compressed, full and ::ffff: forms (ULA -> 2001:db8:1::1), and ::ffff: on IPv4"),
    ("pasv_227_forms", pasv_227_forms, {}, "227 forms: parens, trailing '.', no parens, '=h,..', bare, lower case"),
    ("pasv_227_multiline", pasv_227_multiline, {}, "multi-line 227 ('227-...' then '227 ...')"),
    ("epsv_229", epsv_229, {}, "229 (|||p|) and (!!!p!): expectation, no rewrite"),
    ("passive_crossed", passive_crossed, {}, "EPSV answered by 227, PASV answered by 229"),
    ("unsolicited_227", unsolicited_227, {}, "227 without PASV: refused"),
    ("port_bounce", port_bounce, {}, "PORT with a third-party address (inside and public): refused"),
    ("port_low_port", port_low_port, {}, "PORT ...,0,22 (port < 1024): refused"),
    ("port_octet_overflow", port_octet_overflow, {}, "octet > 255, port byte > 255, 4-digit octet: refused"),
    ("reply_227_logout", reply_227_logout, {}, "'227 Logout.' after PASV: no numbers, refused"),
    ("overlong_line", overlong_line, {}, "a 2000-byte STOR line passes untouched, next PORT rewritten"),
    ("auth_tls_binary", auth_tls_binary, {}, "AUTH TLS + 234, then binary bytes containing PORT/227 lines: untouched"),
    ("ccc_clear_after_tls", ccc_clear_after_tls, {}, "AUTH TLS, fake TLS records (split header, record over 3 segments, records holding PORT/227 lines: untouched), CCC, close_notify, then cleartext 227, PORT, EPSV rewritten; 2nd connection: no server close_notify, its first cleartext line a 227 split after 2 bytes (held back, rewritten whole), then EPRT and 227 rewritten"),
    ("ccc_tls_forever", ccc_tls_forever, {}, "AUTH TLS and TLS records that never end (PORT/227 lines inside records), then bytes that are neither a record nor a line: never parsed, nothing rewritten"),
    ("seq_wrap", seq_wrap, {}, "ISNs near 2^32, rewrite across the wrap in both directions"),
    ("retransmit_rewritten", retransmit_rewritten, {}, "retransmission of the rewritten segment"),
    ("retransmit_repacketized", retransmit_repacketized, {}, "retransmission coalescing PORT+LIST; retransmission starting inside the rewritten span"),
    ("sack_after_rewrite", sack_after_rewrite, {}, "SACK and D-SACK blocks after a rewrite"),
    ("reordering", reordering, {}, "segment after the PORT arrives first"),
    ("slipstream_http", slipstream_http, {}, "HTTP POST to port 21 before any 220, PORT at a segment start (NAT slipstreaming): refused"),
    ("midstream_pickup", midstream_pickup, {}, "connection picked up without SYN"),
    ("ipv6_ext_header", ipv6_ext_header, {}, "IPv6 with a destination-options header: EPRT |2| and 229"),
    ("vlan_qinq", port_basic_variant, {"vlans": (100, 200)}, "Ethernet with 802.1ad + 802.1Q tags: PORT and 227"),
    ("linux_sll", port_basic_variant, {"link": "sll"}, "Linux cooked capture (SLL): PORT and 227"),
    ("linux_sll2", port_basic_variant, {"link": "sll2"}, "Linux cooked capture v2 (SLL2): PORT and 227"),
    ("nanosecond_pcap", port_basic_variant, {"nano": True}, "nanosecond-resolution pcap: timestamps kept"),
    ("server_10_20", server_10_20, {}, "227 from server 10.20.0.2 to client 192.168.10.2"),
    ("hairpin_227", hairpin_227, {}, "hairpin NAT as raw PREROUTING sees it: inside client 192.168.10.2 to the public 203.0.113.1:21 (before DNAT), the inside server's replies from 192.168.20.2:21 to the hairpin SNAT address 192.168.20.1 (before de-NAT); `.args` declare the control conntrack (`--conntrack`); its 227 (192,168,20,2) rewritten to 203.0.113.1, expectation peer 192.168.10.2, nat 192.168.20.2"),
    # impaired networks (issue 11): what the engine does with each is in pcaps/README.md
    ("synack_new_isn", synack_new_isn, {}, "SYN-ACK lost after the gateway, SYN retransmitted 1 s later, second SYN-ACK with a new ISN (+16124080); then PORT"),
    ("reorder_feat_then_port", reorder_feat_then_port, {}, "12-segment multi-line 211 FEAT reply arriving shuffled (several segments beyond each hole), then PORT, then a 227 in 3 reordered segments; 2nd connection: the reordered 227 alone"),
    ("loss_retransmit", loss_retransmit, {}, "3 connections: loss before the gateway s->c (first of 4 reply segments) then PORT; c->s (TYPE I ahead of pipelined PORT+LIST); loss after it (TYPE A before a PORT, and the 200, seen twice)"),
    ("port_50_one_segment", port_50_one_segment, {}, "50 pipelined PORT lines (distinct ports) in one segment, 50 replies"),
    ("stale_before_synack", stale_before_synack, {}, "port reused after an abort: the server's challenge ACK and a retransmitted 500 of the old connection arrive before the new SYN-ACK; the new session's PORT is rewritten"),
    ("port_reuse_new_isn", port_reuse_new_isn, {}, "session closed (TIME_WAIT), same 4-tuple reused 5 s later with a new ISN: second session's PORT"),
    ("rst_out_of_window", rst_out_of_window, {}, "PORT, then RSTs far outside the window in both directions (expectation must stay), second PORT; in-window RST at the end"),
    ("greeting_retransmitted", greeting_retransmitted, {}, "220 lost after the gateway (seen twice); 220 lost before it (only the retransmission); 3-segment 220 banner with its first segment lost before it"),
    ("fin_retransmitted", fin_retransmitted, {}, "after a rewrite, 221+FIN and the client's FIN each lost after the gateway and retransmitted"),
    ("tfo_synack_data", tfo_synack_data, {}, "TFO cookie option; the 220 greeting carried on the SYN-ACK; then PORT"),
    ("handshake_retransmitted", handshake_retransmitted, {}, "same-ISN retransmissions: SYN seen twice; SYN-ACK lost after the gateway, SYN and SYN-ACK again; client's ACK lost, SYN-ACK retransmitted"),
    ("reply_crossing_retransmit", reply_crossing_retransmit, {}, "'TYPE I\\r\\nPASV\\r\\n': 200 lost before the gateway (227 arrives first), and lost after it (200, 227, 200 again)"),
]


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    names = []
    for name, builder, opts, _ in CASES:
        cap = Capture(**opts)
        builder(cap)
        with open(os.path.join(out_dir, name + ".pcap"), "wb") as f:
            f.write(cap.bytes())
        with open(os.path.join(out_dir, name + ".args"), "w") as f:
            f.write(ARGS + EXTRA_ARGS.get(name, ""))
        names += [name + ".pcap", name + ".args"]
    return names


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "pcaps", "synthetic"))
    ap.add_argument("--check", metavar="DIR", help="regenerate into a temp dir and compare with DIR")
    ap.add_argument("--list", action="store_true", help="print the manifest (markdown rows)")
    args = ap.parse_args()
    if args.list:
        for name, _, _, what in CASES:
            print(f"| `synthetic/{name}.pcap` | {what} |")
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            names = generate(tmp)
            bad = [n for n in names if not os.path.exists(os.path.join(args.check, n))
                   or not filecmp.cmp(os.path.join(tmp, n), os.path.join(args.check, n), shallow=False)]
        if bad:
            print("differs from a fresh generation: " + " ".join(bad))
            return 1
        print(f"ok: {len(names)} files identical")
        return 0
    names = generate(args.out)
    print(f"wrote {len(names)} files to {os.path.normpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
