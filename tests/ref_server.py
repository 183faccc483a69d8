#!/usr/bin/env python3
"""ref_server.py -- an independent V1.16 server, used as a test double for camsim.

This is a second, separately written server for the vendor's "Body temperature
detection and face recognition intelligent terminal HTTP docking protocol V1.16"
(/work/shared/spec/protocol-v1.16.txt).  It exists so that camsim's conformance
harness can be run against a correct server that is *not* camsim's own mock: the
harness must give the right verdict for any correct server, whatever legal choices
it makes.  It was written from the vendor document, the reading notes beside it
(NOTES.md), docs/adapters.md and docs/scenarios.md only; it shares no code or
design with conformance/mock*.c.  Python 3 standard library only.

Usage
-----
    python3 tests/ref_server.py --port-file FILE [options]

It listens on 127.0.0.1 (``--host``) on a free port (``--port``, 0), writes the
port number to FILE (FILE.tmp, then renamed) once it listens, and serves until
SIGTERM or SIGINT, then exits 0.  camsim drives it through
tests/ref_server.adapter.json with CAMSIM_REF_URL=http://127.0.0.1:PORT.

Endpoints
---------
POST /api/face            every device message (JSON body).  Kinds are told apart
                          by "type"; the alarm (section 13) has none.  A JSON
                          object that is a known message gets 200; a body that is
                          not JSON, not an object, has an unknown type, or a typed
                          message without a cid gets 400.
POST /admin/action        camsim's operator step parameters (docs/adapters.md):
                          builds the V1.16 command, queues it for the device, and
                          answers 200 {"id": N}; 400 for parameters it cannot use,
                          422 {"error": ...} for a command that breaks the document
                          (unless the step is "unchecked", see --refuse-unchecked).
POST /admin/command_state {cid, ref, of, handle, seq} -> {"state": "pending" |
                          "sent" | "confirmed" | "failed" | "timeout"}; 404 when no
                          command matches (looked up by handle.id, else by cid+ref,
                          else by cid+seq).
POST /admin/records       {cid} -> JSON array of {"cid", "time", "message", ...},
                          one per snapshot (type 1) answered with 200.
GET  /admin/state         everything, for debugging (long strings shortened).

Behaviour (what the document asks of a server)
----------------------------------------------
* One command queue per device, keyed by the message's cid (the alarm carries a
  top-level cid in this project).  Commands go out only in the body of 200 replies
  to heartbeats (type 3), with one exception: the batch import chain of section 7,
  where the next queued facelib_batch goes in the reply to the device's type 9.
  Every other message is answered 200 with an empty body.
* seq: facelib_manage, config (set and query), reupload (set and query), facelog
  and control get a seq from one server-wide counter starting at --seq-start
  (1000).  A seq is never reused, and it stays far below any UNIX time a heartbeat
  could carry (NOTES.md, "the seq mechanism").
* Each command is tracked pending -> sent -> confirmed / failed / timeout:
    facelib_manage 1/3/4   the device's next heartbeat: seq equal -> confirmed,
                           any other seq -> failed (the document cannot tell a
                           failure from a loss; this server calls it failed and does
                           not retry it)
    facelib_manage 5       the type 4 face list (or a heartbeat carrying its seq)
    config opType 0        type 10 with config.seq (errcode 0 -> confirmed)
    config opType 1        type 10 report (with groups)
    strategy_manage        type 7 with strategy_manage.resultList (all 0 -> confirmed)
    strategy_manage op 2   type 7 list
    facelib_batch          type 9 (every result 0 -> confirmed, else failed)
    reupload type 1        type 8 with reupload.seq and errcode
    reupload type 2        type 8 settings
    facelog / control      type 11 / type 12 with seq and errcode
    fw_upgrade             type 6: error 6 (ready to restart) -> confirmed, else failed
    reboot                 a heartbeat whose uptime differs from the one seen before
                           the reboot was sent (uptime is "UTC time for this boot")
    time_set, time_interval, http_server_url/port, anything else
                           the device's next message after the reply
  A result that carries no seq (the document allows leaving it out when the device
  could not read it) settles the oldest unsettled command of that kind.
* Retries count the device's heartbeats, never wall time (camsim runs devices on a
  jumping virtual clock): a command sent but not settled after --retry-after (3)
  later heartbeats is sent again with the same seq, at most --retries (2) times,
  then marked timeout.  A result arriving after the timeout still settles it.  A
  confirmed command is never sent again.

* raw sends its reply members exactly as given (no seq added).  Its outcome is
  tracked by the first member that has a result of its own (a raw facelib_manage
  without seq is therefore failed by the next heartbeat, whatever it carries).
* Commands are checked against the document before they are queued (422
  otherwise): config groups and items of section 9 with their ranges (misc is
  read-only; where the document gives no range a wide one is used), person ids of
  1..35 bytes without ",", names/card numbers within the lengths of the table of
  that command, sex male/female, at most 20 ids per delete and 20 persons per
  batch, image needed to enroll and to import, at most 16 strategies of at most 16
  rules with well-formed dates, time ranges and weeks, reupload mode 1/2 with an
  h:m:s time, time zones -43200..50400, ports 1..65535, http(s) URLs.  Not
  refused: strategyId 0 (section 5 says the device refuses such a strategy, so
  sending it is legal) and endDate before begDate (the document's own example).

Choices where the document is silent (deliberately not what a mock would do)
-----------------------------------------------------------------------------
* Packing (default): every pending command the device may take goes in one reply,
  in queue order, stopping at the first that cannot go: a command whose top-level
  key is already in the reply, or which shares a top-level key with a command of
  that device still awaiting its result (so at most one facelib_manage and one
  facelib_batch are unsettled at a time, and results without a seq are never
  ambiguous).  Nothing is packed after reboot, fw_upgrade or http_server_url/port,
  since the device may act on those before the rest.  The reply's members are in
  queue order.
* The config query and the reupload query carry a seq too (the document lists seq
  for both; it is required only for config opType 0).
* The config set is written seq first, then opType, then the groups as given.
* set_time without a zone sends time_zone 0; a batch add without strategy_id sends
  strategyId 0 (the document: "If strategy is not needed, it can be set to zero").
* delete joins ids with "," (no space), as docs/adapters.md asks.
* Snapshot records keep the message with each picture in "faces" replaced by
  {"sha256", "bytes"} (2000 retransmitted 640x480 pictures would otherwise take
  hundreds of MB); --keep-faces keeps the pictures.
* Reply bodies are UTF-8 JSON with spaces after ":" and ","; an empty reply is an
  empty body (or "{}" with --empty-braces).

Options for other legal choices
-------------------------------
--one-per-reply     at most one command per reply
--seq-start N       first seq (1000)
--seq-per-device    one counter per device instead of one per server
--no-100            never answer Expect: 100-continue (section 4: "The http server
                    can not respond to the Expect: 100-continue field, and the tablet
                    camera will still upload the subsequent JSON")
--http10            speak HTTP/1.0: 1.0 status lines, no keep-alive; still sends
                    100 Continue to a 1.1 client that asks, unless --no-100
--chunked           reply bodies with Transfer-Encoding: chunked (HTTP/1.1 only)
--close             Connection: close, and close after every response
--empty-braces      answer "{}" instead of an empty body when there is nothing to do
--refuse-unchecked  refuse (422) an "unchecked" action whose command breaks the
                    document (default: send what was asked)
--retry-after N     heartbeats before a re-send (3)
--retries N         re-sends before timeout (2)
--keep-faces        keep snapshot pictures in the stored records
--verbose           log every exchange to stderr

Broken modes (--fault MODE, each breaks one thing, to prove camsim catches it)
-----------------------------------------------------------------------------
resend-confirmed  after a command is confirmed, put it again (same seq) into every
                  later heartbeat reply to that device: a request loop
never-retry       never re-send and never time out: a command whose result never
                  comes stays "sent" forever
no-store          answer snapshots 200 but store nothing (records returns [])
interval          add "time_interval": 60 to every reply to a heartbeat
score-fraction    write config face_rec.score as a fraction (70 -> 0.7)
seq-reuse         every command gets the same seq (--seq-start)
seq-time          seq is the current UNIX time (the document's own examples do
                  this; NOTES.md's false-success hazard)
empty-204         answer 204 No Content when there is nothing to send (only 200
                  is success to the device)
no-chain          do not continue a batch chain in the reply to type 9; the next
                  batch waits for a heartbeat
facelib-optimist  a facelib_manage add/delete/clear is confirmed by the next
                  heartbeat whatever its seq (command_state then disagrees with
                  what the exchanges showed for a failed operation)
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("resend-confirmed", "never-retry", "no-store", "interval",
          "score-fraction", "seq-reuse", "seq-time", "empty-204", "no-chain",
          "facelib-optimist")

# Device message types of the document's type table (section 2, "Attachment").
DEVICE_TYPES = {1, 3, 4, 6, 7, 8, 9, 10, 11, 12}

# Commands after which nothing else is packed into the same reply: the device
# restarts, stops to download, or moves to another address.
DISRUPTIVE = ("reboot", "fw_upgrade", "http_server_url", "http_server_port")

class Refused(Exception):
    """An admin action that cannot become a command; status 400 or 422."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------
