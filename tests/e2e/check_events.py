#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks an ftpalgd --events stream (docs/events.md, schema 1) read with json.

check_events.py FILE... --expect NAME=SPEC ...   (one expectation per transfer)
  SPEC: kind,announcer,client_re,inside_re,public_re,peer
Every line must be a JSON object with v == 1, a UTC ts and a known event with
its fields. For each expectation there must be, in one session: session_start
(client matching client_re), data_announced + data_installed (kind,
announcer, inside and public matching), data_used or data_withdrawn, and
session_end. Prints the public address:port of each expectation's data
connection ("NAME public") for the caller to compare with what the peer saw.
"""
import json
import re
import sys

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EP = re.compile(r"^(\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]+\]):\d+$")
COMMON = {"v", "ts", "event"}
DATA = {"session", "kind", "announcer", "inside", "public", "peer", "master"}
FIELDS = {
    "stream_open": {"pid", "version", "dropped"},
    "session_start": {"session", "picked_up", "client", "server", "client_public",
                      "server_inside", "orig", "reply"},
    "session_end": {"session", "client", "server", "reason", "rewrites", "refusals"},
    "data_announced": DATA,
    "data_installed": DATA | {"mechanism", "local", "timeout_s", "restored"},
    "data_refused": DATA | {"reason"},
    "data_used": DATA | {"mechanism", "local", "from"},
    "data_withdrawn": DATA | {"mechanism", "local", "reason"},
    "data_expired": DATA | {"mechanism", "local"},
}


def fail(msg):
    print("check_events: " + msg, file=sys.stderr)
    sys.exit(1)


def read(files):
    events = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                try:
                    e = json.loads(line)
                except ValueError as err:
                    fail(f"{f}:{n}: not JSON ({err}): {line!r}")
                if not isinstance(e, dict) or e.get("v") != 1:
                    fail(f"{f}:{n}: not a v1 object: {line!r}")
                if not TS.match(e.get("ts", "")):
                    fail(f"{f}:{n}: bad ts: {line!r}")
                ev = e.get("event")
                if ev not in FIELDS:
                    fail(f"{f}:{n}: unknown event {ev!r}")
                if set(e) != COMMON | FIELDS[ev]:
                    fail(f"{f}:{n}: {ev} fields {sorted(set(e))}, expected {sorted(COMMON | FIELDS[ev])}")
                for k in ("inside", "public", "local", "from", "client", "server"):
                    if k in e and not EP.match(e[k]):
                        fail(f"{f}:{n}: {k} is not addr:port: {e[k]!r}")
                events.append(e)
    return events


def check(events, name, spec):
    kind, announcer, client_re, inside_re, public_re, peer = spec.split(",")
    starts = [e for e in events if e["event"] == "session_start" and re.fullmatch(client_re, e["client"])]
    for s in starts:
        sid = s["session"]
        mine = [e for e in events if e.get("session") == sid]
        names = [e["event"] for e in mine]
        inst = [e for e in mine if e["event"] == "data_installed" and e["kind"] == kind
                and e["announcer"] == announcer and re.fullmatch(inside_re, e["inside"])
                and re.fullmatch(public_re, e["public"]) and e["peer"] == peer]
        if not inst:
            continue
        if s["reply"] is None or s["client_public"] is None:
            fail(f"{name}: session {sid} start without the public binding: {s}")
        if names[0] != "session_start" or names[-1] != "session_end":
            fail(f"{name}: session {sid} records out of order: {names}")
        d = inst[0]
        ann = [e for e in mine if e["event"] == "data_announced" and e["public"] == d["public"]]
        if not ann:
            fail(f"{name}: no data_announced for {d['public']}")
        if d["master"] != s["orig"]:
            fail(f"{name}: master {d['master']} is not the session's orig {s['orig']}")
        after = [e["event"] for e in mine if e["event"] in ("data_used", "data_withdrawn", "data_expired")
                 and e["public"] == d["public"]]
        if not after:
            fail(f"{name}: data connection {d['public']} never used, withdrawn or expired")
        print(f"{name} {d['public']} {d['mechanism']} {after[0]} start={s['client']}/{s['client_public']}")
        return
    fail(f"{name}: no session with client /{client_re}/ and a data_installed {kind} by {announcer} "
         f"inside /{inside_re}/ public /{public_re}/ peer {peer}; streams: "
         + "; ".join(json.dumps(e) for e in events if e["event"] != "stream_open")[:3000])


def main():
    args = sys.argv[1:]
    if "--expect" not in args:
        fail("usage: check_events.py FILE... --expect NAME=SPEC ...")
    i = args.index("--expect")
    files, expects = args[:i], [a for a in args[i + 1:] if a != "--expect"]
    events = read(files)
    if not events or events[0]["event"] != "stream_open":
        fail("the stream does not begin with stream_open")
    for x in expects:
        name, spec = x.split("=", 1)
        check(events, name, spec)


main()
