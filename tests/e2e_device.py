#!/usr/bin/env python3
"""e2e_device.py -- camsim's simulated device against a server that is not
camsim's: Python's http.server on loopback, scripted step by step.

It proves, over real HTTP:
  * the wire format: every POST the device makes is one JSON object whose
    keys, types and order match the tables of docs/protocol.md (checked here
    in Python) and which `camsim validate --to-server -` accepts in the
    strict profile (the authoritative check);
  * the Expect: 100-continue handshake: sent on snapshot uploads and on
    nothing else, answered by this server's own handle_expect_100, and a
    body that still arrives about 1 s later when the server withholds the
    100 Continue;
  * the device's handling of every reply kind of the spec: time_set,
    http_server_url / http_server_port (the next message reaches a second
    server), time_interval, config set (and an invalid set refused whole)
    and query, strategy_manage delivery and query, facelib_manage add (fails:
    no recognition core), delete, delete all and query with the heartbeat's
    seq rule (D7), facelib_batch (type 9), reupload set and query, facelog,
    control (type 12 and the relay), fw_upgrade (errors 5, 2 and 6 and the
    reboot into the new version), reboot (new uptime, state kept), and a
    power cycle pressed through the control API;
  * that a 500 reply's body is not applied, that an empty, blank or {} 200
    body means nothing to do, that a door forced open raises the alarm, and
    that a snapshot made while the network was down is stored and later
    retransmitted with its original time.

Usage: e2e_device.py CAMSIM_BINARY   (standard library only)
Prints "ok - ..." per checked behaviour and a summary; exits 0 when every
check passed, 1 with "not ok - <reason>" otherwise.  Ports are chosen free
at run time, the state directory is temporary, and the device process is
stopped on every exit path.
"""

import base64
import http.server
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

CID = "e2e-cam-0001"
START_VERSION = "V1.0.0"
NEW_VERSION = "V1.1.0"
PKG = b"camsim e2e upgrade package\n" * 64
STEP_TIMEOUT = 6.0  # seconds to wait for one expected message (interval 1 s)


class Failure(Exception):
    pass


# --------------------------------------------------------------------------
# What the device may send: keys in the order of docs/protocol.md's tables,
# and which of them are required.

def _t(*keys):
    """A table: 'key' required, 'key?' optional, in document order."""
    return [(k.rstrip("?"), not k.endswith("?")) for k in keys]


TOP = {
    "heartbeat": _t("app_version", "cid", "seq", "uptime", "type"),
    "upgrade_result": _t("app_version", "cid", "seq", "uptime", "type", "error"),
    "snapshot": _t("cid", "type", "time", "faces", "result"),
    "face_list": _t("cid", "type", "time", "total_face", "face"),
    "strategy_result": _t("cid", "type", "time", "strategy_manage"),
    "strategy_list": _t("cid", "type", "time", "total_strategy", "strategyList"),
    "reupload_result": _t("cid", "type", "time", "reupload"),
    "reupload_settings": _t("cid", "type", "time", "reupload"),
    "batch_result": _t("cid", "type", "time", "facelib_batch"),
    "config_result": _t("cid", "type", "time", "config"),
    "config_report": _t("cid", "type", "time", "config"),
    "log_result": _t("cid", "type", "time", "facelog"),
    "control_result": _t("cid", "type", "time", "control"),
    "alarm": _t("alarm", "cid?"),
}
ACK = _t("seq?", "errcode")
INNER = {
    ("reupload_result", "reupload"): ACK,
    ("config_result", "config"): ACK,
    ("log_result", "facelog"): ACK,
    ("control_result", "control"): ACK,
    ("reupload_settings", "reupload"): _t("reupload_time", "mode", "recordes_num"),
    ("strategy_result", "strategy_manage"): _t("resultList"),
    ("batch_result", "facelib_batch"): _t("resultList"),
    ("alarm", "alarm"): _t("seq", "time", "alarmtype", "alarmdata?"),
    ("config_report", "config"): _t("face_rec", "face_cap", "facemask",
                                    "temperature", "relay", "misc"),
}
SNAP_RESULT = _t("person_id?", "person_name?", "age?", "sex?", "confidence",
                 "person_type", "temperature?", "facemask?")
STRATEGY = _t("strategyId", "name?", "state", "strategyRuleList")
RULE = _t("ruleId", "begDate", "endDate", "timeRange", "week", "type")
FACE_ITEM = _t("person_id", "person_name?", "age?", "sex?", "strategyId?",
               "cardNo?")
GROUPS = {
    "face_rec": _t("enable", "voice", "relay", "liveness", "score", "times",
                   "distance", "face_expos"),
    "face_cap": _t("interval", "goodness", "blur", "time_overlay",
                   "upload_mode"),
    "facemask": _t("enable", "mode", "voice", "relay", "environment?"),
    "temperature": _t("enable", "high_threshold", "voice", "relay", "offset",
                      "unit", "environment"),
    "relay": _t("duration", "state"),
    "misc": _t("version"),
}
INT_KEYS = {"type", "time", "seq", "uptime", "error", "errcode", "total_face",
            "total_strategy", "strategyId", "result", "operType", "mode",
            "recordes_num", "alarmtype", "person_type", "facemask", "age",
            "ruleId", "state"}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_table(obj, table, where, problems):
    """Keys known, required ones present, document order, integers."""
    if not isinstance(obj, dict):
        problems.append("%s is %s, not an object" % (where, type(obj).__name__))
        return
    names = [k for k, _ in table]
    for k in obj:
        if k not in names:
            problems.append("%s has key %r, not in docs/protocol.md's table"
                            % (where, k))
    for k, req in table:
        if req and k not in obj:
            problems.append("%s lacks required key %r" % (where, k))
    order = [names.index(k) for k in obj if k in names]
    if order != sorted(order):
        problems.append("%s keys %s are not in the table's order %s"
                        % (where, list(obj), names))
    for k, v in obj.items():
        if k in INT_KEYS and not isinstance(v, (dict, list)) and not is_int(v):
            problems.append("%s.%s is %r, not an integer" % (where, k, v))