# Checking commands against the document
# --------------------------------------------------------------------------

def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def utf8_len(s):
    return len(s.encode("utf-8"))


# Configuration groups of section 9: key -> (kind, allowed).  kind "enum" takes
# a set of integers, "int"/"num" an inclusive range.  Where the document gives
# no range, this server picks a wide, sane one (noted).
CONFIG_SCHEMA = {
    "face_rec": {
        "enable": ("enum", {0, 1}),
        "voice": ("enum", {0, 1, 2}),
        "relay": ("enum", {0, 1}),
        "liveness": ("num", (0, 1)),
        "score": ("num", (0, 100)),
        "times": ("int", (1, 10)),
        "distance": ("enum", {0, 1, 2, 3, 4}),
        "face_expos": ("int", (0, 100)),
    },
    "face_cap": {
        "interval": ("int", (1, 86400)),        # seconds; no range given
        "goodness": ("num", (0, 1)),
        "blur": ("num", (0, 1)),
        "time_overlay": ("enum", {0, 1}),
        "upload_mode": ("enum", {1, 2}),
    },
    "facemask": {
        "enable": ("enum", {0, 1}),
        "mode": ("enum", {0, 1}),
        "voice": ("enum", {0, 1}),
        "relay": ("enum", {0, 1}),
        "environment": ("enum", {0, 1}),       # only in the set example
    },
    "temperature": {
        "enable": ("enum", {0, 1}),
        "high_threshold": ("num", (20, 50)),   # Celsius; no range given
        "voice": ("enum", {0, 1, 2}),
        "relay": ("enum", {0, 1}),
        "offset": ("num", (-10, 10)),          # no range given
        "unit": ("enum", {0, 1}),
        "environment": ("enum", {0, 1}),
    },
    "relay": {
        "duration": ("int", (1, 100)),
        "state": ("enum", {0, 1}),
    },
}


