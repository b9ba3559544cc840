#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""pyftpdlib server for the e2e lab: anonymous read/write, DEBUG protocol log.

Run with Debian's /usr/bin/python3 (python3-pyftpdlib). The log has one line
per command received ("<- PORT 203,0,113,1,...") and per reply ("-> 227 ...").
"""
import argparse
import logging

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, default=21)
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--pasv", default="30200-30300")
    a = ap.parse_args()

    logging.basicConfig(filename=a.log, level=logging.DEBUG,
                        format="%(asctime)s %(message)s")
    auth = DummyAuthorizer()
    auth.add_anonymous(a.root, perm="elradfmwMT")
    lo, hi = (int(x) for x in a.pasv.split("-"))

    class Handler(FTPHandler):
        pass

    Handler.authorizer = auth
    Handler.passive_ports = range(lo, hi + 1)
    Handler.permit_foreign_addresses = False   # anti-bounce like vsftpd
    Handler.timeout = 60
    server = FTPServer((a.addr, a.port), Handler)
    server.max_cons = 64
    server.serve_forever(timeout=1.0)


if __name__ == "__main__":
    main()