def classify(obj):
    if not isinstance(obj, dict):
        return None
    if "type" not in obj:
        return "alarm" if isinstance(obj.get("alarm"), dict) else None
    t = obj["type"]
    if t == 7:
        return "strategy_result" if "strategy_manage" in obj else "strategy_list"
    if t == 8:
        r = obj.get("reupload")
        settings = isinstance(r, dict) and any(
            k in r for k in ("reupload_time", "mode", "recordes_num"))
        return "reupload_settings" if settings else "reupload_result"
    if t == 10:
        c = obj.get("config")
        groups = ("face_rec", "face_cap", "facemask", "temperature", "relay",
                  "misc")
        report = (isinstance(c, dict) and "errcode" not in c
                  and any(g in c for g in groups))
        return "config_report" if report else "config_result"
    return {1: "snapshot", 3: "heartbeat", 4: "face_list", 6: "upgrade_result",
            9: "batch_result", 11: "log_result", 12: "control_result"}.get(t)


def basic_checks(obj, kind):
    """The Python-side checks of one device message; a list of problems."""
    p = []
    if kind is None:
        return ["not a device message of any known kind: %.200r" % (obj,)]
    check_table(obj, TOP[kind], "$", p)
    if kind != "alarm":
        if obj.get("cid") != CID:
            p.append("cid is %r, not %r" % (obj.get("cid"), CID))
        for k in ("time", "uptime"):
            if k in obj and not (is_int(obj[k]) and obj[k] > 946684800):
                p.append("%s is %r, not a plausible UTC integer" % (k, obj[k]))
        if "seq" in obj and not (is_int(obj["seq"]) and obj["seq"] >= 0):
            p.append("seq is %r, not a non-negative integer" % (obj["seq"],))
    for (k_kind, key), table in INNER.items():
        if k_kind == kind and key in obj:
            check_table(obj[key], table, "$." + key, p)
    if kind == "config_report" and isinstance(obj.get("config"), dict):
        for g, table in GROUPS.items():
            if g in obj["config"]:
                check_table(obj["config"][g], table, "$.config." + g, p)
    if kind == "snapshot":
        check_table(obj.get("result"), SNAP_RESULT, "$.result", p)
        faces = obj.get("faces")
        if not (isinstance(faces, list) and faces
                and all(isinstance(f, str) for f in faces)):
            p.append("faces is %.60r, not a non-empty array of strings"
                     % (faces,))
    if kind == "strategy_list":
        for i, s in enumerate(obj.get("strategyList") or []):
            check_table(s, STRATEGY, "$.strategyList[%d]" % i, p)
            for j, r in enumerate(s.get("strategyRuleList") or []):
                check_table(r, RULE, "$.strategyList[%d].strategyRuleList[%d]"
                            % (i, j), p)
    if kind == "face_list":
        for i, f in enumerate(obj.get("face") or []):
            check_table(f, FACE_ITEM, "$.face[%d]" % i, p)
    if kind in ("strategy_result", "batch_result"):
        key = "strategy_manage" if kind == "strategy_result" else "facelib_batch"
        item = (_t("strategyId", "result") if kind == "strategy_result"
                else _t("operType", "id", "result"))
        for i, r in enumerate((obj.get(key) or {}).get("resultList") or []):
            check_table(r, item, "$.%s.resultList[%d]" % (key, i), p)
    if kind == "alarm" and "cid" in obj and obj["cid"] != CID:
        p.append("alarm cid is %r, not %r" % (obj["cid"], CID))
    return p


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError("duplicate key(s) %s" % sorted(dup))
    return dict(pairs)


# --------------------------------------------------------------------------
# The validator, run as a vendor would run it.

class Validator:
    def __init__(self, camsim):
        self.camsim = camsim
        self.cache = {}

    def run(self, body, direction):
        key = (direction, body)
        if key not in self.cache:
            r = subprocess.run([self.camsim, "validate", direction, "--json",
                                "-"], input=body, capture_output=True,
                               timeout=20)
            try:
                rep = json.loads(r.stdout.decode("utf-8", "replace")
                                 .splitlines()[0])
            except (ValueError, IndexError):
                rep = {"kind": None, "violations": [],
                       "error": r.stderr.decode("utf-8", "replace")[:300]}
            self.cache[key] = (r.returncode, rep)
        return self.cache[key]


# --------------------------------------------------------------------------
# The servers: one hub, two listening ports (A and B).

class Msg:
    """One POST from the device, waiting for the script's answer."""

    def __init__(self, server, path, headers, body, expect, sent_100, wait_s):
        self.server = server          # "A" or "B"
        self.path = path
        self.headers = headers        # [(name, value)] as received
        self.raw = body
        self.expect = expect          # the Expect header's value or None
        self.sent_100 = sent_100      # True/False when expect, else None
        self.body_wait = wait_s       # headers-to-body time when expect
        self.at = time.monotonic()
        self.obj = None
        self.kind = None
        self.problems = []
        self.vrc = None
        self.vrep = None
        self._done = threading.Event()
        self.status = 200
        self.answer = b""
        self.replied_at = None

    def reply(self, body="", status=200):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        self.status = status
        self.answer = body.encode() if isinstance(body, str) else body
        self.replied_at = time.monotonic()
        self._done.set()

    def __repr__(self):
        return "%s to %s%s at +%.1fs" % (self.kind, self.server, self.path,
                                         self.at - T_START)