def check_config(groups):
    problems = []
    if not isinstance(groups, dict) or not groups:
        return ["config: an object with at least one group is needed"]
    for g, body in groups.items():
        if g == "misc":
            problems.append("config.misc can only be queried, not configured (section 9)")
            continue
        schema = CONFIG_SCHEMA.get(g)
        if schema is None:
            problems.append("config.%s is not a configuration group of section 9" % g)
            continue
        if not isinstance(body, dict):
            problems.append("config.%s must be an object" % g)
            continue
        for k, v in body.items():
            if k not in schema:
                problems.append("config.%s.%s is not an item of section 9" % (g, k))
                continue
            kind, allowed = schema[k]
            where = "config.%s.%s" % (g, k)
            if kind == "enum":
                if not is_int(v) or v not in allowed:
                    problems.append("%s is %s; section 9 allows %s"
                                    % (where, json.dumps(v), sorted(allowed)))
            elif kind == "int":
                if not is_int(v) or not allowed[0] <= v <= allowed[1]:
                    problems.append("%s is %s; allowed: integer %s..%s"
                                    % (where, json.dumps(v), allowed[0], allowed[1]))
            else:
                if not is_num(v) or not allowed[0] <= v <= allowed[1]:
                    problems.append("%s is %s; allowed: number %s..%s"
                                    % (where, json.dumps(v), allowed[0], allowed[1]))
    return problems


DATE_RE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
HMS_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")


def valid_date(s):
    m = DATE_RE.match(s) if isinstance(s, str) else None
    if not m:
        return False
    try:
        datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return True


def valid_hms(s, allow_24=False):
    m = HMS_RE.match(s) if isinstance(s, str) else None
    if not m:
        return False
    h, mi, se = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if allow_24 and (h, mi, se) == (24, 0, 0):
        return True
    return h < 24 and mi < 60 and se < 60


def check_strategies(lst):
    """Section 5.2's table.  strategyId 0 is *not* refused: the document says
    such a strategy "will fail" on the device, which makes it a legal thing to
    send (and camsim's strategy-reserved-id scenario sends it)."""
    problems = []
    if not isinstance(lst, list):
        return ["strategies must be an array"]
    if len(lst) > 16:
        problems.append("%d strategies; section 5 supports at most 16" % len(lst))
    for i, s in enumerate(lst):
        w = "strategyList[%d]" % i
        if not isinstance(s, dict):
            problems.append(w + " must be an object")
            continue
        if not is_int(s.get("strategyId")) or s["strategyId"] < 0:
            problems.append(w + ".strategyId must be a non-negative integer")
        if "name" in s and (not isinstance(s["name"], str) or utf8_len(s["name"]) > 31):
            problems.append(w + ".name must be a string of at most 31 bytes")
        if "state" in s and (not is_int(s["state"]) or s["state"] not in (0, 1)):
            problems.append(w + ".state must be 0 or 1")
        rules = s.get("strategyRuleList", [])
        if not isinstance(rules, list):
            problems.append(w + ".strategyRuleList must be an array")
            continue
        if len(rules) > 16:
            problems.append(w + ": %d rules; at most 16" % len(rules))
        for j, r in enumerate(rules):
            rw = "%s.strategyRuleList[%d]" % (w, j)
            if not isinstance(r, dict):
                problems.append(rw + " must be an object")
                continue
            if "ruleId" in r and not is_int(r["ruleId"]):
                problems.append(rw + ".ruleId must be an integer")
            for k in ("begDate", "endDate"):
                if k in r and not valid_date(r[k]):
                    problems.append("%s.%s %s is not a date YYYY/MM/DD" % (rw, k, json.dumps(r[k])))
            if "timeRange" in r:
                tr = r["timeRange"]
                parts = tr.split(",") if isinstance(tr, str) else None
                if not parts or len(parts) > 16 or not all(
                        len(p.split("-")) == 2 and valid_hms(p.split("-")[0])
                        and valid_hms(p.split("-")[1], allow_24=True) for p in parts):
                    problems.append("%s.timeRange %s is not up to 16 ranges HH:MM:SS-HH:MM:SS"
                                    % (rw, json.dumps(tr)))
            if "week" in r:
                wk = r["week"]
                if not isinstance(wk, str) or not all(d in "1234567" and len(d) == 1
                                                      for d in wk.split(",")):
                    problems.append("%s.week %s is not days 1..7 joined by ','" % (rw, json.dumps(wk)))
            if "type" in r and (not is_int(r["type"]) or r["type"] not in (0, 1)):
                problems.append(rw + ".type must be 0 or 1")
    return problems


def check_person(face, where, name_max, card_max):
    problems = []
    pid = face.get("id")
    if not isinstance(pid, str) or not pid or utf8_len(pid) > 35 or "," in pid:
        problems.append("%s.id %s must be 1..35 bytes without ',' (delete joins ids with ',')"
                        % (where, json.dumps(pid)))
    if "name" in face and (not isinstance(face["name"], str) or utf8_len(face["name"]) > name_max):
        problems.append("%s.name must be a string of at most %d bytes" % (where, name_max))
    if "cardNo" in face and (not isinstance(face["cardNo"], str) or utf8_len(face["cardNo"]) > card_max):
        problems.append("%s.cardNo must be a string of at most %d bytes" % (where, card_max))
    if "age" in face and (not is_int(face["age"]) or not 0 <= face["age"] <= 200):
        problems.append("%s.age must be an integer 0..200" % where)
    if "sex" in face and face["sex"] not in ("male", "female"):
        problems.append('%s.sex must be "male" or "female"' % where)
    if "strategyId" in face and (not is_int(face["strategyId"]) or face["strategyId"] < 0):
        problems.append("%s.strategyId must be a non-negative integer" % where)
    return problems


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------

class Command:
    """One command for one device: the reply members it adds, and how its
    outcome is recognised (track)."""

    def __init__(self, cid, members, track, seq, action, ref):
        self.id = 0
        self.cid = cid
        self.members = members      # dict of reply members, as sent
        self.track = track          # see Server.track_of
        self.seq = seq              # int or None
        self.action = action
        self.ref = ref
        self.state = "pending"
        self.sends = 0              # how many replies carried it
        self.hb_since = 0           # heartbeats since it was last sent
        self.due = False            # to be sent again at the next heartbeat
        self.uptime_before = None   # reboot: uptime seen when it was sent
        self.settled_by = None      # the device message that settled it
        self.late = False           # settled after a timeout
        self.created = time.time()

    def keys(self):
        return set(self.members)

    def view(self):
        return {"id": self.id, "cid": self.cid, "action": self.action, "ref": self.ref,
                "seq": self.seq, "track": self.track, "state": self.state,
                "sends": self.sends, "heartbeats_since_sent": self.hb_since,
                "due": self.due, "late": self.late,
                "members": shorten(self.members), "settled_by": shorten(self.settled_by)}


