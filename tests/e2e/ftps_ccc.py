#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""FTPS client for the CCC e2e cases (tests/e2e/ccc.sh): AUTH TLS, login,
PBSZ 0 / PROT P, CCC (Python's ftplib: TLS shut down with close_notify),
then one RETR in active mode (PORT, or EPRT with --eprt) or passive mode.
Prints the dialogue (ftplib debug level 1) on stdout.

    ftps_ccc.py HOST FILE --out PATH [--eprt | --passive] [--no-ccc]
"""
import argparse
import ftplib
import ssl
import sys


class Client(ftplib.FTP_TLS):
    use_eprt = False

    def sendport(self, host, port):
        if self.use_eprt:
            return self.sendeprt(host, port)
        return super().sendport(host, port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("file")
    ap.add_argument("--out", required=True)
    ap.add_argument("--eprt", action="store_true")
    ap.add_argument("--passive", action="store_true")
    ap.add_argument("--no-ccc", action="store_true")
    a = ap.parse_args()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE      # the lab's self-signed certificate
    f = Client(context=ctx, timeout=20)
    f.use_eprt = a.eprt
    f.set_debuglevel(1)
    f.connect(a.host, 21)
    f.auth()
    f.login("anonymous", "ftp@example.com")
    f.prot_p()
    if not a.no_ccc:
        f.ccc()
    f.set_pasv(a.passive)
    with open(a.out, "wb") as out:
        f.retrbinary("RETR " + a.file, out.write)
    f.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