class Hub:
    def __init__(self, validator):
        self.v = validator
        self.inbox = queue.Queue()
        self.posts = []
        self.gets = []
        self.withhold_100 = False
        self.lock = threading.Lock()

    def take(self, m):
        """Decodes, checks and validates m (on the handler's thread); a
        problem here is the message's, so the script reports it."""
        try:
            self._check(m)
        except Exception as e:  # reported as the message's problem
            m.problems.append("checking it failed: %s: %s"
                              % (type(e).__name__, e))
        with self.lock:
            self.posts.append(m)
        self.inbox.put(m)

    def _check(self, m):
        hdr = {k.lower(): v for k, v in m.headers}
        if "content-length" not in hdr or "transfer-encoding" in hdr:
            m.problems.append("framed by %r, not by Content-Length alone"
                              % (hdr.get("transfer-encoding"),))
        try:
            text = m.raw.decode("utf-8")
            m.obj = json.loads(text, object_pairs_hook=no_duplicates)
        except (UnicodeDecodeError, ValueError) as e:
            m.problems.append("body is not JSON: %s" % e)
        else:
            m.kind = classify(m.obj)
            m.problems += basic_checks(m.obj, m.kind)
        m.vrc, m.vrep = self.v.run(m.raw, "--to-server")
        if m.vrc != 0:
            m.problems.append("camsim validate --to-server exits %d: %s"
                              % (m.vrc, json.dumps(m.vrep)[:600]))
        elif m.kind is not None and m.vrep.get("kind") != m.kind:
            m.problems.append("camsim validate calls it %r, this script %r"
                              % (m.vrep.get("kind"), m.kind))


def make_handler(hub, name):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        _expect_at = None
        _sent_100 = None

        def log_message(self, fmt, *args):
            pass

        def handle_expect_100(self):
            # The handshake, done here rather than by the library.
            self._expect_at = time.monotonic()
            self._sent_100 = not hub.withhold_100
            if self._sent_100:
                self.send_response_only(100)
                self.end_headers()
            return True  # go on and read the body either way

        def _send(self, status, body, ctype="application/json"):
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the device hung up (power cut, timeout)
                self.close_connection = True

        def do_GET(self):
            with hub.lock:
                hub.gets.append((name, self.path))
            if self.path == "/pkg.bin":
                self._send(200, PKG, "application/octet-stream")
            else:
                self._send(404, b"no such file\n", "text/plain")

        def do_POST(self):
            t0 = self._expect_at or time.monotonic()
            sent_100 = self._sent_100
            self._expect_at = self._sent_100 = None
            if self.headers.get("Transfer-Encoding"):
                body = b""  # the device must send Content-Length
                self.close_connection = True
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length",
                                                            "0")))
            wait = time.monotonic() - t0
            m = Msg(name, self.path, list(self.headers.items()), body,
                    self.headers.get("Expect"), sent_100, wait)
            hub.take(m)
            if not m._done.wait(30):
                m.reply("")
            self._send(m.status, m.answer)

    return Handler


# --------------------------------------------------------------------------
# The run.

T_START = time.monotonic()