class Device:
    def __init__(self, cid):
        self.cid = cid
        self.queue = []             # Commands in the order they were queued
        self.records = []
        self.messages = 0
        self.heartbeats = 0
        self.last_uptime = None
        self.last_seen = None
        self.seq_counter = None     # --seq-per-device


def shorten(v, limit=120):
    """A copy of v with long strings (pictures) cut, for /admin/state."""
    if isinstance(v, str):
        return v if len(v) <= limit else v[:40] + "...(%d chars)" % len(v)
    if isinstance(v, list):
        return [shorten(x, limit) for x in v]
    if isinstance(v, dict):
        return {k: shorten(x, limit) for k, x in v.items()}
    return v


class Server:
    """All state, behind one lock.  The HTTP layer calls device_message() and
    the admin_* methods; each holds the lock for the whole call."""

    def __init__(self, opts):
        self.o = opts
        self.lock = threading.Lock()
        self.devices = {}
        self.commands = []          # by id - 1
        self.next_seq = opts.seq_start
        self.log_lines = []

    def fault(self, name):
        return name in self.o.fault

    def device(self, cid):
        d = self.devices.get(cid)
        if d is None:
            d = self.devices[cid] = Device(cid)
        return d

    def log(self, text):
        if self.o.verbose:
            sys.stderr.write("ref_server: %s\n" % text)
            sys.stderr.flush()

    # ---- seq --------------------------------------------------------------

    def new_seq(self, cid):
        if self.fault("seq-reuse"):
            return self.o.seq_start
        if self.fault("seq-time"):
            # Strictly increasing, but in the range of UNIX times.
            s = max(int(time.time()), getattr(self, "_last_time_seq", 0) + 1)
            self._last_time_seq = s
            return s
        if self.o.seq_per_device:
            d = self.device(cid)
            if d.seq_counter is None:
                d.seq_counter = self.o.seq_start
            s = d.seq_counter
            d.seq_counter += 1
            return s
        s = self.next_seq
        self.next_seq += 1
        return s

    # ---- building commands from admin actions ------------------------------

    @staticmethod
    def photo_of(p, where):
        """The base64 picture of an action or batch person: photo_base64, or
        the file named by photo (for adapters that pass only the path)."""
        b = p.get("photo_base64")
        if isinstance(b, str) and b:
            return b
        path = p.get("photo")
        if isinstance(path, str) and path:
            try:
                with open(path, "rb") as f:
                    return base64.b64encode(f.read()).decode("ascii")
            except OSError as e:
                raise Refused(400, "%s: cannot read photo %s: %s" % (where, path, e))
        return None

    def photos_of(self, p):
        arr = p.get("photos_base64")
        if isinstance(arr, list) and arr:
            return [x for x in arr if isinstance(x, str)]
        paths = p.get("photos")
        if isinstance(paths, list) and paths:
            return [self.photo_of({"photo": x}, "photos") for x in paths]
        one = self.photo_of(p, "photo")
        return [one] if one else []

    def build(self, p):
        """(members, problems, seq) for the admin action p.  problems are the
        ways the command breaks the document (422 unless unchecked); Refused is
        raised for parameters that cannot make a command at all."""
        a = p.get("action")
        cid = p["cid"]
        problems = []
        seq = None

        def need(name, check, what):
            if name not in p or not check(p[name]):
                raise Refused(400, "%s: parameter %s must be %s" % (a, name, what))
            return p[name]

        if a in ("enroll", "modify"):
            face = {"id": need("id", lambda v: isinstance(v, str), "a string")}
            for src, dst in (("name", "name"), ("age", "age"), ("sex", "sex"),
                             ("strategy_id", "strategyId"), ("card_no", "cardNo")):
                if p.get(src) is not None:
                    face[dst] = p[src]
            images = self.photos_of(p)
            if images:
                face["image"] = images
            elif a == "enroll":
                problems.append("enroll: section 4 requires image when adding a person")
            problems += check_person(face, "facelib_manage.face", 35, 63)
            seq = self.new_seq(cid)
            return {"facelib_manage": {"type": 1, "seq": seq, "face": face}}, problems, seq
        if a == "delete":
            ids = need("ids", lambda v: isinstance(v, list) and v, "a non-empty array")
            if len(ids) > 20:
                problems.append("delete: %d ids; section 4 deletes at most 20 at a time" % len(ids))
            for i, x in enumerate(ids):
                problems += check_person({"id": x}, "ids[%d]" % i, 0, 0)
            seq = self.new_seq(cid)
            return {"facelib_manage": {"type": 3, "seq": seq,
                                       "person_ids": ",".join(str(x) for x in ids)}}, problems, seq
        if a == "delete_all":
            seq = self.new_seq(cid)
            return {"facelib_manage": {"type": 4, "seq": seq}}, problems, seq
        if a == "query_faces":
            seq = self.new_seq(cid)
            return {"facelib_manage": {"type": 5, "seq": seq}}, problems, seq
        if a == "batch":
            persons = need("persons", lambda v: isinstance(v, list) and v, "a non-empty array")
            if len(persons) > 20:
                problems.append("batch: %d persons; section 7 sends at most 20 at a time" % len(persons))
            out = []
            for i, q in enumerate(persons):
                if not isinstance(q, dict):
                    raise Refused(400, "batch: persons[%d] must be an object" % i)
                w = "personList[%d]" % i
                op = q.get("op", "add")
                if op == "delete":
                    item = {"operType": 3, "id": q.get("id")}
                elif op == "add":
                    item = {"operType": 1, "id": q.get("id")}
                    for src, dst in (("card_no", "cardNo"), ("name", "name"), ("age", "age"),
                                     ("sex", "sex")):
                        if q.get(src) is not None:
                            item[dst] = q[src]
                    item["strategyId"] = q["strategy_id"] if q.get("strategy_id") is not None else 0
                    img = self.photo_of(q, w)
                    if img:
                        item["image"] = img
                    else:
                        problems.append(w + ": section 7 requires image when importing")
                else:
                    raise Refused(400, "batch: persons[%d].op must be add or delete" % i)
                problems += check_person(item, w, 63, 35)
                out.append(item)
            return {"facelib_batch": {"personList": out}}, problems, None
        if a == "strategies":
            lst = need("strategies", lambda v: isinstance(v, list), "an array")
            problems += check_strategies(lst)
            return {"strategy_manage": {"strategyList": lst}}, problems, None
        if a == "query_strategies":
            return {"strategy_manage": {"operType": 2}}, problems, None
        if a == "config":
            groups = need("config", lambda v: isinstance(v, dict), "an object")
            groups = json.loads(json.dumps(groups))     # our own copy
            groups.pop("opType", None)
            groups.pop("seq", None)
            problems += check_config(groups)
            if self.fault("score-fraction"):
                fr = groups.get("face_rec")
                if isinstance(fr, dict) and is_num(fr.get("score")):
                    fr["score"] = fr["score"] / 100.0
            seq = self.new_seq(cid)
            cfg = {"seq": seq, "opType": 0}
            cfg.update(groups)
            return {"config": cfg}, problems, seq
        if a == "query_config":
            seq = self.new_seq(cid)
            return {"config": {"seq": seq, "opType": 1}}, problems, seq
        if a == "reupload":
            mode = p.get("mode")
            if mode not in (1, 2) or not is_int(mode):
                problems.append("reupload.mode %s: section 6 allows 1 (scheduled) or 2 (idle)"
                                % json.dumps(mode))
            seq = self.new_seq(cid)
            body = {"type": 1, "seq": seq, "mode": mode}
            if p.get("time") is not None:
                if not valid_hms(p["time"]):
                    problems.append("reupload_time %s is not h:m:s" % json.dumps(p["time"]))
                body["reupload_time"] = p["time"]
            elif mode == 1:
                problems.append("reupload: scheduled mode needs a time")
            return {"reupload": body}, problems, seq
        if a == "query_reupload":
            seq = self.new_seq(cid)
            return {"reupload": {"type": 2, "seq": seq}}, problems, seq
        if a == "clear_log":
            seq = self.new_seq(cid)
            return {"facelog": {"opType": 1, "seq": seq}}, problems, seq
        if a == "open_door":
            seq = self.new_seq(cid)
            return {"control": {"opType": 1, "seq": seq}}, problems, seq
        if a == "upgrade":
            version = need("version", lambda v: isinstance(v, str), "a string")
            url = p.get("url") or p.get("download_url")
            if not isinstance(url, str) or not url:
                raise Refused(400, "upgrade: parameter url (the download address) is needed")
            if not version:
                problems.append("fw_upgrade.version is empty")
            return {"fw_upgrade": {"version": version, "download_url": url}}, problems, None
        if a == "reboot":
            return {"reboot": 1}, problems, None
        if a == "set_time":
            utc = p.get("utc")
            if isinstance(utc, str):
                try:
                    utc = int(datetime.datetime.strptime(utc, "%Y-%m-%dT%H:%M:%SZ")
                              .replace(tzinfo=datetime.timezone.utc).timestamp())
                except ValueError:
                    raise Refused(400, "set_time: utc %r is not YYYY-MM-DDTHH:MM:SSZ" % utc)
            if not is_int(utc) and not (isinstance(utc, float) and utc.is_integer()):
                raise Refused(400, "set_time: parameter utc must be UTC seconds")
            zone = p.get("zone", 0)
            if zone is None:
                zone = 0
            if not is_int(zone) or not -12 * 3600 <= zone <= 14 * 3600:
                problems.append("time_set.time_zone %s is not seconds east of UTC, -43200..50400"
                                % json.dumps(zone))
            if int(utc) < 0:
                problems.append("time_set.time_stamp is negative")
            return {"time_set": {"time_stamp": int(utc), "time_zone": zone}}, problems, None
        if a == "set_interval":
            s = p.get("seconds")
            if not is_int(s) or s < 1:
                problems.append("time_interval %s must be a positive number of seconds"
                                % json.dumps(s))
            return {"time_interval": s}, problems, None
        if a == "set_server":
            url = need("url", lambda v: isinstance(v, str), "a string")
            if not re.match(r"^https?://[^/\s]+", url):
                problems.append("http_server_url %s is not an http:// or https:// URL"
                                % json.dumps(url))
            m = {"http_server_url": url}
            if p.get("port") is not None:
                port = p["port"]
                if not is_int(port) or not 1 <= port <= 65535:
                    problems.append("http_server_port %s is not a port 1..65535" % json.dumps(port))
                m["http_server_port"] = port
            return m, problems, None
        if a == "raw":
            reply = need("reply", lambda v: isinstance(v, dict) and v, "a non-empty object")
            reply = json.loads(json.dumps(reply))
            seq = None
            for k in ("facelib_manage", "config", "reupload", "facelog", "control"):
                if isinstance(reply.get(k), dict) and is_int(reply[k].get("seq")):
                    seq = reply[k]["seq"]
                    break
            return reply, [], seq
        raise Refused(400, "unknown action %s" % json.dumps(a))

    @staticmethod
    def track_of(members):
        """How a command's outcome is recognised, from what it sends.  For a
        raw reply with several members, the first member that has a result
        message of its own decides."""
        fm = members.get("facelib_manage")
        if isinstance(fm, dict):
            return "facelib_query" if fm.get("type") == 5 else "facelib"
        if "facelib_batch" in members:
            return "batch"
        cfg = members.get("config")
        if isinstance(cfg, dict):
            return "config_query" if cfg.get("opType") == 1 else "config_set"
        sm = members.get("strategy_manage")
        if isinstance(sm, dict):
            return "strategy_query" if sm.get("operType") == 2 else "strategy_set"
        ru = members.get("reupload")
        if isinstance(ru, dict):
            return "reupload_query" if ru.get("type") == 2 else "reupload_set"
        if "facelog" in members:
            return "facelog"
        if "control" in members:
            return "control"
        if "fw_upgrade" in members:
            return "upgrade"
        if "reboot" in members:
            return "reboot"
        return "next"

    def admin_action(self, p):
        if not isinstance(p, dict):
            raise Refused(400, "the body must be a JSON object of parameters")
        cid = p.get("cid")
        if not isinstance(cid, str) or not cid:
            raise Refused(400, "parameter cid (the device) is needed")
        with self.lock:
            # A refused action gives its seq back: the counters are restored.
            counters = (self.next_seq, getattr(self.devices.get(cid), "seq_counter", None))
            try:
                members, problems, seq = self.build(p)
            except Refused:
                self.restore_seq(cid, counters)
                raise
            unchecked = p.get("unchecked") is True
            if problems and (not unchecked or self.o.refuse_unchecked):
                self.restore_seq(cid, counters)
                raise Refused(422, "; ".join(problems) +
                              (" (refused although unchecked: --refuse-unchecked)"
                               if unchecked else ""))
            c = Command(cid, members, self.track_of(members), seq, p.get("action"), p.get("ref"))
            self.commands.append(c)
            c.id = len(self.commands)
            self.device(cid).queue.append(c)
            self.log("queued #%d %s for %s: %s" % (c.id, c.action, cid,
                                                   json.dumps(shorten(members))))
            return {"id": c.id}

    def restore_seq(self, cid, counters):
        self.next_seq = counters[0]
        if cid in self.devices:
            self.devices[cid].seq_counter = counters[1]

    def admin_command_state(self, p):
        if not isinstance(p, dict):
            raise Refused(400, "the body must be a JSON object")
        with self.lock:
            c = None
            h = p.get("handle")
            if isinstance(h, dict) and is_int(h.get("id")) and 1 <= h["id"] <= len(self.commands):
                c = self.commands[h["id"] - 1]
            cid = p.get("cid")
            if c is None and p.get("ref") is not None:
                for x in reversed(self.commands):
                    if x.cid == cid and x.ref == p["ref"]:
                        c = x
                        break
            if c is None and is_int(p.get("seq")):
                for x in reversed(self.commands):
                    if x.cid == cid and x.seq == p["seq"]:
                        c = x
                        break
            if c is None:
                raise Refused(404, "no such command")
            return {"state": c.state, "id": c.id, "seq": c.seq,
                    "message": shorten(c.settled_by)}

    def admin_records(self, p):
        cid = p.get("cid") if isinstance(p, dict) else None
        with self.lock:
            d = self.devices.get(cid)
            return list(d.records) if d else []

    def admin_state(self):
        with self.lock:
            return {
                "options": {k: v for k, v in vars(self.o).items() if k != "port_file"},
                "next_seq": self.next_seq,
                "devices": {cid: {"messages": d.messages, "heartbeats": d.heartbeats,
                                  "last_uptime": d.last_uptime, "last_seen": d.last_seen,
                                  "commands": [c.id for c in d.queue],
                                  "records": shorten(d.records)}
                            for cid, d in self.devices.items()},
                "commands": [c.view() for c in self.commands],
            }

    # ---- device messages ----------------------------------------------------

    def settle(self, c, state, msg):
        if c.state == "timeout":
            c.late = True
        c.state = state
        c.due = False
        c.settled_by = msg
        self.log("#%d %s (%s) %s" % (c.id, c.action, c.track, state))

    def sent(self, d, track):
        """The commands of one kind awaiting a result, oldest first; when none
        is, the ones that timed out (a late result still settles them)."""
        for state in ("sent", "timeout"):
            s = [c for c in d.queue if c.state == state and c.track == track]
            if s:
                return s
        return []

    def settle_by_seq(self, d, track, body, msg, ok):
        """A result with seq + errcode: the command with that seq, or the
        oldest unsettled one of the kind when the device left the seq out."""
        seq = body.get("seq") if isinstance(body, dict) else None
        cand = None
        if is_int(seq):
            for c in d.queue:
                if c.track == track and c.seq == seq and c.state in ("sent", "timeout"):
                    cand = c
                    break
        else:
            s = self.sent(d, track)
            cand = s[0] if s else None
        if cand is not None:
            self.settle(cand, "confirmed" if ok else "failed", msg)

    def device_message(self, msg):
        """Processes one device message; returns the reply members (dict) or None."""
        cid = msg.get("cid")
        if not isinstance(cid, str) or not cid:
            return None                    # an alarm as printed: nobody to answer
        with self.lock:
            d = self.device(cid)
            d.messages += 1
            d.last_seen = time.time()
            t = msg.get("type")

            # Commands confirmed by the device's next message, whatever it is.
            for c in d.queue:
                if c.state == "sent" and c.track == "next":
                    self.settle(c, "confirmed", msg)

            if t == 3:
                return self.heartbeat(d, msg)
            if t == 1:
                self.store_record(d, msg)
            elif t == 4:
                s = self.sent(d, "facelib_query")
                if s:
                    self.settle(s[0], "confirmed", msg)
            elif t == 6:
                if is_int(msg.get("uptime")):
                    d.last_uptime = msg["uptime"]
                s = self.sent(d, "upgrade")
                if s:
                    self.settle(s[0], "confirmed" if msg.get("error") == 6 else "failed", msg)
            elif t == 7:
                sm = msg.get("strategy_manage")
                if isinstance(sm, dict):
                    s = self.sent(d, "strategy_set")
                    if s:
                        rl = sm.get("resultList")
                        ok = isinstance(rl, list) and all(
                            isinstance(r, dict) and r.get("result") == 0 for r in rl)
                        self.settle(s[0], "confirmed" if ok else "failed", msg)
                else:
                    s = self.sent(d, "strategy_query")
                    if s:
                        self.settle(s[0], "confirmed", msg)
            elif t == 8:
                ru = msg.get("reupload")
                ru = ru if isinstance(ru, dict) else {}
                if any(k in ru for k in ("reupload_time", "mode", "recordes_num")):
                    s = self.sent(d, "reupload_query")
                    if s:
                        self.settle(s[0], "confirmed", msg)
                else:
                    self.settle_by_seq(d, "reupload_set", ru, msg, ru.get("errcode") == 0)
            elif t == 9:
                s = self.sent(d, "batch")
                if s:
                    fb = msg.get("facelib_batch")
                    rl = fb.get("resultList") if isinstance(fb, dict) else None
                    ok = isinstance(rl, list) and all(
                        isinstance(r, dict) and r.get("result") == 0 for r in rl)
                    self.settle(s[0], "confirmed" if ok else "failed", msg)
                if not self.fault("no-chain"):
                    return self.batch_chain(d)
            elif t == 10:
                cfg = msg.get("config")
                cfg = cfg if isinstance(cfg, dict) else {}
                if "errcode" in cfg or not any(g in cfg for g in (
                        "face_rec", "face_cap", "facemask", "temperature", "relay", "misc")):
                    self.settle_by_seq(d, "config_set", cfg, msg, cfg.get("errcode") == 0)
                else:
                    s = self.sent(d, "config_query")
                    if s:
                        self.settle(s[0], "confirmed", msg)
            elif t == 11:
                fl = msg.get("facelog")
                fl = fl if isinstance(fl, dict) else {}
                self.settle_by_seq(d, "facelog", fl, msg, fl.get("errcode") == 0)
            elif t == 12:
                ct = msg.get("control")
                ct = ct if isinstance(ct, dict) else {}
                self.settle_by_seq(d, "control", ct, msg, ct.get("errcode") == 0)
            return None

    def store_record(self, d, msg):
        if self.fault("no-store"):
            return
        m = msg
        if not self.o.keep_faces and isinstance(msg.get("faces"), list):
            m = dict(msg)
            m["faces"] = [{"sha256": hashlib.sha256(f.encode("utf-8")).hexdigest(),
                           "bytes": len(f)} if isinstance(f, str) else f
                          for f in msg["faces"]]
        d.records.append({"cid": d.cid, "time": msg.get("time"), "message": m,
                          "received": time.time(), "n": len(d.records) + 1})

    def heartbeat(self, d, msg):
        d.heartbeats += 1
        seq = msg.get("seq")
        uptime = msg.get("uptime")
        for c in list(d.queue):
            if c.state != "sent":
                continue
            if c.track == "facelib":
                # Remark 3 / section 4: this heartbeat's seq is the verdict.
                ok = (seq == c.seq and c.seq is not None) or self.fault("facelib-optimist")
                self.settle(c, "confirmed" if ok else "failed", msg)
                continue
            if c.track == "facelib_query" and c.seq is not None and seq == c.seq:
                self.settle(c, "confirmed", msg)
                continue
            if c.track == "reboot" and is_int(uptime) and (
                    c.uptime_before is None or uptime != c.uptime_before):
                self.settle(c, "confirmed", msg)
                continue
            # Not settled by this heartbeat: count it.
            c.hb_since += 1
            if self.fault("never-retry") or c.due:
                continue
            if c.hb_since >= self.o.retry_after:
                if c.sends - 1 < self.o.retries:
                    c.due = True
                    self.log("#%d %s: no result after %d heartbeats, sending again"
                             % (c.id, c.action, c.hb_since))
                else:
                    self.settle(c, "timeout", None)
        if is_int(uptime):
            d.last_uptime = uptime
        reply = self.pack(d)
        if self.fault("resend-confirmed"):
            for c in d.queue:
                if c.state == "confirmed" and not (c.keys() & set(reply)):
                    reply.update(c.members)
        if self.fault("interval"):
            reply.setdefault("time_interval", 60)
        return reply

    def blocked(self, d, c):
        """True while another command sharing a top-level key awaits its result."""
        keys = c.keys()
        return any(x is not c and x.state == "sent" and (x.keys() & keys) for x in d.queue)

    def mark_sent(self, d, c):
        c.state = "sent"
        c.sends += 1
        c.hb_since = 0
        c.due = False
        c.uptime_before = d.last_uptime

    def pack(self, d):
        reply = {}
        for c in d.queue:
            if not (c.state == "pending" or (c.state == "sent" and c.due)):
                continue
            if c.keys() & set(reply) or self.blocked(d, c):
                break
            reply.update(c.members)
            self.mark_sent(d, c)
            if self.o.one_per_reply or c.keys() & set(DISRUPTIVE):
                break
        return reply

    def batch_chain(self, d):
        """Section 7: the next batch rides the reply to the type 9 result."""
        for c in d.queue:
            if c.track == "batch" and (c.state == "pending" or (c.state == "sent" and c.due)):
                if self.blocked(d, c):
                    return None
                self.mark_sent(d, c)
                return dict(c.members)
        return None


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

def make_handler(srv, o):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0" if o.http10 else "HTTP/1.1"
        timeout = 120               # idle keep-alive connections go away

        def version_string(self):
            return "ref_server/1.16"

        def log_message(self, fmt, *args):
            if o.verbose:
                sys.stderr.write("ref_server: %s %s\n" % (self.address_string(), fmt % args))

        def handle(self):
            # A device that goes away mid-exchange (network cut, power off, the
            # scenario ending) is normal: no traceback for it.
            try:
                super().handle()
            except (ConnectionError, TimeoutError) as e:
                srv.log("connection from %s lost: %s" % (self.address_string(), e))
                self.close_connection = True

        def handle_expect_100(self):
            # Answered (or not) in read_body, so that --http10 and --no-100
            # stay independent of each other.
            return True

        def read_body(self):
            expect = self.headers.get("Expect", "").strip().lower()
            if (expect == "100-continue" and not o.no_100
                    and self.request_version not in ("HTTP/0.9", "HTTP/1.0")):
                self.wfile.write(("%s 100 Continue\r\n\r\n" % self.protocol_version).encode("ascii"))
                self.wfile.flush()
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                parts = []
                while True:
                    line = self.rfile.readline(65537)
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    parts.append(self.rfile.read(size))
                    self.rfile.readline(65537)
                return b"".join(parts)
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n > 0 else b""

        def answer(self, status, body=b"", ctype="application/json; charset=utf-8"):
            self.send_response(status)
            if body or status not in (204,):
                self.send_header("Content-Type", ctype)
            chunked = o.chunked and status != 204
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            elif status != 204:
                self.send_header("Content-Length", str(len(body)))
            if o.close or o.http10:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if chunked:
                out = b""
                if body:
                    out += b"%x\r\n%s\r\n" % (len(body), body)
                self.wfile.write(out + b"0\r\n\r\n")
            elif status != 204:
                self.wfile.write(body)
            self.wfile.flush()

        def answer_json(self, status, obj):
            self.answer(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"))

        def do_GET(self):
            if self.path.split("?")[0] == "/admin/state":
                self.answer_json(200, srv.admin_state())
            else:
                self.answer_json(404, {"error": "no such page"})

        def do_POST(self):
            path = self.path.split("?")[0]
            try:
                raw = self.read_body()
            except ValueError:
                self.answer_json(400, {"error": "unreadable body"})
                return
            try:
                body = json.loads(raw.decode("utf-8")) if raw.strip() else None
            except (UnicodeDecodeError, ValueError):
                body = Ellipsis
            if path.startswith("/admin/"):
                self.admin(path, body)
            elif path == "/api/face":
                self.device(body, raw)
            else:
                self.answer_json(404, {"error": "no such endpoint"})

        def admin(self, path, body):
            if body is Ellipsis:
                self.answer_json(400, {"error": "the body is not JSON"})
                return
            try:
                if path == "/admin/action":
                    self.answer_json(200, srv.admin_action(body))
                elif path == "/admin/command_state":
                    self.answer_json(200, srv.admin_command_state(body))
                elif path == "/admin/records":
                    self.answer_json(200, srv.admin_records(body))
                else:
                    self.answer_json(404, {"error": "no such admin action"})
            except Refused as e:
                self.answer_json(e.status, {"error": str(e)})

        def device(self, msg, raw):
            bad = None
            if msg is Ellipsis or msg is None:
                bad = "the body is not JSON"
            elif not isinstance(msg, dict):
                bad = "the body is not a JSON object"
            elif "type" in msg:
                if not is_int(msg["type"]) or msg["type"] not in DEVICE_TYPES:
                    bad = "type %s is not a device message type of V1.16" % json.dumps(msg["type"])
                elif not isinstance(msg.get("cid"), str) or not msg["cid"]:
                    bad = "cid is missing"
            elif not isinstance(msg.get("alarm"), dict):
                bad = "neither type nor alarm"
            if bad:
                srv.log("400 to %r: %s" % (raw[:80], bad))
                self.answer(400, json.dumps({"error": bad}).encode("utf-8"))
                return
            reply = srv.device_message(msg)
            if reply:
                body = json.dumps(reply, ensure_ascii=False).encode("utf-8")
                srv.log("reply to type %s from %s: %s" % (msg.get("type"), msg.get("cid"),
                                                          json.dumps(shorten(reply))))
                self.answer(200, body)
            elif "empty-204" in o.fault:
                self.answer(204)
            else:
                self.answer(200, b"{}" if o.empty_braces else b"")

    return Handler


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Independent V1.16 reference server (test double).")
    ap.add_argument("--port-file", required=True, help="write the listening port here")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--one-per-reply", action="store_true")
    ap.add_argument("--seq-start", type=int, default=1000)
    ap.add_argument("--seq-per-device", action="store_true")
    ap.add_argument("--no-100", action="store_true")
    ap.add_argument("--http10", action="store_true")
    ap.add_argument("--chunked", action="store_true")
    ap.add_argument("--close", action="store_true")
    ap.add_argument("--empty-braces", action="store_true")
    ap.add_argument("--refuse-unchecked", action="store_true")
    ap.add_argument("--retry-after", type=int, default=3)
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--keep-faces", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--fault", action="append", default=[], choices=FAULTS,
                    help="break one thing on purpose (may be given more than once)")
    o = ap.parse_args(argv)
    if o.chunked and o.http10:
        ap.error("--chunked needs HTTP/1.1 (not with --http10)")
    if not 0 <= o.seq_start < 946684800 and "seq-time" not in o.fault:
        ap.error("--seq-start must be 0..946684799: a facelib seq in the range of UNIX "
                 "times can equal a heartbeat's send time (a false success)")
    if o.retry_after < 1 or o.retries < 0:
        ap.error("--retry-after must be >= 1 and --retries >= 0")
    return o


def main(argv=None):
    o = parse_args(sys.argv[1:] if argv is None else argv)
    srv = Server(o)
    httpd = ThreadingHTTPServer((o.host, o.port), make_handler(srv, o))
    httpd.daemon_threads = True
    tmp = o.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.replace(tmp, o.port_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    while not stop.wait(0.5):
        pass
    httpd.shutdown()
    httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