class Run:
    def __init__(self, camsim, root):
        self.root = root
        self.orig_camsim = camsim
        self.n_ok = 0
        self.dev = None
        self.dev_rc = None
        self.servers = []
        self.skipped = []
        self.tmp = tempfile.mkdtemp(prefix="camsim-e2e-")
        # A private copy (made in start): a concurrent `make' may relink
        # the original while this runs.
        self.camsim = os.path.join(self.tmp, "camsim")
        self.v = Validator(self.camsim)
        self.hub = Hub(self.v)
        self.transcript = os.path.join(self.tmp, "transcript.txt")
        self.stderr_path = os.path.join(self.tmp, "device.stderr")
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        png = os.path.join(root, "fixtures", "images", "rgb_4x3.png")
        self.png_path = os.path.abspath(png)

    # ---- plumbing

    def ok(self, what):
        self.n_ok += 1
        print("ok - %s" % what, flush=True)

    def need(self, cond, why):
        if not cond:
            raise Failure(why)

    def copy_camsim(self):
        for _ in range(5):
            try:
                shutil.copy2(self.orig_camsim, self.camsim)
                r = subprocess.run([self.camsim, "--help"], capture_output=True,
                                   timeout=10)
                if r.returncode == 0:
                    return
            except (OSError, subprocess.SubprocessError):
                pass
            time.sleep(2)  # being relinked: try again
        raise Failure("%s cannot be copied and run" % self.orig_camsim)

    def start(self):
        self.copy_camsim()
        with open(self.png_path, "rb") as f:
            self.png_b64 = base64.b64encode(f.read()).decode()
        for name in ("A", "B"):
            s = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                make_handler(self.hub, name))
            s.daemon_threads = True
            threading.Thread(target=s.serve_forever, daemon=True).start()
            self.servers.append(s)
        self.port_a = self.servers[0].server_address[1]
        self.port_b = self.servers[1].server_address[1]
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ("http_proxy", "https_proxy", "all_proxy",
                                    "no_proxy")}
        cmd = [self.camsim, "device",
               "--server", "http://127.0.0.1:%d/api/face" % self.port_a,
               "--cid", CID, "--state", os.path.join(self.tmp, "state"),
               "--interval", "1", "--control", "127.0.0.1:0",
               "--transcript", self.transcript, "--clock", "real",
               "--duration", "150"]
        self.err_file = open(self.stderr_path, "wb")
        self.dev = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                    stderr=self.err_file, env=env)
        line = []
        t = threading.Thread(target=lambda: line.append(
            self.dev.stdout.readline().decode("utf-8", "replace")), daemon=True)
        t.start()
        t.join(10)
        self.need(line and "control API on port" in line[0],
                  "camsim device did not start: %r (stderr: %s)"
                  % (line[0] if line else "(nothing in 10 s)", self.stderr()))
        self.ctl_port = int(line[0].rsplit("port", 1)[1].strip())
        threading.Thread(target=self.dev.stdout.read, daemon=True).start()

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-600:]
        except OSError:
            return ""

    def stop(self):
        if self.dev and self.dev.poll() is None:
            self.dev.send_signal(signal.SIGTERM)
            try:
                self.dev.wait(10)
            except subprocess.TimeoutExpired:
                self.dev.kill()
                self.dev.wait(5)
        if self.dev:
            self.dev_rc = self.dev.returncode
        for s in self.servers:
            s.shutdown()
            s.server_close()
        if getattr(self, "err_file", None):
            self.err_file.close()

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def dump(self):
        """The end of the transcript and the device's stderr, for a failure."""
        tail = ""
        try:
            with open(self.transcript, "rb") as f:
                tail = f.read()[-6000:].decode("utf-8", "replace")
        except OSError:
            pass
        for line in tail.splitlines()[-40:]:
            print("# " + line[:200])
        err = self.stderr()
        if err:
            print("# device stderr: " + err.replace("\n", "\n# "))

    def ctl(self, method, what, body=None):
        url = "http://127.0.0.1:%d/devices/%s%s" % (self.ctl_port, CID,
                                                    "/" + what if what else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(req, timeout=15) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def press(self, what, body):
        st, ans = self.ctl("POST", what, body)
        self.need(st == 200 and ans.get("ok") is True,
                  "control API POST %s %s answered %d %s" % (what, body, st, ans))
        return ans

    def status(self):
        st, ans = self.ctl("GET", "")
        self.need(st == 200 and isinstance(ans, dict),
                  "control API GET /devices/%s answered %d %s" % (CID, st, ans))
        return ans

    def expect(self, kind, skip=("heartbeat",), timeout=STEP_TIMEOUT, what=""):
        """The next message of kind (a name or a tuple of names).  Messages
        of a kind in skip get an empty 200 (nothing to do); any other
        message fails the run.  Returns the message, unanswered."""
        kinds = (kind,) if isinstance(kind, str) else kind
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                m = self.hub.inbox.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise Failure("no %s arrived within %.0f s%s (last messages: "
                              "%s)" % ("/".join(kinds), timeout,
                                       " " + what if what else "",
                                       self.hub.posts[-4:]))
            if m.problems:
                m.reply("")
                raise Failure("%r breaks the wire format: %s\n  body: %.400s"
                              % (m, "; ".join(m.problems), m.raw))
            if m.kind in kinds:
                return m
            m.reply("")
            if m.kind not in skip:
                raise Failure("expected %s%s, got %r: %.300s"
                              % ("/".join(kinds), " " + what if what else "",
                                 m, m.raw))
            self.skipped.append(m)

    def next_hb(self, what=""):
        """The very next message, which must be a heartbeat."""
        return self.expect("heartbeat", skip=(), what=what)

    def answer(self, m, body, status=200, valid=True):
        """Replies to m; a body meant to be valid must pass camsim validate
        --to-device (so the device's behaviour is the spec's)."""
        text = json.dumps(body) if isinstance(body, (dict, list)) else body
        if valid and text.strip():
            rc, rep = self.v.run(text.encode(), "--to-device")
            self.need(rc == 0, "the script's own reply is not valid V1.16 "
                      "(%s): %s" % (json.dumps(rep)[:400], text[:200]))
        m.reply(text, status)

    def events(self, st=None):
        st = st or self.status()
        return ["%s: %s" % (e["kind"], e["text"]) for e in st.get("events", [])]

    # ---- the scenario

    def scenario(self):
        hub = self.hub
        self.start()

        # Boot, and the three "nothing to do" bodies (D3).
        h = self.expect("heartbeat", skip=(), what="at boot")
        now = int(time.time())
        self.need(h.obj["app_version"] == START_VERSION and
                  abs(h.obj["uptime"] - now) <= 3 and
                  abs(h.obj["seq"] - now) <= 3 and h.server == "A" and
                  h.path == "/api/face",
                  "boot heartbeat %s (wall clock %d)" % (h.raw, now))
        self.ok("boot heartbeat: POST /api/face, keys app_version, cid, seq, "
                "uptime, type in table order; seq = send time")
        uptime0 = h.obj["uptime"]
        self.answer(h, "")
        h = self.next_hb()
        self.answer(h, " \r\n\t ")
        h = self.next_hb()
        self.answer(h, "{}")
        h = self.next_hb()
        t_prev = h.at
        ev = self.events()
        self.need(not any(e.startswith("reject") for e in ev),
                  "an empty/blank/{} 200 body was refused: %s" % ev)
        self.ok("empty, blank and {} 200 bodies: nothing to do (heartbeats go "
                "on, no command, no refusal)")

        # time_set
        t_set = int(time.time()) + 100000
        self.answer(h, {"time_set": {"time_stamp": t_set, "time_zone": 28800}})
        h = self.next_hb()
        self.need(t_set <= h.obj["seq"] <= t_set + 3 and
                  h.obj["uptime"] == uptime0,
                  "after time_set %d the heartbeat is %s" % (t_set, h.raw))
        st = self.status()
        self.need(st["time_zone"] == 28800, "time_zone is %s" % st["time_zone"])
        self.ok("time_set: the next heartbeat's send time follows the new "
                "clock, time zone 28800 taken, uptime kept")

        # http_server_url, then http_server_port (D6)
        url_b = "http://127.0.0.1:%d/alt/face" % self.port_b
        self.answer(h, {"http_server_url": url_b})
        h = self.next_hb(what="after http_server_url")
        self.need(h.server == "B" and h.path == "/alt/face",
                  "after http_server_url %s the next message went to %s%s"
                  % (url_b, h.server, h.path))
        self.ok("http_server_url: the next message arrives at the second "
                "server, path /alt/face")
        self.answer(h, {"http_server_port": self.port_a})
        h = self.next_hb(what="after http_server_port")
        self.need(h.server == "A" and h.path == "/alt/face",
                  "after http_server_port %d the next message went to %s%s"
                  % (self.port_a, h.server, h.path))
        st = self.status()
        self.need(st["server"] == "http://127.0.0.1:%d/alt/face" % self.port_a,
                  "server is %s" % st["server"])
        self.ok("http_server_port alone: only the port changes (back to the "
                "first server, path kept)")

        # time_interval
        self.answer(h, {"time_interval": 2})
        t_reply = h.replied_at
        h1 = self.next_hb()
        self.answer(h1, "")
        h2 = self.next_hb()
        g0, g1 = h1.at - t_reply, h2.at - h1.at
        self.need(1.5 <= g0 <= 2.9 and 1.5 <= g1 <= 2.9,
                  "time_interval 2: heartbeats %.2f s and %.2f s apart" % (g0, g1))
        self.answer(h2, {"time_interval": 1})
        h3 = self.next_hb()
        self.need(0.5 <= h3.at - h2.replied_at <= 1.6,
                  "time_interval 1: next heartbeat after %.2f s"
                  % (h3.at - h2.replied_at))
        self.ok("time_interval: heartbeats %.1f s then %.1f s apart at 2, "
                "%.1f s at 1" % (g0, g1, h3.at - h2.replied_at))

        # config set, an invalid set, config query
        cfg_set = {"config": {"opType": 0, "seq": 101,
                              "face_rec": {"enable": 0},
                              "temperature": {"high_threshold": 37.5},
                              "relay": {"duration": 3}}}
        self.answer(h3, cfg_set)
        r = self.expect("config_result", what="after config set")
        self.need(r.obj["config"] == {"seq": 101, "errcode": 0},
                  "config set result %s" % r.raw)
        self.ok("config set: type 10 at once, seq 101 echoed, errcode 0")
        self.answer(r, {"config": {"opType": 0, "seq": 102,
                                   "face_rec": {"score": 60},
                                   "temperature": {"high_threshold": 99}}},
                    valid=False)
        r = self.expect("config_result", skip=(),
                        what="after an invalid config set (reply to a type 10)")
        self.need(r.obj["config"] == {"seq": 102, "errcode": 1},
                  "invalid config set result %s" % r.raw)
        self.answer(r, {"config": {"opType": 1}})
        rep = self.expect("config_report", skip=(), what="after config query")
        c = rep.obj["config"]
        self.need(c["face_rec"]["enable"] == 0 and
                  c["face_rec"]["score"] == 70 and
                  c["temperature"]["high_threshold"] == 37.5 and
                  c["relay"]["duration"] == 3 and c["misc"]["version"] == 2,
                  "config report %s" % rep.raw)
        self.ok("an invalid config set is refused whole (errcode 1, score not "
                "applied); a reply to a type 10 is applied (D42)")
        self.ok("config query: type 10 report in the heartbeat slot, every "
                "group, the set applied, misc.version 2")
        cfg_before = c

        # strategies
        rule = {"ruleId": 1, "begDate": "2020/01/01", "endDate": "2030/12/31",
                "timeRange": "00:00:00-24:00:00", "week": "1,2,3,4,5,6,7",
                "type": 1}
        s1 = {"strategyId": 1, "name": "all day", "state": 1,
              "strategyRuleList": [rule]}
        s0 = {"strategyId": 0, "name": "reserved", "state": 1,
              "strategyRuleList": [rule]}
        self.answer(rep, {"strategy_manage": {"strategyList": [s1, s0]}})
        r = self.expect("strategy_result", what="after strategy delivery")
        self.need(r.obj["strategy_manage"]["resultList"] ==
                  [{"strategyId": 1, "result": 0}, {"strategyId": 0, "result": 1}],
                  "strategy result %s" % r.raw)
        self.ok("strategy_manage delivery: type 7 at once, id 1 accepted, "
                "reserved id 0 refused")
        self.answer(r, {"strategy_manage": {"operType": 2}})
        sl = self.expect("strategy_list", skip=(), what="after strategy query")
        self.need(sl.obj["total_strategy"] == 1 and
                  sl.obj["strategyList"] == [s1],
                  "strategy list %s" % sl.raw)
        self.ok("strategy_manage query: type 7 list in the heartbeat slot, "
                "exactly the accepted strategy")

        # facelib_manage and the heartbeat's seq (D7)
        self.answer(sl, {"facelib_manage": {
            "type": 1, "seq": 31,
            "face": {"id": "p1", "name": "Ann", "image": [self.png_b64]}}})
        h = self.next_hb(what="after facelib add")
        dev_now = self.status()["clock"]
        self.need(h.obj["seq"] != 31 and abs(h.obj["seq"] - dev_now) <= 2,
                  "after a failed add the heartbeat seq is %d" % h.obj["seq"])
        ev = self.events()
        self.need(any("facelib add p1 failed" in e and
                      ("no face found" in e or "unavailable" in e)
                      for e in ev), "no add failure event: %s" % ev[-8:])
        self.ok("facelib_manage add with a picture fails (recognition core not "
                "built): heartbeat seq stays the send time, not 31")
        self.answer(h, {"facelib_manage": {"type": 3, "seq": 32,
                                           "person_ids": "p1,p2"}})
        h = self.next_hb(what="after facelib delete")
        self.need(h.obj["seq"] == 32, "after delete seq 32 the heartbeat is %s"
                  % h.raw)
        self.ok("facelib_manage delete (type 3): the next heartbeat carries "
                "seq 32")
        # A 500 answer: the device does not read the body, the seq stays.
        self.answer(h, {"time_interval": 7, "config": {"opType": 1},
                        "control": {"opType": 1, "seq": 555}},
                    status=500, valid=False)
        h = self.next_hb(what="after a 500 answer")
        self.need(h.obj["seq"] == 32, "after a 500 the heartbeat is %s" % h.raw)
        st = self.status()
        self.need(st["time_interval"] == 1, "time_interval became %s after a "
                  "500 answer" % st["time_interval"])
        self.ok("a 500 answer's body is not applied (no interval change, no "
                "config report, no type 12) and seq 32 is sent again")
        self.answer(h, "")
        h = self.next_hb()
        self.need(h.obj["seq"] != 32 and abs(h.obj["seq"] - st["clock"]) <= 3,
                  "after the 200 the heartbeat is %s" % h.raw)
        self.answer(h, {"facelib_manage": {"type": 4, "seq": 33}})
        h = self.next_hb(what="after facelib delete all")
        self.need(h.obj["seq"] == 33, "after delete all the heartbeat is %s"
                  % h.raw)
        self.ok("after a 200 the seq goes back to the send time; delete all "
                "(type 4) then shows as seq 33")
        self.answer(h, {"facelib_manage": {"type": 5, "seq": 34}})
        fl = self.expect("face_list", skip=(), what="after facelib query")
        self.need(fl.obj["total_face"] == 0 and fl.obj["face"] == [],
                  "face list %s" % fl.raw)
        self.answer(fl, "")
        h = self.next_hb(what="after the face list")
        self.need(h.obj["seq"] == 34, "after the query the heartbeat is %s"
                  % h.raw)
        self.ok("facelib_manage query (type 5): type 4 in the slot (empty "
                "library), then heartbeats carry seq 34")

        # facelib_batch
        self.answer(h, {"facelib_batch": {"personList": [
            {"operType": 3, "id": "gone1"},
            {"operType": 1, "id": "new1", "name": "Bob", "strategyId": 1,
             "image": self.png_b64}]}})
        b = self.expect("batch_result", what="after facelib_batch")
        res = b.obj["facelib_batch"]["resultList"]
        self.need(len(res) == 2 and
                  res[0] == {"operType": 3, "id": "gone1", "result": 0} and
                  res[1]["operType"] == 1 and res[1]["id"] == "new1" and
                  res[1]["result"] != 0, "batch result %s" % b.raw)
        self.answer(b, "")
        self.need(self.status()["library_size"] == 0, "library not empty")
        self.ok("facelib_batch: type 9 at once, delete result 0, add without "
                "a recognition core result %d (no fake success)" % res[1]["result"])

        # Snapshots: the Expect handshake, both ways.
        face = {"image": self.png_path, "temperature": 36.6, "mask": 1}
        c0 = self.status()["clock"]
        self.press("face", face)
        s = self.expect("snapshot", what="after a face")
        self.need(s.expect == "100-continue" and s.sent_100 is True and
                  s.body_wait < 0.5,
                  "snapshot: Expect %r, 100 sent %r, body after %.2f s"
                  % (s.expect, s.sent_100, s.body_wait))
        jpg = base64.b64decode(s.obj["faces"][0], validate=True)
        res = s.obj["result"]
        self.need(jpg[:2] == b"\xff\xd8" and res["person_type"] == 2 and
                  res["temperature"] == 36.6 and res["facemask"] == 1 and
                  res["confidence"] == 0 and c0 <= s.obj["time"] <= c0 + 2,
                  "snapshot %s ... result %s" % (s.raw[:80], res))
        self.answer(s, "")
        self.ok("snapshot (type 1, person_type 2) with Expect: 100-continue; "
                "body sent %.3f s after our 100 Continue; faces[0] is a JPEG"
                % s.body_wait)
        hub.withhold_100 = True
        try:
            self.press("face", face)
            s = self.expect("snapshot", what="with 100 Continue withheld")
        finally:
            hub.withhold_100 = False
        self.need(s.expect == "100-continue" and s.sent_100 is False and
                  0.8 <= s.body_wait <= 3.0,
                  "withheld 100: Expect %r, body after %.2f s"
                  % (s.expect, s.body_wait))
        self.answer(s, "")
        self.ok("server withholds 100 Continue: the device sends the body "
                "anyway, %.2f s after its headers" % s.body_wait)

        # Offline record, retransmitted with its original time.
        self.press("network", {"up": False})
        c1 = self.status()["clock"]
        self.press("face", face)
        st = self.status()
        c2 = st["clock"]
        self.need(st["offline_records"] == 1,
                  "offline_records is %s after a face with the network down"
                  % st["offline_records"])
        time.sleep(1.5)
        self.press("network", {"up": True})
        h = self.expect("heartbeat", skip=(), what="after network up")
        st = self.status()
        local = (st["clock"] + st["time_zone"] + 3) % 86400
        at = "%02d:%02d:%02d" % (local // 3600, local // 60 % 60, local % 60)
        self.answer(h, {"reupload": {"type": 1, "seq": 41, "mode": 1,
                                     "reupload_time": at}})
        r = self.expect("reupload_result", what="after reupload set")
        self.need(r.obj["reupload"] == {"seq": 41, "errcode": 0},
                  "reupload set result %s" % r.raw)
        self.ok("reupload set (mode 1 at %s): type 8 at once, seq 41, errcode 0"
                % at)
        self.answer(r, {"reupload": {"type": 2}})
        q = self.expect("reupload_settings", skip=(), what="after reupload query")
        self.need(q.obj["reupload"] == {"reupload_time": at, "mode": 1,
                                        "recordes_num": 1},
                  "reupload settings %s" % q.raw)
        self.answer(q, "")
        self.ok("reupload query: type 8 settings in the slot: %s, mode 1, "
                "recordes_num 1" % at)
        s = self.expect("snapshot", timeout=9, what="retransmission")
        later = self.status()["clock"]
        self.need(s.expect == "100-continue" and s.sent_100 and
                  c1 <= s.obj["time"] <= c2 and later - s.obj["time"] >= 3,
                  "retransmitted snapshot time %d (made in %d..%d, now %d), "
                  "Expect %r" % (s.obj["time"], c1, c2, later, s.expect))
        self.need(base64.b64decode(s.obj["faces"][0])[:2] == b"\xff\xd8",
                  "retransmitted faces[0] is not a JPEG")
        self.answer(s, "")
        time.sleep(0.3)
        st = self.status()
        self.need(st["offline_records"] == 0, "offline_records is %s after the "
                  "retransmission got a 200" % st["offline_records"])
        self.ok("network down: the snapshot is stored; at reupload_time it is "
                "retransmitted with its original time (%d s old) and deleted"
                % (later - s.obj["time"]))

        # facelog, control, the door alarm
        h = self.expect("heartbeat", skip=())
        self.answer(h, {"facelog": {"opType": 1, "seq": 61}})
        r = self.expect("log_result", what="after facelog")
        self.need(r.obj["facelog"] == {"seq": 61, "errcode": 0},
                  "log result %s" % r.raw)
        self.ok("facelog: type 11 at once, seq 61, errcode 0")
        self.answer(r, {"control": {"opType": 1, "seq": 71}})
        r = self.expect("control_result", skip=(), what="after control")
        self.need(r.obj["control"] == {"seq": 71, "errcode": 0},
                  "control result %s" % r.raw)
        self.answer(r, "")
        ev = self.events()
        self.need(any(e.startswith("relay: on for 300 ms (remote control)")
                      for e in ev), "no relay event: %s" % ev[-8:])
        self.ok("control: type 12 at once, seq 71, errcode 0; GET /devices/%s "
                "shows the relay on for 300 ms (relay.duration 3)" % CID)
        time.sleep(0.5)  # the relay is released again
        self.need(self.status()["relay"] is False, "relay still on")
        t_door = self.status()["clock"]
        self.press("door", {"open": True})
        a = self.expect("alarm", what="after the door was forced open")
        al = a.obj["alarm"]
        self.need(al["alarmtype"] == 1 and is_int(al["seq"]) and
                  t_door <= al["time"] <= t_door + 2 and a.obj.get("cid") == CID,
                  "alarm %s" % a.raw)
        self.answer(a, "")
        self.press("door", {"open": False})
        self.ok("door opened with the relay released: alarm (no type, "
                "alarmtype 1, seq %d, cid) at once" % al["seq"])

        # fw_upgrade: error 5, error 2, error 6 and the new version
        h = self.expect("heartbeat", skip=())
        pkg = "http://127.0.0.1:%d/pkg.bin" % self.port_a
        self.answer(h, {"fw_upgrade": {"version": START_VERSION,
                                       "download_url": pkg}})
        u = self.expect("upgrade_result", what="after fw_upgrade (same version)")
        self.need(u.obj["error"] == 5 and u.obj["app_version"] == START_VERSION,
                  "same-version upgrade %s" % u.raw)
        # Each next upgrade goes in a heartbeat's reply: a fw_upgrade in the
        # reply to a type 6 error 1-5 is refused as "an upgrade is already
        # running" (the device applies that body before it leaves the
        # upgrading state), although D42 says every 200 body is applied.
        self.answer(u, "")
        h = self.next_hb(what="after upgrade error 5")
        self.answer(h, {"fw_upgrade": {
            "version": NEW_VERSION,
            "download_url": "http://127.0.0.1:%d/missing.bin" % self.port_a}})
        u = self.expect("upgrade_result", what="after fw_upgrade (404)")
        self.need(u.obj["error"] == 2 and u.obj["app_version"] == START_VERSION
                  and ("A", "/missing.bin") in hub.gets,
                  "404 upgrade %s (GETs %s)" % (u.raw, hub.gets))
        self.ok("fw_upgrade: the running version -> type 6 error 5; a 404 "
                "package URL -> type 6 error 2")
        self.answer(u, "")
        h = self.next_hb(what="after upgrade error 2")
        self.answer(h, {"fw_upgrade": {"version": NEW_VERSION,
                                       "download_url": pkg}})
        u = self.expect("upgrade_result", what="after fw_upgrade")
        self.need(u.obj["error"] == 6 and u.obj["app_version"] == START_VERSION
                  and u.obj["uptime"] == uptime0 and ("A", "/pkg.bin") in hub.gets,
                  "upgrade %s (GETs %s)" % (u.raw, hub.gets))
        self.answer(u, "")
        h = self.next_hb(what="after the upgrade reboot")
        self.need(h.obj["app_version"] == NEW_VERSION and
                  h.obj["uptime"] > uptime0,
                  "after the upgrade the heartbeat is %s" % h.raw)
        uptime1 = h.obj["uptime"]
        self.ok("fw_upgrade: GET /pkg.bin, type 6 error 6, then a heartbeat "
                "from the new boot with app_version %s" % NEW_VERSION)

        # reboot: a new uptime, the saved state kept (uptime has 1 s steps:
        # wait until the clock has left the upgrade's boot second)
        while h.obj["seq"] < uptime1 + 2:
            self.answer(h, "")
            h = self.next_hb()
        self.answer(h, {"reboot": 1})
        h = self.next_hb(what="after reboot")
        self.need(h.obj["uptime"] > uptime1 and
                  h.obj["app_version"] == NEW_VERSION and
                  h.server == "A" and h.path == "/alt/face",
                  "after reboot the heartbeat is %s (to %s%s; uptime before %d)"
                  % (h.raw, h.server, h.path, uptime1))
        self.answer(h, {"config": {"opType": 1}})
        rep = self.expect("config_report", skip=(), what="after reboot")
        self.need(rep.obj["config"] == cfg_before,
                  "config after reboot %s, before %s" % (rep.obj["config"],
                                                         cfg_before))
        self.answer(rep, {"strategy_manage": {"operType": 2}})
        sl = self.expect("strategy_list", skip=(), what="after reboot")
        self.need(sl.obj["strategyList"] == [s1], "strategies after reboot %s"
                  % sl.raw)
        self.answer(sl, "")
        self.ok("reboot: new uptime (%d -> %d); version, server address, "
                "config and strategies survive" % (uptime1, h.obj["uptime"]))

        # A power cycle from the control API: a new boot as well.
        uptime2 = h.obj["uptime"]
        while self.status()["clock"] < uptime2 + 1:
            time.sleep(0.2)
        self.press("power", {"action": "cycle"})
        while True:  # a heartbeat of the old boot may still be in flight
            h = self.expect("heartbeat", skip=(), what="after power cycle")
            self.answer(h, "")
            if h.obj["uptime"] != uptime2:
                break
        self.need(h.obj["uptime"] > uptime2 and
                  h.obj["app_version"] == NEW_VERSION,
                  "after the power cycle the heartbeat is %s" % h.raw)
        self.ok("power cycle via the control API: a new boot (uptime %d -> "
                "%d) heartbeats again" % (uptime2, h.obj["uptime"]))

        # The whole conversation.
        posts = list(hub.posts)
        snaps = [m for m in posts if m.kind == "snapshot"]
        others = [m for m in posts if m.kind != "snapshot"]
        bad = [m for m in snaps if m.expect != "100-continue"]
        self.need(not bad, "snapshots without Expect: %s" % bad)
        bad = [m for m in others if m.expect is not None]
        self.need(not bad, "Expect on non-snapshot messages: %s" % bad)
        bad = [m for m in posts
               if [v for k, v in m.headers if k.lower() == "content-type"]
               != ["application/json"]]
        self.need(not bad, "POSTs without Content-Type: application/json: "
                  "%s" % bad)
        self.ok("Expect: 100-continue on all %d snapshots and on none of the "
                "other %d messages; every POST is Content-Type: "
                "application/json with a Content-Length" % (len(snaps),
                                                            len(others)))
        self.need(not any(m.kind == "control_result" and
                          m.obj["control"].get("seq") == 555 for m in posts),
                  "the 500 answer's control command was applied")
        bad = [m for m in posts if m.problems]
        self.need(not bad, "messages with problems: %s" % bad)
        kinds = sorted({m.kind for m in posts})
        self.need(len(kinds) == 14, "only %d message kinds seen: %s"
                  % (len(kinds), kinds))
        warn = sum(len(m.vrep.get("violations", [])) for m in posts)
        self.ok("all %d device messages (%d kinds) pass camsim validate "
                "--to-server (strict) and the table checks; %d SHOULD warnings"
                % (len(posts), len(kinds), warn))
        for m in posts:
            for v in m.vrep.get("violations", []):
                print("# note: %r: %s %s at %s" % (m, v.get("severity"),
                                                     v.get("rule"), v.get("path")))


def main():
    if len(sys.argv) != 2:
        print("usage: e2e_device.py CAMSIM_BINARY", file=sys.stderr)
        return 2
    camsim = os.path.abspath(sys.argv[1])
    root = os.environ.get("CAMSIM_ROOT") or os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    if not os.access(camsim, os.X_OK):
        print("not ok - %s is not an executable camsim" % camsim)
        return 1
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    t0 = time.monotonic()
    run = None
    failed = None
    try:
        run = Run(camsim, root)
        run.scenario()
    except Failure as e:
        failed = str(e)
    except (KeyboardInterrupt, SystemExit):
        failed = "interrupted"
    except Exception as e:  # a bug here or a broken answer: still a failure
        failed = "%s: %s" % (type(e).__name__, e)
    finally:
        if run:
            try:
                run.stop()
            finally:
                if failed:
                    print("not ok - %s" % failed)
                    run.dump()
                run.cleanup()
        elif failed:
            print("not ok - %s" % failed)
    if not failed and run.dev_rc != 0:
        failed = "camsim device exited %s after SIGTERM" % run.dev_rc
        print("not ok - %s" % failed)
    print("# %d checks passed, %s, %d messages, %.1f s" % (
        run.n_ok if run else 0, "FAILED" if failed else "all ok",
        len(run.hub.posts) if run else 0, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
